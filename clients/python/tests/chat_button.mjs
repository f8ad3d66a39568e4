// The "Chat with X" button of docs/integrate.md in Chromium: signed in to the Django platform
// (tests/marketplace) at PLATFORM_URL as SIGN_IN, open PROFILE's page, click the button, and send
// TEXT from the panel parlor opens. Run by test_browser.py, which checks the message arrived.
// Env: PLATFORM_URL, SIGN_IN, PROFILE, BUTTON (its label), TEXT, CHROMIUM, PLAYWRIGHT_DIR (a
// node_modules holding playwright-core: crates/parlor-server/tests/web's).

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { chromium } = createRequire(join(process.env.PLAYWRIGHT_DIR, 'noop.js'))('playwright-core');
const env = (name) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();

const profile = mkdtempSync(join(tmpdir(), 'parlor-django-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('CHROMIUM'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(20000);
const errors = [];
try {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(String(error)));
  const profilePage = `/people/${encodeURIComponent(env('PROFILE'))}/`;
  await page.goto(`${env('PLATFORM_URL')}/test-sign-in/${encodeURIComponent(env('SIGN_IN'))}/?next=${encodeURIComponent(profilePage)}`);
  await page.getByRole('button', { name: env('BUTTON') }).click();
  const frame = page.frameLocator('.parlor-panel iframe');
  const box = frame.getByRole('textbox', { name: 'Message' });
  await box.fill(env('TEXT'));
  await box.press('Enter');
  await frame.locator('.msg.mine .ticks[data-state="sent"]').waitFor();
  const title = await frame.locator('.chat-name').textContent();
  if (errors.length) throw new Error(`script errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ title }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
