// The Node.js peer confab is measured against: a Socket.IO 4.8 server that
// speaks the Dozaar dialect the way the seeds' own servers are written (JWT
// check in a middleware, membership checked in the database on join and on
// send, the message inserted with a per-conversation seq, then emitted to the
// room and as a notification to the members' personal rooms), on
// better-sqlite3 in WAL mode, and the two REST routes the benchmark sets up
// with. Kept at its best settings: `ws` with `bufferutil`, no compression, no
// debug logging (run with NODE_ENV=production).
//
// Env: PORT (3001), JWT_SECRET (required), DB_PATH (a fresh file per run),
// PING_INTERVAL_MS (25000), PING_TIMEOUT_MS (60000).

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';

const PORT = Number(process.env.PORT || 3001);
const SECRET = process.env.JWT_SECRET;
const DB_PATH = process.env.DB_PATH || 'peer.sqlite';
const MAX_TEXT = 10000;
const MAX_CREATE_IDS = 500;
if (!SECRET) {
  console.error('peer: JWT_SECRET is required');
  process.exit(2);
}

// ---- storage ---------------------------------------------------------------

const db = new Database(DB_PATH);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.exec(`
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, display_name TEXT, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
  id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL DEFAULT 'member', last_read_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX IF NOT EXISTS members_by_user ON members(user_id);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  sender_id TEXT NOT NULL REFERENCES users(id), text TEXT, attachments TEXT,
  client_id TEXT, seq INTEGER NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id
  ON messages(conversation_id, sender_id, client_id) WHERE client_id IS NOT NULL;
`);

