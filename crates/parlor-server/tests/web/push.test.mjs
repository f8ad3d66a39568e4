// Web Push in Chromium (started by tests/api/web_client.rs, `push_in_a_real_browser`, on a server
// with push.allow_private_targets): the notifications panel's switch subscribes this browser and
// registers the subscription, the settings dialog saves quiet hours, the service worker shows a
// push delivered through the DevTools protocol (ServiceWorker.deliverPushMessage) as the
// conversation's notification, and signing out deletes the subscription. At 390 px, with axe.
//
// Headless Chromium has no push service to subscribe with here (it would ask Google's), so
// PushManager.subscribe is stood in for with a subscription holding real P-256 keys; everything
// around it (permission, the server's key, the REST calls, the worker's handler) is real.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { BASE, PHONE, launch, person, noErrors, register, tokenOf, rest, assertLayout, assertAccessible, shot } from './helpers.mjs';

let browser;
let dana;

const browserKey = createECDH('prime256v1');
browserKey.generateKeys();
const FAKE = {
  endpoint: 'http://127.0.0.1:9/push/dana-phone',
  p256dh: browserKey.getPublicKey().toString('base64url'),
  auth: randomBytes(16).toString('base64url'),
};

before(async () => {
  browser = await launch();
  dana = await person(browser, PHONE);
  await dana.context.grantPermissions(['notifications'], { origin: BASE });
  await dana.page.addInitScript((fake) => {
    window.pushCalls = { subscribed: [] };
    let current = null;
    const subscription = (key) => ({
      endpoint: fake.endpoint,
      options: { applicationServerKey: key.buffer },
      toJSON: () => ({ endpoint: fake.endpoint, expirationTime: null, keys: { p256dh: fake.p256dh, auth: fake.auth } }),
      unsubscribe: async () => {
        // Kept across the reload that signing out makes.
        sessionStorage.setItem('test.unsubscribed', String(Number(sessionStorage.getItem('test.unsubscribed') || 0) + 1));
        current = null;
        return true;
      },
    });
    if (window.PushManager) {
      PushManager.prototype.subscribe = async function subscribe(options) {
        const key = new Uint8Array(options.applicationServerKey);
        window.pushCalls.subscribed.push({ userVisibleOnly: options.userVisibleOnly, key: btoa(String.fromCharCode(...key)) });
        current = subscription(key);
        return current;
      };
      PushManager.prototype.getSubscription = async function getSubscription() { return current; };
    }
  }, FAKE);
});

after(async () => {
  await browser?.close();
});

async function subscriptions(token) {
  return (await rest(token, '/api/push/subscriptions')).results;
}

test('the panel switch subscribes this browser with the server key, and settings are saved', async () => {
  const { page } = dana;
  await register(page, 'dana', 'Dana Push');
  const token = await tokenOf(page);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));

  await page.getByRole('button', { name: /^Notifications/ }).click();
  const panel = page.getByRole('dialog', { name: 'Notifications' });
  const toggle = panel.getByRole('switch', { name: 'Push notifications on this device' });
  assert.equal(await toggle.isChecked(), false);
  await assertLayout(page, 'notifications panel with the push switch at 390 px');
  await assertAccessible(page, 'notifications panel with the push switch');
  await toggle.check();
  await page.getByText('Push notifications are on for this browser.').waitFor();
  const listed = await subscriptions(token);
  assert.deepEqual(listed.map((s) => s.endpoint), [FAKE.endpoint]);
  const { vapid_public_key: key } = await rest(token, '/api/push/config');
  const calls = await page.evaluate(() => window.pushCalls.subscribed);
  assert.deepEqual(calls, [{ userVisibleOnly: true, key: Buffer.from(key, 'base64url').toString('base64') }]);
  await shot(page, 'push-panel-phone');

  await panel.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Notification settings' });
  await dialog.getByLabel('Quiet hours').check();
  await dialog.getByLabel('From').fill('21:30');
  await dialog.getByLabel('Until').fill('06:45');
  await dialog.getByLabel('Time zone').selectOption('Asia/Tokyo');
  await dialog.getByLabel('Email about messages I have not read').uncheck();
  await dialog.getByLabel('Minutes before an email').fill('25');
  await assertLayout(page, 'notification settings at 390 px');
  await assertAccessible(page, 'notification settings');
  await shot(page, 'push-settings-phone');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Notification settings saved.').waitFor();
  const saved = await rest(token, '/api/users/me/notification-settings');
  assert.deepEqual(saved, { push: true, email: false, email_delay_minutes: 25, quiet_hours: { start: '21:30', end: '06:45', time_zone: 'Asia/Tokyo' } });
  noErrors(dana);
});

