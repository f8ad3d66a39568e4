// People and rooms in real browsers: profiles, connection requests sent from a profile and
// answered in the notifications panel, blocking and unblocking (and what the header says),
// managing a room (rename, add, roles, remove), "seen by", the last owner handing the room over
// before leaving, and what a former member sees. Hal and Ivy are two browser contexts; Jon and
// Kim act over REST.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, noErrors, register, registerRest, tokenOf, rest, send, dm, bubbles, menuOf } from './helpers.mjs';

let browser;
let hal;
let ivy;
let jon;
let ids = {};
let room;

before(async () => {
  browser = await launch();
  hal = await person(browser);
  ivy = await person(browser);
  await register(hal.page, 'hal', 'Hal Jordan');
  await register(ivy.page, 'ivy', 'Ivy Chen');
  jon = await registerRest('jon', 'Jon Snowden');
  await registerRest('kim', 'Kim Park'); // added to the room from the UI below
  ids = {
    hal: await hal.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id),
    ivy: await ivy.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id),
  };
  const conversation = await dm(await tokenOf(ivy.page), ids.hal);
  await send(await tokenOf(ivy.page), conversation.id, 'Hi Hal, it is Ivy from the book club');
  await hal.page.locator('.conv', { hasText: 'Ivy Chen' }).click();
  await bubbles(hal.page, 'from the book club').waitFor();
  await ivy.page.locator('.conv', { hasText: 'Hal Jordan' }).click();
});

after(async () => {
  await browser?.close();
});

test('a connection request is sent from a profile and accepted in the notifications panel', async () => {
  await hal.page.locator('.chat-who', { hasText: 'Ivy Chen' }).click();
  const profile = hal.page.getByRole('dialog', { name: 'Ivy Chen' });
  await profile.getByRole('button', { name: 'Connect' }).click();
  await profile.getByRole('button', { name: /Request sent/ }).waitFor();
  await hal.page.keyboard.press('Escape');

  await ivy.page.getByRole('button', { name: /Notifications, 1 unread/ }).click();
  const panel = ivy.page.getByRole('dialog', { name: 'Notifications' });
  await panel.locator('.notif', { hasText: 'Hal Jordan wants to connect' }).waitFor();
  await panel.getByRole('button', { name: 'Accept Hal Jordan\'s request' }).click();
  await panel.locator('.notif-state', { hasText: 'Connected' }).waitFor();
  await ivy.page.keyboard.press('Escape');

  await hal.page.locator('.chat-who', { hasText: 'Ivy Chen' }).click();
  await hal.page.getByRole('dialog', { name: 'Ivy Chen' }).getByRole('button', { name: /Connected/ }).waitFor();
  await hal.page.keyboard.press('Escape');
});

test('blocking shows in the header and the composer, and can be undone', async () => {
  await hal.page.locator('.chat-status', { hasText: 'Online' }).waitFor();
  await hal.page.getByRole('button', { name: 'Conversation details' }).click();
  await hal.page.getByRole('dialog').getByRole('button', { name: 'Block Ivy Chen' }).click();
  await hal.page.getByRole('dialog', { name: 'Are you sure?' }).getByRole('button', { name: 'Block' }).click();
  await hal.page.locator('.chat-status', { hasText: 'Blocked' }).waitFor();
  await hal.page.locator('.composer-notice', { hasText: 'You blocked Ivy Chen' }).waitFor();
  assert.match(await hal.page.locator('.conv', { hasText: 'Ivy Chen' }).textContent(), /blocked/);
  await hal.page.getByRole('dialog').getByRole('button', { name: 'Unblock Ivy Chen' }).click();
  await hal.page.locator('.chat-status', { hasText: 'Online' }).waitFor();
  await hal.page.keyboard.press('Escape');
  await hal.page.getByRole('textbox', { name: 'Message' }).fill('Sorry, wrong button!');
  await hal.page.keyboard.press('Enter');
  await bubbles(ivy.page, 'Sorry, wrong button!').waitFor();
});

test('"typing…" keeps its colour on an unread row', async () => {
  const token = await tokenOf(hal.page);
  room = await rest(token, '/api/chat/rooms/', { method: 'POST', body: JSON.stringify({ title: 'Readers', members: [ids.ivy, jon.user.id] }) });
  await hal.page.locator('.conv', { hasText: 'Readers' }).click();
  await send(await tokenOf(ivy.page), (await rest(token, '/api/chat/conversations/')).results.find((c) => c.kind === 'direct').id, 'Unread for Hal');
  await hal.page.locator('.conv.has-unread', { hasText: 'Ivy Chen' }).waitFor();
  await ivy.page.getByRole('textbox', { name: 'Message' }).pressSequentially('still typ', { delay: 30 });
  const typing = hal.page.locator('.conv.has-unread .conv-preview.is-typing');
  await typing.waitFor();
  const [typingColour, accent] = await hal.page.evaluate(() => [
    getComputedStyle(document.querySelector('.conv.has-unread .conv-preview.is-typing')).color,
    getComputedStyle(document.querySelector('.conv.has-unread .conv-time')).color,
  ]);
  assert.equal(typingColour, accent);
  await ivy.page.getByRole('textbox', { name: 'Message' }).fill('');
});

