// The operator console: a plain ES module, no build step. It reads
// /api/admin/overview every 2 s and /api/admin/users on demand, signed in
// by the session cookie (POST /api/auth/session). Every text from the
// server goes into the page through textContent, never as HTML.

const REFRESH_MS = 2000;
const SPARK_POINTS = 60; // two minutes of 2 s samples
const PAGE = 50;

const $ = (id) => document.getElementById(id);

/** Calls the API with the session cookie; unsafe methods carry the CSRF header. */
async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Confab-Csrf'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { status: res.status, data };
}

/** The error message of an API answer. */
function why(answer) {
  return answer.data?.error?.message || `HTTP ${answer.status}`;
}

/** Whether the status line says the overview could not be read. */
let refreshFailed = false;

function setStatus(text, bad = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('bad', bad);
  refreshFailed = false;
}

/** Shows one of the page's three views: signin, forbidden, console. */
function show(view) {
  for (const id of ['signin', 'forbidden', 'console']) $(id).hidden = id !== view;
}

/** A new element with a text and classes. */
function el(tag, text, ...classes) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (classes.length) e.classList.add(...classes);
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) tr.append(c instanceof Node ? c : el('td', c));
  return tr;
}

const number = new Intl.NumberFormat();

function when(ms) {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms).toLocaleString();
}

function ago(ms) {
  const secs = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (secs < 60) return `${secs} s ago`;
  if (secs < 3600) return `${Math.round(secs / 60)} min ago`;
  return when(ms);
}

function uptime(secs) {
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  return `${m} min ${secs % 60} s`;
}

// ------------------------------------------------------------ overview

const rates = [];
let timer = null;
let running = false;

/** Draws the recent rates as an SVG polyline (built with createElementNS). */
function drawSparkline() {
  const NS = 'http://www.w3.org/2000/svg';
  const box = $('sparkline');
  const svg = document.createElementNS(NS, 'svg');
  const w = SPARK_POINTS - 1;
  const h = 40;
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const max = Math.max(1, ...rates);
  const start = SPARK_POINTS - rates.length;
  const points = rates
    .map((r, i) => `${start + i},${(h - 2 - (r / max) * (h - 4)).toFixed(2)}`)
    .join(' ');
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  box.replaceChildren(svg);
  const last = rates.length ? rates[rates.length - 1] : 0;
  box.setAttribute('aria-label', `Messages per second, last two minutes: now ${last}, highest ${Math.max(0, ...rates)}`);
}

function render(o) {
  $('node-line').textContent =
    `node ${o.node.id} · v${o.node.version} · ${o.node.database}` +
    `${o.node.redis ? ' + redis' : ''} · up ${uptime(o.node.uptimeSecs)}`;

  $('conn-total').textContent = number.format(o.connections.total);
  $('conn-rows').replaceChildren(
    ...Object.entries(o.connections.byDialect).map(([dialect, t]) =>
      row([el('th', dialect), number.format(t.websocket), number.format(t.polling)]),
    ),
  );
  for (const th of $('conn-rows').querySelectorAll('th')) th.scope = 'row';

  $('msg-rate').textContent = o.messages.perSecond.toFixed(1);
  $('msg-stored').textContent = number.format(o.messages.stored);
  $('deliveries').textContent = number.format(o.deliveries.total);
  rates.push(o.messages.perSecond);
  while (rates.length > SPARK_POINTS) rates.shift();
  drawSparkline();

  $('err-total').textContent = number.format(o.errors.total);
  const codes = Object.entries(o.errors.byCode).sort((a, b) => b[1] - a[1]);
  $('err-codes').replaceChildren(
    ...(codes.length
      ? codes.map(([code, n]) => {
          const li = el('li');
          li.append(el('span', code), el('span', number.format(n)));
          return li;
        })
      : [el('li', 'none', 'muted')]),
  );

  $('node-rows').replaceChildren(
    ...o.nodes.map((n) => {
      const id = el('th', n.id === o.node.id ? `${n.id} (this)` : n.id);
      id.scope = 'row';
      return row([
        id,
        el('td', n.state, `state-${n.state}`),
        n.connections === null ? '–' : number.format(n.connections),
        ago(n.lastSeen),
      ]);
    }),
  );
}

