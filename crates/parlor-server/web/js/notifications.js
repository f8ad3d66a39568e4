// The notifications panel (mentions, rooms you were added to, connection requests to accept or
// decline, messages while you were away), the switches for browser and push notifications, and
// the way to the notification settings.

import { get, post } from './api.js';
import { store } from './store.js';
import { el, clear, relativeTime } from './util.js';
import { toast, toastError } from './toast.js';
import { answerRequest, myProfileDialog, openProfile } from './profile.js';
import { notificationSettingsDialog, pushSwitch } from './push.js';

export function notificationText(n) {
  const who = n.actor_name || 'Someone';
  switch (n.type) {
    case 'mention': return `${who} mentioned you: ${n.preview}`;
    case 'room_added': return `${who} added you to a room`;
    case 'connection_request': return `${who} wants to connect`;
    case 'export_ready': return 'Your data is ready to download';
    default: return n.count > 1 ? `${n.count} new messages from ${who}` : `${who}: ${n.preview}`;
  }
}

export class NotificationsPanel {
  constructor() {
    this.list = el('ul', { class: 'notif-list' });
    this.permission = el('button', { class: 'link', type: 'button', hidden: true, onclick: () => this.askPermission() }, 'Enable desktop notifications');
    this.node = el('section', { class: 'notif-panel', hidden: true, role: 'dialog', 'aria-label': 'Notifications' },
      el('header', { class: 'notif-head' }, el('h2', {}, 'Notifications'),
        el('button', { class: 'link', type: 'button', onclick: () => this.markAll() }, 'Mark all read')),
      this.permission,
      el('div', { class: 'notif-prefs' }, pushSwitch(),
        el('button', { class: 'link', type: 'button', onclick: () => { this.close(); notificationSettingsDialog(); } }, 'Settings')),
      this.list);
    document.body.append(this.node);
    document.addEventListener('click', (e) => { if (!this.node.hidden && !this.node.contains(e.target) && !this.anchor?.contains(e.target)) this.close(); });
    // Escape closes it wherever focus went (an answered request's buttons are gone).
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !this.node.hidden && !document.querySelector('dialog[open]')) this.close(); });
    store.addEventListener('change', (e) => { if ((e.detail.what === 'notifications' || e.detail.what === 'connections') && !this.node.hidden) this.render(); });
  }

  async toggle(anchor) {
    this.anchor = anchor;
    if (!this.node.hidden) { this.close(); return; }
    this.node.hidden = false;
    this.permission.hidden = !('Notification' in window) || Notification.permission !== 'default';
    store.loadConnections();
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
    if (this.node.hidden) return;
    this.node.hidden = true;
    if (this.node.contains(document.activeElement) || document.activeElement === document.body) this.anchor?.focus();
  }

  render() {
    clear(this.list);
    const items = store.notifications.items;
    if (!items.length) this.list.append(el('li', { class: 'empty-list' }, 'Nothing new.'));
    for (const n of items) {
      this.list.append(el('li', { class: `notif ${n.is_read ? '' : 'is-unread'}` },
        el('button', { class: 'notif-main', type: 'button', onclick: () => this.openOne(n) },
          el('span', { class: 'notif-text' }, notificationText(n)),
          el('time', { class: 'sub', datetime: n.updated_at }, relativeTime(n.updated_at))),
        n.type === 'connection_request' ? this.requestActions(n) : null));
    }
  }

  /** Accept / Decline while the request is pending; what became of it after. */
  requestActions(n) {
    const connection = store.connections.find((c) => c.id === n.connection_id);
    if (!connection) return null;
    if (connection.status === 'accepted') return el('p', { class: 'sub notif-state' }, 'Connected');
    if (connection.direction !== 'incoming') return null;
    const answer = (accept) => async () => {
      try {
        const result = await answerRequest(connection.id, accept);
        this.markOne(n);
        toast(accept ? `You are now connected with ${connection.user.name}.` : 'Request declined.', accept && result?.conversation_id
          ? { action: { label: 'Message', run: () => { location.hash = `#/c/${result.conversation_id}`; } } } : {});
      } catch (error) {
        toastError(error, accept ? 'Cannot accept' : 'Cannot decline');
      }
      this.render();
    };
    return el('div', { class: 'notif-actions' },
      el('button', { class: 'primary small', type: 'button', 'aria-label': `Accept ${connection.user.name}'s request`, onclick: answer(true) }, 'Accept'),
      el('button', { class: 'secondary small', type: 'button', 'aria-label': `Decline ${connection.user.name}'s request`, onclick: answer(false) }, 'Decline'));
  }

  markOne(n) {
    if (n.is_read) return;
    post(`/api/notifications/${n.id}/mark_read/`).then(({ unread_count: unread }) => {
      n.is_read = true;
      store.notifications.unread = unread;
      store.emit('notifications');
    }).catch(() => {});
  }

  async openOne(n) {
    this.close();
    this.markOne(n);
    if (n.conversation_id) location.hash = `#/c/${n.conversation_id}`;
    else if (n.type === 'connection_request' && n.actor_id) openProfile(n.actor_id);
    else if (n.type === 'export_ready') myProfileDialog();
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
