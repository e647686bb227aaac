// Black-box tests of the Voxora dialect (seeds/voxora-api.txt) with the
// official socket.io-client, against the real `confab` binary. Decisions the
// seed leaves open are in docs/dialects/voxora.md.
//
// Run: `node --test e2e/` after `cargo build --bin confab` (or `scripts/test`).

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, history, connect, close, closeAll,
  waitFor, received, expectNone, emitAck, mark, sleep,
} from './lib/server.mjs';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNKNOWN_UUID = '123e4567-e89b-12d3-a456-426614174000';
/** The default `presence.offline_grace_ms`, which the main server keeps. */
const GRACE_MS = 2000;

/** A valid 1×1 RGBA PNG. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Every event the Voxora dialect sends, for "nothing leaked" checks. */
const SERVER_EVENTS = [
  'new_message', 'message_delivered', 'user_typing', 'user_joined', 'user_online', 'user_offline',
  'new_conversation', 'message_error', 'rate_limit_exceeded',
];
/**
 * What another user's request could make the server send. Presence is left
 * out: sockets a test just connected may still be announcing themselves.
 */
const CAUSED_EVENTS = SERVER_EVENTS.filter((e) => e !== 'user_online' && e !== 'user_offline');

/** A Voxora client on `/`: the JWT in `auth.token`. */
function vx(server, u, opts = {}) {
  return connect(server, { url: server.urls.voxora, auth: { token: u.token }, ...opts });
}

/** A Voxora client on `/department` for `departmentId`. */
function vxDept(server, u, departmentId, opts = {}) {
  const query = departmentId === undefined ? undefined : { departmentId: String(departmentId) };
  return connect(server, {
    url: `${server.urls.voxora}/department`,
    auth: u ? { token: u.token } : undefined,
    query,
    ...opts,
  });
}

/** Sends with an acknowledgement and checks that the message was accepted. */
async function send(socket, conversationId, content, extra = {}) {
  const ack = await emitAck(socket, 'send_message', { conversationId, content, ...extra });
  assert.ok(ack && typeof ack._id === 'string', `send_message ${content} refused: ${JSON.stringify(ack)}`);
  return ack;
}

/**
 * Emits `event` with an acknowledgement and checks that it was refused with
 * `code`: the ack is `{error, code}` and `message_error {error, code, event}`
 * reaches the socket. `code` may be a list of acceptable codes.
 */
async function refused(socket, event, payload, code) {
  const codes = Array.isArray(code) ? code : [code];
  const ack = await emitAck(socket, event, payload);
  assert.ok(ack && typeof ack.error === 'string' && ack.error.length > 0,
    `${event} ${JSON.stringify(payload)} should be refused, ack: ${JSON.stringify(ack)}`);
  assert.ok(codes.includes(ack.code), `ack of ${event} ${JSON.stringify(payload)}: ${JSON.stringify(ack)}`);
  const e = await waitFor(socket, 'message_error', (x) => x && x.event === event);
  assert.ok(codes.includes(e.code), `message_error of ${event} ${JSON.stringify(payload)}: ${JSON.stringify(e)}`);
  assert.equal(typeof e.error, 'string');
  assert.ok(e.error.length > 0);
  assert.equal(e.event, event);
  return { ack, error: e };
}

/** A list from a REST body that is either the array or `{<key>: [...]}`. */
function listOf(body, key) {
  if (Array.isArray(body)) return body;
  assert.ok(body && Array.isArray(body[key]), `expected an array or {${key}: [...]}: ${JSON.stringify(body)}`);
  return body[key];
}

/** The id of a `visitor` field that is either a user id or a user object. */
function idOf(v) {
  return v !== null && typeof v === 'object' ? v.id : v;
}

function checkMessage(m, { conv, sender, content, type = 'text' }) {
  assert.equal(typeof m._id, 'string', `_id is a string: ${JSON.stringify(m)}`);
  assert.match(m._id, NUMERIC);
  assert.equal(m.id, m._id);
  assert.match(m.uuid, UUID);
  assert.equal(m.conversationId, String(conv.id));
  assert.equal(m.senderId, sender.id);
  assert.equal(m.sender.id, sender.id);
  assert.equal(m.sender.name, sender.name);
  assert.ok('avatar' in m.sender, 'sender carries avatar');
  assert.equal(m.content, content);
  assert.equal(m.type, type);
  assert.ok(Array.isArray(m.attachments));
  if (type === 'text') assert.deepEqual(m.attachments, []);
  assert.equal(typeof m.seq, 'number');
  assert.ok('clientId' in m, 'message carries clientId');
  assert.match(m.timestamp, ISO);
  assert.match(m.createdAt, ISO);
  assert.match(m.updatedAt, ISO);
  assert.ok(Math.abs(Date.parse(m.timestamp) - Date.now()) < 60_000, 'timestamp is now');
}