/** Reads the overview; decides the view from its answer. */
async function refresh() {
  if (running) return;
  running = true;
  try {
    const answer = await api('GET', '/api/admin/overview');
    if (answer.status === 200) {
      const first = $('console').hidden;
      show('console');
      render(answer.data);
      $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (refreshFailed) setStatus('');
      if (first) loadUsers(true);
    } else if (answer.status === 401) {
      stop();
      show('signin');
      setStatus('');
    } else if (answer.status === 403) {
      stop();
      show('forbidden');
      setStatus('');
    } else {
      setStatus(`Could not read the overview: ${why(answer)}`, true);
      refreshFailed = true;
    }
  } catch (e) {
    setStatus(`The server does not answer (${e.message}); retrying.`, true);
    refreshFailed = true;
  } finally {
    running = false;
  }
}

function start() {
  stop();
  refresh();
  timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_MS);
}

function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

// ------------------------------------------------------------ sign-in

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button');
  $('signin-error').textContent = '';
  button.disabled = true;
  try {
    const answer = await api('POST', '/api/auth/session', {
      username: $('signin-username').value,
      password: $('signin-password').value,
    });
    if (answer.status >= 200 && answer.status < 300) {
      $('signin-password').value = '';
      start();
    } else {
      $('signin-error').textContent = why(answer);
    }
  } catch (e) {
    $('signin-error').textContent = `The server does not answer (${e.message}).`;
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------ users

let query = '';
let next = null;

function userState(u) {
  if (u.deleted) return 'deleted';
  return u.disabled ? 'disabled' : 'enabled';
}

function actionButton(label, classes, u, run) {
  const b = el('button', label, ...classes);
  b.type = 'button';
  b.setAttribute('aria-label', `${label} ${u.name} (${u.id})`);
  b.addEventListener('click', run);
  return b;
}

function userRow(u) {
  const who = el('td');
  who.append(el('span', u.name), el('span', u.username ? `@${u.username} · ${u.id}` : u.id, 'id'));
  const state = userState(u);
  const stateCell = el('td', state + (u.online ? ' · online' : ''), `state-${state}`);
  const actions = el('td');
  const box = el('div', null, 'actions');
  if (!u.deleted) {
    if (u.disabled) {
      box.append(actionButton('Enable', ['secondary'], u, () => act(u, 'enable')));
    } else {
      box.append(actionButton('Disable', ['danger'], u, () => act(u, 'disable')));
    }
    box.append(actionButton('Revoke tokens', ['danger'], u, () => act(u, 'revoke-tokens')));
  }
  actions.append(box);
  const tr = row([who, u.email ?? '–', stateCell, when(u.createdAt), u.online ? 'now' : when(u.lastSeenAt), actions]);
  tr.dataset.id = u.id;
  return tr;
}

const CONFIRM = {
  disable: (u) => `Disable ${u.name} (${u.id})? Their tokens are refused and their open connections closed.`,
  enable: (u) => `Enable ${u.name} (${u.id}) again?`,
  'revoke-tokens': (u) => `Revoke every token of ${u.name} (${u.id})? They must sign in again; open connections are closed.`,
};

async function act(u, action) {
  if (!window.confirm(CONFIRM[action](u))) return;
  const answer = await api('POST', `/api/admin/users/${encodeURIComponent(u.id)}/${action}`);
  if (answer.status === 200) {
    const old = [...$('user-rows').children].find((tr) => tr.dataset.id === u.id);
    const fresh = userRow(answer.data);
    if (old) old.replaceWith(fresh);
    const done = { disable: 'disabled', enable: 'enabled', 'revoke-tokens': 'tokens revoked' }[action];
    setStatus(`${answer.data.name} (${answer.data.id}): ${done}.`);
    fresh.querySelector('button')?.focus();
  } else if (answer.status === 401) {
    show('signin');
  } else {
    setStatus(`Could not ${action.replace('-', ' ')} ${u.id}: ${why(answer)}`, true);
  }
}

/** Loads the first page of the search (`fresh`) or the next one. */
async function loadUsers(fresh) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (query) params.set('query', query);
  if (!fresh && next) params.set('after', next);
  const answer = await api('GET', `/api/admin/users?${params}`);
  if (answer.status !== 200) {
    if (answer.status === 401) show('signin');
    else setStatus(`Could not list the users: ${why(answer)}`, true);
    return;
  }
  const rows = answer.data.users.map(userRow);
  if (fresh) $('user-rows').replaceChildren(...rows);
  else $('user-rows').append(...rows);
  next = answer.data.next;
  $('more-users').hidden = next === null;
  $('users-empty').hidden = $('user-rows').children.length > 0;
}

// ------------------------------------------------------------ wiring

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', signIn);
  $('switch-account').addEventListener('click', () => {
    show('signin');
    $('signin-username').focus();
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    query = $('search-query').value.trim();
    loadUsers(true);
  });
  $('more-users').addEventListener('click', () => loadUsers(false));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && timer !== null) refresh();
  });
  start();
});
