// Helpers for black-box tests of confab in cluster mode: a private
// redis-server child (killable and restartable on the same port), a fresh
// PostgreSQL schema every node shares, and nodes started with the harness of
// ./server.mjs, all pointing at the same Redis, database and JWT secret.
//
// Needs `redis-server` (Redis 7 or newer) and `psql` on the PATH, and the
// PostgreSQL of CONFAB_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test). A missing tool or an unreachable
// database is an error with a clear message, never a skipped test.

import { spawn, spawnSync, execFile } from 'node:child_process';
import { createServer, connect as netConnect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startServer, sleep } from './server.mjs';

const execFileP = promisify(execFile);

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** The PostgreSQL database the cluster tests use (each run in a schema of its own). */
export const DATABASE_URL = process.env.CONFAB_TEST_DATABASE_URL || DEFAULT_DATABASE_URL;

/** Redis children and schemas still alive, cleaned up when the process exits. */
const live = { redis: new Set(), schemas: new Set() };

process.on('exit', () => {
  for (const r of live.redis) {
    try { r.child?.kill('SIGKILL'); } catch { /* already gone */ }
    try { rmSync(r.dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  for (const s of live.schemas) {
    // Last resort (a test run interrupted before its `after` hooks): synchronous.
    try {
      spawnSync('psql', ['-X', '-q', s.baseUrl, '-c', `DROP SCHEMA IF EXISTS ${s.name} CASCADE`], {
        timeout: 5000, stdio: 'ignore', env: { ...process.env, PGCONNECT_TIMEOUT: '3' },
      });
    } catch { /* best effort */ }
  }
});

/** Throws a clear error unless `command` runs (`args` should make it exit at once). */
export function requireCommand(command, args, hint) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const why = r.error.code === 'ENOENT' ? 'not found on the PATH' : r.error.message;
    throw new Error(`${command} ${why}: ${hint}`);
  }
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** Throws a clear error unless `redis-server` 7 or newer is installed. */
export function requireRedis() {
  const out = requireCommand('redis-server', ['--version'],
    'the cluster tests start a private Redis 7+ server (apt-get install redis-server)');
  const m = out.match(/v=(\d+)\.(\d+)/);
  if (!m) throw new Error(`cannot tell the version of redis-server from: ${out.trim()}`);
  if (Number(m[1]) < 7) {
    throw new Error(`redis-server ${m[1]}.${m[2]} is too old: socketioxide-redis needs Redis 7 or newer (RESP3)`);
  }
  return `${m[1]}.${m[2]}`;
}

/** Throws a clear error unless `psql` is installed. */
export function requirePsql() {
  requireCommand('psql', ['--version'],
    'the cluster tests create a PostgreSQL schema with psql (apt-get install postgresql-client)');
}

/** A TCP port that was free a moment ago (bound on port 0, then closed). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** Sends PING to 127.0.0.1:`port`; resolves true on `+PONG`, false otherwise. */
export function redisPing(port, timeoutMs = 1000) {
  return new Promise((resolvePing) => {
    let buf = '';
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolvePing(ok);
    };
    const sock = netConnect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) finish(buf.startsWith('+PONG'));
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

/**
 * Starts a private `redis-server` as a child process on 127.0.0.1 (a free
 * port unless `port` is given), without persistence, and waits until it
 * answers PING. Returns a handle:
 * - `port`, `url` (`redis://127.0.0.1:<port>`), `log()`,
 * - `kill(signal = 'SIGKILL')`: stops it and waits for the exit,
 * - `restart()`: starts it again on the same port (empty: nothing is saved),
 * - `stop()`: kills it for good and removes its directory.
 */
export async function startRedis({ port, timeoutMs = 10_000 } = {}) {
  requireRedis();
  const dir = mkdtempSync(join(tmpdir(), 'confab-e2e-redis-'));
  const redis = {
    port: undefined,
    url: undefined,
    dir,
    child: null,
    output: '',
    log: () => redis.output,
    running: () => Boolean(redis.child && redis.child.exitCode === null && redis.child.signalCode === null),
    async kill(signal = 'SIGKILL') {
      const child = redis.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    async restart() {
      await redis.kill();
      await spawnRedis(redis, redis.port, timeoutMs);
    },
    async stop() {
      live.redis.delete(redis);
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.redis.add(redis);
  // The port was free a moment ago; if someone took it since, try another.
  let lastError;
  for (let attempt = 0; attempt < (port ? 1 : 3); attempt++) {
    try {
      await spawnRedis(redis, port ?? await freePort(), timeoutMs);
      return redis;
    } catch (e) {
      lastError = e;
    }
  }
  await redis.stop();
  throw lastError;
}

async function spawnRedis(redis, port, timeoutMs) {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--daemonize', 'no',
    '--dir', redis.dir, '--protected-mode', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  redis.child = child;
  redis.port = port;
  redis.url = `redis://127.0.0.1:${port}`;
  const keep = (chunk) => {
    redis.output += chunk.toString();
    if (redis.output.length > 32_000) redis.output = redis.output.slice(-32_000);
    if (process.env.CONFAB_E2E_VERBOSE) process.stderr.write(`[redis:${port}] ${chunk}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError = null;
  child.once('error', (e) => { spawnError = e; });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`redis-server did not start: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (code ${child.exitCode}, signal ${child.signalCode}) on port ${port}\n${redis.output}`);
    }
    if (await redisPing(port, 500)) return;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms\n${redis.output}`);
}

/** `base` (a postgres:// URL) with a search_path of `schema`, as scripts/test builds it. */
export function databaseUrlWithSchema(base, schema) {
  const sep = base.includes('?') ? '&' : '?';
  return `${base}${sep}options=-c%20search_path%3D${schema}`;
}

async function psql(baseUrl, sql) {
  try {
    await execFileP('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', baseUrl, '-c', sql], {
      timeout: 15_000,
      env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    });
  } catch (e) {
    const why = (e.stderr || e.message || '').toString().trim();
    throw new Error(`psql on ${baseUrl} failed (${sql.slice(0, 80)}): ${why}`);
  }
}

const SCHEMA_PREFIX = 'confab_cluster_';
/** Schemas of earlier runs that were killed before their cleanup are dropped after this. */
const STALE_SCHEMA_MS = 60 * 60 * 1000;

/**
 * Creates a fresh schema `confab_cluster_<time>_<random>` in `baseUrl` and
 * returns `{name, baseUrl, url, drop()}`; `url` is the database URL with that
 * search_path, for every node. Schemas of this helper left over by runs
 * interrupted more than an hour ago are dropped on the way.
 */
export async function createSchema({ baseUrl = DATABASE_URL } = {}) {
  requirePsql();
  const name = `${SCHEMA_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await psql(baseUrl, `CREATE SCHEMA ${name}`).catch((e) => {
    throw new Error(`cannot create a schema in PostgreSQL (is it running? set CONFAB_TEST_DATABASE_URL): ${e.message}`);
  });
  const schema = {
    name,
    baseUrl,
    url: databaseUrlWithSchema(baseUrl, name),
    async drop() {
      if (!live.schemas.has(schema)) return;
      live.schemas.delete(schema);
      await psql(baseUrl, `DROP SCHEMA IF EXISTS ${name} CASCADE`);
    },
  };
  live.schemas.add(schema);
  await dropStaleSchemas(baseUrl).catch(() => { /* best effort */ });
  return schema;
}

async function dropStaleSchemas(baseUrl) {
  const { stdout } = await execFileP('psql', ['-X', '-At', baseUrl, '-c',
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${SCHEMA_PREFIX}%'`], {
    timeout: 10_000, env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
  const cutoff = Date.now() - STALE_SCHEMA_MS;
  for (const n of stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
    const m = n.match(/^confab_cluster_([0-9a-z]+)_[0-9a-f]{8}$/);
    if (m && parseInt(m[1], 36) < cutoff) {
      await psql(baseUrl, `DROP SCHEMA IF EXISTS ${n} CASCADE`);
    }
  }
}

/**
 * A cluster: one private Redis, one fresh PostgreSQL schema, one JWT secret,
 * and `nodes` confab nodes started one after the other (the first one runs
 * the migrations). `env` is given to every node. Returns
 * `{redis, schema, secret, env, nodes, startNode(env), stopNode(node), stop()}`;
 * `stop()` stops every node still running, Redis, and drops the schema, and
 * can be called more than once (also after a failed start).
 */
export async function startCluster({ nodes = 2, env = {}, presenceTtlSecs = 3 } = {}) {
  requireRedis();
  requirePsql();
  const cluster = {
    redis: null,
    schema: null,
    secret: randomBytes(24).toString('hex'),
    nodes: [],
    env: {},
    /** Starts one more node of the cluster; `extra` adds or overrides settings. */
    async startNode(extra = {}) {
      const node = await startServer({ env: { ...cluster.env, ...extra } });
      cluster.nodes.push(node);
      return node;
    },
    async stopNode(node) {
      cluster.nodes = cluster.nodes.filter((n) => n !== node);
      await node.stop();
    },
    async stop() {
      const errors = [];
      const nodesLeft = cluster.nodes;
      cluster.nodes = [];
      await Promise.all(nodesLeft.map((n) => n.stop().catch((e) => errors.push(e))));
      await cluster.redis?.stop().catch((e) => errors.push(e));
      await cluster.schema?.drop().catch((e) => errors.push(e));
      if (errors.length) throw errors[0];
    },
  };
  try {
    cluster.redis = await startRedis();
    cluster.schema = await createSchema();
    cluster.env = {
      CONFAB_REDIS_URL: cluster.redis.url,
      CONFAB_DATABASE_URL: cluster.schema.url,
      CONFAB_AUTH_JWT_SECRET: cluster.secret,
      CONFAB_PRESENCE_TTL_SECS: String(presenceTtlSecs),
      ...env,
    };
    for (let i = 0; i < nodes; i++) await cluster.startNode();
  } catch (e) {
    await cluster.stop().catch(() => { /* the first error is the one to see */ });
    throw e;
  }
  return cluster;
}

/** `GET /readyz` of a node: `{status, body}` (never throws for a bad answer). */
export async function readiness(node) {
  try {
    return await node.rest('GET', '/readyz');
  } catch (e) {
    return { status: 0, body: { error: e.message } };
  }
}

/**
 * Polls `GET /readyz` of `node` until `predicate(body, status)` holds;
 * resolves `{status, body}`, or rejects after `timeoutMs` with the last answer.
 */
export async function waitReadiness(node, predicate, { timeoutMs = 10_000, intervalMs = 200, what = 'readiness' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await readiness(node);
    if (predicate(last.body ?? {}, last.status)) return last;
    if (Date.now() >= deadline) {
      throw new Error(`${what}: /readyz did not get there within ${timeoutMs} ms; last answer ${last.status} ${JSON.stringify(last.body)}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Calls `fn` until it resolves a truthy value (returned) or `timeoutMs`
 * passes (rejects with `what` and the last value or error).
 */
export async function eventually(fn, { timeoutMs = 5000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const shown = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`${what} did not hold within ${timeoutMs} ms (last: ${shown})`);
    }
    await sleep(intervalMs);
  }
}