/** Creates a department as `creator`; returns its REST object. */
async function department(server, creator, name = 'Support') {
  const res = await server.rest('POST', '/api/departments', { token: creator.token, body: { name } });
  assert.equal(res.status, 201, `POST /api/departments: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function addAgent(server, admin, dept, agent, role) {
  const body = { userId: agent.id };
  if (role) body.role = role;
  const res = await server.rest('POST', `/api/departments/${dept.id}/agents`, { token: admin.token, body });
  assert.ok([200, 201].includes(res.status), `POST agents: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function openSupport(server, visitor, dept, { title, text } = {}) {
  const body = {};
  if (title !== undefined) body.title = title;
  if (text !== undefined) body.text = text;
  const res = await server.rest('POST', `/api/departments/${dept.id}/conversations`, { token: visitor.token, body });
  assert.equal(res.status, 201, `POST department conversation: ${JSON.stringify(res.body)}`);
  return res.body;
}

// ---------------------------------------------------------------------------

describe('voxora dialect', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: { CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000', CONFAB_TYPING_TTL_SECS: '2' },
    });
    assert.ok(server.urls.voxora, 'voxora listens');
  });
  after(async () => {
    await closeAll();
    await server.stop();
  });
  afterEach(async () => {
    await closeAll();
  });

  describe('connection', () => {
    it('refuses a connection without a token and with a bad token', async () => {
      await assert.rejects(connect(server, { url: server.urls.voxora }));
      await assert.rejects(connect(server, { url: server.urls.voxora, auth: { token: '' } }));
      await assert.rejects(connect(server, { url: server.urls.voxora, auth: { token: 'not-a-jwt' } }));
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      // Alice's header and claims with the signature of Bob's token.
      const [h, p] = a.token.split('.');
      const forged = `${h}.${p}.${b.token.split('.')[2]}`;
      await assert.rejects(connect(server, { url: server.urls.voxora, auth: { token: forged } }));
      await assert.rejects(connect(server, { url: server.urls.voxora, token: forged }));
    });

    it('accepts the token in auth.token with or without Bearer, or in the Authorization header, and emits nothing on connect', async () => {
      const a = await user(server, 'alice');
      const s1 = await vx(server, a);
      const s2 = await connect(server, { url: server.urls.voxora, auth: { token: `Bearer ${a.token}` } });
      const s3 = await connect(server, { url: server.urls.voxora, token: a.token, via: 'header' });
      for (const s of [s1, s2, s3]) assert.ok(s.connected);
      // Other users' presence may reach every socket (presence.visible_to
      // "everyone"); nothing else comes, and nothing of Alice's own.
      const since = new Map([[s1, 0], [s2, 0], [s3, 0]]);
      await expectNone([s1, s2, s3], CAUSED_EVENTS, { since });
      await expectNone([s1, s2, s3], ['user_online', 'user_offline'], { predicate: (x) => x.userId === a.id, since, ms: 0 });
    });
  });

  describe('send_message', () => {
    it('delivers new_message to the other member and the sender without joining, then message_delivered to the sending socket only', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      // Alice's second tab hears the message, not the sending tab's receipt.
      const sa2 = await vx(server, a);
      const toB = waitFor(sb, 'new_message', (m) => m.content === 'Hello!');
      const toA = waitFor(sa, 'new_message', (m) => m.content === 'Hello!');
      const toA2 = waitFor(sa2, 'new_message', (m) => m.content === 'Hello!');
      const ack = await send(sa, String(conv.id), 'Hello!');
      const m = await toB;
      checkMessage(m, { conv, sender: a, content: 'Hello!' });
      assert.equal(m.clientId, null);
      const mine = await toA;
      assert.equal(mine._id, m._id);
      // The acknowledgement is the message.
      checkMessage(ack, { conv, sender: a, content: 'Hello!' });
      assert.equal(ack._id, m._id);
      assert.equal(ack.seq, m.seq);
      // Delivery confirmation: the id string, after new_message, to the sender only.
      const delivered = await waitFor(sa, 'message_delivered', (x) => x === m._id);
      assert.equal(delivered, m._id);
      const iNew = sa.received.findIndex((e) => e.event === 'new_message' && e.data._id === m._id);
      const iDelivered = sa.received.findIndex((e) => e.event === 'message_delivered' && e.data === m._id);
      assert.ok(iNew >= 0 && iNew < iDelivered, 'new_message comes before message_delivered');
      assert.equal((await toA2)._id, m._id);
      await expectNone([sb, sa2], 'message_delivered', { since: new Map([[sb, 0], [sa2, 0]]) });
      assert.equal(received(sa, 'message_delivered').length, 1, 'once');
      // Stored.
      const h = await history(server, a, conv.id);
      assert.equal(h.length, 1);
      assert.equal(String(h[0].id), m._id);
      assert.equal(h[0].text, 'Hello!');
      assert.equal(h[0].senderId, a.id);
    });

    it('accepts the conversation as a number, a numeric string or a UUID, and always names it by the numeric string', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      for (const [label, id] of [['number', conv.id], ['string', String(conv.id)], ['uuid', conv.uuid]]) {
        const ack = await send(sa, id, `by ${label}`);
        assert.equal(ack.conversationId, String(conv.id));
        const m = await waitFor(sb, 'new_message', (x) => x.content === `by ${label}`);
        assert.equal(m.conversationId, String(conv.id));
      }
      assert.equal((await history(server, b, conv.id)).length, 3);
    });

    it('answers bad payloads with message_error INVALID_PAYLOAD, stores nothing and stays connected', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      const cid = String(conv.id);
      const before = (await history(server, a, conv.id)).length;
      const since = mark(sb);
      for (const payload of [
        { content: 'no conversation' },
        { conversationId: cid, content: '' },
        { conversationId: cid },
        { conversationId: cid, content: 'x', type: 'video' },
        { conversationId: cid, content: 42 },
        { conversationId: cid, content: { text: 'x' } },
        { conversationId: cid, content: 'x'.repeat(10_001) },
        { conversationId: cid, content: 'not a url', type: 'image' },
        { conversationId: 'not an id!', content: 'x' },
        'a string',
        null,
      ]) {
        await refused(sa, 'send_message', payload, 'INVALID_PAYLOAD');
      }
      assert.ok(sa.connected);
      assert.equal((await history(server, a, conv.id)).length, before);
      // Still usable.
      await send(sa, cid, 'after the errors');
      await waitFor(sb, 'new_message', (m) => m.content === 'after the errors');
      assert.equal((await history(server, a, conv.id)).length, before + 1);
      assert.equal(received(sb, 'new_message').length, 1);
      await expectNone(sb, ['message_error', 'message_delivered'], { since, ms: 0 });
    });

    it('makes a retry with the same clientId idempotent', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const first = await send(sa, String(conv.id), 'once', { clientId: 'c-1' });
      assert.equal(first.clientId, 'c-1');
      const again = await send(sa, String(conv.id), 'once', { clientId: 'c-1' });
      assert.equal(again._id, first._id);
      assert.equal((await history(server, a, conv.id)).length, 1);
    });

    it('refuses a non-member with NOT_FOUND for send_message, typing_start and join_conversation; members get nothing', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      const sc = await vx(server, c);
      // Bob's arrival reaches Alice first, so it cannot pass for a leak below.
      await waitFor(sa, 'user_online', (x) => x.userId === b.id);
      const since = mark(sa, sb);
      for (const id of [String(conv.id), conv.id, conv.uuid]) {
        await refused(sc, 'send_message', { conversationId: id, content: 'intrusion' }, 'NOT_FOUND');
        await refused(sc, 'typing_start', { conversationId: id }, 'NOT_FOUND');
        await refused(sc, 'join_conversation', { conversationId: id }, 'NOT_FOUND');
      }
      // The same as a conversation that does not exist.
      const member = await refused(sc, 'send_message', { conversationId: String(conv.id), content: 'x' }, 'NOT_FOUND');
      const unknown = await refused(sc, 'send_message', { conversationId: '999999999', content: 'x' }, 'NOT_FOUND');
      assert.equal(member.ack.error, unknown.ack.error, 'a non-member cannot tell that the conversation exists');
      await refused(sc, 'join_conversation', { conversationId: UNKNOWN_UUID }, 'NOT_FOUND');
      assert.ok(sc.connected);
      await expectNone([sa, sb], CAUSED_EVENTS, { since });
      assert.equal((await history(server, a, conv.id)).length, 0);
      // Carol, not in the room, gets nothing of the members' talk.
      const sinceC = mark(sc);
      await send(sa, String(conv.id), 'members only');
      await waitFor(sb, 'new_message', (m) => m.content === 'members only');
      await expectNone(sc, ['new_message', 'message_delivered', 'user_typing'], { since: sinceC });
    });
  });

  describe('typing', () => {
    it('relays typing_start and typing_stop as user_typing to the other member, not to the typist', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      const since = mark(sa);
      sa.emit('typing_start', { conversationId: String(conv.id) });
      const on = await waitFor(sb, 'user_typing', (x) => x.isTyping === true);
      assert.equal(on.userId, a.id);
      assert.equal(on.userName, a.name);
      assert.equal(on.conversationId, String(conv.id));
      sa.emit('typing_stop', { conversationId: String(conv.id) });
      const off = await waitFor(sb, 'user_typing', (x) => x.isTyping === false);
      assert.equal(off.userId, a.id);
      assert.equal(off.userName, a.name);
      assert.equal(off.conversationId, String(conv.id));
      await expectNone(sa, 'user_typing', { since });
    });

    it('refuses typing events with a bad payload with INVALID_PAYLOAD', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      const since = mark(sb);
      for (const event of ['typing_start', 'typing_stop']) {
        for (const payload of [{}, { conversationId: 'no such id!' }, { conversationId: true }, null]) {
          await refused(sa, event, payload, 'INVALID_PAYLOAD');
        }
      }
      await expectNone(sb, 'user_typing', { since });
    });
  });

  describe('rooms', () => {
    it('join_conversation tells the room user_joined, joiner included; leave_conversation stops new_message until joining again', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const cid = String(conv.id);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      sa.emit('join_conversation', { conversationId: cid });
      const self = await waitFor(sa, 'user_joined', (x) => x.userId === a.id);
      assert.deepEqual({ userId: self.userId, conversationId: self.conversationId }, { userId: a.id, conversationId: cid });
      const other = await waitFor(sb, 'user_joined', (x) => x.userId === a.id);
      assert.equal(other.conversationId, cid);

      const left = await emitAck(sa, 'leave_conversation', { conversationId: cid });
      assert.deepEqual(left, { ok: true, conversationId: cid });
      const since = mark(sa);
      await send(sb, cid, 'while away');
      await waitFor(sb, 'new_message', (m) => m.content === 'while away');
      await expectNone(sa, 'new_message', { since });
      // Leaving does not end the membership.
      const res = await server.rest('GET', `/api/conversations/${conv.id}`, { token: a.token });
      assert.equal(res.status, 200);

      sa.emit('join_conversation', { conversationId: cid });
      await waitFor(sa, 'user_joined', (x) => x.userId === a.id);
      await send(sb, cid, 'welcome back');
      const m = await waitFor(sa, 'new_message', (x) => x.content === 'welcome back');
      assert.equal(m.conversationId, cid);
    });

    it('join_conversation and leave_conversation take the bare id the Voxora code sends; a bad or foreign one is refused', async () => {
      const [a, b, c, d] = await Promise.all([
        user(server, 'alice'), user(server, 'bob'), user(server, 'carol'), user(server, 'dave'),
      ]);
      const conv = await conversation(server, a, [b]);
      const cid = String(conv.id);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      // As apps/web and apps/widget emit it: socket.emit('join_conversation', conversationId).
      sa.emit('join_conversation', cid);
      const joined = await waitFor(sb, 'user_joined', (x) => x.userId === a.id);
      assert.equal(joined.conversationId, cid);
      const left = await emitAck(sa, 'leave_conversation', cid);
      assert.deepEqual(left, { ok: true, conversationId: cid });
      const since = mark(sa);
      await send(sb, cid, 'after a bare leave');
      await expectNone(sa, 'new_message', { since });
      // The number and the UUID work bare too.
      assert.deepEqual(await emitAck(sa, 'join_conversation', conv.id), { ok: true, conversationId: cid });
      assert.deepEqual(await emitAck(sa, 'leave_conversation', conv.uuid), { ok: true, conversationId: cid });

      // Bad input: a clear error, the socket still usable.
      for (const bad of ['not an id!', '', -3, true]) {
        await refused(sa, 'join_conversation', bad, 'INVALID_PAYLOAD');
      }
      // Someone else's conversation, bare: not found, and its members hear nothing.
      const foreign = await conversation(server, c, [d]);
      const sc = await vx(server, c);
      const quiet = mark(sc);
      await refused(sa, 'join_conversation', String(foreign.id), 'NOT_FOUND');
      await refused(sa, 'leave_conversation', String(foreign.id), 'NOT_FOUND');
      await expectNone(sc, CAUSED_EVENTS, { since: quiet });
      assert.deepEqual(await emitAck(sa, 'join_conversation', cid), { ok: true, conversationId: cid });
    });
  });

  describe('presence', () => {
    it('sends user_online when a user connects and user_offline after its last socket closes, to everyone by default', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sc = await vx(server, c);
      const since = mark(sa, sc);
      const sb1 = await vx(server, b);
      const online = await waitFor(sa, 'user_online', (x) => x.userId === b.id);
      assert.equal(online.userId, b.id);
      // Carol shares nothing with Bob, and hears it all the same (as the
      // seed's server does: presence.visible_to = "everyone").
      await waitFor(sc, 'user_online', (x) => x.userId === b.id);
      // A second socket is not a new arrival; closing one of two is not a departure.
      const beforeSecond = mark(sa);
      const sb2 = await vx(server, b);
      await expectNone(sa, 'user_online', { predicate: (x) => x.userId === b.id, since: beforeSecond });
      const beforeClose = mark(sa);
      await close(sb1);
      await expectNone(sa, 'user_offline', { predicate: (x) => x.userId === b.id, since: beforeClose });
      await close(sb2);
      const offline = await waitFor(sa, 'user_offline', (x) => x.userId === b.id);
      assert.equal(offline.userId, b.id);
      await waitFor(sc, 'user_offline', (x) => x.userId === b.id);
      // Nobody hears of their own presence.
      await expectNone([sb1, sb2], ['user_online', 'user_offline'], { predicate: (x) => x.userId === b.id, since: new Map([[sb1, 0], [sb2, 0]]), ms: 0 });
    });

    it('does not flap offline and online when a page reloads within the grace; offline comes once the grace is over', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sc = await vx(server, c);
      const sb = await vx(server, b);
      await waitFor(sa, 'user_online', (x) => x.userId === b.id);
      await waitFor(sc, 'user_online', (x) => x.userId === b.id);
      // A reload: the page's socket closes, the new page's opens.
      const since = mark(sa, sc);
      await close(sb);
      const reloaded = await vx(server, b);
      await expectNone([sa, sc], ['user_online', 'user_offline'], {
        predicate: (x) => x.userId === b.id, since, ms: GRACE_MS + 500,
      });
      // Still the same user on the new page.
      const back = waitFor(sa, 'new_message', (x) => x.content === 'reloaded');
      await send(reloaded, String(conv.id), 'reloaded');
      await back;
      // The tab closes for good: offline, once the grace is over.
      const offline = waitFor(sa, 'user_offline', (x) => x.userId === b.id, GRACE_MS + 5000);
      const closedAt = Date.now();
      await close(reloaded);
      await offline;
      const took = Date.now() - closedAt;
      assert.ok(took >= GRACE_MS - 100, `offline after ${took} ms, within the ${GRACE_MS} ms grace`);
      await sleep(200);
      assert.equal(received(sa, 'user_offline', (x) => x.userId === b.id).length, 1);
      assert.equal(received(sa, 'user_online', (x) => x.userId === b.id).length, 1);
    });
  });

  describe('file_upload', () => {
    it('uploads an image as a Buffer, sends it as an image message and serves it over HTTP', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const sb = await vx(server, b);
      const up = await emitAck(sa, 'file_upload', PNG_1X1, 10_000);
      assert.equal(up.error, undefined, JSON.stringify(up));
      assert.match(up.path, /^\/uploads\//);
      assert.ok(up.url === up.path || up.url.endsWith(up.path), `url ${up.url} names path ${up.path}`);
      assert.equal(up.type, 'image');
      assert.equal(up.contentType, 'image/webp');
      assert.equal(typeof up.size, 'number');
      assert.ok(up.size > 0);

      const got = waitFor(sb, 'new_message', (m) => m.type === 'image');
      const ack = await send(sa, String(conv.id), up.url, { type: 'image' });
      assert.equal(ack.type, 'image');
      const m = await got;
      assert.equal(m._id, ack._id);
      assert.equal(m.senderId, a.id);
      assert.ok(m.content.endsWith(up.path), `content ${m.content} names ${up.path}`);
      assert.ok(JSON.stringify(m.attachments).includes(up.path), `attachments ${JSON.stringify(m.attachments)}`);

      const served = await fetch(`${server.urls.voxora}${up.path}`);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('content-type'), 'image/webp');
      await served.arrayBuffer();
    });

    it('refuses a file over uploads.socket_max_bytes (1 MiB) with message_error, keeps the connection, and takes one of exactly 1 MiB', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const MiB = 1024 * 1024;
      // Bigger than the limit, yet within the packet the listener takes
      // (room for framing): refused as a file, not as a packet.
      const tooBig = Buffer.alloc(MiB + 1, 7);
      const over = await emitAck(sa, 'file_upload', tooBig, 20_000);
      assert.equal(over.code, 'INVALID_PAYLOAD', JSON.stringify(over));
      assert.match(over.error, /larger than the 1048576 bytes allowed/);
      const e = await waitFor(sa, 'message_error', (x) => x.event === 'file_upload');
      assert.equal(e.code, 'INVALID_PAYLOAD');
      assert.ok(sa.connected, 'the connection stays open');
      const fits = await emitAck(sa, 'file_upload', Buffer.alloc(MiB, 7), 20_000);
      assert.equal(fits.error, undefined, JSON.stringify(fits));
      assert.equal(fits.size, MiB);
      assert.equal(fits.type, 'file');
      await send(sa, String(conv.id), fits.url, { type: 'file' });
    });

    it('sniffs a non-image file, refuses a payload that is not binary, and does not let a stranger send the upload', async () => {
      const [a, b, c, d] = await Promise.all([
        user(server, 'alice'), user(server, 'bob'), user(server, 'carol'), user(server, 'dave'),
      ]);
      await conversation(server, a, [b]);
      const sa = await vx(server, a);
      const text = await emitAck(sa, 'file_upload', Buffer.from('not an image, just some text\n'), 10_000);
      assert.ok(text && (typeof text.url === 'string' || typeof text.error === 'string'), JSON.stringify(text));
      if (typeof text.url === 'string') assert.notEqual(text.type, 'image');
      else await waitFor(sa, 'message_error', (x) => x.event === 'file_upload');

      const bad = await emitAck(sa, 'file_upload', { x: 1 });
      assert.equal(bad.code, 'INVALID_PAYLOAD', JSON.stringify(bad));
      assert.equal(typeof bad.error, 'string');
      const e = await waitFor(sa, 'message_error', (x) => x.event === 'file_upload');
      assert.equal(e.code, 'INVALID_PAYLOAD');
      assert.ok(sa.connected);

      // Alice's upload in Carol's own conversation: not Carol's to send.
      const up = await emitAck(sa, 'file_upload', PNG_1X1, 10_000);
      assert.match(up.path, /^\/uploads\//);
      const own = await conversation(server, c, [d]);
      const sc = await vx(server, c);
      await refused(sc, 'send_message', { conversationId: String(own.id), content: up.path, type: 'image' },
        ['FORBIDDEN', 'INVALID_PAYLOAD', 'NOT_FOUND']);
      assert.equal((await history(server, c, own.id)).length, 0);
    });
  });

  describe('departments', () => {
    it('tells the agents new_conversation and new_message of a support conversation; an agent joins it and answers the visitor', async () => {
      const [k, b, v, s] = await Promise.all([
        user(server, 'keeper'), user(server, 'agent'), user(server, 'visitor'), user(server, 'stranger'),
      ]);
      const dept = await department(server, k, 'Billing');
      assert.equal(typeof dept.id, 'number');
      assert.match(dept.uuid, UUID);
      assert.equal(dept.name, 'Billing');
      assert.equal(dept.createdBy, k.id);
      assert.ok(dept.agents.some((x) => x.userId === k.id && x.role === 'admin'), JSON.stringify(dept.agents));
      await addAgent(server, k, dept, b);

      const sDept = await vxDept(server, b, dept.id);
      const sRoot = await vx(server, b);
      const sStranger = await vx(server, s);
      const since = mark(sStranger);

      const conv = await openSupport(server, v, dept, { title: 'Need help', text: 'help' });
      assert.equal(typeof conv.id, 'number');
      assert.match(conv.uuid, UUID);
      assert.equal(String(conv.departmentId), String(dept.id));

      for (const sock of [sDept, sRoot]) {
        const nc = await waitFor(sock, 'new_conversation', (x) => String(x.id) === String(conv.id));
        assert.equal(nc.id, String(conv.id));
        assert.equal(nc.uuid, conv.uuid);
        assert.equal(nc.departmentId, String(dept.id));
        assert.equal(nc.title, 'Need help');
        assert.equal(nc.createdBy, v.id);
        assert.equal(idOf(nc.visitor), v.id);
        assert.match(nc.createdAt, ISO);
        const m = await waitFor(sock, 'new_message', (x) => x.content === 'help');
        assert.equal(m.conversationId, String(conv.id));
        assert.equal(m.senderId, v.id);
        assert.equal(m.type, 'text');
      }
      await expectNone(sStranger, ['new_conversation', 'new_message'], { since });

      const list = await server.rest('GET', `/api/departments/${dept.id}/conversations`, { token: b.token });
      assert.equal(list.status, 200);
      assert.ok(listOf(list.body, 'conversations').some((x) => String(x.id) === String(conv.id)), JSON.stringify(list.body));

      // Not yet a member: the conversation is invisible and closed to sends.
      assert.equal((await server.rest('GET', `/api/conversations/${conv.id}`, { token: b.token })).status, 404);
      await refused(sRoot, 'send_message', { conversationId: String(conv.id), content: 'too early' }, 'NOT_FOUND');

      const sv = await vx(server, v);
      sRoot.emit('join_conversation', { conversationId: String(conv.id) });
      const joined = await waitFor(sRoot, 'user_joined', (x) => x.userId === b.id);
      assert.equal(joined.conversationId, String(conv.id));
      await waitFor(sv, 'user_joined', (x) => x.userId === b.id && x.conversationId === String(conv.id));
      const got = await server.rest('GET', `/api/conversations/${conv.id}`, { token: b.token });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.ok(got.body.members.some((x) => x.userId === b.id), JSON.stringify(got.body.members));

      const reply = waitFor(sv, 'new_message', (x) => x.content === 'How can I help?');
      await send(sRoot, String(conv.id), 'How can I help?');
      const r = await reply;
      assert.equal(r.senderId, b.id);
      const h = await history(server, v, conv.id);
      assert.deepEqual(h.map((x) => x.text), ['help', 'How can I help?']);
    });

    it('tells a /department socket that sends message_delivered, after new_message, and only that socket', async () => {
      const [k, v] = await Promise.all([user(server, 'keeper'), user(server, 'visitor')]);
      const dept = await department(server, k, 'Returns');
      const conv = await openSupport(server, v, dept, { title: 'Broken', text: 'it broke' });
      const claimed = await server.rest('POST', `/api/departments/${dept.id}/conversations/${conv.id}/claim`, { token: k.token });
      assert.ok([200, 201].includes(claimed.status), JSON.stringify(claimed.body));
      const sDept = await vxDept(server, k, dept.id);
      const sRoot = await vx(server, k);
      const sv = await vx(server, v);
      const since = mark(sRoot, sv);
      const ack = await send(sDept, String(conv.id), 'On it');
      const heard = await waitFor(sv, 'new_message', (x) => x.content === 'On it');
      assert.equal(heard._id, ack._id);
      const delivered = await waitFor(sDept, 'message_delivered', (x) => x === ack._id);
      assert.equal(delivered, ack._id);
      const iNew = sDept.received.findIndex((x) => x.event === 'new_message' && x.data._id === ack._id);
      const iDelivered = sDept.received.findIndex((x) => x.event === 'message_delivered' && x.data === ack._id);
      assert.ok(iNew >= 0 && iNew < iDelivered, 'new_message (to the department room) comes first');
      // The agent's socket on / is in the room: it hears the message, not the receipt.
      await waitFor(sRoot, 'new_message', (x) => x._id === ack._id);
      await expectNone([sRoot, sv], 'message_delivered', { since });

      // And the other way: sent on /, the /department socket is not told.
      const quiet = mark(sDept);
      const ack2 = await send(sRoot, String(conv.id), 'Done');
      assert.equal(await waitFor(sRoot, 'message_delivered', (x) => x === ack2._id), ack2._id);
      await expectNone(sDept, 'message_delivered', { since: quiet });
    });

    it('refuses a non-agent, an unknown department and a missing departmentId on /department', async () => {
      const [k, s] = await Promise.all([user(server, 'keeper'), user(server, 'stranger')]);
      const dept = await department(server, k, 'Sales');
      await assert.rejects(vxDept(server, s, dept.id), (err) => {
        assert.match(err.message, /not an agent/i);
        return true;
      });
      await assert.rejects(vxDept(server, k, 999999999), (err) => {
        assert.match(err.message, /not an agent/i);
        return true;
      });
      await assert.rejects(vxDept(server, k, undefined), (err) => {
        assert.match(err.message, /not an agent/i);
        return true;
      });
      await assert.rejects(vxDept(server, undefined, dept.id));
      // The creator, an admin agent, is welcome.
      const ok = await vxDept(server, k, dept.id);
      assert.ok(ok.connected);
    });

    it('lets an agent claim a support conversation over REST; a stranger cannot', async () => {
      const [k, b, v, s] = await Promise.all([
        user(server, 'keeper'), user(server, 'agent'), user(server, 'visitor'), user(server, 'stranger'),
      ]);
      const dept = await department(server, k, 'Claims');
      await addAgent(server, k, dept, b, 'agent');
      const conv = await openSupport(server, v, dept, { text: 'anyone?' });
      const denied = await server.rest('POST', `/api/departments/${dept.id}/conversations/${conv.id}/claim`, { token: s.token });
      assert.equal(denied.status, 404);
      assert.equal((await server.rest('GET', `/api/conversations/${conv.id}`, { token: s.token })).status, 404);
      const claim = await server.rest('POST', `/api/departments/${dept.id}/conversations/${conv.id}/claim`, { token: b.token });
      assert.ok([200, 201].includes(claim.status), `claim: ${claim.status} ${JSON.stringify(claim.body)}`);
      const got = await server.rest('GET', `/api/conversations/${conv.id}`, { token: b.token });
      assert.equal(got.status, 200);
      assert.ok(got.body.members.some((x) => x.userId === b.id));
      // Now an ordinary member: its socket talks in the conversation.
      const sb = await vx(server, b);
      const sv = await vx(server, v);
      await send(sb, String(conv.id), 'claimed');
      await waitFor(sv, 'new_message', (x) => x.content === 'claimed');
    });

    it('authorizes the department REST API and documents it in /openapi.json', async () => {
      const [k, b, c, s] = await Promise.all([
        user(server, 'keeper'), user(server, 'agent'), user(server, 'other'), user(server, 'stranger'),
      ]);
      const dept = await department(server, k, 'Desk');
      await addAgent(server, k, dept, b);

      // Listing: the caller's departments.
      const mine = await server.rest('GET', '/api/departments', { token: b.token });
      assert.equal(mine.status, 200);
      assert.ok(listOf(mine.body, 'departments').some((x) => x.id === dept.id), JSON.stringify(mine.body));
      const theirs = await server.rest('GET', '/api/departments', { token: s.token });
      assert.equal(theirs.status, 200);
      assert.ok(!listOf(theirs.body, 'departments').some((x) => x.id === dept.id));

      // One department: agents only.
      const one = await server.rest('GET', `/api/departments/${dept.id}`, { token: b.token });
      assert.equal(one.status, 200);
      assert.equal(one.body.id, dept.id);
      assert.ok(one.body.agents.some((x) => x.userId === k.id && x.role === 'admin'));
      assert.ok(one.body.agents.some((x) => x.userId === b.id && x.role === 'agent'), JSON.stringify(one.body.agents));
      assert.equal((await server.rest('GET', `/api/departments/${dept.id}`, { token: s.token })).status, 404);
      assert.equal((await server.rest('GET', '/api/departments/999999999', { token: k.token })).status, 404);

      // Adding agents: admins only.
      const byAgent = await server.rest('POST', `/api/departments/${dept.id}/agents`, { token: b.token, body: { userId: c.id } });
      assert.equal(byAgent.status, 403, JSON.stringify(byAgent.body));
      const byStranger = await server.rest('POST', `/api/departments/${dept.id}/agents`, { token: s.token, body: { userId: c.id } });
      assert.equal(byStranger.status, 404, JSON.stringify(byStranger.body));

      // Support conversations: anyone opens, agents list.
      await openSupport(server, s, dept, { text: 'question' });
      assert.equal((await server.rest('GET', `/api/departments/${dept.id}/conversations`, { token: s.token })).status, 404);
      assert.equal((await server.rest('GET', `/api/departments/${dept.id}/conversations`, { token: b.token })).status, 200);

      // Bad input and no token.
      const noName = await server.rest('POST', '/api/departments', { token: k.token, body: {} });
      assert.equal(noName.status, 400, JSON.stringify(noName.body));
      const badRole = await server.rest('POST', `/api/departments/${dept.id}/agents`, { token: k.token, body: { userId: c.id, role: 'overlord' } });
      assert.equal(badRole.status, 400, JSON.stringify(badRole.body));
      const noUser = await server.rest('POST', `/api/departments/${dept.id}/agents`, { token: k.token, body: {} });
      assert.equal(noUser.status, 400, JSON.stringify(noUser.body));
      const anonymous = await server.rest('POST', '/api/departments', { body: { name: 'x' } });
      assert.equal(anonymous.status, 401);

      const doc = await server.rest('GET', '/openapi.json');
      assert.equal(doc.status, 200);
      assert.ok(doc.body.paths['/api/departments'], 'openapi has /api/departments');
      assert.ok(doc.body.paths['/api/departments/{id}/conversations'], 'openapi has /api/departments/{id}/conversations');
    });

    it('lets admins remove agents and an agent remove itself, but not another agent', async () => {
      const [k, b, c] = await Promise.all([user(server, 'keeper'), user(server, 'agent'), user(server, 'other')]);
      const dept = await department(server, k, 'Removals');
      await addAgent(server, k, dept, b);
      await addAgent(server, k, dept, c);
      const notHis = await server.rest('DELETE', `/api/departments/${dept.id}/agents/${c.id}`, { token: b.token });
      assert.equal(notHis.status, 403, JSON.stringify(notHis.body));
      const self = await server.rest('DELETE', `/api/departments/${dept.id}/agents/${b.id}`, { token: b.token });
      assert.ok([200, 204].includes(self.status), `self removal: ${self.status} ${JSON.stringify(self.body)}`);
      assert.equal((await server.rest('GET', `/api/departments/${dept.id}`, { token: b.token })).status, 404);
      const byAdmin = await server.rest('DELETE', `/api/departments/${dept.id}/agents/${c.id}`, { token: k.token });
      assert.ok([200, 204].includes(byAdmin.status), `admin removal: ${byAdmin.status} ${JSON.stringify(byAdmin.body)}`);
      await assert.rejects(vxDept(server, c, dept.id), /not an agent/i);
      const left = await server.rest('GET', `/api/departments/${dept.id}`, { token: k.token });
      assert.deepEqual(left.body.agents.map((x) => x.userId), [k.id]);
    });
  });

  describe('other dialects', () => {
    it('talks with Dozaar both ways and reaches a JobSpare client in the same conversation', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      const conv = await conversation(server, a, [b, c], { kind: 'group', title: 'mixed' });
      const sa = await vx(server, a);

      // Dozaar: /chat, token in the Authorization header, joins by UUID.
      const sd = await connect(server, { token: b.token });
      const joined = await emitAck(sd, 'join:conversation', { conversationId: conv.uuid });
      assert.equal(joined.success, true, JSON.stringify(joined));

      // JobSpare: token in auth.token, `authenticated`, then join_conversation.
      const sj = await connect(server, { url: server.urls.jobspare, auth: { token: c.token } });
      await waitFor(sj, 'authenticated');
      sj.emit('join_conversation', { conversationId: conv.uuid });
      await waitFor(sj, 'joined_conversation');

      const toDozaar = waitFor(sd, 'new:message', (x) => x.message === 'from voxora');
      const toJobspare = waitFor(sj, 'new_message', (x) => x.content && x.content.text === 'from voxora');
      const sent = await send(sa, String(conv.id), 'from voxora');
      const d = await toDozaar;
      assert.equal(d.conversationId, conv.uuid);
      assert.equal(d.senderId, a.id);
      assert.equal(d.id, sent.uuid);
      const j = await toJobspare;
      assert.equal(j.senderId._id, a.id);

      const back = waitFor(sa, 'new_message', (x) => x.content === 'from dozaar');
      const ack = await emitAck(sd, 'send:message', { conversationId: conv.uuid, message: 'from dozaar' });
      assert.equal(ack.success, true, JSON.stringify(ack));
      const m = await back;
      assert.equal(m.conversationId, String(conv.id));
      assert.equal(m.senderId, b.id);
      assert.equal(m.type, 'text');
      assert.match(m._id, NUMERIC);
    });
  });
});

