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
import { createHash } from 'node:crypto';
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
  'update_one_room', 'all_rooms', 'kick_from_group', 'user_online_changed', 'user_typing_changed',
  'all_messages', 'new_message', 'error',
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
  // The SDK shows `data` of any answer above 300 (CustomDio.throwIfNoSuccess).
  assert.equal(res.body.data, res.body.error, `${what}: data is the error text: ${JSON.stringify(res.body)}`);
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

// --- the SDK's parsers ------------------------------------------------------
//
// The V Chat Flutter SDK v1 (hatemragab/v_chat_sdk at 38463f07) parses
// what confab sends with Dart casts that throw on a wrong type (`as String`,
// `as int`, `as Map`) and an enum lookup that throws on an unknown name.
// These are those `fromMap`s, field for field.

/** `MessageType`'s names (`enumType` throws on any other). */
const SDK_MESSAGE_TYPES = [
  'text', 'voice', 'image', 'video', 'file', 'reply', 'allDeleted', 'location', 'forward', 'create',
  'join', 'leave', 'upgrade', 'downgrade', 'info', 'kick', 'add',
];

const isInt = (v) => Number.isInteger(v);
const isStr = (v) => typeof v === 'string';
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const optStr = (v) => v === null || v === undefined || isStr(v);

function cast(ok, what, value, map) {
  assert.ok(ok, `the SDK's ${what} cast throws on ${JSON.stringify(value)} in ${JSON.stringify(map)}`);
}

/** `VChatMessageAttachment.fromMap`: every field a `String?`. */
function sdkAttachment(m) {
  cast(isMap(m), 'messageAttachment as Map', m, m);
  for (const k of ['imageUrl', 'playUrl', 'fileSize', 'fileDuration', 'width', 'height', 'lat', 'lang', 'linkTitle', 'linkDescription', 'linkDataUrl']) {
    cast(optStr(m[k]), `${k} as String?`, m[k], m);
  }
  return m;
}

/** `VChatMessage.fromMap`. */
function sdkMessage(m) {
  cast(isMap(m), 'message as Map', m, m);
  cast(isStr(m._id), '_id as String', m._id, m);
  cast(SDK_MESSAGE_TYPES.includes(m.messageType), 'MessageType.enumType', m.messageType, m);
  if (m.messageAttachment !== null && m.messageAttachment !== undefined) sdkAttachment(m.messageAttachment);
  cast(isInt(m.createdAt), 'createdAt as int', m.createdAt, m);
  for (const k of ['content', 'senderId', 'senderName', 'senderImageThumb', 'roomId']) cast(isStr(m[k]), `${k} as String`, m[k], m);
  return m;
}

/** `VChatGroupChatInfo.fromMap`. */
function sdkGroupSetting(g) {
  cast(isMap(g), 'groupSetting as Map', g, g);
  cast(isStr(g.name), 'name as String', g.name, g);
  cast(isInt(g.roomMembersCount), 'roomMembersCount as int', g.roomMembersCount, g);
  cast(typeof g.isGroupCreator === 'boolean', 'isGroupCreator as bool', g.isGroupCreator, g);
  cast(isStr(g.imageThumb), 'imageThumb as String', g.imageThumb, g);
  assert.ok(['admin', 'member'].includes(g.role), `role: ${g.role}`);
  return g;
}

/** `VChatRoom.fromMap` (and `lastMessage`'s `VChatMessage.fromMap`). */
function sdkRoom(r) {
  cast(isMap(r), 'room as Map', r, r);
  cast(isStr(r._id), '_id as String', r._id, r);
  cast(optStr(r.blockerId), 'blockerId as String?', r.blockerId, r);
  cast(isInt(r.updatedAt), 'updatedAt as int', r.updatedAt, r);
  if (r.groupSetting !== null && r.groupSetting !== undefined) sdkGroupSetting(r.groupSetting);
  cast(isStr(r.creatorId), 'creatorId as String', r.creatorId, r);
  for (const k of ['ifPeerReadMyLastMessage', 'isMute', 'isOnline', 'unReadCount', 'roomMembersCount']) cast(isInt(r[k]), `${k} as int`, r[k], r);
  for (const k of ['title', 'thumbImage']) cast(isStr(r[k]), `${k} as String`, r[k], r);
  for (const k of ['peerId', 'peerEmail']) cast(optStr(r[k]), `${k} as String?`, r[k], r);
  sdkMessage(r.lastMessage);
  // toLocalMap: `groupSetting!` for a group.
  if (r.roomType !== 'single') assert.ok(isMap(r.groupSetting), `a group has groupSetting: ${JSON.stringify(r)}`);
  return r;
}

/** `VChatRoomTyping.fromMap`. */
function sdkTyping(t) {
  cast(isMap(t), 'data as Map', t, t);
  assert.ok(['stop', 'typing', 'recording'].includes(t.status), `RoomTypingType.enumType: ${t.status}`);
  cast(optStr(t.name), 'name as String?', t.name, t);
  cast(isStr(t.roomId), 'roomId as String', t.roomId, t);
  return t;
}

/** `VChatUser.fromMap`. */
function sdkUserMap(u) {
  cast(isMap(u), 'data as Map', u, u);
  for (const k of ['_id', 'name', 'imageThumb', 'email', 'accessToken']) cast(isStr(u[k]), `${k} as String`, u[k], u);
  return u;
}

/** `VChatGroupUser.fromMap`. */
function sdkGroupUser(u) {
  cast(isMap(u), 'member as Map', u, u);
  for (const k of ['_id', 'email', 'name', 'imageThumb']) cast(isStr(u[k]), `${k} as String`, u[k], u);
  return u;
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
  // Never null: the SDK's VChatRoom.fromMap casts it to a map.
  assert.ok(r.lastMessage && typeof r.lastMessage === 'object', `lastMessage is a map: ${JSON.stringify(r)}`);
  for (const k of MESSAGE_FIELDS) assert.ok(k in r.lastMessage, `lastMessage has ${k}`);
  sdkRoom(r);
}

