// Black-box tests of the Socket.IO v2 protocol (Engine.IO 3) on every
// listener, with the official socket.io-client 2.x (`lib/v2.mjs`) against the
// real `confab` binary. Each dialect is driven as its v2 clients connect:
// the token where a v2 client can put it (the query string or a header; it
// has no auth object), one client event with an acknowledgement and one
// without, one server event, a refused handshake (an `error` event), over
// polling then the upgrade to WebSocket and over WebSocket only. Also: a
// binary event (Voxora's `file_upload`), the Voxora `/department` token in
// the query (2.x and 4.x clients), and the engine settings (ping, payload
// limit) on v2 connections.
//
// Run: `node --test e2e/protocol-v2.test.mjs` after `cargo build --bin confab`.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, history, connect, close, closeAll, waitFor, sleep,
} from './lib/server.mjs';
import { connectV2, emitAckV2, transportOf, upgraded } from './lib/v2.mjs';

/** A valid 1×1 RGBA PNG. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** The two ways a v2 client's connection runs. */
const TRANSPORTS = [
  { name: 'polling, then the upgrade to WebSocket', transports: undefined },
  { name: 'WebSocket only', transports: ['websocket'] },
];

/** Engine settings of the server, checked on v2 connections. */
const PING_INTERVAL_SECS = 1;
const PING_TIMEOUT_SECS = 3;
const MAX_PAYLOAD_BYTES = 16_384;

/**
 * A v2 socket that ran as `mode` says: over polling first then upgraded, or
 * over WebSocket from the start.
 */
async function v2(url, mode, opts = {}) {
  const s = await connectV2(url, { transports: mode.transports, ...opts });
  if (mode.transports) {
    assert.equal(transportOf(s), 'websocket');
  } else {
    assert.equal(s.firstTransport, 'polling', 'a default v2 client starts over polling');
    await upgraded(s);
  }
  return s;
}

/** Asserts that a v2 handshake is refused; returns the refusal's message. */
async function refusedV2(url, opts) {
  let message;
  await assert.rejects(connectV2(url, opts), (err) => {
    assert.ok(err.data !== undefined, `refused by the server, not by the connection: ${err.message}`);
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0);
    message = err.message;
    return true;
  });
  return message;
}

