// Voice notes and players, with Chromium's fake microphone: Fay records (click to start, and
// held down), previews and sends; Gus plays it and its time advances. An audio file and a video
// play in the browser's player, streamed from the server with Range requests through the
// service worker, and seek. The app shell works offline (service worker) and is installable
// (manifest, icons).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { launch, person, noErrors, register, rest, dm, tokenOf, shot, bubbles, assertLayout, assertAccessible, BASE, PHONE, FLAGS } from './helpers.mjs';

let browser;
let fay;
let gus;
let conversationId;

/** A WAV file of `seconds` of a 440 Hz tone, made here so the test has real audio. */
function toneWav(seconds, rate = 8000) {
  const samples = Math.round(seconds * rate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

before(async () => {
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required']);
  fay = await person(browser, { permissions: ['microphone'] });
  gus = await person(browser);
  await register(fay.page, 'fay', 'Fay Okonkwo');
  await register(gus.page, 'gus', 'Gus Lindqvist');
  const gusId = await gus.page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).user.id);
  conversationId = (await dm(await tokenOf(fay.page), gusId)).id;
  await rest(await tokenOf(fay.page), `/api/chat/conversations/${conversationId}/messages/`, { method: 'POST', body: JSON.stringify({ content: 'Listen to this' }) });
  for (const p of [fay.page, gus.page]) {
    await p.locator('.conv', { hasText: p === fay.page ? 'Gus Lindqvist' : 'Fay Okonkwo' }).click();
    await bubbles(p, 'Listen to this').waitFor();
  }
});

after(async () => {
  await browser?.close();
});

test('a voice note is recorded with a click, previewed, sent, and played by the other person', async () => {
  const { page } = fay;
  await page.getByRole('button', { name: 'Record a voice message' }).click();
  const recorder = page.getByRole('group', { name: 'Voice message' });
  await recorder.getByRole('timer').filter({ hasText: /0:0[2-9]/ }).waitFor();
  await recorder.getByRole('button', { name: 'Stop recording' }).click();
  // The preview: the recording's own length and a waveform, playable before sending.
  const preview = recorder.locator('.voice');
  await preview.locator('.voice-time', { hasText: /^0:0[2-9]$/ }).waitFor();
  assert.equal(await preview.locator('.waveform .bar').count(), 40);
  await recorder.getByRole('button', { name: 'Send voice message' }).click();
  await recorder.waitFor({ state: 'hidden' });

  const mine = page.locator('.msg.mine .voice').last();
  await mine.waitFor();
  const note = gus.page.locator('.msg.theirs .voice').last();
  await note.locator('.voice-time', { hasText: /^0:0[2-9]$/ }).waitFor();
  await gus.page.waitForFunction((node) => node.dataset.state === 'ready', await note.elementHandle());
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await gus.page.waitForFunction((node) => node.querySelector('audio').currentTime > 0.5, await note.elementHandle());
  await note.getByRole('button', { name: 'Pause voice message' }).click();
  await gus.page.mouse.move(0, 400);
  await shot(gus.page, 'voice-note-desktop-light');
  // Seeking on the waveform with the keyboard.
  await note.getByRole('slider').focus();
  await gus.page.keyboard.press('End');
  const position = await note.evaluate((node) => node.querySelector('audio').currentTime);
  assert.ok(position > 1.5, `End seeks to the end (${position})`);
  await assertLayout(gus.page, 'with a voice note');
  await assertAccessible(gus.page, 'with a voice note');
  // The list says what it is.
  await gus.page.locator('.conv-preview', { hasText: 'Voice message' }).waitFor();
});

test('a voice note can be held down to record and released to stop', async () => {
  const { page } = fay;
  const mic = page.getByRole('button', { name: 'Record a voice message' });
  const box = await mic.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  const recorder = page.getByRole('group', { name: 'Voice message' });
  await recorder.getByRole('timer').filter({ hasText: /0:0[1-9]/ }).waitFor();
  await page.mouse.up();
  await recorder.locator('.voice').waitFor();
  await recorder.getByRole('button', { name: 'Delete the recording' }).click();
  await recorder.waitFor({ state: 'hidden' });
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
});

