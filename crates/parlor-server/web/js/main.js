// Boot: theme, service worker, session (stored, or handed over by a host page in embedded
// mode), the layout, the SDK's client (the socket and the outbox), routing by `#/c/<id>`, the
// tab title and browser notifications. In embedded mode it also speaks to the host page (see
// embed.js).

import { createClient, localStorageStore } from '/sdk/parlor.js';
import { session, get, post, ApiError, freshToken, refreshToken } from './api.js';
import { store } from './store.js';
import { showLogin } from './login.js';
import { Sidebar } from './sidebar.js';
import { ChatView } from './chat.js';
import { toast, toastError } from './toast.js';
import { el, fill } from './util.js';
import { applyTheme } from './theme.js';
import { notificationText } from './notifications.js';
import { icon } from './icons.js';
import { registerServiceWorker, clearCachedData } from './offline.js';
import { Calls } from './call.js';
import { unsubscribePush } from './push.js';

const root = document.getElementById('app');
const embedded = new URLSearchParams(location.search).has('embed');
let client = null; // the SDK's: the socket, resumed from the store's cursors, and the outbox

/** Resolves true once the socket is online (at once if it is), false after `ms` or when it
 * stops trying (closed): a call started on a page that is still connecting waits for it. */
function onlineWithin(ms) {
  if (!client || client.state === 'closed') return Promise.resolve(false);
  if (client.state === 'online') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (online) => { clearTimeout(timer); off(); resolve(online); };
    const timer = setTimeout(() => done(false), ms);
    const off = client.on('state', ({ state }) => {
      if (state === 'online') done(true);
      if (state === 'closed') done(false);
    });
  });
}
let calls = null; // the call screens, made once (call.js)
let hostOrigin = null;

applyTheme();
registerServiceWorker(() => { if (store.me && !embedded) store.warmOfflineCopy(); });

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
  if (data.type === 'parlor:token') {
    hostOrigin = event.origin;
    const token = typeof data.token === 'string' && data.token ? data.token : null;
    while (hostWaiters.length) hostWaiters.shift()(token);
    if (!token) {
      // The host page's token URL said the visitor is signed out (or failed): say so plainly.
      if (!store.me) embedState(data.reason === 'signed-out' ? 'signed-out' : 'unavailable', data);
      return;
    }
    const first = !session.access;
    session.set({ access: token });
    if (first) start();
  } else if (data.type === 'parlor:open' && data.with != null) {
    openWith(String(data.with));
  } else if (data.type === 'parlor:visibility') {
    // The panel was closed or opened: a closed panel is not "on screen" (no reading, notify me).
    if (data.visible) delete document.documentElement.dataset.hostHidden;
    else document.documentElement.dataset.hostHidden = '1';
    document.dispatchEvent(new Event('visibilitychange'));
  }
});

/** The host page's close button, inside parlor's own headers so it never covers a control. */
function closeButton() {
  return el('button', { class: 'icon-btn embed-close', type: 'button', 'aria-label': 'Close chat', title: 'Close chat', onclick: () => toHost({ type: 'parlor:close' }) }, icon('close'));
}

/** What the embedded panel shows before (or instead of) the app. */
function embedState(state, { signInUrl } = {}) {
  const texts = {
    connecting: ['Connecting…', null],
    'signed-out': ['Sign in to chat', 'You need to be signed in to send and read messages.'],
    unavailable: ['Chat is unavailable right now', 'Please try again in a moment.'],
  };
  const [title, detail] = texts[state];
  const action = state === 'signed-out' && signInUrl
    ? el('a', { class: 'primary', href: signInUrl, target: '_top' }, 'Sign in')
    : state === 'unavailable' ? el('button', { class: 'primary', type: 'button', onclick: () => { embedState('connecting'); toHost({ type: 'parlor:need-token' }); } }, 'Try again') : null;
  fill(root, el('div', { class: 'embed-state', dataset: { state } },
    el('div', { class: 'embed-state-head' }, closeButton()),
    el('div', { class: 'embed-state-body', role: 'status' }, el('img', { src: '/app/icon.svg', alt: '', width: 48, height: 48 }),
      el('h1', {}, title), detail ? el('p', { class: 'sub' }, detail) : null, action)));
}

