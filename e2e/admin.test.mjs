// Black-box tests of the operator's commands of the `confab` binary, run
// against the data directory (or database) of a server that is serving:
// `user list | disable | enable | revoke-tokens | export | delete`,
// `backup FILE` and `check-config`.
//
//   cargo build --bins && node --test e2e/admin.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, statSync, readFileSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, uid, sleep, connect, close, conversation, history } from './lib/server.mjs';

/** The environment of a command: ours without CONFAB_* settings, plus `env`. */
function cleanEnv(env = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CONFAB_')) out[k] = v;
  }
  return { ...out, ...env };
}

/** Runs `confab ARGS` to its end: `{code, out, err}`. */
async function confab(args, env = {}, timeoutMs = 30_000) {
  const child = spawn(BIN, args, { env: cleanEnv({ RUST_BACKTRACE: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += c.toString(); });
  child.stderr.on('data', (c) => { err += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, out, err };
}

/** `confab ARGS` against the server's data directory (and database). */
function admin(srv, args) {
  const env = process.env.CONFAB_E2E_DATABASE_URL
    ? { CONFAB_DATABASE_URL: process.env.CONFAB_E2E_DATABASE_URL }
    : {};
  return confab([...args, '--data-dir', srv.dataDir], env);
}

/** A password user registered over REST: `{id, username, password, token}`. */
async function register(srv, prefix = 'adm') {
  const username = uid(prefix).replace('-', '_');
  const password = 'correct horse battery staple';
  const res = await srv.rest('POST', '/api/auth/register', {
    body: { username, password, displayName: `Name ${username}` },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.user.id, username, password, token: res.body.token };
}

function login(srv, u) {
  return srv.rest('POST', '/api/auth/login', { body: { username: u.username, password: u.password } });
}

/** Resolves with the reason once `socket` is disconnected, or rejects after `ms`. */
function disconnected(socket, ms = 8000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the socket stayed connected')), ms);
    socket.once('disconnect', (reason) => {
      clearTimeout(t);
      resolve(reason);
    });
  });
}

describe('confab user / backup / check-config beside a running server', () => {
  let srv;
  const scratch = mkdtempSync(join(tmpdir(), 'confab-admin-'));
  before(async () => { srv = await startServer(); });
  after(async () => {
    await srv?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lists users as a table and as JSON, paged by id', async () => {
    const a = await register(srv);
    const b = await register(srv);
    const json = await admin(srv, ['user', 'list', '--json', '--limit', '1000']);
    assert.equal(json.code, 0, json.err);
    const users = JSON.parse(json.out);
    for (const u of [a, b]) {
      const line = users.find((x) => x.id === u.id);
      assert.ok(line, `${u.id} listed`);
      assert.equal(line.username, u.username);
      assert.equal(line.name, `Name ${u.username}`);
      assert.equal(line.disabled, false);
      assert.equal(typeof line.createdAt, 'number');
    }
    const ids = users.map((x) => x.id);
    assert.deepEqual(ids, [...ids].sort(), 'by id');
    const page = JSON.parse((await admin(srv, ['user', 'list', '--json', '--limit', '1', '--after', ids[0]])).out);
    assert.equal(page.length, 1);
    assert.equal(page[0].id, ids[1]);
    const table = await admin(srv, ['user', 'list']);
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, /^id\tname\tusername\temail\tcreated\tlast_seen\tdisabled\n/);
    assert.ok(table.out.includes(`${a.id}\tName ${a.username}\t${a.username}\t`));
  });

  it('refuses bad input and a directory without a database', async () => {
    assert.equal((await admin(srv, ['user', 'list', '--limit', 'many'])).code, 2);
    assert.equal((await admin(srv, ['user', 'disable', 'bad id'])).code, 2);
    const none = await admin(srv, ['user', 'disable', uid('nobody')]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no user nobody-/);
    const empty = mkdtempSync(join(scratch, 'empty-'));
    const r = await confab(['user', 'list', '--data-dir', empty]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no database at .*confab\.db/);
    assert.ok(!existsSync(join(empty, 'confab.db')), 'no empty database made');
  });

  it('disable: login 403, tokens refused on REST and at the handshake, open sockets closed; enable undoes it', async () => {
    const u = await register(srv);
    const socket = await connect(srv, { token: u.token });
    const gone = disconnected(socket);
    const r = await admin(srv, ['user', 'disable', u.id]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /is disabled/);

    const denied = await login(srv, u);
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.equal(denied.body.error.code, 'FORBIDDEN');
    assert.match(denied.body.error.message, /disabled/);
    const wrong = await srv.rest('POST', '/api/auth/login', { body: { username: u.username, password: 'not the password' } });
    assert.equal(wrong.status, 401, 'a wrong password says nothing about the account');

    const me = await srv.rest('GET', '/api/me', { token: u.token });
    assert.equal(me.status, 401);
    assert.match(me.body.error.message, /disabled/);
    await assert.rejects(connect(srv, { token: u.token }), /disabled/);
    assert.equal(await gone, 'io server disconnect');
    assert.equal(JSON.parse((await admin(srv, ['user', 'list', '--json'])).out).find((x) => x.id === u.id).disabled, true);

    assert.equal((await admin(srv, ['user', 'enable', u.id])).code, 0);
    const back = await login(srv, u);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal((await srv.rest('GET', '/api/me', { token: u.token })).status, 200);
    await close(await connect(srv, { token: back.body.token }));
  });

  it('disable: V Chat\'s login answers 403 in its own error shape', async () => {
    const email = `${uid('vc')}@example.com`;
    const password = 'correct horse battery staple';
    const vchat = (path, body) => fetch(`${srv.urls.vchat}/api/v1/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': 'en' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const reg = await vchat('user/register', { name: 'V User', email, password, platform: 'Android' });
    assert.ok(reg.status < 300, JSON.stringify(reg.body));
    const id = reg.body.data._id;
    assert.equal((await admin(srv, ['user', 'disable', id])).code, 0);
    const denied = await vchat('user/login', { email, password });
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.equal(denied.body.success, false);
    assert.equal(denied.body.code, 'FORBIDDEN');
    assert.match(denied.body.error, /disabled/);
    assert.equal((await admin(srv, ['user', 'enable', id])).code, 0);
    assert.equal((await vchat('user/login', { email, password })).status, 200);
  });

  it('revoke-tokens: tokens issued before refused, new ones accepted', async () => {
    const u = await register(srv);
    const other = await register(srv);
    const socket = await connect(srv, { token: u.token });
    const gone = disconnected(socket);
    assert.equal((await admin(srv, ['user', 'revoke-tokens'])).code, 2, 'an id or --all');
    assert.equal((await admin(srv, ['user', 'revoke-tokens', uid('nobody')])).code, 1, 'an unknown user');
    const r = await admin(srv, ['user', 'revoke-tokens', u.id]);
    assert.equal(r.code, 0, r.err);
    const old = await srv.rest('GET', '/api/me', { token: u.token });
    assert.equal(old.status, 401);
    assert.match(old.body.error.message, /revoked/);
    await assert.rejects(connect(srv, { token: u.token }), /revoked/);
    assert.equal(await gone, 'io server disconnect');
    assert.equal((await srv.rest('GET', '/api/me', { token: other.token })).status, 200, 'other users keep theirs');

    await sleep(1100); // A revocation covers the second it was made in.
    const fresh = await login(srv, u);
    assert.equal(fresh.status, 200);
    assert.equal((await srv.rest('GET', '/api/me', { token: fresh.body.token })).status, 200);
    const cli = await srv.token(u.id);
    assert.equal((await srv.rest('GET', '/api/me', { token: cli })).status, 200, 'confab token sets iat');
    await close(await connect(srv, { token: fresh.body.token }));
  });

  // On a server of its own: --all refuses every token issued so far, which
  // other tests on a shared database would feel.
  it('revoke-tokens --all: every user, and users not seen yet', { skip: !!process.env.CONFAB_E2E_DATABASE_URL }, async () => {
    const own = await startServer();
    try {
      const a = await register(own);
      const b = await register(own);
      const unseen = await own.token(uid('unseen'));
      const unseenSocket = await own.token(uid('unseen'));
      const all = await admin(own, ['user', 'revoke-tokens', '--all']);
      assert.equal(all.code, 0, all.err);
      assert.match(all.out, /tokens of 2 users/);
      for (const t of [a.token, b.token]) {
        assert.equal((await own.rest('GET', '/api/me', { token: t })).status, 401);
      }
      // A user not in the store yet is born with the revocation.
      const never = await own.rest('GET', '/api/me', { token: unseen });
      assert.equal(never.status, 401, JSON.stringify(never.body));
      assert.match(never.body.error.message, /revoked/);
      await assert.rejects(connect(own, { token: unseenSocket }), /revoked/);
      await sleep(1100);
      const fresh = await login(own, a);
      assert.equal(fresh.status, 200);
      assert.equal((await own.rest('GET', '/api/me', { token: fresh.body.token })).status, 200);
    } finally {
      await own.stop();
    }
  });

  it('export: the user, their conversations, messages, devices and friendships as JSON', async () => {
    const a = await register(srv);
    const b = await register(srv);
    const conv = await conversation(srv, a, [b.id]);
    const sent = await srv.rest('POST', `/api/conversations/${conv.id}/messages`, { token: a.token, body: { text: 'exported hello' } });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    const r = await admin(srv, ['user', 'export', a.id]);
    assert.equal(r.code, 0, r.err);
    const data = JSON.parse(r.out);
    assert.deepEqual(Object.keys(data).sort(), ['conversations', 'devices', 'exportedAt', 'friendships', 'messages', 'user']);
    assert.equal(data.user.id, a.id);
    assert.equal(data.user.username, a.username);
    assert.equal(data.conversations.length, 1);
    assert.equal(data.messages.length, 1);
    assert.equal(data.messages[0].text, 'exported hello');
    assert.deepEqual(data.devices, []);
    const file = join(scratch, `${a.id}.json`);
    const w = await admin(srv, ['user', 'export', a.id, '--out', file]);
    assert.equal(w.code, 0, w.err);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).user.id, a.id);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal((await admin(srv, ['user', 'export', uid('nobody')])).code, 1);
  });

  it('delete: the account and personal data go, messages stay from "deleted user"', async () => {
    const a = await register(srv);
    const b = await register(srv);
    const conv = await conversation(srv, a, [b.id]);
    await srv.rest('POST', `/api/conversations/${conv.id}/messages`, { token: a.token, body: { text: 'before I go' } });
    const asked = await admin(srv, ['user', 'delete', a.id]);
    assert.equal(asked.code, 1, 'not without --yes off a terminal');
    assert.match(asked.err, /--yes/);
    assert.equal((await login(srv, a)).status, 200, 'still there');

    const r = await admin(srv, ['user', 'delete', a.id, '--yes']);
    assert.equal(r.code, 0, r.err);
    assert.equal((await login(srv, a)).status, 401);
    assert.equal((await srv.rest('GET', '/api/me', { token: a.token })).status, 401);
    const line = JSON.parse((await admin(srv, ['user', 'list', '--json', '--limit', '1000'])).out).find((x) => x.id === a.id);
    assert.deepEqual([line.name, line.username, line.deleted, line.disabled], ['deleted user', null, true, true]);
    const kept = await history(srv, b, conv.id);
    assert.equal(kept.length, 1);
    assert.equal(kept[0].text, 'before I go');
    assert.equal(kept[0].senderId, a.id);
    const data = JSON.parse((await admin(srv, ['user', 'export', a.id])).out);
    assert.equal(data.user.displayName, null);
    assert.deepEqual(data.conversations, [], 'memberships gone');
    assert.equal((await admin(srv, ['user', 'delete', a.id, '--yes'])).code, 1, 'deleted already');
    assert.equal((await admin(srv, ['user', 'enable', a.id])).code, 1, 'a deleted user stays disabled');
  });

  it('backup while serving: another server opens a copy of it and sees the data', { skip: !!process.env.CONFAB_E2E_DATABASE_URL }, async () => {
    const a = await register(srv);
    const b = await register(srv);
    const conv = await conversation(srv, a, [b.id]);
    await srv.rest('POST', `/api/conversations/${conv.id}/messages`, { token: a.token, body: { text: 'in the backup' } });
    const file = join(scratch, 'backup.db');
    const r = await admin(srv, ['backup', file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await admin(srv, ['backup', file]);
    assert.equal(again.code, 1);
    assert.match(again.err, /exists/);

    const copyDir = mkdtempSync(join(scratch, 'copy-'));
    copyFileSync(file, join(copyDir, 'confab.db'));
    copyFileSync(join(srv.dataDir, 'jwt-secret'), join(copyDir, 'jwt-secret'));
    const srv2 = await startServer({ env: { CONFAB_DATA_DIR: copyDir } });
    try {
      const seen = await srv2.rest('GET', `/api/conversations/${conv.id}/messages`, { token: b.token });
      assert.equal(seen.status, 200, JSON.stringify(seen.body));
      assert.deepEqual(seen.body.messages.map((m) => m.text), ['in the backup']);
      const login2 = await srv2.rest('POST', '/api/auth/login', { body: { username: a.username, password: a.password } });
      assert.equal(login2.status, 200);
    } finally {
      await srv2.stop();
    }
  });

  it('backup on PostgreSQL points at pg_dump', async () => {
    const r = await confab(['backup', join(scratch, 'pg.db')], { CONFAB_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    assert.equal(r.code, 1);
    assert.match(r.err, /pg_dump/);
  });

  it('check-config: a good configuration, secrets redacted, exit 0', async () => {
    const secret = 'a-very-long-secret-that-nobody-should-see-0123456789';
    const r = await confab(['check-config', '--data-dir', srv.dataDir], { CONFAB_AUTH_JWT_SECRET: secret });
    assert.equal(r.code, 0, r.out + r.err);
    assert.ok(!r.out.includes(secret), 'secret shown');
    assert.match(r.out, /jwt_secret = "\*\*\*"/);
    assert.match(r.out, /\[dialects\.dozaar\]/);
    assert.match(r.out, /the configuration is usable/);
  });

  it('check-config: every problem listed, exit 1', async () => {
    const short = await confab(['check-config', '--data-dir', scratch], {
      CONFAB_AUTH_JWT_SECRET: 'short',
      CONFAB_PUSH_FCM_SERVICE_ACCOUNT_FILE: join(scratch, 'missing-fcm.json'),
      CONFAB_UNKNOWN_THING: '1',
    });
    assert.equal(short.code, 1, short.out);
    assert.match(short.out, /problems:/);
    assert.match(short.out, /at least 32/);
    assert.match(short.out, /missing-fcm\.json/);
    assert.match(short.out, /warnings:\n.*CONFAB_UNKNOWN_THING/);
    assert.match(short.out, /NOT usable/);

    const ports = await confab(['check-config', '--data-dir', scratch], {
      CONFAB_DOZAAR_PORT: '4000',
      CONFAB_SYARAH_PORT: '4000',
    });
    assert.equal(ports.code, 1);
    assert.match(ports.out, /4000/);
    assert.match(ports.out, /NOT usable/);

    const redis = await confab(['check-config', '--data-dir', scratch], { CONFAB_REDIS_URL: 'http://not-redis' });
    assert.equal(redis.code, 1);
    assert.match(redis.out, /redis_url/);

    const config = join(scratch, 'bad.toml');
    writeFileSync(config, 'bind = "not an ip"\n');
    const bad = await confab(['check-config', '--config', config]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /bind/);
  });

  it('check-config --connect: a database that does not answer is a problem', async () => {
    const r = await confab(['check-config', '--connect', '--data-dir', scratch], {
      CONFAB_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      CONFAB_REDIS_URL: 'redis://127.0.0.1:1',
    });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /database does not answer/);
    assert.match(r.out, /Redis does not answer/);
  });
});
