// The outbox: messages written but not yet stored by the server. Each entry has its own
// client_id, is kept in localStorage (a reload or a crash keeps it), and is sent in order, one at
// a time, over REST while the connection is up: a retry of one the server already stored answers
// with the original, so each is stored exactly once. A refused one (4xx) stays as "failed" until
// retried or discarded.
//
// Events: 'change' {conversationId} when entries change, 'sent' {message} when the server
// stored one, 'failed' {entry, error} when it refused one.

import { post, ApiError } from './api.js';
import { newId } from './util.js';

const RETRY_MS = 3000;

export class Outbox extends EventTarget {
  constructor() {
    super();
    this.entries = [];
    this.key = null;
    this.online = false;
    this.flushing = false;
    this.removed = new Set(); // client_ids this tab took out, so saving never brings them back
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Loads the outbox of one user (each user of this browser has their own). */
  open(userId) {
    this.key = `parlor.outbox.${userId}`;
    this.entries = this.stored();
  }

  stored() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || '[]');
    } catch {
      return []; // a corrupt entry is the same as none
    }
  }

  /** Saves, keeping what other tabs of the same user queued meanwhile. */
  save() {
    const mine = new Set(this.entries.map((e) => e.client_id));
    const others = this.stored().filter((e) => !mine.has(e.client_id) && !this.removed.has(e.client_id));
    localStorage.setItem(this.key, JSON.stringify([...others, ...this.entries]));
  }

  /** Queues a message; it goes now if the connection is up, else when it comes back. */
  add(conversationId, content, replyTo) {
    const entry = {
      client_id: newId(), conversation_id: conversationId, content, reply_to: replyTo?.id || null,
      reply_preview: replyTo ? { id: replyTo.id, sender_name: replyTo.sender_name, content: replyTo.content } : null,
      created_at: new Date().toISOString(), status: 'pending',
    };
    this.entries.push(entry);
    this.save();
    this.emit('change', { conversationId });
    this.flush();
    return entry;
  }

  pendingOf(conversationId) {
    return this.entries.filter((e) => e.conversation_id === conversationId);
  }

  /** The server has this message (an answer, or its own live frame): take it out. */
  remove(clientId) {
    this.removed.add(clientId);
    const entry = this.entries.find((e) => e.client_id === clientId);
    if (!entry) return;
    this.entries = this.entries.filter((e) => e !== entry);
    this.save();
    this.emit('change', { conversationId: entry.conversation_id });
  }

  retry(clientId) {
    const entry = this.entries.find((e) => e.client_id === clientId);
    if (!entry) return;
    entry.status = 'pending';
    entry.error = null;
    this.save();
    this.emit('change', { conversationId: entry.conversation_id });
    this.flush();
  }

  discard(clientId) {
    this.remove(clientId);
  }

  setOnline(online) {
    this.online = online;
    if (online) this.flush();
  }

  async flush() {
    if (this.flushing || !this.online) return;
    this.flushing = true;
    try {
      for (;;) {
        const entry = this.entries.find((e) => e.status === 'pending');
        if (!entry || !this.online) break;
        try {
          const message = await post(`/api/chat/conversations/${entry.conversation_id}/messages/`, {
            content: entry.content, client_id: entry.client_id, reply_to: entry.reply_to || undefined,
          });
          this.remove(entry.client_id);
          this.emit('sent', { message });
        } catch (error) {
          if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429) {
            entry.status = 'failed';
            entry.error = error.message;
            this.save();
            this.emit('change', { conversationId: entry.conversation_id });
            this.emit('failed', { entry, error });
          } else {
            // Network or server trouble: keep it queued and try again shortly.
            setTimeout(() => this.flush(), RETRY_MS);
            break;
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
