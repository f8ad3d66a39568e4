// The outbox: messages written but not yet stored by the server. Each entry gets its client_id
// when it is written and keeps it in the store (a reload, a crash or a new process keeps it), and
// entries are sent in order, one at a time, over REST while the connection is up: a retry of one
// the server already stored answers with the original, so each is stored exactly once. A refused
// one (4xx) stays as 'failed' until retried or discarded.
//
// Events: 'change' {conversationId} when entries change, 'sent' {entry, message} when the server
// stored one, 'failed' {entry, error} when it refused one.

import { ApiError } from './rest.js';
import { Emitter } from './emitter.js';

export function newClientId() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  // crypto.randomUUID needs a secure context; the id only has to be unique.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Outbox extends Emitter {
  constructor({ rest, store, retryMs = 3000 }) {
    super();
    this.rest = rest;
    this.store = store;
    this.retryMs = retryMs;
    this.key = null;
    this.entries = [];
    this.online = false;
    this.flushing = false;
    this.retryTimer = null;
    this.removed = new Set(); // client_ids taken out here, so a save never brings them back
  }

  /** Loads the outbox kept under `key` (one per user: each user of a browser has their own). */
  async open(key) {
    this.key = key;
    this.entries = await this.stored();
    this.emit('change', { conversationId: null });
  }

  async stored() {
    const value = this.key ? await this.store.get(this.key) : undefined;
    return Array.isArray(value) ? value : [];
  }

  /** Saves, keeping what other tabs of the same user queued meanwhile. */
  async save() {
    if (!this.key) return;
    const mine = new Set(this.entries.map((e) => e.client_id));
    const others = (await this.stored()).filter((e) => !mine.has(e.client_id) && !this.removed.has(e.client_id));
    await this.store.set(this.key, [...others, ...this.entries]);
  }

  /**
   * Queues a message: `{conversation_id, content, reply_to?}` plus any fields of the app's own
   * (kept with the entry). Resolves once the entry is in the store; it goes now if the connection
   * is up, else when it comes back.
   */
  async add(fields) {
    const entry = {
      ...fields,
      client_id: fields.client_id || newClientId(),
      reply_to: fields.reply_to ?? null,
      created_at: new Date().toISOString(),
      status: 'pending',
      error: null,
    };
    this.entries.push(entry);
    await this.save();
    this.emit('change', { conversationId: entry.conversation_id });
    this.flush();
    return entry;
  }

  pending(conversationId) {
    return conversationId == null ? [...this.entries] : this.entries.filter((e) => e.conversation_id === conversationId);
  }

  /** The server has this message (an answer, or its own live frame): take it out. */
  async remove(clientId) {
    this.removed.add(clientId);
    const entry = this.entries.find((e) => e.client_id === clientId);
    if (!entry) return;
    this.entries = this.entries.filter((e) => e !== entry);
    await this.save();
    this.emit('change', { conversationId: entry.conversation_id });
  }

  async retry(clientId) {
    const entry = this.entries.find((e) => e.client_id === clientId);
    if (!entry) return;
    entry.status = 'pending';
    entry.error = null;
    await this.save();
    this.emit('change', { conversationId: entry.conversation_id });
    this.flush();
  }

  discard(clientId) {
    return this.remove(clientId);
  }

  setOnline(online) {
    this.online = online;
    if (online) this.flush();
  }

  stop() {
    this.online = false;
    clearTimeout(this.retryTimer);
  }

  async flush() {
    if (this.flushing || !this.online) return;
    this.flushing = true;
    try {
      for (;;) {
        const entry = this.entries.find((e) => e.status === 'pending');
        if (!entry || !this.online) break;
        try {
          const message = await this.rest.request('POST', `/api/chat/conversations/${entry.conversation_id}/messages/`, {
            body: { content: entry.content, client_id: entry.client_id, reply_to: entry.reply_to ?? undefined },
          });
          await this.remove(entry.client_id);
          this.emit('sent', { entry, message });
        } catch (error) {
          const refused = error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 408 && error.status !== 429;
          if (refused) {
            entry.status = 'failed';
            entry.error = error.message;
            await this.save();
            this.emit('change', { conversationId: entry.conversation_id });
            this.emit('failed', { entry, error });
          } else {
            // Network or server trouble: keep it queued and try again shortly.
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => this.flush(), error?.retryAfter ? error.retryAfter * 1000 : this.retryMs);
            break;
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