// --- the SDK as a client ---------------------------------------------------

/** The app's `passwordHashKey` (VChatController.init). */
const HASH_KEY = 'e2e-password-hash-key';
/** A WAV header: a voice note the upload pipeline knows. */
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt '), Buffer.alloc(28)]);
/** An MP4 `ftyp` box: a video the upload pipeline knows. */
const MP4 = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2'), Buffer.alloc(32),
]);

/** `FileUtils.getFileSize`: the unit by powers of 1000, the number by powers of 1024. */
function sdkFileSize(bytes) {
  if (bytes <= 0) return '0 B';
  const suffixes = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  const i = Math.floor(Math.log(bytes) / Math.log(1000));
  return `${(bytes / 1024 ** i).toFixed(2)} ${suffixes[i]}`;
}

/** `VChatController._getHashedPassword`: sha512("<passwordHashKey>_<email>") in hex. */
function sdkPassword(email) {
  return createHash('sha512').update(`${HASH_KEY}_${email}`).digest('hex');
}

/**
 * `CustomDio.send`/`uploadFile`: base `/api/v1/`, `authorization: Bearer
 * <token>` (`Bearer xxx` logged out), `Accept-Language`, a JSON body or a
 * form; resolves `{status, body}`.
 */
async function sdk(server, method, path, { token, body, form, query, lang = 'en' } = {}) {
  const headers = { authorization: `Bearer ${token ?? 'xxx'}`, 'accept-language': lang };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json; charset=utf-8';
    payload = JSON.stringify(body);
  }
  const qs = query ? `?${new URLSearchParams(query)}` : '';
  const res = await fetch(`${server.urls.vchat}/api/v1/${path}${qs}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, body: parsed };
}

/** A form as `CustomDio.uploadFile`/`FileUtils.uploadFile` build it: `files` as `file`, then the fields. */
function sdkForm(fields, files = []) {
  const form = new FormData();
  for (const [name, bytes, type] of files) form.append('file', new Blob([bytes], { type }), name);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

/** `VChatMessageAttachment.toMap` as the SDK sends it: every field `toString()`ed. */
function sdkAttachmentField(fields) {
  const all = ['imageUrl', 'playUrl', 'fileSize', 'fileDuration', 'width', 'height', 'lat', 'lang', 'linkTitle', 'linkDescription', 'linkDataUrl'];
  return JSON.stringify(Object.fromEntries(all.map((k) => [k, String(fields[k] ?? null)])));
}

/**
 * `VChatController.register` with `VChatRegisterDto{name, email}` and no
 * picture: `user/register {name, email, password, fcmToken, platform}`.
 * Resolves `{id, name, email, token, user}` (usable as the harness's users).
 */
async function sdkUser(server, prefix = 'sdk', { fcmToken = "you don't use firebase on flutter app ", name } = {}) {
  const email = `${uid(prefix)}@example.com`;
  const res = await sdk(server, 'POST', 'user/register', {
    body: { name: name ?? `${prefix} name`, email, password: sdkPassword(email), fcmToken, platform: 'Android' },
  });
  const u = sdkUserMap(okData(res, `register ${email}`));
  return { id: u._id, name: u.name, email, token: u.accessToken, user: u };
}

/**
 * `SocketService.initSockedEvents`: `emitWithAck("join", "join")`; the
 * rooms of the acknowledgement, each parsed. A callback, as both
 * socket.io-client 2.x and 4.x take it.
 */
function sdkJoin(socket, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no acknowledgement of join')), timeoutMs);
    socket.emit('join', 'join', (data) => {
      clearTimeout(timer);
      try {
        assert.ok(Array.isArray(data?.data), `join ack data is a list: ${JSON.stringify(data)}`);
        resolve(data.data.map(sdkRoom));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** The SDK's `/` socket, joined. */
async function sdkHome(server, u, opts = {}) {
  const socket = await vc(server, u, opts);
  await sdkJoin(socket);
  return socket;
}

/** `MessageSocket`: `/message`, `emit("join", roomId)`, the decoded all_messages. */
async function sdkOpen(server, u, roomId) {
  const socket = await msgSocket(server, u, { headers: { Authorization: u.token } });
  await view(socket, roomId);
  return socket;
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
      // VChatGroupChatInfo.fromMap's fields, for the caller.
      assert.deepEqual(g.groupSetting, {
        name: 'Team', imageThumb: 'default_group_image.png', roomMembersCount: 3, role: 'admin', isGroupCreator: true,
      });

      // A room without messages: a stand-in last message the SDK can parse.
      assert.equal(q.roomType, 'single');
      assert.equal(q.title, c.name);
      assert.equal(q.peerId, c.id);
      assert.deepEqual(
        { ...q.lastMessage },
        {
          _id: '0', messageType: 'text', messageAttachment: null, createdAt: q.lastMessage.createdAt, content: '',
          senderId: a.id, senderName: a.name, senderImageThumb: 'default_user_image.png', roomId: qid,
        },
      );
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
      assert.equal(g.groupSetting.name, 'Crew');
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
      // Relative to the SDK's messagesMediaBaseUrl.
      assert.equal(typeof data.messageAttachment.imageUrl, 'string');
      assert.ok(!data.messageAttachment.imageUrl.startsWith('/'), `imageUrl ${data.messageAttachment.imageUrl}`);
      assert.equal(data.content, 'look');
      assert.equal(data.senderId, a.id);
      assert.equal(data.roomId, rid);

      const m = await newMessage(mb, 'look');
      assert.equal(m._id, data._id);
      assert.equal(m.messageType, 'image');
      assert.equal(m.messageAttachment.imageUrl, data.messageAttachment.imageUrl);
      const served = await fetch(`${server.urls.vchat}/api/v1/public/messages/${data.messageAttachment.imageUrl}`);
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

  describe('the V Chat Flutter SDK v1', () => {
    it('gives every room a lastMessage the SDK parses, also a room without messages (join, update_one_room, GET room)', async () => {
      const [a, b, c] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob'), await sdkUser(server, 'carol')];
      const sb = await sdkHome(server, b);
      const since = mark(sb);
      // createSingleChat with a blank message: a room without messages.
      const single = sdkRoom(okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: b.email, message: '' } }), 'room/single'));
      assert.equal(single.lastMessage._id, '0');
      assert.equal(single.lastMessage.messageType, 'text');
      assert.equal(single.lastMessage.content, '');
      assert.equal(single.lastMessage.senderId, a.id);
      assert.equal(single.lastMessage.roomId, single._id);
      // Bob's socket is told of the new room, as a map VChatRoom.fromMap takes.
      const told = sdkRoom(await roomUpdate(sb, single._id));
      assert.equal(told.lastMessage._id, '0');
      assert.equal(told.peerId, a.id);
      assert.equal(told.title, a.name);

      // createGroupChat: a form with the group's picture, the emails as a JSON string.
      const form = sdkForm({ peerEmails: JSON.stringify([b.email, c.email]), title: 'Quiet group' }, [['group.png', PNG_1X1, 'image/png']]);
      const group = sdkRoom(okData(await sdk(server, 'POST', 'room/group', { token: a.token, form }), 'room/group'));
      assert.equal(group.roomType, 'group');
      assert.equal(group.lastMessage.messageType, 'create', 'the SDK shows "… created the group"');
      assert.equal(group.lastMessage.senderName, a.name);
      assert.equal(group.roomMembersCount, 3);
      assert.equal(group.thumbImage, 'default_group_image.png');

      const rooms = await sdkJoin(await vc(server, c));
      assert.deepEqual(rooms.map((r) => r._id), [group._id]);
      // RoomsApiProvider.loadMore(page): join sent page 0.
      const page0 = okData(await sdk(server, 'GET', 'room', { token: b.token, query: { page: 0 } }), 'GET room page 0');
      assert.deepEqual(page0.map(sdkRoom).map((r) => r._id).sort(), [single._id, group._id].sort());
      assert.deepEqual(okData(await sdk(server, 'GET', 'room', { token: b.token, query: { page: 1 } }), 'GET room page 1'), []);
      // MessageProvider.loadMoreMessages from the stand-in: nothing before it.
      assert.deepEqual(okData(await sdk(server, 'GET', 'message', { token: b.token, query: { lastId: '0', roomId: single._id } }), 'load more'), []);
      failed(await sdk(server, 'GET', 'message', { token: c.token, query: { lastId: '0', roomId: single._id } }), 404, 'NOT_FOUND', 'a stranger loads more');
      failed(await sdk(server, 'GET', 'room', { query: { page: 0 } }), 401, 'UNAUTHENTICATED', 'GET room logged out');
      await expectNone(sb, 'update_one_room', { since, predicate: (r) => r.lastMessage === null, ms: 0 });
    });

    it('shows groupSetting as VChatGroupChatInfo for the caller; roles and the title change through the SDK calls', async () => {
      const [a, b, c, d] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob'), await sdkUser(server, 'carol'), await sdkUser(server, 'dave')];
      const group = okData(await sdk(server, 'POST', 'room/group', { token: a.token, form: sdkForm({ peerEmails: JSON.stringify([b.email, c.email]), title: 'Crew' }) }), 'group');
      const gid = group._id;
      assert.deepEqual(group.groupSetting, { name: 'Crew', imageThumb: 'default_group_image.png', roomMembersCount: 3, role: 'admin', isGroupCreator: true });
      const sb = await sdkHome(server, b);
      const sc = await sdkHome(server, c);
      const [bView] = await sdkJoin(sb);
      assert.deepEqual(bView.groupSetting, { name: 'Crew', imageThumb: 'default_group_image.png', roomMembersCount: 3, role: 'member', isGroupCreator: false });

      // upgradeGroupUser: Bob becomes an admin, and his view says so.
      okData(await sdk(server, 'POST', 'room/update-member-state', { token: a.token, body: { roomId: gid, peerId: b.id, state: 'admin' } }), 'upgrade');
      assert.equal((await roomUpdate(sb, gid, (r) => r.groupSetting?.role === 'admin')).groupSetting.isGroupCreator, false);
      // A plain member may not; a bad state and a stranger are refused.
      const since = mark(sb, sc);
      failed(await sdk(server, 'POST', 'room/update-member-state', { token: c.token, body: { roomId: gid, peerId: b.id, state: 'member' } }), 403, 'FORBIDDEN', 'a member downgrades an admin');
      failed(await sdk(server, 'POST', 'room/update-member-state', { token: a.token, body: { roomId: gid, peerId: c.id, state: 'owner' } }), 400, 'INVALID_PAYLOAD', 'state owner');
      failed(await sdk(server, 'POST', 'room/update-member-state', { token: a.token, body: { roomId: gid, peerId: c.id } }), 400, 'INVALID_PAYLOAD', 'no state');
      failed(await sdk(server, 'POST', 'room/update-member-state', { token: d.token, body: { roomId: gid, peerId: c.id, state: 'admin' } }), 404, 'NOT_FOUND', 'a stranger');

      // updateGroupChatTitle by the new admin: every member sees it.
      const renamed = sdkRoom(okData(await sdk(server, 'POST', 'room/update-group-info', { token: b.token, body: { roomId: gid, groupName: 'Renamed' } }), 'rename'));
      assert.equal(renamed.title, 'Renamed');
      assert.equal(renamed.groupSetting.name, 'Renamed');
      assert.equal((await roomUpdate(sc, gid, (r) => r.title === 'Renamed')).groupSetting.name, 'Renamed');
      failed(await sdk(server, 'POST', 'room/update-group-info', { token: c.token, body: { roomId: gid, groupName: 'Mine' } }), 403, 'FORBIDDEN', 'a member renames');
      failed(await sdk(server, 'POST', 'room/update-group-info', { token: a.token, form: sdkForm({ roomId: gid }, [['g.png', PNG_1X1, 'image/png']]) }), 400, 'INVALID_PAYLOAD', 'a group picture');
      await expectNone([sb, sc], 'update_one_room', { since, predicate: (r) => r.title === 'Mine', ms: 0 });
      assert.equal((await sdkJoin(sc))[0].groupSetting.role, 'member');

      // getGroupMembers: VChatGroupUser for each, with its role.
      const members = okData(await sdk(server, 'GET', 'room/group-members', { token: c.token, query: { lastIndex: 1, roomId: gid } }), 'members').map(sdkGroupUser);
      assert.deepEqual(members.map((m) => [m._id, m.role]).sort(), [[a.id, 'admin'], [b.id, 'admin'], [c.id, 'member']].sort());
      assert.equal(members.find((m) => m._id === b.id).email, b.email);
      assert.deepEqual(okData(await sdk(server, 'GET', 'room/group-members', { token: c.token, query: { lastIndex: 2, roomId: gid } }), 'members page 2'), []);
      failed(await sdk(server, 'GET', 'room/group-members', { token: d.token, query: { lastIndex: 1, roomId: gid } }), 404, 'NOT_FOUND', 'a stranger lists members');
    });

    it('takes the SDK\'s typing_changed {status, name, roomId} and tells the other members user_typing_changed', async () => {
      const [a, b, c] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob'), await sdkUser(server, 'carol')];
      const room = okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: b.email, message: 'hi' } }), 'room');
      const sa = await sdkHome(server, a);
      const sb = await sdkHome(server, b);
      const since = mark(sa);
      // MessageCubit.emitTypingChange: VChatRoomTyping.toMap.
      for (const status of ['typing', 'recording', 'stop']) {
        sa.emit('typing_changed', { status, name: a.name, roomId: room._id });
        const t = sdkTyping(await waitFor(sb, 'user_typing_changed', (x) => x?.status === status));
        assert.deepEqual({ ...t }, { status, name: a.name, roomId: room._id });
      }
      await expectNone(sa, 'user_typing_changed', { since, ms: 200 });

      // Bad input and a stranger: an error event, nothing relayed, still connected.
      const sc = await sdkHome(server, c);
      const before = mark(sb);
      await refusedEvent(sa, 'typing_changed', { status: 'busy', name: a.name, roomId: room._id }, 'INVALID_PAYLOAD');
      await refusedEvent(sa, 'typing_changed', { name: a.name, roomId: room._id }, 'INVALID_PAYLOAD');
      await refusedEvent(sc, 'typing_changed', { status: 'typing', name: c.name, roomId: room._id }, 'NOT_FOUND');
      await expectNone(sb, 'user_typing_changed', { since: before, ms: 200 });
      assert.ok(sa.connected && sc.connected);
      sa.emit('typing_changed', { status: 'typing', name: a.name, roomId: room._id });
      await waitFor(sb, 'user_typing_changed', (x) => x?.status === 'typing');
    });

    it('sends kick_from_group and all_rooms to a member who is removed or leaves', async () => {
      const [a, b, c, d] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob'), await sdkUser(server, 'carol'), await sdkUser(server, 'dave')];
      const other = okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: c.email, message: 'stay' } }), 'single');
      const group = okData(await sdk(server, 'POST', 'room/group', { token: a.token, form: sdkForm({ peerEmails: JSON.stringify([b.email, c.email]), title: 'Kicks' }) }), 'group');
      const gid = group._id;
      const sa = await sdkHome(server, a);
      const sb = await sdkHome(server, b);
      const sc = await sdkHome(server, c);

      // Unauthorized and bad kicks change nothing.
      const since = mark(sa, sb, sc);
      failed(await sdk(server, 'POST', 'room/kick-member', { token: b.token, body: { roomId: gid, peerId: c.id } }), 403, 'FORBIDDEN', 'a member kicks');
      failed(await sdk(server, 'POST', 'room/kick-member', { token: d.token, body: { roomId: gid, peerId: c.id } }), 404, 'NOT_FOUND', 'a stranger kicks');
      failed(await sdk(server, 'POST', 'room/kick-member', { token: a.token, body: { roomId: gid } }), 400, 'INVALID_PAYLOAD', 'no peerId');
      await expectNone([sa, sb, sc], ['kick_from_group', 'all_rooms'], { since, ms: 200 });

      // kickUserFromGroup: Carol's sockets hear it, and get her rooms without the group.
      okData(await sdk(server, 'POST', 'room/kick-member', { token: a.token, body: { roomId: gid, peerId: c.id } }), 'kick');
      assert.equal(await waitFor(sc, 'kick_from_group'), gid, 'kick_from_group carries the room id as a string');
      const left = (await waitFor(sc, 'all_rooms')).map(sdkRoom);
      assert.deepEqual(left.map((r) => r._id), [other._id]);
      assert.equal((await roomUpdate(sb, gid, (r) => r.roomMembersCount === 2)).roomMembersCount, 2);
      await expectNone([sa, sb], ['kick_from_group', 'all_rooms'], { since, ms: 100 });
      failed(await sdk(server, 'GET', 'room/group-members', { token: c.token, query: { lastIndex: 1, roomId: gid } }), 404, 'NOT_FOUND', 'the kicked member');

      // leaveGroupChat: the same for Bob.
      assert.equal(okData(await sdk(server, 'POST', 'room/leave-group-chat', { token: b.token, body: { groupId: gid } }), 'leave'), null);
      assert.equal(await waitFor(sb, 'kick_from_group'), gid);
      assert.deepEqual(await waitFor(sb, 'all_rooms'), []);
      failed(await sdk(server, 'POST', 'room/leave-group-chat', { token: a.token, body: { groupId: other._id } }), 403, 'FORBIDDEN', 'leave a single room');
    });

    it('serves attachments and pictures under the base paths the SDK prefixes, and the default pictures', async () => {
      for (const name of ['default_user_image.png', 'default_group_image.png']) {
        const res = await fetch(`${server.urls.vchat}/api/v1/public/profile/${name}`);
        assert.equal(res.status, 200, name);
        assert.equal(res.headers.get('content-type'), 'image/png');
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name} is a PNG`);
      }
      for (const path of ['profile/nope.png', 'messages/nope.png', 'messages/default_user_image.png', 'profile/chat-messages/images/missing.webp']) {
        const res = await fetch(`${server.urls.vchat}/api/v1/public/${path}`);
        assert.equal(res.status, 404, path);
        await res.arrayBuffer();
      }

      const [a, b, c] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob'), await sdkUser(server, 'carol')];
      const room = okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: b.email, message: 'files' } }), 'room');
      const mb = await sdkOpen(server, b, room._id);
      const served = async (base, name, type) => {
        const res = await fetch(`${server.urls.vchat}/api/v1/public/${base}/${name}`);
        assert.equal(res.status, 200, `${base}/${name}`);
        if (type) assert.equal(res.headers.get('content-type'), type);
        await res.arrayBuffer();
      };
      // MessageCubit.sendImage / sendVoiceNote / sendFile / sendVideo.
      const sends = [
        ['image', 'This content image 📷', [['dot.png', PNG_1X1, 'image/png']], { fileSize: '70 B', width: '1', height: '1' }, 'imageUrl', 'image/webp'],
        ['voice', 'This content voice 🎤', [['note.wav', WAV, 'audio/wav']], { fileSize: '44 B', fileDuration: '00:01' }, 'playUrl'],
        ['file', 'This content file 📁', [['doc.pdf', Buffer.from('%PDF-1.4 a document'), 'application/pdf']], { fileSize: '19 B', linkTitle: 'doc.pdf' }, 'playUrl'],
        ['video', 'This content video 📽', [['thumb.png', PNG_1X1, 'image/png'], ['clip.mp4', MP4, 'video/mp4']], { fileSize: '1 KB', fileDuration: '00:01', width: '1', height: '1' }, 'playUrl'],
      ];
      for (const [type, content, files, meta, field, mime] of sends) {
        const form = sdkForm({ roomId: room._id, content, type, attachment: sdkAttachmentField(meta) }, files);
        okData(await sdk(server, 'POST', 'message/single', { token: a.token, form }), `send ${type}`);
        const m = sdkMessage(await newMessage(mb, content));
        assert.equal(m.messageType, type);
        const name = m.messageAttachment?.[field];
        assert.equal(typeof name, 'string', `${type}: ${field} in ${JSON.stringify(m)}`);
        assert.ok(!name.startsWith('/') && !name.startsWith('http'), `${field} is relative: ${name}`);
        await served('messages', name, mime);
        if (type === 'video') assert.ok(name.endsWith('.mp4'), `the video, not its thumbnail: ${name}`);
      }

      // Refused: an unknown type, a text with a file, a file to a stranger's room; nothing stored.
      const count = (await messages(server, a, room._id)).length;
      const since = mark(mb);
      failed(await sdk(server, 'POST', 'message/single', { token: a.token, form: sdkForm({ roomId: room._id, content: 'x', type: 'sticker' }, [['dot.png', PNG_1X1, 'image/png']]) }), 400, 'INVALID_PAYLOAD', 'type sticker');
      failed(await sdk(server, 'POST', 'message/single', { token: a.token, form: sdkForm({ roomId: room._id, content: 'x', type: 'text' }, [['dot.png', PNG_1X1, 'image/png']]) }), 400, 'INVALID_PAYLOAD', 'text with a file');
      failed(await sdk(server, 'POST', 'message/single', { token: a.token, form: sdkForm({ roomId: room._id, content: 'x', type: 'image' }, [['doc.pdf', Buffer.from('%PDF-1.4'), 'application/pdf']]) }), 400, undefined, 'a PDF as an image');
      failed(await sdk(server, 'POST', 'message/single', { token: c.token, form: sdkForm({ roomId: room._id, content: 'x', type: 'image' }, [['dot.png', PNG_1X1, 'image/png']]) }), 404, 'NOT_FOUND', 'a stranger\'s room');
      failed(await sdk(server, 'POST', 'message/single', { body: { type: 'text', roomId: room._id, content: 'x' } }), 401, 'UNAUTHENTICATED', 'logged out');
      assert.equal((await messages(server, a, room._id)).length, count);
      await expectNone(mb, 'new_message', { since, ms: 100 });

      // updateUserImage: the answer is the new picture's name; rooms and messages show it.
      const sb = await sdkHome(server, b);
      const thumb = okData(await sdk(server, 'PATCH', 'user', { token: a.token, form: sdkForm({ platform: 'Android' }, [['me.png', PNG_1X1, 'image/png']]) }), 'PATCH user picture');
      assert.equal(typeof thumb, 'string');
      assert.notEqual(thumb, 'default_user_image.png');
      await served('profile', thumb, 'image/webp');
      okData(await sdk(server, 'POST', 'message/single', { token: a.token, body: { type: 'text', roomId: room._id, content: 'new face' } }), 'text');
      assert.equal(sdkMessage(await newMessage(mb, 'new face')).senderImageThumb, thumb);
      assert.equal((await roomUpdate(sb, room._id, (r) => r.lastMessage.content === 'new face')).thumbImage, thumb);
      failed(await sdk(server, 'PATCH', 'user', { token: a.token, form: sdkForm({}, [['doc.pdf', Buffer.from('%PDF-1.4'), 'application/pdf']]) }), 400, undefined, 'a PDF as a picture');
    });

    it('fills every messageAttachment field the SDK reads, from what it sent and what confab stored', async () => {
      const [a, b] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob')];
      const room = okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: b.email, message: 'attachments' } }), 'room');
      const mb = await sdkOpen(server, b, room._id);
      const bytesOf = async (name) => {
        const res = await fetch(`${server.urls.vchat}/api/v1/public/messages/${name}`);
        assert.equal(res.status, 200, name);
        return { length: (await res.arrayBuffer()).byteLength, type: res.headers.get('content-type') };
      };
      const PDF = Buffer.from('%PDF-1.4 a report of some length');
      // MessageCubit.sendImage / sendVoiceNote / sendFile / sendVideo, with
      // what each puts in `attachment` (the SDK's own fileSize strings).
      const sends = [
        ['image', 'an image', [['dot.png', PNG_1X1, 'image/png']], { fileSize: sdkFileSize(PNG_1X1.length), width: '1', height: '1' }],
        ['voice', 'a voice note', [['note.wav', WAV, 'audio/wav']], { fileSize: sdkFileSize(WAV.length), fileDuration: '00:07' }],
        ['file', 'a file', [['report.pdf', PDF, 'application/pdf']], { fileSize: sdkFileSize(PDF.length), linkTitle: 'report (1).pdf' }],
        // No linkTitle: the form's file name.
        ['file', 'a file without a title', [['scan.pdf', PDF, 'application/pdf']], { fileSize: sdkFileSize(PDF.length) }],
        ['video', 'a video', [['IMG_THUMB_1.png', PNG_1X1, 'image/png'], ['clip.mp4', MP4, 'video/mp4']], { fileSize: sdkFileSize(MP4.length), fileDuration: '01:35', width: '720', height: '1280' }],
      ];
      const sent = [];
      for (const [type, content, files, meta] of sends) {
        const form = sdkForm({ roomId: room._id, content, type, attachment: sdkAttachmentField(meta) }, files);
        const answer = sdkMessage(okData(await sdk(server, 'POST', 'message/single', { token: a.token, form }), `send ${type}`));
        const live = sdkMessage(await newMessage(mb, content));
        assert.deepEqual(live, answer, `${type}: the answer and new_message agree`);
        sent.push([type, content, meta, live]);
      }
      const byContent = Object.fromEntries(sent.map(([, content, , m]) => [content, m.messageAttachment]));

      const image = byContent['an image'];
      const stored = await bytesOf(image.imageUrl);
      assert.equal(stored.type, 'image/webp');
      // Its size as stored (WebP), its name from the form.
      assert.deepEqual(image, { imageUrl: image.imageUrl, width: '1', height: '1', fileSize: sdkFileSize(stored.length), linkTitle: 'dot.png' });

      const voice = byContent['a voice note'];
      assert.deepEqual(voice, { playUrl: voice.playUrl, fileDuration: '00:07', fileSize: sdkFileSize(WAV.length), linkTitle: 'note.wav' });
      assert.equal((await bytesOf(voice.playUrl)).length, WAV.length);

      const file = byContent['a file'];
      assert.deepEqual(file, { playUrl: file.playUrl, linkTitle: 'report (1).pdf', fileSize: sdkFileSize(PDF.length) });
      assert.equal((await bytesOf(file.playUrl)).length, PDF.length);
      assert.equal(byContent['a file without a title'].linkTitle, 'scan.pdf');

      const video = byContent['a video'];
      assert.deepEqual(video, {
        playUrl: video.playUrl, imageUrl: video.imageUrl, width: '720', height: '1280', fileDuration: '01:35', fileSize: sdkFileSize(MP4.length), linkTitle: 'clip.mp4',
      });
      assert.ok(video.playUrl.endsWith('.mp4'), video.playUrl);
      assert.equal((await bytesOf(video.playUrl)).length, MP4.length);
      // The still the SDK sent first, as the SDK's video widget shows it.
      assert.equal((await bytesOf(video.imageUrl)).type, 'image/webp');

      // The same fields in the SDK's load more (GET message) and in all_messages.
      const page = okData(await sdk(server, 'GET', 'message', { token: b.token, query: { roomId: room._id } }), 'GET message').map(sdkMessage);
      const reopened = await msgSocket(server, b, { headers: { Authorization: b.token } });
      const all = await view(reopened, room._id);
      for (const [type, content, , m] of sent) {
        assert.deepEqual(page.find((x) => x._id === m._id)?.messageAttachment, m.messageAttachment, `${type} in GET message`);
        assert.deepEqual(all.find((x) => x._id === m._id)?.messageAttachment, m.messageAttachment, `${type} in all_messages`);
      }
      // The room's lastMessage is the video, with its fields.
      const rooms = await sdkJoin(await vc(server, b));
      assert.deepEqual(rooms.find((r) => r._id === room._id).lastMessage.messageAttachment, video);

      // Bad metadata, or a second file for a type that takes one: 400, nothing stored.
      const count = (await messages(server, a, room._id)).length;
      const since = mark(mb);
      for (const [what, fields, files] of [
        ['a width that is not a number', { type: 'image', attachment: sdkAttachmentField({ width: 'wide', height: '1' }) }, [['dot.png', PNG_1X1, 'image/png']]],
        ['a duration that is not one', { type: 'voice', attachment: sdkAttachmentField({ fileDuration: 'soon' }) }, [['note.wav', WAV, 'audio/wav']]],
        ['attachment that is not JSON', { type: 'file', attachment: '{not json' }, [['report.pdf', PDF, 'application/pdf']]],
        ['two files for an image', { type: 'image', attachment: sdkAttachmentField({}) }, [['dot.png', PNG_1X1, 'image/png'], ['dot2.png', PNG_1X1, 'image/png']]],
      ]) {
        const form = sdkForm({ roomId: room._id, content: 'refused', ...fields }, files);
        const body = failed(await sdk(server, 'POST', 'message/single', { token: a.token, form }), 400, 'INVALID_PAYLOAD', what);
        assert.match(body.error, /attachment|file/, `${what}: ${body.error}`);
      }
      // A stranger's attachment is refused before anything is stored.
      const c = await sdkUser(server, 'carol');
      failed(await sdk(server, 'POST', 'message/single', { token: c.token, form: sdkForm({ roomId: room._id, content: 'refused', type: 'image', attachment: sdkAttachmentField({ width: '1', height: '1' }) }, [['dot.png', PNG_1X1, 'image/png']]) }), 404, 'NOT_FOUND', 'a stranger');
      assert.equal((await messages(server, a, room._id)).length, count);
      await expectNone(mb, 'new_message', { since, ms: 100 });
      // The socket is still served.
      okData(await sdk(server, 'POST', 'message/single', { token: a.token, body: { type: 'text', roomId: room._id, content: 'still here' } }), 'text');
      await newMessage(mb, 'still here');
    });

    it('registers and logs in as the SDK does, with the push token it carries, and answers VChatUser', async () => {
      const email = `${uid('reg')}@example.com`;
      const password = sdkPassword(email);
      const fcmToken = `fcm-${uid('token')}`;
      const reg = await sdk(server, 'POST', 'user/register', { body: { name: 'Reg User', email, password, fcmToken, platform: 'Android' } });
      const u = sdkUserMap(okData(reg, 'register'));
      assert.equal(u.name, 'Reg User');
      assert.equal(u.email, email);
      assert.equal(u.imageThumb, 'default_user_image.png');
      assert.match(u.accessToken, JWT);
      // The raw token opens the SDK's sockets.
      assert.deepEqual(await sdkJoin(await vc(server, { token: u.accessToken })), []);
      // The push token is the user's device now.
      const removeDevice = (token) => fetch(`${server.urls.vchat}/api/devices/${encodeURIComponent(token)}`, { method: 'DELETE', headers: { authorization: `Bearer ${u.accessToken}` } });
      assert.equal((await removeDevice(fcmToken)).status, 204);

      // login: the same user, and the token registered again.
      const login = sdkUserMap(okData(await sdk(server, 'POST', 'user/login', { body: { email, password, fcmToken, platform: 'Ios' } }), 'login'));
      assert.equal(login._id, u._id);
      assert.equal(login.email, email);
      // logOut: PATCH user {fcmToken: "Out"} removes it.
      okData(await sdk(server, 'PATCH', 'user', { token: login.accessToken, body: { fcmToken: 'Out' } }), 'log out');
      assert.equal((await removeDevice(fcmToken)).status, 404);
      // updateUserName, updateUserLanguage.
      assert.equal(okData(await sdk(server, 'PATCH', 'user', { token: login.accessToken, body: { name: 'Renamed', platform: 'Android' } }), 'rename'), 'Renamed');
      okData(await sdk(server, 'PATCH', 'user', { token: login.accessToken, body: { appLanguage: 'ar' } }), 'language');

      // Errors carry their text in `data`, in the caller's language.
      failed(await sdk(server, 'POST', 'user/login', { body: { email, password: 'wrong password' } }), 401, 'UNAUTHENTICATED', 'wrong password');
      failed(await sdk(server, 'POST', 'user/register', { body: { name: 'Again', email, password, fcmToken, platform: 'Android' } }), 409, 'CONFLICT', 'taken');
      failed(await sdk(server, 'POST', 'user/register', { body: { name: 'Bad', email: 'a b', password, platform: 'Android' } }), 400, 'INVALID_PAYLOAD', 'bad email');
      failed(await sdk(server, 'POST', 'user/register', { body: { email: `${uid('x')}@example.com`, password } }), 400, 'INVALID_PAYLOAD', 'no name');
      const ar = failed(await sdk(server, 'POST', 'user/login', { body: { email, password: 'wrong password' }, lang: 'ar' }), 401, 'UNAUTHENTICATED', 'wrong password, ar');
      assert.match(ar.data, ARABIC);
      failed(await sdk(server, 'PATCH', 'user', { body: { name: 'x' } }), 401, 'UNAUTHENTICATED', 'PATCH logged out');
      failed(await sdk(server, 'PATCH', 'user', { token: login.accessToken, body: { name: '   ' } }), 400, 'INVALID_PAYLOAD', 'blank name');

      // register with a picture: a form without platform.
      const withPicture = `${uid('pic')}@example.com`;
      const form = sdkForm({ name: 'Pic', email: withPicture, password: sdkPassword(withPicture), fcmToken: 'null' }, [['me.png', PNG_1X1, 'image/png']]);
      const p = sdkUserMap(okData(await sdk(server, 'POST', 'user/register', { form }), 'register with a picture'));
      assert.notEqual(p.imageThumb, 'default_user_image.png');
      const pic = await fetch(`${server.urls.vchat}/api/v1/public/profile/${p.imageThumb}`);
      assert.equal(pic.status, 200);
      await pic.arrayBuffer();

      // getUserEmail: for a contact, not for a stranger.
      const other = await sdkUser(server, 'other');
      failed(await sdk(server, 'GET', `user/${u._id}`, { token: other.token }), 404, 'NOT_FOUND', 'a stranger\'s email');
      okData(await sdk(server, 'POST', 'room/single', { token: other.token, body: { peerEmail: email, message: 'hello' } }), 'room');
      const seen = okData(await sdk(server, 'GET', `user/${u._id}`, { token: other.token }), 'a contact');
      assert.equal(seen.email, email);
      assert.equal(seen.name, 'Renamed');
    });

    it('answers the SDK\'s room and message calls: single rooms by email, mute, block, members, text and load more', async () => {
      const [a, b, c, d] = [await sdkUser(server, 'alice'), await sdkUser(server, 'bob'), await sdkUser(server, 'carol'), await sdkUser(server, 'dave')];
      const sb = await sdkHome(server, b);
      assert.equal(okData(await sdk(server, 'POST', 'room/check-if-there-room', { token: a.token, body: { peerEmail: b.email } }), 'no room yet'), null);
      const room = sdkRoom(okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: b.email, message: 'first' } }), 'createSingleChat'));
      assert.equal(room.lastMessage.content, 'first');
      assert.equal(room.peerEmail, b.email);
      assert.equal((await roomUpdate(sb, room._id, (r) => r.lastMessage.content === 'first')).unReadCount, 1);
      assert.equal(okData(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: b.email, message: '' } }), 'again')._id, room._id);
      assert.equal(okData(await sdk(server, 'POST', 'room/check-if-there-room', { token: a.token, body: { peerEmail: b.email } }), 'the room')._id, room._id);
      failed(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: 'nobody@example.com', message: 'x' } }), 404, 'NOT_FOUND', 'unknown email');
      failed(await sdk(server, 'POST', 'room/single', { token: a.token, body: { peerEmail: a.email, message: 'x' } }), 400, 'INVALID_PAYLOAD', 'chat with yourself');
      failed(await sdk(server, 'POST', 'room/single', { token: a.token, body: { message: 'x' } }), 400, 'INVALID_PAYLOAD', 'no peerEmail');

      // sendTextMessage, with the room open on /message.
      const mb = await sdkOpen(server, b, room._id);
      okData(await sdk(server, 'POST', 'message/single', { token: a.token, body: { type: 'text', roomId: room._id, content: 'second' } }), 'text');
      const second = sdkMessage(await newMessage(mb, 'second'));
      failed(await sdk(server, 'POST', 'message/single', { token: c.token, body: { type: 'text', roomId: room._id, content: 'intruder' } }), 404, 'NOT_FOUND', 'a stranger writes');
      failed(await sdk(server, 'POST', 'message/single', { token: a.token, body: { type: 'text', roomId: room._id, content: '  ' } }), 400, 'INVALID_PAYLOAD', 'blank text');
      // loadMoreMessages: before the oldest the client has.
      const older = okData(await sdk(server, 'GET', 'message', { token: b.token, query: { lastId: second._id, roomId: room._id } }), 'load more').map(sdkMessage);
      assert.deepEqual(older.map((m) => m.content), ['first']);

      // changeNotifaictions toggles isMute; blockOrUnBlock toggles blockerId.
      assert.equal(okData(await sdk(server, 'POST', 'room/chat-notification', { token: b.token, body: { roomId: room._id } }), 'mute').isMute, 1);
      await roomUpdate(sb, room._id, (r) => r.isMute === 1);
      assert.equal(okData(await sdk(server, 'POST', 'room/chat-notification', { token: b.token, body: { roomId: room._id } }), 'unmute').isMute, 0);
      failed(await sdk(server, 'POST', 'room/chat-notification', { token: c.token, body: { roomId: room._id } }), 404, 'NOT_FOUND', 'a stranger mutes');
      assert.equal(okData(await sdk(server, 'POST', 'room/ban-chat-user', { token: b.token, body: { peerId: a.id } }), 'block').blockerId, b.id);
      await roomUpdate(sb, room._id, (r) => r.blockerId === b.id);
      failed(await sdk(server, 'POST', 'message/single', { token: a.token, body: { type: 'text', roomId: room._id, content: 'blocked' } }), 403, 'FORBIDDEN', 'blocked');
      failed(await sdk(server, 'POST', 'room/ban-chat-user', { token: a.token, body: { peerId: b.id } }), 409, 'CONFLICT', 'blocked back');
      assert.equal(okData(await sdk(server, 'POST', 'room/ban-chat-user', { token: b.token, body: { peerId: a.id } }), 'unblock').blockerId, null);
      okData(await sdk(server, 'POST', 'message/single', { token: a.token, body: { type: 'text', roomId: room._id, content: 'free again' } }), 'after unblock');
      await newMessage(mb, 'free again');

      // addMembersToGroupChat by email.
      const group = okData(await sdk(server, 'POST', 'room/group', { token: a.token, form: sdkForm({ peerEmails: JSON.stringify([b.email]), title: 'Grow' }) }), 'group');
      const sc = await sdkHome(server, c);
      failed(await sdk(server, 'POST', 'room/add-member', { token: b.token, body: { roomId: group._id, peersId: [c.email] } }), 403, 'FORBIDDEN', 'a member adds');
      failed(await sdk(server, 'POST', 'room/add-member', { token: a.token, body: { roomId: group._id, peersId: 'not a list' } }), 400, 'INVALID_PAYLOAD', 'not a list');
      failed(await sdk(server, 'POST', 'room/add-member', { token: d.token, body: { roomId: group._id, peersId: [c.email] } }), 404, 'NOT_FOUND', 'a stranger adds');
      const grown = okData(await sdk(server, 'POST', 'room/add-member', { token: a.token, body: { roomId: group._id, peersId: [c.email] } }), 'add member');
      assert.equal(grown.roomMembersCount, 3);
      assert.equal(sdkRoom(await roomUpdate(sc, group._id)).groupSetting.role, 'member');
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
