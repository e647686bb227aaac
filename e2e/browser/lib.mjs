// Harness of the browser tests: real headless Chromium (Debian's
// `chromium`, or the binary CHROMIUM names) driven by playwright-core
// against a confab started by ../lib/server.mjs. Screenshots of each step
// go to e2e/output/screenshots/.

import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, uid } from '../lib/server.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'e2e', 'output', 'screenshots');

/**
 * Why the browser tests are skipped, or null. A missing browser is a
 * failure, not a skip (CI must not pass without them), unless
 * CONFAB_E2E_SKIP_BROWSER=1 asks for the skip.
 */
export function skipBrowser() {
  if (process.env.CONFAB_E2E_SKIP_BROWSER === '1') return 'CONFAB_E2E_SKIP_BROWSER=1';
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium, set CHROMIUM, or set CONFAB_E2E_SKIP_BROWSER=1`);
  }
  return null;
}

/**
 * Launches Chromium; every page error, dialog other than a confirm, and
 * Content-Security-Policy violation of its pages is collected in `errors`.
 */
export async function launch() {
  // Playwright gives the browser a fresh temporary profile of its own
  // (--user-data-dir), removed on close; each context has its own cookies.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
  const errors = [];
  return {
    browser,
    errors,
    /** A new browser context (its own cookies) with one page on `url`. */
    async page(url, { viewport = { width: 1200, height: 800 } } = {}) {
      const context = await browser.newContext({ viewport, acceptDownloads: false });
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      // A blocked script, style or connection would break the page silently.
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(`csp: ${m.text()}`);
      });
      page.on('dialog', (d) => {
        if (d.type() === 'confirm') d.accept();
        else {
          errors.push(`dialog ${d.type()}: ${d.message()}`);
          d.dismiss();
        }
      });
      await page.goto(url);
      return page;
    },
    async close() {
      await browser.close();
    },
  };
}

/** Waits until `fn()` (run in the test) is truthy; resolves its value. */
export async function until(fn, what, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Writes a screenshot of `page` as `<name>.png` under e2e/output/screenshots. */
export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Signs a new account up through the page's form; returns {username, password, displayName}. */
export async function signUp(page, prefix, displayName) {
  const username = uid(prefix);
  const password = `pass-${uid('pw')}`;
  await page.locator('#signup-username').fill(username);
  if (displayName) await page.locator('#signup-display').fill(displayName);
  await page.locator('#signup-password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#chat').waitFor({ state: 'visible' });
  await page.locator('body[data-connected="true"]').waitFor();
  return { username, password, displayName };
}

/** Starts a conversation with `usernames` through the sidebar form. */
export async function startConversation(page, usernames, title) {
  const details = page.locator('#new-conversation');
  if (!(await details.evaluate((d) => d.open))) await page.getByText('New conversation').click();
  await page.getByLabel(/Usernames/).fill(usernames.join(', '));
  if (title) await page.getByLabel(/Group title/).fill(title);
  await page.getByRole('button', { name: 'Start' }).click();
  await page.locator('#composer').waitFor({ state: 'visible' });
}

/** Sends `text` from the composer by Enter. */
export async function send(page, text) {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
}

/** The message bubbles' texts of the open conversation. */
export async function texts(page) {
  return page.locator('#messages .msg .text').allTextContents();
}

/** Opens the conversation of the list whose title is `title`. */
export async function open(page, title) {
  await page.locator('#conversations .conv', { hasText: title }).first().click();
  await page.locator('#composer').waitFor({ state: 'visible' });
}
