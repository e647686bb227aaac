// Test harness for the black-box tests: spawns the real `confab` binary with a
// fresh data directory on a random port, issues tokens with `confab token`,
// talks REST with fetch and Socket.IO with the official socket.io-client.
//
// The binary is `target/debug/confab` of this checkout unless CONFAB_BIN says
// otherwise; build it first (`cargo build --bin confab`, or `scripts/test`).

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';

const execFileP = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.CONFAB_BIN || join(ROOT, 'target', 'debug', 'confab');

/** Every server and socket still open, closed when the process exits. */
const live = { servers: new Set(), sockets: new Set() };

process.on('exit', () => {
  for (const s of live.sockets) {
    try { s.disconnect(); } catch { /* closing anyway */ }
  }
  for (const srv of live.servers) {
    try { srv.child.kill('SIGKILL'); } catch { /* already gone */ }
    try { rmSync(srv.dataDir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => process.exit(130));
}

/** The environment of a child: ours without any CONFAB_* setting, plus `env`. */
function childEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CONFAB_') || k === 'CONFAB_BIN') out[k] = v;
  }
  return { ...out, ...env };
}

/** A unique user id with a readable prefix, so tests never share users. */
export function uid(prefix = 'user') {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `confab serve` on 127.0.0.1 with a random Dozaar port and a fresh
 * data directory (or `env.CONFAB_DATA_DIR`, removed at the end all the
 * same). `env` adds or overrides CONFAB_* settings.
 */
export async function startServer({ env = {}, timeoutMs = 30_000 } = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} does not exist: run \`cargo build --bin confab\` first`);
  }
  // A data directory the test prepared (users added with the CLI) is used
  // as it is; else a fresh one.
  const dataDir = env.CONFAB_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'confab-e2e-'));
  const serverEnv = childEnv({
    CONFAB_DATA_DIR: dataDir,
    CONFAB_BIND: '127.0.0.1',
    CONFAB_DOZAAR_PORT: '0',
    CONFAB_SYARAH_PORT: '0',
    CONFAB_JOBSPARE_PORT: '0',
    CONFAB_VOXORA_PORT: '0',
    CONFAB_VCHAT_PORT: '0',
    CONFAB_LOG: process.env.CONFAB_E2E_LOG || 'warn',
    // The "listening on" lines below are printed with human-readable logs
    // only (stdout is a pipe here, which would mean JSON).
    CONFAB_LOG_FORMAT: 'pretty',
    // CONFAB_E2E_DATABASE_URL runs the servers on that database (PostgreSQL)
    // instead of a fresh SQLite file; tests never share users, so they can
    // share a database.
    ...(process.env.CONFAB_E2E_DATABASE_URL ? { CONFAB_DATABASE_URL: process.env.CONFAB_E2E_DATABASE_URL } : {}),
    ...env,
  });
  const child = spawn(BIN, ['serve'], {
    env: serverEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk) => {
    log += chunk.toString();
    if (log.length > 64_000) log = log.slice(-64_000);
    if (process.env.CONFAB_E2E_VERBOSE) process.stderr.write(chunk);
  };
  child.stderr.on('data', keep);

  const url = await new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`confab did not print its listening line within ${timeoutMs} ms\n${out}\n${log}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      out += chunk.toString();
      // Every listening line comes before the "data in" line.
      if (/confab: data in /.test(out)) {
        clearTimeout(timer);
        const urls = {};
        for (const m of out.matchAll(/confab: (\w+) listening on (http:\/\/\S+)/g)) {
          urls[m[1]] = m[2].replace(/\/$/, '');
        }
        resolveUrl(urls);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`confab exited (code ${code}, signal ${signal}) before listening\n${out}\n${log}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });

  // REST is served on every listener; any one will do.
  const base = url.dozaar ?? Object.values(url)[0];
  const server = {
    url: url.dozaar,
    /** The base URL of each listening dialect. */
    urls: url,
    dataDir,
    child,
    env: serverEnv,
    log: () => log,
    /** A JWT for `user` from `confab token` against this server's data dir. */
    async token(user, { name, ttl } = {}) {
      const args = ['token', '--data-dir', dataDir, '--user', user];
      if (name) args.push('--name', name);
      if (ttl) args.push('--ttl', ttl);
      const { stdout } = await execFileP(BIN, args, { env: childEnv(env) });
      const token = stdout.trim().split('\n').pop().trim();
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
        throw new Error(`confab token printed no JWT: ${stdout}`);
      }
      return token;
    },
    /** `fetch` against the REST API; resolves `{status, body}`. */
    async rest(method, path, { token, body } = {}) {
      const headers = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed = text;
      try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      return { status: res.status, body: parsed };
    },
    /** Stops the server (SIGTERM, then SIGKILL) and removes its data. */
    async stop() {
      live.servers.delete(server);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  live.servers.add(server);
  return server;
}

