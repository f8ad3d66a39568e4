// End-to-end tests of the web client in headless Chromium: two browser contexts are two people
// on the parlor server at PARLOR_URL (started by web_client.rs on a random port). They sign up,
// start a DM, chat live, see typing and delivery ticks, share images and files, write offline,
// use the message menu (reply, react, forward, edit, delete), jump to quoted messages, mention
// each other, search, and page through history. Layout, accessibility and screenshots are in
// layout.test.mjs; people and rooms in people.test.mjs; voice and offline in media.test.mjs;
// the embed in embed.test.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, person, noErrors, register, registerRest, tokenOf, rest, bubbles, menuOf, shot } from './helpers.mjs';
import { gradientPng } from './png.mjs';

let alice; // {context, page, errors, sockets}
let bob;
let browser;
let roomFixture;

async function waitForText(locator, text) {
  await locator.filter({ hasText: text }).first().waitFor();
}

before(async () => {
  browser = await launch();
  alice = await person(browser);
  bob = await person(browser);
});

after(async () => {
  await browser?.close();
});

test('two people sign up, start a DM and chat live', async () => {
  await register(alice.page, 'alice', 'Alice Martin');
  await register(bob.page, 'bob', 'Bob Chen');

  await alice.page.getByRole('button', { name: 'New chat' }).click();
  await alice.page.getByRole('searchbox', { name: 'Search people' }).fill('bob');
  await alice.page.locator('.user-row', { hasText: 'Bob Chen' }).click();
  await alice.page.locator('.chat-name', { hasText: 'Bob Chen' }).waitFor();

  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Hi Bob! Is the flat still available?');
  await alice.page.keyboard.press('Enter');
  await bubbles(alice.page, 'Is the flat still available?').waitFor();

  // Bob never reloads: the conversation arrives live, with an unread badge and a preview.
  const item = bob.page.locator('.conv', { hasText: 'Alice Martin' });
  await item.locator('.badge', { hasText: '1' }).waitFor();
  await waitForText(item.locator('.conv-preview'), 'Is the flat still available?');
  await bob.page.waitForFunction(() => document.title === '(1) parlor');
  await item.click();
  await bubbles(bob.page, 'Is the flat still available?').waitFor();
  assert.equal(await item.locator('.badge').count(), 0, 'opening the conversation reads it');

  // Shift+Enter is a new line; Enter sends.
  const box = bob.page.getByRole('textbox', { name: 'Message' });
  await box.click();
  await bob.page.keyboard.type('Yes it is!');
  await bob.page.keyboard.press('Shift+Enter');
  await bob.page.keyboard.type('Come by on Saturday.');
  await bob.page.keyboard.press('Enter');
  await bubbles(alice.page, 'Come by on Saturday.').waitFor();
  const text = await bubbles(alice.page, 'Come by on Saturday.').innerText();
  assert.equal(text, 'Yes it is!\nCome by on Saturday.');

  // Alice's message shows read once Bob has it on screen.
  await alice.page.locator('.msg.mine .ticks[data-state="read"]').first().waitFor();
  // Presence: each sees the other online.
  await alice.page.locator('.chat-status', { hasText: 'Online' }).waitFor();
});

test('the typing indicator shows while the other person writes', async () => {
  await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Let me check the', { delay: 30 });
  await alice.page.locator('.typing', { hasText: 'Bob Chen is typing…' }).waitFor();
  await alice.page.locator('.conv .conv-preview', { hasText: 'typing…' }).waitFor();
  // Stopping (here: sending) clears it.
  await bob.page.keyboard.press('Enter');
  await bubbles(alice.page, 'Let me check the').waitFor();
  await alice.page.locator('.typing', { hasText: 'typing' }).waitFor({ state: 'detached' }).catch(() => {});
  await alice.page.waitForFunction(() => !document.querySelector('.typing').textContent);
});

