// Socket.IO v2 clients for the black-box tests: the official
// `socket.io-client` 2.x (npm alias `socket.io-client-v2`), which speaks the
// Socket.IO v2 protocol (Engine.IO 3) as the apps' older clients do (the V Chat
// Flutter SDK's `socket_io_client` 1.x is a port of it).
//
// A v2 client has no `auth` object: it puts its token in `query` (sent in the
// handshake request's query string, and for a namespace other than `/` in its
// CONNECT packet too) or in `extraHeaders`. A refused handshake reaches it as
// an `error` event (`{message}`), not `connect_error`. It has no `onAny` and no
// `emitWithAck`; the sockets made here record what they receive like the 4.x
// ones of `server.mjs`, so `waitFor`, `received` and `expectNone` work on both.

import { createRequire } from 'node:module';
import { follow, forget } from './server.mjs';

const require = createRequire(import.meta.url);
/** The `io` function of socket.io-client 2.x. */
export const ioV2 = require('socket.io-client-v2');

/**
 * Opens a v2 socket on `url` (the namespace in its path) and resolves once
 * connected; rejects with the refusal (an `Error` whose `message` is the
 * server's, and `data` what it sent) or the connection's failure. Options:
 * `query`, `extraHeaders`, `transports` (default: polling, then the upgrade
 * to WebSocket), `multiplex` (default: a connection of its own).
 */
export function connectV2(url, { query, extraHeaders, transports, multiplex = false, timeoutMs = 10_000 } = {}) {
  const opts = { forceNew: !multiplex, reconnection: false, timeout: timeoutMs };
  if (query) opts.query = query;
  if (extraHeaders) opts.extraHeaders = extraHeaders;
  if (transports) opts.transports = transports;
  const socket = ioV2(url, opts);
  /** The transport the connection was opened with. */
  socket.firstTransport = socket.io.engine?.transport?.name;
  follow(socket, (onEvent) => {
    const onevent = socket.onevent;
    socket.onevent = function recorded(packet) {
      const [event, ...args] = packet.data || [];
      onEvent(event, args);
      return onevent.call(this, packet);
    };
  });
  return new Promise((resolveSocket, reject) => {
    const fail = (err) => {
      clearTimeout(timer);
      socket.off('connect');
      socket.close();
      forget(socket);
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs + 1000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error');
      socket.off('connect_error');
      socket.off('connect_timeout');
      resolveSocket(socket);
    });
    socket.once('error', (data) => {
      const err = new Error(typeof data === 'string' ? data : data?.message ?? JSON.stringify(data));
      err.data = data;
      fail(err);
    });
    socket.once('connect_error', (e) => fail(new Error(`connect_error: ${e?.message ?? e}`)));
    socket.once('connect_timeout', () => fail(new Error('connect_timeout')));
  });
}

/** Emits with an acknowledgement callback; resolves its first argument. */
export function emitAckV2(socket, event, payload, timeoutMs = 5000) {
  return new Promise((resolveAck, reject) => {
    const timer = setTimeout(() => reject(new Error(`no acknowledgement of ${event} within ${timeoutMs} ms`)), timeoutMs);
    const ack = (answer) => {
      clearTimeout(timer);
      resolveAck(answer);
    };
    if (payload === undefined) socket.emit(event, ack);
    else socket.emit(event, payload, ack);
  });
}

/** The transport a socket's connection uses now: `polling` or `websocket`. */
export function transportOf(socket) {
  return socket.io.engine.transport.name;
}

/** Resolves once the socket's connection runs over WebSocket (after its upgrade). */
export function upgraded(socket, timeoutMs = 5000) {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolveUpgrade, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade within ${timeoutMs} ms`)), timeoutMs);
    engine.once('upgrade', () => {
      clearTimeout(timer);
      resolveUpgrade();
    });
  });
}
