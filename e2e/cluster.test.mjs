// Black-box tests of confab in cluster mode: two nodes (`confab serve`) on
// one PostgreSQL schema, one JWT secret and one private Redis
// (CONFAB_REDIS_URL), tested with the official socket.io-client. A client of
// any dialect on one node must see what a client on the other node does, as
// if there were one server: messages, presence, typing, read receipts and
// rate limits; a node that dies takes its users offline after the presence
// TTL; Redis going away degrades delivery to each node's own sockets and
// loses nothing stored.
//
// Needs redis-server (7+), psql and PostgreSQL (CONFAB_TEST_DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/test); see e2e/lib/cluster.mjs.
// Run: `node --test e2e/cluster.test.mjs` after `cargo build --bin confab`.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, history, connect, connectUser, close, closeAll,
  waitFor, received, expectNone, emitAck, sleep, mark, uid,
} from './lib/server.mjs';
import { startCluster, readiness, waitReadiness } from './lib/cluster.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Seconds without a heartbeat after which a node is dead (CONFAB_PRESENCE_TTL_SECS). */
const PRESENCE_TTL_SECS = 3;
/** How long a killed node's users may take to go offline: the TTL plus heartbeat slack. */
const DEAD_NODE_MS = 8000;
/** How long an event may take to cross from one node to the other. */
const CROSS_MS = 5000;

// ---------------------------------------------------------------------------
// Dialect clients and requests

async function ok(socket, event, payload, timeoutMs) {
  const ack = await emitAck(socket, event, payload, timeoutMs);
  assert.equal(ack?.success, true, `${event} ${JSON.stringify(payload).slice(0, 200)}: ${JSON.stringify(ack)}`);
  return ack;
}

/** Sends a Dozaar message; resolves the `message` of the ack. */
async function send(socket, conv, text, timeoutMs) {
  const ack = await ok(socket, 'send:message', { conversationId: conv.uuid, message: text }, timeoutMs);
  assert.equal(ack.message.message, text);
  return ack.message;
}

async function joinAll(conv, ...sockets) {
  for (const s of sockets) {
    const ack = await ok(s, 'join:conversation', { conversationId: conv.uuid });
    assert.equal(ack.conversationId, conv.uuid);
  }
}

/** A JobSpare client (`auth.token`); resolves after `authenticated`. */
async function jobspare(node, u) {
  const s = await connect(node, { url: node.urls.jobspare, auth: { token: u.token } });
  assert.deepEqual(await waitFor(s, 'authenticated'), { userId: u.id, success: true });
  return s;
}

async function jobspareJoin(s, conversationId) {
  s.emit('join_conversation', { conversationId });
  return waitFor(s, 'joined_conversation');
}

/** A Syarah client: `query.userId` and the token in the auth object. */
function syarah(node, u) {
  return connect(node, { url: node.urls.syarah, query: { userId: u.id }, auth: { accessToken: u.token } });
}

