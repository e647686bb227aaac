// Black-box tests of the Dozaar dialect (seeds/dozaar-api.txt) with the
// official socket.io-client, against the real `confab` binary.
//
// Every client event gets its happy path, an invalid payload (an `exception`
// with INVALID_PAYLOAD, nothing stored, the connection still usable) and an
// unauthorized attempt (NOT_FOUND for a non-member, nothing leaks to members).
// Decisions the seed leaves open are in docs/dialects/dozaar.md.
//
// Run: `node --test e2e/` after `cargo build --bin confab` (or `scripts/test`).

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, history, connect, connectUser, close, closeAll,
  waitFor, received, expectNone, emitAck, sleep, uid, mark, openSockets,
} from './lib/server.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UNKNOWN_UUID = '123e4567-e89b-12d3-a456-426614174000';

/** Every event the Dozaar dialect sends, for "nothing leaked" checks. */
const SERVER_EVENTS = [
  'joined:conversation', 'new:message', 'message:notification', 'user:typing',
  'user:stopped_typing', 'message:read', 'online:status', 'user:online', 'user:offline',
  'message:updated', 'message:deleted',
];
/**
 * What another user's request could make the server send. Presence is left
 * out: the sockets a test just connected may still be announcing themselves
 * to each other (presence is published after the store says who to tell).
 */
const CAUSED_EVENTS = SERVER_EVENTS.filter((e) => e !== 'user:online' && e !== 'user:offline');

/**
 * Emits `event` with an ack and checks that it was refused with `code`: the
 * ack is `{success:false, error, code}` and an `exception {event, error, code}`
 * reaches the socket. Returns both.
 */
async function refused(socket, event, payload, code) {
  const exception = waitFor(socket, 'exception', (e) => e && e.event === event);
  const ack = payload === undefined ? await emitAck(socket, event) : await emitAck(socket, event, payload);
  assert.equal(ack.success, false, `${event} ${JSON.stringify(payload)} should be refused, ack: ${JSON.stringify(ack)}`);
  assert.equal(ack.code, code, `ack of ${event} ${JSON.stringify(payload)}: ${JSON.stringify(ack)}`);
  assert.equal(typeof ack.error, 'string');
  assert.ok(ack.error.length > 0);
  const e = await exception;
  assert.equal(e.code, code, `exception of ${event}: ${JSON.stringify(e)}`);
  assert.equal(typeof e.error, 'string');
  assert.equal(e.event, event);
  return { ack, exception: e };
}

async function ok(socket, event, payload) {
  const ack = await emitAck(socket, event, payload);
  assert.equal(ack.success, true, `${event} ${JSON.stringify(payload).slice(0, 200)}: ${JSON.stringify(ack)}`);
  return ack;
}

async function send(socket, conv, message, extra = {}) {
  const ack = await ok(socket, 'send:message', { conversationId: conv.uuid, message, ...extra });
  return ack.message;
}

async function joinAll(conv, ...sockets) {
  for (const s of sockets) {
    await ok(s, 'join:conversation', { conversationId: conv.uuid });
  }
}

/**
 * Alice and Bob share a direct conversation and have joined it; Carol is a
 * stranger to both. Every user is new, so tests never see each other's events.
 */
async function trio(srv, { join = true, transports } = {}) {
  const [alice, bob, carol] = await Promise.all([user(srv, 'alice'), user(srv, 'bob'), user(srv, 'carol')]);
  const conv = await conversation(srv, alice, [bob]);
  const [sa, sb, sc] = await Promise.all([
    connectUser(srv, alice, { transports }),
    connectUser(srv, bob, { transports, via: 'auth' }),
    connectUser(srv, carol, { transports }),
  ]);
  if (join) await joinAll(conv, sa, sb);
  return { alice, bob, carol, conv, sa, sb, sc };
}

/** A mark over every socket the harness has open. */
function markAll() {
  return mark(openSockets());
}

/** The socket still answers: a valid request gets a successful ack. */
async function assertAlive(socket) {
  assert.ok(socket.connected, 'socket is still connected');
  const ack = await emitAck(socket, 'get:online_status', { userIds: [] });
  assert.equal(ack.success, true);
}

function checkMessageShape(m, { conv, sender, text, attachments = [] }) {
  assert.match(m.id, UUID);
  assert.equal(m.conversationId, conv.uuid);
  assert.equal(m.senderId, sender.id);
  assert.equal(m.message, text);
  assert.deepEqual(m.attachmentUrls, attachments);
  assert.equal(typeof m.seq, 'number');
  assert.match(m.createdAt, ISO);
  assert.match(m.updatedAt, ISO);
  assert.ok(Math.abs(Date.parse(m.createdAt) - Date.now()) < 60_000, 'createdAt is now');
  assert.equal(m.editedAt, null);
  assert.equal(m.deletedAt, null);
  assert.ok('clientId' in m, 'new:message carries clientId');
  assert.equal(m.sender.id, sender.id);
  assert.equal(typeof m.sender.username, 'string');
  assert.ok('displayName' in m.sender);
  assert.ok('avatarUrl' in m.sender);
}

// ---------------------------------------------------------------------------

