// What every browser test file shares: launching Chromium, people (browser contexts) whose
// script errors fail the run, signing up through the UI or over REST, host-app tokens, and the
// checks of what a person sees: layout (nothing wider than the screen, header buttons reachable,
// rows keeping their time and badge), menus without "false" in them, and axe-core.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const BASE = process.env.PARLOR_URL.replace(/\/$/, '');
export const SHOTS = process.env.SCREENSHOT_DIR;
export const TIMEOUT = 20000;
export const PASSWORD = 'correct horse battery';
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

// Without the background-networking flags Chromium's own connections are refused here, many at
// a time, and slow everything down.
export const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launch(extra = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...FLAGS, ...extra] });
}

/** A person: a browser context with one page; script errors and failed assertions in the page
 * are collected and checked by `noErrors`. */
export async function person(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  const sockets = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  page.on('pageerror', (error) => errors.push(error));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket|net::ERR/.test(message.text())) errors.push(new Error(message.text()));
  });
  return { context, page, errors, sockets };
}

export function noErrors(...people) {
  for (const p of people) assert.deepEqual(p.errors.map(String), []);
}

export async function register(page, username, name) {
  await page.goto(`${BASE}/`);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.fill('#login-username', username);
  await page.fill('#login-password', PASSWORD);
  await page.fill('#login-name', name);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('.sidebar').waitFor();
}

/** Signs up over REST: {access, user}. */
export async function registerRest(username, name) {
  const response = await fetch(`${BASE}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD, name }) });
  assert.equal(response.status, 201, `register ${username}`);
  return response.json();
}

export async function tokenOf(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('parlor.session')).access);
}

export async function rest(token, path, options = {}) {
  const response = await fetch(`${BASE}${path}`, { ...options, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...options.headers } });
  return response.status === 204 ? null : response.json();
}

export function send(token, conversationId, content) {
  return rest(token, `/api/chat/conversations/${conversationId}/messages/`, { method: 'POST', body: JSON.stringify({ content }) });
}

export function dm(token, userId) {
  return rest(token, '/api/chat/conversations/', { method: 'POST', body: JSON.stringify({ user_id: userId }) });
}

/** A host-app token (HS256 with the platform's secret). */
export function hostToken(sub, name) {
  const part = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
  const claims = { sub, exp: Math.floor(Date.now() / 1000) + 600 };
  if (name) claims.name = name;
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', process.env.JWT_SECRET).update(body).digest('base64url')}`;
}

export const bubbles = (page, text) => page.locator('.messages .msg .text', { hasText: text });

export async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  // Fonts and images settle before the picture is taken.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** Opens a message's menu (the ··· button on desktop, a tap on the bubble on touch screens). */
export async function menuOf(page, text, { touch = false } = {}) {
  const row = page.locator('.msg', { has: page.locator('.text', { hasText: text }) }).last();
  if (touch) {
    await row.locator('.text').tap();
  } else {
    await row.hover();
    await row.getByRole('button', { name: /^Actions for/ }).click();
  }
  const menu = page.getByRole('menu');
  await menu.waitFor();
  return menu;
}

/**
 * What a person sees, checked: no element wider than the viewport or outside it sideways, every
 * header button inside it and the element at its centre, each conversation row's time and badge
 * inside the row, no text node reading "false", "undefined" or "null".
 */
export async function assertLayout(page, where) {
  const problems = await page.evaluate(() => {
    const found = [];
    const width = window.innerWidth;
    const describe = (node) => `${node.tagName.toLowerCase()}${node.className && typeof node.className === 'string' ? `.${node.className.trim().split(/\s+/).join('.')}` : ''}${node.getAttribute('aria-label') ? `[${node.getAttribute('aria-label')}]` : ''}`;
    if (document.documentElement.scrollWidth > width + 1) found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
    for (const node of document.body.querySelectorAll('*')) {
      const rect = node.getBoundingClientRect();
      if (!rect.width || !rect.height || node.closest('.sr-only')) continue;
      if (rect.width > width + 1 || rect.left < -1 || rect.right > width + 1) found.push(`${describe(node)} spans ${Math.round(rect.left)}..${Math.round(rect.right)} of ${width}`);
    }
    // Under an open modal dialog the headers are rightly out of reach.
    const headers = document.querySelector('dialog[open]') ? [] : document.querySelectorAll('.sidebar-head button, .chat-head button, .chat-head a, .embed-state-head button');
    for (const button of headers) {
      const rect = button.getBoundingClientRect();
      if (!rect.width) continue;
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      const hit = document.elementFromPoint(x, y);
      if (x < 0 || x > width || !hit || !(button === hit || button.contains(hit))) found.push(`header button ${describe(button)} cannot be clicked (at ${Math.round(x)},${Math.round(y)}: ${hit ? describe(hit) : 'nothing'})`);
    }
    for (const row of document.querySelectorAll('.conv')) {
      const box = row.getBoundingClientRect();
      if (!box.width) continue;
      for (const part of row.querySelectorAll('.conv-time, .badge')) {
        const rect = part.getBoundingClientRect();
        if (!rect.width || rect.left < box.left - 1 || rect.right > box.right + 1) found.push(`${describe(part)} of "${row.querySelector('.conv-title')?.textContent}" is cut off (${Math.round(rect.left)}..${Math.round(rect.right)} in ${Math.round(box.left)}..${Math.round(box.right)})`);
      }
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      if (/^(false|true|undefined|null|NaN|\[object Object\])+$/.test(text.textContent.trim())) found.push(`a text node says "${text.textContent.trim()}" in ${describe(text.parentElement)}`);
    }
    return found;
  });
  assert.deepEqual(problems, [], `layout problems ${where}`);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (evaluated through the debugging protocol, which the page's CSP
 * does not govern) and fails on any serious or critical violation. */
export async function assertAccessible(page, where) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n')}`);
  });
  assert.deepEqual(violations, [], `accessibility violations ${where}`);
}

export async function setTheme(page, theme) {
  await page.evaluate((t) => { localStorage.setItem('parlor.theme', t); document.documentElement.dataset.theme = t; }, theme);
}