// ---------------------------------------------------------------------------

describe('voxora with a rate limit of 5 messages a minute', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: { CONFAB_LIMITS_MESSAGES_PER_MINUTE: '5', CONFAB_TYPING_TTL_SECS: '2' },
    });
    assert.ok(server.urls.voxora, 'voxora listens');
  });
  after(async () => {
    await closeAll();
    await server.stop();
  });

  it('refuses the excess of a burst with rate_limit_exceeded, stores only what it delivers and stays connected', async () => {
    const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
    const conv = await conversation(server, a, [b]);
    const cid = String(conv.id);
    const sa = await vx(server, a);
    const sb = await vx(server, b);
    const N = 15;
    const acks = await Promise.all(Array.from({ length: N }, (_, i) =>
      emitAck(sa, 'send_message', { conversationId: cid, content: `spam ${i}` }, 10_000)));
    const accepted = acks.filter((x) => x && typeof x._id === 'string');
    const limited = acks.filter((x) => !(x && typeof x._id === 'string'));
    assert.ok(limited.length > 0, 'some sends were refused');
    for (const x of limited) assert.equal(x.code, 'RATE_LIMITED', JSON.stringify(x));
    assert.ok(accepted.length >= 5 && accepted.length <= 7, `accepted ${accepted.length} of ${N}`);

    const r = await waitFor(sa, 'rate_limit_exceeded');
    assert.equal(typeof r.retryAfterMs, 'number');
    assert.ok(r.retryAfterMs >= 0);

    const stored = await history(server, a, conv.id);
    assert.ok(stored.length < N, `stored ${stored.length}`);
    assert.equal(stored.length, accepted.length);
    assert.deepEqual(stored.map((x) => String(x.id)).sort(), accepted.map((x) => x._id).sort());
    // Bob got exactly the stored messages.
    for (const m of stored) {
      await waitFor(sb, 'new_message', (x) => x._id === String(m.id));
    }
    await expectNone(sb, 'new_message');
    assert.equal(received(sb, 'new_message').length, stored.length);
    // Refused sends get rate_limit_exceeded, not message_error.
    assert.equal(received(sa, 'message_error').length, 0);

    // Still connected and usable for other events.
    assert.ok(sa.connected);
    sa.emit('typing_start', { conversationId: cid });
    const t = await waitFor(sb, 'user_typing', (x) => x.isTyping === true);
    assert.equal(t.userId, a.id);
  });
});

