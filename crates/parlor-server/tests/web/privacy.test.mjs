// Disappearing messages in real browsers: either side of a direct conversation chooses them in
// the conversation's details, the other side sees the system message and the choice; a room's
// members who are not owners see it without a control; the dialog fits a phone and passes axe.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, noErrors, register, registerRest, tokenOf, rest, dm, send, bubbles, PHONE, assertLayout, assertAccessible } from './helpers.mjs';

let browser;
let una;
let vic;

before(async () => {
  browser = await launch();
  una = await person(browser);
  vic = await person(browser, PHONE);
  await register(una.page, 'una', 'Una Stone');
  await register(vic.page, 'vic', 'Vic Lane');
  const vicId = await vic.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id);
  const conversation = await dm(await tokenOf(una.page), vicId);
  await send(await tokenOf(una.page), conversation.id, 'Let us keep this short');
  await una.page.locator('.conv', { hasText: 'Vic Lane' }).click();
  await vic.page.locator('.conv', { hasText: 'Una Stone' }).click();
  await bubbles(vic.page, 'keep this short').waitFor();
});

after(async () => {
  await browser?.close();
});

test('either side of a direct conversation sets disappearing messages; the other sees it', async () => {
  await una.page.getByRole('button', { name: 'Conversation details' }).click();
  const details = una.page.getByRole('dialog', { name: 'Vic Lane' });
  const choice = details.getByRole('combobox', { name: 'Messages disappear after' });
  assert.equal(await choice.inputValue(), '', 'off by default');
  await choice.selectOption({ label: '1 day' });
  await una.page.locator('.system-msg', { hasText: 'Una Stone set messages to disappear after 1 day' }).first().waitFor();
  await una.page.keyboard.press('Escape');

  await vic.page.locator('.system-msg', { hasText: 'Una Stone set messages to disappear after 1 day' }).first().waitFor();
  await vic.page.getByRole('button', { name: 'Conversation details' }).click();
  const theirs = vic.page.getByRole('dialog', { name: 'Una Stone' });
  await theirs.getByRole('combobox', { name: 'Messages disappear after' }).waitFor();
  await vic.page.waitForFunction(() => document.querySelector('dialog[open] select')?.value === '86400');
  await assertLayout(vic.page, 'in the details on a phone');
  await assertAccessible(vic.page, 'in the details on a phone');
  await theirs.getByRole('combobox', { name: 'Messages disappear after' }).selectOption({ label: 'Off' });
  await vic.page.locator('.system-msg', { hasText: 'Vic Lane turned off disappearing messages' }).first().waitFor();
  await vic.page.keyboard.press('Escape');

  const token = await tokenOf(una.page);
  const listed = (await rest(token, '/api/chat/conversations/')).results.find((c) => c.kind === 'direct');
  assert.equal(listed.retention_secs, null);
  noErrors(una, vic);
});

test('a room member who is not an owner sees the room\'s retention without a control', async () => {
  const token = await tokenOf(una.page);
  const wes = await registerRest('wes', 'Wes Hart');
  const vicId = await vic.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id);
  const room = await rest(token, '/api/chat/rooms/', { method: 'POST', body: JSON.stringify({ title: 'Short lived', members: [vicId, wes.user.id] }) });
  await rest(token, `/api/chat/conversations/${room.id}/retention/`, { method: 'PUT', body: JSON.stringify({ retention_secs: 604800 }) });
  // On a phone the list is behind the open chat: go there by the chat's address.
  await vic.page.evaluate((id) => { location.hash = `#/c/${id}`; }, room.id);
  await vic.page.getByRole('button', { name: 'Conversation details' }).click();
  const details = vic.page.getByRole('dialog', { name: 'Short lived' });
  await details.locator('.retention-line', { hasText: 'Messages disappear after 1 week.' }).waitFor();
  assert.equal(await details.getByRole('combobox').count(), 0, 'no control for a member');
  await assertLayout(vic.page, 'in a room\'s details on a phone');
  await vic.page.keyboard.press('Escape');
  noErrors(una, vic);
});