describe('Socket.IO v2 clients (socket.io-client 2.x)', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: {
        CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000',
        CONFAB_SOCKET_PING_INTERVAL_SECS: String(PING_INTERVAL_SECS),
        CONFAB_SOCKET_PING_TIMEOUT_SECS: String(PING_TIMEOUT_SECS),
        CONFAB_LIMITS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
        CONFAB_LIMITS_WS_MAX_MESSAGE_BYTES: String(MAX_PAYLOAD_BYTES),
        CONFAB_LIMITS_WS_MAX_FRAME_BYTES: String(MAX_PAYLOAD_BYTES),
      },
    });
    for (const d of ['dozaar', 'syarah', 'jobspare', 'vchat', 'voxora']) {
      assert.ok(server.urls[d], `${d} listens`);
    }
  });
  afterEach(closeAll);
  after(async () => {
    await closeAll();
    await server.stop();
  });

  describe('dozaar', () => {
    const chat = () => `${server.urls.dozaar}/chat`;

    for (const mode of TRANSPORTS) {
      it(`exchanges messages over ${mode.name}, the token in the header or the query`, async () => {
        const [alice, bob] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
        const conv = await conversation(server, alice, [bob]);
        // The seed's option 1 (a header), and the query of a client that cannot set one.
        const sa = await v2(chat(), mode, { extraHeaders: { Authorization: `Bearer ${alice.token}` } });
        const sb = await v2(chat(), mode, { query: { token: bob.token } });
        // A client event without an acknowledgement, answered by a server event.
        for (const s of [sa, sb]) {
          s.emit('join:conversation', { conversationId: conv.uuid });
          const joined = await waitFor(s, 'joined:conversation');
          assert.equal(joined.conversationId, conv.uuid);
        }
        // A client event with an acknowledgement; the other side hears it.
        const text = `héllo 👋 over ${mode.name}`;
        const got = waitFor(sb, 'new:message', (m) => m.message === text);
        const ack = await emitAckV2(sa, 'send:message', { conversationId: conv.uuid, message: text });
        assert.equal(ack.success, true, JSON.stringify(ack));
        assert.equal(ack.message.message, text);
        const m = await got;
        assert.equal(m.senderId, alice.id);
        assert.equal(m.id, ack.message.id);
      });
    }

    it('refuses a missing or bad token with an error on the namespace', async () => {
      const missing = await refusedV2(chat(), {});
      assert.match(missing, /token/i);
      await refusedV2(chat(), { query: { token: 'not-a-jwt' } });
      await refusedV2(chat(), { extraHeaders: { Authorization: 'Bearer not.a.jwt' }, transports: ['websocket'] });
    });

    it('serves the root namespace a v2 client is put in; a 4.x client asking for it is refused as before', async () => {
      const root = await connectV2(server.urls.dozaar, {});
      assert.ok(root.connected);
      await close(root);
      await assert.rejects(connect(server, { url: server.urls.dozaar, auth: {} }), /Invalid namespace/);
    });
  });

  describe('syarah', () => {
    for (const mode of TRANSPORTS) {
      it(`exchanges messages over ${mode.name}, userId and accessToken in the query`, async () => {
        const [alice, bob] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
        const url = server.urls.syarah;
        const sa = await v2(url, mode, { query: { userId: alice.id, accessToken: alice.token } });
        const sb = await v2(url, mode, { query: { userId: bob.id, accessToken: bob.token } });
        const joined = await emitAckV2(sa, 'joinRoom', { otherUserId: bob.id });
        assert.equal(typeof joined.chatHeaderId, 'number', JSON.stringify(joined));
        const chatHeaderId = joined.chatHeaderId;
        assert.equal((await emitAckV2(sb, 'joinRoom', { chatHeaderId })).chatHeaderId, chatHeaderId);
        // Without an acknowledgement: typing reaches the other viewer.
        sa.emit('roomTyping', { chatHeaderId, isTyping: true });
        const typing = await waitFor(sb, 'typing', (t) => t.chatHeaderId === chatHeaderId);
        assert.equal(typing.isTyping, true);
        const text = `hello over ${mode.name}`;
        const got = waitFor(sb, 'message', (m) => m.chatMessage?.message === text);
        const ack = await emitAckV2(sa, 'createMessage', { message: text, chatHeaderId, messageType: 0 });
        assert.equal(ack.error, undefined, JSON.stringify(ack));
        assert.equal(ack.message, text);
        await got;
      });
    }

    it('refuses a missing userId, and a token of another user, with an error', async () => {
      const [alice, bob] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
      assert.match(await refusedV2(server.urls.syarah, {}), /userId/);
      assert.match(
        await refusedV2(server.urls.syarah, { query: { userId: alice.id, accessToken: bob.token }, transports: ['websocket'] }),
        /does not match/,
      );
    });
  });

  describe('jobspare', () => {
    for (const mode of TRANSPORTS) {
      it(`exchanges messages over ${mode.name}, the token in the query`, async () => {
        const [alice, bob] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
        const url = server.urls.jobspare;
        const sa = await v2(url, mode, { query: { token: alice.token } });
        const sb = await v2(url, mode, { query: { token: bob.token } });
        // A server event on connect.
        assert.deepEqual(await waitFor(sa, 'authenticated'), { userId: alice.id, success: true });
        assert.deepEqual(await waitFor(sb, 'authenticated'), { userId: bob.id, success: true });
        const pair = `${alice.id}_${bob.id}`;
        for (const s of [sa, sb]) {
          s.emit('join_conversation', { conversationId: pair });
          await waitFor(s, 'joined_conversation');
        }
        const text = `hello over ${mode.name}`;
        const got = waitFor(sb, 'new_message', (m) => m.content?.text === text);
        const ack = await emitAckV2(sa, 'send_message', {
          conversationId: pair, receiverId: bob.id, messageType: 'text', content: { text },
        });
        assert.equal(ack.content.text, text, JSON.stringify(ack));
        const m = await got;
        assert.equal(m._id, ack._id);
      });
    }

    it('takes the token from the Authorization header too; refuses a missing or bad one', async () => {
      const alice = await user(server, 'alice');
      const s = await connectV2(server.urls.jobspare, { extraHeaders: { Authorization: `Bearer ${alice.token}` } });
      assert.deepEqual(await waitFor(s, 'authenticated'), { userId: alice.id, success: true });
      assert.match(await refusedV2(server.urls.jobspare, {}), /token/i);
      await refusedV2(server.urls.jobspare, { query: { token: 'bad' }, transports: ['websocket'] });
    });
  });

  describe('vchat', () => {
    /** The V Chat SDK's sockets: the raw token in `Authorization`. */
    const sdk = (u) => ({ extraHeaders: { Authorization: u.token, 'accept-language': 'en' } });

    for (const mode of TRANSPORTS) {
      it(`lists rooms and follows the open room over ${mode.name}, the token in the header`, async () => {
        const [alice, bob] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
        const conv = await conversation(server, alice, [bob]);
        const roomId = String(conv.id);
        const home = await v2(server.urls.vchat, mode, sdk(bob));
        const open = await v2(`${server.urls.vchat}/message`, mode, sdk(bob));
        // With an acknowledgement: the rooms list.
        const rooms = await emitAckV2(home, 'join');
        assert.equal(rooms.success, true, JSON.stringify(rooms));
        assert.ok(rooms.data.some((r) => r._id === roomId), JSON.stringify(rooms.data.map((r) => r._id)));
        // Without: the room's messages arrive as an event.
        open.emit('join', roomId);
        const all = await waitFor(open, 'all_messages');
        assert.deepEqual(JSON.parse(all), []);
        const text = `hello over ${mode.name}`;
        const got = waitFor(open, 'new_message', (m) => typeof m === 'string' && JSON.parse(m).content === text);
        const sent = await server.rest('POST', `/api/conversations/${conv.id}/messages`, { token: alice.token, body: { text } });
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        const m = JSON.parse(await got);
        assert.equal(m.roomId, roomId);
        assert.equal(m.senderId, alice.id);
        await waitFor(home, 'update_one_room', (r) => r && r._id === roomId);
      });
    }

    it('refuses a missing or forged token with an error on each namespace', async () => {
      for (const ns of ['', '/message']) {
        assert.match(await refusedV2(`${server.urls.vchat}${ns}`, { transports: ['websocket'] }), /token/i);
        await refusedV2(`${server.urls.vchat}${ns}`, { extraHeaders: { Authorization: 'forged' }, transports: ['websocket'] });
      }
    });
  });

  describe('voxora', () => {
    for (const mode of TRANSPORTS) {
      it(`exchanges messages over ${mode.name}, the token in the query`, async () => {
        const [alice, bob] = await Promise.all([user(server, 'alice'), user(server, 'bob')]);
        const conv = await conversation(server, alice, [bob]);
        const conversationId = String(conv.id);
        const sa = await v2(server.urls.voxora, mode, { query: { token: alice.token } });
        const sb = await v2(server.urls.voxora, mode, { query: { token: bob.token } });
        sa.emit('typing_start', { conversationId });
        const typing = await waitFor(sb, 'user_typing', (t) => t.conversationId === conversationId);
        assert.equal(typing.userId, alice.id);
        assert.equal(typing.isTyping, true);
        const content = `hello over ${mode.name}`;
        const got = waitFor(sb, 'new_message', (m) => m.content === content);
        const ack = await emitAckV2(sa, 'send_message', { conversationId, content });
        assert.equal(typeof ack._id, 'string', JSON.stringify(ack));
        assert.equal((await got)._id, ack._id);
      });
    }

    it('takes a file in a binary event (the v2 binary encoding) over polling and over WebSocket', async () => {
      const alice = await user(server, 'alice');
      for (const transports of [['polling'], ['websocket']]) {
        const s = await connectV2(server.urls.voxora, { query: { token: alice.token }, transports });
        const ack = await emitAckV2(s, 'file_upload', PNG_1X1);
        assert.equal(ack.type, 'image', JSON.stringify(ack));
        assert.match(ack.url, /^\/uploads\//);
        const file = await fetch(`${server.urls.voxora}${ack.url}`);
        assert.equal(file.status, 200);
        await close(s);
      }
    });

    it('refuses a missing or bad token with an error', async () => {
      assert.match(await refusedV2(server.urls.voxora, {}), /token/i);
      await refusedV2(server.urls.voxora, { query: { token: 'bad' }, transports: ['websocket'] });
    });

    describe('/department with the token in the query', () => {
      let keeper; let stranger; let dept;
      before(async () => {
        [keeper, stranger] = await Promise.all([user(server, 'keeper'), user(server, 'stranger')]);
        const res = await server.rest('POST', '/api/departments', { token: keeper.token, body: { name: 'Support' } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        dept = res.body;
      });
      const deptUrl = () => `${server.urls.voxora}/department`;
      const query = (u) => ({ departmentId: String(dept.id), token: u.token });

      /** Opens a support conversation in the department; `sockets` must hear of it. */
      async function heard(...sockets) {
        const visitor = await user(server, 'visitor');
        const res = await server.rest('POST', `/api/departments/${dept.id}/conversations`, {
          token: visitor.token, body: { title: 'Help', text: 'help please' },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        for (const s of sockets) {
          const nc = await waitFor(s, 'new_conversation', (x) => String(x.id) === String(res.body.id));
          assert.equal(nc.departmentId, String(dept.id));
        }
      }

      for (const mode of TRANSPORTS) {
        it(`admits an agent whose 2.x client sends departmentId and token in the query, over ${mode.name}`, async () => {
          const s = await v2(deptUrl(), mode, { query: query(keeper) });
          await heard(s);
        });
      }

      it('admits an agent whose 4.x client sends the token in the query, over polling only and over WebSocket', async () => {
        const polling = await connect(server, { url: deptUrl(), query: query(keeper), transports: ['polling'] });
        assert.equal(polling.io.engine.transport.name, 'polling');
        const ws = await connect(server, { url: deptUrl(), query: query(keeper), transports: ['websocket'] });
        await heard(polling, ws);
      });

      it('admits a 2.x client that shares its connection with the root namespace', async () => {
        // The query goes only into the CONNECT packet of `/department`: the
        // connection was opened by the root socket, with another query.
        const root = await connectV2(server.urls.voxora, { query: { token: keeper.token }, multiplex: true });
        const s = await connectV2(deptUrl(), { query: query(keeper), multiplex: true });
        assert.equal(s.io, root.io, 'one connection for both namespaces');
        await heard(s);
      });

      it('refuses a stranger, and a missing token, with an error', async () => {
        assert.match(await refusedV2(deptUrl(), { query: query(stranger) }), /not an agent/i);
        await refusedV2(deptUrl(), { query: { departmentId: String(dept.id) }, transports: ['websocket'] });
        await assert.rejects(
          connect(server, { url: deptUrl(), query: query(stranger), transports: ['websocket'] }),
          /not an agent/i,
        );
      });
    });
  });

  describe('a handshake without a token', () => {
    it('tells a 2.x client every place its dialect takes the token, ?token= included', async () => {
      const places = [/missing token: send it as/, /`Authorization: Bearer <jwt>`/, /`auth\.token`/, /`\?token=<jwt>`/, /Socket\.IO v2/];
      for (const [what, url] of [
        ['dozaar', `${server.urls.dozaar}/chat`],
        ['jobspare', server.urls.jobspare],
        ['voxora /', server.urls.voxora],
        ['vchat /', server.urls.vchat],
        ['vchat /message', `${server.urls.vchat}/message`],
      ]) {
        for (const transports of [['polling'], ['websocket']]) {
          const message = await refusedV2(url, { transports });
          for (const place of places) assert.match(message, place, `${what} over ${transports}: ${message}`);
        }
      }
      // Syarah connects on `userId` alone: without either, it names both.
      const message = await refusedV2(server.urls.syarah, { transports: ['websocket'] });
      for (const place of [/the userId query parameter is required, or a token/, /`auth\.accessToken`/, /`\?accessToken=<jwt>`/, /`\?token=`/, /Socket\.IO v2/]) {
        assert.match(message, place, `syarah: ${message}`);
      }
      // And a token in the query is taken, as the message says.
      const alice = await user(server, 'alice');
      const s = await connectV2(`${server.urls.dozaar}/chat`, { query: { token: alice.token }, transports: ['websocket'] });
      assert.ok(s.connected);
    });
  });

  describe('engine settings', () => {
    it('tells a v2 client the configured ping interval and timeout, and keeps an idle connection alive', async () => {
      const alice = await user(server, 'alice');
      const sockets = await Promise.all([['polling'], ['websocket']].map((transports) =>
        connectV2(`${server.urls.dozaar}/chat`, { query: { token: alice.token }, transports })));
      const dropped = [];
      for (const s of sockets) {
        assert.equal(s.io.engine.pingInterval, PING_INTERVAL_SECS * 1000);
        assert.equal(s.io.engine.pingTimeout, PING_TIMEOUT_SECS * 1000);
        s.once('disconnect', (reason) => dropped.push(`${transportOf(s)}: ${reason}`));
      }
      // A v2 client pings and the server answers (the other way round from
      // v3/v4): idle past interval + timeout, the connections stay.
      await sleep((PING_INTERVAL_SECS + PING_TIMEOUT_SECS) * 1000 + 1500);
      assert.deepEqual(dropped, []);
      for (const s of sockets) assert.ok(s.connected, 'still connected');
    });

    it('closes a v2 connection that sends a packet over the payload limit', async () => {
      const alice = await user(server, 'alice');
      const conv = await conversation(server, alice, [await user(server, 'bob')]);
      for (const transports of [['polling'], ['websocket']]) {
        const s = await connectV2(`${server.urls.dozaar}/chat`, { query: { token: alice.token }, transports });
        const gone = new Promise((r) => s.once('disconnect', r));
        s.emit('send:message', { conversationId: conv.uuid, message: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) });
        await gone;
        assert.equal(s.connected, false);
      }
      // Nothing was stored, and a normal connection still works.
      const s = await connectV2(`${server.urls.dozaar}/chat`, { query: { token: alice.token } });
      s.emit('join:conversation', { conversationId: conv.uuid });
      await waitFor(s, 'joined:conversation');
      await sleep(50);
      assert.deepEqual(await history(server, alice, conv.uuid), []);
    });
  });
});
