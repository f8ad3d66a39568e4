// End-to-end tests of the web client in headless Chromium: two browser contexts are two people
// on the parlor server at PARLOR_URL (started by web_client.rs on a random port). They sign up,
// start a DM, chat live, see typing, share an image, and one goes offline and writes; then a
// host page embeds the "Chat with X" button. Screenshots of the main screens go to
// SCREENSHOT_DIR (committed under docs/screenshots and shown in the README).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { gradientPng } from './png.mjs';

const BASE = process.env.PARLOR_URL.replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOT_DIR;
const TIMEOUT = 20000;

let browser;
let alice; // {context, page}
let bob;
let roomFixture;

async function person(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  const sockets = []; // URLs of the WebSockets the page opened
  page.on('websocket', (socket) => sockets.push(socket.url()));
  page.on('pageerror', (error) => errors.push(error));
  page.on('console', (message) => { if (message.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket/.test(message.text())) errors.push(new Error(message.text())); });
  return { context, page, errors, sockets };
}

async function register(page, username, name) {
  await page.goto(`${BASE}/`);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.fill('#login-username', username);
  await page.fill('#login-password', 'correct horse battery');
  await page.fill('#login-name', name);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('.sidebar').waitFor();
}

/** The access token the page holds, for checking the server's state over REST. */
async function tokenOf(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).access);
}

async function rest(token, path, options = {}) {
  const response = await fetch(`${BASE}${path}`, { ...options, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...options.headers } });
  return response.status === 204 ? null : response.json();
}

async function waitForText(locator, text) {
  await locator.filter({ hasText: text }).first().waitFor();
}

