// Black-box tests of the change feed, `GET /api/sync`, with fetch and the
// official socket.io-client on the Dozaar listener, against the real
// `confab` binary (on SQLite, or on PostgreSQL with CONFAB_E2E_DATABASE_URL).
//
// Bob takes a cursor and goes offline; Alice sends 250 messages, edits one,
// deletes one; Bob's phone gets one more and reads it; Carol is added to a
// group and removed. Bob's laptop catches up in pages of 100, across a
// server restart, and gets every change once, in order. Carol sees nothing
// of Alice and Bob's conversation.
//
// Run: `node --test e2e/sync.test.mjs` after `cargo build --bin confab`.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, connectUser, close, closeAll, waitFor, emitAck, sleep,
} from './lib/server.mjs';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const OFFLINE_MESSAGES = 250;

async function ok(socket, event, payload) {
  const ack = await emitAck(socket, event, payload, 10_000);
  assert.equal(ack.success, true, `${event} ${JSON.stringify(payload)}: ${JSON.stringify(ack)}`);
  return ack;
}

/** One page of `u`'s feed; asserts a 200. */
async function sync(srv, u, query = '') {
  const res = await srv.rest('GET', `/api/sync${query}`, { token: u.token });
  assert.equal(res.status, 200, `GET /api/sync${query}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Every change of `u`'s feed after `since`, in pages of `limit`. */
async function syncAll(srv, u, since, limit = 500) {
  const changes = [];
  let next = since;
  for (;;) {
    const page = await sync(srv, u, `?since=${next}&limit=${limit}`);
    changes.push(...page.changes);
    next = page.next;
    if (!page.hasMore) return { changes, next };
  }
}

/** Waits until `check(conversation)` holds for `u`'s view of `conv`. */
async function until(srv, u, conv, check, what) {
  for (let i = 0; i < 100; i++) {
    const res = await srv.rest('GET', `/api/conversations/${conv.id}`, { token: u.token });
    if (res.status === 200 && check(res.body)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Stops the server's process and starts another on the same data. */
async function restart(srv) {
  const exited = new Promise((r) => srv.child.once('exit', r));
  srv.child.kill('SIGTERM');
  await exited;
  return startServer({ env: { ...ENV, CONFAB_DATA_DIR: srv.dataDir } });
}

const ENV = { CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000' };

function describeChange(c) {
  switch (c.type) {
    case 'message.created':
    case 'message.edited':
    case 'message.deleted':
      return `${c.type} ${c.message.uuid}`;
    case 'read':
    case 'delivered':
      return `${c.type} ${c.userId}@${c.seq}`;
    case 'member.added':
      return `${c.type} ${c.userId}:${c.role}`;
    case 'member.removed':
      return `${c.type} ${c.userId}`;
    default:
      return c.type;
  }
}

describe('GET /api/sync', () => {
  let srv;
  const servers = [];

  before(async () => {
    srv = await startServer({ env: ENV });
    servers.push(srv);
  });

  after(async () => {
    await closeAll();
    for (const s of servers.reverse()) await s.stop();
  });

  it('refuses a malformed cursor or limit with 400 and a missing token with 401', async () => {
    const bob = await user(srv, 'bob');
    for (const q of ['?since=abc', '?since=-1', '?since=1.5', '?since=', '?since=99999999999999999999',
      '?limit=0', '?limit=501', '?limit=x', '?since=0&limit=-3']) {
      const res = await srv.rest('GET', `/api/sync${q}`, { token: bob.token });
      assert.equal(res.status, 400, `${q}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'INVALID_PAYLOAD', q);
      assert.equal(typeof res.body.error.message, 'string');
    }
    assert.equal((await sync(srv, bob, '?since=0&limit=500')).hasMore, false, 'the largest limit is fine');
    const anonymous = await srv.rest('GET', '/api/sync?since=0');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 'UNAUTHENTICATED');
    const forged = await srv.rest('GET', '/api/sync?since=0', { token: 'a.b.c' });
    assert.equal(forged.status, 401);
  });

  it('catches an offline client up in pages, across a restart, with every change once and in order', async () => {
    const [alice, bob, carol] = await Promise.all([user(srv, 'alice'), user(srv, 'bob'), user(srv, 'carol')]);
    const direct = await conversation(srv, alice, [bob]);
    const sa = await connectUser(srv, alice);
    const laptop = await connectUser(srv, bob, { via: 'auth' });
    await ok(sa, 'join:conversation', { conversationId: direct.uuid });
    await ok(laptop, 'join:conversation', { conversationId: direct.uuid });
    const hello = (await ok(sa, 'send:message', { conversationId: direct.uuid, message: 'hello' })).message;
    await waitFor(laptop, 'new:message', (m) => m.id === hello.id);
    await ok(laptop, 'mark:read', { messageId: hello.id });

    // Bob's laptop takes a cursor and goes offline.
    const start = await sync(srv, bob);
    assert.deepEqual(start.changes, []);
    assert.equal(start.hasMore, false);
    assert.equal(typeof start.next, 'string');
    await close(laptop);

    const sent = [];
    for (let i = 0; i < OFFLINE_MESSAGES; i++) {
      const ack = await ok(sa, 'send:message', { conversationId: direct.uuid, message: `offline ${i}` });
      sent.push(ack.message);
    }
    const edited = sent[10];
    const deleted = sent[20];
    await ok(sa, 'edit:message', { messageId: edited.id, message: 'offline 10, edited' });
    await ok(sa, 'delete:message', { messageId: deleted.id });

    // Bob's phone gets one more message and reads it.
    const phone = await connectUser(srv, bob);
    await ok(phone, 'join:conversation', { conversationId: direct.uuid });
    const last = (await ok(sa, 'send:message', { conversationId: direct.uuid, message: 'seen on the phone' })).message;
    await waitFor(phone, 'new:message', (m) => m.id === last.id);
    const lastSeq = hello.seq + OFFLINE_MESSAGES + 1;
    await until(srv, bob, direct, (c) => c.members.find((m) => m.userId === bob.id).lastDeliveredSeq === lastSeq,
      'the delivery to the phone');
    await ok(phone, 'mark:read', { messageId: last.id });
    await until(srv, bob, direct, (c) => c.members.find((m) => m.userId === bob.id).lastReadSeq === lastSeq,
      'the read on the phone');
    await close(phone);

    // Carol joins a group of Alice's and Bob's, and is removed.
    const grp = await conversation(srv, alice, [bob], { kind: 'group', title: 'crew' });
    let res = await srv.rest('POST', `/api/conversations/${grp.id}/members`, { token: alice.token, body: { userId: carol.id } });
    assert.equal(res.status, 200);
    res = await srv.rest('DELETE', `/api/conversations/${grp.id}/members/${carol.id}`, { token: alice.token });
    assert.equal(res.status, 204);

    // Bob's laptop catches up: 100 a page, the server restarting after the first.
    const first = await sync(srv, bob, `?since=${start.next}&limit=100`);
    assert.equal(first.changes.length, 100);
    assert.equal(first.hasMore, true);
    assert.equal(first.next, first.changes.at(-1).cursor);
    const again = await restart(srv);
    servers.push(again);
    const second = await sync(again, bob, `?since=${first.next}&limit=100`);
    assert.equal(second.changes.length, 100);
    assert.equal(second.hasMore, true);
    const third = await sync(again, bob, `?since=${second.next}&limit=100`);
    assert.equal(third.hasMore, false, 'three calls were enough');
    const changes = [...first.changes, ...second.changes, ...third.changes];

    const cursors = changes.map((c) => c.cursor);
    assert.equal(new Set(cursors).size, cursors.length, 'no change twice');
    for (const c of changes) {
      assert.equal(typeof c.cursor, 'string');
      assert.match(c.at, ISO);
    }
    assert.equal(third.next, cursors.at(-1));

    const uuid = (m) => m.id;
    const inDirect = changes.filter((c) => c.conversationId === direct.uuid).map(describeChange);
    const phoneChanges = inDirect.slice(-2).sort();
    assert.deepEqual(inDirect.slice(0, -2), [
      ...sent.map((m) => `message.created ${uuid(m)}`),
      `message.edited ${uuid(edited)}`,
      `message.deleted ${uuid(deleted)}`,
      `message.created ${uuid(last)}`,
    ]);
    assert.deepEqual(phoneChanges, [`delivered ${bob.id}@${lastSeq}`, `read ${bob.id}@${lastSeq}`]);
    const inGroup = changes.filter((c) => c.conversationId === grp.uuid).map(describeChange);
    assert.deepEqual(inGroup, [
      'conversation.created',
      `member.added ${alice.id}:owner`,
      `member.added ${bob.id}:member`,
      `member.added ${carol.id}:member`,
      `member.removed ${carol.id}`,
    ]);
    assert.equal(inDirect.length + inGroup.length, changes.length, 'nothing of anyone else');

    // Messages are shown as they are now, in the shape of the history.
    const byUuid = (id) => changes.filter((c) => c.message && c.message.uuid === id);
    const [createdEdited, editedChange] = byUuid(edited.id);
    assert.equal(createdEdited.message.text, 'offline 10, edited');
    assert.equal(editedChange.message.text, 'offline 10, edited');
    assert.equal(typeof editedChange.message.editedAt, 'number');
    for (const c of byUuid(deleted.id)) {
      assert.equal(c.message.text, null, `${c.type} shows the message deleted`);
      assert.equal(typeof c.message.deletedAt, 'number');
    }
    const one = byUuid(sent[0].id)[0].message;
    const hist = await again.rest('GET', `/api/conversations/${direct.id}/messages?after=${hello.id}&limit=1`, { token: bob.token });
    assert.deepEqual(one, hist.body.messages[0], 'the same message DTO as the history');
    const created = changes.find((c) => c.type === 'conversation.created');
    assert.equal(created.conversation.uuid, grp.uuid);
    assert.equal(created.conversation.title, 'crew');
    assert.deepEqual(created.conversation.members.map((m) => m.userId).sort(), [alice.id, bob.id].sort());

    // Nothing more, and the cursor stays where it is.
    const after = await sync(again, bob, `?since=${third.next}`);
    assert.deepEqual(after.changes, []);
    assert.equal(after.next, third.next);
    assert.equal(after.hasMore, false);
    // A new client starts at the newest change (other users' changes may
    // have come after Bob's on a shared database): nothing of Bob's follows.
    const fresh = await sync(again, bob);
    assert.ok(BigInt(fresh.next) >= BigInt(third.next), `${fresh.next} < ${third.next}`);
    assert.deepEqual((await sync(again, bob, `?since=${fresh.next}`)).changes, []);

    // Carol sees the group while she was in it, and nothing of Alice and Bob's conversation.
    const { changes: carols } = await syncAll(again, carol, '0');
    assert.ok(carols.length > 0);
    assert.ok(carols.every((c) => c.conversationId === grp.uuid), JSON.stringify(carols.map((c) => c.conversationId)));
    assert.deepEqual(carols.map(describeChange), [
      'conversation.created',
      `member.added ${alice.id}:owner`,
      `member.added ${bob.id}:member`,
      `member.added ${carol.id}:member`,
      `member.removed ${carol.id}`,
    ]);
    const text = JSON.stringify(carols);
    assert.ok(!text.includes(direct.uuid) && !text.includes('offline'), 'no data of the direct conversation');
  });
});
