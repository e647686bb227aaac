// Black-box tests of the V Chat dialect (seeds/vchat-api.txt) with the
// official socket.io-client, against the real `confab` binary. Decisions the
// seed leaves open are in docs/dialects/vchat.md.
//
// A V Chat client sends its token raw in the `Authorization` header over the
// websocket transport, as the seed's Flutter clients do. Namespace `/` is the
// rooms list, `/message` the one room a user has open.
//
// Run: `node --test e2e/` after `cargo build --bin confab` (or `scripts/test`).

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, connect, connectUser, close, closeAll,
  waitFor, received, expectNone, emitAck, mark, sleep, uid, drain,
} from './lib/server.mjs';

const NUMERIC = /^\d+$/;
const ARABIC = /[\u0600-\u06FF]/;
const LATIN = /[A-Za-z]/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** A valid 1×1 RGBA PNG. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Every field of the seed's room object. */
const ROOM_FIELDS = [
  '_id', 'roomType', 'creatorId', 'updatedAt', 'title', 'thumbImage', 'peerId', 'peerEmail',
  'isOnline', 'lastMessage', 'ifPeerReadMyLastMessage', 'unReadCount', 'roomMembersCount',
  'isMute', 'blockerId', 'groupSetting',
];

/** Every field of the seed's message object. */
const MESSAGE_FIELDS = [
  '_id', 'messageType', 'messageAttachment', 'createdAt', 'content', 'senderId', 'senderName',
  'senderImageThumb', 'roomId',
];

/** Every event the V Chat dialect sends, for "nothing leaked" checks. */
const SERVER_EVENTS = [
  'update_one_room', 'user_online_changed', 'user_typing_changed', 'all_messages', 'new_message', 'error',
];

// --- clients ----------------------------------------------------------------

/**
 * A V Chat socket as the seed's clients open it: the raw token in
 * `Authorization`, `accept-language`, websocket only. `ns` is '' for `/` or
 * '/message'.
 */
/**
 * Makes the server know `users` by their tokens' names (a user named only as
 * a member is a placeholder until its first request).
 */
