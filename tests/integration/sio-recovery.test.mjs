// Connection state recovery (PROTOCOL.md 9) against the conformance app
// (APP.md 2) started with --recovery: the real socket.io-client, raw
// long-polling, across processes and server restarts, and the window.
// Two sio-fcgi processes behind lighttpd (spawn mode) unless noted.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startServer, freePort } from './lib/server.mjs';
import { request, eioUrl, sleep, now, ERR } from './lib/eio.mjs';
import { SioSession, SIO_PATH, T, parseSio, next, collect } from './lib/sio.mjs';

// The recovery window of the main server is long (60 s): only test 5
// (its own server) lets a session expire.
const recoveryArgs = (ms) => ['--app', 'conformance', '--recovery', String(ms),
  '--ping-interval', '300', '--ping-timeout', '200', '--connect-timeout', '1000'];
const ARGS = recoveryArgs(60000);

// The shared server logs at debug level: test 1 reads the reason the
// server gave for the socket it lost.
let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 2, args: [...ARGS, '--log-level', 'debug'] });
});
after(async () => { await srv?.stop(); });

// --- helpers -----------------------------------------------------------------

// Wait until cond() is true; fail with `what` after ms.
async function until(cond, what, ms = 3000) {
  const end = now() + ms;
  while (!(await cond())) {
    if (now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const isOffset = (x) => typeof x === 'string' && x.length > 0;

// An event packet sent with recovery on: 42["name",...args,"<offset>"]
// (no ack id, "/" namespace). -> {name, args, offset}
function offsetEvent(raw, what = raw) {
  const p = parseSio(raw);
  assert.equal(p.type, T.EVENT, `${what}: an EVENT: ${raw}`);
  assert.equal(p.nsp, '/', `${what}: namespace of ${raw}`);
  assert.equal(p.id, undefined, `${what}: no ack id in ${raw}`);
  assert.ok(Array.isArray(p.data) && p.data.length >= 2, `${what}: name and offset in ${raw}`);
  const offset = p.data[p.data.length - 1];
  assert.ok(isOffset(offset), `${what}: the last argument is a string offset: ${raw}`);
  return { name: p.data[0], args: p.data.slice(1, -1), offset };
}

// The exact wire form of an event replayed with its original offset.
const wireEvent = (name, args, offset) => '42' + JSON.stringify([name, ...args, offset]);

// A CONNECT reply with recovery on: exactly {"sid","pid"}. -> {sid, pid}
function connectReply(raw, what = 'CONNECT reply') {
  const c = parseSio(raw);
  assert.equal(c.type, T.CONNECT, `${what}: ${raw}`);
  assert.equal(c.nsp, '/', `${what}: ${raw}`);
  assert.match(raw, /^40\{/, `${what}: no namespace: ${raw}`);
  assert.deepEqual(Object.keys(c.data ?? {}), ['sid', 'pid'], `${what}: keys of ${raw}`);
  assert.match(c.data.sid, /^[A-Za-z0-9_-]{8,}$/, `${what}: sid`);
  assert.match(c.data.pid, /^[A-Za-z0-9_-]{8,}$/, `${what}: pid`);
  assert.notEqual(c.data.sid, c.data.pid, `${what}: sid and pid differ`);
  return c.data;
}

// A new raw Engine.IO session on `base` sends CONNECT (with `auth`) and
// must get a *normal* connect: nothing replayed, the CONNECT reply, then
// 42["auth",<auth or {}>,<offset>].  -> {s, sid, pid, authOffset}
async function rawJoin(base, auth) {
  const s = await SioSession.open(base);
  await s.send('40' + (auth === undefined ? '' : JSON.stringify(auth)));
  const pkts = await s.read(2);
  assert.equal(pkts.length, 2, `CONNECT ${JSON.stringify(auth)}: expected the reply and the auth event, got ${JSON.stringify(pkts)}`);
  const { sid, pid } = connectReply(pkts[0]);
  assert.notEqual(sid, s.sid, 'the Socket.IO sid differs from the Engine.IO sid');
  const a = offsetEvent(pkts[1], 'auth event');
  assert.equal(a.name, 'auth');
  assert.deepEqual(a.args, [auth ?? {}], `auth echo: ${pkts[1]}`);
  return { s, sid, pid, authOffset: a.offset };
}

// s sends 42["message",...args]: the answer is exactly one message-back
// with the same arguments and an offset. -> the offset
async function echo(s, ...args) {
  await s.send('42' + JSON.stringify(['message', ...args]));
  const pkts = await s.read(1);
  assert.equal(pkts.length, 1, `message-back: ${JSON.stringify(pkts)}`);
  const e = offsetEvent(pkts[0], 'message-back');
  assert.equal(e.name, 'message-back');
  assert.deepEqual(e.args, args);
  return e.offset;
}

// s (joined to "/") broadcasts `args`; its own broadcast-back copy comes
// back with the offset the packet got. -> the offset
async function broadcast(s, ...args) {
  await s.send('42' + JSON.stringify(['broadcast', ...args]));
  const pkts = await s.read(1);
  assert.equal(pkts.length, 1, `broadcast-back: ${JSON.stringify(pkts)}`);
  const e = offsetEvent(pkts[0], 'broadcast-back');
  assert.equal(e.name, 'broadcast-back');
  assert.deepEqual(e.args, args);
  return e.offset;
}

// Drop a raw session the way a client closing its transport does: POST
// the Engine.IO close "1" (reason "transport close"); the sid is then gone.
async function drop(s) {
  await s.send('1');
  await s.gone();
}

// A new Engine.IO session sends 40{"pid","offset"} and must be recovered:
// exactly `missed` (wire strings, in order), then 40{"sid","pid"} with
// the old ids, then 42["auth",{"pid","offset"},<new offset>], and nothing
// else. -> {s, authOffset}
async function rawRecover(base, { sid, pid, offset, missed }) {
  const s = await SioSession.open(base);
  const auth = { pid, offset };
  await s.send('40' + JSON.stringify(auth));
  const n = missed.length + 2;
  const pkts = await s.read(n);
  const what = `recovery of pid ${pid} from offset ${offset}`;
  assert.equal(pkts.length, n, `${what}: expected ${n} packets, got ${JSON.stringify(pkts)}`);
  assert.deepEqual(pkts.slice(0, missed.length), missed, `${what}: the missed events, in order, before the CONNECT reply`);
  const c = connectReply(pkts[missed.length], what);
  assert.deepEqual(c, { sid, pid }, `${what}: same sid and pid`);
  const a = offsetEvent(pkts[missed.length + 1], `${what}: auth event`);
  assert.equal(a.name, 'auth');
  assert.deepEqual(a.args, [auth], `${what}: the auth echo has pid and offset`);
  return { s, authOffset: a.offset };
}

// A new Engine.IO session sends 40{"pid","offset"} and must get a normal
// connect: a new sid, a new pid, nothing replayed. -> the rawJoin result
async function rawNotRecovered(base, { sid, pid, offset }, what) {
  const j = await rawJoin(base, { pid, offset }).catch((e) => { throw new Error(`${what}: ${e.message}`); });
  assert.notEqual(j.sid, sid, `${what}: a new sid`);
  assert.notEqual(j.pid, pid, `${what}: a new pid`);
  return j;
}

// The debug log line of the shared server telling that socket `id` of
// Engine.IO session `engineSid` left "/" (and why), once it is there.
async function leftLine(id, engineSid) {
  const needle = `sio: socket ${id} of ${engineSid} left /: `;
  let line;
  await until(() => (line = srv.logText().split('\n').find((l) => l.includes(needle))) !== undefined,
    `the server to log "${needle}"`);
  return line.slice(line.indexOf('sio: '));
}

// GET with an Engine.IO sid of /socket.io/ -> the answer.
const getSid = (base, sid) => request('GET', eioUrl(base, { sid, path: SIO_PATH }));

async function assertEngineGone(base, sid, what) {
  const r = await getSid(base, sid);
  assert.equal(r.status, 400, `${what}: GET with the old Engine.IO sid: ${r.status} ${r.text}`);
  assert.deepEqual(JSON.parse(r.text), { code: 1, message: ERR[1] });
}

// --- socket.io-client ----------------------------------------------------------

const CLIENT_OPTS = { transports: ['polling'], forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200 };
const FAIL = ['connect_error', 'disconnect'];

const sockets = [];
afterEach(() => {
  for (const s of sockets.splice(0)) {
    try { s.disconnect(); } catch { /* closed */ }
    try { s.io.reconnection(false); s.io.engine?.close(); } catch { /* closed */ }
  }
});

// A connected socket.io-client socket of "/" and its auth event
// arguments. -> [socket, authArgs]
async function connectedClient() {
  const s = io(srv.url, CLIENT_OPTS);
  sockets.push(s);
  const auth = next(s, 'auth', { failOn: FAIL });
  await next(s, 'connect', { failOn: FAIL });
  return [s, await auth];
}

test('1. socket.io-client: a dropped transport is recovered with the same id and the missed events, once each', { timeout: 20000 }, async (t) => {
  const [A, authA] = await connectedClient();
  assert.equal(A.recovered, false, 'a first connection is not recovered');
  assert.equal(authA.length, 2, `auth event: the payload and an offset: ${JSON.stringify(authA)}`);
  assert.deepEqual(authA[0], {});
  assert.ok(isOffset(authA[1]), `offset of the auth event: ${JSON.stringify(authA)}`);
  const idA = A.id;
  const engineA = A.io.engine.id;
  const [B] = await connectedClient();
  assert.notEqual(B.id, idA);

  const backsA = collect(A, 'broadcast-back');
  const authsA = collect(A, 'auth');
  const connectsA = collect(A, 'connect');
  const failedAttempts = collect(A.io, 'reconnect_error');

  // Take A's network away for its reconnection attempts (the Manager
  // builds each new Engine.IO client from io.uri), so that A stays away,
  // deterministically, until the test gives the network back.
  const realUri = A.io.uri;
  A.io.uri = `http://127.0.0.1:${await freePort()}`;

  // Drop A's transport as the official socket.io-client CSR test does:
  // engine.close() POSTs the Engine.IO close "1", which the server takes
  // as "transport close" (recoverable); the Manager then reconnects by
  // itself, since the socket was not disconnect()ed.
  // Right after a pong POST completed, so that no POST of A is in flight:
  // engine.io-client writes the close even then, and two overlapping
  // POSTs close the session as "transport error" instead.
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ping and drain on A in 2 s')), 2000);
    A.io.engine.once('ping', () => A.io.engine.once('drain', () => { clearTimeout(timer); resolve(); }));
  });
  const dropped = next(A, 'disconnect');
  A.io.engine.close();
  const [clientReason] = await dropped;
  t.diagnostic(`client-side reason: ${clientReason}`);
  assert.equal(A.connected, false);
  // The server lost A's socket with a recoverable reason (read in its
  // debug log: no request may probe the session before, since a second
  // GET next to the held one would itself close it, "transport error").
  const left = await leftLine(idA, engineA);
  t.diagnostic(`server: ${left}`);
  assert.match(left, /left \/: transport close$/, 'server-side reason');
  await assertEngineGone(srv.url, engineA, 'A dropped');

  // While A is away, B broadcasts twice; B's own copies show that the
  // server handled both.
  const backsB = collect(B, 'broadcast-back');
  B.emit('broadcast', 'away-1');
  B.emit('broadcast', 'away-2', { n: 2 });
  await until(() => backsB.length >= 2, 'B\'s two broadcast-back');
  assert.deepEqual(backsB.map((a) => a.slice(0, -1)), [['away-1'], ['away-2', { n: 2 }]]);
  assert.ok(backsB.every((a) => isOffset(a[a.length - 1])), `offsets: ${JSON.stringify(backsB)}`);

  // A really is away: it tried to reconnect and failed.
  await until(() => failedAttempts.length >= 1, 'a failed reconnection attempt of A', 3000);
  assert.equal(A.connected, false);
  assert.deepEqual(backsA, [], 'nothing reached A while away');

  // Network back: A reconnects by itself and is recovered.
  A.io.uri = realUri;
  await until(() => connectsA.length >= 1, 'A to reconnect', 5000);
  assert.equal(A.recovered, true, 'socket.recovered');
  assert.equal(A.id, idA, 'same Socket.IO id');
  assert.notEqual(A.io.engine.id, engineA, 'a new Engine.IO session');
  t.diagnostic(`A reconnected after ${failedAttempts.length} failed attempt(s)`);

  // The missed events, exactly once each, in order, with their original
  // offsets (the app sees the offset as an extra last argument).
  await until(() => backsA.length >= 2, 'the missed broadcast-back events on A');
  await sleep(700); // two ping cycles: no duplicate arrives later
  assert.deepEqual(backsA.map((a) => a.slice(0, -1)), [['away-1'], ['away-2', { n: 2 }]], 'payloads');
  assert.deepEqual(backsA.map((a) => a[a.length - 1]), backsB.map((a) => a[a.length - 1]), 'original offsets');
  assert.equal(connectsA.length, 1);
  // The app ran its connection handler again, with the recovery keys.
  assert.equal(authsA.length, 1, `auth events after the recovery: ${JSON.stringify(authsA)}`);
  assert.deepEqual(authsA[0][0], { pid: A._pid, offset: authA[1] }, 'auth echo of the recovery CONNECT');

  // A is still in "/": the next broadcast reaches it once.
  const again = next(A, 'broadcast-back', { failOn: FAIL });
  B.emit('broadcast', 'after');
  assert.deepEqual((await again).slice(0, -1), ['after']);
  await sleep(100);
  assert.equal(backsA.length, 3);
});

test('2. socket.io-client: no recovery after a clean disconnect()', { timeout: 15000 }, async () => {
  const [A] = await connectedClient();
  const id1 = A.id;
  const engine1 = A.io.engine.id;
  const pid1 = A._pid;
  assert.equal(typeof pid1, 'string', 'the client got a pid');
  const d = next(A, 'disconnect');
  A.disconnect(); // "41", then (last socket of the Manager) the Engine.IO close
  assert.equal((await d)[0], 'io client disconnect');
  // The server saw the "41" (not a lost transport) before anything else.
  assert.match(await leftLine(id1, engine1), /left \/: client namespace disconnect$/, 'server-side reason');
  await until(async () => (await getSid(srv.url, engine1)).status === 400, 'the server to close the Engine.IO session');

  const auth = next(A, 'auth', { failOn: FAIL });
  const c = next(A, 'connect', { failOn: FAIL });
  A.connect();
  await c;
  const [authPayload] = await auth;
  assert.equal(A.recovered, false, 'socket.recovered');
  assert.notEqual(A.id, id1, 'a new id');
  assert.notEqual(A._pid, pid1, 'a new pid');
  // The client did try: its CONNECT carried the old pid.
  assert.equal(authPayload.pid, pid1, `auth echo ${JSON.stringify(authPayload)}`);
  assert.ok(isOffset(authPayload.offset));
});

// --- raw HTTP ------------------------------------------------------------------

test('3a. raw: 40{"sid","pid"}; events carry a string offset, acks and ack requests none', { timeout: 15000 }, async () => {
  const { s, sid, pid, authOffset } = await rawJoin(srv.url);
  const offsets = [authOffset];
  offsets.push(await echo(s, 'm1'));
  offsets.push(await echo(s, 1, { x: [2, null] }, 'é€😀'));
  offsets.push(await echo(s));
  // An ack: no offset.
  await s.send('421["message-with-ack","x",{"y":1}]');
  assert.deepEqual(await s.read(1), ['431["x",{"y":1}]']);
  await s.send('422["message-with-ack"]');
  assert.deepEqual(await s.read(1), ['432[]']);
  // An event requesting an ack: no offset; the ack-back event: an offset.
  await s.send('42["request-ack","q"]');
  const [req] = await s.read(1);
  const p = parseSio(req);
  assert.equal(p.type, T.EVENT, req);
  assert.equal(typeof p.id, 'number', `ack id in ${req}`);
  assert.deepEqual(p.data, ['server-ack-request', 'q'], `no offset in ${req}`);
  await s.send(`43${p.id}["r"]`);
  const [back] = await s.read(1);
  const e = offsetEvent(back, 'ack-back');
  assert.deepEqual([e.name, ...e.args], ['ack-back', 'r']);
  offsets.push(e.offset);
  assert.equal(new Set(offsets).size, offsets.length, `unique offsets: ${JSON.stringify(offsets)}`);
  // Another socket gets other ids.
  const o = await rawJoin(srv.url);
  assert.notEqual(o.sid, sid);
  assert.notEqual(o.pid, pid);
  assert.ok(!offsets.includes(o.authOffset), 'offsets are unique across sockets');
});

test('3b. raw: after a POSTed "1", 40{"pid","offset"} replays exactly the events after the offset, then 40{same sid, pid}', { timeout: 15000 }, async () => {
  const a = await rawJoin(srv.url);
  const o1 = await echo(a.s, 'm1');
  await a.s.send('421["message-with-ack","not stored"]');
  assert.deepEqual(await a.s.read(1), ['431["not stored"]']);
  const o2 = await echo(a.s, 'm2', { k: [1] });
  const b = await rawJoin(srv.url);

  await drop(a.s);
  // While A is away: two broadcasts (to every socket of "/").
  const w1 = await broadcast(b.s, 'w1');
  const w2 = await broadcast(b.s, 'w2', 2);

  // Recover from o1: m1 (o1 itself) is not replayed, the ack never is.
  const r = await rawRecover(srv.url, {
    sid: a.sid, pid: a.pid, offset: o1,
    missed: [wireEvent('message-back', ['m2', { k: [1] }], o2),
      wireEvent('broadcast-back', ['w1'], w1), wireEvent('broadcast-back', ['w2', 2], w2)],
  });
  assert.ok(![a.authOffset, o1, o2, w1, w2].includes(r.authOffset), 'the new auth event has a new offset');
  await r.s.idle(); // nothing more (no duplicate) until the next ping
  // The recovered socket works, and is back in "/".
  await echo(r.s, 'm3');
  const w3 = await broadcast(b.s, 'w3');
  assert.deepEqual(await r.s.read(1), [wireEvent('broadcast-back', ['w3'], w3)]);
});

test('3c. raw: a socket lost by ping timeout is recovered too', { timeout: 15000 }, async () => {
  const a = await rawJoin(srv.url);
  // A stops polling: ping at 300 ms, no pong within 200 ms.
  assert.match(await leftLine(a.sid, a.s.sid), /left \/: ping timeout$/, 'server-side reason');
  await assertEngineGone(srv.url, a.s.sid, 'after the ping timeout');
  const b = await rawJoin(srv.url);
  const w = await broadcast(b.s, 'late');
  await rawRecover(srv.url, {
    sid: a.sid, pid: a.pid, offset: a.authOffset, missed: [wireEvent('broadcast-back', ['late'], w)],
  });
});

test('3d. raw: an unknown pid, a wrong offset, a socket that left with "41": a new session', { timeout: 15000 }, async () => {
  // Unknown pid (with an offset that exists).
  const x = await rawJoin(srv.url);
  await rawNotRecovered(srv.url, { sid: x.sid, pid: 'AAAAAAAAAAAAAAAAAAAA', offset: x.authOffset }, 'unknown pid');

  // Wrong offset of a dropped socket.
  const a = await rawJoin(srv.url);
  await echo(a.s, 'm');
  await drop(a.s);
  await rawNotRecovered(srv.url, { sid: a.sid, pid: a.pid, offset: 'no-such-offset' }, 'wrong offset');

  // "41" then "1", in separate POSTs, then a new Engine.IO session.
  const c = await rawJoin(srv.url);
  const oc = await echo(c.s, 'm');
  await c.s.send('41');
  await c.s.idle(); // no reply to "41", the Engine.IO session stays
  await drop(c.s);
  await rawNotRecovered(srv.url, { sid: c.sid, pid: c.pid, offset: oc }, '"41" then "1"');

  // "41" then a CONNECT with the pid on the same Engine.IO session.
  const d = await rawJoin(srv.url);
  const od = await echo(d.s, 'm');
  await d.s.send('41');
  await d.s.send('40' + JSON.stringify({ pid: d.pid, offset: od }));
  const pkts = await d.s.read(2);
  assert.equal(pkts.length, 2, `"41" then 40{pid} on the same session: ${JSON.stringify(pkts)}`);
  const cr = connectReply(pkts[0], '"41" then 40{pid} on the same session');
  assert.notEqual(cr.sid, d.sid, '"41" then 40{pid}: a new sid');
  assert.notEqual(cr.pid, d.pid, '"41" then 40{pid}: a new pid');
  const e = offsetEvent(pkts[1], 'auth');
  assert.deepEqual([e.name, ...e.args], ['auth', { pid: d.pid, offset: od }]);
});

// --- restarts, window ----------------------------------------------------------

test('4. across processes and a full restart (same --db): recovered with the same sid and the missed events', { timeout: 30000 }, async (t) => {
  const dbdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-recovery-db-'));
  const servers = [];
  t.after(async () => {
    for (const s of servers) await s.stop();
    fs.rmSync(dbdir, { recursive: true, force: true });
  });
  const start = async () => {
    const s = await startServer({ mode: 'spawn', procs: 2, args: ['--db', dbdir, ...ARGS] });
    servers.push(s);
    return s;
  };

  const s1 = await start();
  const a = await rawJoin(s1.url);
  const o1 = await echo(a.s, 'before-1');
  const o2 = await echo(a.s, 'before-2');
  const b = await rawJoin(s1.url);
  await drop(a.s);
  const w1 = await broadcast(b.s, 'while-away');
  await s1.stop();
  assert.ok(!fs.existsSync(s1.dir), 'the first run dir is gone');
  assert.ok(fs.existsSync(path.join(dbdir, 'data.mdb')), 'the LMDB environment survived');

  const s2 = await start(); // new processes, new port, same --db
  assert.notEqual(s2.port, s1.port);
  const r = await rawRecover(s2.url, {
    sid: a.sid, pid: a.pid, offset: o1,
    missed: [wireEvent('message-back', ['before-2'], o2), wireEvent('broadcast-back', ['while-away'], w1)],
  });
  const used = [a.authOffset, o1, o2, b.authOffset, w1];
  assert.ok(!used.includes(r.authOffset), `offsets after the restart are new: ${r.authOffset} in ${JSON.stringify(used)}`);
  const o3 = await echo(r.s, 'after');
  assert.ok(!used.includes(o3), `offsets after the restart are new: ${o3} in ${JSON.stringify(used)}`);

  // B was still connected when the server stopped: once the new server
  // has closed its dead session, B is recovered too, with nothing missed
  // (what came after its last offset went to A only).
  await until(async () => (await getSid(s2.url, b.s.sid)).status === 400, 'the new server to close B\'s old session');
  await rawRecover(s2.url, { sid: b.sid, pid: b.pid, offset: w1, missed: [] });
});

test('5. the window: with --recovery 1000, a reconnection after 1.5 s gets a new session', { timeout: 20000 }, async (t) => {
  const s = await startServer({ mode: 'spawn', procs: 2, args: recoveryArgs(1000) });
  t.after(() => s.stop());
  const a = await rawJoin(s.url);
  const c = await rawJoin(s.url);
  const t0 = now();
  await Promise.all([drop(a.s), drop(c.s)]);
  // Control: within the window, c is recovered.
  await rawRecover(s.url, { sid: c.sid, pid: c.pid, offset: c.authOffset, missed: [] });
  assert.ok(now() - t0 < 1000, 'the control ran within the window');
  await sleep(1500 - (now() - t0));
  await rawNotRecovered(s.url, { sid: a.sid, pid: a.pid, offset: a.authOffset }, 'after 1.5 s');
});