test('an audio file plays in a player streamed with Range requests, and seeks', async () => {
  await gus.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const ranges = [];
  gus.context.on('request', (request) => {
    if (/\/api\/chat\/attachments\/\d+\/?$/.test(new URL(request.url()).pathname) && request.headers().range) ranges.push(request.headers().range);
  });
  await fay.page.locator('input[type=file]').setInputFiles({ name: 'tone.wav', mimeType: 'audio/wav', buffer: toneWav(6) });
  await fay.page.getByRole('dialog', { name: 'Send a file' }).getByRole('button', { name: 'Send' }).click();
  const player = gus.page.locator('.msg.theirs audio.audio-player').last();
  await player.waitFor();
  // Streamed from the server (the service worker adds the token), not downloaded whole first.
  await gus.page.waitForFunction((audio) => audio.src.includes('/api/chat/attachments/') && Math.abs(audio.duration - 6) < 0.2, await player.elementHandle());
  await player.evaluate((audio) => { audio.currentTime = 4; return audio.play(); });
  await gus.page.waitForFunction((audio) => audio.currentTime > 4.2, await player.elementHandle());
  assert.ok(ranges.length >= 1, 'the player asked for byte ranges');
  assert.equal(await gus.page.locator('.msg.theirs .media-name', { hasText: 'tone.wav' }).count(), 1);
});

test('on a phone, voice notes and players fit', async () => {
  const small = await person(browser, { ...PHONE, colorScheme: 'dark' });
  await small.page.goto(`${BASE}/`);
  await small.page.fill('#login-username', 'fay');
  await small.page.fill('#login-password', 'correct horse battery');
  await small.page.getByRole('button', { name: 'Sign in' }).click();
  await small.page.locator('.conv', { hasText: 'Gus Lindqvist' }).tap();
  await small.page.locator('.msg .voice').first().waitFor();
  await small.page.waitForFunction(() => [...document.querySelectorAll('.msg .voice')].every((v) => v.dataset.state === 'ready')
    && [...document.querySelectorAll('.msg audio.audio-player, .msg video')].every((m) => m.readyState >= 2 && m.networkState !== HTMLMediaElement.NETWORK_LOADING));
  await assertLayout(small.page, 'with voice notes on a phone');
  await assertAccessible(small.page, 'with voice notes on a phone, dark');
  await small.page.locator('.message-scroll').evaluate((node) => { node.scrollTop = node.scrollHeight; });
  await shot(small.page, 'voice-note-phone-dark');
  await small.context.close();
});

test('a video plays inline in the browser\'s player, streamed from the server', async () => {
  // A real WebM video, recorded in the page from a canvas (with its duration written in by the
  // client's own vendored fix-webm-duration).
  const base64 = await fay.page.evaluate(async () => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 160, height: 120 });
    const context = canvas.getContext('2d');
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const started = performance.now();
    recorder.start(100);
    await new Promise((resolve) => {
      const draw = () => {
        const t = performance.now() - started;
        context.fillStyle = `hsl(${(t / 5) % 360} 80% 50%)`;
        context.fillRect(0, 0, 160, 120);
        if (t < 2000) requestAnimationFrame(draw); else resolve();
      };
      draw();
    });
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.stop();
    await stopped;
    const fixed = await window.ysFixWebmDuration(new Blob(chunks, { type: 'video/webm' }), 2000, { logger: false });
    const bytes = new Uint8Array(await fixed.arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  });
  await fay.page.locator('input[type=file]').setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: Buffer.from(base64, 'base64') });
  await fay.page.getByRole('dialog', { name: 'Send a file' }).getByRole('button', { name: 'Send' }).click();
  const video = gus.page.locator('.msg.theirs video.video-player').last();
  await video.waitFor();
  await gus.page.waitForFunction((node) => node.src.includes('/api/chat/attachments/') && node.duration > 1.5 && node.duration < 2.5, await video.elementHandle());
  await video.evaluate((node) => { node.muted = true; return node.play(); });
  await gus.page.waitForFunction((node) => node.currentTime > 0.5, await video.elementHandle());
  await assertLayout(gus.page, 'with a video');
});

test('the app is installable: a manifest, icons and a service worker, no installability errors', async () => {
  // Playwright's contexts are incognito, where nothing installs: this one has a profile.
  const profile = mkdtempSync(join(tmpdir(), 'parlor-install-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS });
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(`${BASE}/`);
    await page.locator('.login-card').waitFor();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, []);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
  } finally {
    await context.close();
  }
});

test('the app opens offline after a reload, with the outbox working', async () => {
  const { page, context } = gus;
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await context.setOffline(true);
  await page.reload();
  await page.locator('.conv', { hasText: 'Fay Okonkwo' }).waitFor();
  await page.locator('.banner', { hasText: 'offline' }).waitFor();
  await page.locator('.conv', { hasText: 'Fay Okonkwo' }).click();
  await bubbles(page, 'Listen to this').waitFor();
  await page.getByRole('textbox', { name: 'Message' }).fill('Written offline after a reload');
  await page.keyboard.press('Enter');
  await page.locator('.msg.is-pending', { hasText: 'Written offline after a reload' }).waitFor();
  await context.setOffline(false);
  await bubbles(fay.page, 'Written offline after a reload').waitFor();
  await page.locator('.msg.is-pending').waitFor({ state: 'detached' });
});

test('no script errors', () => {
  noErrors(fay, gus);
});
