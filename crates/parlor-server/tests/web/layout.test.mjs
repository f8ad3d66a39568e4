// What a person sees, at 1280 px and on a 390 px phone (touch), light and dark: Dana has 30
// conversations with long unbroken names and previews. The layout holds (nothing wider than the
// screen, header buttons reachable, rows keep time and badge), axe-core finds no serious or
// critical violation on the main screens, toasts cover nothing you type into, the image viewer
// is as wide as its image, the message list is one Tab stop, and the screenshots in
// docs/screenshots are taken here.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, launch, person, noErrors, registerRest, rest, send, dm, assertLayout,
  assertAccessible, setTheme, shot, menuOf, bubbles, PASSWORD,
} from './helpers.mjs';
import { gradientPng } from './png.mjs';

const LONG_NAME = 'Maximilian-Alexander_von_Hohenzollern-Sigmaringen_der_Dritte_Esq';
const LONG_ROOM = 'Neighbourhood_association_planning_committee_for_the_summer_street_festival_2026';
const LONG_TEXT = `https://example.com/${'unbroken'.repeat(40)}`;

let browser;
let desktop; // Dana at 1280 px
let dana; // {access, user}
let friend; // Eli, the DM on screen
let roomId;

async function upload(token, conversationId, name, bytes, type) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const response = await fetch(`${BASE}/api/chat/conversations/${conversationId}/attachments/`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  assert.equal(response.status, 201);
  return response.json();
}

