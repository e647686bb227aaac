// The operator console (/admin) in real headless Chromium against the real
// confab: a user who is not an operator is told so, an operator signs in
// and sees the live figures move as a socket.io-client user chats, finds a
// user by name and disables them (their token is refused at once), and a
// name written as markup stays text. Screenshots go to
// e2e/output/screenshots/console-*.png.
//
// SQLite only, as the other browser tests: what this checks is the page;
// the admin API is covered on both stores by e2e/console.test.mjs.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BIN, startServer, user, uid, conversation, connectUser, emitAck, closeAll,
} from '../lib/server.mjs';
import { launch, skipBrowser, shot, until } from './lib.mjs';

const skip = process.env.CONFAB_E2E_DATABASE_URL
  ? 'the browser tests run on SQLite only'
  : skipBrowser();

/** Creates a password user with a chosen id in `dataDir`, before the server starts. */
function addUser(dataDir, id, password, name) {
  execFileSync(BIN, ['user', 'add', '--id', id, '--username', id, '--name', name], {
    env: { ...process.env, CONFAB_DATA_DIR: dataDir, CONFAB_USER_PASSWORD: password },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function signIn(page, username, password) {
  await page.locator('#signin-username').fill(username);
  await page.locator('#signin-password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('operator console in Chromium', { skip: skip ?? false }, () => {
  let server;
  let chrome;
  const ops = { id: uid('ops'), password: `pw-${uid('ops')}` };
  const plain = { id: uid('plain'), password: `pw-${uid('plain')}` };

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'confab-e2e-console-'));
    addUser(dataDir, ops.id, ops.password, 'Operator');
    addUser(dataDir, plain.id, plain.password, 'Not An Operator');
    server = await startServer({
      env: { CONFAB_DATA_DIR: dataDir, CONFAB_ADMIN_USERS: ops.id },
    });
    chrome = await launch();
  });

  after(async () => {
    const errors = [...(chrome?.errors ?? [])];
    await closeAll();
    await chrome?.close();
    await server?.stop();
    assert.deepEqual(errors, [], 'no page error, alert or CSP violation in the console');
  });

  it('tells a signed-in user who is not an operator so, and lets an operator in', async () => {
    const page = await chrome.page(`${server.url}/admin`);
    await page.locator('#signin').waitFor({ state: 'visible' });
    await shot(page, 'console-01-sign-in');
    await signIn(page, plain.id, plain.password);
    await page.locator('#forbidden').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#console').isVisible(), false);
    await shot(page, 'console-02-not-an-operator');

    await page.getByRole('button', { name: 'Sign in as someone else' }).click();
    await page.locator('#signin').waitFor({ state: 'visible' });
    await signIn(page, ops.id, ops.password);
    await page.locator('#console').waitFor({ state: 'visible' });
    // The session is an HttpOnly cookie: nothing the page's scripts can read.
    assert.equal(await page.evaluate(() => document.cookie), '');
    await page.context().close();
  });

  it('shows the live figures move as users connect and chat, and disables a user found by name', async () => {
    const alice = await user(server, 'alice', { name: '<img src=x onerror=alert(1)>' });
    const bob = await user(server, 'bob');
    const conv = await conversation(server, alice, [bob]);

    const page = await chrome.page(`${server.url}/admin`);
    await signIn(page, ops.id, ops.password);
    await page.locator('#console').waitFor({ state: 'visible' });
    const total = async () => Number(await page.locator('#conn-total').textContent());
    const stored = async () => Number(await page.locator('#msg-stored').textContent());
    // The tiles show "–" until the first overview has come.
    await until(async () => /^\d+$/.test(await page.locator('#conn-total').textContent()), 'the first figures');
    const connectionsBefore = await total();
    const storedBefore = await stored();

    const a = await connectUser(server, alice);
    const b = await connectUser(server, bob);
    for (const s of [a, b]) {
      const ack = await emitAck(s, 'join:conversation', { conversationId: conv.uuid });
      assert.notEqual(ack?.success, false, JSON.stringify(ack));
    }
    for (let i = 0; i < 3; i += 1) {
      const ack = await emitAck(a, 'send:message', { conversationId: conv.uuid, message: `hello ${i}` });
      assert.equal(ack?.success, true, JSON.stringify(ack));
    }
    await until(async () => (await total()) === connectionsBefore + 2, 'two more connections on the tile');
    await until(async () => (await stored()) === storedBefore + 3, 'three more messages stored on the tile');
    const dozaar = page.locator('#conn-rows tr', { hasText: 'dozaar' });
    assert.match(await dozaar.textContent(), /dozaar\s*2\s*0/);
    await shot(page, 'console-03-figures');

    // The name written as markup is found by its text and shown as text.
    await page.locator('#search-query').fill('<img');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('#user-rows tr', { hasText: alice.id });
    await row.waitFor();
    assert.equal(await page.locator('#user-rows img').count(), 0, 'no element made from a name');
    assert.match(await row.textContent(), /<img src=x onerror=alert\(1\)>/);

    await row.getByRole('button', { name: 'Disable' }).click();
    // The row is replaced by the answer's.
    await page.locator('#user-rows tr', { hasText: alice.id }).locator('.state-disabled').waitFor();
    await shot(page, 'console-04-disabled');
    const refused = await server.rest('GET', '/api/me', { token: alice.token });
    assert.equal(refused.status, 401, 'a disabled user\'s token is refused at once');
    await until(async () => !a.connected, 'the disabled user\'s socket to close', 6000);

    // Enabled again from the same row.
    const fresh = page.locator('#user-rows tr', { hasText: alice.id });
    await fresh.getByRole('button', { name: 'Enable' }).click();
    await page.locator('#user-rows tr', { hasText: alice.id }).locator('.state-enabled').waitFor();
    const back = await server.rest('GET', '/api/me', { token: alice.token });
    assert.equal(back.status, 200);
    await page.context().close();
  });
});
