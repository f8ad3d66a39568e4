// The page's side of the service worker (/sw.js): registers it (the app shell then opens
// offline, and the app can be installed), answers its requests for the access token (so audio
// and video stream from the server with Range requests: a media element cannot send a token),
// and clears what it cached when the user signs out.

import { freshToken, session } from './api.js';

let registration = null;
let onControl = null;

/** `warm` asks again for what an offline start needs once the worker first controls the page
 * (what was fetched before it did was not kept). */
export function registerServiceWorker(warm) {
  if (!('serviceWorker' in navigator)) return;
  onControl = warm;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) onControl?.();
  });
  navigator.serviceWorker.addEventListener('message', async (event) => {
    // A push notification was clicked: show its conversation here.
    if (event.data?.type === 'parlor:open' && typeof event.data.url === 'string') {
      location.hash = new URL(event.data.url, location.origin).hash;
      return;
    }
    if (event.data?.type !== 'parlor:token?') return;
    const token = session.access ? await freshToken().catch(() => session.access) : null;
    event.ports[0]?.postMessage({ token });
  });
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).then((r) => { registration = r; }, () => {});
}

/** Whether media can be played from the server's URL (the service worker adds the token). */
export function canStream() {
  return Boolean(navigator.serviceWorker?.controller);
}

/** Forget everything cached for the signed-in user (sign-out, or another user signing in). */
export async function clearCachedData() {
  const worker = navigator.serviceWorker?.controller || registration?.active;
  if (!worker) return;
  await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    worker.postMessage({ type: 'parlor:sign-out' }, [channel.port2]);
    setTimeout(resolve, 1000);
  });
}
