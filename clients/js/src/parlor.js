// parlor's client SDK: createClient({url, getToken}) gives a client that keeps one WebSocket
// (one-time tickets, backoff, resume from cursors kept in a store), an outbox that stores each
// message exactly once across reloads and reconnects, typed events, and a method for every REST
// endpoint (`client.api`, generated from the OpenAPI document). No dependencies; browsers and
// Node >= 20 (pass a WebSocket implementation there).

import { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { Outbox } from './outbox.js';
import { Rest } from './rest.js';
import { bindEndpoints } from './endpoints.js';
import { memoryStore } from './stores.js';

export { ApiError, expiresIn } from './rest.js';
export { memoryStore, localStorageStore, indexedDBStore } from './stores.js';
// Connection and Outbox are the client's parts, built on its internal REST layer: not exported,
// so every export is declared in parlor.d.ts.
export { newClientId } from './outbox.js';
export { endpoints } from './endpoints.js';
export { passwordAuth } from './password.js';

/** Server frame type -> the client's event name. */
export const EVENTS = {
  chat_message: 'message',
  message_edited: 'message_updated',
  message_deleted: 'message_deleted',
  reaction_updated: 'reaction',
  messages_read: 'read',
  messages_delivered: 'delivered',
  conversation_updated: 'conversation_updated',
  typing_indicator: 'typing',
  user_status_change: 'presence',
  notification: 'notification',
  ack: 'ack',
  resync_required: 'resync_required',
  resumed: 'resumed',
  connection_established: 'connected',
  error: 'error',
};

const CURSOR_SAVE_MS = 250;

export function createClient(options) {
  return new ParlorClient(options);
}

export class ParlorClient extends Emitter {
  /**
   * @param options.url parlor's base URL (in a browser, the page's origin by default)
   * @param options.getToken async ({refresh}) => access token: the platform's token (host-app
   *   mode) or parlor's own session (`passwordAuth`); `refresh: true` after one was refused
   * @param options.store where cursors and the outbox are kept (memoryStore() by default)
   * @param options.cursors optional: the app keeps cursors itself; called for every resume
   */
  constructor({ url = globalThis.location?.origin, getToken, store = memoryStore(), WebSocket = globalThis.WebSocket,
    fetch = globalThis.fetch?.bind(globalThis), cursors = null, namespace = null, retryMs, backoff } = {}) {
    super();
    if (!url) throw new TypeError('createClient: `url` is required outside a browser');
    if (typeof getToken !== 'function') throw new TypeError('createClient: `getToken` must be a function');
    if (!fetch) throw new TypeError('createClient: no fetch here; pass `fetch`');
    this.rest = new Rest({ url, getToken, fetch });
    this.store = store;
    this.namespace = namespace; // keeps each user's cursors and outbox apart in a shared store
    this.ownCursors = !cursors;
    this.cursorState = null; // {conversation_id: event seq}, loaded from the store
    this.cursorsOf = null; // the namespace cursorState was loaded for
    this.cursorTimer = null;
    this.api = bindEndpoints((method, path, init) => this.rest.request(method, path, init));
    this.outbox = new Outbox({ rest: this.rest, store, retryMs });
    this.outbox.on('sent', (detail) => this.emit('sent', detail));
    this.outbox.on('failed', (detail) => this.emit('failed', detail));
    this.outbox.on('change', (detail) => this.emit('outbox', detail));
    this.connection = new Connection({
      rest: this.rest,
      WebSocket,
      backoff,
      cursors: cursors ?? (() => this.resumeFrom()),
    });
    this.connection.on('state', (detail) => {
      this.outbox.setOnline(detail.state === 'online');
      this.emit('state', detail);
    });
    this.connection.on('frame', (frame) => this.onFrame(frame));
    this.ready = null;
  }

  /** The connection's state: 'connecting', 'online', 'offline' or 'closed'. */
  get state() {
    return this.connection.state;
  }

  /**
   * Opens the socket (and the outbox of the signed-in user). Resolves once it is resumed (or
   * closed by `close()`); rejects when the credentials are refused or the account is disabled.
   */
  connect() {
    this.ready ??= (async () => {
      await this.open();
      this.connection.start();
    })();
    return this.ready.then(() => this.state === 'online' ? undefined : new Promise((resolve, reject) => {
      const off = this.on('state', ({ state, detail }) => {
        if (state === 'online') { off(); resolve(); }
        if (state === 'closed' && detail === 'stopped') { off(); resolve(); }
        if (state === 'closed' && detail !== 'stopped') { off(); reject(new Error(`connection closed: ${detail}`)); }
      });
    }));
  }

  /** Loads this user's outbox and cursors (asks who is signed in unless `namespace` was given). */
  async open() {
    if (!this.namespace) this.namespace = String((await this.rest.request('GET', '/api/users/me/')).id);
    if (this.outbox.key !== `outbox.${this.namespace}`) await this.outbox.open(`outbox.${this.namespace}`);
    if (this.ownCursors && this.cursorsOf !== this.namespace) {
      const saved = await this.store.get(`cursors.${this.namespace}`);
      // Cursors set before the store was read (setCursor after a REST load) win over saved ones.
      this.cursorState = { ...(saved && typeof saved === 'object' ? saved : {}), ...this.cursorState };
      this.cursorsOf = this.namespace;
    }
  }

  async resumeFrom() {
    await this.open();
    return { ...this.cursorState };
  }

  /** The resume cursors this client keeps: {conversation_id: last event seq applied}. */
  cursors() {
    return { ...(this.cursorState ?? {}) };
  }

  /** Sets a conversation's cursor, e.g. to `last_event_seq` after loading it over REST. */
  setCursor(conversationId, seq) {
    if (!this.ownCursors) return;
    this.cursorState ??= {};
    this.cursorState[conversationId] = seq;
    this.saveCursorsSoon();
  }

  saveCursorsSoon() {
    if (this.cursorTimer || !this.namespace) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = null;
      this.store.set(`cursors.${this.namespace}`, this.cursors()).catch((error) => this.emit('store_error', error));
    }, CURSOR_SAVE_MS);
  }

  /** Writes the cursors now (before a page unloads, or in tests). */
  async flushCursors() {
    clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    if (this.namespace && this.cursorState) await this.store.set(`cursors.${this.namespace}`, this.cursors());
  }

  onFrame(frame) {
    if (this.ownCursors && frame.conversation_id != null) {
      if (frame.type === 'resync_required') {
        // Too far behind to replay: the app reloads the conversation over REST ('resync_required'
        // event); live events after latest_seq follow on this socket.
        this.setCursor(frame.conversation_id, frame.latest_seq);
      } else if (typeof frame.seq === 'number' && frame.type !== 'ack') {
        const cursor = this.cursorState?.[frame.conversation_id] ?? 0;
        if (frame.seq <= cursor) return; // applied before (a replay overlapping a REST load)
        this.setCursor(frame.conversation_id, frame.seq);
      }
    }
    // My own message, live: its outbox entry is stored (the REST answer may not have come yet).
    if (frame.type === 'chat_message' && frame.client_id && frame.sender_id === this.connection.userId) this.outbox.remove(frame.client_id);
    this.emit('frame', frame);
    const name = EVENTS[frame.type];
    if (name) this.emit(name, frame);
  }

  /**
   * Sends a message through the outbox: stored once however often the connection drops, even
   * across a reload (the entry and its client_id are in the store first). Resolves to the entry.
   */
  async send(conversationId, content, { replyTo = null, ...extra } = {}) {
    await this.open();
    return this.outbox.add({ ...extra, conversation_id: conversationId, content, reply_to: replyTo });
  }

  /** Says whether I am typing in a conversation (over the socket; false when offline). */
  typing(conversationId, isTyping = true) {
    return this.connection.send({ type: 'typing_indicator', conversation_id: conversationId, is_typing: isTyping });
  }

  /** Marks messages read (all of them without ids), over the socket; false when offline. */
  markRead(conversationId, messageIds = []) {
    return this.connection.send({ type: 'message_read', conversation_id: conversationId, message_ids: messageIds });
  }

  /** The conversation on screen (no notifications for it), or null. */
  focus(conversationId) {
    return this.connection.send({ type: 'focus', conversation_id: conversationId });
  }

  /** Any client frame (protocol §5.2); false when the socket is not online. */
  sendFrame(frame) {
    return this.connection.send(frame);
  }

  /** Any REST request, for what `api` does not cover (the server API with a key, say). */
  request(method, path, init) {
    return this.rest.request(method, path, init);
  }

  /** Closes the socket, stops the outbox, saves the cursors. */
  async close() {
    this.connection.stop();
    this.outbox.stop();
    this.ready = null;
    await this.flushCursors();
  }
}
