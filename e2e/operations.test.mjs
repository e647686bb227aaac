// Black-box tests of what an operator sees of the real `confab` binary: its
// log lines (JSON off a terminal, no colour codes, `--log` over RUST_LOG),
// and its safe defaults: a second process on one SQLite data directory is
// refused, `confab token` never invents a secret, a port in use names the
// setting that moves it, closed registration, failed logins throttled,
// private database files, and the warning of a PostgreSQL node without
// Redis.
//
// Run: `node --test e2e/operations.test.mjs` after `cargo build --bin confab`.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, startServer, uid, sleep } from './lib/server.mjs';

const execFileP = promisify(execFile);
const DIALECTS = ['dozaar', 'syarah', 'jobspare', 'vchat', 'voxora'];
const ANSI = '\x1b[';

/** Our environment without any CONFAB_* or RUST_LOG setting, plus `env`. */
function cleanEnv(env = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((!k.startsWith('CONFAB_') || k === 'CONFAB_BIN') && k !== 'RUST_LOG') out[k] = v;
  }
  return { ...out, ...env };
}

const dirs = [];
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'confab-ops-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every listener of a node on a free port of 127.0.0.1, data in `dataDir`. */
function nodeEnv(dataDir, env = {}) {
  return cleanEnv({
    CONFAB_DATA_DIR: dataDir,
    CONFAB_BIND: '127.0.0.1',
    CONFAB_DOZAAR_PORT: '0',
    CONFAB_SYARAH_PORT: '0',
    CONFAB_JOBSPARE_PORT: '0',
    CONFAB_VOXORA_PORT: '0',
    CONFAB_VCHAT_PORT: '0',
    ...env,
  });
}

/**
 * Spawns `confab ARGS` with stdout and stderr piped; `until(out, err)` says
 * when it is up. Resolves `{child, out(), err(), exited}`; rejects if it
 * exits first or takes too long.
 */
async function run(args, env, until, timeoutMs = 30_000) {
  const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise((r) => child.once('close', (code, signal) => r({ code, signal })));
  const proc = { child, out: () => out, err: () => err, exited };
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`confab did not come up within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
    }, timeoutMs);
    const check = () => {
      if (until(out, err)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', (c) => { out += c.toString(); check(); });
    child.stderr.on('data', (c) => { err += c.toString(); check(); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`confab exited (code ${code}, signal ${signal})\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  return proc;
}

/** Runs `confab ARGS` to its end: `{code, out, err}`. */
async function runToEnd(args, env, timeoutMs = 30_000) {
  const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += c.toString(); });
  child.stderr.on('data', (c) => { err += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, out, err };
}

async function stop(proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
  }
  return proc.exited;
}

/** The JSON objects of `text`'s lines; a line that is not one fails. */
function jsonLines(text) {
  return text.split('\n').filter((l) => l.trim()).map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      assert.fail(`not a JSON line: ${line}`);
    }
  });
}

const listening = (lines) => lines.filter((l) => l.message === 'listening');

/** The complete lines of `text` that parse as JSON (while it is being written). */
function parsedSoFar(text) {
  const out = [];
  for (const line of text.split('\n').slice(0, -1)) {
    try { out.push(JSON.parse(line)); } catch { /* checked later */ }
  }
  return out;
}
const prettyUp = (out) => /confab: data in /.test(out);

