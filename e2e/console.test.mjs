// Black-box tests of the operator console's API (`/api/admin/...`) against
// the real binary: the overview's figures as sockets connect and messages
// flow, the users' search, disable / enable / revoke-tokens with their effect
// on REST and on open sockets, who may call it; and the overview of a node of
// a two-node Redis cluster, which lists both nodes with their connections.
//
// The cluster part needs redis-server (7+), psql and PostgreSQL (see
// e2e/lib/cluster.mjs).
// Run: `node --test e2e/console.test.mjs` after `cargo build --bin confab`.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, user, uid, conversation, connect, connectUser, close, closeAll, waitFor, emitAck,
} from './lib/server.mjs';
import { startCluster, eventually } from './lib/cluster.mjs';

const SERVICE = randomBytes(24).toString('hex');

async function overview(node, token = SERVICE) {
  const res = await node.rest('GET', '/api/admin/overview', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Polls the overview until `check` holds of it; resolves it. */
function overviewWhen(node, what, check, timeoutMs = 5000) {
  return eventually(async () => {
    const o = await overview(node);
    return check(o) ? o : false;
  }, { what, timeoutMs });
}

async function ok(socket, event, payload) {
  const ack = await emitAck(socket, event, payload);
  assert.equal(ack?.success, true, `${event}: ${JSON.stringify(ack)}`);
  return ack;
}

describe('the admin API of one node', () => {
  let srv;
  let ops;

  before(async () => {
    const opsId = uid('ops');
    srv = await startServer({ env: { CONFAB_ADMIN_USERS: opsId, CONFAB_ADMIN_TOKEN: SERVICE } });
    ops = { id: opsId, token: await srv.token(opsId) };
  });

  after(async () => {
    await closeAll();
    await srv?.stop();
  });

  it('counts sockets by dialect and transport, messages stored and delivered, and refusals by code', async () => {
    const [alice, bob] = [await user(srv, 'alice'), await user(srv, 'bob')];
    const conv = await conversation(srv, alice, [bob]);
    const before = await overview(srv, ops.token);
    assert.equal(before.node.redis, false);
    assert.equal(before.node.database, process.env.CONFAB_E2E_DATABASE_URL ? 'postgres' : 'sqlite');
    assert.equal(before.nodes.length, 1);
    assert.equal(before.nodes[0].id, before.node.id);
    assert.equal(before.nodes[0].state, 'up');

    const a = await connectUser(srv, alice, { transports: ['websocket'] });
    const b = await connectUser(srv, bob, { transports: ['polling'] });
    for (const s of [a, b]) await ok(s, 'join:conversation', { conversationId: conv.uuid });
    for (const text of ['one', 'two']) {
      await ok(a, 'send:message', { conversationId: conv.uuid, message: text });
      await waitFor(b, 'new:message', (m) => m.message === text);
    }
    a.emit('send:message', { conversationId: conv.uuid });
    await waitFor(a, 'exception');

    const now = await overviewWhen(srv, 'the figures moved', (o) =>
      o.messages.stored === before.messages.stored + 2 &&
      o.deliveries.total === before.deliveries.total + 2 &&
      o.errors.total === before.errors.total + 1);
    assert.deepEqual(now.connections.byDialect.dozaar, { websocket: 1, polling: 1 });
    assert.equal(now.connections.total, 2);
    assert.equal(now.nodes[0].connections, 2);
    assert.equal(
      (now.errors.byCode.invalid_payload ?? 0) - (before.errors.byCode.invalid_payload ?? 0), 1,
      JSON.stringify(now.errors),
    );
    assert.ok(now.messages.perSecond > 0, JSON.stringify(now.messages));

    await close(a);
    await close(b);
    await overviewWhen(srv, 'the sockets closed', (o) => o.connections.total === 0);
  });

  it('finds users by prefix, pages them, and shows who is online', async () => {
    const tag = uid('find');
    const found = [];
    for (const n of ['a', 'b', 'c']) {
      const u = await user(srv, `${tag}-${n}`);
      // A user exists from their first authenticated call.
      assert.equal((await srv.rest('GET', '/api/me', { token: u.token })).status, 200);
      found.push(u);
    }
    const s = await connectUser(srv, found[1]);
    const page1 = await srv.rest('GET', `/api/admin/users?query=${tag}&limit=2`, { token: SERVICE });
    assert.equal(page1.status, 200, JSON.stringify(page1.body));
    assert.deepEqual(page1.body.users.map((u) => u.id), found.slice(0, 2).map((u) => u.id).sort());
    assert.equal(page1.body.next, page1.body.users[1].id);
    assert.equal(page1.body.users.find((u) => u.id === found[1].id).online, true);
    const page2 = await srv.rest('GET', `/api/admin/users?query=${tag}&limit=2&after=${page1.body.next}`, { token: SERVICE });
    assert.deepEqual(page2.body.users.map((u) => u.id), [found[2].id]);
    assert.equal(page2.body.next, null);
    const user0 = page1.body.users[0];
    for (const key of ['id', 'name', 'username', 'email', 'disabled', 'deleted', 'createdAt', 'lastSeenAt', 'online']) {
      assert.ok(key in user0, `${key} in ${JSON.stringify(user0)}`);
    }
    const bad = await srv.rest('GET', '/api/admin/users?limit=0', { token: SERVICE });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_PAYLOAD');
    await close(s);
  });

  it('disables a user: REST refused and the open socket closed; enabled again; tokens revoked', async () => {
    const carol = await user(srv, 'carol');
    const s = await connectUser(srv, carol);
    const closed = new Promise((resolve) => s.once('disconnect', resolve));
    const res = await srv.rest('POST', `/api/admin/users/${carol.id}/disable`, { token: ops.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.id, carol.id);
    assert.equal(res.body.disabled, true);
    assert.equal((await srv.rest('GET', '/api/me', { token: carol.token })).status, 401);
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the socket stayed open')), 5000)),
    ]);
    await assert.rejects(connectUser(srv, carol));

    const enabled = await srv.rest('POST', `/api/admin/users/${carol.id}/enable`, { token: ops.token });
    assert.equal(enabled.body.disabled, false);
    assert.equal((await srv.rest('GET', '/api/me', { token: carol.token })).status, 200);

    const revoked = await srv.rest('POST', `/api/admin/users/${carol.id}/revoke-tokens`, { token: SERVICE });
    assert.equal(revoked.status, 200);
    assert.equal((await srv.rest('GET', '/api/me', { token: carol.token })).status, 401);

    const unknown = await srv.rest('POST', `/api/admin/users/${uid('nobody')}/disable`, { token: SERVICE });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
  });

  it('refuses a user who is not an operator (403) and a caller without a token (401)', async () => {
    const dave = await user(srv, 'dave');
    for (const [method, path] of [
      ['GET', '/api/admin/overview'],
      ['GET', '/api/admin/users'],
      ['POST', `/api/admin/users/${dave.id}/disable`],
    ]) {
      const asDave = await srv.rest(method, path, { token: dave.token });
      assert.equal(asDave.status, 403, `${method} ${path}`);
      const anonymous = await srv.rest(method, path);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
    }
    const me = await srv.rest('GET', '/api/me', { token: dave.token });
    assert.equal(me.status, 200, 'dave was not disabled by his own call');
  });
});

describe('the overview of a node of a two-node cluster', () => {
  let cluster;

  before(async () => {
    cluster = await startCluster({ nodes: 2, env: { CONFAB_ADMIN_TOKEN: SERVICE } });
  });

  after(async () => {
    await closeAll();
    await cluster?.stop();
  });

  it('lists both nodes with their connections, and a node that left no more', async () => {
    const [n0, n1] = cluster.nodes;
    const ids = [(await overview(n0)).node.id, (await overview(n1)).node.id];
    assert.notEqual(ids[0], ids[1]);
    const [u0, u1, u2] = [await user(n0, 'x'), await user(n0, 'y'), await user(n0, 'z')];
    const sockets = [
      await connectUser(n0, u0),
      await connectUser(n1, u1),
      await connectUser(n1, u2),
    ];
    const seen = await overviewWhen(n0, 'both nodes with their connections', (o) => {
      const byId = Object.fromEntries(o.nodes.map((n) => [n.id, n]));
      return byId[ids[0]]?.connections === 1 && byId[ids[1]]?.connections === 2;
    });
    assert.equal(seen.node.redis, true);
    assert.equal(seen.node.database, 'postgres');
    assert.equal(seen.nodes.length, 2, JSON.stringify(seen.nodes));
    for (const n of seen.nodes) {
      assert.equal(n.state, 'up');
      assert.ok(Math.abs(Date.now() - n.lastSeen) < 10_000, JSON.stringify(n));
    }
    // Node 1's own overview counts its sockets; node 0's what it reported.
    assert.equal((await overview(n1)).connections.total, 2);

    for (const s of sockets.slice(1)) await close(s);
    await cluster.stopNode(n1);
    const alone = await overviewWhen(n0, 'the node that left is gone', (o) =>
      o.nodes.length === 1 && o.nodes[0].id === ids[0]);
    assert.equal(alone.nodes[0].connections, 1);
    await close(sockets[0]);
  });
});