describe('voxora with presence for contacts only and a short grace', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: { CONFAB_PRESENCE_VISIBLE_TO: 'contacts', CONFAB_PRESENCE_OFFLINE_GRACE_MS: '300' },
    });
  });
  after(async () => {
    await closeAll();
    await server.stop();
  });

  it('tells those who share a conversation or an accepted friendship, and nobody else', async () => {
    const [a, b, c, f, p] = await Promise.all([
      user(server, 'alice'), user(server, 'bob'), user(server, 'carol'), user(server, 'fred'), user(server, 'pat'),
    ]);
    await conversation(server, a, [b]);
    // Fred is Bob's friend (accepted); Pat only asked.
    assert.equal((await server.rest('POST', '/api/friendships', { token: b.token, body: { userId: f.id } })).status < 300, true);
    const accepted = await server.rest('POST', `/api/friendships/${b.id}/accept`, { token: f.token });
    assert.ok(accepted.status < 300, JSON.stringify(accepted.body));
    assert.equal((await server.rest('POST', '/api/friendships', { token: p.token, body: { userId: b.id } })).status < 300, true);
    const [sa, sc, sf, sp] = await Promise.all([vx(server, a), vx(server, c), vx(server, f), vx(server, p)]);
    const since = mark(sa, sc, sf, sp);
    const sb = await vx(server, b);
    await waitFor(sa, 'user_online', (x) => x.userId === b.id);
    await waitFor(sf, 'user_online', (x) => x.userId === b.id);
    await close(sb);
    await waitFor(sa, 'user_offline', (x) => x.userId === b.id);
    await waitFor(sf, 'user_offline', (x) => x.userId === b.id);
    // Carol shares nothing with Bob; Pat's request is not a friendship.
    await expectNone([sc, sp], ['user_online', 'user_offline'], { predicate: (x) => x.userId === b.id, since });
  });
});