before(async () => {
  browser = await launch();
  dana = await registerRest('dana', 'Dana Whitfield');
  friend = await registerRest('eli', 'Eli Navarro');
  const long = await registerRest('maximilian', LONG_NAME);
  // 30 conversations: 21 DMs (one with a very long name) and 9 rooms, each with a last message.
  const others = [long];
  for (let i = 1; i <= 19; i += 1) others.push(await registerRest(`person${i}`, `Person Number ${i} ${i % 3 === 0 ? LONG_NAME.slice(0, 40) : 'Smith'}`));
  for (const [i, other] of others.entries()) {
    const conversation = await dm(other.access, dana.user.id);
    await send(other.access, conversation.id, i % 2 ? LONG_TEXT : `Message ${i}: ${LONG_NAME}${LONG_NAME}`);
    if (i === 3) await rest(dana.access, `/api/chat/conversations/${conversation.id}/mute/`, { method: 'POST' });
  }
  for (let i = 1; i <= 9; i += 1) {
    const room = await rest(dana.access, '/api/chat/rooms/', { method: 'POST', body: JSON.stringify({ title: `${LONG_ROOM} ${i} 🚀`, members: [others[i].user.id, friend.user.id] }) });
    await send(others[i].access, room.id, `${LONG_TEXT} ${i}`);
    roomId = room.id;
  }
  // The DM on screen: a real conversation with a reply, reactions, an image and a file.
  const conversation = await dm(friend.access, dana.user.id);
  const hello = await send(friend.access, conversation.id, 'Hi Dana! Are we still on for the flat viewing on Saturday?');
  await rest(dana.access, `/api/chat/conversations/${conversation.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Yes! 10am works. I will bring the documents.', reply_to: hello.id }) });
  await rest(friend.access, `/api/chat/messages/${hello.id}/reactions/`, { method: 'POST', body: JSON.stringify({ emoji: '👍' }) });
  await upload(friend.access, conversation.id, 'living-room.png', gradientPng(640, 400), 'image/png');
  await send(dana.access, conversation.id, `Here is the listing: ${LONG_TEXT}`);
  await send(dana.access, conversation.id, 'Great, see you there 🙂');
  await rest(friend.access, `/api/chat/conversations/${conversation.id}/mark_read/`, { method: 'POST' });
  await send(friend.access, conversation.id, 'Perfect. @dana can you also ask about parking?');
  // A connection request for the notifications panel.
  await rest(long.access, '/api/connections/', { method: 'POST', body: JSON.stringify({ user_id: dana.user.id }) });

  desktop = await person(browser);
  await signIn(desktop.page);
});

after(async () => {
  await browser?.close();
});

async function signIn(page) {
  await page.goto(`${BASE}/`);
  await page.fill('#login-username', 'dana');
  await page.fill('#login-password', PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.conv').nth(29).waitFor();
}

async function openEli(page) {
  await page.locator('.conv', { hasText: 'Eli Navarro' }).click();
  await bubbles(page, 'ask about parking').waitFor();
}

test('the sign-in page: inputs look like inputs, no violations in either theme', async () => {
  const login = await person(browser);
  await login.page.goto(`${BASE}/`);
  const style = await login.page.locator('#login-username').evaluate((input) => {
    const s = getComputedStyle(input);
    return { size: s.fontSize, weight: s.fontWeight };
  });
  assert.deepEqual(style, { size: '15px', weight: '400' }, 'the input does not take the label\'s small bold font');
  for (const theme of ['light', 'dark']) {
    await setTheme(login.page, theme);
    await assertAccessible(login.page, `on the sign-in page (${theme})`);
    await assertLayout(login.page, `on the sign-in page (${theme})`);
  }
  await setTheme(login.page, 'light');
  await shot(login.page, 'sign-in');
  await login.context.close();
});

test('at 1280 px thirty long conversations fit, and the chat too', async () => {
  const { page } = desktop;
  await assertLayout(page, 'in the list at 1280 px');
  assert.equal(await page.locator('.conv').count(), 30);
  // The muted conversation's badge is grey, not the accent.
  const muted = page.locator('.conv.is-muted .badge');
  assert.equal(await muted.count(), 1);
  const colours = await page.evaluate(() => ({
    muted: getComputedStyle(document.querySelector('.conv.is-muted .badge')).backgroundColor,
    loud: getComputedStyle(document.querySelector('.conv:not(.is-muted) .badge')).backgroundColor,
  }));
  assert.notEqual(colours.muted, colours.loud);
  await page.locator('.conv', { hasText: LONG_NAME }).first().click();
  await bubbles(page, LONG_NAME.slice(0, 20)).first().waitFor();
  await assertLayout(page, 'in a chat with a long name at 1280 px');
  await openEli(page);
  await assertLayout(page, 'in the chat with Eli at 1280 px');
});

test('message menus say what they do, with icons, and nothing else', async () => {
  const { page } = desktop;
  for (const text of ['ask about parking', 'see you there']) {
    const menu = await menuOf(page, text);
    const labels = await menu.getByRole('menuitem').allInnerTexts();
    for (const label of labels) assert.doesNotMatch(label, /false|undefined|null|⧉/, `menu item "${label}"`);
    assert.ok(labels.includes('Reply') && labels.includes('Forward') && labels.includes('Copy text'), labels.join('|'));
    await assertLayout(page, `with the menu of "${text}" open`);
    await assertAccessible(page, `with the menu of "${text}" open`);
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
  }
  // Each message's button says which message it is for.
  const names = await page.getByRole('button', { name: /^Actions for/ }).evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
  assert.equal(new Set(names).size, names.length, 'every "Actions for …" label is different');
});

test('ticks are told in words; the message list is one Tab stop', async () => {
  const { page } = desktop;
  const read = page.locator('.msg.mine .ticks[data-state="read"]').first();
  await read.waitFor();
  assert.equal(await read.innerText(), 'Read');
  // From the list's one stop, Tab goes to the composer's buttons, not through every message.
  await page.locator('.messages li[tabindex="0"]').focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowDown');
  const focusedIsMessage = await page.evaluate(() => document.activeElement.matches('.messages > li'));
  assert.ok(focusedIsMessage, 'arrow keys move between messages');
  const stops = await page.evaluate(() => [...document.querySelectorAll('.messages [tabindex="0"], .messages a:not([tabindex="-1"]), .messages button:not([tabindex="-1"])')].filter((n) => !n.closest('li:focus-within')).length);
  assert.ok(stops <= 1, `the message list adds ${stops} Tab stops`);
  const messageCount = await page.locator('.messages > li.msg').count();
  assert.ok(messageCount >= 5);
  let reached = false;
  for (let i = 0; i < 12 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Message');
  }
  assert.ok(reached, 'Tab reaches the message box in a few steps whatever the number of messages');
});

test('the image viewer is as wide as the image', async () => {
  const { page } = desktop;
  await page.locator('.msg img.thumb').first().click();
  const viewer = page.getByRole('dialog', { name: 'living-room.png' });
  await page.waitForFunction(() => document.querySelector('.lightbox-img')?.naturalWidth === 640);
  const [dialog, image] = await Promise.all([viewer.boundingBox(), page.locator('.lightbox-img').boundingBox()]);
  assert.ok(dialog.width - image.width <= 26, `viewer ${dialog.width} px for an image of ${image.width} px`);
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
});

test('main screens at 1280 px pass axe in both themes; screenshots', async () => {
  const { page } = desktop;
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    await openEli(page);
    await page.locator('.message-scroll').evaluate((node) => { node.scrollTop = node.scrollHeight; });
    await assertAccessible(page, `in the chat (${theme})`);
    await shot(page, `chat-desktop-${theme}`);

    await page.getByRole('button', { name: /^Notifications/ }).click();
    const panel = page.getByRole('dialog', { name: 'Notifications' });
    await panel.getByRole('button', { name: /^Accept/ }).waitFor();
    await assertAccessible(page, `with the notifications panel (${theme})`);
    await assertLayout(page, `with the notifications panel (${theme})`);
    await shot(page, `notifications-desktop-${theme}`);
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });

    await page.locator('.conv', { hasText: `${LONG_ROOM} 9` }).click();
    await page.getByRole('button', { name: 'Conversation details' }).click();
    const details = page.getByRole('dialog', { name: `${LONG_ROOM} 9 🚀` });
    await details.locator('.members').waitFor();
    await assertAccessible(page, `with a room's details (${theme})`);
    await assertLayout(page, `with a room's details (${theme})`);
    await shot(page, `room-details-desktop-${theme}`);
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'detached' });

    await page.locator('button.me').click();
    const profile = page.getByRole('dialog', { name: 'Your profile' });
    await profile.waitFor();
    await assertAccessible(page, `with the profile (${theme})`);
    await page.keyboard.press('Escape');
    await profile.waitFor({ state: 'detached' });
  }
  await setTheme(page, 'light');
});