let pendingOpen = null;
/** Opens the DM with the host platform's user `externalId` ("Chat with X"); parlor creates that
 * user on first reference, so this works before they ever signed in. */
async function openWith(externalId) {
  if (!store.me) {
    pendingOpen = externalId;
    return;
  }
  try {
    const conversation = await post('/api/chat/conversations/', { external_id: externalId });
    store.upsertConversation(conversation);
    location.hash = `#/c/${conversation.id}`;
  } catch (error) {
    // End users never see a developer's message: only what they can act on.
    const text = error instanceof TypeError ? 'You are offline. Try again when the connection is back.'
      : error instanceof ApiError && error.code === 'blocked' ? 'You cannot message this person.'
        : error instanceof ApiError && error.code === 'connection_required' ? 'Connect with this person before you message them.'
          : 'This chat cannot be opened right now.';
    toast(text, { kind: 'error' });
  }
}

// ---- start ----------------------------------------------------------------------------------
async function boot() {
  if (embedded) {
    session.embedded = true;
    session.requestHostToken = requestHostToken;
    embedState('connecting');
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
    fill(root, el('p', { class: 'splash' }, 'Cannot reach the server. Retrying…'));
    setTimeout(start, 3000);
    return;
  }
  session.set({ access: session.access, user: me });
  client?.close();
  client = createClient({
    url: location.origin,
    // The session (api.js) owns the token; a refused one is refreshed there, once for all tabs.
    getToken: ({ refresh }) => (refresh ? refreshToken().then(() => session.access) : freshToken()),
    // Each user's outbox stays at parlor.outbox.<user id>, where it always was.
    store: localStorageStore({ prefix: 'parlor.' }),
    namespace: String(me.id),
    // The store applies frames by event seq and keeps the cursors with its conversations.
    cursors: () => store.cursors(),
  });
  try {
    await store.load(me, client);
  } catch {
    fill(root, el('p', { class: 'splash' }, 'Cannot load your conversations. Retrying…'));
    setTimeout(start, 3000);
    return;
  }

  const banner = el('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true });
  const layout = el('div', { class: 'layout', dataset: { view: 'list' } });
  calls ??= new Calls({ send: (frame) => client?.sendFrame(frame) ?? false, online: onlineWithin });
  const chat = new ChatView({ send: (frame) => client?.sendFrame(frame) ?? false, closeButton: embedded ? closeButton : null, calls });
  const sidebar = new Sidebar({ onSignOut: () => signOut(), embedded, closeButton: embedded ? closeButton : null });
  layout.append(sidebar.node, chat.node);
  fill(root, banner, layout);

  client.on('frame', (frame) => {
    store.applyFrame(frame);
    calls.onFrame(frame);
  });
  client.on('state', ({ state, detail }) => {
    const online = state === 'online';
    store.setOnline(online);
    banner.hidden = online || (state === 'connecting' && !banner.dataset.shown);
    banner.dataset.shown = online ? '' : '1';
    const lost = navigator.onLine ? 'Connection lost, reconnecting…' : 'You are offline.';
    banner.textContent = state === 'offline' ? `${lost} Messages you write will be sent when the connection is back.` : 'Connecting…';
    layout.classList.toggle('is-offline', !banner.hidden);
    if (online) chat.onReconnected();
    if (state === 'closed' && detail === 'disabled') signOut('This account has been disabled.');
    if (state === 'closed' && detail === 'signed-out') signOut('Your session has expired. Please sign in again.');
  });
  client.connect().catch(() => {}); // a refusal arrives as the 'closed' state above

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
  if (!conversation || conversation.muted || message.kind === 'system' || message.kind === 'call') return;
  const showing = store.activeId === message.conversation_id && !document.hidden;
  if (showing || !document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  const note = new Notification(store.title(conversation), { body: `${message.sender_name}: ${message.preview || message.content}`, tag: `parlor-${conversation.id}` });
  note.onclick = () => { window.focus(); location.hash = `#/c/${conversation.id}`; note.close(); };
}

async function signOut(reason) {
  client?.close();
  client = null;
  // While the token still works: this browser stops getting the user's pushes.
  if (!embedded) await unsubscribePush();
  session.clear();
  location.hash = '';
  if (embedded) {
    toHost({ type: 'parlor:signed-out' });
    embedState('signed-out');
    return;
  }
  await clearCachedData();
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