test('the service worker shows a push as the conversation\'s notification', async () => {
  const { page, context } = dana;
  const cdp = await context.newCDPSession(page);
  const registered = new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const mine = registrations.find((r) => r.scopeURL === `${BASE}/` && !r.isDeleted);
      if (mine) resolve(mine.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const registrationId = await registered;
  const deliver = (payload) => cdp.send('ServiceWorker.deliverPushMessage', { origin: BASE, registrationId, data: JSON.stringify(payload) });
  const shown = () => page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon, url: n.data?.url, sticky: n.requireInteraction }));
  });
  const until = async (check) => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const now = await shown();
      if (check(now)) return now;
      assert.ok(Date.now() < deadline, `notifications never got there: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await deliver({ type: 'message', conversation_id: 7, title: 'Erin', body: 'Is the bike still for sale?', icon: `${BASE}/app/icon-512.png`, tag: 'parlor-c7', unread_count: 1, url: '/#/c/7' });
  let now = await until((list) => list.length === 1);
  assert.deepEqual(now, [{ title: 'Erin', body: 'Is the bike still for sale?', tag: 'parlor-c7', icon: `${BASE}/app/icon-512.png`, url: '/#/c/7', sticky: false }]);

  // The same conversation again: the one shown is replaced, not stacked.
  await deliver({ type: 'message', conversation_id: 7, title: 'Erin (2 new messages)', body: 'Tomorrow works', icon: null, tag: 'parlor-c7', url: '/#/c/7' });
  now = await until((list) => list.length === 1 && list[0].body === 'Tomorrow works');
  assert.equal(now[0].title, 'Erin (2 new messages)');
  assert.equal(now[0].icon, `${BASE}/app/icon-192.png`, 'no avatar: the app icon');

  // Another conversation is a notification of its own; a URL off the app opens the app instead.
  await deliver({ type: 'mention', conversation_id: 9, title: 'Finn mentioned you', body: '@dana ok?', tag: 'parlor-c9', url: 'https://elsewhere.example/' });
  now = await until((list) => list.length === 2);
  assert.deepEqual(now.map((n) => [n.tag, n.url]).sort(), [['parlor-c7', '/#/c/7'], ['parlor-c9', '/']]);

  // A ringing call stays up until it is answered or dismissed.
  await deliver({ type: 'call', conversation_id: 7, call_id: 'c1', media: 'video', title: 'Erin is calling', body: 'Incoming video call', icon: null, tag: 'parlor-call7', url: '/#/c/7' });
  now = await until((list) => list.length === 3);
  const ringing = now.find((n) => n.tag === 'parlor-call7');
  assert.deepEqual([ringing.title, ringing.body, ringing.sticky], ['Erin is calling', 'Incoming video call', true]);

  // A click on a notification closes it and tells the app's open tab to show its conversation
  // (the DevTools protocol cannot click a system notification: the event is dispatched in the
  // worker, as the browser would).
  const opened = page.evaluate(() => new Promise((resolve) => {
    navigator.serviceWorker.addEventListener('message', (e) => { if (e.data?.type === 'parlor:open') resolve(e.data.url); });
  }));
  const [worker] = context.serviceWorkers();
  assert.ok(worker, 'the app\'s service worker runs');
  await worker.evaluate(async () => {
    const [clicked] = await self.registration.getNotifications({ tag: 'parlor-c7' });
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification: clicked }));
  });
  assert.equal(await opened, '/#/c/7');
  now = await until((list) => list.length === 2);
  assert.ok(!now.some((n) => n.tag === 'parlor-c7'), 'the clicked notification is closed');
  noErrors(dana);
});

test('signing out deletes this browser\'s subscription', async () => {
  const { page } = dana;
  const token = await tokenOf(page);
  assert.equal((await subscriptions(token)).length, 1);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Create an account' }).waitFor();
  assert.deepEqual(await subscriptions(token), []);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('test.unsubscribed')), '1', 'and in the browser');
  noErrors(dana);
});