/** A user with a token: `{id, name, token}`. */
export async function user(server, prefix = 'user', opts = {}) {
  const id = uid(prefix);
  const name = opts.name ?? `${prefix[0].toUpperCase()}${prefix.slice(1)} ${id.slice(-4)}`;
  const token = await server.token(id, { name, ttl: opts.ttl });
  return { id, name, token };
}

/** Creates a conversation through REST as `creator`; returns its JSON. */
export async function conversation(server, creator, others, { kind, title } = {}) {
  const body = {
    kind: kind ?? (others.length === 1 ? 'direct' : 'group'),
    memberIds: others.map((o) => (typeof o === 'string' ? o : o.id)),
  };
  if (title !== undefined) body.title = title;
  else if (body.kind === 'group') body.title = 'e2e group';
  const res = await server.rest('POST', '/api/conversations', { token: creator.token, body });
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`POST /api/conversations: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/** The stored messages of a conversation (REST history) as seen by `asUser`. */
export async function history(server, asUser, conversationId, limit = 100) {
  const res = await server.rest('GET', `/api/conversations/${conversationId}/messages?limit=${limit}`, {
    token: asUser.token,
  });
  if (res.status !== 200) {
    throw new Error(`GET messages: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.messages;
}

/**
 * Opens a socket on `/chat` and resolves once connected; rejects with the
 * `connect_error` (its `message` says why). Options:
 * - `token` + `via: 'header' | 'auth'` (default header),
 * - `auth`/`extraHeaders` to send exactly these,
 * - `transports` (default: the client's, polling then upgrade).
 * Every event received is recorded on `socket.received` for `waitFor`.
 */
export function connect(server, { token, via = 'header', auth, extraHeaders, transports, query, url, timeoutMs = 10_000 } = {}) {
  const opts = {
    forceNew: true,
    reconnection: false,
    timeout: timeoutMs,
  };
  if (transports) opts.transports = transports;
  if (auth) opts.auth = auth;
  if (extraHeaders) opts.extraHeaders = extraHeaders;
  if (token !== undefined) {
    if (via === 'auth') opts.auth = { token };
    else opts.extraHeaders = { Authorization: `Bearer ${token}` };
  }
  if (query) opts.query = query;
  const socket = io(url ?? `${server.url}/chat`, opts);
  follow(socket);
  return new Promise((resolveSocket, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('connect timed out'));
    }, timeoutMs + 1000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('connect_error');
      resolveSocket(socket);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      socket.close();
      live.sockets.delete(socket);
      reject(err);
    });
  });
}

/** Connects `u` (a `user()`), with options as for `connect`. */
export function connectUser(server, u, opts = {}) {
  return connect(server, { token: u.token, ...opts });
}

/** Disconnects a socket and resolves once the client saw the close. */
export async function close(socket) {
  live.sockets.delete(socket);
  if (!socket.connected) {
    socket.close();
    return;
  }
  const done = new Promise((r) => socket.once('disconnect', r));
  socket.disconnect();
  await done;
}