test('toasts cover nothing you type into, nor the header buttons', async () => {
  for (const who of [desktop, await phone()]) {
    const { page } = who;
    await openEli(page);
    // A mention elsewhere raises a toast while Dana reads Eli's messages.
    await send(friend.access, roomId, `@dana the toast check at ${page.viewportSize().width} px`);
    const toast = page.locator('.toast', { hasText: `the toast check at ${page.viewportSize().width} px` });
    await toast.waitFor();
    const box = await toast.boundingBox();
    for (const selector of ['.composer-input', '.send-btn', '.chat-head button', '.chat-head a']) {
      for (const other of await page.locator(selector).all()) {
        if (!(await other.isVisible())) continue;
        const b = await other.boundingBox();
        const overlaps = box.x < b.x + b.width && b.x < box.x + box.width && box.y < b.y + b.height && b.y < box.y + box.height;
        assert.ok(!overlaps, `a toast covers ${selector} at ${page.viewportSize().width} px`);
      }
    }
    if (who !== desktop) await who.context.close();
  }
});

let phoneUser = null;
async function phone(theme = 'light') {
  phoneUser = await person(browser, { ...PHONE, colorScheme: theme });
  await signIn(phoneUser.page);
  return phoneUser;
}

test('on a 390 px phone: list, chat, menus and dialogs fit, in both themes', async () => {
  for (const theme of ['light', 'dark']) {
    const who = await phone(theme);
    const { page } = who;
    await setTheme(page, theme);
    await assertLayout(page, `in the list on a phone (${theme})`);
    await assertAccessible(page, `in the list on a phone (${theme})`);
    await page.locator('.conv-scroll').evaluate((node) => { node.scrollTop = 0; });
    await shot(page, `list-phone-${theme}`);
    // Every header button can be tapped.
    for (const name of ['Notifications', 'Toggle dark mode', 'New chat', 'Sign out']) {
      assert.ok(await page.getByRole('button', { name: new RegExp(`^${name}`) }).isVisible(), name);
    }
    await page.getByRole('button', { name: 'New chat' }).tap();
    await page.getByRole('dialog', { name: 'New chat' }).waitFor();
    await assertLayout(page, `with the new-chat dialog on a phone (${theme})`);
    await page.keyboard.press('Escape');

    await page.locator('.conv', { hasText: LONG_NAME }).first().tap();
    await page.locator('.chat-head').waitFor();
    await assertLayout(page, `in a chat with a long name on a phone (${theme})`);
    await page.getByRole('link', { name: 'Back to conversations' }).tap();
    await openEli(page);
    // No ··· beside every bubble on a touch screen: a tap on the bubble opens the menu.
    assert.equal(await page.locator('.msg-menu-btn:visible').count(), 0);
    await assertLayout(page, `in the chat on a phone (${theme})`);
    await assertAccessible(page, `in the chat on a phone (${theme})`);
    await page.locator('.message-scroll').evaluate((node) => { node.scrollTop = node.scrollHeight; });
    await shot(page, `chat-phone-${theme}`);
    const menu = await menuOf(page, 'ask about parking', { touch: true });
    await assertLayout(page, `with a message menu on a phone (${theme})`);
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });

    await page.getByRole('link', { name: 'Back to conversations' }).tap();
    await page.locator('.conv', { hasText: `${LONG_ROOM} 9` }).tap();
    await page.getByRole('button', { name: 'Conversation details' }).tap();
    await page.locator('.dialog .members').waitFor();
    await assertLayout(page, `with a room's details on a phone (${theme})`);
    await assertAccessible(page, `with a room's details on a phone (${theme})`);
    await shot(page, `room-details-phone-${theme}`);
    await page.keyboard.press('Escape');

    await page.getByRole('link', { name: 'Back to conversations' }).tap();
    await page.getByRole('button', { name: /^Notifications/ }).tap();
    await page.getByRole('dialog', { name: 'Notifications' }).getByRole('button', { name: /^Accept/ }).waitFor();
    await assertLayout(page, `with the notifications panel on a phone (${theme})`);
    await shot(page, `notifications-phone-${theme}`);
    await who.context.close();
  }
});

test('no script errors', () => {
  noErrors(desktop);
});