const q = {
  upsertUser: db.prepare(
    `INSERT INTO users (id, display_name, created_at) VALUES (?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET display_name = COALESCE(excluded.display_name, users.display_name)`),
  placeholderUser: db.prepare('INSERT OR IGNORE INTO users (id, display_name, created_at) VALUES (?, NULL, ?)'),
  user: db.prepare('SELECT id, display_name FROM users WHERE id = ?'),
  conversation: db.prepare('SELECT id, uuid, kind, title FROM conversations WHERE uuid = ?'),
  insertConversation: db.prepare(
    'INSERT INTO conversations (uuid, kind, title, created_at) VALUES (?, ?, ?, ?) RETURNING id'),
  direct: db.prepare(
    `SELECT c.id, c.uuid FROM conversations c
       JOIN members a ON a.conversation_id = c.id AND a.user_id = ?
       JOIN members b ON b.conversation_id = c.id AND b.user_id = ?
     WHERE c.kind = 'direct' LIMIT 1`),
  addMember: db.prepare('INSERT OR IGNORE INTO members (conversation_id, user_id, role) VALUES (?, ?, ?)'),
  membership: db.prepare(
    `SELECT c.id, c.uuid, m.role FROM conversations c
       JOIN members m ON m.conversation_id = c.id AND m.user_id = ? WHERE c.uuid = ?`),
  memberIds: db.prepare('SELECT user_id FROM members WHERE conversation_id = ?'),
  nextSeq: db.prepare('UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq'),
  insertMessage: db.prepare(
    `INSERT INTO messages (uuid, conversation_id, sender_id, text, attachments, client_id, seq, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
  byClientId: db.prepare(
    'SELECT * FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?'),
  message: db.prepare(
    `SELECT m.*, c.uuid AS conversation_uuid FROM messages m
       JOIN conversations c ON c.id = m.conversation_id WHERE m.uuid = ?`),
  markRead: db.prepare(
    'UPDATE members SET last_read_seq = ? WHERE conversation_id = ? AND user_id = ? AND last_read_seq < ?'),
};

const storeMessage = db.transaction((conversationId, senderId, text, attachments, clientId) => {
  if (clientId) {
    const existing = q.byClientId.get(conversationId, senderId, clientId);
    if (existing) return { row: existing, duplicate: true };
  }
  const { last_seq: seq } = q.nextSeq.get(conversationId);
  const uuid = randomUUID();
  const now = Date.now();
  q.insertMessage.run(uuid, conversationId, senderId, text, JSON.stringify(attachments), clientId, seq, now);
  return {
    row: { uuid, conversation_id: conversationId, sender_id: senderId, text, attachments: JSON.stringify(attachments), client_id: clientId, seq, created_at: now },
    duplicate: false,
  };
});

const createConversation = db.transaction((owner, kind, memberIds, title) => {
  const now = Date.now();
  for (const id of memberIds) q.placeholderUser.run(id, now);
  if (kind === 'direct') {
    const found = q.direct.get(owner, memberIds[0]);
    if (found) return { uuid: found.uuid, created: false };
  }
  const uuid = randomUUID();
  const { id } = q.insertConversation.get(uuid, kind, kind === 'group' ? title || null : null, now);
  q.addMember.run(id, owner, kind === 'group' ? 'owner' : 'member');
  for (const m of memberIds) if (m !== owner) q.addMember.run(id, m, 'member');
  return { uuid, created: true };
});

function provision(claims) {
  q.upsertUser.run(String(claims.sub), claims.name ?? null, Date.now());
  return { id: String(claims.sub), name: claims.name ?? String(claims.sub) };
}

function verify(token) {
  if (!token) throw new Error('missing token');
  if (token.startsWith('Bearer ')) token = token.slice(7);
  const claims = jwt.verify(token, SECRET, { algorithms: ['HS256'] });
  if (!claims.sub) throw new Error('token has no sub');
  return provision(claims);
}

// ---- REST --------------------------------------------------------------------

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1 << 20) { reject(new Error('body too large')); req.destroy(); } else chunks.push(c);
    });
    req.on('end', () => {
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')); } catch (e) { reject(e); }
    });
    req.on('error', reject);
  });
}

const idOk = (s) => typeof s === 'string' && s.length > 0 && s.length <= 128 && /^[A-Za-z0-9._:@-]+$/.test(s);

async function api(req, res) {
  let user;
  try {
    user = verify(req.headers.authorization);
  } catch (e) {
    return send(res, 401, { error: { code: 'UNAUTHORIZED', message: e.message } });
  }
  let body;
  try {
    body = await readJson(req);
  } catch {
    return send(res, 400, { error: { code: 'INVALID_PAYLOAD', message: 'invalid JSON' } });
  }
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/conversations') {
    const { kind, memberIds, title } = body;
    if ((kind !== 'direct' && kind !== 'group') || !Array.isArray(memberIds) || !memberIds.every(idOk)
      || memberIds.length > MAX_CREATE_IDS || (kind === 'direct' && memberIds.length !== 1)) {
      return send(res, 400, { error: { code: 'INVALID_PAYLOAD', message: 'kind and memberIds' } });
    }
    const r = createConversation(user.id, kind, memberIds, title);
    return send(res, r.created ? 201 : 200, { uuid: r.uuid, kind });
  }
  const m = url.pathname.match(/^\/api\/conversations\/([^/]+)\/members$/);
  if (m) {
    if (!idOk(body.userId)) return send(res, 400, { error: { code: 'INVALID_PAYLOAD', message: 'userId' } });
    const conv = q.membership.get(user.id, m[1]);
    if (!conv) return send(res, 404, { error: { code: 'NOT_FOUND', message: 'conversation not found' } });
    if (conv.role !== 'owner' && conv.role !== 'admin') {
      return send(res, 403, { error: { code: 'FORBIDDEN', message: 'only admins add members' } });
    }
    q.placeholderUser.run(body.userId, Date.now());
    q.addMember.run(conv.id, body.userId, 'member');
    return send(res, 200, { uuid: conv.uuid });
  }
  return send(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/api/')) {
    api(req, res).catch((e) => send(res, 500, { error: { code: 'INTERNAL', message: e.message } }));
  } else if (!req.url.startsWith('/socket.io/')) {
    send(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  }
});

// ---- Socket.IO -----------------------------------------------------------------

const io = new Server(server, {
  transports: ['polling', 'websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  pingInterval: Number(process.env.PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS || 60000),
  maxHttpBufferSize: 65536,
  cors: { origin: '*' },
});

const chat = io.of('/chat');
const userRoom = (id) => `user:${id}`;
const convRoom = (uuid) => `conversation:${uuid}`;

chat.use((socket, next) => {
  try {
    const header = socket.handshake.headers.authorization;
    socket.data.user = verify(header || socket.handshake.auth?.token);
    next();
  } catch (e) {
    next(new Error(e.name === 'TokenExpiredError' ? 'token expired' : e.message));
  }
});

function exception(socket, event, error, code) {
  socket.emit('exception', { event, error, code });
}

function messagePayload(row, conversationUuid, sender) {
  const at = new Date(row.created_at).toISOString();
  return {
    id: row.uuid,
    conversationId: conversationUuid,
    senderId: row.sender_id,
    message: row.text,
    attachmentUrls: JSON.parse(row.attachments || '[]'),
    clientId: row.client_id,
    seq: row.seq,
    createdAt: at,
    updatedAt: at,
    editedAt: null,
    deletedAt: null,
    sender: { id: sender.id, username: sender.name, displayName: sender.name, avatarUrl: null },
  };
}

chat.on('connection', (socket) => {
  const me = socket.data.user;
  socket.join(userRoom(me.id));

  socket.on('join:conversation', (p) => {
    const conv = p && typeof p.conversationId === 'string' ? q.membership.get(me.id, p.conversationId) : null;
    if (!conv) return exception(socket, 'join:conversation', 'conversation not found', 'NOT_FOUND');
    socket.join(convRoom(conv.uuid));
    socket.emit('joined:conversation', { conversationId: conv.uuid });
  });

  socket.on('leave:conversation', (p) => {
    if (p && typeof p.conversationId === 'string') socket.leave(convRoom(p.conversationId));
  });

  socket.on('send:message', (p) => {
    if (!p || typeof p.conversationId !== 'string') {
      return exception(socket, 'send:message', 'conversationId required', 'INVALID_PAYLOAD');
    }
    const text = typeof p.message === 'string' && p.message.trim() ? p.message : null;
    const attachments = Array.isArray(p.attachmentUrls) ? p.attachmentUrls.filter((u) => typeof u === 'string') : [];
    if (!text && attachments.length === 0) {
      return exception(socket, 'send:message', 'message or attachmentUrls required', 'INVALID_PAYLOAD');
    }
    if (text && text.length > MAX_TEXT) {
      return exception(socket, 'send:message', `message text exceeds ${MAX_TEXT} characters`, 'INVALID_PAYLOAD');
    }
    const clientId = typeof p.clientId === 'string' ? p.clientId : null;
    const conv = q.membership.get(me.id, p.conversationId);
    if (!conv) return exception(socket, 'send:message', 'conversation not found', 'NOT_FOUND');
    let stored;
    try {
      stored = storeMessage(conv.id, me.id, text, attachments, clientId);
    } catch (e) {
      return exception(socket, 'send:message', 'could not store the message', 'INTERNAL');
    }
    const payload = messagePayload(stored.row, conv.uuid, me);
    if (stored.duplicate) return socket.emit('new:message', payload);
    const room = convRoom(conv.uuid);
    chat.to(room).emit('new:message', payload);
    const others = q.memberIds.all(conv.id).map((r) => r.user_id).filter((id) => id !== me.id).map(userRoom);
    if (others.length > 0) {
      chat.to(others).except(room).emit('message:notification', {
        conversationId: conv.uuid,
        messageId: payload.id,
        preview: (text || '').slice(0, 100),
        sender: { id: me.id, username: me.name },
        timestamp: stored.row.created_at,
      });
    }
  });

  for (const [event, typing] of [['typing:start', 'user:typing'], ['typing:stop', 'user:stopped_typing']]) {
    socket.on(event, (p) => {
      if (!p || typeof p.conversationId !== 'string') return exception(socket, event, 'conversationId required', 'INVALID_PAYLOAD');
      const conv = q.membership.get(me.id, p.conversationId);
      if (!conv) return exception(socket, event, 'conversation not found', 'NOT_FOUND');
      socket.to(convRoom(conv.uuid)).except(userRoom(me.id)).emit(typing, {
        conversationId: conv.uuid, userId: me.id, username: me.name,
      });
    });
  }

  socket.on('mark:read', (p) => {
    if (!p || typeof p.messageId !== 'string') return exception(socket, 'mark:read', 'messageId required', 'INVALID_PAYLOAD');
    const msg = q.message.get(p.messageId);
    const conv = msg ? q.membership.get(me.id, msg.conversation_uuid) : null;
    if (!conv) return exception(socket, 'mark:read', 'message not found', 'NOT_FOUND');
    const changed = q.markRead.run(msg.seq, conv.id, me.id, msg.seq).changes;
    if (changed === 0) return;
    const others = q.memberIds.all(conv.id).map((r) => r.user_id).filter((id) => id !== me.id).map(userRoom);
    if (others.length > 0) {
      chat.to(others).emit('message:read', {
        messageId: msg.uuid, conversationId: conv.uuid, readBy: me.id, readUpToSeq: msg.seq, timestamp: Date.now(),
      });
    }
  });
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`peer: dozaar listening on http://127.0.0.1:${PORT}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    io.close();
    db.close();
    process.exit(0);
  });
}
