// confab's web chat client: plain ES modules, no build step. It speaks the
// Dozaar dialect (namespace /chat) with the official socket.io-client
// bundle, and confab's REST API for accounts, conversations, history and
// uploads. The session is an HttpOnly cookie: no script of this page can
// read the token. On every reconnect the client catches up through
// /api/sync (changes since its cursor), applied idempotently by message uuid.

import { api, ApiError, syncSince } from './api.js';
import { el, name, clear, time, safeUrl } from './dom.js';

const $ = (id) => document.getElementById(id);

/** Everything the page knows; the DOM is drawn from it. */
const state = {
  me: null,
  socket: null,
  /** uuid → conversation DTO (with `members` watermarks). */
  conversations: new Map(),
  /** conversation uuid → Map(message uuid → message). */
  messages: new Map(),
  /** conversation uuid → whether older history remains. */
  hasMore: new Map(),
  /** user id → profile ({id, username, displayName}). */
  profiles: new Map(),
  /** user id → {isOnline, lastSeen}. */
  presence: new Map(),
  /** conversation uuid → Map(user id → timer) of who is typing. */
  typing: new Map(),
  open: null,
  /** The message being edited: {uuid, draft, focused}, or null. */
  editing: null,
  /** The /api/sync cursor (in memory); null until read, or without /api/sync. */
  cursor: null,
  /** Whether the server has /api/sync; null until asked. */
  canSync: null,
  /** Pending sends by client id: {conversationId, text, attachmentUrls}. */
  pending: new Map(),
  connectedOnce: false,
  typingSent: 0,
  typingStop: null,
  attachment: null,
};

// ------------------------------------------------------------ accounts

function showAuth(message = '') {
  $('chat').hidden = true;
  $('auth').hidden = false;
  $('auth-error').textContent = message;
  document.body.dataset.view = 'auth';
}

async function signedIn(user) {
  state.me = user;
  state.profiles.set(user.id, user);
  $('auth').hidden = true;
  $('chat').hidden = false;
  document.body.dataset.view = 'list';
  clear($('me-name'));
  $('me-name').textContent = displayName(user.id);
  // The head cursor first: every change after it is caught up on, even one
  // made while the list below loads (applying it twice changes nothing).
  await readHeadCursor();
  await loadConversations();
  connect();
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.currentTarget;
  try {
    const { user } = await api('POST', '/api/auth/session', {
      username: f.username.value.trim(),
      password: f.password.value,
    });
    f.reset();
    await signedIn(user);
  } catch (err) {
    $('auth-error').textContent = err.message;
  }
});

$('signup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.currentTarget;
  const body = { username: f.username.value.trim(), password: f.password.value };
  if (f.displayName.value.trim()) body.displayName = f.displayName.value.trim();
  try {
    const { user } = await api('POST', '/api/auth/session/register', body);
    f.reset();
    await signedIn(user);
  } catch (err) {
    $('auth-error').textContent = err.message;
  }
});

$('signout').addEventListener('click', async () => {
  try {
    await api('DELETE', '/api/auth/session');
  } finally {
    location.reload();
  }
});

// ------------------------------------------------------------- names

function displayName(id) {
  const p = state.profiles.get(id);
  return (p && (p.displayName || p.username)) || id;
}

const asking = new Set();
/** Fetches unknown members' profiles, then redraws. */
async function learnProfiles(ids) {
  const unknown = ids.filter((id) => id && !state.profiles.has(id) && !asking.has(id));
  if (!unknown.length) return;
  unknown.forEach((id) => asking.add(id));
  await Promise.all(unknown.map(async (id) => {
    try {
      state.profiles.set(id, await api('GET', `/api/users/${encodeURIComponent(id)}`));
    } catch {
      state.profiles.set(id, { id });
    } finally {
      asking.delete(id);
    }
  }));
  drawList();
  drawHeader();
  drawMessages();
}

function others(conv) {
  return (conv.members || []).filter((m) => m.userId !== state.me.id);
}

function title(conv) {
  if (conv.kind === 'group') return conv.title || 'Group';
  const other = others(conv)[0];
  return other ? displayName(other.userId) : 'Just me';
}

