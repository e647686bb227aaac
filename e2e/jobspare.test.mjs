// Black-box tests of the JobSpare dialect (seeds/jobspare-api.txt) with the
// official socket.io-client, against the real `confab` binary. Decisions the
// seed leaves open are in docs/dialects/jobspare.md.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, user, conversation, history, connect, closeAll, waitFor, expectNone, close, sleep, emitAck,
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
    // The other order names it too.
    const j2 = await join(sb, `${b.id}_${a.id}`);
    assert.equal(j2.conversationId, ja.conversationId);
    assert.equal((await conversations(server, b)).length, 1);
    // The server names it by the sorted pair, as JobSpare apps build it,
    // and gives the numeric id and UUID besides.
    const sorted = [a.id, b.id].sort().join('_');
    assert.equal(ja.conversationId, sorted);
    assert.equal(ja.id, listA[0].id);
    assert.equal(ja.uuid, listA[0].uuid);
  });

  it('names a direct conversation by its sorted pair in every server event, a group by UUID', async () => {
    // Ids whose order differs from the order the client uses.
    const a = await user(server, 'zed');
    const b = await user(server, 'amy');
    const sa = await js(server, a);
    const sb = await js(server, b);
    const mine = `${a.id}_${b.id}`;
    const sorted = [a.id, b.id].sort().join('_');
    assert.notEqual(mine, sorted);
    assert.equal((await join(sa, mine)).conversationId, sorted);
    assert.equal((await join(sb, mine)).conversationId, sorted);
    const acked = await emitAck(sa, 'send_message', { conversationId: mine, receiverId: b.id, messageType: 'text', content: { text: 'named' } });
    assert.equal(acked.conversationId, sorted);
    const m = await waitFor(sb, 'new_message', (x) => x.content.text === 'named');
    assert.equal(m.conversationId, sorted);
    assert.equal(m.receiverId, b.id);
    assert.equal((await waitFor(sa, 'message_delivered', (x) => x.messageId === m._id)).conversationId, sorted);
    sb.emit('mark_as_read', { conversationId: sorted, messageIds: [m._id] });
    assert.equal((await waitFor(sa, 'message_read', (x) => x.readBy === b.id)).conversationId, sorted);
    sb.emit('typing_start', { conversationId: sorted });
    assert.equal((await waitFor(sa, 'user_typing', (x) => x.isTyping)).conversationId, sorted);

    const group = await conversation(server, a, [b], { kind: 'group' });
    const jg = await join(sa, String(group.id));
    assert.equal(jg.conversationId, group.uuid);
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
    sa.emit('send_message', {
      conversationId: pair, receiverId: b.id, messageType: 'file',
      content: { fileUrl: 'https://cdn.example.com/chat/cv.pdf', fileName: 'cv.pdf', fileSize: 10 },
    });
    const file = await waitFor(sb, 'new_message', (x) => x.messageType === 'file');
    assert.equal(file.content.fileUrl, 'https://cdn.example.com/chat/cv.pdf');
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
    sa.emit('send_message', { conversationId: pair, receiverId: b.id, messageType: 'text', content: { text: 'anyone?' } });
    await waitFor(sa, 'new_message');
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
      ['join_conversation', {}],
      ['typing_start', { conversationId: 'nounderscore' }],
      ['get_online_status', {}],
    ]) {
      const e = await errorOf(sa, event, payload);
      assert.equal(e.code, 'INVALID_PAYLOAD', `${event}: ${JSON.stringify(e)}`);
      assert.equal(typeof e.message, 'string');
    }
    assert.ok(sa.connected);
    assert.equal((await history(server, a, j.uuid)).length, 0);
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
    assert.equal(ja.conversationId, jb.conversationId);
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
    assert.equal(j1.conversationId, j2.conversationId);
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
    sc.emit('send_message', { conversationId: other.uuid, messageType: 'text', content: { text: 'elsewhere' } });
    const m3 = await waitFor(sc, 'new_message');
    let e = await errorOf(sb, 'mark_as_read', { conversationId: pair, messageIds: [m3._id] });
    assert.equal(e.code, 'NOT_FOUND');
    e = await errorOf(sb, 'mark_as_read', { conversationId: pair, messageIds: ['msg1'] });
    assert.equal(e.code, 'INVALID_PAYLOAD');
    await expectNone(sa, 'message_read');
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
