// Several sio-fcgi processes (lighttpd bin-path, max-procs 2) share the
// sessions through LMDB: any process serves any request, and a POST in
// one process wakes a GET held in the other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, logLinesForSid } from './lib/server.mjs';
import { Session, sleep, now, percentile } from './lib/eio.mjs';

let srv;
before(async () => {
  srv = await startServer({
    mode: 'spawn',
    procs: 2,
    args: ['--ping-interval', '300', '--ping-timeout', '200', '--log-level', 'debug'],
  });
});
after(async () => { await srv?.stop(); });

// The pids of lighttpd's sio-fcgi children.
function backendPids() {
  const lpid = srv.pids().lighttpd;
  const res = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === lpid) res.push(Number(d));
    } catch { /* gone */ }
  }
  return res.sort();
}

// Finished-request log lines ("front: METHOD URI -> STATUS") of a sid.
function requestLines(sid) {
  return logLinesForSid(srv.logText(), sid)
    .map(({ pid, line }) => {
      const m = / (GET|POST|PUT|OPTIONS) (\S+) -> (\d+)/.exec(line);
      return m ? { pid, method: m[1], status: Number(m[3]), line } : null;
    })
    .filter(Boolean);
}

// One held-GET wake: GET, wait until it is held, POST, await the GET.
// Returns the latency (ms, POST sent -> GET answered), or null when a
// ping got in the way (then the ping is answered).
async function wakeOnce(s, i, holdMs = 15) {
  let at = 0;
  const g = s.get().then((r) => { at = now(); return r; });
  await sleep(holdMs);
  const t0 = now();
  const p = await s.post(`4m${i}`);
  assert.equal(p.status, 200, `POST ${i}: ${p.status} ${p.text}`);
  let r = await g;
  assert.equal(r.status, 200, `GET ${i}: ${r.status} ${r.text}`);
  let pkts = r.text.split('\x1e');
  let counted = at - t0;
  if (pkts.includes('2')) {
    assert.equal((await s.post('3')).status, 200);
    counted = null;
    if (!pkts.includes(`4m${i}`)) {
      r = await s.get();
      pkts = r.text.split('\x1e');
    }
  }
  assert.deepEqual(pkts.filter((x) => x !== '2'), [`4m${i}`], `echo ${i}`);
  return counted;
}

test('two backend processes run', () => {
  assert.equal(backendPids().length, 2, `children of lighttpd: ${backendPids()}`);
});

test("a session's requests are served by both processes and nothing breaks", async () => {
  const s = await Session.open(srv.url);
  for (let i = 0; i < 30; i++) await wakeOnce(s, i);
  const lines = requestLines(s.sid);
  assert.ok(lines.length >= 60, `log lines with sid=${s.sid}: ${lines.length}`);
  const pids = new Set(lines.map((l) => l.pid));
  const children = backendPids();
  assert.equal(pids.size, 2, `pids serving the session: ${[...pids]}`);
  for (const pid of pids) assert.ok(children.includes(pid), `pid ${pid} is a backend (${children})`);
  assert.ok(lines.every((l) => l.status === 200), 'every request answered 200');
});

test('a GET held in one process is woken by a POST served by the other', async (t) => {
  const s = await Session.open(srv.url);
  await wakeOnce(s, 0, 50);
  const lines = requestLines(s.sid);
  const get = lines.find((l) => l.method === 'GET' && /[?&]sid=/.test(l.line));
  const post = lines.find((l) => l.method === 'POST');
  assert.ok(get && post, `log lines:\n${lines.map((l) => l.line).join('\n')}`);
  t.diagnostic(`held GET served by pid ${get.pid}, waking POST by pid ${post.pid}`);
  t.diagnostic(get.line);
  t.diagnostic(post.line);
  assert.notEqual(get.pid, post.pid, 'the POST ran in the other process');
});

test('200 cross-process wakes: p50/p95 latency under 50 ms end to end', async (t) => {
  const s = await Session.open(srv.url);
  const lat = [];
  for (let i = 0; lat.length < 200 && i < 400; i++) {
    const l = await wakeOnce(s, i, 5);
    if (l !== null) lat.push(l);
  }
  assert.equal(lat.length, 200, 'enough wakes without a ping in the way');
  lat.sort((a, b) => a - b);
  const p50 = percentile(lat, 50);
  const p95 = percentile(lat, 95);
  const msg = `POST->held GET wake latency (end to end through lighttpd, 2 processes, ` +
    `${lat.length} wakes): p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, ` +
    `max ${lat[lat.length - 1].toFixed(2)} ms`;
  t.diagnostic(msg);
  // Cross-process wakes in the log: GETs and POSTs of this sid in both pids.
  const pids = new Set(requestLines(s.sid).map((l) => l.pid));
  t.diagnostic(`processes serving the session: ${[...pids].join(', ')}`);
  assert.ok(p50 < 50, msg);
});