test('a room is managed from its details: rename, add people, roles, remove', async () => {
  const { page } = hal;
  await page.getByRole('button', { name: 'Conversation details' }).click();
  let details = page.getByRole('dialog', { name: 'Readers' });
  await details.getByRole('textbox', { name: 'Room name' }).fill('Book club 📚');
  await details.getByRole('button', { name: 'Save' }).click();
  await page.locator('.chat-name', { hasText: 'Book club 📚' }).waitFor();
  // The avatar's initials are whole characters, never half an emoji.
  const initials = await page.locator('.chat-head .avatar-initials').innerText();
  assert.equal(initials, 'B📚');
  assert.ok(initials.isWellFormed());
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'Conversation details' }).click();
  details = page.getByRole('dialog', { name: 'Book club 📚' });
  await details.getByRole('button', { name: 'Add people' }).click();
  const add = page.getByRole('dialog', { name: /^Add people/ });
  // The directory answers from two characters: one asks the server nothing and says so.
  await add.getByRole('searchbox', { name: 'Search people' }).fill('k');
  await add.getByText('Type at least 2 characters.').waitFor();
  assert.equal(await add.locator('.user-row').count(), 0);
  await add.getByRole('searchbox', { name: 'Search people' }).fill('kim');
  await add.locator('.user-row', { hasText: 'Kim Park' }).click();
  await add.getByRole('button', { name: 'Add', exact: true }).click();
  await details.locator('.members .user-row', { hasText: 'Kim Park' }).waitFor();

  await details.locator('.members .user-row', { hasText: 'Ivy Chen' }).click();
  await page.getByRole('dialog', { name: 'Ivy Chen' }).getByRole('button', { name: 'Make admin' }).click();
  await details.locator('.members .user-row', { hasText: 'Ivy Chen' }).locator('.user-label', { hasText: 'admin' }).waitFor();

  await details.locator('.members .user-row', { hasText: 'Jon Snowden' }).click();
  await page.getByRole('dialog', { name: 'Jon Snowden' }).getByRole('button', { name: 'Remove from room' }).click();
  await page.getByRole('dialog', { name: 'Are you sure?' }).getByRole('button', { name: 'Remove' }).click();
  await details.locator('.members .user-row', { hasText: 'Jon Snowden' }).waitFor({ state: 'detached' });
  const jonsView = await rest(jon.access, `/api/chat/conversations/${room.id}/`);
  assert.ok(jonsView.is_member === false || jonsView.code === 'not_found', JSON.stringify(jonsView));
  await page.keyboard.press('Escape');
});

test('"seen by" lists who read a message in a room', async () => {
  await ivy.page.locator('.conv', { hasText: 'Book club' }).click();
  await hal.page.getByRole('textbox', { name: 'Message' }).fill('Chapter 3 for Thursday?');
  await hal.page.keyboard.press('Enter');
  await bubbles(ivy.page, 'Chapter 3 for Thursday?').waitFor();
  const menu = await menuOf(hal.page, 'Chapter 3 for Thursday?');
  await menu.getByRole('menuitem', { name: 'Seen by' }).click();
  const dialog = hal.page.getByRole('dialog', { name: 'Seen by' });
  await dialog.getByRole('heading', { name: 'Read by 1 of 2' }).waitFor();
  await dialog.getByRole('list', { name: 'Read by' }).getByText('Ivy Chen').waitFor();
  await hal.page.keyboard.press('Escape');
});

test('the last owner names a new owner before leaving; then sees the room as a former member', async () => {
  const { page } = hal;
  await page.getByRole('button', { name: 'Conversation details' }).click();
  await page.getByRole('dialog', { name: 'Book club 📚' }).getByRole('button', { name: 'Leave room' }).click();
  const heir = page.getByRole('dialog', { name: 'Choose a new owner' });
  await heir.locator('.user-row', { hasText: 'Ivy Chen' }).click();
  const status = page.locator('.chat-status', { hasText: 'You are no longer a member' });
  const gone = page.locator('.conv', { hasText: 'Book club' });
  // A former member either keeps a read-only view (no member count, no message menus, no
  // composer) or loses the conversation altogether, as the server decides.
  await Promise.race([status.waitFor(), gone.waitFor({ state: 'detached' })]);
  if (await status.count()) {
    assert.equal(await page.locator('.msg-menu-btn').count(), 0);
    await page.locator('.composer-notice', { hasText: 'no longer a member' }).waitFor();
    assert.doesNotMatch(await page.locator('.chat-head').innerText(), /0 members/);
  }
  const view = await rest(await tokenOf(ivy.page), `/api/chat/conversations/${room.id}/`);
  assert.equal(view.members.find((m) => m.name === 'Ivy Chen').role, 'owner');
  assert.ok(!view.members.some((m) => m.name === 'Hal Jordan'), 'Hal left');
  await ivy.page.getByRole('button', { name: 'Conversation details' }).click();
  await ivy.page.getByRole('dialog').locator('.members .user-row', { hasText: 'Ivy Chen' }).locator('.user-label', { hasText: 'owner' }).waitFor();
  await ivy.page.keyboard.press('Escape');
});

test('my profile: name, email address and hiding last seen', async () => {
  await hal.page.locator('button.me').click();
  const dialog = hal.page.getByRole('dialog', { name: 'Your profile' });
  await dialog.getByLabel('Name').fill('Hal J.');
  await dialog.getByLabel('Email, for messages you have not read').fill('hal@example.com');
  await dialog.getByLabel('Hide when I was last online').check();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await hal.page.locator('.me-name', { hasText: 'Hal J.' }).waitFor();
  const me = await rest(await tokenOf(hal.page), '/api/users/me/');
  assert.equal(me.name, 'Hal J.');
  assert.equal(me.email, 'hal@example.com');
  assert.equal(me.hide_last_seen, true);
});

test('no script errors', () => {
  noErrors(hal, ivy);
});