async function known(server, ...users) {
  for (const u of users) {
    const res = await api(server, 'GET', '/api/v1/user/me', { token: u.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
}

function vc(server, u, { ns = '', lang = 'en', headers, ...opts } = {}) {
  const extraHeaders = headers ?? { Authorization: u.token, 'accept-language': lang };
  return connect(server, {
    url: `${server.urls.vchat}${ns}`,
    extraHeaders,
    transports: ['websocket'],
    ...opts,
  });
}

/** The rooms list of a `/` socket: `join` with an acknowledgement and no payload. */
async function rooms(socket) {
  const ack = await socket.timeout(5000).emitWithAck('join');
  assert.ok(ack && typeof ack === 'object', `join ack is a map: ${JSON.stringify(ack)}`);
  assert.equal(ack.success, true, `join ack: ${JSON.stringify(ack)}`);
  assert.ok(Array.isArray(ack.data), `join ack data is a list: ${JSON.stringify(ack)}`);
  return ack.data;
}

/** The room `roomId` of the rooms list of `socket`. */
async function roomOf(socket, roomId) {
  const list = await rooms(socket);
  const r = list.find((x) => x._id === roomId);
  assert.ok(r, `room ${roomId} in the rooms list: ${JSON.stringify(list.map((x) => x._id))}`);
  return r;
}

/** A `/` socket that has joined (asked for its rooms list), as a client does on connect. */
async function home(server, u, opts = {}) {
  const s = await vc(server, u, opts);
  await rooms(s);
  return s;
}

/** A `/message` socket. */
function msgSocket(server, u, opts = {}) {
  return vc(server, u, { ns: '/message', ...opts });
}

/** A JSON-string payload, decoded (the seed says these must be decoded). */
function decode(payload, what) {
  assert.equal(typeof payload, 'string', `${what} is a JSON string: ${JSON.stringify(payload)}`);
  return JSON.parse(payload);
}

/** A decoded JSON string, or the payload itself, for predicates. */
function loose(payload) {
  if (typeof payload !== 'string') return payload;
  try { return JSON.parse(payload); } catch { return null; }
}

/** Opens room `roomId` on a `/message` socket; resolves the decoded all_messages. */
async function view(socket, roomId, payload = roomId) {
  socket.emit('join', payload);
  const raw = await waitFor(socket, 'all_messages', (x) => {
    const list = loose(x);
    return Array.isArray(list) && list.every((m) => m.roomId === roomId);
  });
  const list = decode(raw, 'all_messages');
  assert.ok(Array.isArray(list), `all_messages is a list: ${raw}`);
  return list;
}

/** Waits for `new_message` with `content` on a `/message` socket; the decoded message. */
async function newMessage(socket, content, timeoutMs) {
  const raw = await waitFor(socket, 'new_message', (x) => loose(x)?.content === content, timeoutMs);
  return decode(raw, 'new_message');
}

/** Waits for `update_one_room` of `roomId` matching `predicate` on a `/` socket. */
async function roomUpdate(socket, roomId, predicate = () => true, timeoutMs) {
  const r = await waitFor(socket, 'update_one_room', (x) => {
    const o = loose(x);
    return o && typeof o === 'object' && o._id === roomId && predicate(o);
  }, timeoutMs);
  assert.ok(r && typeof r === 'object' && !Array.isArray(r), `update_one_room is a map, not a string: ${JSON.stringify(r)}`);
  return r;
}

// --- REST -------------------------------------------------------------------

/**
 * `fetch` against the V Chat REST API on the V Chat listener. The token goes
 * raw in `Authorization` (`bearer: true` puts `Bearer ` in front); resolves
 * `{status, body}`.
 */
async function api(server, method, path, { token, bearer = false, body, form, lang } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = bearer ? `Bearer ${token}` : token;
  if (lang) headers['accept-language'] = lang;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${server.urls.vchat}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, body: parsed };
}

/** Checks a successful REST answer `{success: true, data}`; returns `data`. */
function okData(res, what) {
  assert.ok(res.status >= 200 && res.status < 300, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.success, true, `${what}: ${JSON.stringify(res.body)}`);
  assert.ok('data' in res.body, `${what} has data: ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** Checks a REST error `{success: false, error, code}` with `status`. */
function failed(res, status, code, what) {
  assert.equal(res.status, status, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.success, false, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body.error, 'string', `${what} error text: ${JSON.stringify(res.body)}`);
  assert.ok(res.body.error.length > 0);
  if (code) assert.equal(res.body.code, code, `${what}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Sends a text message through REST as `u`; returns the message. */
async function say(server, u, roomId, content, opts = {}) {
  const res = await api(server, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: u.token, body: { content }, ...opts });
  return okData(res, `POST message ${content}`);
}

/** The messages of a room through REST, newest first. */
async function messages(server, u, roomId, query = '') {
  const res = await api(server, 'GET', `/api/v1/rooms/${roomId}/messages${query}`, { token: u.token });
  const data = okData(res, `GET messages of ${roomId}`);
  assert.ok(Array.isArray(data), `messages are a list: ${JSON.stringify(res.body)}`);
  return data;
}

// --- shapes -----------------------------------------------------------------

function checkMessage(m, { roomId, sender, content, type = 'text' }) {
  for (const k of MESSAGE_FIELDS) assert.ok(k in m, `message has ${k}: ${JSON.stringify(m)}`);
  assert.equal(typeof m._id, 'string');
  assert.match(m._id, NUMERIC);
  assert.equal(m.messageType, type);
  if (type === 'text') assert.equal(m.messageAttachment, null);
  assert.equal(typeof m.createdAt, 'number');
  assert.ok(Math.abs(m.createdAt - Date.now()) < 120_000, `createdAt ${m.createdAt} is in milliseconds and recent`);
  assert.equal(m.content, content);
  assert.equal(m.senderId, sender.id);
  assert.equal(m.senderName, sender.name);
  assert.equal(typeof m.senderImageThumb, 'string');
  assert.equal(m.roomId, roomId);
}

function checkRoomFields(r) {
  assert.ok(r && typeof r === 'object' && !Array.isArray(r), `a room is a map: ${JSON.stringify(r)}`);
  for (const k of ROOM_FIELDS) assert.ok(k in r, `room has ${k}: ${JSON.stringify(r)}`);
  assert.equal(typeof r._id, 'string');
  assert.match(r._id, NUMERIC);
  assert.ok(['single', 'group'].includes(r.roomType));
  assert.equal(typeof r.creatorId, 'string');
  assert.equal(typeof r.updatedAt, 'number');
  assert.ok(Math.abs(r.updatedAt - Date.now()) < 120_000, `updatedAt ${r.updatedAt} is in milliseconds and recent`);
  assert.equal(typeof r.title, 'string');
  assert.equal(typeof r.thumbImage, 'string');
  assert.ok([0, 1].includes(r.isOnline), `isOnline is 0 or 1: ${r.isOnline}`);
  assert.ok([0, 1].includes(r.ifPeerReadMyLastMessage), `ifPeerReadMyLastMessage is 0 or 1: ${r.ifPeerReadMyLastMessage}`);
  assert.equal(typeof r.unReadCount, 'number');
  assert.equal(typeof r.roomMembersCount, 'number');
  assert.ok([0, 1].includes(r.isMute), `isMute is 0 or 1: ${r.isMute}`);
  assert.ok(r.lastMessage === null || typeof r.lastMessage === 'object');
  if (r.lastMessage) for (const k of MESSAGE_FIELDS) assert.ok(k in r.lastMessage, `lastMessage has ${k}`);
}

// --- errors -----------------------------------------------------------------

/** Emits `event` with an acknowledgement and checks `{success: false, error, code}`. */
async function refusedAck(socket, event, payload, code) {
  const ack = await emitAck(socket, event, payload);
  assert.ok(ack && typeof ack === 'object', `${event} ${JSON.stringify(payload)} ack: ${JSON.stringify(ack)}`);
  assert.equal(ack.success, false, `${event} ${JSON.stringify(payload)} should be refused: ${JSON.stringify(ack)}`);
  assert.equal(ack.code, code, `${event} ${JSON.stringify(payload)}: ${JSON.stringify(ack)}`);
  assert.equal(typeof ack.error, 'string');
  assert.ok(ack.error.length > 0);
  return ack;
}

/** Emits `event` without an acknowledgement and checks the `error` event that answers it. */
async function refusedEvent(socket, event, payload, code) {
  socket.emit(event, payload);
  const e = await waitFor(socket, 'error', (x) => x && typeof x === 'object' && x.event === event);
  assert.equal(e.success, false, JSON.stringify(e));
  assert.equal(e.code, code, `${event} ${JSON.stringify(payload)}: ${JSON.stringify(e)}`);
  assert.equal(typeof e.error, 'string');
  assert.ok(e.error.length > 0);
  return e;
}

// ---------------------------------------------------------------------------

describe('vchat dialect', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: { CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000', CONFAB_TYPING_TTL_SECS: '2' },
    });
    assert.ok(server.urls.vchat, 'vchat listens');
  });
  after(async () => {
    await closeAll();
    await server?.stop();
  });
  afterEach(async () => {
    await closeAll();
  });

  describe('connection', () => {
    it('refuses a connection without a token or with a bad one, saying why in the language of accept-language', async () => {
      const url = server.urls.vchat;
      const ws = ['websocket'];
      const refusal = async (headers, lang) => {
        let message;
        await assert.rejects(connect(server, { url, extraHeaders: headers, transports: ws }), (err) => {
          message = err.message;
          return true;
        });
        assert.equal(typeof message, 'string');
        assert.ok(message.length > 0, 'connect_error says why');
        if (lang === 'ar') {
          assert.match(message, ARABIC, `Arabic message: ${message}`);
        } else {
          assert.match(message, LATIN, `English message: ${message}`);
          assert.doesNotMatch(message, ARABIC, `English message: ${message}`);
        }
      };
      for (const lang of ['en', 'ar']) {
        await refusal({ 'accept-language': lang }, lang);
        await refusal({ Authorization: 'not-a-jwt', 'accept-language': lang }, lang);
        await refusal({ Authorization: '', 'accept-language': lang }, lang);
      }
      // `ar…` is Arabic; anything else (or nothing) English.
      await refusal({ Authorization: 'not-a-jwt', 'accept-language': 'ar-SA,ar;q=0.9,en;q=0.8' }, 'ar');
      await refusal({ Authorization: 'not-a-jwt', 'accept-language': 'fr' }, 'en');
      await refusal({ Authorization: 'not-a-jwt' }, 'en');
      // A forged signature, on both namespaces.
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const [h, p] = a.token.split('.');
      const forged = `${h}.${p}.${b.token.split('.')[2]}`;
      await refusal({ Authorization: forged, 'accept-language': 'ar' }, 'ar');
      await assert.rejects(connect(server, {
        url: `${url}/message`, extraHeaders: { Authorization: forged, 'accept-language': 'en' }, transports: ws,
      }));
      await assert.rejects(connect(server, { url: `${url}/message`, transports: ws }));
    });

    it('accepts the token raw or with Bearer in Authorization, or in auth.token, on both namespaces', async () => {
      const a = await user(server, 'alice');
      const sockets = [
        await vc(server, a),
        await vc(server, a, { headers: { Authorization: `Bearer ${a.token}` } }),
        await connect(server, { url: server.urls.vchat, auth: { token: a.token } }),
        await msgSocket(server, a),
        await msgSocket(server, a, { headers: { Authorization: `Bearer ${a.token}` } }),
        await connect(server, { url: `${server.urls.vchat}/message`, auth: { token: a.token } }),
      ];
      for (const s of sockets) assert.ok(s.connected);
      assert.equal(sockets[0].io.engine.transport.name, 'websocket');
      assert.deepEqual(await rooms(sockets[1]), []);
      await expectNone(sockets, SERVER_EVENTS, { since: new Map(sockets.map((s) => [s, 0])), ms: 200 });
    });
  });

  describe('namespace / (rooms list)', () => {
    it('answers join with every field of the seed room for single and group rooms, most recently active first', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      await known(server, a, b, c);
      // Oldest first: a silent direct room with Carol, then Bob's, then the group.
      const quiet = await conversation(server, a, [c], { kind: 'direct' });
      const single = await conversation(server, a, [b], { kind: 'direct' });
      const group = await conversation(server, a, [b, c], { kind: 'group', title: 'Team' });
      const [qid, sid, gid] = [String(quiet.id), String(single.id), String(group.id)];
      await sleep(5);
      const toBob = await say(server, a, sid, 'hi bob');
      await sleep(5);
      const toTeam = await say(server, a, gid, 'hi team');

      const sa = await vc(server, a);
      const list = await rooms(sa);
      assert.deepEqual(list.map((r) => r._id), [gid, sid, qid], 'most recently active first');
      for (let i = 1; i < list.length; i++) {
        assert.ok(list[i - 1].updatedAt >= list[i].updatedAt, 'updatedAt does not increase down the list');
      }
      for (const r of list) checkRoomFields(r);

      const [g, s, q] = list;
      // The single room, as Alice sees it.
      assert.equal(s._id, sid);
      assert.equal(s.roomType, 'single');
      assert.equal(s.creatorId, a.id);
      assert.equal(s.title, b.name);
      assert.equal(s.thumbImage, 'default_user_image.png');
      assert.equal(s.peerId, b.id);
      assert.ok(s.peerEmail === null || typeof s.peerEmail === 'string', `peerEmail: ${s.peerEmail}`);
      assert.equal(s.isOnline, 0, 'Bob has no socket');
      checkMessage(s.lastMessage, { roomId: sid, sender: a, content: 'hi bob' });
      assert.equal(s.lastMessage._id, toBob._id);
      assert.equal(s.ifPeerReadMyLastMessage, 0, 'Bob has not read it');
      assert.equal(s.unReadCount, 0, 'her own message is not unread');
      assert.equal(s.roomMembersCount, 2);
      assert.equal(s.isMute, 0);
      assert.equal(s.blockerId, null);
      assert.equal(s.groupSetting, null);

      // The group.
      assert.equal(g._id, gid);
      assert.equal(g.roomType, 'group');
      assert.equal(g.creatorId, a.id);
      assert.equal(g.title, 'Team');
      assert.equal(g.thumbImage, 'default_group_image.png');
      assert.equal(g.peerId, null);
      assert.equal(g.peerEmail, null);
      assert.equal(g.isOnline, 0);
      checkMessage(g.lastMessage, { roomId: gid, sender: a, content: 'hi team' });
      assert.equal(g.lastMessage._id, toTeam._id);
      assert.equal(g.unReadCount, 0);
      assert.equal(g.roomMembersCount, 3);
      assert.equal(g.isMute, 0);
      assert.equal(g.blockerId, null);
      assert.ok(g.groupSetting && typeof g.groupSetting === 'object', `groupSetting: ${JSON.stringify(g.groupSetting)}`);
      assert.equal(g.groupSetting.title, 'Team');
      assert.equal(g.groupSetting.creatorId, a.id);
      assert.equal(g.groupSetting.membersCount, 3);

      // A room without messages.
      assert.equal(q.roomType, 'single');
      assert.equal(q.title, c.name);
      assert.equal(q.peerId, c.id);
      assert.equal(q.lastMessage, null);
      assert.equal(q.unReadCount, 0);

      // Bob's view of the same rooms: Alice is the peer, online, and her messages are unread.
      const sb = await vc(server, b);
      const bobs = await rooms(sb);
      assert.deepEqual(bobs.map((r) => r._id), [gid, sid]);
      const bs = bobs[1];
      checkRoomFields(bs);
      assert.equal(bs.title, a.name);
      assert.equal(bs.peerId, a.id);
      assert.equal(bs.creatorId, a.id);
      assert.equal(bs.isOnline, 1, 'Alice has a socket');
      assert.equal(bs.unReadCount, 1);
      assert.equal(bs.ifPeerReadMyLastMessage, 0, 'the last message is not Bob\'s');
      assert.equal(bobs[0].unReadCount, 1);
    });

    it('relays typing, recording and stop to the other members as user_typing_changed, not to the typist', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const sb = await home(server, b);
      const since = mark(sa);
      for (const status of ['typing', 'recording', 'stop']) {
        sa.emit('typing', { roomId: rid, status });
        const t = await waitFor(sb, 'user_typing_changed', (x) => x && x.status === status);
        assert.ok(t && typeof t === 'object', `user_typing_changed is a map: ${JSON.stringify(t)}`);
        assert.deepEqual({ status: t.status, name: t.name, roomId: t.roomId }, { status, name: a.name, roomId: rid });
      }
      // The room may be named by its number or its UUID; events name it by the numeric string.
      sa.emit('typing', { roomId: conv.id, status: 'recording' });
      assert.equal((await waitFor(sb, 'user_typing_changed', (x) => x.status === 'recording')).roomId, rid);
      sa.emit('typing', { roomId: conv.uuid, status: 'stop' });
      assert.equal((await waitFor(sb, 'user_typing_changed', (x) => x.status === 'stop')).roomId, rid);
      await expectNone(sa, 'user_typing_changed', { since, ms: 200 });
    });

    it('ends a typing indicator left on with stop after the typing TTL', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const sb = await home(server, b);
      const started = Date.now();
      sa.emit('typing', { roomId: rid, status: 'typing' });
      await waitFor(sb, 'user_typing_changed', (x) => x.status === 'typing');
      const stop = await waitFor(sb, 'user_typing_changed', (x) => x.status === 'stop', 6000);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1500, `stopped after ${elapsed} ms, before the 2 s TTL`);
      assert.deepEqual({ status: stop.status, name: stop.name, roomId: stop.roomId }, { status: 'stop', name: a.name, roomId: rid });
    });

    it('tells the peers of single rooms user_online_changed as a JSON string, and nobody else', async () => {
      const [a, b, c, d, e] = await Promise.all([
        user(server, 'alice'), user(server, 'bob'), user(server, 'carol'), user(server, 'dave'), user(server, 'eve'),
      ]);
      const single = await conversation(server, a, [b], { kind: 'direct' });
      // Carol shares only a group with Alice; Dave shares nothing with her.
      await conversation(server, a, [c, e], { kind: 'group', title: 'No presence here' });
      await conversation(server, d, [e], { kind: 'direct' });
      const rid = String(single.id);
      const sb = await home(server, b);
      const sc = await home(server, c);
      const sd = await home(server, d);
      assert.equal((await roomOf(sb, rid)).isOnline, 0);
      const since = mark(sb, sc, sd);

      const isStatus = (status) => (x) => {
        const o = loose(x);
        return o && o.roomId === rid && o.status === status;
      };
      const sa = await vc(server, a);
      const online = await waitFor(sb, 'user_online_changed', isStatus(1));
      assert.deepEqual(decode(online, 'user_online_changed'), { status: 1, roomId: rid });
      assert.equal((await roomOf(sb, rid)).isOnline, 1);

      await close(sa);
      const offline = await waitFor(sb, 'user_online_changed', isStatus(0));
      assert.deepEqual(decode(offline, 'user_online_changed'), { status: 0, roomId: rid });
      assert.equal((await roomOf(sb, rid)).isOnline, 0);

      await expectNone([sc, sd], 'user_online_changed', { since, ms: 200 });
      assert.equal(received(sb, 'user_online_changed').length, 2, 'one change each way');
    });

    it('refuses typing in a foreign room with NOT_FOUND and bad payloads with INVALID_PAYLOAD, in the connection language, and stays connected', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const sb = await home(server, b);
      const sc = await home(server, c, { lang: 'ar' });

      // Carol is not in the room.
      const since = mark(sa, sb);
      const arabic = await refusedAck(sc, 'typing', { roomId: rid, status: 'typing' }, 'NOT_FOUND');
      assert.match(arabic.error, ARABIC, `error in Arabic: ${arabic.error}`);
      const ev = await refusedEvent(sc, 'typing', { roomId: rid, status: 'typing' }, 'NOT_FOUND');
      assert.match(ev.error, ARABIC, `error in Arabic: ${ev.error}`);
      await refusedAck(sc, 'typing', { roomId: '999999', status: 'typing' }, 'NOT_FOUND');

      // Bad payloads.
      for (const payload of [
        { roomId: rid, status: 'dancing' },
        { status: 'typing' },
        { roomId: rid },
        'a string',
        null,
      ]) {
        const ack = await refusedAck(sa, 'typing', payload, 'INVALID_PAYLOAD');
        assert.doesNotMatch(ack.error, ARABIC, `error in English: ${ack.error}`);
      }
      await refusedEvent(sa, 'typing', { roomId: rid, status: 'dancing' }, 'INVALID_PAYLOAD');

      // Still connected and usable; nothing leaked to the members.
      assert.ok(sa.connected);
      assert.ok(sc.connected);
      assert.equal((await rooms(sa)).length, 1);
      sb.emit('typing', { roomId: rid, status: 'typing' });
      const t = await waitFor(sa, 'user_typing_changed', (x) => x.status === 'typing');
      assert.equal(t.name, b.name);
      await expectNone([sa, sb], 'user_typing_changed', { since, predicate: (x) => x.name === c.name, ms: 0 });
      await expectNone(sb, 'user_typing_changed', { since, ms: 100 });
    });
  });

  describe('namespace /message (the open room)', () => {
    it('counts unread messages until the room is viewed, keeps them read while viewing and unread again after disconnecting', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const sb = await home(server, b);

      // Bob does not view the room: messages count as unread.
      await say(server, a, rid, 'one');
      const u1 = await roomUpdate(sb, rid, (r) => r.lastMessage?.content === 'one');
      assert.equal(typeof u1, 'object', 'update_one_room is a map, not a string');
      checkRoomFields(u1);
      assert.equal(u1.unReadCount, 1);
      checkMessage(u1.lastMessage, { roomId: rid, sender: a, content: 'one' });
      assert.equal(u1.title, a.name);
      // Sent with `Bearer ` in front, which is accepted too.
      await say(server, a, rid, 'two', { bearer: true });
      const u2 = await roomUpdate(sb, rid, (r) => r.lastMessage?.content === 'two');
      assert.equal(u2.unReadCount, 2);
      // Alice, the sender, gets the update too.
      const mine = await roomUpdate(sa, rid, (r) => r.lastMessage?.content === 'two');
      assert.equal(mine.unReadCount, 0);
      assert.equal(mine.ifPeerReadMyLastMessage, 0);
      assert.equal((await roomOf(sb, rid)).unReadCount, 2);

      // Bob opens the room: all_messages (a JSON string, newest first) and the room is read.
      const mb = await msgSocket(server, b);
      const all = await view(mb, rid);
      assert.deepEqual(all.map((m) => m.content), ['two', 'one']);
      checkMessage(all[0], { roomId: rid, sender: a, content: 'two' });
      assert.ok(Number(all[0]._id) > Number(all[1]._id));
      await roomUpdate(sb, rid, (r) => r.unReadCount === 0);
      assert.equal((await roomOf(sb, rid)).unReadCount, 0);
      // Alice is told that Bob read her last message.
      await roomUpdate(sa, rid, (r) => r.ifPeerReadMyLastMessage === 1 && r.lastMessage?.content === 'two');
      assert.equal((await roomOf(sa, rid)).ifPeerReadMyLastMessage, 1);

      // While Bob views it, a new message arrives on /message and stays read.
      await say(server, a, rid, 'three');
      const m3 = await newMessage(mb, 'three');
      checkMessage(m3, { roomId: rid, sender: a, content: 'three' });
      // The read is recorded once the message reached the viewing socket, so
      // the room may first be updated with it unread, then read.
      await roomUpdate(sb, rid, (r) => r.lastMessage?.content === 'three' && r.unReadCount === 0);
      assert.equal((await roomOf(sb, rid)).unReadCount, 0, 'a message that arrives while viewing is read');

      // Bob leaves the room page: new messages are unread again.
      await close(mb);
      await sleep(300); // the server sees the disconnect after the client does
      await say(server, a, rid, 'four');
      const u4 = await roomUpdate(sb, rid, (r) => r.lastMessage?.content === 'four');
      assert.equal(u4.unReadCount, 1);
      assert.equal((await roomOf(sb, rid)).unReadCount, 1);
    });

    it('sends new_message as a JSON string to every viewer of the room, the sender included', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const ma = await msgSocket(server, a);
      const mb = await msgSocket(server, b);
      assert.deepEqual(await view(ma, rid, { roomId: rid }), [], '{roomId} works too');
      assert.deepEqual(await view(mb, rid), []);
      const sent = await say(server, a, rid, 'hello both');
      checkMessage(sent, { roomId: rid, sender: a, content: 'hello both' });
      const toB = await newMessage(mb, 'hello both');
      const toA = await newMessage(ma, 'hello both');
      checkMessage(toB, { roomId: rid, sender: a, content: 'hello both' });
      assert.deepEqual(toA, toB);
      assert.equal(toA._id, sent._id);
      assert.equal(received(ma, 'new_message').length, 1, 'once');
    });

    it('pages with all_messages (30 newest) and load_more (the rest, newest first)', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const texts = Array.from({ length: 35 }, (_, i) => `m${String(i).padStart(2, '0')}`);
      for (const t of texts) await say(server, a, rid, t);

      const mb = await msgSocket(server, b);
      const first = await view(mb, rid);
      assert.equal(first.length, 30);
      assert.deepEqual(first.map((m) => m.content), texts.slice(5).reverse());
      const oldest = first[first.length - 1];
      assert.equal(oldest.content, 'm05');

      const more = await emitAck(mb, 'load_more', { roomId: rid, beforeMessageId: oldest._id });
      const rest = decode(more, 'load_more answer');
      assert.deepEqual(rest.map((m) => m.content), texts.slice(0, 5).reverse());
      for (const m of rest) checkMessage(m, { roomId: rid, sender: a, content: m.content });

      const none = await emitAck(mb, 'load_more', { roomId: rid, beforeMessageId: rest[rest.length - 1]._id });
      assert.deepEqual(decode(none, 'load_more at the beginning'), []);
    });

    it('views one room at a time: joining another room leaves the first', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      const first = await conversation(server, a, [b]);
      const second = await conversation(server, c, [b]);
      const [r1, r2] = [String(first.id), String(second.id)];
      const sb = await home(server, b);
      const mb = await msgSocket(server, b);
      await view(mb, r1);
      await view(mb, r2);
      const since = mark(mb);
      await say(server, a, r1, 'to the first room');
      const u = await roomUpdate(sb, r1, (r) => r.lastMessage?.content === 'to the first room');
      assert.equal(u.unReadCount, 1, 'the first room is no longer viewed');
      await say(server, c, r2, 'to the second room');
      await newMessage(mb, 'to the second room');
      await expectNone(mb, 'new_message', { since, predicate: (x) => loose(x)?.roomId === r1, ms: 0 });
    });

    it('refuses a foreign room with NOT_FOUND, bad payloads with INVALID_PAYLOAD, and leaks nothing', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const mb = await msgSocket(server, b);
      await view(mb, rid);
      await say(server, a, rid, 'before carol');
      await newMessage(mb, 'before carol');

      const mc = await msgSocket(server, c);
      await refusedAck(mc, 'join', rid, 'NOT_FOUND');
      await refusedEvent(mc, 'join', rid, 'NOT_FOUND');
      await refusedEvent(mc, 'join', conv.uuid, 'NOT_FOUND');
      await refusedAck(mc, 'join', '999999', 'NOT_FOUND');
      await refusedAck(mc, 'load_more', { roomId: rid, beforeMessageId: '999999999' }, 'NOT_FOUND');
      assert.ok(mc.connected);
      assert.equal(received(mc, 'all_messages').length, 0, 'no history for a stranger');

      // Bad payloads from a member.
      const ma = await msgSocket(server, a);
      for (const payload of [{}, { roomId: { id: rid } }, null]) {
        await refusedAck(ma, 'join', payload, 'INVALID_PAYLOAD');
      }
      await refusedEvent(ma, 'join', {}, 'INVALID_PAYLOAD');
      for (const payload of [{}, { beforeMessageId: '1' }, 'a string', null]) {
        await refusedAck(ma, 'load_more', payload, 'INVALID_PAYLOAD');
      }
      assert.ok(ma.connected);
      assert.equal(received(ma, 'all_messages').length, 0);
      assert.deepEqual((await view(ma, rid)).map((m) => m.content), ['before carol']);

      await say(server, a, rid, 'not for carol');
      await newMessage(mb, 'not for carol');
      await expectNone(mc, ['new_message', 'all_messages'], { since: new Map([[mc, 0]]), ms: 200 });
    });
  });

  describe('block and mute', () => {
    it('a block stops messages both ways and tells both users; unblocking lets them write again', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const sb = await home(server, b);
      await say(server, a, rid, 'before the block');

      const blocked = okData(await api(server, 'POST', `/api/v1/rooms/${rid}/block`, { token: b.token }), 'block');
      assert.equal(blocked._id, rid);
      assert.equal(blocked.blockerId, b.id);
      assert.equal((await roomUpdate(sa, rid, (r) => r.blockerId === b.id)).blockerId, b.id);
      assert.equal((await roomUpdate(sb, rid, (r) => r.blockerId === b.id)).blockerId, b.id);
      assert.equal((await roomOf(sa, rid)).blockerId, b.id);

      failed(await api(server, 'POST', `/api/v1/rooms/${rid}/messages`, { token: a.token, body: { content: 'blocked' } }), 403, 'FORBIDDEN', 'Alice sends to Bob who blocked her');
      failed(await api(server, 'POST', `/api/v1/rooms/${rid}/messages`, { token: b.token, body: { content: 'blocked too' } }), 403, 'FORBIDDEN', 'Bob sends to Alice he blocked');
      failed(await api(server, 'POST', `/api/v1/rooms/${rid}/unblock`, { token: a.token }), 403, 'FORBIDDEN', 'only the blocker unblocks');
      assert.deepEqual((await messages(server, a, rid)).map((m) => m.content), ['before the block']);

      drain(sa);
      drain(sb);
      const unblocked = okData(await api(server, 'POST', `/api/v1/rooms/${rid}/unblock`, { token: b.token }), 'unblock');
      assert.equal(unblocked.blockerId, null);
      await roomUpdate(sa, rid, (r) => r.blockerId === null);
      await roomUpdate(sb, rid, (r) => r.blockerId === null);
      await say(server, a, rid, 'after the unblock');
      await roomUpdate(sb, rid, (r) => r.lastMessage?.content === 'after the unblock');
      assert.deepEqual((await messages(server, b, rid)).map((m) => m.content), ['after the unblock', 'before the block']);
    });

    it('mute and unmute set isMute for the caller only and tell their / sockets', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const sb = await home(server, b);
      const since = mark(sa);

      const muted = okData(await api(server, 'POST', `/api/v1/rooms/${rid}/mute`, { token: b.token }), 'mute');
      assert.equal(muted._id, rid);
      assert.equal(muted.isMute, 1);
      await roomUpdate(sb, rid, (r) => r.isMute === 1);
      assert.equal((await roomOf(sb, rid)).isMute, 1);
      assert.equal((await roomOf(sa, rid)).isMute, 0, 'Alice did not mute it');

      // A muted room still gets its messages and unread counts.
      await say(server, a, rid, 'while muted');
      const u = await roomUpdate(sb, rid, (r) => r.lastMessage?.content === 'while muted');
      assert.equal(u.isMute, 1);
      assert.equal(u.unReadCount, 1);

      drain(sb);
      const unmuted = okData(await api(server, 'POST', `/api/v1/rooms/${rid}/unmute`, { token: b.token }), 'unmute');
      assert.equal(unmuted.isMute, 0);
      await roomUpdate(sb, rid, (r) => r.isMute === 0);
      assert.equal((await roomOf(sb, rid)).isMute, 0);
      await expectNone(sa, 'update_one_room', { since, predicate: (r) => r.isMute === 1, ms: 0 });
    });
  });

  describe('REST', () => {
    it('registers and logs in with raw JWT access tokens; a wrong password is 401', async () => {
      const email = `${uid('reg')}@example.com`;
      const password = 'correct horse battery staple';
      const reg = okData(await api(server, 'POST', '/api/v1/auth/register', { body: { email, fullName: 'Reg User', password } }), 'register');
      assert.equal(typeof reg.accessToken, 'string');
      assert.ok(!reg.accessToken.startsWith('Bearer'), `raw token: ${reg.accessToken}`);
      assert.match(reg.accessToken, JWT);
      assert.ok(reg.user && typeof reg.user._id === 'string', JSON.stringify(reg.user));
      assert.equal(reg.user.fullName, 'Reg User');
      assert.equal(reg.user.email, email);

      const login = okData(await api(server, 'POST', '/api/v1/auth/login', { body: { email, password } }), 'login');
      assert.match(login.accessToken, JWT);
      assert.ok(!login.accessToken.startsWith('Bearer'));
      assert.equal(login.user._id, reg.user._id);

      failed(await api(server, 'POST', '/api/v1/auth/login', { body: { email, password: 'wrong password!' } }), 401, undefined, 'wrong password');

      // The raw token works as the seed's clients send it.
      const me = await fetch(`${server.urls.vchat}/api/v1/user/me`, { headers: { Authorization: login.accessToken } });
      assert.equal(me.status, 200);
      const meBody = await me.json();
      assert.equal(meBody.success, true);
      assert.equal(meBody.data._id, reg.user._id);
      assert.equal(meBody.data.fullName, 'Reg User');
      assert.equal(meBody.data.email, email);
      assert.ok('userImage' in meBody.data);
      const s = await vc(server, { token: reg.accessToken });
      assert.deepEqual(await rooms(s), []);

      failed(await api(server, 'GET', '/api/v1/user/me'), 401, 'UNAUTHENTICATED', 'no token');
      failed(await api(server, 'GET', '/api/v1/user/me', { token: 'not-a-jwt' }), 401, 'UNAUTHENTICATED', 'bad token');
    });

    it('GET /api/v1/user/me answers the caller with a raw token', async () => {
      const a = await user(server, 'alice');
      const res = await fetch(`${server.urls.vchat}/api/v1/user/me`, { headers: { Authorization: a.token } });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.success, true);
      assert.equal(body.data._id, a.id);
      assert.equal(body.data.fullName, a.name);
      for (const k of ['_id', 'fullName', 'email', 'userImage']) assert.ok(k in body.data, `user has ${k}`);
    });

    it('creates single rooms idempotently and groups, lists them, leaves a group but not a single room', async () => {
      const [a, b, c] = await Promise.all([user(server, 'alice'), user(server, 'bob'), user(server, 'carol')]);
      await known(server, a, b, c);
      const s1 = okData(await api(server, 'POST', '/api/v1/rooms/single', { token: a.token, body: { peerId: b.id } }), 'single');
      checkRoomFields(s1);
      assert.equal(s1.roomType, 'single');
      assert.equal(s1.peerId, b.id);
      assert.equal(s1.title, b.name);
      assert.equal(s1.roomMembersCount, 2);
      const s2 = okData(await api(server, 'POST', '/api/v1/rooms/single', { token: a.token, body: { peerId: b.id } }), 'single again');
      assert.equal(s2._id, s1._id);
      const s3 = okData(await api(server, 'POST', '/api/v1/rooms/single', { token: b.token, body: { peerId: a.id } }), 'single from Bob');
      assert.equal(s3._id, s1._id);
      assert.equal(s3.peerId, a.id);

      const g = okData(await api(server, 'POST', '/api/v1/rooms/group', { token: a.token, body: { title: 'Crew', usersIds: [b.id, c.id] } }), 'group');
      checkRoomFields(g);
      assert.equal(g.roomType, 'group');
      assert.equal(g.title, 'Crew');
      assert.equal(g.roomMembersCount, 3);
      assert.equal(g.groupSetting.title, 'Crew');
      assert.equal(g.peerId, null);

      const listOf = async (u) => {
        const data = okData(await api(server, 'GET', '/api/v1/rooms', { token: u.token }), 'rooms');
        assert.ok(Array.isArray(data));
        return data.map((r) => r._id).sort();
      };
      assert.deepEqual(await listOf(a), [s1._id, g._id].sort());
      assert.deepEqual(await listOf(c), [g._id]);

      const left = await api(server, 'POST', `/api/v1/rooms/${g._id}/leave`, { token: c.token });
      assert.equal(okData(left, 'leave group'), null);
      assert.deepEqual(await listOf(c), []);
      const stillThere = okData(await api(server, 'GET', '/api/v1/rooms', { token: a.token }), 'rooms').find((r) => r._id === g._id);
      assert.equal(stillThere.roomMembersCount, 2);

      failed(await api(server, 'POST', `/api/v1/rooms/${s1._id}/leave`, { token: a.token }), 403, 'FORBIDDEN', 'leave a single room');
      assert.deepEqual(await listOf(a), [s1._id, g._id].sort());
    });

    it('GET messages pages newest first with before and limit', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      for (const t of ['r1', 'r2', 'r3', 'r4']) await say(server, a, rid, t);
      const all = await messages(server, b, rid);
      assert.deepEqual(all.map((m) => m.content), ['r4', 'r3', 'r2', 'r1']);
      checkMessage(all[0], { roomId: rid, sender: a, content: 'r4' });
      const page = await messages(server, b, rid, '?limit=2');
      assert.deepEqual(page.map((m) => m.content), ['r4', 'r3']);
      const older = await messages(server, b, rid, `?before=${page[1]._id}&limit=30`);
      assert.deepEqual(older.map((m) => m.content), ['r2', 'r1']);
      const c = await user(server, 'carol');
      failed(await api(server, 'GET', `/api/v1/rooms/${rid}/messages`, { token: c.token }), 404, 'NOT_FOUND', 'a stranger reads');
    });

    it('sends an attachment by multipart upload as an image message with its caption', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const mb = await msgSocket(server, b);
      await view(mb, rid);
      const form = new FormData();
      form.append('file', new Blob([PNG_1X1], { type: 'image/png' }), 'dot.png');
      form.append('content', 'look');
      const data = okData(await api(server, 'POST', `/api/v1/rooms/${rid}/messages/attachment`, { token: a.token, form }), 'attachment');
      assert.equal(data.messageType, 'image');
      assert.ok(data.messageAttachment && typeof data.messageAttachment === 'object', JSON.stringify(data));
      assert.equal(typeof data.messageAttachment.url, 'string');
      assert.ok(data.messageAttachment.url.startsWith('/uploads/'), `url ${data.messageAttachment.url}`);
      assert.ok('type' in data.messageAttachment);
      assert.equal(data.content, 'look');
      assert.equal(data.senderId, a.id);
      assert.equal(data.roomId, rid);

      const m = await newMessage(mb, 'look');
      assert.equal(m._id, data._id);
      assert.equal(m.messageType, 'image');
      assert.equal(m.messageAttachment.url, data.messageAttachment.url);
      const served = await fetch(`${server.urls.vchat}${data.messageAttachment.url}`);
      assert.equal(served.status, 200);
      await served.arrayBuffer();

      // Without a caption the content is "".
      const bare = new FormData();
      bare.append('file', new Blob([PNG_1X1]), 'dot.png');
      const plain = okData(await api(server, 'POST', `/api/v1/rooms/${rid}/messages/attachment`, { token: a.token, form: bare }), 'attachment without caption');
      assert.equal(plain.content, '');
      assert.equal(plain.messageType, 'image');
    });

    it('documents the REST API in /openapi.json', async () => {
      const res = await fetch(`${server.urls.vchat}/openapi.json`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.includes('/api/v1/rooms'), 'openapi names /api/v1/rooms');
      assert.ok(text.includes('/api/v1/auth/login'), 'openapi names /api/v1/auth/login');
      const doc = JSON.parse(text);
      assert.ok(doc.paths['/api/v1/rooms'], 'a path /api/v1/rooms');
      assert.ok(doc.paths['/api/v1/auth/login'], 'a path /api/v1/auth/login');
    });

    it('answers REST errors in Arabic with accept-language: ar and in English otherwise', async () => {
      const a = await user(server, 'alice');
      const ar = failed(await api(server, 'GET', '/api/v1/rooms/999999/messages', { token: a.token, lang: 'ar' }), 404, 'NOT_FOUND', 'unknown room, ar');
      assert.match(ar.error, ARABIC, `Arabic: ${ar.error}`);
      const en = failed(await api(server, 'GET', '/api/v1/rooms/999999/messages', { token: a.token, lang: 'en' }), 404, 'NOT_FOUND', 'unknown room, en');
      assert.match(en.error, LATIN);
      assert.doesNotMatch(en.error, ARABIC, `English: ${en.error}`);
      const anon = failed(await api(server, 'GET', '/api/v1/rooms', { lang: 'ar' }), 401, 'UNAUTHENTICATED', 'no token, ar');
      assert.match(anon.error, ARABIC, `Arabic: ${anon.error}`);
    });
  });

  describe('cross-dialect', () => {
    it('delivers Dozaar messages to V Chat sockets and V Chat REST messages to Dozaar', async () => {
      const [a, b] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      const conv = await conversation(server, a, [b]);
      const rid = String(conv.id);
      const sa = await home(server, a);
      const ma = await msgSocket(server, a);
      await view(ma, rid);
      const db = await connectUser(server, b);
      const joined = await emitAck(db, 'join:conversation', { conversationId: conv.uuid });
      assert.equal(joined.success, true, JSON.stringify(joined));

      const sent = await emitAck(db, 'send:message', { conversationId: conv.uuid, message: 'from dozaar' });
      assert.equal(sent.success, true, JSON.stringify(sent));
      const m = await newMessage(ma, 'from dozaar');
      checkMessage(m, { roomId: rid, sender: b, content: 'from dozaar' });
      const u = await roomUpdate(sa, rid, (r) => r.lastMessage?.content === 'from dozaar');
      assert.equal(u.lastMessage.senderId, b.id);
      assert.equal(u.isOnline, 1, 'Bob has a Dozaar socket');

      const got = waitFor(db, 'new:message', (x) => x.message === 'from vchat');
      const mine = await say(server, a, rid, 'from vchat');
      const d = await got;
      assert.equal(d.senderId, a.id);
      assert.equal(d.conversationId, conv.uuid);
      assert.equal(mine.content, 'from vchat');
      await newMessage(ma, 'from vchat');
    });
  });
});