// ------------------------------------------------------ conversations

async function loadConversations() {
  const list = await api('GET', '/api/conversations');
  const seen = new Set();
  for (const c of list) {
    state.conversations.set(c.uuid, c);
    seen.add(c.uuid);
  }
  for (const id of [...state.conversations.keys()]) {
    if (!seen.has(id)) state.conversations.delete(id);
  }
  drawList();
  learnProfiles(list.flatMap((c) => c.members.map((m) => m.userId)));
  askPresence();
}

let reloadTimer = null;
/** Reloads the list soon (coalescing bursts of events). */
function reloadConversationsSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadConversations().catch(() => {}), 150);
}

function drawList() {
  const ul = $('conversations');
  const sorted = [...state.conversations.values()].sort((a, b) => b.updatedAt - a.updatedAt);
  clear(ul);
  for (const c of sorted) {
    const last = c.lastMessage;
    const preview = last ? (last.deletedAt ? 'Message deleted' : last.text ?? (last.attachmentUrls.length ? 'Attachment' : '')) : 'No messages yet';
    const other = c.kind === 'direct' ? others(c)[0] : null;
    const online = other && state.presence.get(other.userId)?.isOnline;
    const unread = c.uuid === state.open ? 0 : c.unreadCount;
    const button = el('button', {
      type: 'button',
      class: 'conv',
      'aria-current': c.uuid === state.open ? 'true' : false,
      dataset: { id: c.uuid },
      onclick: () => openConversation(c.uuid),
    },
    el('span', { class: `dot${online ? ' online' : ''}`, 'aria-hidden': 'true' }),
    el('span', { class: 'conv-main' },
      el('span', { class: 'conv-title' }, name(title(c))),
      el('span', { class: 'conv-preview' }, last && c.kind === 'group' && !last.deletedAt ? name(`${displayName(last.senderId)}: `) : null, preview)),
    unread > 0 ? el('span', { class: 'unread', 'aria-label': `${unread} unread` , text: String(unread) }) : null);
    ul.append(el('li', {}, button));
  }
}

$('new-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.currentTarget;
  $('new-error').textContent = '';
  const logins = f.members.value.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    const users = await Promise.all(logins.map((l) => api('GET', `/api/users/${encodeURIComponent(l)}`)));
    users.forEach((u) => state.profiles.set(u.id, u));
    const group = users.length > 1 || f.title.value.trim();
    const body = { kind: group ? 'group' : 'direct', memberIds: users.map((u) => u.id) };
    if (group) body.title = f.title.value.trim() || users.map((u) => u.displayName || u.username).join(', ').slice(0, 200);
    const conv = await api('POST', '/api/conversations', body);
    state.conversations.set(conv.uuid, conv);
    f.reset();
    $('new-conversation').open = false;
    drawList();
    askPresence();
    await openConversation(conv.uuid);
  } catch (err) {
    $('new-error').textContent = err instanceof ApiError && err.status === 404 ? 'No such user' : err.message;
  }
});

// ------------------------------------------------------------ messages

/** A message from REST (history, sync) or Dozaar (new:message), one shape. */
function normalize(m) {
  if (m.uuid) {
    return {
      uuid: m.uuid, conversationId: m.conversationUuid, seq: m.seq, senderId: m.senderId,
      text: m.text, attachmentUrls: m.attachmentUrls || [], clientId: m.clientId,
      createdAt: m.createdAt, editedAt: m.editedAt, deletedAt: m.deletedAt,
    };
  }
  const ms = (v) => (v == null ? null : typeof v === 'number' ? v : Date.parse(v));
  return {
    uuid: m.id, conversationId: m.conversationId, seq: m.seq, senderId: m.senderId,
    text: m.message, attachmentUrls: m.attachmentUrls || [], clientId: m.clientId,
    createdAt: ms(m.createdAt), editedAt: ms(m.editedAt), deletedAt: ms(m.deletedAt),
  };
}

function bucket(convId) {
  let b = state.messages.get(convId);
  if (!b) {
    b = new Map();
    state.messages.set(convId, b);
  }
  return b;
}

