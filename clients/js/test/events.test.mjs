// Every event kind, each caused the way an app would cause it (the SDK's methods and REST) and
// heard by the client it is meant for.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { next, person, startParlor } from './helpers.mjs';

let parlor;

before(async () => {
  parlor = await startParlor({ env: { PARLOR_LIMITS__PRESENCE_GRACE_MS: '200' } });
});
after(() => parlor.stop());

test('every event kind arrives, typed by name', async () => {
  const alice = await person(parlor.url, 'alice');
  const bob = await person(parlor.url, 'bob');
  const a = alice.client();
  const b = bob.client();
  const connected = next(a, 'connected');
  await a.connect();
  assert.equal((await connected).user_id, alice.user.id);
  const dm = await b.api.conversationsOpenDirect({ body: { user_id: alice.user.id } });

  // presence: Bob comes online (he shares a conversation with Alice now).
  const online = next(a, 'presence', (f) => f.user_id === bob.user.id && f.is_online);
  await b.connect();
  await online;

  // message (through Bob's outbox), and Bob's 'sent'
  const message = next(a, 'message', (f) => f.content === 'hello Alice');
  const sent = next(b, 'sent');
  await b.send(dm.id, 'hello Alice');
  const frame = await message;
  assert.equal(frame.sender_id, bob.user.id);
  assert.equal((await sent).message.id, frame.message_id);

  // ack: a message sent over the socket itself
  const ack = next(b, 'ack');
  assert.ok(b.sendFrame({ type: 'chat_message', conversation_id: dm.id, content: 'over the socket', client_id: 'socket-1' }));
  assert.equal((await ack).client_id, 'socket-1');

  // delivered: Alice's device has Bob's messages
  await next(b, 'delivered', (f) => f.user_id === alice.user.id && f.up_to_seq >= frame.message_seq);

  // typing
  const typing = next(a, 'typing');
  assert.ok(b.typing(dm.id, true));
  assert.deepEqual([(await typing).user_id, (await typing).is_typing], [bob.user.id, true]);

  // read
  const read = next(b, 'read', (f) => f.user_id === alice.user.id);
  assert.ok(a.markRead(dm.id));
  assert.ok((await read).up_to_seq >= frame.message_seq);

  // message_updated, reaction, message_deleted
  const updated = next(a, 'message_updated');
  await b.api.messagesEdit(frame.message_id, { body: { content: 'hello again' } });
  assert.equal((await updated).content, 'hello again');
  const reaction = next(b, 'reaction');
  await a.api.messagesReact(frame.message_id, { body: { emoji: '👍' } });
  assert.deepEqual((await reaction).reactions.map((r) => r.emoji), ['👍']);
  const deleted = next(a, 'message_deleted');
  await b.api.messagesDelete(frame.message_id);
  assert.equal((await deleted).message_id, frame.message_id);

  // notification (added to a room) and conversation_updated (the room renamed)
  const notification = next(a, 'notification', (f) => f.notification.type === 'room_added');
  const room = await b.api.roomsCreate({ body: { title: 'Plans', members: [alice.user.id] } });
  assert.equal((await notification).notification.conversation_id, room.id);
  const renamed = next(a, 'conversation_updated');
  await b.api.roomsUpdate(room.id, { body: { title: 'Better plans' } });
  assert.equal((await renamed).title, 'Better plans');

  // error: a frame the server refuses, and the connection stays up
  const error = next(a, 'error');
  a.sendFrame({ type: 'chat_message', content: 'to no conversation' });
  assert.equal((await error).code, 'conversation_required');
  assert.equal(a.state, 'online');

  // presence: Bob leaves
  const offline = next(a, 'presence', (f) => f.user_id === bob.user.id && !f.is_online);
  await b.close();
  await offline;
  await alice.closeAll();
  await bob.closeAll();
});

test('REST errors are ApiErrors with the server\'s code; every operation is a method', async () => {
  const alice = await person(parlor.url, 'alice');
  const client = alice.client();
  await assert.rejects(client.api.conversationsGetOne(424242), (error) => error.name === 'ApiError' && error.status === 404 && error.code === 'not_found');
  const me = await client.api.usersMe();
  assert.equal(me.id, alice.user.id);
  const document = await (await fetch(`${parlor.url}/api/openapi.json`)).json();
  const operations = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.operationId).filter(Boolean));
  const camel = (id) => id.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
  assert.deepEqual(operations.map(camel).filter((name) => typeof client.api[name] !== 'function'), []);
  await alice.closeAll();
});

test('a client refused its credentials closes and says why', async () => {
  const client = (await person(parlor.url, 'carol')).client({ getToken: async () => 'not-a-token' });
  await assert.rejects(client.api.usersMe(), (error) => error.status === 401);
  const closed = next(client, 'state', (s) => s.state === 'closed');
  client.namespace = 'carol'; // known already: connect() goes straight to the socket's ticket
  await assert.rejects(client.connect(), /connection closed: signed-out/);
  assert.equal((await closed).detail, 'signed-out');
});
