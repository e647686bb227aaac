// Black-box tests of the Syarah dialect (seeds/syarah-api.txt) with the
// official socket.io-client, against the real `confab` binary. Decisions the
// seed leaves open are in docs/dialects/syarah.md.
//
// Run: `node --test e2e/` after `cargo build --bin confab` (or `scripts/test`).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { io } from 'socket.io-client';
import {
  startServer, user, conversation, history, connect, connectUser, closeAll,
  waitFor, expectNone, emitAck, close, ROOT, uid, sleep,
} from './lib/server.mjs';

/** The HS256 secret of the test server: tokens are signed as an app's backend would. */
const SECRET = 'syarah-e2e-secret-of-at-least-32-bytes!';

/** An HS256 JWT with `claims`, valid for an hour, as the app's backend issues it. */
function sign(claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** A user of the app: a GUID-like id, a name, an avatar, and the app's token for them. */
function appUser(prefix) {
  const id = uid(prefix);
  const name = `${prefix[0].toUpperCase()}${prefix.slice(1)} ${id.slice(-4)}`;
  const avatar = `https://cdn.example/avatars/${id}.jpg`;
  return { id, name, avatar, token: sign({ sub: id, name, picture: avatar }) };
}

// The seed's sample client (syarah-api.txt, "Full Chat Integration
// Example"), its calls unchanged: it connects with `query: { userId }` only
// and sends the token inside the events that have one. Its `console.log`
// lines go to `this.log`, so that a test reads what it would have printed
// (the acknowledgements), and its overridable handlers record the events.
class ChatClient {
  constructor(serverUrl, userId, accessToken) {
    this.userId = userId;
    this.accessToken = accessToken;
    this.socket = io(serverUrl, {
      query: { userId }
    });
    this.setupEventListeners();
  }

  setupEventListeners() {
    this.socket.on('connect', () => { this.log('Connected:', this.socket.id); });
    this.socket.on('disconnect', () => { this.log('Disconnected'); });
    this.socket.on('message', (data) => { this.log('New message:', data); this.onMessageReceived(data); });
    this.socket.on('typing', (data) => { this.log(`${data.name} is typing`); this.onTyping(data); });
    this.socket.on('clientStatus', (data) => { this.log('User status:', data); this.onUserStatusChanged(data); });
    this.socket.on('onMemberJoin', (member) => { this.log('Member joined:', member); this.onMemberJoined(member); });
    this.socket.on('messageUpdated', (message) => { this.log('Message updated:', message); this.onMessageUpdated(message); });
    this.socket.on('messageDeleted', (messageId) => { this.log('Message deleted:', messageId); this.onMessageDeleted(messageId); });
    this.socket.on('messageHasBeenRead', (chatHeaderId) => { this.log('Messages read:', chatHeaderId); this.onMessagesRead(chatHeaderId); });
  }

  joinRoom(chatHeaderId) {
    this.socket.emit('joinRoom', {
      chatHeaderId,
      userId: this.userId,
      socketId: this.socket.id,
      accessToken: this.accessToken
    }, (response) => {
      this.log('Joined room:', response);
    });
  }

  sendMessage(chatHeaderId, message, messageType = 1, caption = '') {
    this.socket.emit('createMessage', {
      message,
      chatHeaderId,
      accessToken: this.accessToken,
      messageType,
      caption: caption
    });
  }

  getAllMessages(chatHeaderId, skipCount = 0, maxResultCount = 50) {
    this.socket.emit('findAllMessages', {
      chatHeaderId: chatHeaderId.toString(),
      accessToken: this.accessToken,
      skipCount,
      maxResultCount
    }, (response) => {
      this.log('Messages:', response);
      return response;
    });
  }

  setTyping(chatHeaderId, isTyping, userName) {
    this.socket.emit('roomTyping', {
      isTyping,
      name: userName,
      chatHeaderId
    });
  }

  updateMessage(messageId, chatHeaderId, newMessage, caption = '') {
    this.socket.emit('updateMessage', {
      id: messageId,
      message: newMessage,
      chatHeaderId,
      accessToken: this.accessToken,
      caption: caption
    });
  }

  deleteMessage(messageId, chatHeaderId) {
    this.socket.emit('removeMessage', {
      id: messageId,
      chatHeaderId,
      accessToken: this.accessToken
    });
  }

  markAsRead(chatHeaderId) {
    this.socket.emit('readMessage', {
      chatHeaderId
    });
  }

  onMessageReceived(data) {}
  onTyping(data) {}
  onUserStatusChanged(data) {}
  onMemberJoined(member) {}
  onMessageUpdated(message) {}
  onMessageDeleted(messageId) {}
  onMessagesRead(chatHeaderId) {}

  disconnect() {
    this.socket.disconnect();
  }
}

/** Every `ChatClient` a test made, disconnected after the suite. */
const chatClients = new Set();

/**
 * The seed's `ChatClient` as an app uses it (overriding its handlers), with
 * what it printed and received kept for the tests, and the `exception`
 * events confab adds for refusals the client does not acknowledge.
 */
class RecordingChatClient extends ChatClient {
  constructor(serverUrl, userId, accessToken) {
    super(serverUrl, userId, accessToken);
    chatClients.add(this);
    this.socket.on('exception', (e) => this.log('exception', e));
  }

  log(label, data) {
    (this.seen ??= []).push({ label, data, taken: false });
    for (const w of this.waiters ?? []) w();
  }

  onMessageReceived(data) { this.log('message', data); }
  onTyping(data) { this.log('typing', data); }
  onMemberJoined(member) { this.log('onMemberJoin', member); }
  onMessageUpdated(message) { this.log('messageUpdated', message); }
  onMessageDeleted(messageId) { this.log('messageDeleted', messageId); }
  onMessagesRead(chatHeaderId) { this.log('messageHasBeenRead', chatHeaderId); }

  /** Resolves once connected. */
  connected() {
    return this.socket.connected ? Promise.resolve() : this.next('Connected:');
  }

  /** The first `label` not taken yet whose data satisfies `predicate`. */
  next(label, predicate = () => true, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const look = () => {
        const hit = (this.seen ?? []).find((e) => !e.taken && e.label === label && predicate(e.data));
        if (!hit) return false;
        hit.taken = true;
        this.waiters.delete(look);
        clearTimeout(timer);
        resolve(hit.data);
        return true;
      };
      (this.waiters ??= new Set()).add(look);
      const timer = setTimeout(() => {
        this.waiters.delete(look);
        reject(new Error(`${this.userId}: no ${label} within ${timeoutMs} ms (saw: ${(this.seen ?? []).map((e) => e.label).join(', ')})`));
      }, timeoutMs);
      look();
    });
  }

  /** Throws if a `label` (matching `pred`) arrives within `ms` (or arrived, untaken, before). */
  async none(label, ms = 300, pred = () => true) {
    await sleep(ms);
    const hit = (this.seen ?? []).find((e) => !e.taken && e.label === label && pred(e.data));
    if (hit) throw new Error(`${this.userId}: unexpected ${label}: ${JSON.stringify(hit.data)}`);
  }

  /** Marks everything seen so far as taken. */
  drain() {
    for (const e of this.seen ?? []) e.taken = true;
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SERVER_EVENTS = ['message', 'typing', 'messageUpdated', 'messageDeleted', 'messageHasBeenRead', 'onMemberJoin'];

/** A Syarah client: `query.userId` plus the token in the auth object (or not). */
function sy(server, u, { withToken = true, auth, query } = {}) {
  return connect(server, {
    url: server.urls.syarah,
    query: query ?? { userId: u.id },
    auth: auth ?? (withToken ? { accessToken: u.token } : undefined),
  });
}

async function must(socket, event, payload) {
  const ack = await emitAck(socket, event, payload);
  assert.ok(ack && ack.error === undefined, `${event} ${JSON.stringify(payload).slice(0, 200)}: ${JSON.stringify(ack)}`);
  return ack;
}

async function refusedWith(socket, event, payload, code) {
  const ack = await emitAck(socket, event, payload);
  assert.equal(typeof ack.error, 'string', `${event} should be refused: ${JSON.stringify(ack)}`);
  assert.ok(ack.error.length > 0);
  if (code) assert.equal(ack.code, code, `${event}: ${JSON.stringify(ack)}`);
  return ack;
}

describe('syarah dialect', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: {
        CONFAB_DIALECTS_SYARAH_ENABLED: 'true',
        CONFAB_SYARAH_PORT: '0',
        CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000',
        CONFAB_TYPING_TTL_SECS: '2',
        CONFAB_AUTH_JWT_SECRET: SECRET,
      },
    });
    assert.ok(server.urls.syarah, 'syarah listens');
  });
  after(async () => {
    for (const c of chatClients) c.disconnect();
    await closeAll();
    await server.stop();
  });

  describe('identity', () => {
    it('connects with query.userId and a token in the auth object', async () => {
      const a = await user(server, 'alice');
      const s = await sy(server, a);
      const chats = await must(s, 'getMyChats', {});
      assert.deepEqual(chats, []);
      await close(s);
    });

    it('refuses a token of another user than query.userId', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      await assert.rejects(sy(server, a, { auth: { accessToken: b.token } }), /userId does not match/);
    });

    it('refuses a connection without userId and without token', async () => {
      await assert.rejects(connect(server, { url: server.urls.syarah }), /userId/);
    });

    it('refuses events that need identity until a token in the event proves it', async () => {
      const a = await user(server, 'alice');
      const s = await sy(server, a, { withToken: false });
      const refused = await refusedWith(s, 'getMyChats', {}, 'UNAUTHENTICATED');
      assert.match(refused.error, /access token/);
      const b = await user(server, 'bob');
      await refusedWith(s, 'getMyChats', { accessToken: b.token }, 'UNAUTHENTICATED');
      assert.deepEqual(await must(s, 'getMyChats', { accessToken: `Bearer ${a.token}` }), []);
      // Once proved, the connection keeps the identity.
      assert.deepEqual(await must(s, 'findAllChatHeaders', {}), { totalCount: 0, items: [] });
    });
  });

  describe('rooms and messages', () => {
    let alice; let bob; let sa; let sb; let chatId;
    before(async () => {
      alice = await user(server, 'alice');
      bob = await user(server, 'bob');
      sa = await sy(server, alice);
      sb = await sy(server, bob);
    });

    it('joinRoom with otherUserId creates the direct chat once and joins it', async () => {
      const r = await must(sa, 'joinRoom', { otherUserId: bob.id, userId: alice.id, socketId: sa.id, accessToken: alice.token });
      assert.equal(typeof r.chatHeaderId, 'number');
      assert.equal(r.joined, true);
      assert.equal(r.friendshipStatus, null);
      assert.equal(r.chatHeader.id, r.chatHeaderId);
      assert.equal(r.roomMembers.length, 2);
      assert.deepEqual(r.members, r.roomMembers);
      assert.equal(r.currentMember.userId, alice.id);
      chatId = r.chatHeaderId;
      const again = await must(sb, 'joinRoom', { otherUserId: alice.id });
      assert.equal(again.chatHeaderId, chatId);
      const byId = await must(sb, 'joinRoom', { chatHeaderId: chatId });
      assert.equal(byId.chatHeaderId, chatId);
    });

    it('createMessage reaches the room as message.chatMessage and is acknowledged', async () => {
      const got = waitFor(sb, 'message', (m) => m.chatMessage.message === 'hello bob');
      const ack = await must(sa, 'createMessage', { message: 'hello bob', chatHeaderId: chatId, accessToken: alice.token, messageType: 0, caption: '' });
      assert.equal(ack.message, 'hello bob');
      assert.equal(ack.messageType, 0);
      const m = await got;
      assert.equal(m.chatHeaderId, chatId);
      assert.equal(m.chatMessage.id, ack.id);
      assert.equal(m.chatMessage.userId, alice.id);
      assert.equal(m.chatMessage.user.id, alice.id);
      assert.match(m.chatMessage.creationTime, ISO);
    });

    it('findAllMessages pages back from the newest with skipCount, maxResultCount and lastMessageId', async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await must(sa, 'createMessage', { message: `m${i}`, chatHeaderId: chatId, messageType: 0 })).id);
      }
      const page = await must(sb, 'findAllMessages', { chatHeaderId: String(chatId), accessToken: bob.token, skipCount: 0, maxResultCount: 3 });
      assert.equal(page.totalCount, 6);
      assert.deepEqual(page.items.map((m) => m.message), ['m4', 'm3', 'm2']);
      const skipped = await must(sb, 'findAllMessages', { chatHeaderId: chatId, skipCount: 3, maxResultCount: 2 });
      assert.deepEqual(skipped.items.map((m) => m.message), ['m1', 'm0']);
      const older = await must(sb, 'findAllMessages', { chatHeaderId: chatId, LastMessageId: ids[2], maxResultCount: 10 });
      assert.deepEqual(older.items.map((m) => m.message), ['m1', 'm0', 'hello bob']);
    });

    it('findAllChatHeaders returns what each named room has after the given id', async () => {
      const page = await must(sb, 'findAllMessages', { chatHeaderId: chatId, maxResultCount: 3 });
      const lastSeen = page.items[2].id; // m2
      const r = await must(sb, 'findAllChatHeaders', {
        AccessToken: bob.token, UserId: bob.id, SkipCount: 0, MaxResultCount: 20,
        RoomsWithLastMessageIds: [{ ChatHeaderId: chatId, LastMessageId: lastSeen }],
      });
      assert.equal(r.totalCount, 1);
      const h = r.items[0];
      assert.equal(h.chatHeaderId, chatId);
      assert.equal(h.otherUserId, alice.id);
      assert.equal(h.isOnline, true);
      assert.equal(h.lastMessage.message, 'm4');
      assert.deepEqual(h.newMessages.map((m) => m.message), ['m3', 'm4']);
      assert.equal(h.unreadCount, 6);
    });

    it('roomTyping tells the other viewers', async () => {
      const got = waitFor(sb, 'typing', (t) => t.isTyping === true);
      await must(sa, 'roomTyping', { isTyping: true, name: 'Ally', chatHeaderId: chatId });
      const t = await got;
      assert.equal(t.chatHeaderId, chatId);
      // The name the client sent (the seed's server echoes it).
      assert.equal(t.name, 'Ally');
      const stop = waitFor(sb, 'typing', (x) => x.isTyping === false);
      await must(sa, 'roomTyping', { isTyping: false, name: alice.name, chatHeaderId: chatId });
      await stop;
    });

    it('updateMessage is for the author only and tells the room', async () => {
      const m = await must(sa, 'createMessage', { message: 'tpyo', chatHeaderId: chatId, messageType: 0 });
      await refusedWith(sb, 'updateMessage', { id: m.id, message: 'hijack', chatHeaderId: chatId, accessToken: bob.token }, 'FORBIDDEN');
      const got = waitFor(sb, 'messageUpdated', (u) => u.id === m.id);
      const ack = await must(sa, 'updateMessage', { id: m.id, message: 'typo', chatHeaderId: chatId, accessToken: alice.token, caption: '' });
      assert.equal(ack.message, 'typo');
      assert.equal((await got).message, 'typo');
    });

    it('removeMessage with ids emits one messageDeleted per id', async () => {
      const a1 = await must(sa, 'createMessage', { message: 'x1', chatHeaderId: chatId, messageType: 0 });
      const a2 = await must(sa, 'createMessage', { message: 'x2', chatHeaderId: chatId, messageType: 0 });
      const d1 = waitFor(sb, 'messageDeleted', (id) => id === a1.id);
      const d2 = waitFor(sb, 'messageDeleted', (id) => id === a2.id);
      const ack = await must(sa, 'removeMessage', { ids: [a1.id, a2.id], id: 999999, chatHeaderId: chatId, accessToken: alice.token });
      assert.deepEqual(ack.deleted, [a1.id, a2.id]);
      await d1; await d2;
      const b1 = await must(sb, 'createMessage', { message: 'bob only', chatHeaderId: chatId, messageType: 0 });
      await refusedWith(sa, 'removeMessage', { id: b1.id, chatHeaderId: chatId }, 'FORBIDDEN');
    });

    it('readMessage clears unread and tells the other member', async () => {
      const got = waitFor(sa, 'messageHasBeenRead', (id) => id === chatId);
      const ack = await must(sb, 'readMessage', { chatHeaderId: chatId });
      assert.equal(ack.chatHeaderId, chatId);
      await got;
      const chats = await must(sb, 'getMyChats', {});
      assert.equal(chats[0].unreadCount, 0);
    });

    it('getMyChats lists direct chats, most recent first, with the peer and its state', async () => {
      const carol = await user(server, 'carol');
      await must(sa, 'joinRoom', { otherUserId: carol.id });
      await must(sa, 'createMessage', { message: 'to bob last', chatHeaderId: chatId, messageType: 0 });
      const chats = await must(sa, 'getMyChats', { accessToken: alice.token });
      assert.equal(chats.length, 2);
      assert.equal(chats[0].chatHeaderId, chatId);
      assert.equal(chats[0].userId, bob.id);
      assert.equal(chats[0].userName, bob.name);
      assert.equal(chats[0].lastMessage, 'to bob last');
      assert.match(chats[0].lastMessageTime, ISO);
      assert.match(chats[0].creationTime, ISO);
      assert.equal(chats[0].isOnline, true);
      assert.equal(chats[1].userId, carol.id);
      assert.equal(chats[1].isOnline, false);
      assert.equal(chats[1].lastMessage, null);
    });

    it('leaveRoom stops live messages', async () => {
      await must(sb, 'leaveRoom', { chatHeaderId: chatId });
      const since = new Map([[sb, sb.received.length]]);
      await must(sa, 'createMessage', { message: 'unseen live', chatHeaderId: chatId, messageType: 0 });
      await expectNone(sb, 'message', { since });
      await must(sb, 'joinRoom', { chatHeaderId: chatId });
    });

    it('refuses bad payloads with {error} and keeps the connection', async () => {
      for (const [event, payload] of [
        ['createMessage', { chatHeaderId: chatId }],
        ['createMessage', { message: 'x', chatHeaderId: chatId, messageType: 9 }],
        ['createMessage', { message: 'x'.repeat(10_001), chatHeaderId: chatId, messageType: 0 }],
        ['createMessage', { message: '/uploads/chat-messages/images/nope.webp', chatHeaderId: chatId, messageType: 2 }],
        ['findAllMessages', { chatHeaderId: 'abc' }],
        ['joinRoom', {}],
        ['joinRoom', { otherUserId: 'bad id!' }],
        ['roomTyping', { chatHeaderId: chatId }],
        ['removeMessage', { chatHeaderId: chatId }],
        ['updateMessage', { id: 'x', message: 'y', chatHeaderId: chatId }],
        ['noSuchEvent', {}],
      ]) {
        await refusedWith(sa, event, payload, 'INVALID_PAYLOAD');
      }
      const before = (await history(server, alice, chatId)).length;
      assert.equal(before, (await history(server, alice, chatId)).length);
      const alive = waitFor(sa, 'message', (m) => m.chatMessage.message === 'still alive');
      await must(sa, 'createMessage', { message: 'still alive', chatHeaderId: chatId, messageType: 0 });
      await alive;
    });

    it('a foreign chatHeaderId is not found for every event', async () => {
      const mallory = await user(server, 'mallory');
      const sm = await sy(server, mallory);
      const since = new Map([[sa, sa.received.length], [sb, sb.received.length]]);
      for (const [event, payload] of [
        ['joinRoom', { chatHeaderId: chatId }],
        ['createMessage', { message: 'intrusion', chatHeaderId: chatId, messageType: 0 }],
        ['findAllMessages', { chatHeaderId: chatId }],
        ['roomTyping', { isTyping: true, name: 'm', chatHeaderId: chatId }],
        ['readMessage', { chatHeaderId: chatId }],
        ['removeMessage', { id: 1, chatHeaderId: chatId }],
        ['leaveRoom', { chatHeaderId: chatId }],
      ]) {
        await refusedWith(sm, event, payload, 'NOT_FOUND');
      }
      await expectNone([sa, sb], SERVER_EVENTS, { since });
      assert.ok(!(await history(server, alice, chatId)).some((m) => m.text === 'intrusion'));
    });
  });

  describe('presence, friendships and other dialects', () => {
    it('clientStatus tells contacts when a user comes and goes', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const sa = await sy(server, a);
      await must(sa, 'joinRoom', { otherUserId: b.id });
      const online = waitFor(sa, 'clientStatus', (s) => s.userId === b.id && s.activeNow === true);
      const sb = await sy(server, b);
      await online;
      const offline = waitFor(sa, 'clientStatus', (s) => s.userId === b.id && s.activeNow === false);
      await close(sb);
      await offline;
    });

    it('onMemberJoin tells the other members when someone is added to a group', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const d = await user(server, 'dave');
      const group = await conversation(server, a, [b, await user(server, 'carol')]);
      const sb = await sy(server, b);
      const sd = await sy(server, d);
      const got = waitFor(sb, 'onMemberJoin', (m) => m.chatHeaderId === group.id);
      const since = new Map([[sd, sd.received.length]]);
      const added = await server.rest('POST', `/api/conversations/${group.id}/members`, { token: a.token, body: { userId: d.id } });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.equal((await got).userId, d.id);
      await expectNone(sd, 'onMemberJoin', { since });
      await must(sd, 'joinRoom', { chatHeaderId: group.id });
    });

    it('getMyFriendships lists accepted friends with online state and chat id', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const c = await user(server, 'carol');
      const req = await server.rest('POST', '/api/friendships', { token: a.token, body: { userId: b.id } });
      assert.ok(req.status < 300, JSON.stringify(req.body));
      const acc = await server.rest('POST', `/api/friendships/${a.id}/accept`, { token: b.token });
      assert.ok(acc.status < 300, JSON.stringify(acc.body));
      await server.rest('POST', '/api/friendships', { token: a.token, body: { userId: c.id } });
      const sa = await sy(server, a);
      const sb = await sy(server, b);
      let friends = await must(sa, 'getMyFriendships', {});
      assert.deepEqual(friends, [{ userId: b.id, name: b.name, avatar: null, isOnline: true, chatHeaderId: null }]);
      const room = await must(sa, 'joinRoom', { otherUserId: b.id });
      assert.equal(room.friendshipStatus, 1);
      friends = await must(sa, 'getMyFriendships', { accessToken: a.token });
      assert.equal(friends[0].chatHeaderId, room.chatHeaderId);
      await close(sb);
    });

    it('a block stops createMessage both ways', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const sa = await sy(server, a);
      const sb = await sy(server, b);
      const room = await must(sa, 'joinRoom', { otherUserId: b.id });
      const blocked = await server.rest('POST', `/api/friendships/${b.id}/block`, { token: a.token });
      assert.ok(blocked.status < 300, JSON.stringify(blocked.body));
      await refusedWith(sa, 'createMessage', { message: 'hi', chatHeaderId: room.chatHeaderId, messageType: 0 }, 'FORBIDDEN');
      await refusedWith(sb, 'createMessage', { message: 'hi', chatHeaderId: room.chatHeaderId, messageType: 0 }, 'FORBIDDEN');
      assert.equal((await must(sb, 'joinRoom', { chatHeaderId: room.chatHeaderId })).friendshipStatus, 3);
    });

    it('shares conversations with Dozaar clients both ways', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const conv = await conversation(server, a, [b]);
      const sa = await sy(server, a);
      await must(sa, 'joinRoom', { chatHeaderId: conv.id });
      const db = await connectUser(server, b);
      await emitAck(db, 'join:conversation', { conversationId: conv.uuid });
      const dozaarGot = waitFor(db, 'new:message', (m) => m.message === 'from syarah');
      await must(sa, 'createMessage', { message: 'from syarah', chatHeaderId: conv.id, messageType: 0 });
      const m = await dozaarGot;
      assert.equal(m.conversationId, conv.uuid);
      assert.equal(m.senderId, a.id);
      const syarahGot = waitFor(sa, 'message', (x) => x.chatMessage.message === 'from dozaar');
      await emitAck(db, 'send:message', { conversationId: conv.uuid, message: 'from dozaar' });
      const x = await syarahGot;
      assert.equal(x.chatHeaderId, conv.id);
      assert.equal(x.chatMessage.userId, b.id);
    });
  });

  describe('media messages', () => {
    async function upload(u, file, messageType) {
      const form = new FormData();
      form.append('messageType', String(messageType));
      form.append('file', new Blob([readFileSync(join(ROOT, 'tests', 'fixtures', file))]), file);
      const res = await fetch(`${server.urls.syarah}/api/chat/uploadFile`, {
        method: 'POST', headers: { authorization: `Bearer ${u.token}` }, body: form,
      });
      return { status: res.status, body: await res.json() };
    }

    it('an uploaded image is sent as messageType 2 with a caption, and only by its uploader', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const sa = await sy(server, a);
      const sb = await sy(server, b);
      const room = await must(sa, 'joinRoom', { otherUserId: b.id });
      await must(sb, 'joinRoom', { chatHeaderId: room.chatHeaderId });
      const up = await upload(a, 'photo.png', 2);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.equal(up.body.success, true);
      assert.match(up.body.data, /^\/uploads\/chat-messages\/images\/[0-9a-f]+\.webp$/);
      const got = waitFor(sb, 'message', (m) => m.chatMessage.messageType === 2);
      const ack = await must(sa, 'createMessage', { message: up.body.data, chatHeaderId: room.chatHeaderId, messageType: 2, caption: 'look' });
      assert.equal(ack.message, up.body.data);
      assert.equal(ack.caption, 'look');
      const m = await got;
      assert.equal(m.chatMessage.message, up.body.data);
      assert.equal(m.chatMessage.caption, 'look');
      const served = await fetch(`${server.urls.syarah}${up.body.data}`);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('content-type'), 'image/webp');
      assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
      // Bob may forward it within the chat, but Carol (not a member) may not send it anywhere.
      await must(sb, 'createMessage', { message: up.body.data, chatHeaderId: room.chatHeaderId, messageType: 2 });
      const c = await user(server, 'carol');
      const sc = await sy(server, c);
      const own = await must(sc, 'joinRoom', { otherUserId: a.id });
      await refusedWith(sc, 'createMessage', { message: up.body.data, chatHeaderId: own.chatHeaderId, messageType: 2 }, 'FORBIDDEN');
    });
  });

  describe('REST', () => {
    it('getChatHeaderAsync gets or creates the direct chat in the seed envelope', async () => {
      const a = await user(server, 'alice');
      const b = await user(server, 'bob');
      const first = await server.rest('GET', `/api/chat/getChatHeaderAsync?user1Id=${a.id}&user2Id=${b.id}`, { token: a.token });
      assert.equal(first.status, 200);
      assert.equal(first.body.success, true);
      assert.equal(first.body.message, null);
      assert.equal(typeof first.body.data.id, 'number');
      const second = await server.rest('GET', `/api/chat/getChatHeaderAsync?user1Id=${b.id}&user2Id=${a.id}`, { token: b.token });
      assert.equal(second.body.data.id, first.body.data.id);
      const c = await user(server, 'carol');
      const foreign = await server.rest('GET', `/api/chat/getChatHeaderAsync?user1Id=${a.id}&user2Id=${b.id}`, { token: c.token });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.body.success, false);
      assert.equal(typeof foreign.body.message, 'string');
      const anonymous = await server.rest('GET', `/api/chat/getChatHeaderAsync?user1Id=${a.id}&user2Id=${b.id}`, {});
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.success, false);
      const missing = await server.rest('GET', '/api/chat/getChatHeaderAsync', { token: a.token });
      assert.equal(missing.status, 400);
    });
  });

  // Each test below drives the seed's own sample client (`ChatClient`),
  // calling its methods as the seed's usage example does.
  describe("the seed's ChatClient", () => {
    /** Connected clients of `users`, each with only `query.userId` in its handshake. */
    async function clients(...users) {
      const made = users.map((u) => new RecordingChatClient(server.urls.syarah, u.id, u.token));
      await Promise.all(made.map((c) => c.connected()));
      return made;
    }

    /** The direct chat of `a` and `b`, as the app gets it (getChatHeaderAsync). */
    async function chatOf(a, b) {
      const r = await server.rest('GET', `/api/chat/getChatHeaderAsync?user1Id=${a.id}&user2Id=${b.id}`, { token: a.token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.data.id;
    }

    /** `client.joinRoom(chatHeaderId)`, and its acknowledgement. */
    async function joined(client, chatHeaderId) {
      client.joinRoom(chatHeaderId);
      const r = await client.next('Joined room:');
      assert.equal(r.error, undefined, JSON.stringify(r));
      return r;
    }

    /** `client.getAllMessages(...)`, and its acknowledgement. */
    async function messages(client, ...args) {
      client.getAllMessages(...args);
      return client.next('Messages:');
    }

    /** The `exception` confab emits for `event`'s refusal. */
    async function refusal(client, event, code) {
      const e = await client.next('exception', (x) => x.event === event);
      assert.equal(e.code, code, JSON.stringify(e));
      assert.equal(typeof e.error, 'string');
      return e;
    }

    /** A member's pair of clients in their direct chat, both in the room. */
    async function inRoom() {
      const a = appUser('alice');
      const b = appUser('bob');
      const chatId = await chatOf(a, b);
      const [ca, cb] = await clients(a, b);
      await joined(ca, chatId);
      await joined(cb, chatId);
      return { a, b, chatId, ca, cb };
    }

    it("sendMessage(chatHeaderId, 'Hello, world!') with its default messageType 1 is a text, echoed as type 1", async () => {
      const { a, chatId, ca, cb } = await inRoom();
      ca.sendMessage(chatId, 'Hello, world!');
      const m = await cb.next('message', (d) => d.chatHeaderId === chatId);
      assert.equal(m.chatMessage.message, 'Hello, world!');
      assert.equal(m.chatMessage.messageType, 1);
      assert.equal(m.chatMessage.caption, null);
      assert.deepEqual(m.chatMessage.attachmentUrls, []);
      assert.deepEqual(m.chatMessage.user, { id: a.id, name: a.name, avatar: a.avatar });
      await ca.none('exception');
      // Stored as text for every dialect, shown back to Syarah as sent.
      const stored = (await history(server, a, chatId)).at(-1);
      assert.equal(stored.kind, 'text');
      assert.equal(stored.text, 'Hello, world!');
      const page = await messages(cb, chatId);
      assert.equal(page.items[0].message, 'Hello, world!');
      assert.equal(page.items[0].messageType, 1);

      // A path is still a file, checked as one; bad input is refused, nothing stored.
      ca.sendMessage(chatId, '/uploads/chat-messages/images/nope.webp', 2);
      await refusal(ca, 'createMessage', 'INVALID_PAYLOAD');
      ca.sendMessage(chatId, '');
      await refusal(ca, 'createMessage', 'INVALID_PAYLOAD');
      ca.sendMessage(chatId, 'x'.repeat(10_001), 3);
      await refusal(ca, 'createMessage', 'INVALID_PAYLOAD');
      // Someone else's chat is not found.
      const [cm] = await clients(appUser('mallory'));
      cm.sendMessage(chatId, 'intrusion');
      await refusal(cm, 'createMessage', 'NOT_FOUND');
      await cb.none('message');
      assert.equal((await history(server, a, chatId)).length, 1);
      // The connection is alive.
      ca.sendMessage(chatId, 'still here', 0);
      assert.equal((await cb.next('message')).chatMessage.messageType, 0);
    });

    it('getAllMessages: each item carries user, and totalCount counts only what the list can return', async () => {
      const { a, chatId, ca, cb } = await inRoom();
      const ids = [];
      for (const text of ['m0', 'm1', 'm2', 'm3']) {
        ca.sendMessage(chatId, text, 0);
        ids.push((await cb.next('message', (d) => d.chatMessage.message === text)).chatMessage.id);
      }
      ca.deleteMessage(ids[2], chatId);
      await cb.next('messageDeleted', (id) => id === ids[2]);

      const page = await messages(cb, chatId);
      assert.equal(page.totalCount, 3);
      assert.deepEqual(page.items.map((m) => m.message), ['m3', 'm1', 'm0']);
      for (const item of page.items) {
        assert.deepEqual(item.user, { id: a.id, name: a.name, avatar: a.avatar });
      }
      // Pages count the same messages: skipCount past them all is empty.
      const second = await messages(cb, chatId, 1, 1);
      assert.equal(second.totalCount, 3);
      assert.deepEqual(second.items.map((m) => m.message), ['m1']);
      assert.deepEqual((await messages(cb, chatId, 3, 50)).items, []);

      // Bad input and someone else's chat are refused in the acknowledgement.
      const bad = await messages(cb, 'abc');
      assert.equal(bad.code, 'INVALID_PAYLOAD');
      const [cm] = await clients(appUser('mallory'));
      const foreign = await messages(cm, chatId);
      assert.equal(foreign.code, 'NOT_FOUND');
      assert.equal(foreign.items, undefined);
    });

    it('updateMessage: messageUpdated carries user like the live message event', async () => {
      const { a, chatId, ca, cb } = await inRoom();
      ca.sendMessage(chatId, 'tpyo', 0);
      const { chatMessage: sent } = await cb.next('message', (d) => d.chatMessage.message === 'tpyo');
      ca.updateMessage(sent.id, chatId, 'typo');
      const updated = await cb.next('messageUpdated', (m) => m.id === sent.id);
      assert.equal(updated.message, 'typo');
      assert.deepEqual(updated.user, { id: a.id, name: a.name, avatar: a.avatar });
      assert.deepEqual((await ca.next('messageUpdated')).user, updated.user);

      // Only the author edits; an empty text is refused; nothing changes.
      cb.updateMessage(sent.id, chatId, 'hijack');
      await refusal(cb, 'updateMessage', 'FORBIDDEN');
      ca.updateMessage(sent.id, chatId, '');
      await refusal(ca, 'updateMessage', 'INVALID_PAYLOAD');
      await cb.none('messageUpdated');
      assert.equal((await history(server, a, chatId)).at(-1).text, 'typo');
    });

    it("joinRoom tells the room's other viewers onMemberJoin, with the member's name and avatar", async () => {
      const a = appUser('alice');
      const b = appUser('bob');
      const c = appUser('carol');
      const group = await conversation(server, a, [b, c]);
      const [ca, cb, cc] = await clients(a, b, c);
      await joined(cb, group.id);
      // Carol is a member but has not opened the chat: she is not told.
      await joined(ca, group.id);
      const member = await cb.next('onMemberJoin', (m) => m.chatHeaderId === group.id);
      assert.equal(member.userId, a.id);
      assert.equal(member.name, a.name);
      assert.equal(member.avatar, a.avatar);
      assert.equal(member.role, 'owner');
      assert.equal(member.isOnline, true);
      assert.match(member.joinedAt, ISO);
      // Bob's own join may still reach Alice if she opened the chat while it was
      // on its way; what she must not hear is her own.
      await ca.none('onMemberJoin', 300, (m) => m.userId === a.id);
      await cc.none('onMemberJoin');

      // A bad id and a chat of others are refused, and nobody is told.
      ca.joinRoom(0);
      const bad = await ca.next('Joined room:');
      assert.equal(bad.code, 'INVALID_PAYLOAD');
      const [cm] = await clients(appUser('mallory'));
      cm.joinRoom(group.id);
      const foreign = await cm.next('Joined room:');
      assert.equal(foreign.code, 'NOT_FOUND');
      await cb.none('onMemberJoin');
    });

    it('setTyping(chatHeaderId, isTyping, userName): typing.name is the name sent', async () => {
      const { b, chatId, ca, cb } = await inRoom();
      ca.setTyping(chatId, true, 'Johnny A.');
      const start = await cb.next('typing', (t) => t.isTyping === true);
      assert.deepEqual(start, { name: 'Johnny A.', isTyping: true, chatHeaderId: chatId });
      ca.setTyping(chatId, false, 'Johnny A.');
      const stop = await cb.next('typing', (t) => t.isTyping === false);
      assert.equal(stop.name, 'Johnny A.');

      ca.setTyping(chatId, true, 'x'.repeat(101));
      await refusal(ca, 'roomTyping', 'INVALID_PAYLOAD');
      const [cm] = await clients(appUser('mallory'));
      await messages(cm, chatId); // identifies Mallory's connection (refused: not her chat)
      cm.setTyping(chatId, true, b.name);
      await refusal(cm, 'roomTyping', 'NOT_FOUND');
      await cb.none('typing');
    });

    it('a connection with only userId: roomTyping and readMessage answer a clear error until an event with accessToken identifies it', async () => {
      const a = appUser('alice');
      const b = appUser('bob');
      const chatId = await chatOf(a, b);
      const [ca, cb] = await clients(a, b);
      await joined(cb, chatId);
      cb.sendMessage(chatId, 'unread', 0);
      await cb.next('message');

      ca.setTyping(chatId, true, a.name);
      const typing = await refusal(ca, 'roomTyping', 'UNAUTHENTICATED');
      assert.match(typing.error, /not identified yet/);
      assert.match(typing.error, /joinRoom/);
      assert.match(typing.error, /auth\.accessToken/);
      ca.markAsRead(chatId);
      const read = await refusal(ca, 'readMessage', 'UNAUTHENTICATED');
      assert.match(read.error, /not identified yet/);
      await cb.none('typing');
      await cb.none('messageHasBeenRead');

      // The documented path: an event that carries accessToken first.
      await joined(ca, chatId);
      ca.setTyping(chatId, true, a.name);
      assert.equal((await cb.next('typing')).name, a.name);
      ca.markAsRead(chatId);
      assert.equal(await cb.next('messageHasBeenRead'), chatId);
      await ca.none('exception');

      // Or a token in the handshake: identified from the start.
      const s = await sy(server, a, { withToken: false, query: { userId: a.id, accessToken: a.token } });
      assert.equal((await emitAck(s, 'readMessage', { chatHeaderId: chatId })).chatHeaderId, chatId);

      // An event token of another user than userId is refused, saying why.
      const [impostor] = [new RecordingChatClient(server.urls.syarah, a.id, b.token)];
      await impostor.connected();
      impostor.joinRoom(chatId);
      const refused = await impostor.next('Joined room:');
      assert.equal(refused.code, 'UNAUTHENTICATED');
      assert.match(refused.error, /userId does not match the access token/);
    });
  });
});
