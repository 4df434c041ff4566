// Helpers for the tests of the private-messaging chat (APP.md 1) with the
// real socket.io-client: a "tab" (one socket.io-client socket) that
// records every event it gets, in order, from before it connects (the
// server sends "session" and "users" in one poll answer), and small
// helpers around the chat's events.

import fs from 'node:fs';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { sleep, now } from './eio.mjs';

// Every chat server of these tests: pings every second, 500 ms to answer.
export const CHAT_ARGS = ['--app', 'chat', '--ping-interval', '1000', '--ping-timeout', '500'];
export const PING_INTERVAL = 1000;
export const PING_TIMEOUT = 500;

export const OPTS = { transports: ['polling'], forceNew: true, reconnection: false };

export const SESSION_RE = /^[0-9a-f]{32}$/;
export const USER_RE = /^[0-9a-f]{16}$/;

// Every tab still open; closeAll() closes them (afterEach).
const open = new Set();

export function closeAll() {
  for (const t of open) t.close();
  open.clear();
}

// Wait until cond() is truthy (returned); fail with `what` after ms.
export async function until(cond, what, ms = 3000) {
  const end = now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

let tabNo = 0;

// One socket.io-client socket on "/" of url with `auth`.  Every event,
// "connect", "connect_error" and "disconnect" included, is recorded in
// this.events as {name, args} in the order of arrival.
export class Tab {
  constructor(url, auth, opts = {}) {
    this.name = opts.name ?? `tab${++tabNo}`;
    this.events = [];
    this.taken = new Map();	// event name -> index of the next one to take
    const { name: _n, ...ioOpts } = opts;
    this.s = io(url, { ...OPTS, ...ioOpts, auth, autoConnect: false });
    this.s.onAny((name, ...args) => this.events.push({ name, args }));
    for (const ev of ['connect', 'connect_error', 'disconnect'])
      this.s.on(ev, (...args) => this.events.push({ name: ev, args }));
    open.add(this);
    this.s.connect();
  }

  // Arguments arrays of every `name` event so far.
  all(name) {
    return this.events.filter((e) => e.name === name).map((e) => e.args);
  }

  // The first argument of every `name` event so far.
  firsts(name) {
    return this.all(name).map((a) => a[0]);
  }

  // The arguments of the next `name` event not taken yet (waiting for it
  // up to ms); rejects when one of failOn arrives first (after the call).
  async take(name, { ms = 5000, failOn = ['connect_error', 'disconnect'] } = {}) {
    const from = this.events.length;
    const end = now() + ms;
    for (;;) {
      const start = this.taken.get(name) ?? 0;
      let seen = 0;
      for (let i = 0; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.name === name) {
          if (seen++ === start) {
            this.taken.set(name, start + 1);
            return e.args;
          }
        } else if (i >= from && failOn.includes(e.name)) {
          throw new Error(`${this.name}: ${e.name} (${e.args.map((x) => x?.message ?? JSON.stringify(x)).join(', ')}) while waiting for ${name}`);
        }
      }
      if (now() > end) {
        throw new Error(`${this.name}: no ${name} in ${ms} ms; events: ` +
          JSON.stringify(this.events.map((e) => e.name)));
      }
      await sleep(5);
    }
  }

  // The first arguments of the "user connected" / "user disconnected"
  // events about userID so far (other tests' users may come and go).
  about(name, userID) {
    return this.firsts(name).filter((x) => (typeof x === 'string' ? x : x?.userID) === userID);
  }

  // Wait until the n-th `name` event about userID has arrived: -> its
  // first argument.
  async waitAbout(name, userID, n = 1, ms = 5000) {
    await until(() => this.about(name, userID).length >= n,
      `${this.name}: ${name} #${n} about ${userID}; got ${JSON.stringify(this.all(name))}`, ms);
    return this.about(name, userID)[n - 1];
  }

  // Send a private message and wait for the ack: -> the ack's first
  // argument (undefined for an accepted message, {error} for a refused one).
  send(to, content, ms = 5000) {
    return this.s.timeout(ms).emitWithAck('private message', { content, to });
  }

  // Emit "private message" with any arguments and wait for the ack.
  sendRaw(ms, ...args) {
    return this.s.timeout(ms).emitWithAck('private message', ...args);
  }

  get connected() { return this.s.connected; }

  close() {
    open.delete(this);
    try { this.s.disconnect(); } catch { /* closed already */ }
  }
}

// A connected tab: "connect", then "session", then "users".
// -> the tab, with tab.session {sessionID, userID} and tab.users.
export async function join(url, auth, opts = {}) {
  const t = new Tab(url, auth, opts);
  await t.take('connect', { ms: opts.ms ?? 5000 });
  const [session] = await t.take('session');
  const [users] = await t.take('users');
  t.session = session;
  t.users = users;
  t.userID = session.userID;
  t.sessionID = session.sessionID;
  return t;
}

// A CONNECT that must be refused: -> the connect_error's Error.
export async function refused(url, auth) {
  const t = new Tab(url, auth);
  try {
    await until(() => t.all('connect_error').length > 0 || t.all('users').length > 0,
      `connect_error or users for auth ${JSON.stringify(auth)}`, 5000);
    const [err] = t.all('connect_error')[0] ?? [];
    if (err) return err;
    const [users] = t.all('users')[0];
    const [session] = t.all('session')[0] ?? [];
    const me = users.find((u) => u.userID === session?.userID);
    throw new Error(`CONNECT with auth ${JSON.stringify(auth)} was accepted: ` +
      `session ${JSON.stringify(session)}, stored as ${JSON.stringify(me)}`);
  } finally {
    t.close();
  }
}

// The entry of `userID` in a "users" list (exactly one).
export function entry(users, userID) {
  const found = users.filter((u) => u.userID === userID);
  assert.equal(found.length, 1, `${userID} appears once in users: ${JSON.stringify(users)}`);
  return found[0];
}

// Check the shape of a "users" list: an array of
// {userID, username, connected, messages: [{content, from, to}]} with
// every userID once.
export function checkUsers(users) {
  assert.ok(Array.isArray(users), `users is an array: ${JSON.stringify(users)}`);
  const ids = new Set();
  for (const u of users) {
    assert.deepEqual(Object.keys(u).sort(), ['connected', 'messages', 'userID', 'username'],
      `keys of ${JSON.stringify(u)}`);
    assert.match(u.userID, USER_RE);
    assert.equal(typeof u.username, 'string');
    assert.equal(typeof u.connected, 'boolean');
    assert.ok(Array.isArray(u.messages));
    for (const m of u.messages) {
      assert.deepEqual(Object.keys(m).sort(), ['content', 'from', 'to'], `keys of ${JSON.stringify(m)}`);
    }
    assert.ok(!ids.has(u.userID), `${u.userID} twice in users`);
    ids.add(u.userID);
  }
}

// A fresh connection by sessionID (closed again): -> its "users".
export async function usersOf(url, sessionID) {
  const t = await join(url, { sessionID });
  t.close();
  checkUsers(t.users);
  return t.users;
}

// The pids of lighttpd's sio-fcgi children.
export function backendPids(srv) {
  const lpid = srv.pids().lighttpd;
  const res = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === lpid && rest[0] !== 'Z') res.push(Number(d));
    } catch { /* gone */ }
  }
  return res.sort((a, b) => a - b);
}

export { sleep, now };