/** The caller's conversations (REST) on `node`. */
async function conversations(node, u) {
  const res = await node.rest('GET', '/api/conversations', { token: u.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Array.isArray(res.body) ? res.body : res.body.conversations;
}

/** `unreadCount` of `conv` for `u`, as `node`'s REST API says. */
async function unread(node, u, conv) {
  const mine = (await conversations(node, u)).find((c) => c.id === conv.id);
  assert.ok(mine, `${u.id} sees conversation ${conv.id} on ${node.url}`);
  return mine.unreadCount;
}

/** Dozaar `get:online_status` of one user as `socket` sees it. */
async function statusOf(socket, userId) {
  const ack = await ok(socket, 'get:online_status', { userIds: [userId] });
  assert.equal(ack.statuses.length, 1);
  assert.equal(ack.statuses[0].userId, userId);
  return ack.statuses[0];
}

/** Fails if `socket` received `event` for message `id` more than once. */
function assertOnce(socket, event, id, idOf = (m) => m.id) {
  const n = received(socket, event, (m) => idOf(m) === id).length;
  assert.equal(n, 1, `${event} ${id} received ${n} times by one socket`);
}

const isUser = (id) => (p) => p?.userId === id;

// ---------------------------------------------------------------------------

let cluster;
before(async () => {
  cluster = await startCluster({ nodes: 0, presenceTtlSecs: PRESENCE_TTL_SECS });
});
after(async () => {
  await closeAll();
  await cluster?.stop();
});

describe('a cluster of two nodes', () => {
  /** Node A and node B. */
  let A;
  let B;
  before(async () => {
    // One after the other: the first one runs the migrations on the schema.
    A = await cluster.startNode();
    B = await cluster.startNode();
    // A node may still be connecting to Redis when it starts listening.
    for (const node of [A, B]) {
      await waitReadiness(node, (b) => b.status === 'ready', { timeoutMs: 10_000, what: 'a new node ready' });
    }
  });
  after(async () => {
    await closeAll();
    for (const n of [A, B]) if (n) await cluster.stopNode(n);
  });
  afterEach(async () => {
    await closeAll();
  });

  it('reports ready with redis ok on both nodes, and a single node reports redis off', async () => {
    for (const node of [A, B]) {
      const r = await readiness(node);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'ready', JSON.stringify(r.body));
      assert.equal(r.body.store, 'ok', JSON.stringify(r.body));
      assert.equal(r.body.redis, 'ok', JSON.stringify(r.body));
    }
    const single = await startServer();
    try {
      const r = await readiness(single);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'ready');
      assert.equal(r.body.redis, 'off', JSON.stringify(r.body));
    } finally {
      await single.stop();
    }
  });

  it('delivers a message sent by a Dozaar client on node A to JobSpare and Syarah clients and the sender\'s other socket on node B', async () => {
    const [alice, bob, carol] = await Promise.all([user(A, 'alice'), user(A, 'bob'), user(A, 'carol')]);
    const conv = await conversation(A, alice, [bob, carol], { kind: 'group', title: 'across nodes' });
    const aA = await connectUser(A, alice);
    const aB = await connectUser(B, alice, { via: 'auth' });
    await joinAll(conv, aA, aB);
    const bJ = await jobspare(B, bob);
    const joined = await jobspareJoin(bJ, conv.uuid);
    assert.equal(joined.conversationId, conv.uuid, 'a group is named by its UUID');
    assert.equal(joined.id, conv.id);
    const cS = await syarah(B, carol);
    const room = await emitAck(cS, 'joinRoom', { chatHeaderId: conv.id });
    assert.equal(room.joined, true, JSON.stringify(room));
    assert.equal(room.chatHeaderId, conv.id);

    const text = `Hello from node A ${uid('m')}`;
    const toOwn = waitFor(aA, 'new:message', (m) => m.message === text);
    const toOther = waitFor(aB, 'new:message', (m) => m.message === text, CROSS_MS);
    const toBob = waitFor(bJ, 'new_message', (m) => m.content?.text === text, CROSS_MS);
    const toCarol = waitFor(cS, 'message', (m) => m.chatMessage?.message === text, CROSS_MS);
    const m = await send(aA, conv, text);
    assert.match(m.id, UUID);
    assert.equal(m.conversationId, conv.uuid);
    assert.equal(m.senderId, alice.id);
    assert.equal(m.seq, 1);

    const own = await toOwn;
    assert.equal(own.id, m.id);
    assert.equal(own.seq, m.seq);
    assert.equal(own.createdAt, m.createdAt);
    assert.equal(own.sender.id, alice.id);
    assert.equal(own.sender.displayName, alice.name);
    assert.deepEqual(await toOther, own, 'node B renders the same new:message as node A');

    const j = await toBob;
    assert.equal(j._id, m.id);
    assert.equal(typeof j.id, 'number');
    assert.equal(j.conversationId, conv.uuid);
    assert.equal(j.senderId._id, alice.id);
    assert.equal(j.senderId.name, alice.name);
    assert.equal(j.receiverId, null, 'a group of three has no single receiver');
    assert.equal(j.messageType, 'text');
    assert.equal(j.content.text, text);
    assert.equal(j.status, 'sent');
    assert.equal(j.seq, m.seq);
    assert.match(j.timestamp, ISO);
    assert.equal(Date.parse(j.timestamp), Date.parse(m.createdAt));

    const s = await toCarol;
    assert.equal(s.chatHeaderId, conv.id);
    assert.equal(s.chatMessage.id, j.id);
    assert.equal(s.chatMessage.uuid, m.id);
    assert.equal(s.chatMessage.chatHeaderId, conv.id);
    assert.equal(s.chatMessage.userId, alice.id);
    assert.equal(s.chatMessage.user.id, alice.id);
    assert.equal(s.chatMessage.messageType, 0);
    assert.equal(s.chatMessage.seq, m.seq);
    assert.match(s.chatMessage.creationTime, ISO);

    // And back: Bob's JobSpare send on node B reaches Alice on node A.
    const reply = `Reply from node B ${uid('m')}`;
    const back = waitFor(aA, 'new:message', (x) => x.message === reply, CROSS_MS);
    const ack = await emitAck(bJ, 'send_message', { conversationId: conv.uuid, messageType: 'text', content: { text: reply } });
    assert.equal(ack.error, undefined, JSON.stringify(ack));
    assert.equal(ack.content.text, reply);
    const r = await back;
    assert.equal(r.id, ack._id);
    assert.equal(r.senderId, bob.id);
    assert.equal(r.sender.id, bob.id);
    assert.equal(r.conversationId, conv.uuid);
    assert.equal(r.seq, m.seq + 1);

    // Each socket heard each message once (not once per node or per path).
    await sleep(300);
    for (const sock of [aA, aB]) {
      assertOnce(sock, 'new:message', m.id);
      assertOnce(sock, 'new:message', r.id);
    }
    assertOnce(bJ, 'new_message', m.id, (x) => x._id);
    assertOnce(cS, 'message', m.id, (x) => x.chatMessage.uuid);

    // Both nodes' REST history has both messages, in seq order.
    for (const [node, who] of [[A, carol], [B, alice]]) {
      const stored = await history(node, who, conv.id);
      assert.deepEqual(stored.map((x) => [x.uuid, x.text, x.senderId, x.seq]),
        [[m.id, text, alice.id, 1], [r.id, reply, bob.id, 2]]);
    }
  });

  it('keeps a user with sockets on both nodes online on both until the second socket closes', async () => {
    const [alice, bob, carol] = await Promise.all([user(A, 'alice'), user(A, 'bob'), user(A, 'carol')]);
    await conversation(A, bob, [alice, carol], { kind: 'group', title: 'presence' });
    // Bob watches from node A, Carol from node B.
    const sb = await connectUser(A, bob);
    const sc = await connectUser(B, carol);
    const isAlice = isUser(alice.id);

    const onlineAtBob = waitFor(sb, 'user:online', isAlice);
    const onlineAtCarol = waitFor(sc, 'user:online', isAlice, CROSS_MS);
    const aA = await connectUser(A, alice);
    const o1 = await onlineAtBob;
    const o2 = await onlineAtCarol;
    for (const o of [o1, o2]) {
      assert.equal(o.userId, alice.id);
      assert.equal(typeof o.timestamp, 'number');
      assert.ok(Math.abs(o.timestamp - Date.now()) < 60_000, 'timestamp is milliseconds, now');
    }

    const aB = await connectUser(B, alice, { via: 'auth' });
    await sleep(500);
    assert.equal(received(sb, 'user:online', isAlice).length, 1, 'a second socket on another node is not a new user:online (node A)');
    assert.equal(received(sc, 'user:online', isAlice).length, 1, 'a second socket on another node is not a new user:online (node B)');
    assert.equal((await statusOf(sb, alice.id)).isOnline, true);
    assert.equal((await statusOf(sc, alice.id)).isOnline, true);

    // Her socket on node A closes: she is still online through node B.
    const since = mark(sb, sc);
    await close(aA);
    await expectNone([sb, sc], 'user:offline', { predicate: isAlice, since, ms: 1000 });
    for (const s of [sb, sc]) {
      const st = await statusOf(s, alice.id);
      assert.equal(st.isOnline, true, `still online (asked on ${s === sb ? 'node A' : 'node B'})`);
    }

    // Her last socket closes: both contacts hear user:offline, once.
    const offAtBob = waitFor(sb, 'user:offline', isAlice, CROSS_MS);
    const offAtCarol = waitFor(sc, 'user:offline', isAlice, CROSS_MS);
    await close(aB);
    for (const off of [await offAtBob, await offAtCarol]) {
      assert.equal(off.userId, alice.id);
      assert.equal(typeof off.timestamp, 'number');
      assert.ok(Math.abs(off.timestamp - Date.now()) < 60_000);
    }
    await sleep(300);
    assert.equal(received(sb, 'user:offline', isAlice).length, 1);
    assert.equal(received(sc, 'user:offline', isAlice).length, 1);
    const [atA, atB] = [await statusOf(sb, alice.id), await statusOf(sc, alice.id)];
    for (const st of [atA, atB]) {
      assert.equal(st.isOnline, false);
      assert.equal(typeof st.lastSeen, 'number', 'lastSeen is known after the last socket closed');
      assert.ok(Math.abs(st.lastSeen - Date.now()) < 60_000);
    }
    assert.equal(atA.lastSeen, atB.lastSeen, 'both nodes agree on lastSeen');
  });

  it('relays typing started and stopped on node A to a member on node B', async () => {
    const [alice, bob] = await Promise.all([user(A, 'alice'), user(A, 'bob')]);
    const conv = await conversation(A, alice, [bob]);
    const aA = await connectUser(A, alice);
    const aB = await connectUser(B, alice);
    const bB = await connectUser(B, bob);
    await joinAll(conv, aA, aB, bB);
    const bJ = await jobspare(B, bob);
    // A JobSpare socket is told of a conversation under the name it used.
    assert.equal((await jobspareJoin(bJ, conv.uuid)).conversationId, conv.uuid);
    const since = mark(aA, aB);

    const typing = waitFor(bB, 'user:typing', isUser(alice.id), CROSS_MS);
    const typingJ = waitFor(bJ, 'user_typing', (x) => x.userId === alice.id && x.isTyping === true, CROSS_MS);
    const started = await ok(aA, 'typing:start', { conversationId: conv.uuid });
    assert.equal(started.conversationId, conv.uuid);
    const t = await typing;
    assert.equal(t.conversationId, conv.uuid);
    assert.equal(t.userId, alice.id);
    assert.equal(typeof t.username, 'string');
    assert.ok(t.username.length > 0);
    assert.deepEqual(await typingJ, { conversationId: conv.uuid, userId: alice.id, isTyping: true });

    const stopped = waitFor(bB, 'user:stopped_typing', isUser(alice.id), CROSS_MS);
    const stoppedJ = waitFor(bJ, 'user_typing', (x) => x.userId === alice.id && x.isTyping === false, CROSS_MS);
    await ok(aA, 'typing:stop', { conversationId: conv.uuid });
    assert.deepEqual(await stopped, { conversationId: conv.uuid, userId: alice.id, username: t.username });
    assert.deepEqual(await stoppedJ, { conversationId: conv.uuid, userId: alice.id, isTyping: false });

    // Not to the typist's own sockets, on either node; once to the member.
    await expectNone([aA, aB], ['user:typing', 'user:stopped_typing'], { since, ms: 300 });
    assert.equal(received(bB, 'user:typing', isUser(alice.id)).length, 1);
    assert.equal(received(bB, 'user:stopped_typing', isUser(alice.id)).length, 1);
  });

  it('tells the sender on node A message:read when the reader marks read on node B, and both nodes agree on unread counts', async () => {
    const [alice, bob] = await Promise.all([user(A, 'alice'), user(A, 'bob')]);
    const conv = await conversation(A, alice, [bob]);
    const aA = await connectUser(A, alice);
    const bB = await connectUser(B, bob);
    const bA = await connectUser(A, bob, { via: 'auth' });
    await joinAll(conv, aA, bB, bA);
    const m1 = await send(aA, conv, 'first, sent on node A');
    const m2 = await send(aA, conv, 'second, sent on node A');
    await waitFor(bB, 'new:message', (x) => x.id === m2.id, CROSS_MS);

    for (const node of [A, B]) {
      assert.equal(await unread(node, bob, conv), 2, `bob's unread count on ${node === A ? 'node A' : 'node B'}`);
      assert.equal(await unread(node, alice, conv), 0, 'the sender has nothing unread');
    }
    const since = mark(bA, bB);

    const read1 = waitFor(aA, 'message:read', (r) => r.messageId === m1.id, CROSS_MS);
    const ack1 = await ok(bB, 'mark:read', { messageId: m1.id });
    assert.equal(ack1.messageId, m1.id);
    assert.equal(ack1.conversationId, conv.uuid);
    assert.equal(ack1.readUpToSeq, m1.seq);
    const r1 = await read1;
    assert.equal(r1.conversationId, conv.uuid);
    assert.equal(r1.readBy, bob.id);
    assert.equal(r1.readUpToSeq, m1.seq);
    assert.equal(typeof r1.timestamp, 'number');
    assert.ok(Math.abs(r1.timestamp - Date.now()) < 60_000);
    for (const node of [A, B]) assert.equal(await unread(node, bob, conv), 1);

    const read2 = waitFor(aA, 'message:read', (r) => r.messageId === m2.id, CROSS_MS);
    await ok(bB, 'mark:read', { messageId: m2.id });
    const r2 = await read2;
    assert.equal(r2.readBy, bob.id);
    assert.equal(r2.readUpToSeq, m2.seq);
    for (const node of [A, B]) {
      assert.equal(await unread(node, bob, conv), 0);
      assert.equal(await unread(node, alice, conv), 0);
    }

    // Not to the reader's own sockets, on either node; once to the sender.
    await expectNone([bA, bB], 'message:read', { since, ms: 300 });
    assertOnce(aA, 'message:read', m1.id, (x) => x.messageId);
    assertOnce(aA, 'message:read', m2.id, (x) => x.messageId);
  });

  it('takes the users of a killed node offline on the other node within the presence TTL', async () => {
    // A third node, to be killed (SIGKILL: no disconnect handlers run on it).
    const C = await cluster.startNode();
    try {
      await waitReadiness(C, (b) => b.status === 'ready', { timeoutMs: 10_000, what: 'node C ready' });
      const [bob, dave, erin] = await Promise.all([user(A, 'bob'), user(A, 'dave'), user(A, 'erin')]);
      await conversation(A, bob, [dave, erin], { kind: 'group', title: 'doomed node' });
      const sb = await connectUser(A, bob);
      const sbJ = await jobspare(A, bob);
      // Erin has a socket on node A as well as on C; Dave only on C.
      const erinOnline = waitFor(sb, 'user:online', isUser(erin.id));
      await connectUser(A, erin);
      await erinOnline;
      await connectUser(C, erin, { via: 'auth' });
      const daveOnline = waitFor(sb, 'user:online', isUser(dave.id), CROSS_MS);
      const daveOnlineJ = waitFor(sbJ, 'user_online_status', (x) => x.userId === dave.id && x.isOnline === true, CROSS_MS);
      await connectUser(C, dave);
      await daveOnline;
      assert.equal((await daveOnlineJ).lastSeen, null);
      assert.equal((await statusOf(sb, dave.id)).isOnline, true);
      await sleep(300);

      const since = mark(sb, sbJ);
      const offline = waitFor(sb, 'user:offline', isUser(dave.id), DEAD_NODE_MS);
      const offlineJ = waitFor(sbJ, 'user_online_status', (x) => x.userId === dave.id && x.isOnline === false, DEAD_NODE_MS);
      const killedAt = Date.now();
      const exited = new Promise((r) => C.child.once('exit', r));
      C.child.kill('SIGKILL');
      await exited;

      const off = await offline;
      const took = Date.now() - killedAt;
      assert.equal(off.userId, dave.id);
      assert.equal(typeof off.timestamp, 'number');
      assert.ok(took <= DEAD_NODE_MS, `offline after ${took} ms`);
      const offJ = await offlineJ;
      assert.equal(offJ.userId, dave.id);
      assert.match(offJ.lastSeen, ISO);

      const daveNow = await statusOf(sb, dave.id);
      assert.equal(daveNow.isOnline, false);
      assert.equal(typeof daveNow.lastSeen, 'number', 'a user of a dead node has a lastSeen');

      // Erin's socket on node A keeps her online: no user:offline for her.
      await sleep(500);
      assert.equal((await statusOf(sb, erin.id)).isOnline, true);
      await expectNone([sb], 'user:offline', { predicate: isUser(erin.id), since, ms: 0 });
      await expectNone([sbJ], 'user_online_status', { predicate: (x) => x.userId === erin.id && x.isOnline === false, since, ms: 0 });
      assert.equal(received(sb, 'user:offline', isUser(dave.id)).length, 1, 'user:offline once');
    } finally {
      await closeAll();
      await cluster.stopNode(C);
    }
  });

  it('takes the users of a node stopped with SIGTERM offline at once, not after the presence TTL', async () => {
    const D = await cluster.startNode();
    try {
      await waitReadiness(D, (b) => b.status === 'ready', { timeoutMs: 10_000, what: 'node D ready' });
      const [bob, dave] = await Promise.all([user(A, 'bob'), user(A, 'dave')]);
      await conversation(A, bob, [dave]);
      const sb = await connectUser(A, bob);
      const daveOnline = waitFor(sb, 'user:online', isUser(dave.id), CROSS_MS);
      await connectUser(D, dave);
      await daveOnline;
      const offline = waitFor(sb, 'user:offline', isUser(dave.id), DEAD_NODE_MS);
      const stoppedAt = Date.now();
      const exited = new Promise((r) => D.child.once('exit', r));
      D.child.kill('SIGTERM');
      const off = await offline;
      const took = Date.now() - stoppedAt;
      assert.equal(off.userId, dave.id);
      assert.ok(took < PRESENCE_TTL_SECS * 1000, `offline after ${took} ms: the node left rather than being reaped`);
      await exited;
      const daveNow = await statusOf(sb, dave.id);
      assert.equal(daveNow.isOnline, false);
      assert.equal(typeof daveNow.lastSeen, 'number');
      assert.equal(received(sb, 'user:offline', isUser(dave.id)).length, 1, 'user:offline once');
    } finally {
      await closeAll();
      await cluster.stopNode(D);
    }
  });

  it('loses no stored message when Redis restarts, serves each node\'s own sockets meanwhile, and delivers across nodes again after', async () => {
    const [alice, bob] = await Promise.all([user(A, 'alice'), user(A, 'bob')]);
    const conv = await conversation(A, alice, [bob]);
    const aA = await connectUser(A, alice);
    const bA = await connectUser(A, bob);
    const aB = await connectUser(B, alice, { via: 'auth' });
    const bB = await connectUser(B, bob, { via: 'auth' });
    const sockets = [aA, bA, aB, bB];
    await joinAll(conv, ...sockets);
    /** Every message that got a successful ack, in the order sent. */
    const acked = [];
    const sendAndExpect = async (from, text, to, timeoutMs = CROSS_MS) => {
      const waits = to.map((s) => waitFor(s, 'new:message', (x) => x.message === text, timeoutMs));
      const m = await send(from, conv, text, 10_000);
      acked.push(m);
      for (const got of await Promise.all(waits)) {
        assert.equal(got.id, m.id);
        assert.equal(got.seq, m.seq);
        assert.equal(got.senderId, m.senderId);
      }
      return m;
    };

    // Before: across nodes both ways.
    await sendAndExpect(aA, 'before 1, via node A', [bB, aB, bA]);
    await sendAndExpect(bB, 'before 2, via node B', [aA, bA, aB]);

    // Redis goes away.
    await cluster.redis.kill('SIGKILL');
    for (const node of [A, B]) {
      const r = await waitReadiness(node, (b) => b.status === 'degraded', { timeoutMs: 10_000, what: 'degraded without Redis' });
      assert.equal(r.status, 200, 'a degraded node still answers 200');
      assert.equal(r.body.store, 'ok');
      assert.equal(typeof r.body.redis, 'string');
      assert.ok(r.body.redis.length > 0 && r.body.redis !== 'ok' && r.body.redis !== 'off', `redis says why: ${JSON.stringify(r.body)}`);
    }

    // Meanwhile each node keeps serving its own sockets, and stores every message.
    await sendAndExpect(aA, 'during 1, via node A', [bA]);
    await sendAndExpect(aA, 'during 2, via node A', [bA]);
    await sendAndExpect(bB, 'during 3, via node B', [aB]);

    // Redis comes back on the same port (empty: it saves nothing).
    await cluster.redis.restart();
    for (const node of [A, B]) {
      const r = await waitReadiness(node, (b, status) => status === 200 && b.status === 'ready' && b.redis === 'ok',
        { timeoutMs: 20_000, what: 'ready after Redis came back' });
      assert.equal(r.body.store, 'ok');
    }
    const readyAt = Date.now();

    // Across nodes again, both ways.
    await sendAndExpect(aA, 'after 1, via node A', [bB, aB, bA], 8000);
    await sendAndExpect(bB, 'after 2, via node B', [aA, bA, aB], 8000);

    for (const s of sockets) assert.ok(s.connected, 'no socket was dropped by the Redis restart');
    // No socket heard a message twice (no replay after the reconnect).
    for (const s of sockets) {
      for (const m of acked) {
        assert.ok(received(s, 'new:message', (x) => x.id === m.id).length <= 1, `${m.message} heard twice by one socket`);
      }
    }

    // Every acked message is stored exactly once, in seq order, as both nodes tell it.
    assert.deepEqual(acked.map((m) => m.seq), acked.map((_, i) => i + 1), 'seq 1, 2, 3, ... in the order acked');
    const expected = acked.map((m) => [m.id, m.message, m.senderId, m.seq]);
    for (const [node, who] of [[A, alice], [B, bob], [A, bob], [B, alice]]) {
      const stored = await history(node, who, conv.id);
      assert.deepEqual(stored.map((x) => [x.uuid, x.text, x.senderId, x.seq]), expected,
        `history on ${node === A ? 'node A' : 'node B'} as ${who.id}`);
    }

    // Presence survives the empty Redis: within a TTL of Redis coming back,
    // each node has told it again who is connected there. Bob keeps only his
    // socket on node B and Alice only hers on node A: neither goes offline,
    // and each node still sees the other's user online.
    await sleep(Math.max(0, readyAt + PRESENCE_TTL_SECS * 1000 + 500 - Date.now()));
    const sinceCloses = mark(aA, bB);
    await close(bA);
    await close(aB);
    await expectNone(aA, 'user:offline', { predicate: isUser(bob.id), since: sinceCloses, ms: 1000 });
    await expectNone(bB, 'user:offline', { predicate: isUser(alice.id), since: sinceCloses, ms: 0 });
    assert.equal((await statusOf(aA, bob.id)).isOnline, true, 'node A sees Bob (on node B) online');
    assert.equal((await statusOf(bB, alice.id)).isOnline, true, 'node B sees Alice (on node A) online');
  });
});

