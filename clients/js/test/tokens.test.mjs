// Tokens: the platform's getToken is asked once and its token kept; asked again when the token
// nears its expiry, and with refresh: true when parlor refuses one, and the refused request goes
// through with the new one; the socket's next ticket is bought with the kept token. Standalone sessions refresh with parlor's
// single-use refresh token.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { createClient, expiresIn, memoryStore, passwordAuth } from '../src/parlor.js';
import { JWT_SECRET, PASSWORD, hostToken, next, startParlor, startProxy, unique, until } from './helpers.mjs';

let parlor;

before(async () => {
  parlor = await startParlor({ env: { PARLOR_JWT_SECRET: JWT_SECRET } });
});
after(() => parlor.stop());

test('host-app mode: tokens are renewed mid-session, before they expire and when refused', async () => {
  const proxy = await startProxy(parlor.port);
  const sub = unique('u');
  const asked = [];
  // At first tokens live 32 s, so they soon come within the SDK's 30 s margin; then the platform
  // rotates its secret: the next token it hands out is one parlor refuses, later ones are good.
  let rotated = false;
  let refusedOnce = false;
  const getToken = async ({ refresh }) => {
    asked.push(refresh);
    if (!rotated) return hostToken(sub, 'Hana', 32);
    if (!refusedOnce) {
      refusedOnce = true;
      return `${hostToken(sub, 'Hana', 600)}x`;
    }
    return hostToken(sub, 'Hana', 600);
  };
  const client = createClient({ url: proxy.url, getToken, WebSocket, backoff: { initialMs: 100, maxMs: 500 } });
  await client.connect();
  const me = await client.api.usersMe();
  assert.equal(me.name, 'Hana');
  assert.ok(asked.every((refresh) => refresh === false), JSON.stringify(asked));

  // The kept token comes within 30 s of its expiry: the next request asks for a new one, which
  // parlor refuses, so the SDK asks again with refresh: true and the request goes through.
  await until(() => expiresIn(client.rest.current) < 29.5, 'the kept token to near its expiry', 5000);
  rotated = true;
  const before = asked.length;
  assert.equal((await client.api.usersMe()).id, me.id);
  assert.deepEqual(asked.slice(before), [false, true]);
  assert.equal((await client.api.usersMe()).id, me.id);
  assert.equal(asked.length, before + 2, 'a good token is kept');

  // The network drops: the next socket's ticket is bought with the kept, good token.
  const resumed = next(client, 'resumed');
  proxy.cut();
  await resumed;
  assert.equal(client.state, 'online');
  assert.equal(asked.length, before + 2);
  await client.close();
  await proxy.close();
});

test('standalone: passwordAuth keeps the session and refreshes with the single-use refresh token', async () => {
  const store = memoryStore();
  const auth = passwordAuth({ url: parlor.url, store });
  const username = unique('dana');
  await auth.register({ username, password: PASSWORD, name: 'Dana' });
  const first = await store.get('session');
  await auth.getToken({ refresh: true });
  const second = await store.get('session');
  assert.notEqual(second.refresh, first.refresh, 'a new pair is kept');
  assert.equal((await auth.user()).username, username);
  const client = createClient({ url: parlor.url, getToken: auth.getToken, WebSocket });
  assert.equal((await client.api.usersMe()).username, username);
  await auth.getToken({ refresh: true });
  // The used refresh token is spent: parlor refuses it, and a reuse ends the session (a stolen
  // copy, protocol §2.1), so the kept one no longer refreshes either.
  const spent = await fetch(`${parlor.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: first.refresh }) });
  assert.equal(spent.status, 401);
  await assert.rejects(auth.getToken({ refresh: true }), (error) => error.status === 401);
  await auth.signOut();
  await assert.rejects(auth.getToken(), (error) => error.status === 401);
  await client.close();
});