test('an image is uploaded with a caption and shows as a thumbnail on the other side', async () => {
  await alice.page.locator('input[type=file]').setInputFiles({ name: 'living-room.png', mimeType: 'image/png', buffer: gradientPng(640, 400) });
  const dialog = alice.page.getByRole('dialog', { name: 'Send a file' });
  await dialog.getByRole('textbox', { name: 'Caption' }).fill('The living room');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await dialog.waitFor({ state: 'detached' });

  const thumb = bob.page.locator('.msg.theirs img.thumb').last();
  await thumb.waitFor();
  await bob.page.waitForFunction((img) => img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:'), await thumb.elementHandle());
  const box = await thumb.boundingBox();
  assert.ok(box.height <= 256.5, `thumbnails are at most 256 px high, got ${box.height}`);
  await bubbles(bob.page, 'The living room').waitFor();
  // The list preview says it is a photo.
  await waitForText(bob.page.locator('.conv-preview'), '📷');
  // Clicking opens the full image.
  await thumb.click();
  const viewer = bob.page.getByRole('dialog', { name: 'living-room.png' });
  await bob.page.waitForFunction(() => document.querySelector('.lightbox-img')?.naturalWidth === 640);
  await bob.page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });

  // A file over the limit is refused before any byte is sent.
  const limits = await rest(await tokenOf(alice.page), '/api/chat/limits/');
  await alice.page.locator('input[type=file]').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(limits.max_upload_bytes + 1) });
  await alice.page.locator('.toast-error', { hasText: 'is larger than the 10 MB limit' }).waitFor();
});

test('messages written offline are queued, shown as pending, and delivered exactly once', async () => {
  await alice.context.setOffline(true);
  await alice.page.locator('.banner', { hasText: 'You are offline' }).waitFor();
  const box = alice.page.getByRole('textbox', { name: 'Message' });
  await box.fill('Written in the tunnel');
  await alice.page.keyboard.press('Enter');
  await box.fill('And a second one');
  await alice.page.keyboard.press('Enter');
  await alice.page.locator('.msg.is-pending', { hasText: 'Written in the tunnel' }).waitFor();
  await alice.page.locator('.msg.is-pending', { hasText: 'And a second one' }).waitFor();
  await shot(alice.page, 'offline-desktop-light');
  // Nothing reached the server while Alice is offline.
  const bobToken = await tokenOf(bob.page);
  const [dm] = (await rest(bobToken, '/api/chat/conversations/')).results;
  const before = await rest(bobToken, `/api/chat/conversations/${dm.id}/messages/?limit=5`);
  assert.ok(!before.results.some((m) => m.content === 'Written in the tunnel'));

  await alice.context.setOffline(false);
  await alice.page.locator('.banner').waitFor({ state: 'hidden' });
  await bubbles(bob.page, 'And a second one').waitFor();
  await alice.page.locator('.msg.is-pending').first().waitFor({ state: 'detached' });
  await bubbles(alice.page, 'And a second one').waitFor();
  assert.equal(await bubbles(bob.page, 'Written in the tunnel').count(), 1);
  assert.equal(await bubbles(bob.page, 'And a second one').count(), 1);
  assert.equal(await bubbles(alice.page, 'Written in the tunnel').count(), 1);

  // The server stored each once, in the order written.
  const token = await tokenOf(bob.page);
  const [conversation] = (await rest(token, '/api/chat/conversations/')).results;
  const history = await rest(token, `/api/chat/conversations/${conversation.id}/messages/?limit=5`);
  const texts = history.results.map((m) => m.content).reverse();
  assert.deepEqual(texts.slice(-2), ['Written in the tunnel', 'And a second one']);
  assert.equal(texts.filter((t) => t === 'Written in the tunnel').length, 1);

  // A reload shows each once too, and the outbox is empty.
  await alice.page.reload();
  await bubbles(alice.page, 'And a second one').waitFor();
  assert.equal(await bubbles(alice.page, 'Written in the tunnel').count(), 1);
  assert.equal(await alice.page.locator('.msg.is-pending').count(), 0);
});