describe('dozaar', () => {
  let srv;
  before(async () => {
    // No clock leeway, so a token a second old has expired.
    srv = await startServer({ env: { CONFAB_AUTH_LEEWAY_SECS: '0' } });
  });
  after(async () => {
    await closeAll();
    await srv?.stop();
  });
  afterEach(async () => {
    await closeAll();
  });

  describe('connection', () => {
    it('accepts a token in the Authorization header', async () => {
      const alice = await user(srv, 'alice');
      const s = await connect(srv, { extraHeaders: { Authorization: `Bearer ${alice.token}` } });
      assert.ok(s.connected);
      await assertAlive(s);
    });

    it('accepts a token in auth.token', async () => {
      const alice = await user(srv, 'alice');
      const s = await connect(srv, { auth: { token: alice.token } });
      assert.ok(s.connected);
      await assertAlive(s);
    });

    it('accepts tokens from POST /api/auth/register and /api/auth/login', async () => {
      const username = uid('reg').replace('-', '_');
      const reg = await srv.rest('POST', '/api/auth/register', {
        body: { username, password: 'correct horse battery staple', displayName: 'Reg User' },
      });
      assert.equal(reg.status, 201, JSON.stringify(reg.body));
      assert.equal(typeof reg.body.token, 'string');
      assert.equal(typeof reg.body.user.id, 'string');
      const s1 = await connect(srv, { token: reg.body.token });
      await assertAlive(s1);
      const login = await srv.rest('POST', '/api/auth/login', {
        body: { username, password: 'correct horse battery staple' },
      });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      assert.equal(login.body.user.id, reg.body.user.id);
      const s2 = await connect(srv, { token: login.body.token, via: 'auth' });
      await assertAlive(s2);
      const wrong = await srv.rest('POST', '/api/auth/login', { body: { username, password: 'wrong password!' } });
      assert.equal(wrong.status, 401);
      assert.equal(typeof wrong.body.error.code, 'string');
    });

    it('refuses a connection without a token', async () => {
      await assert.rejects(connect(srv, {}), (err) => {
        assert.match(err.message, /missing token/i);
        return true;
      });
      await assert.rejects(connect(srv, { auth: { token: '' } }), /missing token/i);
    });

    it('refuses an empty Bearer header as a missing token', async () => {
      for (const transports of [['polling'], ['websocket']]) {
        await assert.rejects(connect(srv, { extraHeaders: { Authorization: 'Bearer ' }, transports }), (err) => {
          assert.match(err.message, /missing token/i);
          return true;
        });
      }
    });

    it('refuses a token with a bad signature', async () => {
      const [a, b] = await Promise.all([user(srv, 'alice'), user(srv, 'bob')]);
      // Alice's header and claims with the signature of Bob's token.
      const [h, p] = a.token.split('.');
      const forged = `${h}.${p}.${b.token.split('.')[2]}`;
      await assert.rejects(connect(srv, { token: forged }), (err) => {
        assert.match(err.message, /invalid token signature/i);
        return true;
      });
      await assert.rejects(connect(srv, { token: forged, via: 'auth' }), /invalid token signature/i);
    });

    it('refuses an expired token', async () => {
      const alice = await user(srv, 'alice', { ttl: '1s' });
      await sleep(2100);
      await assert.rejects(connect(srv, { token: alice.token }), (err) => {
        assert.match(err.message, /token expired/i);
        return true;
      });
    });

    it('refuses a malformed token', async () => {
      for (const token of ['not-a-jwt', 'a.b.c', 'x'.repeat(50)]) {
        await assert.rejects(connect(srv, { token }), (err) => {
          assert.match(err.message, /malformed token/i, `token ${token}`);
          return true;
        });
      }
    });

    for (const transports of [['websocket'], ['polling']]) {
      it(`works over the ${transports[0]} transport only`, async () => {
        const { alice, conv, sa, sb } = await trio(srv, { transports });
        assert.equal(sa.io.engine.transport.name, transports[0]);
        const got = waitFor(sb, 'new:message', (m) => m.message === `over ${transports[0]}`);
        await send(sa, conv, `over ${transports[0]}`);
        const m = await got;
        assert.equal(m.senderId, alice.id);
      });
    }

    it('upgrades from polling to websocket by default', async () => {
      const { conv, sa, sb } = await trio(srv);
      const got = waitFor(sb, 'new:message', (m) => m.message === 'default transport');
      await send(sa, conv, 'default transport');
      await got;
    });

    it('answers an unknown event with an exception and stays connected', async () => {
      const { sa } = await trio(srv, { join: false });
      await refused(sa, 'no:such_event', { x: 1 }, 'INVALID_PAYLOAD');
      await assertAlive(sa);
    });
  });

  describe('join:conversation', () => {
    it('joins a conversation by UUID and answers joined:conversation', async () => {
      const { conv, sa } = await trio(srv, { join: false });
      assert.match(conv.uuid, UUID);
      const joined = waitFor(sa, 'joined:conversation');
      const ack = await ok(sa, 'join:conversation', { conversationId: conv.uuid });
      assert.deepEqual(await joined, { conversationId: conv.uuid });
      assert.equal(ack.conversationId, conv.uuid);
    });

    it('accepts the numeric id too and answers with the UUID', async () => {
      const { conv, sa } = await trio(srv, { join: false });
      assert.equal(typeof conv.id, 'number');
      const joined = waitFor(sa, 'joined:conversation');
      await ok(sa, 'join:conversation', { conversationId: conv.id });
      assert.equal((await joined).conversationId, conv.uuid);
    });

    it('works without an ack callback, as the seed examples emit', async () => {
      const { conv, sa } = await trio(srv, { join: false });
      const joined = waitFor(sa, 'joined:conversation');
      sa.emit('join:conversation', { conversationId: conv.uuid });
      assert.equal((await joined).conversationId, conv.uuid);
      const exception = waitFor(sa, 'exception');
      sa.emit('join:conversation', {});
      assert.equal((await exception).code, 'INVALID_PAYLOAD');
    });

    it('accepts the numeric id as a string', async () => {
      const { conv, sa } = await trio(srv, { join: false });
      const joined = waitFor(sa, 'joined:conversation');
      await ok(sa, 'join:conversation', { conversationId: String(conv.id) });
      assert.equal((await joined).conversationId, conv.uuid);
    });

    it('refuses invalid payloads with INVALID_PAYLOAD and stays usable', async () => {
      const { conv, sa } = await trio(srv, { join: false });
      for (const payload of [{}, { conversationId: 'not-an-id' }, { conversationId: -3 },
        { conversationId: 1.5 }, { conversationId: null }, 'a string', [1, 2], undefined]) {
        await refused(sa, 'join:conversation', payload, 'INVALID_PAYLOAD');
      }
      assert.equal(received(sa, 'joined:conversation').length, 0);
      await ok(sa, 'join:conversation', { conversationId: conv.uuid });
    });

    it('refuses a non-member with NOT_FOUND, the same as an unknown conversation', async () => {
      const { conv, sa, sb, sc } = await trio(srv);
      const member = await refused(sc, 'join:conversation', { conversationId: conv.uuid }, 'NOT_FOUND');
      const unknown = await refused(sc, 'join:conversation', { conversationId: UNKNOWN_UUID }, 'NOT_FOUND');
      assert.equal(member.ack.error, unknown.ack.error, 'a non-member cannot tell that the conversation exists');
      await refused(sc, 'join:conversation', { conversationId: conv.id }, 'NOT_FOUND');
      // Carol is not in the room: a message does not reach her.
      const since = markAll();
      await send(sa, conv, 'not for carol');
      await waitFor(sb, 'new:message', (m) => m.message === 'not for carol');
      await expectNone(sc, CAUSED_EVENTS, { since });
      await expectNone([sa, sb], ['exception', 'joined:conversation'], { since, ms: 0 });
    });
  });

  describe('leave:conversation', () => {
    it('stops new:message to the socket; a notification comes instead', async () => {
      const { conv, sa, sb } = await trio(srv);
      const ack = await ok(sb, 'leave:conversation', { conversationId: conv.uuid });
      assert.equal(ack.conversationId, conv.uuid);
      const since = markAll();
      const note = waitFor(sb, 'message:notification', (n) => n.conversationId === conv.uuid);
      const m = await send(sa, conv, 'after leave');
      assert.equal((await note).messageId, m.id);
      await expectNone(sb, 'new:message', { since });
    });

    it('refuses invalid payloads with INVALID_PAYLOAD and stays usable', async () => {
      const { conv, sb } = await trio(srv);
      for (const payload of [{}, { conversationId: 'nope' }, { conversationId: {} }, 42]) {
        await refused(sb, 'leave:conversation', payload, 'INVALID_PAYLOAD');
      }
      await ok(sb, 'leave:conversation', { conversationId: conv.uuid });
    });

    it('refuses a non-member with NOT_FOUND', async () => {
      const { conv, sa, sb, sc } = await trio(srv);
      const since = markAll();
      await refused(sc, 'leave:conversation', { conversationId: conv.uuid }, 'NOT_FOUND');
      await refused(sc, 'leave:conversation', { conversationId: UNKNOWN_UUID }, 'NOT_FOUND');
      await expectNone([sa, sb], CAUSED_EVENTS, { since });
    });
  });

  describe('send:message', () => {
    it('delivers new:message to the room, acks, and stores the message', async () => {
      const { alice, bob, conv, sa, sb } = await trio(srv);
      const toBob = waitFor(sb, 'new:message', (m) => m.message === 'Hello, world!');
      const toAlice = waitFor(sa, 'new:message', (m) => m.message === 'Hello, world!');
      const ack = await ok(sa, 'send:message', { conversationId: conv.uuid, message: 'Hello, world!' });
      assert.equal(ack.duplicate, false);
      const m = await toBob;
      checkMessageShape(m, { conv, sender: alice, text: 'Hello, world!' });
      assert.equal(m.sender.displayName, alice.name);
      assert.deepEqual(await toAlice, m);
      assert.equal(ack.message.id, m.id);
      assert.equal(ack.message.seq, m.seq);
      const stored = await history(srv, bob, conv.id);
      assert.equal(stored.length, 1);
      assert.equal(stored[0].uuid, m.id);
      assert.equal(stored[0].text, 'Hello, world!');
      assert.equal(stored[0].senderId, alice.id);
      assert.equal(stored[0].seq, m.seq);
    });

    it('sends attachments without text, and text with attachments', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const urls = ['https://example.com/image.jpg'];
      const onlyFiles = waitFor(sb, 'new:message', (m) => m.attachmentUrls?.length === 1 && !m.message);
      await ok(sa, 'send:message', { conversationId: conv.uuid, attachmentUrls: urls });
      const m = await onlyFiles;
      assert.deepEqual(m.attachmentUrls, urls);
      const both = waitFor(sb, 'new:message', (x) => x.message === 'look');
      await ok(sa, 'send:message', { conversationId: conv.uuid, message: 'look', attachmentUrls: urls });
      checkMessageShape(await both, { conv, sender: alice, text: 'look', attachments: urls });
      assert.equal((await history(srv, alice, conv.id)).length, 2);
    });

    it('refuses invalid payloads with INVALID_PAYLOAD, stores nothing, and stays usable', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const since = markAll();
      const c = conv.uuid;
      for (const payload of [
        {},
        { message: 'no conversation' },
        { conversationId: c },
        { conversationId: c, message: '' },
        { conversationId: c, message: '   ' },
        { conversationId: c, message: 42 },
        { conversationId: c, message: ['a'] },
        { conversationId: c, attachmentUrls: 'https://example.com/a.jpg' },
        { conversationId: c, attachmentUrls: [] },
        { conversationId: c, attachmentUrls: ['not a url'] },
        { conversationId: 'nope', message: 'x' },
        { conversationId: c, message: 'x'.repeat(10_001) },
        { conversationId: c, message: 'x', clientId: 'has spaces in it' },
        'just a string',
        undefined,
      ]) {
        await refused(sa, 'send:message', payload, 'INVALID_PAYLOAD');
      }
      await expectNone([sa, sb], ['new:message', 'message:notification'], { since, ms: 200 });
      assert.equal((await history(srv, alice, conv.id)).length, 0, 'nothing stored');
      const got = waitFor(sb, 'new:message', (m) => m.message === 'valid after invalid');
      await send(sa, conv, 'valid after invalid');
      await got;
      assert.equal((await history(srv, alice, conv.id)).length, 1);
    });

    it('accepts exactly 10,000 characters and refuses 10,001', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const max = 'é'.repeat(10_000);
      const got = waitFor(sb, 'new:message', (m) => m.message?.length === 10_000);
      await send(sa, conv, max);
      assert.equal((await got).message, max);
      const { ack } = await refused(sa, 'send:message', { conversationId: conv.uuid, message: `${max}é` }, 'INVALID_PAYLOAD');
      assert.match(ack.error, /10000|10,000/);
      const stored = await history(srv, alice, conv.id);
      assert.equal(stored.length, 1);
      assert.equal(stored[0].text, max);
    });

    it('refuses a non-member with NOT_FOUND; members hear nothing and nothing is stored', async () => {
      const { alice, conv, sa, sb, sc } = await trio(srv);
      const since = markAll();
      const member = await refused(sc, 'send:message', { conversationId: conv.uuid, message: 'intruder' }, 'NOT_FOUND');
      const unknown = await refused(sc, 'send:message', { conversationId: UNKNOWN_UUID, message: 'intruder' }, 'NOT_FOUND');
      assert.equal(member.ack.error, unknown.ack.error);
      await refused(sc, 'send:message', { conversationId: conv.id, message: 'intruder' }, 'NOT_FOUND');
      await expectNone([sa, sb], CAUSED_EVENTS, { since });
      assert.equal((await history(srv, alice, conv.id)).length, 0);
      const rest = await srv.rest('GET', `/api/conversations/${conv.id}/messages`, { token: (await user(srv, 'eve')).token });
      assert.equal(rest.status, 404, 'REST history is not readable by a non-member either');
      assert.equal(rest.body?.error?.code, 'NOT_FOUND');
    });

    it('stores a clientId retry once and acks the retry as a duplicate', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const clientId = uid('client');
      const payload = { conversationId: conv.uuid, message: 'only once', clientId };
      const first = await ok(sa, 'send:message', payload);
      const second = await ok(sa, 'send:message', payload);
      assert.equal(first.duplicate, false);
      assert.equal(second.duplicate, true);
      assert.equal(second.message.id, first.message.id);
      assert.equal(second.message.seq, first.message.seq);
      assert.equal(first.message.clientId, clientId);
      const stored = await history(srv, alice, conv.id);
      assert.equal(stored.length, 1);
      assert.equal(stored[0].clientId, clientId);
      await waitFor(sb, 'new:message', (m) => m.clientId === clientId);
      await sleep(300);
      assert.equal(received(sb, 'new:message', (m) => m.clientId === clientId).length, 1,
        'the other member hears the message once');
    });

    it('sends message:notification to a member who did not join, not to the sender or the room', async () => {
      const [alice, bob, dave] = await Promise.all([user(srv, 'alice'), user(srv, 'bob'), user(srv, 'dave')]);
      const conv = await conversation(srv, alice, [bob, dave], { kind: 'group', title: 'trio' });
      const [sa, sb, sd] = await Promise.all([connectUser(srv, alice), connectUser(srv, bob), connectUser(srv, dave)]);
      await joinAll(conv, sa, sb);
      const since = markAll();
      const text = `${'a'.repeat(60)}${'b'.repeat(60)}${'c'.repeat(30)}`;
      const note = waitFor(sd, 'message:notification');
      const m = await send(sa, conv, text);
      const n = await note;
      assert.equal(n.conversationId, conv.uuid);
      assert.equal(n.messageId, m.id);
      assert.equal(n.preview, text.slice(0, 100));
      assert.equal(n.sender.id, alice.id);
      assert.equal(typeof n.sender.username, 'string');
      assert.equal(typeof n.timestamp, 'number');
      assert.ok(Math.abs(n.timestamp - Date.now()) < 60_000, 'timestamp is milliseconds');
      await waitFor(sb, 'new:message', (x) => x.id === m.id);
      await expectNone(sd, 'new:message', { since, ms: 0 });
      await expectNone([sa, sb], 'message:notification', { since, ms: 300 });
    });

    it('rate limits a user at 50 messages a minute by default', async () => {
      const { alice, conv, sa } = await trio(srv);
      const acks = await Promise.all(Array.from({ length: 56 }, (_, i) =>
        emitAck(sa, 'send:message', { conversationId: conv.uuid, message: `spam ${i}` }, 10_000)));
      const accepted = acks.filter((a) => a.success).length;
      const limited = acks.filter((a) => !a.success);
      assert.ok(accepted >= 50 && accepted <= 53, `accepted ${accepted}`);
      assert.ok(limited.length > 0);
      for (const a of limited) assert.equal(a.code, 'RATE_LIMITED');
      const e = await waitFor(sa, 'exception', (x) => x.code === 'RATE_LIMITED');
      assert.equal(e.event, 'send:message');
      assert.equal((await history(srv, alice, conv.id)).length, accepted);
      // Other events are not limited by the message rate.
      await assertAlive(sa);
    });
  });

  describe('packet limit', () => {
    for (const transports of [['websocket'], ['polling']]) {
      it(`takes packets up to 64 KiB and closes the connection on a bigger one (${transports[0]})`, async () => {
        const { conv, sa } = await trio(srv, { transports });
        // Under the limit: read, and refused for its text (over 10,000 characters).
        const under = 'x'.repeat(60_000);
        await refused(sa, 'send:message', { conversationId: conv.uuid, message: under }, 'INVALID_PAYLOAD');
        await assertAlive(sa);
        // Over limits.max_payload_bytes (65,536): the connection is closed.
        const closed = new Promise((r) => sa.once('disconnect', r));
        sa.emit('send:message', { conversationId: conv.uuid, message: 'y'.repeat(70_000) });
        const reason = await closed;
        assert.match(String(reason), /transport (close|error)/);
      });
    }
  });

  describe('typing', () => {
    it('tells the other members in the room user:typing and user:stopped_typing', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const since = markAll();
      const typing = waitFor(sb, 'user:typing');
      await ok(sa, 'typing:start', { conversationId: conv.uuid });
      const t = await typing;
      assert.equal(t.conversationId, conv.uuid);
      assert.equal(t.userId, alice.id);
      assert.equal(typeof t.username, 'string');
      const stopped = waitFor(sb, 'user:stopped_typing');
      await ok(sa, 'typing:stop', { conversationId: conv.uuid });
      const s = await stopped;
      assert.deepEqual(s, { conversationId: conv.uuid, userId: alice.id, username: t.username });
      await expectNone(sa, ['user:typing', 'user:stopped_typing'], { since, ms: 200 });
    });

    it('ends the typing indicator when the typist sends a message', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      await ok(sa, 'typing:start', { conversationId: conv.uuid });
      await waitFor(sb, 'user:typing');
      await send(sa, conv, 'done typing');
      const s = await waitFor(sb, 'user:stopped_typing', () => true, 2000);
      assert.equal(s.userId, alice.id);
    });

    it('ends the typing indicator when the typist disconnects', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      await ok(sa, 'typing:start', { conversationId: conv.uuid });
      await waitFor(sb, 'user:typing');
      await close(sa);
      const s = await waitFor(sb, 'user:stopped_typing', () => true, 2000);
      assert.equal(s.userId, alice.id);
    });

    it('refuses invalid payloads with INVALID_PAYLOAD and stays usable', async () => {
      const { conv, sa, sb } = await trio(srv);
      const since = markAll();
      for (const event of ['typing:start', 'typing:stop']) {
        for (const payload of [{}, { conversationId: 'nope' }, { conversationId: true }, null]) {
          await refused(sa, event, payload, 'INVALID_PAYLOAD');
        }
      }
      await expectNone(sb, ['user:typing', 'user:stopped_typing'], { since, ms: 100 });
      const typing = waitFor(sb, 'user:typing');
      await ok(sa, 'typing:start', { conversationId: conv.uuid });
      await typing;
    });

    it('refuses a non-member with NOT_FOUND and tells the members nothing', async () => {
      const { conv, sa, sb, sc } = await trio(srv);
      const since = markAll();
      await refused(sc, 'typing:start', { conversationId: conv.uuid }, 'NOT_FOUND');
      await refused(sc, 'typing:stop', { conversationId: conv.uuid }, 'NOT_FOUND');
      await refused(sc, 'typing:start', { conversationId: UNKNOWN_UUID }, 'NOT_FOUND');
      await expectNone([sa, sb], CAUSED_EVENTS, { since });
    });
  });

  describe('mark:read', () => {
    it('tells the other members message:read and clears the unread count', async () => {
      const { alice, bob, conv, sa, sb } = await trio(srv);
      await send(sa, conv, 'one');
      const m2 = await send(sa, conv, 'two');
      const unread = async () => {
        const res = await srv.rest('GET', '/api/conversations', { token: bob.token });
        assert.equal(res.status, 200);
        const list = Array.isArray(res.body) ? res.body : res.body.conversations;
        return list.find((c) => c.id === conv.id).unreadCount;
      };
      assert.equal(await unread(), 2);
      const since = markAll();
      const read = waitFor(sa, 'message:read');
      const ack = await ok(sb, 'mark:read', { messageId: m2.id });
      assert.equal(ack.messageId, m2.id);
      assert.equal(ack.conversationId, conv.uuid);
      assert.equal(ack.readUpToSeq, m2.seq);
      const r = await read;
      assert.equal(r.messageId, m2.id);
      assert.equal(r.conversationId, conv.uuid);
      assert.equal(r.readBy, bob.id);
      assert.equal(r.readUpToSeq, m2.seq);
      assert.equal(typeof r.timestamp, 'number');
      assert.ok(Math.abs(r.timestamp - Date.now()) < 60_000);
      assert.equal(await unread(), 0);
      await expectNone(sb, 'message:read', { since, ms: 200 });
      void alice;
    });

    it('tells every other member, joined or not, but not the reader', async () => {
      const [alice, bob, dave] = await Promise.all([user(srv, 'alice'), user(srv, 'bob'), user(srv, 'dave')]);
      const conv = await conversation(srv, alice, [bob, dave], { kind: 'group', title: 'readers' });
      const [sa, sb, sd] = await Promise.all([connectUser(srv, alice), connectUser(srv, bob), connectUser(srv, dave)]);
      await joinAll(conv, sa, sb);
      const m = await send(sa, conv, 'group news');
      const since = markAll();
      const toAlice = waitFor(sa, 'message:read', (r) => r.readBy === bob.id);
      const toDave = waitFor(sd, 'message:read', (r) => r.readBy === bob.id);
      await ok(sb, 'mark:read', { messageId: m.id });
      assert.equal((await toAlice).messageId, m.id);
      assert.equal((await toDave).messageId, m.id);
      await expectNone(sb, 'message:read', { since, ms: 200 });
    });

    it('refuses invalid payloads with INVALID_PAYLOAD and stays usable', async () => {
      const { bob, conv, sa, sb } = await trio(srv);
      const m = await send(sa, conv, 'read me');
      const since = markAll();
      for (const payload of [{}, { messageId: 'nope' }, { messageId: [] }, { conversationId: conv.uuid }, 7]) {
        await refused(sb, 'mark:read', payload, 'INVALID_PAYLOAD');
      }
      await expectNone(sa, 'message:read', { since, ms: 100 });
      const list = await srv.rest('GET', '/api/conversations', { token: bob.token });
      const mine = (Array.isArray(list.body) ? list.body : list.body.conversations).find((c) => c.id === conv.id);
      assert.equal(mine.unreadCount, 1, 'nothing was marked read');
      const read = waitFor(sa, 'message:read');
      await ok(sb, 'mark:read', { messageId: m.id });
      assert.equal((await read).messageId, m.id);
    });

    it('refuses a non-member with NOT_FOUND, the same as an unknown message', async () => {
      const { conv, sa, sb, sc } = await trio(srv);
      const m = await send(sa, conv, 'private');
      // The sender's own copy may come after its ack: let both copies arrive.
      await Promise.all([sa, sb].map((s) => waitFor(s, 'new:message', (x) => x.id === m.id)));
      const since = markAll();
      const member = await refused(sc, 'mark:read', { messageId: m.id }, 'NOT_FOUND');
      const unknown = await refused(sc, 'mark:read', { messageId: UNKNOWN_UUID }, 'NOT_FOUND');
      assert.equal(member.ack.error, unknown.ack.error);
      await expectNone([sa, sb], CAUSED_EVENTS, { since });
    });
  });

  describe('get:online_status', () => {
    it('reports a contact online, then offline with a last-seen time', async () => {
      const { alice, bob, sa, sb } = await trio(srv);
      const status = waitFor(sb, 'online:status');
      const ack = await ok(sb, 'get:online_status', { userIds: [alice.id] });
      const s = await status;
      assert.deepEqual(ack.statuses, s.statuses);
      assert.equal(s.statuses.length, 1);
      assert.equal(s.statuses[0].userId, alice.id);
      assert.equal(s.statuses[0].isOnline, true);
      assert.ok('lastSeen' in s.statuses[0]);
      const offline = waitFor(sb, 'user:offline', (p) => p.userId === alice.id);
      await close(sa);
      await offline;
      const after = await ok(sb, 'get:online_status', { userIds: [alice.id, bob.id] });
      assert.equal(after.statuses[0].isOnline, false);
      assert.notEqual(after.statuses[0].lastSeen, null, 'lastSeen is known after a disconnect');
      assert.equal(after.statuses[1].userId, bob.id);
      assert.equal(after.statuses[1].isOnline, true, 'a user sees themself online');
    });

    it('reports anyone\'s status by default, a user who shares no conversation included', async () => {
      const { alice, carol, sa, sc } = await trio(srv);
      assert.ok(sc.connected);
      const s = await ok(sa, 'get:online_status', { userIds: [carol.id, 'nobody-at-all'] });
      assert.equal(s.statuses.length, 2);
      assert.equal(s.statuses[0].isOnline, true, 'presence.visible_to = "everyone"');
      assert.equal(typeof s.statuses[0].lastSeen, 'number');
      assert.equal(s.statuses[1].isOnline, false);
      assert.equal(s.statuses[1].lastSeen, null);
      const back = await ok(sc, 'get:online_status', { userIds: [alice.id] });
      assert.equal(back.statuses[0].isOnline, true);
    });

    it('refuses invalid payloads with INVALID_PAYLOAD and stays usable', async () => {
      const { alice, sb } = await trio(srv);
      for (const payload of [{}, { userIds: alice.id }, { userIds: ['bad id!'] }, { userIds: [1, 2] }, null]) {
        await refused(sb, 'get:online_status', payload, 'INVALID_PAYLOAD');
      }
      const s = await ok(sb, 'get:online_status', { userIds: [alice.id] });
      assert.equal(s.statuses[0].isOnline, true);
    });
  });

  describe('presence', () => {
    it('announces a user online on the first tab and offline after the last closes', async () => {
      const [alice, bob, carol] = await Promise.all([user(srv, 'alice'), user(srv, 'bob'), user(srv, 'carol')]);
      await conversation(srv, bob, [alice]);
      const [sb, sc] = await Promise.all([connectUser(srv, bob), connectUser(srv, carol)]);
      const isAlice = (p) => p.userId === alice.id;

      const online = waitFor(sb, 'user:online', isAlice);
      const tab1 = await connectUser(srv, alice);
      const o = await online;
      assert.equal(typeof o.timestamp, 'number');
      assert.ok(Math.abs(o.timestamp - Date.now()) < 60_000);

      const tab2 = await connectUser(srv, alice, { via: 'auth' });
      await sleep(300);
      assert.equal(received(sb, 'user:online', isAlice).length, 1, 'user:online only once for two tabs');

      await close(tab1);
      await sleep(400);
      assert.equal(received(sb, 'user:offline', isAlice).length, 0, 'still online in the second tab');
      const still = await ok(sb, 'get:online_status', { userIds: [alice.id] });
      assert.equal(still.statuses[0].isOnline, true);

      const offline = waitFor(sb, 'user:offline', isAlice);
      await close(tab2);
      const off = await offline;
      assert.equal(typeof off.timestamp, 'number');
      await sleep(200);
      assert.equal(received(sb, 'user:offline', isAlice).length, 1);
      assert.equal(received(sc, 'user:online', isAlice).length, 1, 'everyone hears it by default, strangers too');
      assert.equal(received(sc, 'user:offline', isAlice).length, 1);
    });

    it('stays online through a reload within the grace: no user:offline, no second user:online', async () => {
      const [alice, bob] = await Promise.all([user(srv, 'alice'), user(srv, 'bob')]);
      const sb = await connectUser(srv, bob);
      const isAlice = (p) => p.userId === alice.id;
      const online = waitFor(sb, 'user:online', isAlice);
      const tab = await connectUser(srv, alice);
      await online;
      const since = mark(sb);
      const closedAt = Date.now();
      await close(tab);
      // Between the old page and the new one she is still online.
      const between = await ok(sb, 'get:online_status', { userIds: [alice.id] });
      assert.equal(between.statuses[0].isOnline, true);
      const again = await connectUser(srv, alice);
      await expectNone(sb, ['user:online', 'user:offline'], { predicate: isAlice, since, ms: 2500 });
      const offline = waitFor(sb, 'user:offline', isAlice, 7000);
      await close(again);
      const off = await offline;
      assert.ok(off.timestamp >= closedAt, 'the time her last socket closed');
      const after = await ok(sb, 'get:online_status', { userIds: [alice.id] });
      assert.equal(after.statuses[0].isOnline, false);
      assert.equal(after.statuses[0].lastSeen, off.timestamp, 'last seen when the last socket closed');
    });
  });

  describe('edit:message and delete:message (extensions)', () => {
    it('edits a message: message:updated to the room, history updated', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const m = await send(sa, conv, 'typo');
      const updated = waitFor(sb, 'message:updated');
      const ack = await ok(sa, 'edit:message', { messageId: m.id, message: 'fixed' });
      assert.equal(ack.message.message, 'fixed');
      const u = await updated;
      assert.equal(u.id, m.id);
      assert.equal(u.conversationId, conv.uuid);
      assert.equal(u.message, 'fixed');
      assert.match(u.editedAt, ISO);
      const [stored] = await history(srv, alice, conv.id);
      assert.equal(stored.text, 'fixed');
    });

    it('refuses an invalid edit with INVALID_PAYLOAD and changes nothing', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const m = await send(sa, conv, 'original');
      const since = markAll();
      for (const payload of [{}, { messageId: m.id }, { message: 'x' }, { messageId: 'nope', message: 'x' },
        { messageId: m.id, message: '' }, { messageId: m.id, message: 'x'.repeat(10_001) }]) {
        await refused(sa, 'edit:message', payload, 'INVALID_PAYLOAD');
      }
      await expectNone(sb, 'message:updated', { since, ms: 100 });
      assert.equal((await history(srv, alice, conv.id))[0].text, 'original');
      await ok(sa, 'edit:message', { messageId: m.id, message: 'changed' });
    });

    it('refuses an edit by another member (FORBIDDEN) and by a non-member (NOT_FOUND)', async () => {
      const { alice, conv, sa, sb, sc } = await trio(srv);
      const m = await send(sa, conv, 'mine');
      const since = markAll();
      await refused(sb, 'edit:message', { messageId: m.id, message: 'hijacked' }, 'FORBIDDEN');
      await refused(sc, 'edit:message', { messageId: m.id, message: 'hijacked' }, 'NOT_FOUND');
      await expectNone([sa, sb], 'message:updated', { since });
      assert.equal((await history(srv, alice, conv.id))[0].text, 'mine');
    });

    it('deletes a message: message:deleted to the room, history shows it deleted', async () => {
      const { alice, conv, sa, sb } = await trio(srv);
      const m = await send(sa, conv, 'regret');
      const deleted = waitFor(sb, 'message:deleted');
      await ok(sa, 'delete:message', { messageId: m.id });
      const d = await deleted;
      assert.equal(d.messageId, m.id);
      assert.equal(d.conversationId, conv.uuid);
      const stored = await history(srv, alice, conv.id);
      const row = stored.find((x) => x.uuid === m.id);
      assert.ok(row, 'a deleted message stays in history, marked deleted');
      assert.equal(typeof row.deletedAt, 'number');
      assert.equal(row.text, null, 'the deleted text is erased');
      // A deleted message cannot be edited; deleting it again changes nothing.
      await refused(sa, 'edit:message', { messageId: m.id, message: 'again' }, 'CONFLICT');
      await ok(sa, 'delete:message', { messageId: m.id });
    });

    it('refuses an invalid delete with INVALID_PAYLOAD and deletes nothing', async () => {
      const { alice, conv, sa } = await trio(srv);
      const m = await send(sa, conv, 'keep');
      for (const payload of [{}, { messageId: 'nope' }, { messageId: null }]) {
        await refused(sa, 'delete:message', payload, 'INVALID_PAYLOAD');
      }
      assert.equal((await history(srv, alice, conv.id))[0].text, 'keep');
      await ok(sa, 'delete:message', { messageId: m.id });
    });

    it('refuses a delete by another member (FORBIDDEN) and by a non-member (NOT_FOUND)', async () => {
      const { alice, conv, sa, sb, sc } = await trio(srv);
      const m = await send(sa, conv, 'stays');
      const since = markAll();
      await refused(sb, 'delete:message', { messageId: m.id }, 'FORBIDDEN');
      await refused(sc, 'delete:message', { messageId: m.id }, 'NOT_FOUND');
      await expectNone([sa, sb], 'message:deleted', { since });
      assert.equal((await history(srv, alice, conv.id))[0].text, 'stays');
    });
  });
});

