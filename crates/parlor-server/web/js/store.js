// Client state: the signed-in user, conversations, loaded history, presence, typing, the
// notification inbox and the outbox of messages not yet stored (the SDK's, /sdk/outbox.js). REST
// loads it; socket frames keep it current (applied by event seq, so nothing is applied twice);
// views listen for 'change' events naming what changed.

import { get, ApiError } from './api.js';

const TYPING_EXPIRES_MS = 8000;
// System messages after which the conversation itself is fetched again: its members, roles or retention changed.
const MEMBERSHIP_ACTIONS = new Set(['room_created', 'members_added', 'member_removed', 'member_left', 'role_changed', 'retention_changed']);

/** A live `chat_message` frame in the shape of a REST message. */
export function messageFromFrame(frame) {
  const { type, seq, message_id, message_seq, ...rest } = frame;
  return { ...rest, id: message_id, seq: message_seq };
}

/** Every conversation, page by page: the client resumes all of them, so it needs them all. */
async function allConversations() {
  const results = [];
  let after = null;
  do {
    const page = await get(`/api/chat/conversations/?limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    results.push(...page.results);
    after = page.has_more ? page.next_cursor : null;
  } while (after);
  return { results };
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.conversations = new Map();
    this.history = new Map(); // conversation id -> {items (by seq), hasMore, cursor, loading}
    this.presence = new Map(); // user id -> {is_online, last_seen}
    this.typing = new Map(); // conversation id -> Map(user id -> {name, timer})
    this.notifications = { items: [], unread: 0, loaded: false };
    this.limits = { max_upload_bytes: 10485760, max_message_chars: 4000, allowed_types: [] };
    this.blocked = new Set(); // ids of users I blocked
    this.connections = []; // my connections and requests, both directions
    this.online = false;
    this.activeId = null;
    this.fetching = new Map(); // conversation id -> frames waiting for its first fetch
    this.outbox = null; // the SDK client's, from load()
  }

  emit(what, detail = {}) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, ...detail } }));
  }

  /** Loads the signed-in user's state; `client` is the SDK's (its outbox is this user's). */
  async load(me, client) {
    this.me = me;
    if (this.outbox !== client.outbox) {
      this.outbox = client.outbox;
      this.outbox.on('change', ({ conversationId }) => conversationId != null && this.emit('messages', { id: conversationId }));
      this.outbox.on('sent', ({ message }) => this.addMessage(message));
      this.outbox.on('failed', ({ error }) => this.emit('error', { error }));
    }
    await client.open();
    const [list, limits, presence, unread, blocks] = await Promise.all([
      allConversations(),
      get('/api/chat/limits/').catch(() => this.limits),
      get('/api/chat/presence/').catch(() => ({ results: [] })),
      get('/api/notifications/unread_count/').catch(() => ({ unread_count: 0 })),
      get('/api/chat/blocks/').catch(() => ({ results: [] })),
    ]);
    this.limits = limits;
    this.blocked = new Set(blocks.results.map((u) => u.id));
    this.loadConnections();
    for (const conversation of list.results) this.conversations.set(conversation.id, conversation);
    for (const status of presence.results) this.presence.set(status.user_id, status);
    this.notifications.unread = unread.unread_count;
    this.emit('conversations');
    this.emit('notifications');
  }

  /** Asks again for what an offline start shows, so the service worker keeps a copy of it. */
  warmOfflineCopy() {
    const pages = [...this.history.keys()].map((id) => get(`/api/chat/conversations/${id}/messages/?limit=50`));
    return Promise.all([get('/api/users/me/'), allConversations(), get('/api/chat/limits/'), get('/api/chat/blocks/'),
      get('/api/connections/'), get('/api/notifications/unread_count/'), ...pages]).catch(() => {});
  }

  /** My connections and requests (for profiles and the notifications panel). */
  async loadConnections() {
    try {
      this.connections = (await get('/api/connections/')).results;
      this.emit('connections');
    } catch { /* shown as unknown; asked again when a profile opens */ }
  }

  connectionWith(userId) {
    return this.connections.find((c) => c.user.id === userId) || null;
  }

  setBlocked(userId, blocked) {
    if (blocked) this.blocked.add(userId);
    else this.blocked.delete(userId);
    this.emit('presence', { userId });
    this.emit('conversations');
  }

  /** Conversations, most recent activity first. */
  sortedConversations() {
    return [...this.conversations.values()].sort((a, b) => Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at));
  }

  /** The other person of a direct conversation, or null. */
  peer(conversation) {
    if (conversation.kind !== 'direct') return null;
    const other = conversation.members.find((m) => m.id !== this.me.id);
    return other || null;
  }

  title(conversation) {
    const peer = this.peer(conversation);
    return conversation.title || conversation.context?.title || peer?.name || 'Conversation';
  }

  totalUnread() {
    let total = 0;
    for (const c of this.conversations.values()) if (!c.muted) total += Math.max(0, c.unread_count);
    return total;
  }

  /** Event-seq cursors for `resume`. */
  cursors() {
    const cursors = {};
    for (const c of this.conversations.values()) if (c.is_member !== false) cursors[c.id] = c.last_event_seq;
    return cursors;
  }

  async fetchConversation(id) {
    let conversation;
    try {
      conversation = await get(`/api/chat/conversations/${id}/`);
    } catch (error) {
      // Gone for me (or never mine): it leaves the list rather than linger half-known.
      if (error instanceof ApiError && error.status === 404) this.forget(id);
      throw error;
    }
    const merged = this.merge(conversation);
    this.emit('conversations');
    this.emit('conversation', { id });
    return merged;
  }

  forget(id) {
    if (!this.conversations.delete(id)) return;
    this.history.delete(id);
    this.emit('conversations');
    this.emit('conversation', { id });
  }

  upsertConversation(conversation) {
    this.merge(conversation);
    this.emit('conversations');
  }

  /**
   * A conversation from REST into the state. A known conversation keeps its event cursor: the
   * cursor says which frames were applied, and the REST answer may be newer than frames not yet
   * seen (resume must still replay them; applying a frame twice changes nothing).
   */
  merge(conversation) {
    const known = this.conversations.get(conversation.id);
    const merged = known ? { ...conversation, last_event_seq: known.last_event_seq } : conversation;
    this.conversations.set(conversation.id, merged);
    this.learnPresence(merged);
    return merged;
  }

  /**
   * Presence changes are pushed as they happen; someone already online when a conversation
   * with them begins is asked about once.
   */
  learnPresence(conversation) {
    for (const member of conversation.members) {
      if (member.id === this.me.id || this.presence.has(member.id)) continue;
      this.presence.set(member.id, { user_id: member.id, is_online: false });
      get(`/api/chat/users/${member.id}/status/`).then((status) => {
        this.presence.set(member.id, status);
        this.emit('presence', { userId: member.id });
      }, () => {});
    }
  }

  historyOf(id) {
    if (!this.history.has(id)) this.history.set(id, { items: [], hasMore: true, cursor: null, loaded: false, loading: null });
    return this.history.get(id);
  }

  /** Loads the newest page (first open) or the next older one. */
  loadHistory(id, older = false) {
    const h = this.historyOf(id);
    if (h.loading) return h.loading;
    if (older && !h.hasMore) return Promise.resolve();
    const before = older && h.cursor ? `&before=${h.cursor}` : '';
    h.loading = get(`/api/chat/conversations/${id}/messages/?limit=50${before}`)
      .then((page) => {
        for (const message of page.results) this.insertMessage(h, message);
        h.hasMore = page.has_more;
        h.cursor = page.next_cursor;
        h.loaded = true;
        this.emit('history', { id, older });
      })
      .finally(() => { h.loading = null; });
    return h.loading;
  }

  insertMessage(h, message) {
    const index = h.items.findIndex((m) => m.seq >= message.seq);
    if (index === -1) h.items.push(message);
    else if (h.items[index].seq === message.seq) h.items[index] = { ...h.items[index], ...message };
    else h.items.splice(index, 0, message);
  }

  /** A stored message (from a frame or a REST answer) into history and the conversation list. */
  addMessage(message) {
    const conversation = this.conversations.get(message.conversation_id);
    if (!conversation) return;
    const h = this.history.get(message.conversation_id);
    if (h) this.insertMessage(h, message);
    if (message.seq >= conversation.last_message_seq) {
      conversation.last_message = message;
      conversation.last_message_seq = message.seq;
      conversation.last_activity_at = message.created_at;
    }
    if (message.sender_id === this.me.id) conversation.last_read_seq = Math.max(conversation.last_read_seq, message.seq);
    conversation.unread_count = Math.max(0, conversation.last_message_seq - conversation.last_read_seq);
    if (message.client_id && message.sender_id === this.me.id) this.outbox.remove(message.client_id);
    this.emit('conversations');
    this.emit('messages', { id: message.conversation_id, message });
  }

  patchMessage(conversationId, messageId, patch) {
    const h = this.history.get(conversationId);
    const item = h?.items.find((m) => m.id === messageId);
    if (item) Object.assign(item, patch);
    const conversation = this.conversations.get(conversationId);
    if (conversation?.last_message?.id === messageId) {
      Object.assign(conversation.last_message, patch);
      this.emit('conversations');
    }
    this.emit('messages', { id: conversationId });
  }

  /** Applies a socket frame. Logged frames carry an event seq and are applied once, in order. */
  applyFrame(frame) {
    const id = frame.conversation_id;
    const conversation = id ? this.conversations.get(id) : null;
    if (id && frame.seq !== undefined) {
      if (!conversation) {
        this.waitForConversation(id, frame);
        return;
      }
      if (frame.seq <= conversation.last_event_seq) return;
      conversation.last_event_seq = frame.seq;
    }
    switch (frame.type) {
      case 'chat_message': {
        const message = messageFromFrame(frame);
        this.addMessage(message);
        this.clearTyping(id, message.sender_id);
        if (message.kind === 'system' && MEMBERSHIP_ACTIONS.has(message.system?.action)) this.fetchConversation(id).catch(() => {});
        if (message.sender_id !== this.me.id) this.emit('incoming', { message });
        break;
      }
      case 'messages_read':
      case 'messages_delivered': {
        const field = frame.type === 'messages_read' ? 'last_read_seq' : 'delivered_seq';
        const member = conversation.members.find((m) => m.id === frame.user_id);
        if (member) member[field] = Math.max(member[field] || 0, frame.up_to_seq);
        if (frame.type === 'messages_read' && frame.user_id === this.me.id) {
          conversation.last_read_seq = Math.max(conversation.last_read_seq, frame.up_to_seq);
          conversation.unread_count = Math.max(0, conversation.last_message_seq - conversation.last_read_seq);
          this.refreshNotificationCount();
          this.emit('conversations');
        }
        this.emit('receipts', { id });
        break;
      }
      case 'message_edited':
        this.patchMessage(id, frame.message_id, { content: frame.content, edited_at: frame.edited_at, preview: frame.content });
        break;
      case 'message_deleted':
        this.patchMessage(id, frame.message_id, { content: '', deleted: true, attachment: null, reactions: [], preview: '' });
        break;
      case 'reaction_updated':
        this.patchMessage(id, frame.message_id, { reactions: frame.reactions });
        break;
      case 'conversation_updated':
        Object.assign(conversation, { title: frame.title, avatar: frame.avatar, archived: frame.archived });
        this.emit('conversations');
        this.emit('conversation', { id });
        break;
      case 'typing_indicator':
        if (frame.is_typing) this.setTyping(id, frame.user_id, frame.user_name);
        else this.clearTyping(id, frame.user_id);
        break;
      case 'user_status_change':
        this.presence.set(frame.user_id, frame);
        this.emit('presence', { userId: frame.user_id });
        break;
      case 'notification':
        this.notifications.unread = frame.unread_count;
        this.notifications.items = [frame.notification, ...this.notifications.items.filter((n) => n.id !== frame.notification.id)];
        this.emit('notifications');
        this.emit('notification', { notification: frame.notification });
        break;
      case 'resync_required':
        this.resync(id, frame.latest_seq);
        break;
      default:
        break; // Unknown frame types are ignored (protocol §9).
    }
  }

  /**
   * A frame of a conversation this client has not loaded (a new DM, a room it was added to):
   * one fetch per conversation, and the frames that arrive meanwhile are applied after it, those
   * the fetched state does not include yet.
   */
  waitForConversation(id, frame) {
    const waiting = this.fetching.get(id);
    if (waiting) {
      waiting.push(frame);
      return;
    }
    const frames = [frame];
    this.fetching.set(id, frames);
    this.fetchConversation(id)
      .then(() => { for (const f of frames) this.applyFrame(f); })
      .catch(() => {})
      .finally(() => this.fetching.delete(id));
  }

  async resync(id, latestSeq) {
    this.history.delete(id);
    const conversation = await this.fetchConversation(id).catch(() => null);
    if (conversation) conversation.last_event_seq = Math.max(conversation.last_event_seq, latestSeq);
    if (this.activeId === id) await this.loadHistory(id).catch(() => {});
  }

  setTyping(conversationId, userId, name) {
    if (!this.typing.has(conversationId)) this.typing.set(conversationId, new Map());
    const typists = this.typing.get(conversationId);
    clearTimeout(typists.get(userId)?.timer);
    // The server has no typing timeout: a client that vanishes mid-word must not type forever.
    const timer = setTimeout(() => this.clearTyping(conversationId, userId), TYPING_EXPIRES_MS);
    typists.set(userId, { name, timer });
    this.emit('typing', { id: conversationId });
  }

  clearTyping(conversationId, userId) {
    const typists = this.typing.get(conversationId);
    if (!typists?.has(userId)) return;
    clearTimeout(typists.get(userId).timer);
    typists.delete(userId);
    this.emit('typing', { id: conversationId });
  }

  typistsOf(conversationId) {
    return [...(this.typing.get(conversationId)?.values() || [])].map((t) => t.name);
  }

  /** Whether someone is online, as far as this client can know: nothing while it is offline
   * itself (what it last heard may no longer be true). */
  isOnline(userId) {
    return this.online && Boolean(this.presence.get(userId)?.is_online);
  }

  async refreshNotificationCount() {
    const { unread_count: unread } = await get('/api/notifications/unread_count/').catch(() => ({ unread_count: this.notifications.unread }));
    this.notifications.unread = unread;
    this.emit('notifications');
  }

  // ---- the outbox (the SDK's): written messages not yet stored ------------------------------

  send(conversationId, content, replyTo) {
    this.outbox.add({
      conversation_id: conversationId, content, reply_to: replyTo?.id || null,
      reply_preview: replyTo ? { id: replyTo.id, sender_name: replyTo.sender_name, content: replyTo.content } : null,
    });
  }

  pendingOf(conversationId) {
    return this.outbox?.pending(conversationId) ?? [];
  }

  retry(clientId) {
    this.outbox.retry(clientId);
  }

  discard(clientId) {
    this.outbox.discard(clientId);
  }

  setOnline(online) {
    const changed = online !== this.online;
    this.online = online;
    if (changed) this.emit('presence', {});
  }
}

export const store = new Store();
