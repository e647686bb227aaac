// Black-box tests of tokens from the apps' existing issuers, with the official
// socket.io-client, against the real `confab` binary: the token shapes each
// seed app's backend signs, accepted on that dialect's sockets and REST once
// `auth.*_claims` / `dialects.<name>.auth` say where the user id is, and
// refused with a message naming the claims looked for when they do not.
//
// - Voxora (apps/api/src/shared/utils/auth.ts): HS256 `jwt.sign({userId,
//   email, activeOrganizationId, type: "access"}, secret, {expiresIn})`.
// - An Express/MongoDB backend (JobSpare-style): `jwt.sign({id, name, email},
//   secret)`, no `expiresIn`, so no `exp`.
// - A V Chat-style backend: `{_id}` (a MongoDB ObjectId), no `exp`.
// - Syarah's .NET-style backend: `{UserId}` (a GUID), with `exp`.
//
// Run: `node --test e2e/tokens.test.mjs` after `cargo build --bin confab`.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, connect, closeAll, waitFor, emitAck, sleep } from './lib/server.mjs';

const SECRET = 'the-apps-own-hs256-secret-' + randomBytes(8).toString('hex');
const now = () => Math.floor(Date.now() / 1000);

/** A JWT as the `jsonwebtoken` package signs it: `iat` added, `exp` if `expiresIn`. */
function jwt(payload, { expiresIn, alg = 'HS256', secret = SECRET, key } = {}) {
  const claims = { ...payload, iat: now() };
  if (expiresIn !== undefined) claims.exp = claims.iat + expiresIn;
  const input = `${b64u(JSON.stringify({ alg, typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
  const signature = alg === 'HS256'
    ? createHmac('sha256', secret).update(input).digest()
    : cryptoSign('sha256', Buffer.from(input), key);
  return `${input}.${b64u(signature)}`;
}

const b64u = (s) => Buffer.from(s).toString('base64url');

/** A MongoDB ObjectId-like hex id. */
const objectId = () => randomBytes(12).toString('hex');

/** The token shapes of the seed apps' issuers, for a fresh user each. */
const shapes = {
  voxora: () => {
    const id = objectId();
    const token = jwt(
      { userId: id, email: `agent-${id.slice(-6)}@example.com`, activeOrganizationId: objectId(), type: 'access' },
      { expiresIn: 900 },
    );
    return { id, token };
  },
  express: ({ exp = false } = {}) => {
    const id = objectId();
    const name = `Ada ${id.slice(-4)}`;
    const token = jwt({ id, name, email: `ada-${id.slice(-6)}@example.com` }, exp ? { expiresIn: 3600 } : {});
    return { id, name, token };
  },
  vchat: ({ exp = false } = {}) => {
    const id = objectId();
    return { id, token: jwt({ _id: id }, exp ? { expiresIn: 3600 } : {}) };
  },
  syarah: () => {
    const id = randomUUID();
    return { id, token: jwt({ UserId: id, unique_name: 'sara' }, { expiresIn: 3600 }) };
  },
};

const EXP_WARNING = 'tokens without `exp` are accepted';

/**
 * The server's log lines that warn about exp, once there are `count` of them
 * (stderr may arrive after the listening lines on stdout), or after `waitMs`.
 */
async function expWarnings(server, count, waitMs = 3000) {
  const lines = () => server.log().split('\n').filter((l) => l.includes(EXP_WARNING));
  for (let waited = 0; waited < waitMs && lines().length < count; waited += 100) await sleep(100);
  return lines();
}

/** `fetch` against one listener's REST API; resolves `{status, body}`. */
async function rest(base, method, path, { authorization, body } = {}) {
  const headers = { accept: 'application/json' };
  if (authorization) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, body: parsed };
}

/** Each dialect's client, as its app connects. */
const clients = {
  voxora: (server, token) => connect(server, { url: server.urls.voxora, auth: { token } }),
  jobspare: (server, token) => connect(server, { url: server.urls.jobspare, auth: { token } }),
  vchat: (server, token) => connect(server, {
    url: server.urls.vchat,
    extraHeaders: { Authorization: token },
    transports: ['websocket'],
  }),
  syarah: (server, token, userId) => connect(server, {
    url: server.urls.syarah,
    query: { userId },
    auth: { accessToken: token },
  }),
  dozaar: (server, token) => connect(server, { token }),
};

/** Asserts that connecting is refused with a `connect_error` whose message matches `pattern`. */
async function refusedWith(connecting, pattern) {
  const err = await connecting.then(
    () => assert.fail('the connection was accepted'),
    (e) => e,
  );
  assert.match(err.message, pattern);
  return err.message;
}

/** Asserts confab's REST error shape: 401 `{error: {code: UNAUTHENTICATED, message}}`. */
function unauthenticated(res, pattern) {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body?.error?.code, 'UNAUTHENTICATED', JSON.stringify(res.body));
  assert.match(res.body.error.message, pattern);
}

/** Asserts V Chat's REST error shape: 401 `{success: false, error, code}`. */
function vchatUnauthenticated(res, pattern) {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body?.success, false, JSON.stringify(res.body));
  assert.equal(res.body.code, 'UNAUTHENTICATED');
  assert.match(res.body.error, pattern);
}

describe('tokens of existing issuers, mapped per dialect', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: {
        CONFAB_AUTH_JWT_SECRET: SECRET,
        CONFAB_DIALECTS_VOXORA_AUTH_USER_ID_CLAIMS: 'sub,userId',
        CONFAB_DIALECTS_JOBSPARE_AUTH_USER_ID_CLAIMS: 'sub,id',
        CONFAB_DIALECTS_JOBSPARE_AUTH_REQUIRE_EXP: 'false',
        CONFAB_DIALECTS_VCHAT_AUTH_USER_ID_CLAIMS: 'sub,_id',
        CONFAB_DIALECTS_VCHAT_AUTH_REQUIRE_EXP: 'false',
        CONFAB_DIALECTS_SYARAH_AUTH_USER_ID_CLAIMS: 'UserId',
      },
    });
  });
  afterEach(() => closeAll());
  after(() => server.stop());

  it('warns at start about each listener that accepts tokens without exp', async () => {
    const warnings = await expWarnings(server, 2);
    assert.equal(warnings.length, 2, server.log());
    assert.ok(warnings.some((l) => l.includes('jobspare')), warnings.join('\n'));
    assert.ok(warnings.some((l) => l.includes('vchat')), warnings.join('\n'));
  });

  it('Voxora {userId, activeOrganizationId, type}: socket and REST on the Voxora listener, a message both ways', async () => {
    const a = shapes.voxora();
    const b = shapes.voxora();
    const base = server.urls.voxora;
    const me = await rest(base, 'GET', '/api/me', { authorization: `Bearer ${a.token}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, a.id);
    assert.match(me.body.email, /^agent-.*@example\.com$/);
    const created = await rest(base, 'POST', '/api/conversations', {
      authorization: `Bearer ${a.token}`,
      body: { kind: 'direct', memberIds: [b.id] },
    });
    assert.ok(created.status === 201 || created.status === 200, JSON.stringify(created.body));
    const sa = await clients.voxora(server, a.token);
    const sb = await clients.voxora(server, b.token);
    const got = waitFor(sb, 'new_message', (m) => m.content === 'hello from voxora');
    const ack = await emitAck(sa, 'send_message', { conversationId: String(created.body.id), content: 'hello from voxora' });
    assert.equal(typeof ack._id, 'string', JSON.stringify(ack));
    const m = await got;
    assert.equal(m.senderId, a.id, JSON.stringify(m));
  });

  it('Voxora tokens are refused where userId is not mapped, naming the claims looked for', async () => {
    const a = shapes.voxora();
    await refusedWith(clients.dozaar(server, a.token), /none of the claims `sub` is set/);
    unauthenticated(
      await rest(server.urls.dozaar, 'GET', '/api/me', { authorization: `Bearer ${a.token}` }),
      /none of the claims `sub` is set/,
    );
    await refusedWith(clients.vchat(server, a.token), /none of the claims `sub`, `_id` is set/);
  });

  it('Express {id, name, email} without exp: JobSpare socket and REST, profile from the claims', async () => {
    const a = shapes.express();
    const s = await clients.jobspare(server, a.token);
    assert.deepEqual(await waitFor(s, 'authenticated'), { userId: a.id, success: true });
    const me = await rest(server.urls.jobspare, 'GET', '/api/me', { authorization: `Bearer ${a.token}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, a.id);
    assert.equal(me.body.displayName, a.name);
    assert.match(me.body.email, /^ada-.*@example\.com$/);
    // The same token where exp is required: refused for that.
    await refusedWith(clients.voxora(server, a.token), /token claim `exp` is missing or invalid/);
    // An expired exp is still checked where exp is optional.
    const expired = jwt({ id: objectId(), exp: now() - 3600 });
    await refusedWith(clients.jobspare(server, expired), /token expired/);
  });

  it('V Chat {_id} without exp: the SDK\'s raw token on the V Chat socket and REST', async () => {
    const a = shapes.vchat();
    const s = await clients.vchat(server, a.token);
    assert.ok(s.connected);
    const me = await rest(server.urls.vchat, 'GET', '/api/v1/user/me', { authorization: a.token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.data._id, a.id);
    // On the Voxora listener (exp required), in V Chat's error shape.
    vchatUnauthenticated(
      await rest(server.urls.voxora, 'GET', '/api/v1/user/me', { authorization: a.token }),
      /token claim `exp` is missing or invalid/,
    );
    const withExp = shapes.vchat({ exp: true });
    vchatUnauthenticated(
      await rest(server.urls.voxora, 'GET', '/api/v1/user/me', { authorization: withExp.token }),
      /none of the claims `sub`, `userId` is set/,
    );
  });

  it('Syarah {UserId}: the connection\'s userId must be the mapped claim', async () => {
    const a = shapes.syarah();
    const s = await clients.syarah(server, a.token, a.id);
    assert.ok(s.connected);
    await refusedWith(clients.syarah(server, a.token, randomUUID()), /userId does not match/);
    const sub = jwt({ sub: a.id }, { expiresIn: 60 });
    await refusedWith(clients.syarah(server, sub, a.id), /none of the claims `UserId` is set/);
  });

  it('a user id claim holding an object is refused naming the claim', async () => {
    const bad = jwt({ id: { $oid: objectId() } });
    await refusedWith(clients.jobspare(server, bad), /token claim `id` is not a valid user id: an object/);
    unauthenticated(
      await rest(server.urls.jobspare, 'GET', '/api/me', { authorization: `Bearer ${bad}` }),
      /token claim `id` is not a valid user id/,
    );
  });

  it('alg none is still refused whatever the mapping', async () => {
    const unsigned = `${b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify({ _id: objectId() }))}.`;
    await refusedWith(clients.vchat(server, unsigned), /algorithm not accepted/);
    const forged = jwt({ _id: objectId() }, { secret: 'not-the-apps-secret-not-the-apps-secret' });
    await refusedWith(clients.vchat(server, forged), /invalid token signature/);
  });
});

describe('tokens of existing issuers, not configured', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { CONFAB_AUTH_JWT_SECRET: SECRET } });
  });
  afterEach(() => closeAll());
  after(() => server.stop());

  it('does not warn about exp', async () => {
    assert.deepEqual(await expWarnings(server, 1, 500), [], server.log());
  });

  it('refuses each issuer\'s shape on its dialect\'s socket and REST with a clear message', async () => {
    const voxora = shapes.voxora();
    await refusedWith(clients.voxora(server, voxora.token), /token has no user id: none of the claims `sub` is set/);
    unauthenticated(
      await rest(server.urls.voxora, 'GET', '/api/me', { authorization: `Bearer ${voxora.token}` }),
      /none of the claims `sub` is set/,
    );

    const express = shapes.express();
    await refusedWith(clients.jobspare(server, express.token), /token claim `exp` is missing or invalid/);
    const expressExp = shapes.express({ exp: true });
    await refusedWith(clients.jobspare(server, expressExp.token), /none of the claims `sub` is set/);
    unauthenticated(
      await rest(server.urls.jobspare, 'GET', '/api/me', { authorization: `Bearer ${expressExp.token}` }),
      /none of the claims `sub` is set/,
    );

    const vchat = shapes.vchat();
    await refusedWith(clients.vchat(server, vchat.token), /token claim `exp` is missing or invalid/);
    const vchatExp = shapes.vchat({ exp: true });
    await refusedWith(clients.vchat(server, vchatExp.token), /none of the claims `sub` is set/);
    vchatUnauthenticated(
      await rest(server.urls.vchat, 'GET', '/api/v1/user/me', { authorization: vchatExp.token }),
      /none of the claims `sub` is set/,
    );

    const syarah = shapes.syarah();
    await refusedWith(clients.syarah(server, syarah.token, syarah.id), /none of the claims `sub` is set/);
  });
});

describe('tokens of existing issuers, mapped for every dialect in a config file, RS256', () => {
  let server;
  let dir;
  let privateKey;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'confab-e2e-tokens-'));
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    const pem = join(dir, 'issuer.pub.pem');
    writeFileSync(pem, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const file = join(dir, 'confab.toml');
    writeFileSync(file, [
      '[auth]',
      `jwt_secret = "${SECRET}"`,
      `public_key_files = [${JSON.stringify(pem)}]`,
      'user_id_claims = ["sub", "userId", "id", "_id"]',
      'name_claims = ["fullName", "name", "username"]',
      'avatar_claims = ["picture", "avatar", "image"]',
      'require_exp = false',
      '',
      '[dialects.dozaar.auth]',
      'require_exp = true',
      '',
    ].join('\n'));
    server = await startServer({ env: { CONFAB_CONFIG: file } });
  });
  afterEach(() => closeAll());
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns for every listener but the one that requires exp', async () => {
    const warnings = await expWarnings(server, 4);
    assert.equal(warnings.length, 4, server.log());
    assert.ok(!warnings.some((l) => l.includes('dozaar')), warnings.join('\n'));
  });

  it('accepts every shape on the dialects that use [auth], RS256 as well as HS256', async () => {
    const v = shapes.voxora();
    await clients.voxora(server, v.token);
    const x = shapes.express();
    const s = await clients.jobspare(server, x.token);
    assert.deepEqual(await waitFor(s, 'authenticated'), { userId: x.id, success: true });
    const c = shapes.vchat();
    await clients.vchat(server, c.token);

    const id = objectId();
    const rs = jwt(
      { _id: id, username: 'rsa-user', image: 'https://cdn.example.com/a.png' },
      { alg: 'RS256', key: privateKey },
    );
    const me = await rest(server.urls.jobspare, 'GET', '/api/me', { authorization: `Bearer ${rs}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, id);
    assert.equal(me.body.displayName, 'rsa-user');
    assert.equal(me.body.avatarUrl, 'https://cdn.example.com/a.png');
  });

  it('keeps exp required where the dialect says so', async () => {
    const x = shapes.express();
    await refusedWith(clients.dozaar(server, x.token), /token claim `exp` is missing or invalid/);
    const withExp = shapes.express({ exp: true });
    const s = await clients.dozaar(server, withExp.token);
    assert.ok(s.connected);
  });
});
