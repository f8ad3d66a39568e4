// The left column: who is signed in (their profile), the notification bell, the theme toggle,
// new chats, the search box (conversations and messages), and the conversation list with
// previews, unread badges (grey when muted), relative times and presence dots.

import { icon } from './icons.js';
import { get } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, relativeTime, debounce, fill } from './util.js';
import { toggleTheme } from './theme.js';
import { newChatDialog } from './dialogs.js';
import { NotificationsPanel } from './notifications.js';
import { myProfileDialog } from './profile.js';

export class Sidebar {
  constructor({ onSignOut, embedded, closeButton }) {
    this.activeId = null;
    this.query = '';
    this.bellBadge = el('span', { class: 'badge bell-badge', hidden: true });
    this.panel = new NotificationsPanel();
    const bell = el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Notifications', title: 'Notifications', onclick: () => this.panel.toggle(bell) }, icon('bell'), this.bellBadge);
    this.bell = bell;
    this.search = el('input', {
      type: 'search', class: 'search-input', placeholder: 'Search chats and messages', 'aria-label': 'Search conversations and messages',
      oninput: () => this.onSearch(),
      onkeydown: (e) => { if (e.key === 'ArrowDown') { e.preventDefault(); this.list.querySelector('a')?.focus(); } },
    });
    this.list = el('ul', { class: 'conv-list', 'aria-label': 'Conversations', onkeydown: (e) => this.onKeys(e) });
    this.results = el('div', { class: 'search-results', hidden: true, 'aria-live': 'polite' });
    this.me = el('button', { class: 'me', type: 'button', onclick: () => myProfileDialog() });
    this.renderMe();
    this.node = el('aside', { class: 'sidebar', 'aria-label': 'Conversations' },
      el('header', { class: 'sidebar-head' },
        this.me,
        el('div', { class: 'head-actions' },
          bell,
          el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Toggle dark mode', title: 'Toggle dark mode', onclick: toggleTheme }, icon('theme')),
          el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'New chat', title: 'New chat', 'data-action': 'new-chat', onclick: () => newChatDialog() }, icon('compose')),
          embedded ? null : el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Sign out', title: 'Sign out', onclick: onSignOut }, icon('logout')),
          closeButton?.())),
      el('div', { class: 'search', role: 'search' }, this.search),
      el('nav', { class: 'conv-scroll', 'aria-label': 'Conversation list' }, this.list, this.results));
    store.addEventListener('change', (e) => {
      const what = e.detail.what;
      if (what === 'conversations' || what === 'presence' || what === 'typing') this.renderList();
      if (what === 'notifications') this.renderBell();
      if (what === 'me') this.renderMe();
    });
    // Relative times ("2 minutes ago") age while the page is open.
    setInterval(() => this.renderList(), 30000);
    this.renderList();
    this.renderBell();
  }

  renderMe() {
    const me = store.me;
    fill(this.me, avatar(me, { size: 36 }), el('span', { class: 'me-name', title: me.username ? `@${me.username}` : me.name }, me.name),
      el('span', { class: 'sr-only' }, ': your profile'));
  }

  setActive(id) {
    this.activeId = id;
    this.renderList();
  }

  renderBell() {
    const unread = store.notifications.unread;
    this.bellBadge.hidden = !unread;
    this.bellBadge.textContent = unread > 99 ? '99+' : String(unread);
    this.bell.setAttribute('aria-label', unread ? `Notifications, ${unread} unread` : 'Notifications');
  }

  renderList() {
    const focused = document.activeElement?.closest?.('.conv')?.dataset.id;
    const q = this.query.toLowerCase();
    const items = store.sortedConversations().filter((c) => !q || store.title(c).toLowerCase().includes(q));
    clear(this.list);
    if (!items.length) {
      this.list.append(el('li', { class: 'empty-list' }, q ? 'No conversation matches.' : 'No conversations yet. Start one with the pencil above.'));
    }
    for (const c of items) this.list.append(this.item(c));
    if (focused) this.list.querySelector(`.conv[data-id="${focused}"]`)?.focus();
  }

  item(c) {
    const peer = store.peer(c);
    const title = store.title(c);
    const typists = store.typistsOf(c.id);
    const last = c.last_message;
    let preview = last ? (last.deleted ? 'Message deleted' : last.preview || last.content) : 'No messages yet';
    if (last && c.kind !== 'direct' && last.kind !== 'system' && !last.deleted) {
      preview = `${last.sender_id === store.me.id ? 'You' : last.sender_name.split(' ')[0]}: ${preview}`;
    } else if (last && last.sender_id === store.me.id && last.kind !== 'system' && !last.deleted) preview = `You: ${preview}`;
    const unread = c.unread_count > 0;
    const blocked = peer && store.blocked.has(peer.id);
    const online = peer && !blocked && store.isOnline(peer.id);
    const face = avatar(peer ? { ...peer } : { id: c.id, name: title, avatar: c.avatar }, { size: 44, online: peer && !blocked ? online : null });
    // Read out after the name: what the eye gets from the badge's colour and the dot.
    const extra = [unread ? `${c.unread_count} unread` : '', c.muted ? 'muted' : '', online ? 'online' : '', blocked ? 'blocked' : ''].filter(Boolean).join(', ');
    return el('li', {},
      el('a', { class: `conv ${unread ? 'has-unread' : ''} ${c.muted ? 'is-muted' : ''}`, href: `#/c/${c.id}`, dataset: { id: c.id }, 'aria-current': c.id === this.activeId ? 'page' : null },
        face,
        el('span', { class: 'conv-body' },
          el('span', { class: 'conv-row' },
            el('span', { class: 'conv-title' }, title, extra ? el('span', { class: 'sr-only' }, `, ${extra}`) : null),
            c.muted ? el('span', { class: 'muted-icon', title: 'Muted' }, icon('bellOff', 14)) : null,
            el('time', { class: 'conv-time', datetime: c.last_activity_at, title: new Date(c.last_activity_at).toLocaleString() }, relativeTime(c.last_activity_at))),
          el('span', { class: 'conv-row' },
            el('span', { class: `conv-preview ${typists.length ? 'is-typing' : ''}` }, typists.length ? 'typing…' : preview),
            unread ? el('span', { class: 'badge', 'aria-hidden': 'true' }, c.unread_count > 99 ? '99+' : String(c.unread_count)) : null))));
  }

  onKeys(event) {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const links = [...this.node.querySelectorAll('.conv, .hit')];
    const index = links.indexOf(document.activeElement);
    const next = links[index + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next) { event.preventDefault(); next.focus(); } else if (event.key === 'ArrowUp') this.search.focus();
  }

  onSearch() {
    this.query = this.search.value.trim();
    this.renderList();
    this.searchMessages();
  }

  searchMessages = debounce(async () => {
    const q = this.query;
    if (q.length < 2) {
      this.results.hidden = true;
      return;
    }
    let page;
    try {
      page = await get(`/api/chat/search/messages/?q=${encodeURIComponent(q)}&limit=20`);
    } catch {
      return;
    }
    if (q !== this.query) return;
    clear(this.results).hidden = false;
    this.results.append(el('h3', { class: 'section-title' }, page.results.length ? 'Messages' : 'No messages match'));
    for (const hit of page.results) {
      const c = store.conversations.get(hit.conversation_id);
      const text = el('span', { class: 'hit-text' });
      // The server escapes every character of the message; only <mark> is markup (protocol §14).
      text.innerHTML = hit.highlight;
      this.results.append(el('a', { class: 'hit', href: `#/c/${hit.conversation_id}/m/${hit.message.seq}` },
        el('span', { class: 'conv-row' },
          el('span', { class: 'conv-title' }, `${hit.message.sender_name}${c ? ` · ${store.title(c)}` : ''}`),
          el('time', { class: 'conv-time' }, relativeTime(hit.message.created_at))),
        text));
    }
  }, 250);
}
