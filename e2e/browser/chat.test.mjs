// The web client in real headless Chromium against the real confab: two
// users chat in two browser contexts, a browser user and a JobSpare
// socket.io-client user chat both ways, a browser goes offline and catches
// up, uploads show their image, and what users write stays text. Each step
// leaves a screenshot in e2e/output/screenshots/.
//
// These tests run against SQLite only: what they check is the page, and the
// stores are covered by every other suite on both backends.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ROOT, startServer, user, connect, waitFor, closeAll, sleep,
} from '../lib/server.mjs';
import {
  launch, skipBrowser, shot, until, signUp, startConversation, send, texts, open,
} from './lib.mjs';

const skip = process.env.CONFAB_E2E_DATABASE_URL
  ? 'the browser tests run on SQLite only'
  : skipBrowser();

/** The signed-in user of a page, read through the API with its cookie. */
function me(page) {
  return page.evaluate(() => fetch('/api/me').then((r) => r.json()));
}

/** The delivery state shown on the newest message of mine. */
function lastTick(page) {
  return page.locator('#messages .msg.mine .ticks').last().getAttribute('data-status');
}

describe('web client in Chromium', { skip: skip ?? false }, () => {
  let server;
  let chrome;
  before(async () => {
    server = await startServer({
      env: {
        CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000',
        CONFAB_PRESENCE_OFFLINE_GRACE_MS: '0',
      },
    });
    chrome = await launch();
  });
  after(async () => {
    const errors = [...(chrome?.errors ?? [])];
    await closeAll();
    await chrome?.close();
    await server?.stop();
    assert.deepEqual(errors, [], 'no page error, alert or CSP violation in any test');
  });

  it('serves the page with a strict Content-Security-Policy and keeps the token out of reach of its scripts', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const js = await fetch(`${server.url}/app/main.js`);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    assert.equal((await fetch(`${server.url}/app/missing.js`)).status, 404);

    const page = await chrome.page(`${server.url}/`);
    await shot(page, '01-sign-in');
    const carol = await signUp(page, 'carol', 'Carol');
    const seen = await page.evaluate(() => ({
      cookie: document.cookie,
      stored: Object.keys(localStorage).length + Object.keys(sessionStorage).length,
      html: document.documentElement.outerHTML,
    }));
    assert.doesNotMatch(seen.cookie, /confab_session/);
    assert.equal(seen.stored, 0, 'nothing in localStorage or sessionStorage');
    assert.doesNotMatch(seen.html, /eyJ[\w-]+\.[\w-]+\.[\w-]+/, 'no JWT in the page');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'confab_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    // The page's own fetch is signed in by the cookie alone.
    assert.equal((await me(page)).displayName, 'Carol');

    // Signing out removes the cookie; signing in with the form sets it again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#auth').waitFor({ state: 'visible' });
    assert.equal((await page.context().cookies()).some((c) => c.name === 'confab_session'), false);
    await page.locator('#signin-username').fill(carol.username);
    await page.locator('#signin-password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#auth-error', { hasText: 'wrong username or password' }).waitFor();
    await page.locator('#signin-password').fill(carol.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('body[data-connected="true"]').waitFor();
    assert.equal(await page.locator('#me-name').textContent(), 'Carol');
    await page.context().close();
  });

  it('lets two users in two browser contexts chat with typing, ticks, presence, unread counts, edits and deletes', async () => {
    const a = await chrome.page(`${server.url}/`);
    const b = await chrome.page(`${server.url}/`);
    await signUp(a, 'alice', 'Alice');
    const bob = await signUp(b, 'bob', 'Bob');
    await startConversation(a, [bob.username]);
    await shot(a, '02-conversation-started');

    // Bob's page shows the list (no conversation open): the message is
    // sent, not delivered (a notification is no delivery), and unread.
    await send(a, 'Hello Bob');
    await a.locator('#messages .msg.mine', { hasText: 'Hello Bob' }).waitFor();
    await b.locator('#conversations .unread', { hasText: '1' }).waitFor();
    await a.locator('#conv-status', { hasText: 'online' }).waitFor();
    assert.equal(await lastTick(a), 'sent');
    await shot(b, '03-unread-count');

    // A Dozaar client of Bob's (another device) in the conversation takes
    // the next message: delivered.
    const bobId = (await me(b)).id;
    const device = await connect(server, { token: await server.token(bobId) });
    const convId = await a.locator('#conversations .conv').first().getAttribute('data-id');
    device.emit('join:conversation', { conversationId: convId });
    await waitFor(device, 'joined:conversation');
    await send(a, 'Are you there?');
    await waitFor(device, 'new:message', (m) => m.message === 'Are you there?');
    await until(async () => (await lastTick(a)) === 'delivered', 'the delivered tick');
    await shot(a, '04-delivered-tick');
    device.close();

    // Bob opens it: read.
    await open(b, 'Alice');
    assert.deepEqual(await texts(b), ['Hello Bob', 'Are you there?']);
    await until(async () => (await lastTick(a)) === 'read', 'the read tick');
    assert.equal(await b.locator('#conversations .unread').count(), 0);

    // Typing, both ways.
    await b.locator('#text').pressSequentially('Hi Al', { delay: 20 });
    await a.locator('#typing', { hasText: 'Bob is typing' }).waitFor();
    await shot(a, '05-typing');
    await b.locator('#text').press('Enter');
    await a.locator('#messages .msg:not(.mine)', { hasText: 'Hi Al' }).waitFor();
    await until(async () => (await a.locator('#typing').textContent()) === '', 'typing to end');

    // Edit and delete reach the other side.
    const mine = a.locator('#messages .msg.mine', { hasText: 'Hello Bob' });
    await mine.getByRole('button', { name: 'Edit message' }).click();
    await a.getByLabel('Edit message text').fill('Hello Bob, edited');
    await a.getByLabel('Edit message text').press('Enter');
    await b.locator('#messages .msg', { hasText: 'Hello Bob, edited' }).locator('.edited').waitFor();
    await a.locator('#messages .msg.mine', { hasText: 'Hello Bob, edited' })
      .getByRole('button', { name: 'Delete message' }).click();
    await b.locator('#messages .msg.deleted', { hasText: 'This message was deleted' }).waitFor();
    await shot(b, '06-edited-and-deleted');

    // Presence: Bob leaves, Alice sees him offline.
    await b.context().close();
    await a.locator('#conv-status', { hasText: /last seen|offline/ }).waitFor();
    await shot(a, '07-presence-offline');
    await a.context().close();
    assert.deepEqual(chrome.errors, []);
  });

  it('sends with the keyboard alone: Tab to the message field, Enter to send', async () => {
    const a = await chrome.page(`${server.url}/`);
    const b = await chrome.page(`${server.url}/`);
    await signUp(a, 'kay', 'Kay');
    const lee = await signUp(b, 'lee', 'Lee');
    await startConversation(a, [lee.username]);
    await a.locator('#conversations .conv').first().focus();
    for (let i = 0; i < 12; i += 1) {
      if (await a.evaluate(() => document.activeElement?.id === 'text')) break;
      await a.keyboard.press('Tab');
    }
    assert.equal(await a.evaluate(() => document.activeElement?.id), 'text');
    await a.keyboard.type('typed without a mouse');
    await a.keyboard.press('Enter');
    await open(b, 'Kay');
    await b.locator('#messages .msg', { hasText: 'typed without a mouse' }).waitFor();
    await shot(b, '08-keyboard-send');
    await a.context().close();
    await b.context().close();
  });

  it('shows markup in a message and a bidi override in a name as text, and runs nothing', async () => {
    const a = await chrome.page(`${server.url}/`);
    const b = await chrome.page(`${server.url}/`);
    const evilName = '\u202Egnp.exe\u202C Mallory';
    await signUp(a, 'mallory', evilName);
    const vic = await signUp(b, 'victim', 'Victim');
    await startConversation(a, [vic.username]);
    const payloads = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>', '"><svg onload=alert(3)>'];
    for (const p of payloads) await send(a, p);
    await open(b, evilName);
    await until(async () => (await texts(b)).length === payloads.length, 'the three messages');
    assert.deepEqual(await texts(b), payloads);
    assert.equal(await b.locator('#messages img, #messages script, #messages svg').count(), 0);
    const sender = b.locator('#messages .msg .sender bdi').first();
    assert.equal(await sender.textContent(), evilName);
    assert.equal(await b.locator('#conv-title bdi').textContent(), evilName);
    await sleep(300);
    await shot(b, '09-markup-as-text');
    assert.deepEqual(chrome.errors, [], 'no alert, no page error');
    await a.context().close();
    await b.context().close();
  });

  it('lets a browser user and a JobSpare socket.io-client user chat both ways', async () => {
    const page = await chrome.page(`${server.url}/`);
    await signUp(page, 'webby', 'Webby');
    const web = await me(page);
    const js = await user(server, 'jsuser', { name: 'Jo Spare' });
    const sock = await connect(server, { url: server.urls.jobspare, auth: { token: js.token } });
    await waitFor(sock, 'authenticated');
    await startConversation(page, [js.id]);
    await page.locator('#conv-title', { hasText: 'Jo Spare' }).waitFor();
    await send(page, 'from the browser');
    const got = await waitFor(sock, 'new_message', (m) => m.content?.text === 'from the browser');
    assert.equal(got.senderId._id, web.id);
    assert.equal(got.senderId.name, 'Webby');
    sock.emit('send_message', {
      conversationId: got.conversationId, receiverId: web.id, messageType: 'text', content: { text: 'from JobSpare' },
    });
    await page.locator('#messages .msg:not(.mine)', { hasText: 'from JobSpare' }).waitFor();
    await shot(page, '10-cross-dialect');

    // A group with the JobSpare user and a third user, named by id.
    const third = await user(server, 'third', { name: 'Third One' });
    assert.equal((await server.rest('GET', '/api/me', { token: third.token })).status, 200);
    await startConversation(page, [js.id, third.id], 'Team <b>room</b>');
    await page.locator('#conv-title', { hasText: 'Team <b>room</b>' }).waitFor();
    await send(page, 'hello team');
    const inGroup = await waitFor(sock, 'new_message', (m) => m.content?.text === 'hello team');
    assert.notEqual(inGroup.conversationId, got.conversationId);
    await page.locator('#conv-status', { hasText: '3 members' }).waitFor();
    assert.equal(await page.locator('#conversations .conv').count(), 2);
    await shot(page, '10b-group');
    await open(page, 'Jo Spare');

    // Scroll-back: 40 older messages from the other side, 30 a page.
    const convId = await page.locator('#conversations .conv', { hasText: 'Jo Spare' }).getAttribute('data-id');
    for (let i = 1; i <= 40; i += 1) {
      const res = await server.rest('POST', `/api/conversations/${convId}/messages`, {
        token: js.token, body: { text: `backlog ${i}` },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    await page.reload();
    await open(page, 'Jo Spare');
    await page.locator('#messages .msg', { hasText: 'backlog 40' }).waitFor();
    assert.equal(await page.locator('#messages .msg').count(), 30);
    assert.equal(await page.getByRole('button', { name: 'Load older messages' }).isVisible(), true);
    // Scrolling to the top loads the older page (the button does the same).
    await page.locator('#scroller').evaluate((el) => { el.scrollTop = 0; });
    await until(async () => (await page.locator('#messages .msg').count()) === 42, 'the older page');
    await shot(page, '10c-scroll-back');
    assert.equal(await page.getByRole('button', { name: 'Load older messages' }).isVisible(), false);
    await page.context().close();
    sock.close();
  });

  it('catches up after being offline through GET /api/sync with nothing missing or doubled', async () => {
    const a = await chrome.page(`${server.url}/`);
    const b = await chrome.page(`${server.url}/`);
    await signUp(a, 'sender', 'Sender');
    const rec = await signUp(b, 'receiver', 'Receiver');
    await startConversation(a, [rec.username]);
    await send(a, 'before offline');
    await open(b, 'Sender');
    await b.locator('#messages .msg', { hasText: 'before offline' }).waitFor();

    await b.context().setOffline(true);
    await b.locator('body[data-connected="false"]').waitFor({ timeout: 15000 });
    await shot(b, '11-offline');
    const missed = ['missed 1', 'missed 2', 'missed 3'];
    for (const m of missed) {
      await send(a, m);
      await a.locator('#messages .msg.mine', { hasText: m }).locator('.ticks:not(.pending)').waitFor();
    }
    await b.context().setOffline(false);
    await b.locator('body[data-connected="true"]').waitFor({ timeout: 20000 });
    await until(async () => (await texts(b)).length >= 4, 'the missed messages');
    await sleep(500);
    assert.deepEqual(await texts(b), ['before offline', ...missed]);
    await shot(b, '12-caught-up');
    const via = await b.evaluate(() => document.body.dataset.catchup);
    assert.equal(via, 'sync', 'the page caught up through GET /api/sync, not by re-reading history');
    await a.context().close();
    await b.context().close();
  });

  it('uploads an image with a preview and shows it to the other member', async () => {
    const a = await chrome.page(`${server.url}/`);
    const b = await chrome.page(`${server.url}/`);
    await signUp(a, 'pic', 'Pic');
    const viewer = await signUp(b, 'viewer', 'Viewer');
    await startConversation(a, [viewer.username]);
    await a.locator('#file').setInputFiles(join(ROOT, 'assets', 'vchat', 'default_user_image.png'));
    await a.locator('#preview img').waitFor();
    assert.equal(await a.locator('#preview-name').textContent(), 'default_user_image.png');
    await shot(a, '13-upload-preview');
    await a.locator('#text').fill('a picture');
    await a.getByRole('button', { name: 'Send' }).click();
    await open(b, 'Pic');
    const img = b.locator('#messages .msg img').first();
    await img.waitFor();
    await until(() => img.evaluate((i) => i.complete && i.naturalWidth > 0), 'the image to load');
    assert.match(await img.getAttribute('src'), /^\/uploads\//);
    await shot(b, '14-upload-shown');
    await a.context().close();
    await b.context().close();
  });

  it('fits a phone screen (390x844): the list, then the conversation', async () => {
    const a = await chrome.page(`${server.url}/`);
    const pal = await signUp(a, 'pal', 'Pal');
    await a.context().close();
    const phone = await chrome.page(`${server.url}/`, { viewport: { width: 390, height: 844 } });
    const me2 = await signUp(phone, 'phone', 'Phone user');
    assert.ok(me2);
    await startConversation(phone, [pal.username]);
    await send(phone, 'Sent from a phone-sized screen');
    await phone.locator('#messages .msg', { hasText: 'phone-sized' }).waitFor();
    assert.equal(await phone.locator('#sidebar').isVisible(), false);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'nothing wider than the screen');
    await shot(phone, '15-phone-conversation');
    await phone.getByRole('button', { name: 'Back to conversations' }).click();
    assert.equal(await phone.locator('#sidebar').isVisible(), true);
    await shot(phone, '16-phone-list');
    await phone.context().close();
  });
});