/** Stores a message once, keyed by uuid; a newer version replaces it. */
function upsert(m) {
  const b = bucket(m.conversationId);
  const had = b.get(m.uuid);
  if (had && (had.deletedAt || (had.editedAt || 0) > (m.editedAt || 0)) && !m.deletedAt) return;
  b.set(m.uuid, m);
  if (m.clientId && state.pending.has(m.clientId)) state.pending.delete(m.clientId);
  const conv = state.conversations.get(m.conversationId);
  if (conv && m.seq > (conv.lastSeq || 0)) {
    conv.lastSeq = m.seq;
    conv.updatedAt = m.createdAt;
    conv.lastMessage = { ...m, text: m.text };
  } else if (conv && conv.lastMessage && conv.lastMessage.uuid === m.uuid) {
    conv.lastMessage = { ...m };
  }
}

async function loadHistory(convId, before) {
  const q = new URLSearchParams({ limit: '30' });
  if (before) q.set('before', before);
  const page = await api('GET', `/api/conversations/${convId}/messages?${q}`);
  page.messages.forEach((m) => upsert(normalize(m)));
  state.hasMore.set(convId, page.hasMore);
  learnProfiles(page.messages.map((m) => m.senderId));
}

async function openConversation(convId) {
  const previous = state.open;
  if (previous && previous !== convId) {
    stopTyping();
    state.socket?.emit('leave:conversation', { conversationId: previous });
  }
  state.open = convId;
  document.body.dataset.view = 'conversation';
  $('composer').hidden = false;
  $('typing').textContent = '';
  if (!state.messages.has(convId)) await loadHistory(convId);
  // Fresh watermarks of the members, for the ticks.
  await refreshConversation(convId);
  state.socket?.emit('join:conversation', { conversationId: convId });
  drawList();
  drawHeader();
  drawMessages(true);
  markRead();
  $('text').focus();
}

/** Re-reads one conversation (members' read and delivery watermarks). */
async function refreshConversation(convId) {
  try {
    const c = await api('GET', `/api/conversations/${convId}`);
    const had = state.conversations.get(convId);
    state.conversations.set(convId, { ...had, ...c, unreadCount: c.unreadCount ?? had?.unreadCount ?? 0 });
    if (convId === state.open) drawMessages();
  } catch {
    /* the list reload says if it is gone */
  }
}

$('back').addEventListener('click', () => {
  document.body.dataset.view = 'list';
});

$('older').addEventListener('click', loadOlder);
$('scroller').addEventListener('scroll', () => {
  if ($('scroller').scrollTop < 40 && state.hasMore.get(state.open)) loadOlder();
});

let loadingOlder = false;
async function loadOlder() {
  const convId = state.open;
  if (!convId || loadingOlder) return;
  const list = sortedMessages(convId);
  if (!list.length) return;
  loadingOlder = true;
  const scroller = $('scroller');
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  try {
    await loadHistory(convId, list[0].uuid);
    drawMessages();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  } finally {
    loadingOlder = false;
  }
}

function sortedMessages(convId) {
  return [...(state.messages.get(convId)?.values() || [])].sort((a, b) => a.seq - b.seq);
}

/** How far my message `seq` got with the others: sent, delivered or read. */
function status(conv, seq) {
  const rest = others(conv);
  if (!rest.length) return 'sent';
  if (rest.every((m) => m.lastReadSeq >= seq)) return 'read';
  if (rest.every((m) => Math.max(m.lastDeliveredSeq, m.lastReadSeq) >= seq)) return 'delivered';
  return 'sent';
}

const TICKS = { sent: '✓', delivered: '✓✓', read: '✓✓', pending: '…' };

function drawHeader() {
  const conv = state.conversations.get(state.open);
  if (!conv) return;
  $('conv-title').replaceChildren(name(title(conv)));
  const st = $('conv-status');
  if (conv.kind === 'direct') {
    const other = others(conv)[0];
    const p = other && state.presence.get(other.userId);
    st.textContent = !p ? '' : p.isOnline ? 'online' : p.lastSeen ? `last seen ${time(p.lastSeen)}` : 'offline';
    st.dataset.online = p?.isOnline ? 'true' : 'false';
  } else {
    const online = others(conv).filter((m) => state.presence.get(m.userId)?.isOnline).length;
    st.textContent = `${conv.members.length} members, ${online} online`;
  }
}

