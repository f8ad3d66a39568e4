// The embed on a platform's page served from another origin (HOST_PORT): the unread badge from
// page load, "Chat with X" for a user parlor has never seen, the close button inside parlor's
// own headers (never over its buttons), a full-screen panel on phones, the token URL's answers
// for signed-out visitors and errors (an event to the page, a clear state in the panel), and
// the panel's position and size options.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { BASE, PHONE, launch, person, noErrors, rest, hostToken, assertLayout, assertAccessible, shot } from './helpers.mjs';

const HOST = `http://127.0.0.1:${process.env.HOST_PORT}`;
let browser;
let host;
let tokenMode = 'ok'; // what /token answers: 'ok', 'signed-out' or 'error'
let tokenRequests = 0;

function page(attributes) {
  return `<!doctype html><html lang="en"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Platform</title><h1>Hana's profile</h1>
    <p>Messages: <span id="badge">none yet</span></p>
    <button data-parlor-chat-with="u-2">Chat with Hana</button>
    <button data-parlor-chat-with="u-77">Chat with Uma</button>
    <button data-parlor-chat-with="has space">Chat with nobody</button>
    <script>
      window.events = [];
      for (const name of ['parlor:unread', 'parlor:signed-out', 'parlor:error']) {
        window.addEventListener(name, (e) => { window.events.push(name); if (name === 'parlor:unread') document.getElementById('badge').textContent = String(e.detail.count); });
      }
    </script>
    <script src="${BASE}/embed.js" data-token-url="/token" data-sign-in-url="/login" ${attributes}></script></html>`;
}

