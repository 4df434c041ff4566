// The real socket.io-client (npm, 4.8.x) against the conformance app
// (APP.md 2), polling only, two sio-fcgi processes behind lighttpd.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { io, Manager } from 'socket.io-client';
import { startServer } from './lib/server.mjs';
import { request, eioUrl, sleep, now, ERR } from './lib/eio.mjs';
import { CONFORMANCE_ARGS, SIO_PATH, next, collect, normalize } from './lib/sio.mjs';

const OPTS = { transports: ['polling'], forceNew: true, reconnection: false };

let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 2, args: CONFORMANCE_ARGS });
});
after(async () => { await srv?.stop(); });

// Every socket and manager a test makes is closed after it.
const open = [];
afterEach(() => {
  for (const x of open.splice(0)) {
    try { x.disconnect(); } catch { /* already closed */ }
  }
});

// A socket.io-client socket on namespace nsp ('' or 'custom', ...).
function client(nsp = '', opts = {}) {
  const s = io(srv.url + nsp, { ...OPTS, ...opts });
  open.push(s);
  return s;
}

const FAIL = ['connect_error', 'disconnect'];

// Connect, and wait for the "connect" and the "auth" event. -> [socket, auth]
async function connected(nsp = '', opts = {}) {
  const s = client(nsp, opts);
  const auth = next(s, 'auth', { failOn: FAIL });
  await next(s, 'connect', { failOn: FAIL });
  const [a] = await auth;
  return [s, a];
}

// The Engine.IO session of the socket is gone on the server.
async function assertEngineGone(sid) {
  const r = await request('GET', eioUrl(srv.url, { sid, path: SIO_PATH }));
  assert.equal(r.status, 400, `GET with the old Engine.IO sid: ${r.status} ${r.text}`);
  assert.deepEqual(JSON.parse(r.text), { code: 1, message: ERR[1] });
}

test('connect to "/" without auth: auth event {}, ids, polling', async () => {
  const [s, auth] = await connected();
  assert.deepEqual(auth, {});
  assert.equal(s.connected, true);
  assert.equal(s.io.engine.transport.name, 'polling');
  assert.equal(typeof s.id, 'string');
  assert.ok(s.id.length > 0);
  assert.notEqual(s.id, s.io.engine.id, 'Socket.IO sid differs from the Engine.IO sid');
});

test('connect with auth: the payload is echoed', async () => {
  const tokenAuth = { token: '123' };
  const [, a1] = await connected('', { auth: tokenAuth });
  assert.deepEqual(a1, tokenAuth);
  const rich = { token: 'é€😀', n: [1, 2.5, null], nested: { ok: true } };
  const [, a2] = await connected('', { auth: rich });
  assert.deepEqual(a2, rich);
});

test('custom namespace /custom, with and without auth', async () => {
  const [s, auth] = await connected('custom');
  assert.equal(s.nsp, '/custom');
  assert.deepEqual(auth, {});
  const [s2, auth2] = await connected('custom', { auth: { token: 'c' } });
  assert.deepEqual(auth2, { token: 'c' });
  assert.notEqual(s.id, s2.id);
});

test('refused namespace: connect_error "Invalid namespace"', async () => {
  const s = client('random');
  let connects = 0;
  s.on('connect', () => { connects++; });
  const [err] = await next(s, 'connect_error');
  assert.equal(err.message, 'Invalid namespace');
  assert.equal(s.connected, false);
  await sleep(100);
  assert.equal(connects, 0);
});

test('events: message -> message-back with several args of mixed types', async () => {
  const [s] = await connected();
  const args = [1, '2', { 3: [false, null, true] }, 'é€😀', 'a\u001eb\u0000c\n', '', [], 3.25, -7];
  const got = next(s, 'message-back', { failOn: FAIL });
  s.emit('message', ...args);
  assert.deepEqual(await got, args);
});

test('events keep their order: 30 messages emitted at once', async () => {
  const [s] = await connected();
  const got = collect(s, 'message-back');
  for (let i = 0; i < 30; i++) s.emit('message', i, `m${i}`);
  const t0 = now();
  while (got.length < 30 && now() - t0 < 5000) await sleep(20);
  assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => [i, `m${i}`]));
});

// Each packet below the default maxPayload (100000), both together above
// it: the client sends them in two POSTs.
test('large text and binary arguments round-trip', async () => {
  const [s] = await connected();
  const text = 'x€'.repeat(12000);
  const bin = Buffer.alloc(70000);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 31) & 255;
  const got = next(s, 'message-back', { failOn: FAIL });
  s.emit('message', text, bin);
  const back = await got;
  assert.equal(back[0], text);
  assert.ok(Buffer.from(back[1]).equals(bin), 'bytes equal');
});