function drawMessages(toBottom = false) {
  const convId = state.open;
  if (!convId) return;
  const conv = state.conversations.get(convId);
  const scroller = $('scroller');
  const atBottom = toBottom || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  const ol = $('messages');
  // Whether the edit box had the focus, to give it back after the redraw.
  if (state.editing) state.editing.focused = document.activeElement?.closest('form.edit') != null;
  clear(ol);
  const rows = sortedMessages(convId);
  for (const p of state.pending.values()) {
    if (p.conversationId === convId) rows.push({ ...p, pending: true });
  }
  for (const m of rows) ol.append(messageItem(conv, m));
  $('older').hidden = !state.hasMore.get(convId);
  if (atBottom) scroller.scrollTop = scroller.scrollHeight;
}

function messageItem(conv, m) {
  const mine = m.senderId === state.me.id;
  const li = el('li', {
    class: `msg${mine ? ' mine' : ''}${m.deletedAt ? ' deleted' : ''}${m.pending ? ' pending' : ''}`,
    dataset: { id: m.uuid || '', seq: m.seq || '' },
  });
  li.append(el('div', { class: 'msg-head' },
    el('span', { class: 'sender' }, name(displayName(m.senderId))),
    el('time', { dateTime: new Date(m.createdAt).toISOString(), text: time(m.createdAt) })));
  if (m.deletedAt) {
    li.append(el('p', { class: 'text', text: 'This message was deleted' }));
    return li;
  }
  if (state.editing?.uuid === m.uuid && !m.pending) li.append(editForm(m));
  else if (m.text) li.append(el('p', { class: 'text', text: m.text }));
  for (const url of m.attachmentUrls) li.append(attachment(url));
  const foot = el('div', { class: 'msg-foot' });
  if (m.editedAt) foot.append(el('span', { class: 'edited', text: 'edited' }));
  if (mine) {
    const st = m.pending ? 'pending' : status(conv, m.seq);
    foot.append(el('span', { class: `ticks ${st}`, dataset: { status: st }, 'aria-label': st, title: st, text: TICKS[st] }));
    if (!m.pending) {
      if (m.text) foot.append(el('button', { type: 'button', class: 'link', text: 'Edit', 'aria-label': 'Edit message', onclick: () => editMessage(m) }));
      foot.append(el('button', { type: 'button', class: 'link', text: 'Delete', 'aria-label': 'Delete message', onclick: () => deleteMessage(m) }));
    }
  }
  li.append(foot);
  return li;
}

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|avif)$/i;

function attachment(url) {
  const safe = safeUrl(url);
  const file = decodeURIComponent((url.split('?')[0].split('/').pop()) || 'file');
  if (!safe) return el('p', { class: 'file', text: file });
  if (IMAGE.test(url.split('?')[0]) || url.includes('/images/')) {
    return el('a', { href: safe, target: '_blank', rel: 'noopener noreferrer', class: 'image' },
      el('img', { src: safe, alt: `Image ${file}`, loading: 'lazy' }));
  }
  return el('a', { href: safe, class: 'file', download: file, rel: 'noopener noreferrer' }, '📄 ', name(file));
}

// The message being edited, and its draft: kept in the state so that a
// redraw (a tick, a new message, a catch-up) keeps the edit box, its text
// and its focus.
function editMessage(m) {
  state.editing = { uuid: m.uuid, draft: m.text, focused: true };
  drawMessages();
  $('messages').querySelector('form.edit input')?.focus();
}

function stopEditing() {
  state.editing = null;
  drawMessages();
}

function editForm(m) {
  const editing = state.editing;
  const input = el('input', { value: editing.draft, 'aria-label': 'Edit message text', maxLength: 10000 });
  input.addEventListener('input', () => { editing.draft = input.value; });
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape') stopEditing(); });
  const form = el('form', { class: 'edit' }, input,
    el('button', { type: 'submit', text: 'Save' }),
    el('button', { type: 'button', text: 'Cancel', onclick: stopEditing }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = editing.draft.trim();
    if (!text) return;
    state.socket.emit('edit:message', { messageId: m.uuid, message: text }, (ack) => {
      if (ack?.success) {
        upsert(normalize(ack.message));
        if (state.editing === editing) state.editing = null;
        drawMessages();
      } else {
        banner(ack?.error || 'could not edit');
      }
    });
  });
  // Focus once the item is in the page.
  if (editing.focused) queueMicrotask(() => input.focus());
  return form;
}

