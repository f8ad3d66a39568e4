// Data rights in real browsers. Disappearing messages: either side of a direct conversation
// chooses them in the conversation's details, the other side sees the system message and the
// choice; a room's members who are not owners see it without a control; the dialog fits a phone
// and passes axe. Your data: asked for in your profile, followed there, saved as a zip.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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

test('your data: asked for in your profile, announced when ready, saved as a zip', async () => {
  await una.page.locator('button.me').click();
  const dialog = una.page.getByRole('dialog', { name: 'Your profile' });
  const section = dialog.getByRole('region', { name: 'Your data' });
  await section.getByRole('button', { name: 'Download my data' }).click();
  const save = section.getByRole('button', { name: 'Save the archive' });
  await save.waitFor();
  await section.getByRole('status').filter({ hasText: /^Ready: / }).waitFor();
  await assertAccessible(una.page, 'with your data ready');
  const [download] = await Promise.all([una.page.waitForEvent('download'), save.click()]);
  assert.match(download.suggestedFilename(), /^parlor-export-\d+\.zip$/);
  const bytes = await readFile(await download.path());
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip');
  await una.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  // The inbox says it was ready; opening that shows the profile, and the archive, again.
  await una.page.getByRole('button', { name: /^Notifications/ }).click();
  await una.page.locator('.notif-text', { hasText: 'Your data is ready to download' }).click();
  await una.page.getByRole('dialog', { name: 'Your profile' }).getByRole('button', { name: 'Save the archive' }).waitFor();
  await una.page.keyboard.press('Escape');

  // On a phone (back at the list, where the profile button is) it fits and passes axe too.
  await vic.page.evaluate(() => { location.hash = '#/'; });
  await vic.page.locator('button.me').click();
  const theirs = vic.page.getByRole('dialog', { name: 'Your profile' });
  await theirs.getByRole('region', { name: 'Your data' }).getByRole('button', { name: 'Download my data' }).waitFor();
  await assertLayout(vic.page, 'in your profile on a phone');
  await assertAccessible(vic.page, 'in your profile on a phone');
  await vic.page.keyboard.press('Escape');
  noErrors(una, vic);
});
