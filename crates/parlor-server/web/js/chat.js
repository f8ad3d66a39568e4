// The chat window: the header (who, presence or membership, details), the message list (history
// loads as you scroll up; a "new messages" divider; a jump-to-latest button counting what came
// in while you read older messages; reply quotes that jump to the original), read marking while
// the conversation is on screen, and the composer. The list is one Tab stop: arrow keys move
// between messages, Enter opens a message's menu, Tab enters its buttons and links.

import { icon } from './icons.js';
import { get, post } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, relativeTime, dayLabel, announce, fill } from './util.js';
import { renderMessage, renderPending, tickState } from './message.js';
import { MessageMenu } from './message-menu.js';
import { Composer } from './composer.js';
import { conversationDetails } from './details.js';
import { openProfile } from './profile.js';

const CONTROLS = 'a, button, input, audio, video, [role="slider"]';

export class ChatView {
  constructor({ send, closeButton, calls }) {
    this.send = send;
    this.calls = calls; // voice and video calls (call.js)
    this.closeButton = closeButton; // embedded mode: () => a "Close chat" button
    this.id = null;
    this.focusSeq = null;
    this.stickToBottom = true;
    this.unseen = 0;
    this.menu = new MessageMenu({ onReply: (m) => this.composer.replyTo(m), onEdit: (m) => this.composer.edit(m) });
    this.head = el('header', { class: 'chat-head' });
    this.sentinel = el('div', { class: 'sentinel', 'aria-hidden': 'true' });
    this.log = el('ol', { class: 'messages', 'aria-label': 'Messages', onkeydown: (e) => this.onKeys(e) });
    this.log.addEventListener('focusin', (e) => this.onFocusIn(e));
    this.log.addEventListener('focusout', (e) => this.onFocusOut(e));
    this.scroller = el('div', { class: 'message-scroll', onscroll: () => this.onScroll() }, this.sentinel, this.log);
    this.latest = el('button', { class: 'jump-latest', type: 'button', hidden: true, 'aria-label': 'Jump to the latest messages', onclick: () => this.jumpToLatest() },
      icon('down', 18), el('span', { class: 'badge', hidden: true }));
    this.typing = el('div', { class: 'typing', 'aria-live': 'polite' });
    this.composer = new Composer({ send: this.send, chat: this });
    this.pane = el('section', { class: 'chat-pane', hidden: true, 'aria-label': 'Conversation' }, this.head,
      el('div', { class: 'scroll-wrap' }, this.scroller, this.latest), this.typing, this.composer.node);
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
      const c = this.conversation();
      this.stickToBottom = true;
      this.unseen = 0;
      this.current = null;
      // Where "new messages" starts: what was unread when the conversation was opened.
      this.unreadAfter = c.unread_count > 0 ? c.last_read_seq : null;
      this.scrollToDivider = this.unreadAfter !== null && !focusSeq;
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

  /** Tells the server which conversation is on screen (none while hidden or closed). */
  sendFocus() {
    this.send({ type: 'focus', conversation_id: this.visible() ? this.id : null });
  }

  visible() {
    return !document.hidden && !document.documentElement.dataset.hostHidden;
  }

  onChange({ what, id, message }) {
    if (what === 'conversation' && id === this.id && !store.conversations.has(id)) { location.hash = ''; return; }
    if (!this.id) return;
    if (what === 'messages' && id === this.id) {
      if (message && !this.stickToBottom && message.sender_id !== store.me.id) this.unseen += 1;
      this.renderMessages();
      this.markRead();
    }
    if (what === 'history' && id === this.id) this.renderMessages();
    if (what === 'receipts' && id === this.id) this.renderMessages();
    if (what === 'typing' && id === this.id) this.renderTyping();
    if ((what === 'conversation' && id === this.id) || what === 'presence') this.renderHead();
    // Membership and kind change what each message offers (a former member gets no menus).
    if (what === 'conversation' && id === this.id) this.renderMessages();
  }

  conversation() {
    return store.conversations.get(this.id);
  }

  status(c) {
    if (c.is_member === false) return 'You are no longer a member';
    const peer = store.peer(c);
    let status;
    if (peer) {
      const presence = store.presence.get(peer.id);
      if (store.blocked.has(peer.id)) status = 'Blocked';
      else if (!store.online) status = '';
      else status = presence?.is_online ? 'Online' : presence?.last_seen ? `Last seen ${relativeTime(presence.last_seen)}` : '';
    } else {
      status = `${c.members.length} members`;
    }
    return c.archived ? `Archived${status ? ` · ${status}` : ''}` : status;
  }

  renderHead() {
    const c = this.conversation();
    if (!c) return;
    const peer = store.peer(c);
    const blocked = peer && store.blocked.has(peer.id);
    const details = () => (peer && c.is_member !== false ? openProfile(peer.id) : conversationDetails(c));
    fill(this.head,
      el('a', { class: 'icon-btn back', href: '#', 'aria-label': 'Back to conversations' }, icon('back')),
      el('button', { class: 'chat-who', type: 'button', onclick: details },
        avatar(peer || { id: c.id, name: store.title(c), avatar: c.avatar }, { size: 40, online: peer && !blocked ? store.isOnline(peer.id) : null }),
        el('span', { class: 'chat-title' }, el('span', { class: 'chat-name' }, store.title(c)), el('span', { class: 'chat-status' }, this.status(c))),
        el('span', { class: 'sr-only' }, peer && c.is_member !== false ? ', profile' : ', details')),
      this.calls && !(c.archived || c.is_member === false || blocked) && [
        el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Voice call', title: 'Voice call', onclick: () => this.calls.start(c.id, 'voice') }, icon('phone')),
        el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Video call', title: 'Video call', onclick: () => this.calls.start(c.id, 'video') }, icon('video')),
      ],
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Conversation details', title: 'Details', onclick: () => conversationDetails(c) }, icon('info')),
      this.closeButton?.());
    const disabled = c.archived || c.is_member === false || blocked;
    this.composer.setDisabled(disabled, c.is_member === false ? 'You are no longer a member of this conversation.'
      : blocked ? `You blocked ${peer.name}. Unblock them to send messages.` : 'This conversation is archived.');
  }

  renderTyping() {
    const names = store.typistsOf(this.id);
    this.typing.textContent = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
    this.typing.classList.toggle('is-active', names.length > 0);
  }

  /**
   * Renders the log by key: a message whose shown state did not change keeps its node, so focus
   * stays where it was, media keep playing, and only real additions are announced.
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
    if (h.loaded && !h.hasMore) keep('start', '', () => el('li', { class: 'history-start' }, 'This is the beginning of the conversation.'));
    let day = null;
    let previous = null;
    // The divider goes where unread messages start, once that point is loaded.
    let divided = this.unreadAfter === null || (h.hasMore && !(h.items[0]?.seq <= this.unreadAfter));
    for (const message of h.items) {
      const label = dayLabel(message.created_at);
      if (label !== day) {
        keep(`day:${label}`, label, () => el('li', { class: 'day' }, el('span', {}, label)));
        day = label;
        previous = null;
      }
      if (!divided && message.seq > this.unreadAfter && message.sender_id !== store.me.id) {
        keep('unread', '', () => el('li', { class: 'unread-divider', id: 'unread-divider' }, el('span', {}, 'New messages')));
        divided = true;
        previous = null;
      }
      const grouped = Boolean(previous && previous.sender_id === message.sender_id && previous.kind !== 'system' && Date.parse(message.created_at) - Date.parse(previous.created_at) < 5 * 60000);
      const focus = message.seq === this.focusSeq;
      const ticks = message.sender_id === store.me.id ? tickState(c, message.seq) : '';
      const signature = JSON.stringify([message.content, message.deleted, message.edited_at, message.reactions, message.attachment?.expired, grouped, focus, ticks, c.kind, c.is_member]);
      keep(`m:${message.seq}`, signature, () => renderMessage(message, { conversation: c, grouped, menu: this.menu, focus, onJump: (id) => this.jumpTo(id) }));
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
    this.rove();
    if (this.menu.anchor && !this.menu.anchor.isConnected) this.menu.close();
    if (this.focusSeq) {
      this.scrollTo(this.log.querySelector(`[data-seq="${this.focusSeq}"]`), 'center');
      this.focusSeq = null;
      this.stickToBottom = false;
    } else if (this.scrollToDivider && h.loaded) {
      this.scrollToDivider = false;
      const divider = this.log.querySelector('.unread-divider');
      if (divider) this.scrollTo(divider, 'start');
      else this.scrollToBottom();
      this.stickToBottom = this.distanceToBottom() < 80;
    } else if (this.stickToBottom) {
      this.scrollToBottom();
    } else if (this.loadingOlder) {
      // Older messages went in above: keep what the reader was looking at in place.
      this.scroller.scrollTop = before.top + (this.scroller.scrollHeight - before.height);
    }
    this.renderLatestButton();
    this.loadOlderIfAtTop();
    const last = h.items[h.items.length - 1];
    if (last && last.id !== this.lastAnnounced) {
      // The first render of a conversation is not news; later arrivals from others are.
      if (this.lastAnnounced !== null && last.sender_id !== store.me.id && !this.loadingOlder) {
        announce(`${last.sender_name}: ${last.preview || last.content}`);
      }
      this.lastAnnounced = last.id;
    }
  }

  // ---- keyboard: the list is one Tab stop ------------------------------------------------------

  items() {
    return [...this.log.querySelectorAll(':scope > li.msg, :scope > li.system-msg')];
  }

  /** One message is the list's Tab stop (the last, unless the reader moved); the controls
   * inside messages are reached through their message. */
  rove() {
    const items = this.items();
    const current = items.find((li) => li.dataset.seq === this.current || li.dataset.clientId === this.current) || items[items.length - 1];
    for (const li of items) {
      li.tabIndex = li === current ? 0 : -1;
      if (!li.contains(document.activeElement)) for (const control of li.querySelectorAll(CONTROLS)) control.tabIndex = -1;
    }
  }

  onFocusIn(event) {
    const li = event.target.closest('li.msg, li.system-msg');
    if (!li) return;
    this.current = li.dataset.seq || li.dataset.clientId;
    for (const control of li.querySelectorAll(CONTROLS)) control.tabIndex = 0;
    for (const other of this.items()) if (other !== li) other.tabIndex = -1;
    li.tabIndex = 0;
  }

  onFocusOut(event) {
    const li = event.target.closest('li.msg, li.system-msg');
    if (li && !li.contains(event.relatedTarget)) for (const control of li.querySelectorAll(CONTROLS)) control.tabIndex = -1;
  }

  onKeys(event) {
    const li = event.target;
    if (!li.matches?.('li.msg, li.system-msg')) return;
    const items = this.items();
    const index = items.indexOf(li);
    const target = { ArrowUp: index - 1, ArrowDown: index + 1, Home: 0, End: items.length - 1 }[event.key];
    if (target !== undefined) {
      event.preventDefault();
      items[Math.max(0, Math.min(items.length - 1, target))]?.focus();
      return;
    }
    if (event.key === 'Enter' || event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
      const message = store.historyOf(this.id).items.find((m) => String(m.seq) === li.dataset.seq);
      if (message && message.kind !== 'system' && !message.deleted && this.conversation()?.is_member !== false) {
        event.preventDefault();
        this.menu.open(li.querySelector('.bubble'), message);
      }
    }
  }

  // ---- scrolling ------------------------------------------------------------------------------

  distanceToBottom() {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Scrolls the message list (only it: scrollIntoView would move the page too) to a node. */
  scrollTo(node, block) {
    if (!node) return;
    const offset = node.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top + this.scroller.scrollTop;
    this.scroller.scrollTop = block === 'center' ? offset - (this.scroller.clientHeight - node.offsetHeight) / 2 : offset - 8;
  }

  jumpToLatest() {
    this.stickToBottom = true;
    this.unseen = 0;
    this.scrollToBottom();
    this.renderLatestButton();
    this.markRead();
    this.items().at(-1)?.focus({ preventScroll: true });
  }

  renderLatestButton() {
    const away = !this.stickToBottom && this.distanceToBottom() > 200;
    this.latest.hidden = !away && !this.unseen;
    const badge = this.latest.querySelector('.badge');
    badge.hidden = !this.unseen;
    badge.textContent = this.unseen > 99 ? '99+' : String(this.unseen);
    this.latest.setAttribute('aria-label', this.unseen ? `Jump to the latest messages, ${this.unseen} new` : 'Jump to the latest messages');
  }

  /** The observer only tells when the top comes into view; a page that ends there (a short
   * one, or one just opened) needs the next one asked for directly. */
  loadOlderIfAtTop() {
    if (this.scroller.scrollTop < 200 && !this.loadingOlder) queueMicrotask(() => this.id && this.loadOlder());
  }

  onScroll() {
    this.loadOlderIfAtTop();
    this.stickToBottom = this.distanceToBottom() < 80;
    if (this.stickToBottom) {
      this.unseen = 0;
      this.markRead();
    }
    this.renderLatestButton();
  }

  async loadOlder() {
    const h = store.historyOf(this.id);
    if (!h.loaded || !h.hasMore || this.loadingOlder) return;
    this.loadingOlder = true;
    this.stickToBottom = false;
    try { await store.loadHistory(this.id, true); } catch { /* retried on the next scroll */ }
    this.loadingOlder = false;
    this.stickToBottom = this.distanceToBottom() < 80;
    this.renderLatestButton();
  }

  /** Loads older pages until message `seq` is loaded (a search hit, a quote), at most 20 pages. */
  async loadUntil(seq) {
    const h = store.historyOf(this.id);
    for (let i = 0; i < 20 && h.hasMore && !(h.items[0]?.seq <= seq); i += 1) await store.loadHistory(this.id, true).catch(() => {});
  }

  /** Shows the message a reply quotes, loading older history if needed, and highlights it. */
  async jumpTo(messageId) {
    const h = store.historyOf(this.id);
    let seq = h.items.find((m) => m.id === messageId)?.seq;
    if (seq === undefined) {
      try { seq = (await get(`/api/chat/messages/${messageId}/`)).seq; } catch { return; }
      await this.loadUntil(seq);
    }
    this.stickToBottom = false;
    this.renderMessages();
    const target = this.log.querySelector(`[data-seq="${seq}"]`);
    if (!target) return;
    this.scrollTo(target, 'center');
    target.focus({ preventScroll: true });
    target.classList.add('is-flash');
    setTimeout(() => target.classList.remove('is-flash'), 2000);
    this.renderLatestButton();
  }

  /** Marks the conversation read while it is on screen, scrolled to the end, and visible. */
  markRead() {
    const c = this.conversation();
    if (!c || !this.visible() || !this.stickToBottom || c.is_member === false) return;
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
