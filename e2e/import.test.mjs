// Black-box tests of the history import: `confab import FILE` beside a
// serving confab, and what the dialects' clients then see under the ids
// the old server's clients hold (numbers, UUIDs, Mongo ObjectIds, pairs).
//
//   cargo build --bins && node --test e2e/import.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, uid, connect, emitAck, history, closeAll, sleep } from './lib/server.mjs';

function cleanEnv(env = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CONFAB_')) out[k] = v;
  return { ...out, ...env };
}

function dbEnv() {
  return process.env.CONFAB_E2E_DATABASE_URL ? { CONFAB_DATABASE_URL: process.env.CONFAB_E2E_DATABASE_URL } : {};
}

/** Starts `confab import FILE --json` on the server's store; `{child, done}`. */
function startImport(srv, file) {
  const child = spawn(BIN, ['import', '--json', file, '--data-dir', srv.dataDir], {
    env: cleanEnv({ RUST_BACKTRACE: '0', ...dbEnv() }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += c.toString(); });
  child.stderr.on('data', (c) => { err += c.toString(); });
  const done = new Promise((r) => child.once('close', (code) => r({ code, out, err })));
  return { child, done };
}

async function runImport(srv, file) {
  const { code, out, err } = await startImport(srv, file).done;
  let summary;
  try { summary = JSON.parse(out); } catch { throw new Error(`confab import: ${code} ${out} ${err}`); }
  return { code, summary };
}

const oid = () => randomBytes(12).toString('hex');
let seq = Date.now() * 1000 + Math.floor(Math.random() * 1000);
const num = () => ++seq;

/**
 * A history of one source shape: two users, a direct conversation of
 * `messages` messages under an id of that shape, alternating senders,
 * and `b` having read up to the middle.
 */
function history1(shape, a, b, messages) {
  const id = { numbers: num, uuids: randomUUID, objectids: oid }[shape];
  const conv = id();
  const lines = [
    { type: 'user', id: a, name: `A ${a}` },
    { type: 'user', id: b, name: `B ${b}` },
    { type: 'conversation', id: conv, kind: 'direct', createdAt: 1_600_000_000_000, members: [{ userId: a }, { userId: b }] },
  ];
  const ids = [];
  for (let i = 0; i < messages; i++) {
    const mid = id();
    ids.push(mid);
    lines.push({ type: 'message', id: mid, conversation: conv, sender: i % 2 ? b : a, createdAt: 1_600_000_000_000 + i * 1000, text: `m${i}` });
  }
  lines.push({ type: 'read', conversation: conv, userId: b, upTo: ids[Math.floor(messages / 2)] });
  return { conv, ids, lines };
}

function write(dir, name, lines) {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

describe('history import', () => {
  let srv;
  let dir;
  before(async () => {
    srv = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'confab-import-'));
  });
  after(async () => {
    await closeAll();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports each source shape under its ids, in order, with unread counts; a second run changes nothing; bad lines are reported', async () => {
    const shapes = ['numbers', 'uuids', 'objectids'];
    const users = {};
    const histories = {};
    let lines = [];
    for (const shape of shapes) {
      const a = uid('imp-a'); const b = uid('imp-b');
      users[shape] = [a, b];
      histories[shape] = history1(shape, a, b, 20);
      lines = lines.concat(histories[shape].lines);
    }
    lines.splice(4, 0, '{"type":"message" broken');
    const file = write(dir, 'shapes.ndjson', lines);
    const first = await runImport(srv, file);
    assert.equal(first.code, 1, 'a refused line makes the exit code 1');
    assert.equal(first.summary.refused, 1);
    assert.deepEqual(first.summary.refusals.map((r) => r.line), [5]);
    assert.equal(first.summary.created, lines.length - 1);

    for (const shape of shapes) {
      const [a, b] = users[shape];
      const tb = { token: await srv.token(b) };
      const { conv } = histories[shape];
      const ms = await history(srv, tb, conv, 100);
      assert.deepEqual(ms.map((m) => m.text), Array.from({ length: 20 }, (_, i) => `m${i}`), shape);
      const list = await srv.rest('GET', '/api/conversations', { token: tb.token });
      const c = list.body.find((x) => x.members.some((m) => m.userId === a));
      // b read up to m10: m11..m19 remain, of which a sent m12, m14, .., m18.
      assert.equal(c.unreadCount, 4, shape);
      if (shape === 'numbers') assert.equal(c.id, conv);
      if (shape === 'uuids') assert.equal(c.uuid, conv);
    }

    // V Chat / Voxora clients see the ObjectId; Voxora joins by it.
    const [, b] = users.objectids;
    const voxora = await connect(srv, { url: srv.urls.voxora, auth: { token: await srv.token(b) } });
    const ack = await emitAck(voxora, 'join_conversation', { conversationId: histories.objectids.conv });
    assert.equal(ack.conversationId, histories.objectids.conv, JSON.stringify(ack));

    const again = await runImport(srv, file);
    assert.equal(again.summary.created, 0);
    assert.equal(again.summary.skipped, lines.length - 1);
  });

  it('a killed import run again reaches the same state', async () => {
    const a = uid('kill-a'); const b = uid('kill-b');
    const h = history1('objectids', a, b, 40_000);
    const file = write(dir, 'big.ndjson', h.lines);
    const { child, done } = startImport(srv, file);
    await sleep(6000);
    child.kill('SIGKILL');
    await done;
    const resumed = await runImport(srv, file);
    assert.equal(resumed.code, 0, JSON.stringify(resumed.summary));
    assert.equal(resumed.summary.created + resumed.summary.skipped, h.lines.length);
    const tb = { token: await srv.token(b) };
    const list = await srv.rest('GET', '/api/conversations', { token: tb.token });
    const c = list.body.find((x) => x.members.some((m) => m.userId === a));
    assert.equal(c.lastSeq, 40_000);
    const last = await history(srv, tb, h.conv, 3);
    assert.deepEqual(last.map((m) => m.seq), [39_998, 39_999, 40_000]);
  });
});