test('ack from the server: emitWithAck and a callback with several args', async () => {
  const [s] = await connected();
  assert.equal(await s.timeout(3000).emitWithAck('message-with-ack', 'x'), 'x');
  assert.deepEqual(await s.timeout(3000).emitWithAck('message-with-ack', { a: [1, 'é'] }), { a: [1, 'é'] });
  const args = await new Promise((resolve, reject) => {
    s.timeout(3000).emit('message-with-ack', 1, 'two', { 3: [4] }, (err, ...a) => (err ? reject(err) : resolve(a)));
  });
  assert.deepEqual(args, [1, 'two', { 3: [4] }]);
  // No arguments: the ack comes with none.
  const none = await new Promise((resolve, reject) => {
    s.timeout(3000).emit('message-with-ack', (err, ...a) => (err ? reject(err) : resolve(a)));
  });
  assert.deepEqual(none, []);
});

test('server-requested ack: request-ack -> server-ack-request -> ack-back', async () => {
  const [s] = await connected();
  const requests = [];
  s.on('server-ack-request', (...args) => {
    const cb = args.pop();
    assert.equal(typeof cb, 'function', 'the server asked for an ack');
    requests.push(args);
    cb('acked', { n: args.length }, 'é€😀');
  });
  const back = next(s, 'ack-back', { failOn: FAIL });
  s.emit('request-ack', 'q', 7, { r: [true] });
  assert.deepEqual(await back, ['acked', { n: 3 }, 'é€😀']);
  assert.deepEqual(requests, [['q', 7, { r: [true] }]]);
  // Twice more: each request gets its own ack.
  const backs = collect(s, 'ack-back');
  s.emit('request-ack', 'r1');
  s.emit('request-ack', 'r2', 'x');
  const t0 = now();
  while (backs.length < 2 && now() - t0 < 5000) await sleep(20);
  assert.deepEqual(backs, [['acked', { n: 1 }, 'é€😀'], ['acked', { n: 2 }, 'é€😀']]);
});

test('server-requested ack answered with binary', async () => {
  const [s] = await connected();
  const bytes = Buffer.from([0, 1, 0x1e, 254, 255]);
  s.on('server-ack-request', (...args) => args.pop()({ b: bytes }, bytes));
  const back = next(s, 'ack-back', { failOn: FAIL });
  s.emit('request-ack');
  assert.deepEqual(normalize(await back), [{ b: bytes }, bytes]);
});

test('binary both ways: top level, nested, several attachments, mixed with text', async () => {
  const [s] = await connected();
  const a = Buffer.from([1, 2, 3]);
  const b = Buffer.from([0, 0x1e, 0xff, 0x80]);
  const c = Buffer.alloc(0);
  const d = new Uint8Array([9, 8, 7, 6, 5]);
  const e = Buffer.from('é€😀', 'utf8');
  // Top level alone.
  let got = next(s, 'message-back', { failOn: FAIL });
  s.emit('message', a);
  let back = await got;
  assert.ok(Buffer.isBuffer(back[0]) || back[0] instanceof ArrayBuffer || ArrayBuffer.isView(back[0]),
    `binary comes back as binary: ${typeof back[0]}`);
  assert.deepEqual(normalize(back), [a]);
  // Nested, several, mixed.
  const args = ['text', b, { x: { y: [c, 'z', d] }, w: e }, [a, [b]], 42, null];
  got = next(s, 'message-back', { failOn: FAIL });
  s.emit('message', ...args);
  back = await got;
  assert.deepEqual(normalize(back), normalize(args));
  // Binary through an ack.
  const acked = await s.timeout(3000).emitWithAck('message-with-ack', { bin: [e, a] });
  assert.deepEqual(normalize(acked), { bin: [e, a] });
});

test('broadcast: two clients of "/" each get broadcast-back exactly once, /custom none', async () => {
  const [a] = await connected();
  const [b] = await connected();
  const [c] = await connected('custom');
  const ga = collect(a, 'broadcast-back');
  const gb = collect(b, 'broadcast-back');
  const gc = collect(c, 'broadcast-back');
  const both = Promise.all([next(a, 'broadcast-back', { failOn: FAIL }), next(b, 'broadcast-back', { failOn: FAIL })]);
  a.emit('broadcast', 'hello', { n: 42 });
  assert.deepEqual(await both, [['hello', { n: 42 }], ['hello', { n: 42 }]]);
  // Two more ping cycles: no duplicate arrives.
  await sleep(700);
  assert.deepEqual(ga, [['hello', { n: 42 }]]);
  assert.deepEqual(gb, [['hello', { n: 42 }]]);
  assert.deepEqual(gc, []);
});

test('disconnect-me: the client gets "disconnect" with "io server disconnect"', async () => {
  const [s] = await connected();
  const engineId = s.io.engine.id;
  const d = next(s, 'disconnect');
  s.emit('disconnect-me');
  const [reason] = await d;
  assert.equal(reason, 'io server disconnect');
  assert.equal(s.connected, false);
  // Its last socket gone, the Manager closes the Engine.IO session.
  await sleep(300);
  await assertEngineGone(engineId);
});