test('reply, react, edit and delete from the message menu', async () => {
  let menu = await menuOf(bob.page, 'And a second one');
  await menu.getByRole('menuitem', { name: 'React 👍' }).click();
  await alice.page.locator('.reaction', { hasText: '👍 1' }).waitFor();

  menu = await menuOf(bob.page, 'Written in the tunnel');
  await menu.getByRole('menuitem', { name: 'Reply' }).click();
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('Which tunnel?');
  await bob.page.keyboard.press('Enter');
  const reply = alice.page.locator('.msg', { hasText: 'Which tunnel?' });
  await waitForText(reply.locator('.reply-quote'), 'Written in the tunnel');

  menu = await menuOf(alice.page, 'And a second one');
  await menu.getByRole('menuitem', { name: 'Edit' }).click();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('And a second one, edited');
  await alice.page.keyboard.press('Enter');
  await bubbles(bob.page, 'And a second one, edited').waitFor();
  await bob.page.locator('.msg', { hasText: 'And a second one, edited' }).locator('.edited').waitFor();

  await alice.page.getByRole('textbox', { name: 'Message' }).fill('oops, wrong chat');
  await alice.page.keyboard.press('Enter');
  await bubbles(bob.page, 'oops, wrong chat').waitFor();
  menu = await menuOf(alice.page, 'oops, wrong chat');
  await menu.getByRole('menuitem', { name: 'Delete' }).click();
  await alice.page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await bob.page.locator('.text.is-deleted').waitFor();
  assert.equal(await bubbles(bob.page, 'oops, wrong chat').count(), 0);
});

test('search finds messages and highlights the words', async () => {
  await bob.page.getByRole('searchbox', { name: 'Search conversations and messages' }).fill('tunnel');
  const hit = bob.page.locator('.hit', { hasText: 'Written in the' });
  await hit.waitFor();
  assert.equal(await hit.locator('mark').first().innerText(), 'tunnel');
  await bob.page.getByRole('searchbox', { name: 'Search conversations and messages' }).fill('');
});

test('history loads as you scroll up', async () => {
  const token = await tokenOf(alice.page);
  const carol = await registerRest('carol', 'Carol Diaz');
  // Alice makes a room with Carol and Bob from the new-chat dialog.
  await alice.page.getByRole('button', { name: 'New chat' }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'New chat' });
  await dialog.getByLabel('Create a room with several people').check();
  for (const [query, name] of [['carol', 'Carol Diaz'], ['bob', 'Bob Chen']]) {
    await dialog.getByRole('searchbox', { name: 'Search people' }).fill(query);
    await dialog.locator('.user-row', { hasText: name }).click();
    await dialog.locator('.chip', { hasText: name }).waitFor();
  }
  await dialog.getByRole('textbox', { name: 'Room name' }).fill('House viewing');
  await dialog.getByRole('button', { name: 'Create room' }).click();
  await alice.page.locator('.chat-name', { hasText: 'House viewing' }).waitFor();
  await alice.page.locator('.system-msg', { hasText: 'created' }).waitFor();
  await bob.page.locator('.conv', { hasText: 'House viewing' }).waitFor();
  const room = (await rest(token, '/api/chat/conversations/')).results.find((c) => c.title === 'House viewing');
  await alice.page.locator('.conv', { hasText: 'Bob Chen' }).click();
  for (let i = 1; i <= 118; i += 1) {
    await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: `Old message number ${i}` }) });
  }
  // A fresh page knows nothing of them: the newest page loads on open, older ones on scroll.
  await alice.page.reload();
  await alice.page.locator('.conv', { hasText: 'House viewing' }).click();
  await rest(token, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Great, thanks Carol. Is 10am on Saturday OK for everyone?' }) });
  await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Works for me. The keys are with the concierge.' }) });
  await bubbles(alice.page, 'The keys are with the concierge.').waitFor();
  assert.equal(await bubbles(alice.page, /^Old message number 1$/).count(), 0, 'only the newest page is loaded at first');
  // Each scroll to the top loads one older page; wait for it before scrolling again.
  for (let i = 0; i < 10 && (await alice.page.locator('.history-start').count()) === 0; i += 1) {
    const shown = await alice.page.locator('.messages > li').count();
    await alice.page.locator('.message-scroll').evaluate((node) => { node.scrollTop = 0; });
    await alice.page.waitForFunction((n) => document.querySelectorAll('.messages > li').length > n || document.querySelector('.history-start'), shown);
  }
  await alice.page.locator('.history-start').waitFor();
  const texts = await alice.page.locator('.messages .text').allInnerTexts();
  assert.ok(!texts.includes('Which tunnel?'), 'only this conversation\'s messages are shown');
  assert.ok(texts.includes('Old message number 1'), `the oldest message is shown: ${texts.slice(0, 5).join(' | ')} ... (${texts.length})`);
  roomFixture = { room, carol };
});

