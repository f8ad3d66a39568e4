// Boot: theme, session (stored, or handed over by a host page in embedded mode), the layout,
// the socket, routing by `#/c/<id>`, the tab title and browser notifications.

import { session, get, post, ApiError } from './api.js';
import { store } from './store.js';
import { Socket } from './socket.js';
import { showLogin } from './login.js';
import { Sidebar } from './sidebar.js';
import { ChatView } from './chat.js';
import { toast, toastError } from './toast.js';
import { el, clear } from './util.js';
import { applyTheme } from './theme.js';
import { notificationText } from './notifications.js';

const root = document.getElementById('app');
const embedded = new URLSearchParams(location.search).has('embed');
let socket = null;
let hostOrigin = null;

applyTheme();

// ---- embedded (host-app) mode: the host page hands over its token -------------------------
const hostWaiters = [];
function toHost(message) {
  if (embedded && window.parent !== window) window.parent.postMessage(message, hostOrigin || '*');
}
function requestHostToken() {
  toHost({ type: 'parlor:need-token' });
  return new Promise((resolve) => {
    hostWaiters.push(resolve);
    setTimeout(() => resolve(null), 10000);
  });
}
window.addEventListener('message', (event) => {
  if (!embedded || event.source !== window.parent || typeof event.data !== 'object' || !event.data) return;
  const data = event.data;
  if (data.type === 'parlor:token' && typeof data.token === 'string') {
    hostOrigin = event.origin;
    const first = !session.access;
    session.set({ access: data.token });
    while (hostWaiters.length) hostWaiters.shift()(data.token);
    if (first) start();
  } else if (data.type === 'parlor:open' && data.with != null) {
    openWith(String(data.with));
  }
});

let pendingOpen = null;
/** Opens the DM with the host platform's user `externalId` ("Chat with X"). */
async function openWith(externalId) {
  if (!store.me) {
    pendingOpen = externalId;
    return;
  }
  try {
    const user = await get(`/api/chat/users/by-external/${encodeURIComponent(externalId)}/`);
    const conversation = await post('/api/chat/conversations/', { user_id: user.id });
    store.upsertConversation(conversation);
    location.hash = `#/c/${conversation.id}`;
  } catch (error) {
    toastError(error, 'Cannot open that chat');
  }
}

// ---- start ----------------------------------------------------------------------------------
async function boot() {
  if (embedded) {
    session.embedded = true;
    session.requestHostToken = requestHostToken;
    clear(root).append(el('p', { class: 'splash' }, 'Connecting…'));
    toHost({ type: 'parlor:ready' });
    return;
  }
  if (session.load()) start();
  else showLogin(root, () => start());
}

async function start() {
  let me;
  try {
    me = await get('/api/users/me/');
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      signOut(error.code === 'account_disabled' ? 'This account is disabled.' : null);
      return;
    }
    clear(root).append(el('p', { class: 'splash' }, 'Cannot reach the server. Retrying…'));
    setTimeout(start, 3000);
    return;
  }
  session.set({ access: session.access, user: me });
  try {
    await store.load(me);
  } catch {
    clear(root).append(el('p', { class: 'splash' }, 'Cannot load your conversations. Retrying…'));
    setTimeout(start, 3000);
    return;
  }

  const banner = el('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true });
  const layout = el('div', { class: 'layout', dataset: { view: 'list' } });
  const chat = new ChatView({ send: (frame) => socket?.send(frame) });
  const sidebar = new Sidebar({ onSignOut: () => signOut(), embedded });
  layout.append(sidebar.node, chat.node);
  clear(root).append(banner, layout);

  socket = new Socket({
    cursors: () => store.cursors(),
    onFrame: (frame) => store.applyFrame(frame),
    onState: (state, detail) => {
      const online = state === 'online';
      store.setOnline(online);
      banner.hidden = online || state === 'connecting' && !banner.dataset.shown;
      banner.dataset.shown = online ? '' : '1';
      const lost = navigator.onLine ? 'Connection lost, reconnecting…' : 'You are offline.';
      banner.textContent = state === 'offline' ? `${lost} Messages you write will be sent when the connection is back.` : 'Connecting…';
      layout.classList.toggle('is-offline', !banner.hidden);
      if (online) chat.onReconnected();
      if (state === 'closed' && detail === 'disabled') signOut('This account has been disabled.');
      if (state === 'closed' && detail === 'signed-out') signOut('Your session has expired. Please sign in again.');
    },
  });
  socket.connect();

  const route = () => {
    const match = /^#\/c\/(\d+)(?:\/m\/(\d+))?/.exec(location.hash);
    const id = match ? Number(match[1]) : null;
    layout.dataset.view = id ? 'chat' : 'list';
    chat.open(id, match?.[2] ? Number(match[2]) : null);
    sidebar.setActive(id);
  };
  window.addEventListener('hashchange', route);
  route();

  store.addEventListener('change', (event) => {
    const { what } = event.detail;
    if (what === 'conversations' || what === 'notifications') updateTitle();
    if (what === 'incoming') notifyIncoming(event.detail.message);
    if (what === 'notification') {
      const n = event.detail.notification;
      toast(notificationText(n), { action: n.conversation_id ? { label: 'Open', run: () => { location.hash = `#/c/${n.conversation_id}`; } } : null });
    }
    if (what === 'error') toastError(event.detail.error, 'Message not sent');
  });
  updateTitle();
  if (pendingOpen) openWith(pendingOpen);
  pendingOpen = null;
}

function updateTitle() {
  const unread = store.totalUnread();
  document.title = unread ? `(${unread}) parlor` : 'parlor';
  toHost({ type: 'parlor:unread', count: unread });
}

function notifyIncoming(message) {
  const conversation = store.conversations.get(message.conversation_id);
  if (!conversation || conversation.muted || message.kind === 'system') return;
  const showing = store.activeId === message.conversation_id && !document.hidden;
  if (showing || !document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  const note = new Notification(store.title(conversation), { body: `${message.sender_name}: ${message.preview || message.content}`, tag: `parlor-${conversation.id}` });
  note.onclick = () => { window.focus(); location.hash = `#/c/${conversation.id}`; note.close(); };
}

function signOut(reason) {
  socket?.stop();
  socket = null;
  session.clear();
  location.hash = '';
  if (embedded) {
    clear(root).append(el('p', { class: 'splash' }, reason || 'Signed out.'));
    return;
  }
  // A fresh page drops every bit of the previous user's state.
  if (reason) sessionStorage.setItem('parlor.signout', reason);
  location.reload();
}

const farewell = sessionStorage.getItem('parlor.signout');
if (farewell) {
  sessionStorage.removeItem('parlor.signout');
  setTimeout(() => toast(farewell, { kind: 'error' }), 100);
}
boot();