test('close-me: the client is disconnected with "io server disconnect", the session is gone', async () => {
  const [s] = await connected();
  const engineId = s.io.engine.id;
  const d = next(s, 'disconnect');
  s.emit('close-me');
  const [reason] = await d;
  assert.equal(reason, 'io server disconnect');
  await sleep(300);
  assert.equal(s.io.engine.readyState, 'closed');
  await assertEngineGone(engineId);
});

test('several namespaces on one Manager share the Engine.IO session', async () => {
  const m = new Manager(srv.url, { transports: ['polling'], reconnection: false });
  open.push(m);
  const a = m.socket('/');
  const b = m.socket('/custom', { auth: { token: 'b' } });
  const authA = next(a, 'auth', { failOn: FAIL });
  const authB = next(b, 'auth', { failOn: FAIL });
  a.connect(); b.connect();
  assert.deepEqual(await authA, [{}]);
  assert.deepEqual(await authB, [{ token: 'b' }]);
  assert.equal(a.io.engine, b.io.engine);
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.id, a.io.engine.id);
  assert.notEqual(b.id, a.io.engine.id);
  // Each namespace gets its own answers.
  const gotA = collect(a, 'message-back');
  const gotB = collect(b, 'message-back');
  a.emit('message', 'to-root');
  b.emit('message', 'to-custom');
  const t0 = now();
  while ((gotA.length < 1 || gotB.length < 1) && now() - t0 < 5000) await sleep(20);
  await sleep(50);
  assert.deepEqual(gotA, [['to-root']]);
  assert.deepEqual(gotB, [['to-custom']]);
  assert.equal(await b.timeout(3000).emitWithAck('message-with-ack', 'b-ack'), 'b-ack');

  // disconnect-me on /custom leaves "/" connected.
  const dB = next(b, 'disconnect');
  b.emit('disconnect-me');
  assert.equal((await dB)[0], 'io server disconnect');
  assert.equal(a.connected, true);
  assert.equal(await a.timeout(3000).emitWithAck('message-with-ack', 'a-still'), 'a-still');
});

test('io(url) and io(url + "custom") without forceNew share one Manager', async () => {
  const o = { transports: ['polling'], reconnection: false };
  const a = io(srv.url, o);
  const b = io(srv.url + 'custom', o);
  open.push(a, b, a.io);
  assert.equal(a.io, b.io, 'one Manager');
  await Promise.all([next(a, 'connect', { failOn: FAIL }), next(b, 'connect', { failOn: FAIL })]);
  assert.equal(a.io.engine.id, b.io.engine.id);
  assert.equal(await b.timeout(3000).emitWithAck('message-with-ack', 1), 1);
  assert.equal(await a.timeout(3000).emitWithAck('message-with-ack', 2), 2);
});

test('close-me with two namespaces: both sockets get "io server disconnect"', async () => {
  const m = new Manager(srv.url, { transports: ['polling'], reconnection: false });
  open.push(m);
  const a = m.socket('/');
  const b = m.socket('/custom');
  const ca = next(a, 'connect', { failOn: FAIL });
  const cb = next(b, 'connect', { failOn: FAIL });
  a.connect(); b.connect();
  await Promise.all([ca, cb]);
  const engineId = m.engine.id;
  const da = next(a, 'disconnect');
  const db = next(b, 'disconnect');
  a.emit('close-me');
  assert.equal((await da)[0], 'io server disconnect');
  assert.equal((await db)[0], 'io server disconnect');
  await sleep(300);
  await assertEngineGone(engineId);
});

test('client disconnect() closes the Engine.IO session on the server', async () => {
  const [s] = await connected();
  const engineId = s.io.engine.id;
  const d = next(s, 'disconnect');
  s.disconnect();
  assert.equal((await d)[0], 'io client disconnect');
  await sleep(300);
  await assertEngineGone(engineId);
});

test('a client stays connected through several ping cycles (300/200)', async (t) => {
  const [s] = await connected();
  const engineId = s.io.engine.id;
  const disconnects = collect(s, 'disconnect');
  let pings = 0;
  s.io.on('ping', () => { pings++; });
  const t0 = now();
  while (pings < 4 && now() - t0 < 4000) await sleep(20);
  t.diagnostic(`${pings} pings in ${(now() - t0).toFixed(0)} ms`);
  assert.ok(pings >= 4, `pings: ${pings}`);
  assert.deepEqual(disconnects, []);
  assert.equal(s.connected, true);
  assert.equal(s.io.engine.id, engineId, 'same Engine.IO session');
  const got = next(s, 'message-back', { failOn: FAIL });
  s.emit('message', 'after pings');
  assert.deepEqual(await got, ['after pings']);
});