test('a mention arrives as a notification: bell badge, toast and panel', async () => {
  // No notification for the conversation on screen: Alice looks at her DM with Bob instead.
  await alice.page.locator('.conv', { hasText: 'Bob Chen' }).click();
  await alice.page.locator('.chat-name', { hasText: 'Bob Chen' }).waitFor();
  const { room, carol } = roomFixture;
  await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'See you at 10, @alice!' }) });
  await alice.page.getByRole('button', { name: /Notifications, \d+ unread/ }).waitFor();
  await alice.page.locator('.toast', { hasText: 'Carol Diaz mentioned you' }).waitFor();
  await alice.page.getByRole('button', { name: /Notifications/ }).click();
  const panel = alice.page.getByRole('dialog', { name: 'Notifications' });
  const item = panel.locator('.notif', { hasText: 'See you at 10, @alice!' });
  await item.waitFor();
  await panel.getByRole('button', { name: 'Mark all read' }).click();
  await alice.page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();
  await alice.page.keyboard.press('Escape');
});

test('a file arrives as a card with its name and size, and downloads with its name', async () => {
  await alice.page.locator('.conv', { hasText: 'Bob Chen' }).click();
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n' + ' '.repeat(2000));
  await alice.page.locator('input[type=file]').setInputFiles({ name: 'lease.pdf', mimeType: 'application/pdf', buffer: pdf });
  const dialog = alice.page.getByRole('dialog', { name: 'Send a file' });
  await dialog.getByRole('button', { name: 'Send' }).click();
  const card = bob.page.locator('.msg.theirs .file-card', { hasText: 'lease.pdf' });
  await card.waitFor();
  await waitForText(card.locator('.file-size'), '2.0 KB');
  await waitForText(bob.page.locator('.conv-preview'), '📎 lease.pdf');
  const [download] = await Promise.all([bob.page.waitForEvent('download'), card.click()]);
  assert.equal(download.suggestedFilename(), 'lease.pdf');
});

