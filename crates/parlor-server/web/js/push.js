// Web Push on the page: subscribing this browser (permission, the server's VAPID key, the
// PushManager, then POST /api/push/subscriptions), unsubscribing (and always on sign-out), and
// the notification settings dialog (/api/users/me/notification-settings). The service worker
// (/sw.js) shows the pushes; see docs/notifications.md.

import { del, get, patch, post } from './api.js';
import { modal } from './dialogs.js';
import { el } from './util.js';
import { toast, toastError } from './toast.js';

const SUBSCRIPTION_ID = 'parlor.push.subscription';

/** Whether this browser can receive Web Push at all. */
export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** Whether this browser is subscribed for the signed-in user. */
export function pushSubscribed() {
  return Boolean(localStorage.getItem(SUBSCRIPTION_ID)) && Notification.permission === 'granted';
}

function base64UrlToBytes(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Asks permission, subscribes with the server's key and registers the subscription. */
export async function subscribePush() {
  if (!pushSupported()) throw new Error('This browser cannot receive push notifications.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this site in the browser’s settings.');
  const { vapid_public_key: key } = await get('/api/push/config');
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  // Made with another server key (the server's was replaced): start again.
  const current = subscription?.options?.applicationServerKey;
  if (subscription && current && !sameBytes(new Uint8Array(current), base64UrlToBytes(key))) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
  const created = await post('/api/push/subscriptions', subscription.toJSON());
  localStorage.setItem(SUBSCRIPTION_ID, String(created.id));
}

/** Deletes this browser's subscription on the server and in the browser. Never throws: it runs
 * on sign-out, which must go on. */
export async function unsubscribePush() {
  const id = localStorage.getItem(SUBSCRIPTION_ID);
  localStorage.removeItem(SUBSCRIPTION_ID);
  if (id) await del(`/api/push/subscriptions/${id}`).catch(() => {});
  try {
    const registration = await navigator.serviceWorker?.getRegistration('/');
    const subscription = await registration?.pushManager?.getSubscription();
    await subscription?.unsubscribe();
  } catch {
    // Nothing to undo.
  }
}

/** The switch in the notifications panel: on subscribes this browser, off unsubscribes it. */
export function pushSwitch() {
  const input = el('input', { type: 'checkbox', role: 'switch', id: 'push-switch', checked: pushSupported() && pushSubscribed() });
  input.addEventListener('change', async () => {
    input.disabled = true;
    try {
      if (input.checked) {
        await subscribePush();
        toast('Push notifications are on for this browser.');
      } else {
        await unsubscribePush();
      }
    } catch (error) {
      input.checked = false;
      toastError(error, 'Cannot turn on push notifications');
    }
    input.disabled = false;
  });
  return el('label', { class: 'check push-switch', hidden: !pushSupported() }, input, 'Push notifications on this device');
}

function timeZones() {
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return { here, all: all.includes(here) ? all : [here, ...all] };
}

/** Your notification preferences: push and email on or off, email's delay, quiet hours. */
export async function notificationSettingsDialog() {
  let settings;
  try {
    settings = await get('/api/users/me/notification-settings');
  } catch (error) {
    toastError(error);
    return;
  }
  const { dialog, body } = modal('Notification settings', 'notif-settings');
  const { here, all } = timeZones();
  const quietOn = settings.quiet_hours !== null;
  const pushOn = el('input', { id: 'pref-push', type: 'checkbox', checked: settings.push });
  const emailOn = el('input', { id: 'pref-email', type: 'checkbox', checked: settings.email });
  const delay = el('input', { id: 'pref-delay', class: 'text-input', type: 'number', min: 1, max: 1440, inputmode: 'numeric',
    value: settings.email_delay_minutes ?? '', placeholder: 'server default' });
  const quiet = el('input', { id: 'pref-quiet', type: 'checkbox', checked: quietOn });
  const start = el('input', { id: 'pref-quiet-start', class: 'text-input', type: 'time', value: settings.quiet_hours?.start || '22:00' });
  const end = el('input', { id: 'pref-quiet-end', class: 'text-input', type: 'time', value: settings.quiet_hours?.end || '07:00' });
  const zone = el('select', { id: 'pref-quiet-zone', class: 'text-input' },
    ...all.map((name) => el('option', { value: name, selected: name === (settings.quiet_hours?.time_zone || here) }, name)));
  const hours = el('fieldset', { class: 'quiet-hours', disabled: !quietOn },
    el('legend', { class: 'sub' }, 'Nothing is pushed or mailed between'),
    el('div', { class: 'quiet-times' },
      el('label', { class: 'field', for: 'pref-quiet-start' }, 'From'), start,
      el('label', { class: 'field', for: 'pref-quiet-end' }, 'Until'), end),
    el('label', { class: 'field', for: 'pref-quiet-zone' }, 'Time zone'), zone);
  quiet.addEventListener('change', () => { hours.disabled = !quiet.checked; });
  const error = el('p', { class: 'form-error', role: 'alert' });
  const save = el('button', { class: 'primary', type: 'submit' }, 'Save');
  const form = el('form', { class: 'profile-form', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    save.disabled = true;
    try {
      await patch('/api/users/me/notification-settings', {
        push: pushOn.checked,
        email: emailOn.checked,
        email_delay_minutes: delay.value === '' ? null : Number(delay.value),
        quiet_hours: quiet.checked ? { start: start.value, end: end.value, time_zone: zone.value } : null,
      });
      dialog.close();
      toast('Notification settings saved.');
    } catch (err) {
      error.textContent = err.message || 'Cannot save your settings';
      save.disabled = false;
    }
  } },
  el('label', { class: 'check' }, pushOn, 'Push notifications to my subscribed browsers'),
  el('label', { class: 'check' }, emailOn, 'Email about messages I have not read'),
  el('label', { class: 'field', for: 'pref-delay' }, 'Minutes before an email'), delay,
  el('label', { class: 'check' }, quiet, 'Quiet hours'),
  hours,
  el('p', { class: 'sub' }, 'Your inbox here fills either way.'),
  error, el('div', { class: 'dialog-actions' }, save));
  body.append(form);
  pushOn.focus();
}
