// Resume: after a server restart the client reconnects by itself and resumes from its cursors,
// getting what was sent while it was away exactly once; a new client over the same store (a
// reload) resumes where the last one stopped; resync_required moves the cursor on.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { collect, next, person, startParlor, startProxy, until } from './helpers.mjs';

let parlor;
let proxy;

before(async () => {
  parlor = await startParlor({ env: { PARLOR_LIMITS__REPLAY_MAX: '5' } });
  proxy = await startProxy(parlor.port);
});
after(async () => {
  await proxy.close();
  await parlor.stop();
});

test('after a server restart the client reconnects and resumes: what was missed arrives once', async () => {
  const alice = await person(parlor.url, 'alice');
  const bob = await person(parlor.url, 'bob');
  const client = alice.client({ url: proxy.url });
  const states = collect(client, 'state');
  await client.connect();
  const bobApi = bob.client();
  const dm = await bobApi.api.conversationsOpenDirect({ body: { user_id: alice.user.id } });
  const messages = collect(client, 'message');
  await bobApi.api.messagesSend(dm.id, { body: { content: 'before the restart' } });
  await until(() => messages.length === 1, 'the first message live');
  // The cursor follows every event of the conversation: at least the message, or a receipt after it.
  assert.ok(client.cursors()[dm.id] >= messages[0].seq, `cursor ${client.cursors()[dm.id]}`);

  // The server goes away; the client cannot come back until the network lets it (the proxy).
  proxy.refuse(true);
  const restarted = await parlor.restart();
  parlor = restarted;
  await until(() => states.some((s) => s.state === 'offline'), 'the client to see the connection drop');
  for (const content of ['while away 1', 'while away 2']) await bobApi.api.messagesSend(dm.id, { body: { content } });
  proxy.refuse(false);
  const resumed = await next(client, 'resumed');
  assert.ok(resumed.replayed >= 2, `replayed ${resumed.replayed}`); // the messages, and receipts of them
  await until(() => client.state === 'online', 'online again');
  assert.deepEqual(messages.map((m) => m.content), ['before the restart', 'while away 1', 'while away 2']);
  assert.ok(states.filter((s) => s.state === 'online').length >= 2, JSON.stringify(states));

  // Live again: the next message arrives once.
  await bobApi.api.messagesSend(dm.id, { body: { content: 'after' } });
  await until(() => messages.length === 4, 'a live message after resuming');
  assert.ok(client.cursors()[dm.id] >= messages[3].seq, `cursor ${client.cursors()[dm.id]}`);

  // A reload: this client closes (saving its cursors), a new one over the same store resumes.
  await client.close();
  await bobApi.api.messagesSend(dm.id, { body: { content: 'while reloading' } });
  const reloaded = alice.client();
  const replayed = collect(reloaded, 'message');
  await reloaded.connect();
  await until(() => replayed.length === 1, 'the message sent while reloading');
  assert.equal(replayed[0].content, 'while reloading');
  await alice.closeAll();
  await bob.closeAll();
});

test('too far behind to replay: resync_required, and the cursor moves to latest_seq', async () => {
  const alice = await person(parlor.url, 'alice');
  const bob = await person(parlor.url, 'bob');
  const bobApi = bob.client();
  const dm = await bobApi.api.conversationsOpenDirect({ body: { user_id: alice.user.id } });
  for (let i = 0; i < 7; i += 1) await bobApi.api.messagesSend(dm.id, { body: { content: `m${i}` } });
  const client = alice.client();
  client.setCursor(dm.id, 0); // loaded long ago: replay_max (5) events behind and more
  const resync = next(client, 'resync_required');
  await client.connect();
  const frame = await resync;
  assert.equal(frame.conversation_id, dm.id);
  const fresh = await client.api.conversationsGetOne(dm.id);
  assert.equal(frame.latest_seq, fresh.last_event_seq);
  assert.equal(client.cursors()[dm.id], frame.latest_seq);
  await alice.closeAll();
  await bob.closeAll();
});