describe('logs', () => {
  it('off a terminal are JSON lines without colour codes: start, each listener, stop', async () => {
    const dataDir = tempDir();
    const proc = await run(['serve'], nodeEnv(dataDir, { CONFAB_LOG: 'info' }),
      (_, err) => listening(parsedSoFar(err)).length === 5);
    const lines = jsonLines(proc.err());
    const start = lines.find((l) => l.message === 'confab starting');
    assert.ok(start, proc.err());
    assert.equal(start.level, 'INFO');
    assert.match(start.version, /^\d+\.\d+\.\d+/);
    assert.equal(start.store, 'sqlite');
    assert.equal(start.data_dir, dataDir);
    assert.equal(start.cluster, 'single node');
    const byDialect = Object.fromEntries(listening(lines).map((l) => [l.dialect, l.addr]));
    assert.deepEqual(Object.keys(byDialect).sort(), [...DIALECTS].sort());
    for (const l of listening(lines)) {
      assert.equal(l.level, 'INFO');
      assert.ok(l.timestamp, 'each line has its time');
    }
    // The addresses logged are where it listens.
    const res = await fetch(`http://${byDialect.vchat}/healthz`);
    assert.equal(res.status, 200);
    // stdout carries no text lines besides the JSON log.
    assert.equal(proc.out(), '');

    assert.deepEqual(await stop(proc), { code: 0, signal: null });
    const all = jsonLines(proc.err());
    assert.ok(all.some((l) => l.message === 'shutting down'), proc.err());
    assert.ok(all.some((l) => l.message === 'stopped'), proc.err());
    assert.ok(!proc.err().includes(ANSI) && !proc.out().includes(ANSI));
  });

  it('in pretty form off a terminal carry no colour codes either', async () => {
    const proc = await run(['serve', '--log-format', 'pretty'], nodeEnv(tempDir(), { CONFAB_LOG: 'info' }),
      (out) => prettyUp(out));
    assert.match(proc.out(), /confab: dozaar listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(proc.err(), /INFO .*listening/);
    assert.ok(!proc.err().includes(ANSI), JSON.stringify(proc.err().slice(0, 300)));
    await stop(proc);
  });

  it('--log beats RUST_LOG, which beats nothing given', async () => {
    const pretty = { CONFAB_LOG_FORMAT: 'pretty' };
    // RUST_LOG alone is followed.
    let proc = await run(['serve'], nodeEnv(tempDir(), { ...pretty, RUST_LOG: 'info' }), prettyUp);
    assert.match(proc.err(), /listening/, 'RUST_LOG=info logs the listeners');
    await stop(proc);
    // --log warn over RUST_LOG=info: no info lines.
    proc = await run(['serve', '--log', 'warn'], nodeEnv(tempDir(), { ...pretty, RUST_LOG: 'info' }), prettyUp);
    await sleep(200);
    assert.doesNotMatch(proc.err(), /INFO/, proc.err());
    await stop(proc);
    // --log info over RUST_LOG=error: info lines.
    proc = await run(['serve', '--log', 'info'], nodeEnv(tempDir(), { ...pretty, RUST_LOG: 'error' }), prettyUp);
    assert.match(proc.err(), /INFO .*listening/, proc.err());
    await stop(proc);
  });

  it('a bad --log-format is refused', async () => {
    const { code, err } = await runToEnd(['serve', '--log-format', 'xml'], nodeEnv(tempDir()));
    assert.notEqual(code, 0);
    assert.match(err, /xml/);
  });
});

describe('one process per SQLite data directory', () => {
  it('a second process on the same data directory is refused, naming it; the first serves on', async () => {
    const first = await startServer({ env: { CONFAB_DATABASE_URL: '' } });
    try {
      const second = await runToEnd(['serve'], nodeEnv(first.dataDir, { CONFAB_LOG_FORMAT: 'pretty' }));
      assert.notEqual(second.code, 0);
      assert.match(second.err, /another confab process \(pid \d+\) already serves the data directory/);
      assert.ok(second.err.includes(first.dataDir), second.err);
      assert.match(second.err, /--data-dir/);
      assert.doesNotMatch(second.out, /listening on/);
      const res = await first.rest('GET', '/healthz');
      assert.equal(res.status, 200);
    } finally {
      await first.stop();
    }
  });

  it('once the first has stopped, the directory can be served again', async () => {
    const dataDir = tempDir();
    let proc = await run(['serve'], nodeEnv(dataDir, { CONFAB_LOG_FORMAT: 'pretty' }), prettyUp);
    proc.child.kill('SIGKILL'); // a crash: the kernel lets the lock go
    await proc.exited;
    proc = await run(['serve'], nodeEnv(dataDir, { CONFAB_LOG_FORMAT: 'pretty' }), prettyUp);
    await stop(proc);
  });
});

describe('private files', () => {
  it('the data directory, the database files and the secret are private to confab\'s user', async () => {
    const dataDir = join(tempDir(), 'fresh');
    const server = await startServer({ env: { CONFAB_DATA_DIR: dataDir, CONFAB_DATABASE_URL: '' } });
    try {
      // A write, so that the WAL exists.
      await server.rest('POST', '/api/auth/register', { body: { username: uid('files'), password: 'correct horse' } });
      const mode = (p) => statSync(p).mode & 0o777;
      assert.equal(mode(dataDir), 0o700);
      for (const f of ['confab.db', 'confab.db-wal', 'confab.db-shm', 'jwt-secret', 'confab.lock']) {
        assert.equal(mode(join(dataDir, f)), 0o600, f);
      }
    } finally {
      await server.stop();
    }
  });
});

describe('confab token', () => {
  it('refuses to invent a secret, and says where the server keeps its own', async () => {
    const empty = join(tempDir(), 'not-the-servers');
    const { code, out, err } = await runToEnd(['token', '--data-dir', empty, '--user', 'alice'], cleanEnv());
    assert.notEqual(code, 0);
    assert.equal(out, '', 'no token printed');
    assert.ok(err.includes(join(empty, 'jwt-secret')), err);
    assert.match(err, /--data-dir/);
    assert.match(err, /CONFAB_AUTH_JWT_SECRET_FILE/);
    assert.ok(!existsSync(join(empty, 'jwt-secret')), 'no secret was created');
  });

  it('signs with the server\'s secret when pointed at its data directory', async () => {
    const server = await startServer();
    try {
      const { stdout } = await execFileP(BIN, ['token', '--data-dir', server.dataDir, '--user', 'alice'], { env: cleanEnv() });
      const res = await server.rest('GET', '/api/me', { token: stdout.trim() });
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'alice');
    } finally {
      await server.stop();
    }
  });
});