function deleteMessage(m) {
  if (!confirm('Delete this message?')) return;
  state.socket.emit('delete:message', { messageId: m.uuid }, (ack) => {
    if (ack?.success) {
      upsert(normalize(ack.message));
      drawMessages();
      drawList();
    } else {
      banner(ack?.error || 'could not delete');
    }
  });
}

// ------------------------------------------------------------ composing

const text = $('text');
text.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});
text.addEventListener('input', () => {
  if (!state.open || !state.socket?.connected) return;
  const now = Date.now();
  if (now - state.typingSent > 3000) {
    state.typingSent = now;
    state.socket.emit('typing:start', { conversationId: state.open });
  }
  clearTimeout(state.typingStop);
  state.typingStop = setTimeout(stopTyping, 2500);
});

function stopTyping() {
  clearTimeout(state.typingStop);
  if (state.typingSent && state.open) state.socket?.emit('typing:stop', { conversationId: state.open });
  state.typingSent = 0;
}

$('file').addEventListener('change', () => {
  const f = $('file').files[0];
  setAttachment(f || null);
});
$('preview-remove').addEventListener('click', () => setAttachment(null));

function setAttachment(file) {
  if (state.attachment?.url) URL.revokeObjectURL(state.attachment.url);
  state.attachment = null;
  const preview = $('preview');
  preview.querySelector('img')?.remove();
  if (!file) {
    $('file').value = '';
    preview.hidden = true;
    return;
  }
  state.attachment = { file, url: file.type.startsWith('image/') ? URL.createObjectURL(file) : null };
  $('preview-name').textContent = file.name;
  if (state.attachment.url) preview.prepend(el('img', { src: state.attachment.url, alt: `Preview of ${file.name}` }));
  preview.hidden = false;
}

function uploadKind(type) {
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'file';
}

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const convId = state.open;
  const body = text.value.trim();
  const file = state.attachment?.file;
  if (!convId || (!body && !file)) return;
  const attachmentUrls = [];
  if (file) {
    const form = new FormData();
    form.append('kind', uploadKind(file.type || ''));
    form.append('file', file, file.name);
    try {
      const up = await api('POST', '/api/uploads', form);
      attachmentUrls.push(up.path);
    } catch (err) {
      banner(`Upload failed: ${err.message}`);
      return;
    }
    setAttachment(null);
  }
  text.value = '';
  stopTyping();
  const clientId = `web-${crypto.randomUUID()}`;
  const payload = { conversationId: convId, clientId };
  if (body) payload.message = body;
  if (attachmentUrls.length) payload.attachmentUrls = attachmentUrls;
  state.pending.set(clientId, {
    clientId, conversationId: convId, senderId: state.me.id, text: body || null,
    attachmentUrls, createdAt: Date.now(), payload,
  });
  drawMessages(true);
  send(clientId);
});

/** Sends (or re-sends, after a reconnect) a pending message; idempotent by client id. */
function send(clientId) {
  const p = state.pending.get(clientId);
  if (!p || !state.socket?.connected) return;
  state.socket.emit('send:message', p.payload, (ack) => {
    if (ack?.success) {
      upsert(normalize(ack.message));
      state.pending.delete(clientId);
      drawMessages();
      drawList();
      // Delivery is recorded as the others' sockets receive it.
      setTimeout(() => refreshConversation(p.conversationId), 400);
      setTimeout(() => refreshConversation(p.conversationId), 1500);
    } else if (ack && !ack.success) {
      state.pending.delete(clientId);
      drawMessages();
      banner(ack.error || 'message not sent');
    }
  });
}

