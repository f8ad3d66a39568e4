// The React page of docs/integrate.md (examples/react/ChatPage.tsx, quoted there as it is),
// rendered in Chromium on a platform page of another origin: React from node_modules, the SDK
// imported from parlor's own /sdk/parlor.js, a token view, and parlor allowing that origin. It
// chats live with a platform user, survives a reload, and keeps what is written offline in
// IndexedDB until it is sent, once.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import ts from 'typescript';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { createClient } from '../src/parlor.js';
import { JWT_SECRET, hostToken, next, startParlor, unique, until } from './helpers.mjs';

const MODULES = new URL('../node_modules/', import.meta.url);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TIMEOUT = 15000;

let parlor;
let platform;
let browser;
const visitor = unique('buyer');
const seller = unique('seller');

/** The platform's pages: the chat page, its scripts, and the token view for `visitor`. */
function platformServer(parlorUrl) {
  const page = readFileSync(new URL('../examples/react/ChatPage.tsx', import.meta.url), 'utf8');
  const compiled = ts.transpileModule(page, { compilerOptions: { jsx: ts.JsxEmit.React, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const files = {
    '/': ['text/html', `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Messages</title>
<script src="/vendor/react.js"></script><script src="/vendor/react-dom.js"></script>
<script type="importmap">${JSON.stringify({ imports: { react: '/react.js', 'parlor-sdk': `${parlorUrl}/sdk/parlor.js` } })}</script>
<script type="module" src="/main.js"></script></head><body><div id="root"></div></body></html>`],
    '/vendor/react.js': ['text/javascript', readFileSync(new URL('react/umd/react.development.js', MODULES), 'utf8')],
    '/vendor/react-dom.js': ['text/javascript', readFileSync(new URL('react-dom/umd/react-dom.development.js', MODULES), 'utf8')],
    '/react.js': ['text/javascript', 'const React = window.React; export default React; export const { useEffect, useMemo, useState } = React;'],
    '/ChatPage.js': ['text/javascript', compiled],
    '/main.js': ['text/javascript', `import React from 'react'; import ChatPage from '/ChatPage.js';
window.ReactDOM.createRoot(document.getElementById('root')).render(React.createElement(ChatPage, ${JSON.stringify({ parlorUrl, withUser: seller })}));`],
  };
  return createServer((request, response) => {
    const path = new URL(request.url, 'http://platform').pathname;
    if (path === '/chat/token/') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ token: hostToken(visitor, 'Bea Buyer'), expires_in: 600 }));
      return;
    }
    const file = files[path];
    response.writeHead(file ? 200 : 404, { 'content-type': file ? file[0] : 'text/plain' });
    response.end(file ? file[1] : 'not found');
  });
}

before(async () => {
  const placeholder = createServer();
  await new Promise((resolve) => placeholder.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${placeholder.address().port}`;
  placeholder.close();
  parlor = await startParlor({
    env: {
      PARLOR_JWT_SECRET: JWT_SECRET,
      PARLOR_HTTP__CORS_ALLOWED_ORIGINS: JSON.stringify([origin]),
      PARLOR_WEBSOCKET__ALLOWED_ORIGINS: JSON.stringify([origin]),
    },
  });
  platform = platformServer(parlor.url);
  await new Promise((resolve) => platform.listen(Number(origin.split(':').pop()), '127.0.0.1', resolve));
  platform.origin = origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
after(async () => {
  await browser?.close();
  platform?.close();
  await parlor?.stop();
});

test('the React page chats live, reloads, and sends what was written offline exactly once', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket|net::ERR|Failed to load/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${platform.origin}/`);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

  // The seller, on the platform's backend with the Node SDK, answers in the conversation.
  const other = createClient({ url: parlor.url, getToken: () => hostToken(seller, 'Sam Seller'), WebSocket });
  await other.connect();
  const dm = (await other.api.conversationsList()).results.find((c) => c.kind === 'direct');
  assert.ok(dm, 'the page opened a conversation with the seller');
  await other.send(dm.id, 'Hi, it is still available');
  const messages = page.getByRole('list', { name: 'Messages' });
  await messages.getByText('Hi, it is still available').waitFor();

  const heard = next(other, 'message', (m) => m.content === 'Can I pick it up today?');
  await page.getByRole('textbox', { name: 'Message' }).fill('Can I pick it up today?');
  await page.getByRole('button', { name: 'Send' }).click();
  assert.equal((await heard).sender_name, 'Bea Buyer');
  await messages.getByText('Can I pick it up today?').waitFor();

  // A reload shows the conversation again, from REST, and connects.
  await page.reload();
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  assert.deepEqual(await messages.getByRole('listitem').allInnerTexts(), ['Sam Seller Hi, it is still available', 'Bea Buyer Can I pick it up today?']);

  // Offline: the message waits in IndexedDB, and goes once when the network is back.
  await context.setOffline(true);
  await page.getByRole('status').filter({ hasText: 'Connecting…' }).waitFor();
  await page.getByRole('textbox', { name: 'Message' }).fill('Written on the train');
  await page.getByRole('button', { name: 'Send' }).click();
  const queued = () => page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('parlor');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('kv').objectStore('kv').getAll();
      all.onsuccess = () => resolve(all.result.filter(Array.isArray).flat().map((e) => e.content));
    };
  }));
  await until(async () => (await queued()).includes('Written on the train'), 'the entry in IndexedDB');
  const arrived = next(other, 'message', (m) => m.content === 'Written on the train');
  await context.setOffline(false);
  await arrived;
  await messages.getByText('Written on the train').waitFor();
  await until(async () => (await queued()).length === 0, 'the outbox in IndexedDB to empty');
  const history = (await other.api.messagesHistory(dm.id, { query: { limit: 50 } })).results.map((m) => m.content);
  assert.deepEqual(history.filter((c) => c === 'Written on the train'), ['Written on the train']);

  // Nothing wider than a phone.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(wide, false);
  assert.deepEqual(errors, []);
  await other.close();
  await context.close();
});
