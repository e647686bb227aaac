// A stopping node drains: on SIGTERM it answers what it was handling, closes
// every socket (WebSocket and long-polling alike) with an Engine.IO close that
// clients take for a lost connection (they reconnect, to another node), and
// exits within `drain_timeout`, however many polling clients it has.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, history, connectUser, emitAck, closeAll,
} from './lib/server.mjs';

const LIMIT_MS = 3000;

/** Resolves with {code, signal, ms} when the child exits. */
function exited(child, since) {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - since }));
  });
}

/**
 * The reasons socket.io-client reconnects after (its Manager reconnects on
 * any reason but a deliberate disconnect: `io server disconnect`, which a
 * Socket.IO DISCONNECT packet causes, and `io client disconnect`). A polling
 * client between two polls when its session closes learns it from its next
 * poll, which fails: `transport error`.
 */
const RECONNECTS_AFTER = ['transport close', 'transport error'];

/** Resolves the reason of the socket's next disconnect. */
function disconnected(socket) {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

describe('drain on SIGTERM', () => {
  after(closeAll);

  it('answers what it was handling, closes WebSocket and polling sockets with a close clients reconnect after, and exits within the limit', async () => {
    const server = await startServer({ env: { CONFAB_DRAIN_TIMEOUT: `${LIMIT_MS}ms`, CONFAB_LOG: 'info' } });
    const alice = await user(server, 'alice');
    const bob = await user(server, 'bob');
    const conv = await conversation(server, alice, [bob]);
    const ws = await connectUser(server, alice, { transports: ['websocket'] });
    const polling = await connectUser(server, bob, { transports: ['polling'] });
    for (const s of [ws, polling]) {
      const ack = await emitAck(s, 'join:conversation', { conversationId: conv.uuid });
      assert.equal(ack.success, true);
    }
    const wsClosed = disconnected(ws);
    const pollingClosed = disconnected(polling);

    // A burst of sends, the first answered before the signal: the node is
    // busy when it is told to stop.
    const texts = Array.from({ length: 20 }, (_, i) => `before the stop ${i}`);
    const acks = texts.map((message) =>
      emitAck(ws, 'send:message', { conversationId: conv.uuid, message }, LIMIT_MS + 2000)
        .then((ack) => ({ message, ack }), () => ({ message, ack: null })));
    await acks[0];
    const since = Date.now();
    const exit = exited(server.child, since);
    server.child.kill('SIGTERM');

    assert.equal(await wsClosed, 'transport close', 'a WebSocket client is told the connection is lost, and reconnects');
    const pollingReason = await pollingClosed;
    assert.ok(RECONNECTS_AFTER.includes(pollingReason), `a polling client too, and it reconnects after: ${pollingReason}`);
    const { code, ms } = await exit;
    assert.equal(code, 0, `the process exits cleanly\n${server.log().slice(-2000)}`);
    assert.ok(ms < LIMIT_MS + 1500, `exited ${ms} ms after SIGTERM, limit ${LIMIT_MS} ms`);
    assert.match(server.log(), /stopped/, 'one line says the node stopped');
    assert.match(server.log(), /workers_left\W+0/, 'every socket close was handled');

    // Every send that was answered was answered with success, and is stored.
    const answered = (await Promise.all(acks)).filter((a) => a.ack !== null);
    assert.ok(answered.length >= 1);
    for (const { message, ack } of answered) assert.equal(ack.success, true, `${message}: ${JSON.stringify(ack)}`);
    const again = await startServer({ env: { CONFAB_DATA_DIR: server.dataDir } });
    const stored = new Set((await history(again, alice, conv.id)).map((m) => m.text));
    for (const { message } of answered) assert.ok(stored.has(message), `${message} was acknowledged, so it is stored`);
    await again.stop();
    await server.stop();
  });

  it('a node with no client stops at once', async () => {
    const server = await startServer({ env: { CONFAB_DRAIN_TIMEOUT: '10s' } });
    const exit = exited(server.child, Date.now());
    server.child.kill('SIGTERM');
    const { code, ms } = await exit;
    assert.equal(code, 0);
    assert.ok(ms < 2000, `exited ${ms} ms after SIGTERM`);
    await server.stop();
  });
});
