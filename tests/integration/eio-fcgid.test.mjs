// Apache + mod_fcgid in front (contrib/apache-fcgid.conf): mod_fcgid gives
// each sio-fcgi process one request at a time, always, so a held GET and
// the POST that wakes it necessarily run in different processes, which
// share the session through LMDB only.  With CI set, a missing apache2 or
// mod_fcgid is a failure, never a skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Socket } from 'engine.io-client';
import { startServer, logLinesForSid, processGone } from './lib/server.mjs';
import { Session, decode, sleep, now } from './lib/eio.mjs';

const MODULES = '/usr/lib/apache2/modules';

// What is missing to run Apache + mod_fcgid ('' when nothing).
function missingTools() {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/sbin'];
  const apache2 = dirs.some((d) => {
    try { fs.accessSync(path.join(d || '.', 'apache2'), fs.constants.X_OK); return true; } catch { return false; }
  });
  if (!apache2) return 'apache2 is not installed';
  for (const m of ['mpm_event', 'authz_core', 'alias', 'mime', 'dir', 'fcgid'])
    if (!fs.existsSync(path.join(MODULES, `mod_${m}.so`))) return `${MODULES}/mod_${m}.so is missing`;
  return '';
}
const missing = missingTools();
const skip = missing && !process.env.CI ? `${missing} (run scripts/setup)` : false;

// The sio-fcgi processes started so far (each logs "serving" at start).
const startedPids = () => new Set([...srv.logText().matchAll(/^sio-fcgi\[(\d+)\]: info: serving/gm)]
  .map((m) => Number(m[1])));

// mod_fcgid never starts a process before a request needs one, and a
// request that finds every process of its class busy first sleeps 1 s,
// then asks for a new one (fcgid_bridge.c, handle_request).  With a 300 ms
// ping interval and a 200 ms pong deadline, a POST stalled 1 s behind a
// held GET loses the session.  So grow the pool first: keep `k` clients
// polling at once until k processes run (mod_fcgid then keeps them:
// FcgidMinProcessesPerClass 3, FcgidIdleTimeout 300 s).
async function warmUp(k, ms = 15000) {
  const deadline = now() + ms;
  let stop = false;
  const client = async () => {
    let s = null;
    while (!stop && now() < deadline) {
      try {
        s ??= await Session.open(srv.url);
        const r = await s.get({ timeout: 5000 });
        if (r.status !== 200 || decode(r.text).includes('1')) s = null;
        else if (decode(r.text).includes('2')) await s.post('3', { timeout: 5000 });
      } catch {
        s = null;
      }
    }
  };
  const clients = Array.from({ length: k }, client);
  while (startedPids().size < k && now() < deadline) await sleep(50);
  stop = true;
  await Promise.all(clients);
  return startedPids().size;
}

let srv;
let warm = '';
before(async () => {
  if (missing) return;
  srv = await startServer({
    front: 'apache-fcgid',
    args: ['--ping-interval', '300', '--ping-timeout', '200', '--log-level', 'debug'],
  });
  const t0 = now();
  const n = await warmUp(4);
  warm = `${n} sio-fcgi processes after ${(now() - t0).toFixed(0)} ms of warm-up`;
});
after(async () => { await srv?.stop(); });

// The sio-fcgi log of one session, one {pid, line} per line, in order.
const sidLines = (sid) => logLinesForSid(srv.logText(), sid);

// The log line of the request whose URI has t=TAG, and the line before it
// in the same process (mod_fcgid: nothing else ran in it in between).
function requestByTag(sid, tag) {
  const lines = sidLines(sid);
  const i = lines.findIndex((l) => new RegExp(`front: (GET|POST) \\S*[?&]t=${tag}(&\\S*)? -> `).test(l.line));
  if (i < 0) return null;
  // The wake is logged just before the answer it woke, in that process.
  const prev = lines.slice(0, i).reverse().find((l) => l.pid === lines[i].pid);
  return { ...lines[i], status: Number(/ -> (\d+)$/.exec(lines[i].line)[1]), prev: prev?.line ?? '' };
}

test('apache2 and mod_fcgid are installed; mod_fcgid runs a pool of processes', { skip }, (t) => {
  assert.equal(missing, '', `${missing} (CI is set: a missing tool is a failure, not a skip)`);
  assert.ok(srv, 'server started');
  t.diagnostic(warm);
  assert.ok(startedPids().size >= 4, warm);
});

test('a GET held by one process is woken by a POST served by another', { skip }, async (t) => {
  assert.ok(srv, missing || 'server not started');
  const s = await Session.open(srv.url);
  let wakes = 0;
  const pairs = [];
  for (let i = 0; wakes < 5 && i < 20; i++) {
    // Tag both requests (the t= cache-buster) to find them in the log.
    const g = s.get({ query: { t: `g${i}x` } });
    await sleep(60);
    const p = await s.post(`4m${i}`, { query: { t: `p${i}x` } });
    assert.equal(p.status, 200, `POST ${i}: ${p.status} ${p.text}`);
    assert.equal(p.text, 'ok');
    let r = await g;
    assert.equal(r.status, 200, `GET ${i}: ${r.status} ${r.text}`);
    let pkts = decode(r.text);
    const pinged = pkts.includes('2');
    if (pinged) {
      // The server's ping answered the poll before the message: pong,
      // then fetch the message.
      assert.equal((await s.post('3')).status, 200, 'pong');
      if (!pkts.includes(`4m${i}`)) pkts = pkts.concat(decode((await s.get()).text));
    }
    assert.deepEqual(pkts.filter((x) => x !== '2'), [`4m${i}`], `echo ${i}`);
    if (pinged) continue;
    const get = requestByTag(s.sid, `g${i}x`);
    const post = requestByTag(s.sid, `p${i}x`);
    assert.ok(get && post, `log of cycle ${i}:\n${sidLines(s.sid).map((l) => l.line).join('\n')}`);
    assert.match(get.prev, new RegExp(`woke sid=${s.sid} in \\d+ us`), `GET ${i} was held and woken`);
    assert.notEqual(get.pid, post.pid, `cycle ${i}: the woken GET and the waking POST ran in different processes`);
    pairs.push(`GET ${get.pid} <- POST ${post.pid} (${/in \d+ us/.exec(get.prev)[0]})`);
    wakes++;
  }
  assert.equal(wakes, 5, 'five wakes without a ping in the way');
  const lines = sidLines(s.sid);
  const pids = new Set(lines.map((l) => l.pid));
  t.diagnostic(`cross-process wakes: ${pairs.join('; ')}`);
  t.diagnostic(`sio-fcgi processes that served the session: ${[...pids].join(', ')}`);
  assert.ok(pids.size >= 2, `pids serving sid ${s.sid}: ${[...pids]}`);
  const answers = lines.filter((l) => / -> \d+$/.test(l.line));
  assert.ok(answers.every((l) => / -> 200$/.test(l.line)),
    `every request answered 200:\n${answers.map((l) => l.line).join('\n')}`);
});

