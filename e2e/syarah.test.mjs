// Black-box tests of the Syarah dialect (seeds/syarah-api.txt) with the
// official socket.io-client, against the real `confab` binary. Decisions the
// seed leaves open are in docs/dialects/syarah.md.
//
// Run: `node --test e2e/` after `cargo build --bin confab` (or `scripts/test`).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, user, conversation, history, connect, connectUser, closeAll,
  waitFor, expectNone, emitAck, close, ROOT,
} from './lib/server.mjs';

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
      },
    });
    assert.ok(server.urls.syarah, 'syarah listens');
  });
  after(async () => {
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
      await must(sa, 'roomTyping', { isTyping: true, name: 'spoofed', chatHeaderId: chatId });
      const t = await got;
      assert.equal(t.chatHeaderId, chatId);
      assert.equal(t.name, alice.name);
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
});