describe('a port in use', () => {
  it('names the dialect and the setting that moves it', async () => {
    const blocker = createServer();
    await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
    const port = blocker.address().port;
    try {
      // Off a terminal the error is a JSON log line like the others.
      const { code, err } = await runToEnd(['serve'], nodeEnv(tempDir(), { CONFAB_SYARAH_PORT: String(port) }));
      assert.equal(code, 1);
      const failure = jsonLines(err).find((l) => l.level === 'ERROR');
      assert.ok(failure, err);
      assert.match(failure.error, new RegExp(`syarah listener cannot listen on 127\\.0\\.0\\.1:${port}`));
      assert.match(failure.error, /dialects\.syarah\.port/);
      assert.match(failure.error, /CONFAB_DIALECTS_SYARAH_PORT/);
    } finally {
      blocker.close();
    }
  });
});

describe('registration', () => {
  it('closed: every register route answers 403 in its API\'s shape, nothing is stored, tokens still work', async () => {
    const server = await startServer({ env: { CONFAB_AUTH_REGISTRATION: 'closed' } });
    try {
      const username = uid('closed');
      const r = await server.rest('POST', '/api/auth/register', { body: { username, password: 'correct horse' } });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'FORBIDDEN');
      assert.match(r.body.error.message, /registration is closed/);
      for (const path of ['/api/v1/auth/register', '/api/v1/user/register']) {
        const res = await fetch(`${server.urls.vchat}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `${username}@example.com`, fullName: 'C', name: 'C', password: 'correct horse' }),
        });
        assert.equal(res.status, 403, path);
        const body = await res.json();
        assert.equal(body.success, false);
        assert.equal(body.code, 'FORBIDDEN');
      }
      const login = await server.rest('POST', '/api/auth/login', { body: { username, password: 'correct horse' } });
      assert.equal(login.status, 401, 'no account was stored');
      const token = await server.token(uid('tokenuser'));
      assert.equal((await server.rest('GET', '/api/me', { token })).status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('failed logins', () => {
  it('30 wrong passwords in a burst are mostly 429; another account is unaffected; the right one works after the window', async () => {
    const server = await startServer({ env: { CONFAB_AUTH_LOGIN_FAILURE_WINDOW: '3s' } });
    try {
      const alice = uid('alice');
      const bob = uid('bob');
      for (const username of [alice, bob]) {
        const r = await server.rest('POST', '/api/auth/register', { body: { username, password: 'correct horse' } });
        assert.equal(r.status, 201);
      }
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 30 }, () =>
        fetch(`${server.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: alice, password: 'wrong horse' }),
        })));
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(' '));
      assert.equal(statuses.filter((s) => s === 429).length, 25, statuses.join(' '));
      const limited = answers.find((a) => a.status === 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await limited.json()).error.code, 'RATE_LIMITED');

      const right = { username: alice, password: 'correct horse' };
      if (Date.now() - started < 2500) {
        assert.equal((await server.rest('POST', '/api/auth/login', { body: right })).status, 429, 'locked even for the right password');
      }
      const other = await server.rest('POST', '/api/auth/login', { body: { username: bob, password: 'correct horse' } });
      assert.equal(other.status, 200, 'another account is unaffected');

      await sleep(Math.max(0, 3000 - (Date.now() - started)) + 300);
      const later = await server.rest('POST', '/api/auth/login', { body: right });
      assert.equal(later.status, 200);
      assert.ok(later.body.token);
    } finally {
      await server.stop();
    }
  });
});

describe('PostgreSQL without Redis', () => {
  const url = process.env.CONFAB_E2E_DATABASE_URL;
  it('warns at start that the node runs alone', { skip: !url && 'needs CONFAB_E2E_DATABASE_URL (scripts/test sets it)' }, async () => {
    const proc = await run(['serve'], nodeEnv(tempDir(), { CONFAB_DATABASE_URL: url, CONFAB_LOG: 'info', CONFAB_LOG_FORMAT: 'json' }),
      (_, err) => listening(parsedSoFar(err)).length === 5);
    const lines = jsonLines(proc.err());
    const start = lines.find((l) => l.message === 'confab starting');
    assert.equal(start.store, 'postgresql');
    const alone = lines.find((l) => l.level === 'WARN' && /runs alone/.test(l.message));
    assert.ok(alone, proc.err());
    assert.match(alone.message, /CONFAB_REDIS_URL/);
    await stop(proc);
  });

  it('a node on SQLite gives no such warning', async () => {
    const proc = await run(['serve'], nodeEnv(tempDir(), { CONFAB_LOG: 'info', CONFAB_LOG_FORMAT: 'json' }),
      (_, err) => listening(parsedSoFar(err)).length === 5);
    assert.doesNotMatch(proc.err(), /runs alone/);
    await stop(proc);
  });
});