/** Marks the newest message of the others read, when the page is seen. */
function markRead() {
  const convId = state.open;
  if (!convId || document.visibilityState !== 'visible' || !state.socket?.connected) return;
  const conv = state.conversations.get(convId);
  const me = conv?.members.find((m) => m.userId === state.me.id);
  const newest = sortedMessages(convId).filter((m) => m.senderId !== state.me.id).pop();
  if (!newest || (me && me.lastReadSeq >= newest.seq)) return;
  if (me) me.lastReadSeq = newest.seq;
  if (conv) conv.unreadCount = 0;
  state.socket.emit('mark:read', { messageId: newest.uuid });
  drawList();
}
document.addEventListener('visibilitychange', markRead);

// --------------------------------------------------------- the socket

function banner(message) {
  const b = $('connection');
  b.textContent = message;
  b.hidden = !message;
}

function connect() {
  if (state.socket) return;
  // Same origin: the session cookie goes with the handshake.
  const socket = window.io('/chat', { withCredentials: true });
  state.socket = socket;

  socket.on('connect', async () => {
    banner('');
    document.body.dataset.connected = 'true';
    try {
      await catchUp();
    } catch (err) {
      banner(`Could not catch up: ${err.message}`);
    }
    if (state.open) socket.emit('join:conversation', { conversationId: state.open });
    for (const id of state.pending.keys()) send(id);
    askPresence();
    markRead();
    state.connectedOnce = true;
  });
  socket.on('disconnect', () => {
    document.body.dataset.connected = 'false';
    banner('Offline: reconnecting…');
  });
  socket.on('connect_error', async (err) => {
    document.body.dataset.connected = 'false';
    banner(`Cannot connect: ${err.message}`);
    if (/token|missing/i.test(err.message)) {
      // The session ended (signed out elsewhere, expired).
      try {
        await api('GET', '/api/me');
      } catch (e) {
        if (e.status === 401) {
          socket.disconnect();
          state.socket = null;
          showAuth('Your session ended; sign in again.');
        }
      }
    }
  });

  socket.on('new:message', (payload) => {
    const m = normalize(payload);
    if (payload.sender) state.profiles.set(payload.sender.id, { ...state.profiles.get(payload.sender.id), ...payload.sender });
    const known = state.conversations.has(m.conversationId);
    upsert(m);
    if (!known) reloadConversationsSoon();
    if (m.conversationId === state.open) {
      clearTyping(m.conversationId, m.senderId);
      drawMessages(m.senderId === state.me.id);
      markRead();
    }
    drawList();
  });
  socket.on('message:notification', () => reloadConversationsSoon());
  socket.on('message:updated', (payload) => {
    upsert(normalize(payload));
    if (payload.conversationId === state.open) drawMessages();
    drawList();
  });
  socket.on('message:deleted', ({ messageId, conversationId }) => {
    const b = state.messages.get(conversationId);
    const m = b?.get(messageId);
    if (m) upsert({ ...m, text: null, attachmentUrls: [], deletedAt: Date.now() });
    if (conversationId === state.open) drawMessages();
    reloadConversationsSoon();
  });
  socket.on('message:read', ({ conversationId, readBy, readUpToSeq }) => {
    watermark(conversationId, readBy, readUpToSeq, 'read');
  });
  socket.on('user:typing', ({ conversationId, userId }) => setTyping(conversationId, userId));
  socket.on('user:stopped_typing', ({ conversationId, userId }) => clearTyping(conversationId, userId));
  socket.on('user:online', ({ userId }) => {
    state.presence.set(userId, { isOnline: true, lastSeen: Date.now() });
    drawList();
    drawHeader();
    // A member back online has the messages delivered now.
    if (state.open && state.conversations.get(state.open)?.members.some((m) => m.userId === userId)) {
      setTimeout(() => refreshConversation(state.open), 800);
    }
  });
  socket.on('user:offline', ({ userId, timestamp }) => {
    state.presence.set(userId, { isOnline: false, lastSeen: timestamp });
    drawList();
    drawHeader();
  });
  socket.on('online:status', ({ statuses }) => {
    for (const s of statuses || []) state.presence.set(s.userId, { isOnline: s.isOnline, lastSeen: s.lastSeen });
    drawList();
    drawHeader();
  });
}

