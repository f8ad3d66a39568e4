// The outbox: a message is stored exactly once whatever happens to the connection: written while
// offline, carried across a reload by its persisted client_id, or sent when the answer to the
// send is lost with the connection (the retry is answered with the original).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { collect, next, person, startParlor, startProxy, until } from './helpers.mjs';

let parlor;
let proxy;

before(async () => {
  parlor = await startParlor();
  proxy = await startProxy(parlor.port);
});
after(async () => {
  await proxy.close();
  await parlor.stop();
});

async function history(client, conversationId) {
  return (await client.api.messagesHistory(conversationId, { query: { limit: 100 } })).results;
}

test('the answer to a send is lost with the connection: the retry stores nothing new', async () => {
  const alice = await person(parlor.url, 'alice');
  const bob = await person(parlor.url, 'bob');
  const client = alice.client({ url: proxy.url });
  await client.connect();
  const dm = await client.api.conversationsOpenDirect({ body: { user_id: bob.user.id } });
  const sent = collect(client, 'sent');
  const states = collect(client, 'state');
  proxy.loseAnswerToNextSend();
  const entry = await client.send(dm.id, 'exactly once');
  assert.ok(entry.client_id);
  await until(() => sent.length === 1, 'the outbox to hear the server has the message');
  assert.ok(states.some((s) => s.state === 'offline'), 'the connection dropped');
  assert.equal(sent[0].message.client_id, entry.client_id);
  const stored = (await history(bob.client(), dm.id)).filter((m) => m.content === 'exactly once');
  assert.equal(stored.length, 1, JSON.stringify(stored));
  assert.equal(stored[0].client_id, entry.client_id);
  assert.deepEqual(client.outbox.pending(), []);
  await alice.closeAll();
  await bob.closeAll();
});

test('written offline and carried across a reload: sent once when the connection is back', async () => {
  const alice = await person(parlor.url, 'alice');
  const bob = await person(parlor.url, 'bob');
  const first = alice.client({ url: proxy.url });
  await first.connect();
  const dm = await first.api.conversationsOpenDirect({ body: { user_id: bob.user.id } });
  proxy.refuse(true);
  proxy.cut();
  await until(() => first.state !== 'online', 'the client to go offline');
  const entries = [await first.send(dm.id, 'queued 1'), await first.send(dm.id, 'queued 2')];
  assert.deepEqual(first.outbox.pending().map((e) => e.status), ['pending', 'pending']);
  await first.close(); // the tab is closed with the messages still in its outbox

  // Another process posted the first one already (it got through before the tab died).
  const bobView = bob.client();
  await alice.client().api.messagesSend(dm.id, { body: { content: 'queued 1', client_id: entries[0].client_id } });

  proxy.refuse(false);
  const reloaded = alice.client({ url: proxy.url });
  const sent = collect(reloaded, 'sent');
  await reloaded.connect();
  await until(() => sent.length === 2, 'both entries sent');
  assert.deepEqual(sent.map((s) => s.entry.client_id), entries.map((e) => e.client_id));
  const stored = (await history(bobView, dm.id)).map((m) => [m.content, m.client_id]);
  assert.deepEqual(stored.sort(), entries.map((e) => [e.content, e.client_id]).sort());
  assert.deepEqual(await reloaded.store.get(`outbox.${alice.user.id}`), []);
  await alice.closeAll();
  await bob.closeAll();
});

test('a message the server refuses stays as failed until discarded', async () => {
  const alice = await person(parlor.url, 'alice');
  const client = alice.client();
  await client.connect();
  const failed = next(client, 'failed');
  await client.send(999999, 'nowhere');
  const { entry, error } = await failed;
  assert.equal(error.status, 404);
  assert.equal(client.outbox.pending()[0].status, 'failed');
  await client.outbox.discard(entry.client_id);
  assert.deepEqual(client.outbox.pending(), []);
  await alice.closeAll();
});