const bubbles = (page, text) => page.locator('.messages .msg .text', { hasText: text });

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  alice = await person();
  bob = await person();
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
  await alice.page.locator('.chat-title h2', { hasText: 'Bob Chen' }).waitFor();

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
  // Nothing reaches Bob while Alice is offline.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(await bubbles(bob.page, 'Written in the tunnel').count(), 0);

  await alice.context.setOffline(false);
  await alice.page.locator('.banner').waitFor({ state: 'hidden' });
  await bubbles(bob.page, 'And a second one').waitFor();
  await alice.page.locator('.msg.is-pending').first().waitFor({ state: 'detached' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
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
  const menuOf = async (page, text) => {
    const row = page.locator('.msg', { has: page.locator('.text', { hasText: text }) }).last();
    await row.hover();
    await row.getByRole('button', { name: 'Message actions' }).click();
    return page.getByRole('menu');
  };
  let menu = await menuOf(bob.page, 'And a second one');
  await menu.getByRole('menuitem', { name: 'React 👍' }).click();
  await alice.page.locator('.reaction', { hasText: '👍 1' }).waitFor();

  menu = await menuOf(bob.page, 'Written in the tunnel');
  await menu.getByRole('menuitem', { name: '↩ Reply' }).click();
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('Which tunnel?');
  await bob.page.keyboard.press('Enter');
  const reply = alice.page.locator('.msg', { hasText: 'Which tunnel?' });
  await waitForText(reply.locator('.reply-quote'), 'Written in the tunnel');

  menu = await menuOf(alice.page, 'And a second one');
  await menu.getByRole('menuitem', { name: '✎ Edit' }).click();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('And a second one, edited');
  await alice.page.keyboard.press('Enter');
  await bubbles(bob.page, 'And a second one, edited').waitFor();
  await bob.page.locator('.msg', { hasText: 'And a second one, edited' }).locator('.edited').waitFor();

  await alice.page.getByRole('textbox', { name: 'Message' }).fill('oops, wrong chat');
  await alice.page.keyboard.press('Enter');
  await bubbles(bob.page, 'oops, wrong chat').waitFor();
  menu = await menuOf(alice.page, 'oops, wrong chat');
  await menu.getByRole('menuitem', { name: '🗑 Delete' }).click();
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
  const carol = await (await fetch(`${BASE}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol', password: 'correct horse battery', name: 'Carol Diaz' }) })).json();
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
  await alice.page.locator('.chat-title h2', { hasText: 'House viewing' }).waitFor();
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
  for (let i = 0; i < 10 && (await alice.page.locator('.history-start').count()) === 0; i += 1) {
    await alice.page.locator('.message-scroll').evaluate((node) => { node.scrollTop = 0; });
    await alice.page.waitForTimeout(400);
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
  await alice.page.locator('.chat-title h2', { hasText: 'Bob Chen' }).waitFor();
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

test('screens at desktop and phone widths, light and dark', async () => {
  if (!SHOTS) return;
  const page = bob.page;
  await page.locator('.conv', { hasText: 'Alice Martin' }).click();
  await bubbles(page, 'Which tunnel?').waitFor();
  for (const theme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: theme });
    await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('.message-scroll').evaluate((node) => { node.scrollTop = node.scrollHeight; });
    await shot(page, `chat-desktop-${theme}`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('.message-scroll').evaluate((node) => { node.scrollTop = node.scrollHeight; });
    await shot(page, `chat-phone-${theme}`);
    await page.getByRole('link', { name: 'Back to conversations' }).click();
    await page.locator('.sidebar').waitFor();
    await shot(page, `list-phone-${theme}`);
    await page.locator('.conv', { hasText: 'Alice Martin' }).click();
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  // The toggle overrides the system's choice.
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Toggle dark mode' }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.getByRole('button', { name: 'Toggle dark mode' }).click();
  const login = await person();
  await login.page.goto(`${BASE}/`);
  await login.page.locator('.login-card').waitFor();
  await shot(login.page, 'sign-in');
  await login.context.close();
});

test('a host page opens a conversation with its "Chat with X" button', async () => {
  const secret = process.env.JWT_SECRET;
  const sign = (sub, name) => {
    const part = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
    const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, name, exp: Math.floor(Date.now() / 1000) + 600 })}`;
    return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
  };
  // The platform provisions its user once (server API), so a button can name them before they ever chatted.
  const provisioned = await fetch(`${BASE}/api/server/users/u-2`, { method: 'PUT', headers: { 'x-api-key': process.env.API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Hana Host' }) });
  assert.equal(provisioned.status, 200);
  let tokenRequests = 0;
  const host = createServer((request, response) => {
    if (request.url === '/token') {
      tokenRequests += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ token: sign('u-1', 'Ian Host') }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>Platform</title><h1>Hana's profile</h1>
      <button data-parlor-chat-with="u-2">Chat with Hana</button>
      <script src="${BASE}/embed.js" data-token-url="/token"></script>`);
  });
  await new Promise((resolve) => host.listen(Number(process.env.HOST_PORT), '127.0.0.1', resolve));
  try {
    const visitor = await person();
    await visitor.page.goto(`http://127.0.0.1:${process.env.HOST_PORT}/`);
    await visitor.page.getByRole('button', { name: 'Chat with Hana' }).click();
    const frame = visitor.page.frameLocator('.parlor-panel iframe');
    await frame.locator('.chat-title h2', { hasText: 'Hana Host' }).waitFor();
    await frame.getByRole('textbox', { name: 'Message' }).fill('Hello from the platform');
    await frame.getByRole('textbox', { name: 'Message' }).press('Enter');
    await frame.locator('.msg.mine .ticks[data-state="sent"]').waitFor();
    assert.ok(tokenRequests >= 1);
    // Hana (u-2) has it, from Ian (u-1).
    const list = await rest(sign('u-2', 'Hana Host'), '/api/chat/conversations/');
    const dm = list.results.find((c) => c.last_message?.content === 'Hello from the platform');
    assert.ok(dm, 'the message reached the other platform user');
    assert.equal(dm.last_message.sender_name, 'Ian Host');
    await visitor.page.getByRole('button', { name: 'Close chat' }).click();
    await visitor.page.locator('.parlor-panel').waitFor({ state: 'hidden' });
    assert.deepEqual(visitor.errors, []);
    assert.ok(visitor.sockets.length >= 1 && visitor.sockets.every((url) => /\/ws\/\?ticket=/.test(url)), visitor.sockets.join(' '));
    await visitor.context.close();
  } finally {
    host.close();
  }
});

test('sockets open with one-time tickets, never with the access token in the URL', () => {
  for (const { sockets } of [alice, bob]) {
    assert.ok(sockets.length >= 1);
    for (const url of sockets) assert.match(url, /\/ws\/\?ticket=[\w-]{43}$/);
  }
});

test('no script errors in either page', () => {
  assert.deepEqual(alice.errors.map(String), []);
  assert.deepEqual(bob.errors.map(String), []);
});