/** Closes every socket the harness opened (between tests). */
export async function closeAll() {
  await Promise.all([...live.sockets].map((s) => close(s)));
}

/**
 * Records every event `socket` receives on `socket.received` (for `waitFor`,
 * `received`, `expectNone`) and closes it with the harness's other sockets.
 * `subscribe(onEvent)` makes the socket call `onEvent(event, args)` for each
 * event; the default uses the 4.x client's `onAny` (a 2.x client has none:
 * see `lib/v2.mjs`).
 */
export function follow(socket, subscribe = (onEvent) => socket.onAny((event, ...args) => onEvent(event, args))) {
  socket.received = [];
  socket.waiters = new Set();
  subscribe((event, args) => {
    const entry = { event, data: args[0], args, at: Date.now(), taken: false };
    socket.received.push(entry);
    for (const w of socket.waiters) {
      if (!entry.taken && w.event === event && w.predicate(entry.data)) {
        entry.taken = true;
        w.resolve(entry.data);
      }
    }
  });
  live.sockets.add(socket);
}

/** Forgets a socket that never connected (the harness no longer closes it). */
export function forget(socket) {
  live.sockets.delete(socket);
}

/**
 * Resolves with the payload of the first `event` on `socket` that satisfies
 * `predicate` and that no earlier `waitFor` took, including events that
 * arrived before this call. Rejects after `timeoutMs`.
 */
export function waitFor(socket, event, predicate = () => true, timeoutMs = 5000) {
  const earlier = socket.received.find((e) => !e.taken && e.event === event && predicate(e.data));
  if (earlier) {
    earlier.taken = true;
    return Promise.resolve(earlier.data);
  }
  return new Promise((resolveEvent, reject) => {
    const waiter = {
      event,
      predicate,
      resolve: (d) => {
        clearTimeout(timer);
        socket.waiters.delete(waiter);
        resolveEvent(d);
      },
    };
    const timer = setTimeout(() => {
      socket.waiters.delete(waiter);
      const seen = socket.received.map((e) => e.event).join(', ') || 'nothing';
      reject(new Error(`no ${event} within ${timeoutMs} ms (socket received: ${seen})`));
    }, timeoutMs);
    socket.waiters.add(waiter);
  });
}

/** The payloads of every `event` received so far that satisfy `predicate`. */
export function received(socket, event, predicate = () => true) {
  return socket.received.filter((e) => e.event === event && predicate(e.data)).map((e) => e.data);
}

/** A mark of what each socket has received so far, for `expectNone`. */
export function mark(...sockets) {
  return new Map(sockets.flat().map((s) => [s, s.received.length]));
}

/**
 * Waits `ms`, then throws if any socket of `sockets` received an `event`
 * (one of `events`) satisfying `predicate` after the mark `since` (from
 * `mark()`; default: what was received when this was called).
 */
export async function expectNone(sockets, events, { predicate = () => true, ms = 300, since } = {}) {
  const list = Array.isArray(sockets) ? sockets : [sockets];
  const from = since ?? mark(list);
  await sleep(ms);
  const names = Array.isArray(events) ? events : [events];
  for (const s of list) {
    const start = from.get(s) ?? 0;
    const hit = s.received.slice(start).find((e) => names.includes(e.event) && predicate(e.data));
    if (hit) {
      throw new Error(`unexpected ${hit.event}: ${JSON.stringify(hit.data)}`);
    }
  }
}

/** Emits with an acknowledgement callback; resolves the ack's payload. */
export function emitAck(socket, event, payload, timeoutMs = 5000) {
  return socket.timeout(timeoutMs).emitWithAck(event, payload);
}

/** Marks the entries received so far as taken, so `waitFor` sees only new ones. */
export function drain(socket) {
  for (const e of socket.received) e.taken = true;
}

/** Every socket the harness has open. */
export function openSockets() {
  return [...live.sockets];
}
