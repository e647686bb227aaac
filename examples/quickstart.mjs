// Quickstart: Alice and Bob exchange a message through confab's Dozaar
// dialect with the official socket.io-client.
//
//   ALICE_TOKEN=... BOB_TOKEN=... CONVERSATION_ID=<uuid> node examples/quickstart.mjs
//
// CONFAB_URL defaults to http://localhost:3001. Without CONVERSATION_ID the
// script creates (or finds) Alice's direct conversation with Bob through the
// REST API. socket.io-client comes from e2e/node_modules (`cd e2e && npm ci`)
// when it is not installed next to this script.

import { createRequire } from 'node:module';

async function loadIo() {
  try {
    return (await import('socket.io-client')).io;
  } catch {
    const require = createRequire(new URL('../e2e/package.json', import.meta.url));
    return require('socket.io-client').io;
  }
}

function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

const url = (process.env.CONFAB_URL || 'http://localhost:3001').replace(/\/$/, '');
const aliceToken = process.env.ALICE_TOKEN;
const bobToken = process.env.BOB_TOKEN;
if (!aliceToken || !bobToken) {
  console.error('set ALICE_TOKEN and BOB_TOKEN (from `cargo run -- token --user alice --name Alice`, and bob)');
  process.exit(2);
}

let conversationId = process.env.CONVERSATION_ID;
if (!conversationId) {
  const res = await fetch(`${url}/api/conversations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'direct', memberIds: [claims(bobToken).sub] }),
  });
  const body = await res.json();
  if (!res.ok) {
    console.error('creating the conversation failed:', res.status, body);
    process.exit(1);
  }
  conversationId = body.uuid;
  console.log('conversation', conversationId);
}

const io = await loadIo();
const timer = setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, 10_000);

function open(name, token) {
  // Alice sends her token in the Authorization header, Bob in auth.token:
  // the seed allows both.
  const options = name === 'alice'
    ? { extraHeaders: { Authorization: `Bearer ${token}` } }
    : { auth: { token } };
  const socket = io(`${url}/chat`, { ...options, reconnection: false });
  socket.on('exception', (e) => console.error(`${name}: exception`, e));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(new Error(`${name} could not connect: ${err.message}`)));
  });
}

function joined(socket) {
  return new Promise((resolve) => {
    socket.once('joined:conversation', resolve);
    socket.emit('join:conversation', { conversationId });
  });
}

function next(socket, from) {
  return new Promise((resolve) => {
    socket.on('new:message', function onMessage(m) {
      if (m.conversationId === conversationId && m.senderId === from) {
        socket.off('new:message', onMessage);
        resolve(m);
      }
    });
  });
}

const alice = await open('alice', aliceToken);
const bob = await open('bob', bobToken);
await Promise.all([joined(alice), joined(bob)]);
const aliceId = claims(aliceToken).sub;
const bobId = claims(bobToken).sub;

const toBob = next(bob, aliceId);
alice.emit('send:message', { conversationId, message: 'Hello, Bob!' });
const m1 = await toBob;
console.log(`bob got from ${m1.sender.displayName ?? m1.senderId}: ${m1.message}`);

const toAlice = next(alice, bobId);
const ack = await bob.emitWithAck('send:message', { conversationId, message: 'Hi Alice!' });
console.log(`bob's send acknowledged: success=${ack.success}, seq=${ack.message?.seq}`);
const m2 = await toAlice;
console.log(`alice got from ${m2.sender.displayName ?? m2.senderId}: ${m2.message}`);

clearTimeout(timer);
alice.close();
bob.close();
