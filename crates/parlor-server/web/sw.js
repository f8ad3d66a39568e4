// parlor's service worker, served at /sw.js so its scope is the whole app. It owns three
// things, one handler each:
//   1. The app shell: the client's files and the SDK's modules it is built on (listed by
//      /app/assets.json) are cached at install and served network-first, so the app opens
//      offline and is installable.
//   2. Offline data: the signed-in user's conversation list, history pages and profile (GET
//      answers of the standalone app, never the embedded one's) are kept network-first, so an
//      offline start shows the chats and the outbox takes new messages.
//   3. Media streaming: <audio>/<video> cannot send a token, so their requests for attachments
//      get the page's token added here, Range header and all (the server answers 206).
//   4. Web Push: a push (encrypted by the server for this browser, docs/notifications.md) is
//      shown as a notification, one per conversation (its tag); a click focuses a tab of the
//      app at that conversation, or opens one.

const SHELL = 'parlor-shell';
const DATA = 'parlor-data';
const TOKEN_WAIT_MS = 3000;

// GET answers worth having offline; presence is left out (a stale "online" would mislead).
const OFFLINE_DATA = [
  /^\/api\/users\/me\/?$/,
  /^\/api\/chat\/conversations\/?$/,
  /^\/api\/chat\/conversations\/\d+\/?$/,
  /^\/api\/chat\/conversations\/\d+\/messages\/?$/,
  /^\/api\/chat\/limits\/?$/,
  /^\/api\/chat\/blocks\/?$/,
  /^\/api\/connections\/?$/,
  /^\/api\/notifications\/unread_count\/?$/,
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const files = await (await fetch('/app/assets.json', { cache: 'no-cache' })).json();
    const cache = await caches.open(SHELL);
    await cache.addAll(['/', ...files.map((path) => (path.startsWith('/') ? path : `/app/${path}`))]);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'parlor:sign-out') {
    event.waitUntil(caches.delete(DATA).then(() => event.ports[0]?.postMessage('done')));
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' || url.pathname === '/' || url.pathname.startsWith('/app/') || url.pathname.startsWith('/sdk/')) {
    event.respondWith(networkFirst(request, SHELL, { ignoreSearch: request.mode === 'navigate' || url.pathname === '/' }));
  } else if (/^\/api\/chat\/attachments\/\d+\/?$/.test(url.pathname) && !request.headers.has('authorization')) {
    event.respondWith(withToken(event));
  } else if (request.headers.has('authorization') && OFFLINE_DATA.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(offlineData(event));
  }
});

/** The network's answer (cached for later), or the cached one when the network fails. */
async function networkFirst(request, cacheName, { ignoreSearch = false } = {}) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(cacheName);
      await cache.put(ignoreSearch ? new URL(request.url).pathname : request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request, { ignoreSearch, cacheName });
    if (cached) return cached;
    throw error;
  }
}

async function offlineData(event) {
  const client = event.clientId ? await self.clients.get(event.clientId) : null;
  // The embedded client keeps its token in memory only; nothing of its user is stored.
  if (client && new URL(client.url).searchParams.has('embed')) return fetch(event.request);
  return networkFirst(event.request, DATA);
}

/** Asks the page that made the request for its current access token. */
async function tokenOf(clientId) {
  const client = clientId ? await self.clients.get(clientId) : null;
  if (!client) return null;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (message) => resolve(message.data?.token || null);
    client.postMessage({ type: 'parlor:token?' }, [channel.port2]);
    setTimeout(() => resolve(null), TOKEN_WAIT_MS);
  });
}

async function withToken(event) {
  const token = await tokenOf(event.clientId);
  const headers = new Headers();
  if (token) headers.set('authorization', `Bearer ${token}`);
  const range = event.request.headers.get('range');
  if (range) headers.set('range', range);
  return fetch(event.request.url, { headers, mode: 'same-origin', credentials: 'omit' });
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === 'string' && data.title ? data.title : 'parlor';
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.body === 'string' ? data.body : 'New message',
    icon: typeof data.icon === 'string' && data.icon ? data.icon : '/app/icon-192.png',
    badge: '/app/icon-192.png',
    // One notification per conversation: a newer push replaces the one shown.
    tag: typeof data.tag === 'string' ? data.tag : 'parlor',
    renotify: true,
    // A ringing call stays up until it is answered or dismissed.
    requireInteraction: data.type === 'call',
    data: { url: appUrl(data.url), conversation_id: data.conversation_id ?? null },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url || '/';
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    // A tab of the standalone app (not an embed in someone's page) is brought forward.
    const tab = windows.find((w) => new URL(w.url).origin === self.location.origin && !new URL(w.url).searchParams.has('embed'));
    if (tab) {
      // The conversation first: a tab that may not take focus still shows it.
      tab.postMessage({ type: 'parlor:open', url });
      await tab.focus().catch(() => {});
      return;
    }
    await self.clients.openWindow(url);
  })());
});

/** Only this app's own pages are opened from a notification. */
function appUrl(url) {
  if (typeof url !== 'string' || !url.startsWith('/') || url.startsWith('//')) return '/';
  return url;
}
