// Black-box tests of the JobSpare dialect (seeds/jobspare-api.txt) with the
// official socket.io-client, against the real `confab` binary. Decisions the
// seed leaves open are in docs/dialects/jobspare.md.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  ROOT, startServer, user, conversation, history, connect, closeAll, waitFor, expectNone, close, sleep, emitAck,
} from './lib/server.mjs';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A JobSpare client: the JWT in `auth.token`; resolves after `authenticated`. */
async function js(server, u) {
  const s = await connect(server, { url: server.urls.jobspare, auth: { token: u.token } });
  const auth = await waitFor(s, 'authenticated');
  assert.deepEqual(auth, { userId: u.id, success: true });
  return s;
}

async function join(s, conversationId) {
  s.emit('join_conversation', { conversationId, userId: 'ignored' });
  return waitFor(s, 'joined_conversation');
}

async function errorOf(s, event, payload) {
  s.emit(event, payload);
  return waitFor(s, 'error');
}

async function conversations(server, u) {
  const res = await server.rest('GET', '/api/conversations', { token: u.token });
  assert.equal(res.status, 200);
  return Array.isArray(res.body) ? res.body : res.body.conversations;
}

describe('jobspare dialect', () => {
  let server;
  before(async () => {
    server = await startServer({
      env: { CONFAB_LIMITS_MESSAGES_PER_MINUTE: '100000', CONFAB_TYPING_TTL_SECS: '2' },
    });
    assert.ok(server.urls.jobspare, 'jobspare listens');
  });
  after(async () => {
    await closeAll();
    await server.stop();
  });

  it('refuses a connection without a token', async () => {
    await assert.rejects(connect(server, { url: server.urls.jobspare }));
  });

  it('creates a_b on first use; either side names the same conversation', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const ja = await join(sa, `${a.id}_${b.id}`);
    const jb = await join(sb, `${a.id}_${b.id}`);
    assert.equal(ja.conversationId, jb.conversationId);
    const listA = await conversations(server, a);
    assert.equal(listA.length, 1);
    // The other order names it too (and the socket hears it so).
    const j2 = await join(sb, `${b.id}_${a.id}`);
    assert.equal(j2.id, ja.id);
    assert.equal(j2.conversationId, `${b.id}_${a.id}`);
    assert.equal((await conversations(server, b)).length, 1);
    // The server names it by the sorted pair, as JobSpare apps build it,
    // and gives the numeric id and UUID besides.
    const sorted = [a.id, b.id].sort().join('_');
    assert.equal(ja.conversationId, sorted);
    assert.equal(ja.id, listA[0].id);
    assert.equal(ja.uuid, listA[0].uuid);
  });

  it('names a conversation in every event to a socket as that socket named it', async () => {
    // Ids whose order differs from the order the client uses.
    const a = await user(server, 'zed');
    const b = await user(server, 'amy');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const mine = `${a.id}_${b.id}`;
    const sorted = [a.id, b.id].sort().join('_');
    assert.notEqual(mine, sorted);
    // zed's app says zed_amy, amy's says amy_zed: each keeps its own.
    assert.equal((await join(sa, mine)).conversationId, mine);
    assert.equal((await join(sb, sorted)).conversationId, sorted);
    const acked = await emitAck(sa, 'send_message', { conversationId: mine, receiverId: b.id, messageType: 'text', content: { text: 'named' } });
    assert.equal(acked.conversationId, mine);
    const m = await waitFor(sb, 'new_message', (x) => x.content.text === 'named');
    assert.equal(m.conversationId, sorted);
    assert.equal(m.receiverId, b.id);
    assert.equal((await waitFor(sa, 'message_delivered', (x) => x.messageId === m._id)).conversationId, mine);
    sb.emit('mark_as_read', { conversationId: sorted, messageIds: [m._id] });
    assert.equal((await waitFor(sa, 'message_read', (x) => x.readBy === b.id)).conversationId, mine);
    sb.emit('typing_start', { conversationId: sorted });
    assert.equal((await waitFor(sa, 'user_typing', (x) => x.isTyping)).conversationId, mine);
    sa.emit('typing_start', { conversationId: mine });
    assert.equal((await waitFor(sb, 'user_typing', (x) => x.isTyping)).conversationId, sorted);
    sb.emit('send_message', { conversationId: sorted, receiverId: a.id, messageType: 'text', content: { text: 'back' } });
    assert.equal((await waitFor(sa, 'new_message', (x) => x.content.text === 'back')).conversationId, mine);
    // A socket that never named it gets the sorted pair, as JobSpare apps build it.
    const sb2 = await js(server, b);
    sa.emit('send_message', { conversationId: mine, receiverId: b.id, messageType: 'text', content: { text: 'third' } });
    assert.equal((await waitFor(sb2, 'new_message', (x) => x.content.text === 'third')).conversationId, sorted);
    // The last name a socket used is the one it hears.
    const j2 = await join(sb2, mine);
    assert.equal(j2.conversationId, mine);
    sa.emit('send_message', { conversationId: mine, receiverId: b.id, messageType: 'text', content: { text: 'fourth' } });
    assert.equal((await waitFor(sb2, 'new_message', (x) => x.content.text === 'fourth')).conversationId, mine);
    assert.equal((await waitFor(sb, 'new_message', (x) => x.content.text === 'fourth')).conversationId, sorted);

    // A group is named by its UUID, or by the number a socket used.
    const group = await conversation(server, a, [b], { kind: 'group' });
    const jg = await join(sa, String(group.id));
    assert.equal(jg.conversationId, String(group.id));
    assert.equal(jg.uuid, group.uuid);
    sa.emit('send_message', { conversationId: String(group.id), messageType: 'text', content: { text: 'to the group' } });
    assert.equal((await waitFor(sb, 'new_message', (x) => x.content.text === 'to the group')).conversationId, group.uuid);
  });

  it('sends new_message to the receiver without a join and to the sender\'s other sockets, not the sending one', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sa2 = await js(server, a);
    const sb = await js(server, b);
    const pair = `${a.id}_${b.id}`;
    // The seed's flow: A sends, B gets new_message, A gets message_delivered.
    // Nobody joined anything.
    const acked = await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'no join' } });
    const m = await waitFor(sb, 'new_message', (x) => x.content.text === 'no join');
    assert.equal(m._id, acked._id);
    assert.equal(m.senderId._id, a.id);
    const other = await waitFor(sa2, 'new_message', (x) => x.content.text === 'no join');
    assert.equal(other._id, m._id);
    const d = await waitFor(sa, 'message_delivered', (x) => x.messageId === m._id);
    assert.equal(d.deliveredTo, b.id);
    await waitFor(sa2, 'message_delivered', (x) => x.messageId === m._id);
    await expectNone(sa, 'new_message');
    await expectNone([sa, sa2, sb], 'message_delivered');
    // Joining changes nothing of that, and leaving does not stop new messages.
    await join(sa, pair);
    await join(sb, pair);
    sb.emit('leave_conversation', { conversationId: pair });
    await sleep(100);
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'after leave' } });
    await waitFor(sb, 'new_message', (x) => x.content.text === 'after leave');
    await waitFor(sa2, 'new_message', (x) => x.content.text === 'after leave');
    await expectNone(sa, 'new_message');
    // A third user hears nothing of it.
    const c = await user(server, 'carol');
    const sc = await js(server, c);
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'private' } });
    await waitFor(sb, 'new_message', (x) => x.content.text === 'private');
    await expectNone(sc, 'new_message');
  });

  it('sends text, image and file messages with a populated sender; delivery reaches the sender', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const pair = `${a.id}_${b.id}`;
    const joined = await join(sa, pair);
    await join(sb, pair);
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'Hello!' } });
    const m = await waitFor(sb, 'new_message', (x) => x.content.text === 'Hello!');
    assert.equal(typeof m._id, 'string');
    assert.deepEqual(m.senderId._id, a.id);
    assert.equal(m.senderId.name, a.name);
    assert.equal(m.receiverId, b.id);
    assert.equal(m.messageType, 'text');
    assert.equal(m.status, 'sent');
    assert.match(m.timestamp, ISO);
    const d = await waitFor(sa, 'message_delivered', (x) => x.messageId === m._id);
    assert.equal(d.deliveredTo, b.id);
    await expectNone(sb, 'message_delivered');
    // The stored state follows: delivered now, read once bob marks it.
    const statusOf = async () => (await history(server, a, joined.uuid)).find((x) => x.uuid === m._id).status;
    assert.equal(await statusOf(), 'delivered');
    sb.emit('mark_as_read', { conversationId: pair, messageIds: [m._id] });
    await waitFor(sa, 'message_read', (x) => x.readBy === b.id);
    assert.equal(await statusOf(), 'read');

    sa.emit('send_message', {
      conversationId: pair, receiverId: b.id, messageType: 'image',
      content: { fileUrl: 'https://cdn.example.com/chat/image123.jpg', fileName: 'photo.jpg', fileSize: 245678 },
    });
    const img = await waitFor(sb, 'new_message', (x) => x.messageType === 'image');
    assert.equal(img.content.fileUrl, 'https://cdn.example.com/chat/image123.jpg');
    // fileName and fileSize come back as sent, not from the URL.
    assert.equal(img.content.fileName, 'photo.jpg');
    assert.equal(img.content.fileSize, 245678);
    sa.emit('send_message', {
      conversationId: pair, receiverId: b.id, messageType: 'file',
      content: { fileUrl: 'https://cdn.example.com/chat/cv.pdf', fileName: 'My CV (final).pdf', fileSize: 10, text: 'my cv' },
    });
    const file = await waitFor(sb, 'new_message', (x) => x.messageType === 'file');
    assert.equal(file.content.fileUrl, 'https://cdn.example.com/chat/cv.pdf');
    assert.deepEqual(file.content, { text: 'my cv', fileUrl: 'https://cdn.example.com/chat/cv.pdf', fileName: 'My CV (final).pdf', fileSize: 10 });
    // Stored: the REST history has them on the attachment.
    const stored = (await history(server, b, joined.uuid)).find((x) => x.uuid === file._id);
    assert.deepEqual(stored.attachmentUrls, ['https://cdn.example.com/chat/cv.pdf']);
    assert.deepEqual(stored.attachments, [{ url: 'https://cdn.example.com/chat/cv.pdf', name: 'My CV (final).pdf', size: 10 }]);
    // Without them, the URL's last segment and no size.
    sa.emit('send_message', {
      conversationId: pair, receiverId: b.id, messageType: 'file', content: { fileUrl: 'https://cdn.example.com/chat/notes.txt' },
    });
    const bare = await waitFor(sb, 'new_message', (x) => x.content.fileUrl?.endsWith('notes.txt'));
    assert.equal(bare.content.fileName, 'notes.txt');
    assert.equal(bare.content.fileSize, null);
  });

  it('reports each message of a burst, and each recipient of a group, once', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const c = await user(server, 'carol');
    const group = await conversation(server, a, [b, c]);
    const [sa, sb, sc] = [await js(server, a), await js(server, b), await js(server, c)];
    for (const s of [sa, sb, sc]) await join(s, group.uuid);
    const texts = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const text of texts) {
      sa.emit('send_message', { conversationId: group.uuid, messageType: 'text', content: { text } });
    }
    const ids = [];
    for (const text of texts) ids.push((await waitFor(sb, 'new_message', (x) => x.content.text === text))._id);
    for (const id of ids) {
      for (const who of [b.id, c.id]) {
        await waitFor(sa, 'message_delivered', (x) => x.messageId === id && x.deliveredTo === who);
      }
    }
    await expectNone([sa, sb, sc], 'message_delivered');
  });

  it('does not report delivery while the recipient is offline, nor when it connects later', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const pair = `${a.id}_${b.id}`;
    await join(sa, pair);
    await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'anyone?' } });
    await expectNone(sa, 'message_delivered', { ms: 500 });
    // Connecting and joining later does not count as delivery (live sends only).
    const sb = await js(server, b);
    await join(sb, pair);
    await expectNone(sa, 'message_delivered', { ms: 300 });
  });

  it('answers bad payloads with error INVALID_PAYLOAD, stores nothing and stays connected', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const pair = `${a.id}_${b.id}`;
    const j = await join(sa, pair);
    for (const [event, payload] of [
      ['send_message', { conversationId: pair, messageType: 'text', content: {} }],
      ['send_message', { conversationId: pair, messageType: 'video', content: { text: 'x' } }],
      ['send_message', { conversationId: pair }],
      ['send_message', { conversationId: pair, messageType: 'file', content: { fileUrl: 'https://x.example/a.pdf', fileSize: 'big' } }],
      ['send_message', { conversationId: pair, messageType: 'file', content: { fileUrl: 'https://x.example/a.pdf', fileName: 'a\nb.pdf' } }],
      ['join_conversation', {}],
      ['typing_start', { conversationId: 'no pair, no id' }],
      ['get_online_status', {}],
    ]) {
      const e = await errorOf(sa, event, payload);
      assert.equal(e.code, 'INVALID_PAYLOAD', `${event}: ${JSON.stringify(e)}`);
      assert.equal(typeof e.message, 'string');
    }
    assert.ok(sa.connected);
    assert.equal((await history(server, a, j.uuid)).length, 0);
  });

  it('answers a client that passes an acknowledgement callback on every event, not only send_message', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    await js(server, b);
    const pair = `${a.id}_${b.id}`;
    const joined = await emitAck(sa, 'join_conversation', { conversationId: pair });
    assert.equal(joined.conversationId, pair);
    assert.equal(typeof joined.id, 'number');
    const sent = await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'acked' } });
    assert.deepEqual(await emitAck(sa, 'mark_as_read', { conversationId: pair, messageIds: [sent._id] }), { success: true });
    assert.deepEqual(await emitAck(sa, 'typing_start', { conversationId: pair }), { success: true });
    assert.deepEqual(await emitAck(sa, 'typing_stop', { conversationId: pair }), { success: true });
    const status = await emitAck(sa, 'get_online_status', { userId: b.id });
    assert.equal(status.userId, b.id);
    assert.equal(status.isOnline, true);
    assert.deepEqual(await emitAck(sa, 'leave_conversation', { conversationId: pair }), { success: true });
    // A refusal answers the callback too, with the error.
    const refused = await emitAck(sa, 'typing_start', { conversationId: 'no pair, no id' });
    assert.equal(refused.code, 'INVALID_PAYLOAD');
    assert.ok(sa.connected);
  });

  it('refuses a non-member, and a pair of two other users without creating it', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const c = await user(server, 'carol');
    const conv = await conversation(server, a, [b]);
    const sc = await js(server, c);
    let e = await errorOf(sc, 'join_conversation', { conversationId: conv.uuid });
    assert.equal(e.code, 'NOT_FOUND');
    e = await errorOf(sc, 'send_message', { conversationId: String(conv.id), messageType: 'text', content: { text: 'x' } });
    assert.equal(e.code, 'NOT_FOUND');
    const d = await user(server, 'dave');
    e = await errorOf(sc, 'join_conversation', { conversationId: `${b.id}_${d.id}` });
    assert.equal(e.code, 'NOT_FOUND');
    assert.equal((await conversations(server, d)).length, 0);
    assert.equal((await conversations(server, c)).length, 0);
    assert.ok(sc.connected);
  });

  it('resolves a pair of user ids that contain underscores', async () => {
    const a = { id: `al_ice_${Date.now()}` };
    a.token = await server.token(a.id);
    const b = { id: `bo_b_${Date.now()}` };
    b.token = await server.token(b.id);
    const sa = await js(server, a);
    const sb = await js(server, b);
    const ja = await join(sa, `${a.id}_${b.id}`);
    const jb = await join(sb, `${b.id}_${a.id}`);
    assert.equal(ja.id, jb.id);
    assert.equal(ja.conversationId, `${a.id}_${b.id}`);
    assert.equal(jb.conversationId, `${b.id}_${a.id}`);
    const list = await conversations(server, a);
    assert.equal(list.length, 1);
  });

  it('accepts numeric ids and UUIDs', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const conv = await conversation(server, a, [b]);
    const sa = await js(server, a);
    const j1 = await join(sa, String(conv.id));
    const j2 = await join(sa, conv.uuid);
    assert.equal(j1.id, j2.id);
    assert.equal(j1.conversationId, String(conv.id));
    assert.equal(j2.conversationId, conv.uuid);
    // A number is answered as the number it was.
    const j3 = await join(sa, conv.id);
    assert.equal(j3.conversationId, conv.id);
  });

  it('tells the sender message_read when the recipient marks messages read', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const pair = `${a.id}_${b.id}`;
    await join(sa, pair);
    await join(sb, pair);
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'read me' } });
    const m = await waitFor(sb, 'new_message', (x) => x.content.text === 'read me');
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'later' } });
    const m2 = await waitFor(sb, 'new_message', (x) => x.content.text === 'later');
    sb.emit('mark_as_read', { conversationId: pair, messageIds: [m._id] });
    const r = await waitFor(sa, 'message_read');
    assert.deepEqual(r.messageIds, [m._id]);
    assert.equal(r.readBy, b.id);
    assert.equal(r.upToSeq, m.seq);
    // The newest of the ids counts; a message of another conversation is NOT_FOUND.
    sb.emit('mark_as_read', { conversationId: pair, messageIds: [m._id, String(m2.id)] });
    const r2 = await waitFor(sa, 'message_read');
    assert.deepEqual(r2.messageIds, [m2._id]);
    const other = await conversation(server, b, [await user(server, 'carol')]);
    const sc = await js(server, b);
    await join(sc, other.uuid);
    const m3 = await emitAck(sc, 'send_message', { conversationId: other.uuid, messageType: 'text', content: { text: 'elsewhere' } });
    let e = await errorOf(sb, 'mark_as_read', { conversationId: pair, messageIds: [m3._id] });
    assert.equal(e.code, 'NOT_FOUND');
    e = await errorOf(sb, 'mark_as_read', { conversationId: pair, messageIds: ['msg1'] });
    assert.equal(e.code, 'INVALID_PAYLOAD');
    await expectNone(sa, 'message_read');
  });

  it('lists in message_read every message the read covers', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const pair = `${a.id}_${b.id}`;
    const sent = [];
    for (const text of ['r1', 'r2', 'r3']) {
      sent.push(await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text } }));
    }
    const mine = await emitAck(sb, 'send_message', { conversationId: pair, receiverId: a.id, messageType: 'text', content: { text: 'bob says' } });
    const last = await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'r4' } });
    // Bob's app marks the newest message it shows: everything before is read too.
    sb.emit('mark_as_read', { conversationId: pair, messageIds: [last._id] });
    const r = await waitFor(sa, 'message_read', (x) => x.readBy === b.id);
    assert.deepEqual(r.messageIds, [...sent.map((m) => m._id), last._id]);
    assert.ok(!r.messageIds.includes(mine._id), 'not bob\'s own message');
    assert.equal(r.upToSeq, last.seq);
    // Reading it all again covers nothing new and tells no one.
    sb.emit('mark_as_read', { conversationId: pair, messageIds: sent.map((m) => m._id) });
    await expectNone(sa, 'message_read');
    // Empty messageIds reads up to the newest: what came since.
    const more = await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'r5' } });
    sb.emit('mark_as_read', { conversationId: pair, messageIds: [] });
    assert.deepEqual((await waitFor(sa, 'message_read', (x) => x.readBy === b.id)).messageIds, [more._id]);
    // Alice reading bob's message tells bob of it only.
    sa.emit('mark_as_read', { conversationId: pair, messageIds: [mine._id] });
    assert.deepEqual((await waitFor(sb, 'message_read', (x) => x.readBy === a.id)).messageIds, [mine._id]);
    // Someone else cannot mark it read.
    const c = await user(server, 'carol');
    const sc = await js(server, c);
    const e = await errorOf(sc, 'mark_as_read', { conversationId: pair, messageIds: [last._id] });
    assert.equal(e.code, 'NOT_FOUND');
    await expectNone([sa, sb], 'message_read');
  });

  /** `POST /api/chat/upload` of a fixture, as a JobSpare app would send it. */
  async function upload(u, file, { messageType, name = file, token = u?.token } = {}) {
    const form = new FormData();
    if (messageType) form.append('messageType', messageType);
    if (file) form.append('file', new Blob([readFileSync(joinPath(ROOT, 'tests', 'fixtures', file))]), name);
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const res = await fetch(`${server.urls.jobspare}/api/chat/upload`, { method: 'POST', headers, body: form });
    return { status: res.status, body: await res.json() };
  }

  it('uploads a file at /api/chat/upload and sends the content it answers', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const pair = `${a.id}_${b.id}`;
    // An image, its type left to its bytes.
    const up = await upload(a, 'photo.png', { name: 'My photo.png' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.messageType, 'image');
    assert.match(up.body.content.fileUrl, /^\/uploads\/chat-messages\/images\/[0-9a-f]+\.webp$/);
    assert.equal(up.body.content.fileName, 'My photo.png');
    assert.equal(typeof up.body.content.fileSize, 'number');
    assert.equal(up.body.contentType, 'image/webp');
    assert.ok(up.body.url.startsWith('http://') && up.body.url.endsWith(up.body.content.fileUrl), up.body.url);
    const served = await fetch(`${server.urls.jobspare}${up.body.content.fileUrl}`);
    assert.equal(served.status, 200);
    assert.equal((await served.arrayBuffer()).byteLength, up.body.content.fileSize);
    const acked = await emitAck(sa, 'send_message', { conversationId: pair, receiverId: b.id, messageType: up.body.messageType, content: up.body.content });
    assert.deepEqual(acked.content, { text: null, ...up.body.content });
    const m = await waitFor(sb, 'new_message', (x) => x._id === acked._id);
    assert.equal(m.messageType, 'image');
    assert.deepEqual(m.content, { text: null, ...up.body.content });
    // A document, declared as a file.
    const doc = await upload(a, 'doc.pdf', { messageType: 'file' });
    assert.equal(doc.status, 201, JSON.stringify(doc.body));
    assert.equal(doc.body.messageType, 'file');
    assert.equal(doc.body.content.fileName, 'doc.pdf');
    assert.equal(doc.body.contentType, 'application/pdf');

    // Bad input: no file, an unknown messageType, a PDF declared an image.
    for (const [file, messageType] of [[null, 'image'], ['doc.pdf', 'video'], ['doc.pdf', 'image']]) {
      const bad = await upload(a, file, { messageType });
      assert.equal(bad.status, 400, `${file} ${messageType}: ${JSON.stringify(bad.body)}`);
      assert.equal(bad.body.error.code, 'INVALID_PAYLOAD');
    }
    // Unauthorized: no token; and another user's upload cannot be sent.
    // (Without a body: any upload route answers 401 before reading one, and
    // fetch fails on the body it could not finish writing.)
    const anon = await fetch(`${server.urls.jobspare}/api/chat/upload`, { method: 'POST' });
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).error.code, 'UNAUTHENTICATED');
    const c = await user(server, 'carol');
    const sc = await js(server, c);
    const e = await errorOf(sc, 'send_message', { conversationId: `${c.id}_${b.id}`, receiverId: b.id, messageType: 'file', content: doc.body.content });
    assert.equal(e.code, 'FORBIDDEN');
    assert.ok(sc.connected);
    await expectNone(sb, 'new_message', { predicate: (x) => x.senderId._id === c.id });
  });

  it('relays typing_start and typing_stop as user_typing', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const pair = `${a.id}_${b.id}`;
    await join(sa, pair);
    await join(sb, pair);
    sa.emit('typing_start', { conversationId: pair });
    const t = await waitFor(sb, 'user_typing', (x) => x.isTyping === true);
    assert.equal(t.userId, a.id);
    sa.emit('typing_stop', { conversationId: pair });
    await waitFor(sb, 'user_typing', (x) => x.isTyping === false);
    await expectNone(sa, 'user_typing');
  });

  it('answers get_online_status and pushes user_online_status with lastSeen', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    await join(sa, `${a.id}_${b.id}`);
    sa.emit('get_online_status', { userId: b.id });
    let st = await waitFor(sa, 'user_online_status', (x) => x.userId === b.id);
    assert.equal(st.isOnline, false);
    const sb = await js(server, b);
    st = await waitFor(sa, 'user_online_status', (x) => x.userId === b.id && x.isOnline);
    assert.equal(st.lastSeen, null);
    await close(sb);
    st = await waitFor(sa, 'user_online_status', (x) => x.userId === b.id && !x.isOnline);
    assert.match(st.lastSeen, ISO);
  });

  it('talks with a Dozaar client in the same conversation, both ways', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const pair = `${a.id}_${b.id}`;
    const j = await join(sa, pair);
    const sd = await connect(server, { token: b.token });
    sd.emit('join:conversation', { conversationId: j.uuid });
    await waitFor(sd, 'joined:conversation');
    await sleep(50);
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'to dozaar' } });
    const got = await waitFor(sd, 'new:message', (x) => x.message === 'to dozaar');
    await waitFor(sa, 'message_delivered', (x) => x.messageId === got.id);
    sd.emit('send:message', { conversationId: j.uuid, message: 'to jobspare' });
    const back = await waitFor(sa, 'new_message', (x) => x.content.text === 'to jobspare');
    assert.equal(back.senderId._id, b.id);
    assert.equal(back.conversationId, [a.id, b.id].sort().join('_'));
  });

  it('counts a Syarah socket that proved its user per event as a delivery', async () => {
    const a = await user(server, 'alice');
    const b = await user(server, 'bob');
    const sa = await js(server, a);
    const pair = `${a.id}_${b.id}`;
    const j = await join(sa, pair);
    const sy = await connect(server, { url: server.urls.syarah, query: { userId: b.id } });
    const ack = await emitAck(sy, 'joinRoom', { chatHeaderId: j.id, accessToken: b.token });
    assert.equal(ack.joined, true, JSON.stringify(ack));
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'to syarah' } });
    const got = await waitFor(sy, 'message', (x) => x.chatMessage.message === 'to syarah');
    const d = await waitFor(sa, 'message_delivered', (x) => x.messageId === got.chatMessage.uuid);
    assert.equal(d.deliveredTo, b.id);
  });
});