/** A member's read (or delivery) watermark moved to `seq`. */
function watermark(convId, userId, seq, kind) {
  const conv = state.conversations.get(convId);
  const member = conv?.members.find((m) => m.userId === userId);
  if (!member) return;
  if (kind === 'read') {
    member.lastReadSeq = Math.max(member.lastReadSeq, seq);
    member.lastDeliveredSeq = Math.max(member.lastDeliveredSeq, seq);
  } else {
    member.lastDeliveredSeq = Math.max(member.lastDeliveredSeq, seq);
  }
  if (convId === state.open) drawMessages();
}

function askPresence() {
  if (!state.socket?.connected || !state.me) return;
  const ids = new Set();
  for (const c of state.conversations.values()) for (const m of c.members) if (m.userId !== state.me.id) ids.add(m.userId);
  if (ids.size) state.socket.emit('get:online_status', { userIds: [...ids].slice(0, 500) });
}

function setTyping(convId, userId) {
  let t = state.typing.get(convId);
  if (!t) {
    t = new Map();
    state.typing.set(convId, t);
  }
  clearTimeout(t.get(userId));
  // The server ends an indicator after 10 s; this is the page's fence.
  t.set(userId, setTimeout(() => clearTyping(convId, userId), 12000));
  drawTyping();
}

function clearTyping(convId, userId) {
  const t = state.typing.get(convId);
  if (!t || !t.has(userId)) return;
  clearTimeout(t.get(userId));
  t.delete(userId);
  drawTyping();
}

function drawTyping() {
  const p = $('typing');
  const who = [...(state.typing.get(state.open)?.keys() || [])];
  clear(p);
  if (!who.length) return;
  who.forEach((id, i) => {
    if (i) p.append(', ');
    p.append(name(displayName(id)));
  });
  p.append(who.length === 1 ? ' is typing…' : ' are typing…');
}

// ----------------------------------------------------------- catch-up

/** The current head of `GET /api/sync` (no `since`); notes a server without it. */
async function readHeadCursor() {
  try {
    state.cursor = (await api('GET', '/api/sync')).next;
    state.canSync = true;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    state.canSync = false;
  }
}

/**
 * On every connect: what changed since the cursor, from /api/sync (paged
 * while hasMore, applied by message uuid, so what was also seen live is not
 * doubled). Where the server has no /api/sync, after a reconnect the list
 * and the open conversation's messages after the newest one held are read
 * again instead.
 */
async function catchUp() {
  if (state.canSync === null) await readHeadCursor();
  if (state.canSync && state.cursor) {
    const touched = new Set();
    state.cursor = await syncSince(state.cursor, (changes) => changes.forEach((c) => applyChange(c, touched)));
    if (touched.size) reloadConversationsSoon();
    document.body.dataset.catchup = 'sync';
  } else if (state.connectedOnce) {
    await catchUpFromHistory();
    document.body.dataset.catchup = 'history';
  }
  if (state.open) {
    drawMessages();
    refreshConversation(state.open);
  }
  drawList();
}

async function catchUpFromHistory() {
  await loadConversations();
  const convId = state.open;
  if (!convId) return;
  for (;;) {
    const newest = sortedMessages(convId).pop();
    const q = new URLSearchParams({ limit: '100' });
    if (newest) q.set('after', newest.uuid);
    const page = await api('GET', `/api/conversations/${convId}/messages?${q}`);
    page.messages.forEach((m) => upsert(normalize(m)));
    if (!page.hasMore || !page.messages.length || !newest) break;
  }
}

function applyChange(c, touched) {
  touched.add(c.conversationId);
  switch (c.type) {
    case 'message.created':
    case 'message.edited':
    case 'message.deleted':
      if (c.message) {
        const m = normalize(c.message);
        // Only conversations whose history is held keep messages; the others load theirs when opened.
        if (state.messages.has(m.conversationId)) upsert(m);
      }
      break;
    case 'read':
      watermark(c.conversationId, c.userId, c.seq, 'read');
      break;
    case 'delivered':
      watermark(c.conversationId, c.userId, c.seq, 'delivered');
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    const me = await api('GET', '/api/me');
    await signedIn(me);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showAuth();
    else showAuth(`confab is not reachable: ${err.message}`);
  }
}

start();