// ---------------------------------------------------------------------------

describe('dozaar with the rate limit lifted and a 1 s typing TTL', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      env: { CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000', CONFAB_TYPING_TTL_SECS: '1' },
    });
  });
  after(async () => {
    await closeAll();
    await srv?.stop();
  });
  afterEach(async () => {
    await closeAll();
  });

  it('delivers a 200-message burst from one socket in order', async () => {
    const { alice, conv, sa, sb } = await trio(srv);
    const N = 200;
    const texts = Array.from({ length: N }, (_, i) => `burst ${String(i).padStart(3, '0')}`);
    const all = new Promise((resolveAll, reject) => {
      const got = [];
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${N} arrived`)), 20_000);
      sb.on('new:message', (m) => {
        if (m.conversationId !== conv.uuid) return;
        got.push(m);
        if (got.length === N) {
          clearTimeout(timer);
          resolveAll(got);
        }
      });
    });
    for (const message of texts) {
      sa.emit('send:message', { conversationId: conv.uuid, message });
    }
    const got = await all;
    assert.deepEqual(got.map((m) => m.message), texts, 'texts arrive in the order sent');
    for (let i = 1; i < N; i++) {
      assert.ok(got[i].seq > got[i - 1].seq, `seq increases at ${i}: ${got[i - 1].seq} then ${got[i].seq}`);
    }
    assert.equal(received(sa, 'exception').length, 0);
    const page = await srv.rest('GET', `/api/conversations/${conv.id}/messages?limit=100`, { token: alice.token });
    assert.equal(page.status, 200);
    assert.equal(page.body.messages.length, 100);
    assert.equal(page.body.hasMore, true);
  });

  it('expires a typing indicator after the TTL without a refresh', async () => {
    const { alice, conv, sa, sb } = await trio(srv);
    const started = Date.now();
    const typing = waitFor(sb, 'user:typing');
    await ok(sa, 'typing:start', { conversationId: conv.uuid });
    await typing;
    const stopped = await waitFor(sb, 'user:stopped_typing', () => true, 4000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 800, `stopped after ${elapsed} ms, before the TTL`);
    assert.equal(stopped.userId, alice.id);
    assert.equal(stopped.conversationId, conv.uuid);
  });

  it('a refreshed typing indicator lasts past one TTL', async () => {
    const { conv, sa, sb } = await trio(srv);
    await ok(sa, 'typing:start', { conversationId: conv.uuid });
    await waitFor(sb, 'user:typing');
    await sleep(600);
    await ok(sa, 'typing:start', { conversationId: conv.uuid });
    await sleep(600);
    assert.equal(received(sb, 'user:stopped_typing').length, 0, 'refreshed before the TTL ran out');
    await waitFor(sb, 'user:stopped_typing', () => true, 3000);
  });
});

describe('dozaar with presence for contacts only and an allowlist of attachments kept elsewhere', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      env: {
        CONFAB_PRESENCE_VISIBLE_TO: 'contacts',
        CONFAB_PRESENCE_OFFLINE_GRACE_MS: '0',
        CONFAB_ATTACHMENTS_URL_PREFIXES: 'https://cdn.example.com/,https://old.example.com/media/',
        CONFAB_ATTACHMENTS_PATH_PREFIXES: '/uploads/chat/',
      },
    });
  });
  after(async () => {
    await closeAll();
    await srv?.stop();
  });
  afterEach(async () => {
    await closeAll();
  });

  it('reports a user who shares no conversation as offline', async () => {
    const { alice, carol, sa, sc } = await trio(srv);
    assert.ok(sc.connected);
    const s = await ok(sa, 'get:online_status', { userIds: [carol.id, 'nobody-at-all'] });
    assert.equal(s.statuses.length, 2);
    for (const st of s.statuses) assert.equal(st.isOnline, false);
    for (const st of s.statuses) assert.equal(st.lastSeen, null);
    const back = await ok(sc, 'get:online_status', { userIds: [alice.id] });
    assert.equal(back.statuses[0].isOnline, false);
  });

  it('tells presence to those who share a conversation or an accepted friendship, and nobody else', async () => {
    const [alice, bob, carol, fred] = await Promise.all([
      user(srv, 'alice'), user(srv, 'bob'), user(srv, 'carol'), user(srv, 'fred'),
    ]);
    await conversation(srv, bob, [alice]);
    const asked = await srv.rest('POST', '/api/friendships', { token: alice.token, body: { userId: fred.id } });
    assert.ok(asked.status < 300, JSON.stringify(asked.body));
    const accepted = await srv.rest('POST', `/api/friendships/${alice.id}/accept`, { token: fred.token });
    assert.ok(accepted.status < 300, JSON.stringify(accepted.body));
    const [sb, sc, sf] = await Promise.all([connectUser(srv, bob), connectUser(srv, carol), connectUser(srv, fred)]);
    const isAlice = (p) => p.userId === alice.id;
    const since = mark(sc);
    const atBob = waitFor(sb, 'user:online', isAlice);
    const atFred = waitFor(sf, 'user:online', isAlice);
    const tab = await connectUser(srv, alice);
    await atBob;
    await atFred;
    const st = await ok(sf, 'get:online_status', { userIds: [alice.id] });
    assert.equal(st.statuses[0].isOnline, true, 'a friend may ask');
    const offAtFred = waitFor(sf, 'user:offline', isAlice);
    await close(tab);
    await offAtFred;
    await waitFor(sb, 'user:offline', isAlice);
    await expectNone(sc, ['user:online', 'user:offline'], { predicate: isAlice, since });
  });

  it('sends attachments under an allowed prefix without an upload, and refuses the rest', async () => {
    const { alice, conv, sa, sb } = await trio(srv);
    const urls = ['https://cdn.example.com/a.png', 'https://old.example.com/media/v.mp4', '/uploads/chat/2022/b.jpg'];
    const got = waitFor(sb, 'new:message', (m) => m.message === 'from before');
    const m = await send(sa, conv, 'from before', { attachmentUrls: urls });
    assert.deepEqual(m.attachmentUrls, urls);
    assert.deepEqual((await got).attachmentUrls, urls);
    for (const bad of [
      'https://cdn.example.com.evil.com/a.png',
      'https://old.example.com/media/../secret',
      'https://old.example.com/mediaX/a.png',
      '/uploads/chat/..%2Fchat-messages/images/x.webp',
      '/uploads/chat-messages/images/not-uploaded.webp',
    ]) {
      await refused(sa, 'send:message', { conversationId: conv.uuid, message: 'x', attachmentUrls: [urls[0], bad] }, 'INVALID_PAYLOAD');
    }
    assert.equal((await history(srv, alice, conv.id)).length, 1, 'nothing refused was stored');
    await assertAlive(sa);
  });
});