test('files can also be dropped on the chat or pasted into the message box', async () => {
  const png = gradientPng(120, 80).toString('base64');
  const transfer = await alice.page.evaluateHandle((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return dt;
  }, png);
  await alice.page.dispatchEvent('.chat-pane', 'dragover', { dataTransfer: transfer });
  await alice.page.dispatchEvent('.chat-pane', 'drop', { dataTransfer: transfer });
  let dialog = alice.page.getByRole('dialog', { name: 'Send a file' });
  await dialog.locator('.sub', { hasText: 'dropped.png' }).waitFor();
  await dialog.getByRole('button', { name: 'Send' }).click();
  await bob.page.locator('.msg.theirs img.thumb[alt="dropped.png"]').waitFor();

  await alice.page.getByRole('textbox', { name: 'Message' }).evaluate((box, data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, png);
  dialog = alice.page.getByRole('dialog', { name: 'Send a file' });
  await dialog.locator('.sub', { hasText: 'pasted.png' }).waitFor();
  await dialog.getByRole('button', { name: 'Send' }).click();
  await bob.page.locator('.msg.theirs img.thumb[alt="pasted.png"]').waitFor();
});

test('a message arriving while the tab is hidden raises a browser notification', async () => {
  // The browser's notification and visibility are stood in for, so what is tested is the
  // client's decision: notify while hidden, stay quiet while the conversation is on screen.
  await bob.page.evaluate(() => {
    window.shown = [];
    window.Notification = class {
      static permission = 'granted';
      constructor(title, options) { window.shown.push({ title, body: options.body }); }
      close() {}
    };
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.pretendHidden === true });
  });
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Seen while looking');
  await alice.page.keyboard.press('Enter');
  await bubbles(bob.page, 'Seen while looking').waitFor();
  await bob.page.evaluate(() => { window.pretendHidden = true; document.dispatchEvent(new Event('visibilitychange')); });
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Arrived while away');
  await alice.page.keyboard.press('Enter');
  await bubbles(bob.page, 'Arrived while away').waitFor();
  const shown = await bob.page.evaluate(() => window.shown);
  assert.deepEqual(shown, [{ title: 'Alice Martin', body: 'Alice Martin: Arrived while away' }]);
  await bob.page.evaluate(() => { window.pretendHidden = false; document.dispatchEvent(new Event('visibilitychange')); });
});

test('a message fetched with the conversation list shows delivered before it is opened', async () => {
  await bob.page.goto('about:blank');
  await alice.page.locator('.conv', { hasText: 'Bob Chen' }).click();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Are you around later?');
  await alice.page.keyboard.press('Enter');
  const ticks = alice.page.locator('.msg.mine', { hasText: 'Are you around later?' }).locator('.ticks');
  await ticks.and(alice.page.locator('[data-state="sent"]')).waitFor();
  // Bob's app loads its list (not the chat): the sender's single tick becomes two.
  await bob.page.goto(`${BASE}/#`);
  await bob.page.locator('.conv', { hasText: 'Alice Martin' }).waitFor();
  await ticks.and(alice.page.locator('[data-state="delivered"]')).waitFor();
  await bob.page.locator('.conv', { hasText: 'Alice Martin' }).click();
  await ticks.and(alice.page.locator('[data-state="read"]')).waitFor();
});

test('a reply quote jumps to the message it quotes, loading older history for it', async () => {
  const { room, carol } = roomFixture;
  const old = (await rest(carol.access, `/api/chat/conversations/${room.id}/messages/?limit=100&before=10`)).results.find((m) => m.content === 'Old message number 3');
  await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'About this one, again', reply_to: old.id }) });
  await alice.page.reload();
  await alice.page.locator('.conv', { hasText: 'House viewing' }).click();
  const quote = alice.page.locator('.msg', { hasText: 'About this one, again' }).locator('.reply-quote');
  await quote.waitFor();
  assert.equal(await bubbles(alice.page, /^Old message number 3$/).count(), 0, 'not loaded yet');
  await quote.click();
  const original = alice.page.locator('.msg.is-flash', { hasText: 'Old message number 3' });
  await original.waitFor();
  assert.ok(await original.isVisible());
  await alice.page.waitForFunction(() => document.activeElement?.textContent.includes('Old message number 3'));
});