before(async () => {
  browser = await launch();
  host = createServer((request, response) => {
    const url = new URL(request.url, HOST);
    if (url.pathname === '/token') {
      tokenRequests += 1;
      if (tokenMode === 'signed-out') { response.writeHead(401); response.end(); return; }
      if (tokenMode === 'error') { response.writeHead(502); response.end('bad gateway'); return; }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ token: hostToken('u-1', 'Ian Host') }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(page(url.pathname === '/options' ? 'data-position="top-left" data-width="420" data-height="520" data-offset="24,90"' : ''));
  });
  await new Promise((resolve) => host.listen(Number(process.env.HOST_PORT), '127.0.0.1', resolve));
  // Hana (u-2) writes to Ian (u-1) before Ian ever opens the chat on the platform's page.
  const server = (path, body) => fetch(`${BASE}${path}`, { method: 'PUT', headers: { 'x-api-key': process.env.API_KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await server('/api/server/users/u-1', { name: 'Ian Host' })).status, 200);
  const hana = hostToken('u-2', 'Hana Host');
  const conversation = await rest(hana, '/api/chat/conversations/', { method: 'POST', body: JSON.stringify({ external_id: 'u-1' }) });
  await rest(hana, `/api/chat/conversations/${conversation.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Is the bike still for sale?' }) });
});

after(async () => {
  await browser?.close();
  host?.close();
});

const frameOf = (p) => p.frameLocator('.parlor-panel iframe');
const frameObject = (p) => p.frames().find((f) => f.url().startsWith(`${BASE}/?embed`));

test('the unread badge is right from page load, before the panel is opened, and stays live', async () => {
  const visitor = await person(browser);
  await visitor.page.goto(`${HOST}/`);
  await visitor.page.locator('#badge', { hasText: '1' }).waitFor();
  assert.ok(await visitor.page.locator('.parlor-panel').isHidden(), 'the panel is still closed');
  const hana = hostToken('u-2', 'Hana Host');
  const [conversation] = (await rest(hana, '/api/chat/conversations/')).results;
  await rest(hana, `/api/chat/conversations/${conversation.id}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Hello?' }) });
  await visitor.page.locator('#badge', { hasText: '2' }).waitFor();
  // Opening the conversation reads it.
  await visitor.page.getByRole('button', { name: 'Chat with Hana' }).click();
  await frameOf(visitor.page).locator('.chat-name', { hasText: 'Hana Host' }).waitFor();
  await visitor.page.locator('#badge', { hasText: '0' }).waitFor();
  noErrors(visitor);
  assert.ok(visitor.sockets.every((url) => /\/ws\/\?ticket=/.test(url)), visitor.sockets.join(' '));
  await visitor.context.close();
});

test('"Chat with" a platform user parlor never saw opens the chat; they are named once the platform tells', async () => {
  const visitor = await person(browser);
  await visitor.page.goto(`${HOST}/`);
  await visitor.page.getByRole('button', { name: 'Chat with Uma' }).click();
  const frame = frameOf(visitor.page);
  await frame.locator('.chat-name', { hasText: 'User u-77' }).waitFor();
  await frame.getByRole('textbox', { name: 'Message' }).fill('Hi Uma, welcome!');
  await frame.getByRole('textbox', { name: 'Message' }).press('Enter');
  await frame.locator('.msg.mine .ticks[data-state="sent"]').waitFor();
  // The platform's backend upserts her at sign-up: parlor shows her name from then on.
  const upsert = await fetch(`${BASE}/api/server/users/u-77`, { method: 'PUT', headers: { 'x-api-key': process.env.API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Uma Platform' }) });
  assert.equal(upsert.status, 200);
  const uma = await (await fetch(`${BASE}/api/server/users/u-77`, { headers: { 'x-api-key': process.env.API_KEY } })).json();
  assert.equal(uma.name, 'Uma Platform');
  await visitor.page.reload();
  await visitor.page.getByRole('button', { name: 'Chat with Uma' }).click();
  await frameOf(visitor.page).locator('.chat-name', { hasText: 'Uma Platform' }).waitFor();
  // A reference that cannot work gets a message for people, never a developer's.
  await visitor.page.getByRole('button', { name: 'Chat with nobody' }).click();
  const toast = frameOf(visitor.page).locator('.toast-error');
  await toast.waitFor();
  assert.equal(await toast.locator('.toast-text').innerText(), 'This chat cannot be opened right now.');
  noErrors(visitor);
  await visitor.context.close();
});

test('the close button sits in parlor\'s headers and covers none of its buttons, on desktop and phone', async () => {
  for (const options of [{}, PHONE]) {
    const visitor = await person(browser, options);
    const { page: p } = visitor;
    await p.goto(`${HOST}/`);
    await p.getByRole('button', { name: 'Chat with Hana' }).click();
    const frame = frameOf(p);
    await frame.locator('.chat-name', { hasText: 'Hana Host' }).waitFor();
    await assertLayout(frameObject(p), `in the embedded chat (${options.isMobile ? 'phone' : 'desktop'})`);
    if (!options.isMobile) await assertAccessible(frameObject(p), 'in the embedded chat');
    if (options.isMobile) {
      const box = await p.locator('.parlor-panel').boundingBox();
      assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844], 'full screen on a phone');
    }
    await shot(p, `embed-${options.isMobile ? 'phone' : 'desktop'}-light`);
    // The details button works (it used to be under the close button).
    await frame.getByRole('button', { name: 'Conversation details' }).click();
    await frame.getByRole('dialog').waitFor();
    await frame.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    assert.ok(await p.locator('.parlor-panel').isVisible());
    // So does "New chat" in the list (the panel is one column wide on desktop too).
    await frame.getByRole('link', { name: 'Back to conversations' }).click();
    await frame.getByRole('button', { name: 'New chat' }).click();
    await frame.getByRole('dialog', { name: 'New chat' }).waitFor();
    await frame.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    assert.ok(await p.locator('.parlor-panel').isVisible());
    await frame.getByRole('button', { name: 'Close chat' }).first().click();
    await p.locator('.parlor-panel').waitFor({ state: 'hidden' });
    noErrors(visitor);
    await visitor.context.close();
  }
});

test('a signed-out visitor: the page hears parlor:signed-out, the panel says to sign in', async () => {
  tokenMode = 'signed-out';
  try {
    const visitor = await person(browser);
    await visitor.page.goto(`${HOST}/`);
    await visitor.page.waitForFunction(() => window.events.includes('parlor:signed-out'));
    await visitor.page.getByRole('button', { name: 'Chat with Hana' }).click();
    const frame = frameOf(visitor.page);
    await frame.getByRole('heading', { name: 'Sign in to chat' }).waitFor();
    assert.equal(await frame.getByRole('link', { name: 'Sign in' }).getAttribute('href'), '/login');
    await assertLayout(frameObject(visitor.page), 'in the signed-out panel');
    await frame.getByRole('button', { name: 'Close chat' }).click();
    await visitor.page.locator('.parlor-panel').waitFor({ state: 'hidden' });
    await visitor.context.close();
  } finally {
    tokenMode = 'ok';
  }
});

test('a failing token URL: the page hears parlor:error, the panel offers to try again', async () => {
  tokenMode = 'error';
  const visitor = await person(browser);
  try {
    await visitor.page.goto(`${HOST}/`);
    await visitor.page.waitForFunction(() => window.events.includes('parlor:error'));
    await visitor.page.getByRole('button', { name: 'Chat with Hana' }).click();
    const frame = frameOf(visitor.page);
    await frame.getByRole('heading', { name: 'Chat is unavailable right now' }).waitFor();
  } finally {
    tokenMode = 'ok';
  }
  await frameOf(visitor.page).getByRole('button', { name: 'Try again' }).click();
  // The chat the visitor asked for opens once the token comes.
  await frameOf(visitor.page).locator('.chat-name', { hasText: 'Hana Host' }).waitFor();
  await visitor.context.close();
});

test('the panel\'s corner, size and offset come from the script tag', async () => {
  const visitor = await person(browser);
  await visitor.page.goto(`${HOST}/options`);
  await visitor.page.getByRole('button', { name: 'Chat with Hana' }).click();
  await frameOf(visitor.page).locator('.chat-name').waitFor();
  const box = await visitor.page.locator('.parlor-panel').boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [24, 90, 420, 520]);
  assert.ok(tokenRequests >= 1);
  await visitor.context.close();
});