test('ping cycles answered with pongs keep the session alive', { skip }, async (t) => {
  assert.ok(srv, missing || 'server not started');
  const s = await Session.open(srv.url);
  const t0 = now();
  for (let i = 0; i < 4; i++) {
    const r = await s.get();
    assert.equal(r.status, 200, `GET ${i}: ${r.status} ${r.text}`);
    assert.deepEqual(decode(r.text), ['2'], `GET ${i} brings a ping`);
    const p = await s.post('3');
    assert.equal(p.status, 200, `pong ${i}: ${p.status} ${p.text}`);
  }
  const took = now() - t0;
  t.diagnostic(`4 ping/pong cycles in ${took.toFixed(0)} ms (pingInterval 300)`);
  assert.ok(took > 3 * 300 * 0.8, `pings come about every 300 ms (${took.toFixed(0)} ms)`);
  // Still open after more than pingInterval + pingTimeout.
  assert.equal((await s.post('4alive')).status, 200);
  assert.deepEqual(await s.messages(), ['4alive']);
  const pids = new Set(sidLines(s.sid).map((l) => l.pid));
  t.diagnostic(`processes that served it: ${[...pids].join(', ')}`);
  assert.ok(!/ -> 4\d\d$/m.test(sidLines(s.sid).map((l) => l.line).join('\n')), 'no 4xx');
});

// Resolve with the next `event` of socket, or reject on close/timeout.
function next(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${event} in ${ms} ms`)); }, ms);
    const onEvent = (...a) => { cleanup(); resolve(a); };
    const onClose = (reason, desc) => {
      cleanup();
      reject(new Error(`closed while waiting for ${event}: ${reason} ${desc?.message ?? desc ?? ''}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off('close', onClose);
    };
    socket.on(event, onEvent);
    socket.on('close', onClose);
  });
}

test('engine.io-client: text and binary echo through Apache', { skip }, async () => {
  assert.ok(srv, missing || 'server not started');
  const socket = new Socket(srv.url, { transports: ['polling'], path: '/engine.io/' });
  const errors = [];
  socket.on('error', (e) => errors.push(e));
  try {
    await next(socket, 'open');
    assert.equal(socket.transport.name, 'polling');

    const text = 'hello \u00e9\u20ac\u{1f600}';
    let got = next(socket, 'message');
    socket.send(text);
    assert.deepEqual(await got, [text]);

    const bytes = new Uint8Array([0, 1, 2, 3, 0x1e, 254, 255]);
    got = next(socket, 'message');
    socket.send(bytes);
    const [m] = await got;
    assert.equal(typeof m, 'object', `binary comes back as bytes, got ${typeof m}`);
    assert.deepEqual([...new Uint8Array(m)], [...bytes]);

    // A ping cycle handled by the client, then one more message.
    await next(socket, 'ping', 3000);
    got = next(socket, 'message');
    socket.send('after ping');
    assert.deepEqual(await got, ['after ping']);
    assert.deepEqual(errors, []);
  } finally {
    socket.close();
  }
});

test('stopping Apache leaves no sio-fcgi process behind', { skip }, async (t) => {
  assert.ok(srv, missing || 'server not started');
  // A poll in flight at the stop (Apache drops its client at once).
  const s = await Session.open(srv.url);
  const held = s.get().then((r) => `${r.status} ${JSON.stringify(r.text)}`, (e) => e.message);
  await sleep(50);
  const apache = srv.pids().apache;
  const pids = new Set(srv.logText().split('\n')
    .map((l) => /^sio-fcgi\[(\d+)\]/.exec(l)).filter(Boolean).map((m) => Number(m[1])));
  assert.ok(apache > 0, `apache pid in ${srv.dir}/pids`);
  assert.ok(pids.size >= 2, `sio-fcgi pids in the log: ${[...pids]}`);
  const t0 = now();
  const { child } = srv;
  await srv.stop();
  const took = now() - t0;
  srv = null;
  t.diagnostic(`stopped in ${took.toFixed(0)} ms; sio-fcgi pids seen: ${[...pids].join(', ')}; ` +
    `the poll in flight got: ${await held}`);
  assert.equal(child.exitCode, 0, `contrib/serve exit code (signal ${child.signalCode})`);
  assert.ok(processGone(apache), `apache ${apache} gone`);
  for (const pid of pids) assert.ok(processGone(pid), `sio-fcgi ${pid} gone`);
  assert.ok(took < 10000, `stop took ${took.toFixed(0)} ms`);
});
