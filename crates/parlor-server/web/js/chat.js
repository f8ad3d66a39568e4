// The chat window: header with presence or typing, the message log (history loads as you
// scroll up), read marking while the conversation is on screen, and the composer.

import { icon } from './icons.js';
import { post } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, relativeTime, dayLabel, announce } from './util.js';
import { renderMessage, renderPending, MessageMenu, tickState } from './message.js';
import { Composer } from './composer.js';
import { conversationInfoDialog } from './dialogs.js';

export class ChatView {
  constructor({ send }) {
    this.send = send;
    this.id = null;
    this.focusSeq = null;
    this.stickToBottom = true;
    this.menu = new MessageMenu({ onReply: (m) => this.composer.replyTo(m), onEdit: (m) => this.composer.edit(m) });
    this.head = el('header', { class: 'chat-head' });
    this.sentinel = el('div', { class: 'sentinel', 'aria-hidden': 'true' });
    this.log = el('div', { class: 'messages', role: 'log', 'aria-live': 'off', 'aria-label': 'Messages', tabindex: '0' });
    this.scroller = el('div', { class: 'message-scroll', onscroll: () => this.onScroll() }, this.sentinel, this.log);
    this.typing = el('div', { class: 'typing', 'aria-live': 'polite' });
    this.composer = new Composer({ send: this.send, chat: this });
    this.pane = el('section', { class: 'chat-pane', hidden: true }, this.head, this.scroller, this.typing, this.composer.node);
    this.empty = el('div', { class: 'chat-empty' }, el('img', { src: '/app/icon.svg', alt: '', width: 64, height: 64 }),
      el('p', {}, 'Pick a conversation, or start a new one with the pencil.'));
    this.node = el('main', { class: 'chat', 'aria-label': 'Chat' }, this.empty, this.pane);
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && this.id) this.loadOlder();
    }, { root: this.scroller, rootMargin: '200px 0px 0px 0px' }).observe(this.sentinel);
    store.addEventListener('change', (e) => this.onChange(e.detail));
    document.addEventListener('visibilitychange', () => { this.sendFocus(); this.markRead(); });
    setInterval(() => this.id && this.renderHead(), 30000);
  }

  async open(id, focusSeq = null) {
    if (id && !store.conversations.has(id)) {
      try { await store.fetchConversation(id); } catch { location.hash = ''; return; }
    }
    const changed = id !== this.id;
    this.id = id;
    store.activeId = id;
    this.focusSeq = focusSeq;
    this.pane.hidden = !id;
    this.empty.hidden = Boolean(id);
    this.sendFocus();
    if (!id) return;
    if (changed) {
      this.stickToBottom = true;
      this.composer.reset();
    }
    this.renderHead();
    this.renderTyping();
    const h = store.historyOf(id);
    if (!h.loaded) await store.loadHistory(id).catch(() => {});
    if (focusSeq) await this.loadUntil(focusSeq);
    this.renderMessages();
    if (changed && !focusSeq) this.composer.focus();
    this.markRead();
  }

  onReconnected() {
    // Focus is per connection: a new socket starts without it.
    this.sendFocus();
    this.markRead();
  }

  sendFocus() {
    this.send({ type: 'focus', conversation_id: document.hidden ? null : this.id });
  }

  onChange({ what, id }) {
    if (!this.id) return;
    if (what === 'messages' && id === this.id) { this.renderMessages(); this.markRead(); }
    if (what === 'history' && id === this.id) this.renderMessages();
    if (what === 'receipts' && id === this.id) this.renderMessages();
    if (what === 'typing' && id === this.id) this.renderTyping();
    if ((what === 'conversation' && id === this.id) || what === 'presence') this.renderHead();
  }

  conversation() {
    return store.conversations.get(this.id);
  }

  renderHead() {
    const c = this.conversation();
    if (!c) return;
    const peer = store.peer(c);
    let status = '';
    if (peer) {
      const presence = store.presence.get(peer.id);
      status = presence?.is_online ? 'Online' : presence?.last_seen ? `Last seen ${relativeTime(presence.last_seen)}` : '';
    } else {
      status = `${c.members.length} members`;
    }
    if (c.archived) status = `Archived · ${status}`;
    clear(this.head).append(
      el('a', { class: 'icon-btn back', href: '#', 'aria-label': 'Back to conversations' }, icon('back')),
      avatar(peer || { id: c.id, name: store.title(c), avatar: c.avatar }, { size: 40, online: peer ? store.isOnline(peer.id) : null }),
      el('div', { class: 'chat-title' }, el('h2', {}, store.title(c)), el('p', { class: 'chat-status' }, status)),
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Conversation details', title: 'Details', onclick: () => conversationInfoDialog(c) }, icon('info')));
    this.composer.setDisabled(c.archived || c.is_member === false, c.is_member === false ? 'You are no longer a member of this conversation.' : 'This conversation is archived.');
  }

  renderTyping() {
    const names = store.typistsOf(this.id);
    this.typing.textContent = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
    this.typing.classList.toggle('is-active', names.length > 0);
  }

  /**
   * Renders the log by key: a message whose shown state did not change keeps its node, so focus
   * stays where it was, images do not reload, and only real additions are announced.
   */
  renderMessages() {
    const c = this.conversation();
    if (!c) return;
    if (this.renderedFor !== this.id) {
      this.nodes = new Map();
      clear(this.log);
      this.renderedFor = this.id;
      this.lastAnnounced = null;
    }
    const h = store.historyOf(this.id);
    const before = { height: this.scroller.scrollHeight, top: this.scroller.scrollTop };
    const wanted = [];
    const keep = (key, signature, build) => {
      const known = this.nodes.get(key);
      const node = known && known.signature === signature ? known.node : build();
      if (known && known.node !== node) known.node.replaceWith(node);
      this.nodes.set(key, { signature, node });
      wanted.push(node);
    };
    if (h.loaded && !h.hasMore) keep('start', '', () => el('p', { class: 'history-start' }, 'This is the beginning of the conversation.'));
    let day = null;
    let previous = null;
    for (const message of h.items) {
      const label = dayLabel(message.created_at);
      if (label !== day) {
        keep(`day:${label}`, label, () => el('div', { class: 'day', role: 'separator' }, el('span', {}, label)));
        day = label;
        previous = null;
      }
      const grouped = Boolean(previous && previous.sender_id === message.sender_id && previous.kind !== 'system' && Date.parse(message.created_at) - Date.parse(previous.created_at) < 5 * 60000);
      const focus = message.seq === this.focusSeq;
      const ticks = message.sender_id === store.me.id ? tickState(c, message.seq) : '';
      const signature = JSON.stringify([message.content, message.deleted, message.edited_at, message.reactions, message.attachment?.expired, grouped, focus, ticks, c.kind]);
      keep(`m:${message.seq}`, signature, () => renderMessage(message, { conversation: c, grouped, menu: this.menu, focus }));
      previous = message;
    }
    for (const entry of store.pendingOf(this.id)) {
      keep(`p:${entry.client_id}`, `${entry.status}:${entry.error || ''}`, () => renderPending(entry));
    }
    const wantedSet = new Set(wanted);
    for (const [key, { node }] of this.nodes) {
      if (!wantedSet.has(node)) {
        node.remove();
        this.nodes.delete(key);
      }
    }
    // Put the nodes in order, moving only those out of place.
    let cursor = this.log.firstChild;
    for (const node of wanted) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.log.insertBefore(node, cursor);
    }
    if (this.menu.anchor && !this.menu.anchor.isConnected) this.menu.close();
    if (this.focusSeq) {
      this.log.querySelector(`[data-seq="${this.focusSeq}"]`)?.scrollIntoView({ block: 'center' });
      this.focusSeq = null;
      this.stickToBottom = false;
    } else if (this.stickToBottom) {
      this.scrollToBottom();
    } else if (this.loadingOlder) {
      // Older messages went in above: keep what the reader was looking at in place.
      this.scroller.scrollTop = before.top + (this.scroller.scrollHeight - before.height);
    }
    const last = h.items[h.items.length - 1];
    if (last && last.id !== this.lastAnnounced) {
      // The first render of a conversation is not news; later arrivals from others are.
      if (this.lastAnnounced !== null && last.sender_id !== store.me.id && !this.loadingOlder) {
        announce(`${last.sender_name}: ${last.preview || last.content}`);
      }
      this.lastAnnounced = last.id;
    }
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  onScroll() {
    const distance = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight;
    this.stickToBottom = distance < 80;
    if (this.stickToBottom) this.markRead();
  }

  async loadOlder() {
    const h = store.historyOf(this.id);
    if (!h.loaded || !h.hasMore || this.loadingOlder) return;
    this.loadingOlder = true;
    this.stickToBottom = false;
    try { await store.loadHistory(this.id, true); } catch { /* retried on the next scroll */ }
    this.loadingOlder = false;
  }

  /** Loads older pages until message `seq` is in view (a search hit), at most 20 pages. */
  async loadUntil(seq) {
    const h = store.historyOf(this.id);
    for (let i = 0; i < 20 && h.hasMore && !(h.items[0]?.seq <= seq); i += 1) await store.loadHistory(this.id, true).catch(() => {});
  }

  /** Marks the conversation read while it is on screen, scrolled to the end, and the tab visible. */
  markRead() {
    const c = this.conversation();
    if (!c || document.hidden || !this.stickToBottom || c.is_member === false) return;
    const newest = c.last_message_seq;
    if (newest <= c.last_read_seq || this.readSent === `${c.id}:${newest}`) return;
    this.readSent = `${c.id}:${newest}`;
    if (!this.send({ type: 'message_read', conversation_id: c.id })) {
      post(`/api/chat/conversations/${c.id}/mark_read/`).catch(() => { this.readSent = null; });
    }
    c.last_read_seq = newest;
    c.unread_count = 0;
    store.emit('conversations');
  }
}