describe('voxora with an allowlist of attachments kept elsewhere', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: {
        CONFAB_ATTACHMENTS_URL_PREFIXES: 'https://cdn.example.com/',
        CONFAB_ATTACHMENTS_PATH_PREFIXES: '/uploads/chat/',
      },
    });
  });
  after(async () => {
    await closeAll();
    await server.stop();
  });

  it('sends files under an allowed URL or path prefix without an upload, and refuses the rest, storing nothing', async () => {
    const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
    const conv = await conversation(server, a, [b]);
    const cid = String(conv.id);
    const sa = await vx(server, a);
    const sb = await vx(server, b);
    for (const [content, type] of [
      ['/uploads/chat/2023/old-photo.jpg', 'image'],
      ['https://cdn.example.com/files/manual.pdf', 'file'],
    ]) {
      const got = waitFor(sb, 'new_message', (m) => m.content === content);
      const ack = await send(sa, cid, content, { type });
      assert.equal(ack.content, content);
      assert.deepEqual(ack.attachments, [content]);
      assert.equal((await got).type, type);
    }
    // Confab's own uploads keep their rule.
    const up = await emitAck(sa, 'file_upload', PNG_1X1, 10_000);
    const uploaded = waitFor(sb, 'new_message', (m) => m.content === up.url);
    await send(sa, cid, up.url, { type: 'image' });
    await uploaded;

    const since = mark(sb);
    for (const content of [
      'https://cdn.example.com.evil.com/a.png',
      'https://cdn.example.com@evil.com/a.png',
      'https://elsewhere.example/a.png',
      '/uploads/chat/../chat-messages/images/x.webp',
      '/uploads/chat/%2e%2e/chat-messages/images/x.webp',
      '/uploads/chatter/x.jpg',
      '/uploads/chat-messages/images/not-uploaded.webp',
      '/static/logo.png',
    ]) {
      await refused(sa, 'send_message', { conversationId: cid, content, type: 'image' }, 'INVALID_PAYLOAD');
    }
    await expectNone(sb, 'new_message', { since });
    assert.equal((await history(server, a, conv.id)).length, 3, 'nothing refused was stored');
    assert.ok(sa.connected);
  });
});
