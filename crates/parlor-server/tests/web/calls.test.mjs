// Calls in real browsers (Chromium's fake camera, microphone and screen): Ann video-calls Ben,
// whose two devices ring until one answers; their connections reach `connected` and the RTP
// bytes each receives keep growing; a shared screen replaces Ann's camera track; hang-up leaves
// the call's message in both logs. A decline, a call nobody answers (missed), the caller's tab
// closing, a call started while the page is still connecting (it waits for the socket, then
// gives up and says so), three people in a room, the phone layout (390 px) and keyboard use;
// and, with a real coturn started by the Rust side (TURN_URL), a call forced through the relay
// with the TURN credentials parlor minted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, noErrors, register, registerRest, rest, dm, tokenOf, shot, assertLayout, assertAccessible, BASE, PASSWORD, PHONE } from './helpers.mjs';

const MEDIA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];
const WAIT = 20000;

let browser;
let ann;
let ben;
let benPhone;
let cal;
const ids = {};

async function signIn(page, username) {
  await page.goto(`${BASE}/`);
  await page.fill('#login-username', username);
  await page.fill('#login-password', PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.sidebar').waitFor();
}

async function openChat(p, title) {
  await p.page.locator('.conv', { hasText: title }).first().click();
  await p.page.locator('.chat-head .chat-name', { hasText: title }).waitFor();
}

/** The call's connections as the page sees them: [{peer, state, bytes, relay, sending}]. */
function stats(p) {
  return p.page.evaluate(() => window.parlorCalls.stats());
}

/** Waits until this person has `peers` connections, all connected, each receiving more RTP
 * bytes than at the first look (media keeps flowing, not just a handshake). */
async function flowing(p, peers, { relay = false } = {}) {
  const deadline = Date.now() + WAIT;
  let first = null;
  for (;;) {
    const now = await stats(p);
    const ready = now.length === peers && now.every((s) => s.state === 'connected' && s.bytes > 0);
    if (ready && !first) first = now;
    else if (ready && now.every((s) => s.bytes > first.find((f) => f.peer === s.peer).bytes)) {
      if (relay) assert.ok(now.every((s) => s.relay), `every connection goes through the TURN relay: ${JSON.stringify(now)}`);
      return now;
    }
    assert.ok(Date.now() < deadline, `media did not flow: ${JSON.stringify(now)}`);
    await p.page.waitForTimeout(300);
  }
}

const incoming = (p) => p.page.getByRole('alertdialog');

/** Waits for `callee`'s incoming-call dialog; if it never comes, says what the caller's page
 * showed (its toasts, its call state), so a rare failure in CI names its cause. */
async function rings(callee, caller) {
  try {
    await incoming(callee).waitFor();
  } catch (error) {
    const seen = await caller.page.evaluate(() => ({
      toasts: [...document.querySelectorAll('.toast')].map((t) => t.textContent),
      call: window.parlorCalls?.call && { id: window.parlorCalls.call.id, phase: window.parlorCalls.call.phase },
    })).catch((e) => `(the caller's page could not be read: ${e.message})`);
    throw new Error(`no incoming call; the caller's page showed ${JSON.stringify(seen)}`, { cause: error });
  }
}
const callScreen = (p) => p.page.locator('.call-screen');

/** Ann opens her DM with Ben in a new tab (`setup` runs on it first) and waits for it. */
async function annOpensTheDm(setup = async () => {}) {
  const page = await ann.context.newPage();
  page.on('pageerror', (error) => ann.errors.push(error));
  await setup(page);
  await page.goto(`${BASE}/#/c/${ids.dm}`);
  await page.locator('.chat-head .chat-name', { hasText: 'Ben Answer' }).waitFor();
  return page;
}

async function hangUpAll(...people) {
  for (const p of people) {
    const button = p.page.getByRole('button', { name: 'Hang up' });
    if (await button.isVisible()) await button.click();
  }
  for (const p of people) await callScreen(p).waitFor({ state: 'detached' });
}

before(async () => {
  browser = await launch(MEDIA_FLAGS);
  [ann, ben, benPhone, cal] = await Promise.all([person(browser), person(browser), person(browser, PHONE), person(browser)]);
  await register(ann.page, 'ann', 'Ann Call');
  await register(ben.page, 'ben', 'Ben Answer');
  const calRest = await registerRest('cal', 'Cal Third');
  await signIn(benPhone.page, 'ben');
  await signIn(cal.page, 'cal');
  for (const [name, p] of Object.entries({ ann, ben })) ids[name] = await p.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id);
  ids.cal = calRest.user.id;
  const token = await tokenOf(ann.page);
  ids.dm = (await dm(token, ids.ben)).id;
  ids.room = (await rest(token, '/api/chat/rooms/', { method: 'POST', body: JSON.stringify({ title: 'Kitchen job', members: [ids.ben, ids.cal] }) })).id;
  await rest(token, `/api/chat/conversations/${ids.dm}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Can we talk about the job?' }) });
  await openChat(ann, 'Ben Answer');
  await openChat(ben, 'Ann Call');
});

after(async () => {
  await browser?.close();
});

test('a video call rings both devices, connects, shares a screen and hangs up', async () => {
  await ann.page.getByRole('button', { name: 'Video call' }).click();
  await callScreen(ann).waitFor();
  for (const device of [ben, benPhone]) {
    await incoming(device).waitFor();
    assert.match(await incoming(device).textContent(), /Ann Call.*Incoming video call/s);
  }
  assert.equal(await ben.page.evaluate(() => window.parlorCalls.audio?.state !== undefined), true, 'a ring tone plays');
  await assertAccessible(ben.page, 'an incoming call');
  await shot(ben.page, 'call-incoming-desktop-light');

  await ben.page.getByRole('button', { name: 'Accept' }).click();
  await incoming(benPhone).waitFor({ state: 'detached' });
  assert.equal(await benPhone.page.locator('.call-layer[open]').count(), 0, 'the other device stopped ringing');
  const annSide = await flowing(ann, 1);
  await flowing(ben, 1);
  assert.match(annSide[0].sending, /fake/, `Ann sends her camera: ${annSide[0].sending}`);
  await callScreen(ann).locator('.call-duration', { hasText: /^\d+:\d\d$/ }).waitFor();

  // Screen sharing replaces the camera's track, and Ben keeps receiving.
  await ann.page.getByRole('button', { name: 'Share screen' }).click();
  await ann.page.getByRole('button', { name: 'Share screen', pressed: true }).waitFor();
  const sharing = await stats(ann);
  assert.match(sharing[0].sending, /screen/, `the screen's track is sent: ${sharing[0].sending}`);
  await flowing(ben, 1);
  await assertLayout(ann.page, 'in a call, sharing the screen');
  await assertAccessible(ann.page, 'in a call');
  await shot(ann.page, 'call-video-desktop-light');
  await ann.page.getByRole('button', { name: 'Share screen' }).click();
  await ann.page.getByRole('button', { name: 'Share screen', pressed: false }).waitFor();
  assert.match((await stats(ann))[0].sending, /fake/, 'back to the camera');

  // Mute and camera are toggles that say their state.
  await ben.page.getByRole('button', { name: 'Mute' }).click();
  await ben.page.getByRole('button', { name: 'Mute', pressed: true }).waitFor();
  assert.equal(await ben.page.evaluate(() => window.parlorCalls.local.getAudioTracks()[0].enabled), false);

  await ben.page.getByRole('button', { name: 'Hang up' }).click();
  await callScreen(ann).waitFor({ state: 'detached' });
  await callScreen(ben).waitFor({ state: 'detached' });
  for (const p of [ann, ben]) await p.page.locator('.call-note[data-outcome="answered"]', { hasText: /Video call · \d+:\d\d/ }).waitFor();
  assert.equal(await ann.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Video call', 'focus returns to the call button');
  noErrors(ann, ben, benPhone);
});

test('a declined call ends for the caller and is logged', async () => {
  await ann.page.getByRole('button', { name: 'Voice call' }).click();
  await rings(ben, ann);
  await ben.page.getByRole('button', { name: 'Decline' }).click();
  await callScreen(ann).waitFor({ state: 'detached' });
  await ann.page.locator('.toast', { hasText: 'Call declined' }).waitFor();
  await incoming(benPhone).waitFor({ state: 'detached' });
  for (const p of [ann, ben]) await p.page.locator('.call-note.is-missed[data-outcome="declined"]').waitFor();
  noErrors(ann, ben);
});

test('an unanswered call is missed, and a caller who leaves stops the ringing', async () => {
  await ann.page.getByRole('button', { name: 'Video call' }).click();
  await rings(ben, ann);
  // Nobody answers: the server's ringing timeout (calls.ring_timeout_secs) ends it.
  await incoming(ben).waitFor({ state: 'detached', timeout: 30000 });
  await callScreen(ann).waitFor({ state: 'detached' });
  await ben.page.locator('.call-note.is-missed', { hasText: 'Missed video call' }).waitFor();

  await ann.page.getByRole('button', { name: 'Voice call' }).click();
  await rings(ben, ann);
  await ann.page.close();
  await incoming(ben).waitFor({ state: 'detached' });
  await incoming(benPhone).waitFor({ state: 'detached' });
  ann.page = await annOpensTheDm();
  noErrors(ann, ben, benPhone);
});

test('a call started while the page is still connecting waits for the socket', async () => {
  // Ann opens the chat on a slow network: her socket is held back while she presses call.
  const opened = async () => {
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const page = await annOpensTheDm((p) => p.routeWebSocket(/\/ws\//, async (ws) => { await held; ws.connectToServer(); }));
    return { page, release };
  };
  const offline = (page) => page.locator('.toast', { hasText: 'You are offline' });
  const slow = await opened();
  await slow.page.getByRole('button', { name: 'Voice call' }).click();
  await slow.page.locator('.call-screen').waitFor();
  await slow.page.waitForTimeout(1000);
  assert.equal(await offline(slow.page).count(), 0, 'not refused while connecting');
  slow.release();
  await rings(ben, { page: slow.page });
  await ben.page.getByRole('button', { name: 'Decline' }).click();
  await slow.page.locator('.toast', { hasText: 'Call declined' }).waitFor();
  await incoming(benPhone).waitFor({ state: 'detached' });
  await slow.page.close();

  // A socket that never comes: the call gives up after a few seconds and says why.
  const never = await opened();
  await never.page.getByRole('button', { name: 'Voice call' }).click();
  await offline(never.page).waitFor({ timeout: 10000 });
  await never.page.locator('.call-screen').waitFor({ state: 'detached' });
  assert.equal(await incoming(ben).count(), 0, 'nobody rang');
  await never.page.close();
  noErrors(ann, ben, benPhone);
});

test('three people in a room see and hear each other', async () => {
  await openChat(ann, 'Kitchen job');
  await ann.page.getByRole('button', { name: 'Video call' }).click();
  await rings(ben, ann);
  await ben.page.getByRole('button', { name: 'Accept' }).click();
  await rings(cal, ann);
  await cal.page.getByRole('button', { name: 'Accept' }).click();
  for (const p of [ann, ben, cal]) await flowing(p, 2);
  assert.equal(await callScreen(cal).locator('.call-tile').count(), 3);
  await hangUpAll(ann, ben, cal);
  await ann.page.locator('.call-note[data-outcome="answered"]').waitFor();
  noErrors(ann, ben, cal);
});

test('on a phone the call fits the screen and works from the keyboard', async () => {
  await openChat(ann, 'Ben Answer');
  // Ben's laptop is away: only his phone rings.
  await ben.page.goto('about:blank');
  await ann.page.getByRole('button', { name: 'Video call' }).click();
  await rings(benPhone, ann);
  await assertLayout(benPhone.page, 'an incoming call on a phone');
  await assertAccessible(benPhone.page, 'an incoming call on a phone');
  await shot(benPhone.page, 'call-incoming-phone-light');
  // Accept has the focus; Tab stays in the dialog; Enter answers.
  assert.equal(await benPhone.page.evaluate(() => document.activeElement.textContent), 'Accept');
  await benPhone.page.keyboard.press('Tab');
  assert.equal(await benPhone.page.evaluate(() => document.activeElement.textContent), 'Decline', 'focus wraps inside the dialog');
  await benPhone.page.keyboard.press('Shift+Tab');
  await benPhone.page.keyboard.press('Enter');
  await flowing(benPhone, 1);
  await flowing(ann, 1);
  await assertLayout(benPhone.page, 'in a call on a phone');
  await assertAccessible(benPhone.page, 'in a call on a phone');
  await shot(benPhone.page, 'call-video-phone-light');
  // Tab moves through the controls and stays in the call screen.
  const seen = [];
  for (let i = 0; i < 6; i += 1) {
    await benPhone.page.keyboard.press('Tab');
    seen.push(await benPhone.page.evaluate(() => document.activeElement.getAttribute('aria-label')));
  }
  assert.ok(seen.includes('Mute') && seen.includes('Hang up'), `the controls are reachable: ${seen}`);
  assert.ok(seen.every(Boolean), `focus never leaves the call screen: ${seen}`);
  await benPhone.page.getByRole('button', { name: 'Hang up' }).focus();
  await benPhone.page.keyboard.press('Enter');
  await callScreen(ann).waitFor({ state: 'detached' });
  await ben.page.goto(`${BASE}/#/c/${ids.dm}`);
  noErrors(ann, benPhone);
});

test('through a real TURN server with the credentials parlor minted', { skip: !process.env.TURN_URL && 'TURN_URL is not set' }, async () => {
  const relayed = await Promise.all([person(browser), person(browser)]);
  // Only relay candidates: the call can only connect through coturn.
  for (const p of relayed) {
    await p.context.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Native {
        constructor(config = {}) { super({ ...config, iceTransportPolicy: 'relay' }); }
      };
    });
  }
  const [dee, eve] = relayed;
  await register(dee.page, 'dee', 'Dee Relay');
  await register(eve.page, 'eve', 'Eve Relay');
  const eveId = await eve.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id);
  const conversation = await dm(await tokenOf(dee.page), eveId);
  const servers = await rest(await tokenOf(dee.page), '/api/calls/ice-servers');
  assert.deepEqual(servers.ice_servers.map((s) => s.urls).flat(), [process.env.TURN_URL]);
  await dee.page.goto(`${BASE}/#/c/${conversation.id}`);
  await dee.page.getByRole('button', { name: 'Voice call' }).click();
  await incoming(eve).waitFor();
  await eve.page.getByRole('button', { name: 'Accept' }).click();
  await flowing(dee, 1, { relay: true });
  await flowing(eve, 1, { relay: true });
  await hangUpAll(dee, eve);
  noErrors(dee, eve);
});
