// The notifications panel (mentions, rooms you were added to, connection requests, messages
// while you were away) and the switch for browser notifications.

import { get, post } from './api.js';
import { store } from './store.js';
import { el, clear, relativeTime } from './util.js';
import { toastError } from './toast.js';

export function notificationText(n) {
  const who = n.actor_name || 'Someone';
  switch (n.type) {
    case 'mention': return `${who} mentioned you: ${n.preview}`;
    case 'room_added': return `${who} added you to a room`;
    case 'connection_request': return `${who} wants to connect`;
    default: return n.count > 1 ? `${n.count} new messages from ${who}` : `${who}: ${n.preview}`;
  }
}

export class NotificationsPanel {
  constructor() {
    this.list = el('ul', { class: 'notif-list' });
    this.permission = el('button', { class: 'link', type: 'button', hidden: true, onclick: () => this.askPermission() }, 'Enable desktop notifications');
    this.node = el('section', { class: 'notif-panel', hidden: true, role: 'dialog', 'aria-label': 'Notifications', onkeydown: (e) => { if (e.key === 'Escape') this.close(); } },
      el('header', { class: 'notif-head' }, el('h2', {}, 'Notifications'),
        el('button', { class: 'link', type: 'button', onclick: () => this.markAll() }, 'Mark all read')),
      this.permission, this.list);
    document.body.append(this.node);
    document.addEventListener('click', (e) => { if (!this.node.hidden && !this.node.contains(e.target) && !this.anchor?.contains(e.target)) this.close(); });
    store.addEventListener('change', (e) => { if (e.detail.what === 'notifications' && !this.node.hidden) this.render(); });
  }

  async toggle(anchor) {
    this.anchor = anchor;
    if (!this.node.hidden) { this.close(); return; }
    this.node.hidden = false;
    this.permission.hidden = !('Notification' in window) || Notification.permission !== 'default';
    try {
      const page = await get('/api/notifications/?limit=30');
      store.notifications.items = page.results;
      store.notifications.unread = page.unread_count;
      store.notifications.loaded = true;
    } catch (error) {
      toastError(error);
    }
    this.render();
    this.node.querySelector('button')?.focus();
  }

  close() {
    this.node.hidden = true;
    if (this.node.contains(document.activeElement)) this.anchor?.focus();
  }

  render() {
    clear(this.list);
    const items = store.notifications.items;
    if (!items.length) this.list.append(el('li', { class: 'empty-list' }, 'Nothing new.'));
    for (const n of items) {
      this.list.append(el('li', {}, el('button', { class: `notif ${n.is_read ? '' : 'is-unread'}`, type: 'button', onclick: () => this.openOne(n) },
        el('span', { class: 'notif-text' }, notificationText(n)),
        el('time', { class: 'sub', datetime: n.updated_at }, relativeTime(n.updated_at)))));
    }
  }

  async openOne(n) {
    this.close();
    if (!n.is_read) {
      post(`/api/notifications/${n.id}/mark_read/`).then(({ unread_count: unread }) => {
        n.is_read = true;
        store.notifications.unread = unread;
        store.emit('notifications');
      }).catch(() => {});
    }
    if (n.conversation_id) location.hash = `#/c/${n.conversation_id}`;
  }

  async markAll() {
    try {
      await post('/api/notifications/mark_all_read/');
      for (const n of store.notifications.items) n.is_read = true;
      store.notifications.unread = 0;
      store.emit('notifications');
    } catch (error) {
      toastError(error);
    }
  }

  async askPermission() {
    await Notification.requestPermission();
    this.permission.hidden = Notification.permission !== 'default';
  }
}