describe('a cluster with a limit of 5 messages a minute', () => {
  let L1;
  let L2;
  before(async () => {
    L1 = await cluster.startNode({ CONFAB_LIMITS_MESSAGES_PER_MINUTE: '5' });
    L2 = await cluster.startNode({ CONFAB_LIMITS_MESSAGES_PER_MINUTE: '5' });
    for (const node of [L1, L2]) {
      await waitReadiness(node, (b) => b.status === 'ready', { timeoutMs: 10_000, what: 'a new node ready' });
    }
  });
  after(async () => {
    await closeAll();
    for (const n of [L1, L2]) if (n) await cluster.stopNode(n);
  });

  it('counts a user\'s messages across nodes: 3 through one and 3 through the other get exactly one refusal', async () => {
    const [alice, bob] = await Promise.all([user(L1, 'alice'), user(L1, 'bob')]);
    const conv = await conversation(L1, alice, [bob]);
    const a1 = await connectUser(L1, alice);
    const a2 = await connectUser(L2, alice, { via: 'auth' });
    const b1 = await connectUser(L1, bob);
    await joinAll(conv, a1, a2, b1);

    const texts = ['one via 1', 'two via 1', 'three via 1', 'four via 2', 'five via 2', 'six via 2'];
    const acks = [];
    for (const [i, text] of texts.entries()) {
      const socket = i < 3 ? a1 : a2;
      acks.push(await emitAck(socket, 'send:message', { conversationId: conv.uuid, message: text }));
    }
    const refusedAcks = acks.filter((a) => !a.success);
    assert.equal(refusedAcks.length, 1, `exactly one refusal: ${JSON.stringify(acks.map((a) => a.success ? a.message.seq : a.code))}`);
    assert.deepEqual(acks.map((a) => a.success), [true, true, true, true, true, false], 'the sixth is the one refused');
    const refused = acks[5];
    assert.equal(refused.code, 'RATE_LIMITED');
    assert.equal(typeof refused.error, 'string');
    assert.ok(refused.error.length > 0);
    const e = await waitFor(a2, 'exception', (x) => x?.code === 'RATE_LIMITED');
    assert.equal(e.event, 'send:message');
    assert.equal(typeof e.error, 'string');
    assert.equal(received(a1, 'exception').length, 0, 'nothing refused on the first node');

    // Nothing stored, nothing delivered for the refused one.
    const accepted = acks.slice(0, 5).map((a) => [a.message.id, a.message.message, a.message.seq]);
    assert.deepEqual(accepted.map(([, , seq]) => seq), [1, 2, 3, 4, 5]);
    for (const [node, who] of [[L1, bob], [L2, alice]]) {
      const stored = await history(node, who, conv.id);
      assert.deepEqual(stored.map((x) => [x.uuid, x.text, x.seq]), accepted);
    }
    await waitFor(b1, 'new:message', (x) => x.message === 'five via 2', CROSS_MS);
    await expectNone(b1, 'new:message', { predicate: (x) => x.message === 'six via 2', since: new Map([[b1, 0]]), ms: 300 });

    // The limit is per user: Bob may still send, through either node.
    const fromBob = waitFor(a2, 'new:message', (x) => x.message === 'bob is not limited', CROSS_MS);
    await send(b1, conv, 'bob is not limited');
    assert.equal((await fromBob).senderId, bob.id);
  });
});