test('scrolled up, new messages are counted on a jump-to-latest button; a divider marks what is new', async () => {
  const { room, carol } = roomFixture;
  const latest = alice.page.getByRole('button', { name: /^Jump to the latest messages/ });
  await latest.waitFor();
  for (const text of ['First while you read', 'Second while you read']) {
    await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: text }) });
  }
  await latest.locator('.badge', { hasText: '2' }).waitFor();
  await latest.click();
  await latest.waitFor({ state: 'hidden' });
  assert.ok(await bubbles(alice.page, 'Second while you read').isVisible());

  await alice.page.locator('.conv', { hasText: 'Bob Chen' }).click();
  for (const text of ['Unread one', 'Unread two', 'Unread three']) {
    await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: text }) });
  }
  await alice.page.locator('.conv', { hasText: 'House viewing' }).locator('.badge', { hasText: '3' }).waitFor();
  await alice.page.locator('.conv', { hasText: 'House viewing' }).click();
  const divider = alice.page.locator('.unread-divider');
  await divider.waitFor();
  const next = await divider.evaluate((node) => node.nextElementSibling.textContent);
  assert.match(next, /Unread one/);
});

test('@mentions are suggested while typing and highlighted in messages', async () => {
  const { room, carol } = roomFixture;
  const box = alice.page.getByRole('textbox', { name: 'Message' });
  await box.click();
  await alice.page.keyboard.type('Thanks @ca');
  const option = alice.page.getByRole('option', { name: /Carol Diaz/ });
  await option.waitFor();
  await alice.page.keyboard.press('Enter');
  assert.equal(await box.inputValue(), 'Thanks @carol ');
  await alice.page.keyboard.type('for the keys');
  await alice.page.keyboard.press('Enter');
  await alice.page.locator('.msg.mine .mention', { hasText: '@carol' }).waitFor();
  await rest(carol.access, `/api/chat/conversations/${room.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'You are welcome @alice' }) });
  await alice.page.locator('.msg.theirs', { hasText: 'You are welcome' }).locator('.mention.is-me', { hasText: '@alice' }).waitFor();
});

test('the emoji picker inserts an emoji and reacts with any emoji', async () => {
  await alice.page.getByRole('button', { name: 'Insert an emoji' }).click();
  const picker = alice.page.getByRole('dialog', { name: 'Choose an emoji' });
  await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('grinning face with big eyes');
  await picker.getByRole('button', { name: 'grinning face with big eyes' }).click();
  await picker.waitFor({ state: 'detached' });
  assert.equal(await alice.page.getByRole('textbox', { name: 'Message' }).inputValue(), '😃');
  await alice.page.keyboard.press('Enter');
  await bubbles(alice.page, '😃').waitFor();
  const menu = await menuOf(alice.page, 'You are welcome');
  await menu.getByRole('menuitem', { name: 'More reactions' }).click();
  await alice.page.getByRole('dialog', { name: 'Choose an emoji' }).getByRole('searchbox').fill('rocket');
  await alice.page.getByRole('dialog', { name: 'Choose an emoji' }).getByRole('button', { name: 'rocket' }).click();
  await alice.page.locator('.msg', { hasText: 'You are welcome' }).locator('.reaction', { hasText: '🚀 1' }).waitFor();
});

test('a message is forwarded to conversations picked in a dialog', async () => {
  await bob.page.locator('.conv', { hasText: 'Alice Martin' }).click();
  const menu = await menuOf(bob.page, 'Are you around later?');
  await menu.getByRole('menuitem', { name: 'Forward' }).click();
  const dialog = bob.page.getByRole('dialog', { name: 'Forward message' });
  await dialog.getByRole('searchbox', { name: 'Search conversations' }).fill('house');
  await dialog.getByLabel('House viewing').check();
  await dialog.getByRole('button', { name: 'Forward' }).click();
  await dialog.waitFor({ state: 'detached' });
  await alice.page.locator('.msg', { hasText: 'Are you around later?' }).locator('.forwarded').waitFor();
});

test('sockets open with one-time tickets, never with the access token in the URL', () => {
  for (const { sockets } of [alice, bob]) {
    assert.ok(sockets.length >= 1);
    for (const url of sockets) assert.match(url, /\/ws\/\?ticket=[\w-]{43}$/);
  }
});

test('no script errors in either page', () => {
  noErrors(alice, bob);
});
