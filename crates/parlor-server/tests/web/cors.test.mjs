// CORS in a real browser: pages served from other ports (other origins) call parlor's API with
// fetch, as a platform's own frontend would. Started by tests/api/cors.rs with:
//   PARLOR_URL          a parlor allowing ALLOWED_PORT's origin, with credentials, and one upload
//                       per user at a time (so a 429 can be read)
//   OPEN_URL            a parlor allowing any origin ("*"), without credentials
//   ALLOWED_PORT, REFUSED_PORT   where this script serves its two pages
//   API_KEY, CHROMIUM

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const PARLOR = process.env.PARLOR_URL.replace(/\/$/, '');
const OPEN = process.env.OPEN_URL.replace(/\/$/, '');
const ALLOWED = `http://127.0.0.1:${process.env.ALLOWED_PORT}`;
const REFUSED = `http://127.0.0.1:${process.env.REFUSED_PORT}`;

let context;
let profile;
const pages = [];
const hosts = [];

/** A platform's page: an empty document on `port`, its own origin. */
function servePage(port) {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>platform</title><h1>platform</h1></html>');
  });
  hosts.push(server);
  return new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
}

async function pageAt(origin) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  pages.push({ page, errors });
  await page.goto(`${origin}/`);
  return page;
}

/** What the server itself holds, asked outside any browser. */
async function account(username) {
  const response = await fetch(`${PARLOR}/api/server/accounts/by-username/${username}`, { headers: { 'x-api-key': process.env.API_KEY } });
  return response.status;
}

before(async () => {
  await servePage(process.env.ALLOWED_PORT);
  await servePage(process.env.REFUSED_PORT);
  profile = mkdtempSync(join(tmpdir(), 'parlor-cors-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(20000);
});

after(async () => {
  await context?.close();
  for (const host of hosts) host.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('a page on an allowed origin calls the API, reads errors and the exposed headers, and opens a socket', async () => {
  const page = await pageAt(ALLOWED);
  const seen = await page.evaluate(async (base) => {
    const json = { 'content-type': 'application/json' };
    // JSON bodies and the Authorization header both need a preflight.
    const register = (username) => fetch(`${base}/api/auth/register`, { method: 'POST', headers: json, body: JSON.stringify({ username, password: 'correct horse' }) });
    const registered = await register('carol');
    const session = await registered.json();
    const erin = (await (await register('erin')).json()).user;
    const auth = { authorization: `Bearer ${session.access}` };
    const me = await (await fetch(`${base}/api/users/me`, { headers: auth })).json();
    const unauthorized = await fetch(`${base}/api/users/me`, { headers: { authorization: 'Bearer nope' } });
    const dm = await (await fetch(`${base}/api/chat/conversations/`, { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ user_id: erin.id }) })).json();
    const form = () => {
      const data = new FormData();
      data.append('file', new Blob(['minutes of the meeting\n'], { type: 'text/plain' }), 'minutes.txt');
      return data;
    };
    const uploaded = await fetch(`${base}/api/chat/conversations/${dm.id}/attachments/`, { method: 'POST', headers: auth, body: form() });
    const message = await uploaded.json();
    const download = await fetch(`${base}${message.attachment.url}`, { headers: auth });
    const ranged = await fetch(`${base}${message.attachment.url}`, { headers: { ...auth, range: 'bytes=0-6' } });
    const limited = await fetch(`${base}/api/chat/conversations/${dm.id}/attachments/`, { method: 'POST', headers: auth, body: form() });
    const cookies = await fetch(`${base}/api/users/me`, { headers: auth, credentials: 'include' });
    // The socket: a one-time ticket over REST, then the upgrade (websocket.allowed_origins).
    const ticket = await (await fetch(`${base}/api/auth/ws-ticket`, { method: 'POST', headers: auth })).json();
    const hello = await new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/?ticket=${ticket.ticket}`);
      ws.onmessage = (event) => { ws.close(); resolve(JSON.parse(event.data).type); };
      ws.onerror = () => reject(new Error('socket refused'));
    });
    return {
      registered: registered.status,
      username: me.username,
      unauthorized: [unauthorized.status, (await unauthorized.json()).code],
      uploaded: uploaded.status,
      disposition: download.headers.get('content-disposition'),
      etag: download.headers.get('etag'),
      body: await download.text(),
      range: [ranged.status, ranged.headers.get('content-range'), await ranged.text()],
      limited: [limited.status, limited.headers.get('retry-after'), (await limited.json()).code],
      cookies: cookies.status,
      hello,
    };
  }, PARLOR);
  assert.equal(seen.registered, 201);
  assert.equal(seen.username, 'carol');
  assert.deepEqual(seen.unauthorized, [401, 'unauthorized'], 'a page reads error bodies too');
  assert.equal(seen.uploaded, 201);
  assert.match(seen.disposition, /^attachment; filename="minutes.txt"/);
  assert.match(seen.etag, /^"[0-9a-f]{64}"$/);
  assert.equal(seen.body, 'minutes of the meeting\n');
  assert.deepEqual(seen.range, [206, 'bytes 0-6/23', 'minutes']);
  assert.equal(seen.limited[0], 429);
  assert.match(seen.limited[1], /^[1-9][0-9]*$/, 'Retry-After is readable');
  assert.equal(seen.limited[2], 'rate_limited');
  assert.equal(seen.cookies, 200, 'credentials are allowed for listed origins when configured');
  assert.equal(seen.hello, 'connection_established');
});

test('a page on another origin can neither read answers nor get a preflighted request through', async () => {
  const page = await pageAt(REFUSED);
  const seen = await page.evaluate(async (base) => {
    const outcome = (promise) => promise.then((r) => `read ${r.status}`, (e) => e.name);
    return {
      // Preflighted: the browser never sends the POST itself.
      register: await outcome(fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'mallory', password: 'correct horse' }) })),
      // A simple request is sent, but its answer is withheld from the page.
      limits: await outcome(fetch(`${base}/api/chat/limits/`)),
      form: await outcome(fetch(`${base}/api/auth/token`, { method: 'POST', body: new URLSearchParams({ username: 'carol' }) })),
    };
  }, PARLOR);
  assert.deepEqual(seen, { register: 'TypeError', limits: 'TypeError', form: 'TypeError' });
  assert.equal(await account('mallory'), 404, 'the refused preflight kept the registration from being sent');
  assert.equal(await account('carol'), 200);
});

test('with "*" any page reads answers, but never with credentials', async () => {
  const page = await pageAt(REFUSED);
  const seen = await page.evaluate(async (base) => {
    const outcome = (promise) => promise.then((r) => r.status, (e) => e.name);
    const body = JSON.stringify({ username: 'dave', password: 'correct horse' });
    const json = { 'content-type': 'application/json' };
    return {
      plain: await outcome(fetch(`${base}/api/auth/register`, { method: 'POST', headers: json, body })),
      cookies: await outcome(fetch(`${base}/api/auth/token`, { method: 'POST', headers: json, body, credentials: 'include' })),
    };
  }, OPEN);
  assert.deepEqual(seen, { plain: 201, cookies: 'TypeError' });
});

test('no script error on any page', () => {
  for (const { errors } of pages) assert.deepEqual(errors, []);
});
