// What the SDK's tests share: a parlor started from the built binary, people signed up through
// the SDK, clients on Node's `ws`, a TCP proxy that can refuse or cut connections (a network
// that drops), host-app tokens, and waits that time out.

import { createHmac } from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import { createClient, memoryStore, passwordAuth } from '../src/parlor.js';

export { startParlor } from '../scripts/parlor.mjs';
export const PASSWORD = 'correct horse battery';
export const JWT_SECRET = 'sdk-js-test-host-secret-0123456789';
export const WAIT_MS = 15000;

let counter = 0;
export const unique = (name) => `${name}${process.pid % 10000}x${(counter += 1)}`;

/** Signs up a person through passwordAuth: {auth, user, client(options)}. */
export async function person(url, name, { store = memoryStore() } = {}) {
  const auth = passwordAuth({ url, store: memoryStore() });
  const { user } = await auth.register({ username: unique(name), password: PASSWORD, name });
  const clients = [];
  return {
    auth,
    user,
    store,
    /** A client of this person's, on `via` (a proxy's URL) or parlor itself. */
    client(options = {}) {
      const client = createClient({ url, getToken: auth.getToken, WebSocket, store, backoff: { initialMs: 100, maxMs: 1000 }, retryMs: 200, ...options });
      clients.push(client);
      return client;
    },
    async closeAll() {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

/** Resolves with the first `type` event of `client` that `match` accepts. */
export function next(client, type, match = () => true, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no '${type}' event within ${ms} ms`)); }, ms);
    const off = client.on(type, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Collects every `type` event of `client` from now on. */
export function collect(client, type) {
  const seen = [];
  client.on(type, (payload) => seen.push(payload));
  return seen;
}

/** Polls `check` until it returns something truthy. */
export async function until(check, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A host-app token (HS256, `sub`), valid for `ttl` seconds. */
export function hostToken(sub, name, ttl = 600) {
  const part = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, name, exp: Math.floor(Date.now() / 1000) + ttl })}`;
  return `${body}.${createHmac('sha256', JWT_SECRET).update(body).digest('base64url')}`;
}

/**
 * A TCP proxy to parlor: `refuse(true)` turns new connections away, `cut()` closes every open
 * one, and `loseAnswerToNextSend()` cuts every other connection when the next POST of a message
 * goes through, and that one as its answer comes back (the message is stored; the client never
 * hears so).
 */
export async function startProxy(port) {
  const open = new Set();
  let refusing = false;
  let losing = false;
  const cut = () => { for (const socket of open) socket.destroy(); open.clear(); };
  const server = net.createServer((downstream) => {
    if (refusing) { downstream.destroy(); return; }
    const upstream = net.connect(port, '127.0.0.1');
    open.add(downstream);
    open.add(upstream);
    let answerLost = false;
    downstream.on('data', (chunk) => {
      if (losing && /^POST \/api\/chat\/conversations\/\d+\/messages/m.test(chunk.toString('latin1'))) {
        losing = false;
        answerLost = true;
        // The socket drops first, so no live frame tells the client its message is stored.
        for (const socket of open) if (socket !== downstream && socket !== upstream) socket.destroy();
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (answerLost) { cut(); return; }
      downstream.write(chunk);
    });
    for (const [a, b] of [[downstream, upstream], [upstream, downstream]]) {
      a.on('close', () => { open.delete(a); b.destroy(); });
      a.on('error', () => {});
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    refuse(on) { refusing = on; },
    cut,
    loseAnswerToNextSend() { losing = true; },
    async close() {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
