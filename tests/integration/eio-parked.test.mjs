// A held poll parked in the daemon gives libfcgi's streams back while it
// waits (front.c, front_req_detach) and its answer is framed by
// fcgi_record.c.  Here, straight on the daemon's FastCGI socket (the
// client of lib/fcgi.mjs reads every record, padding and END_REQUEST):
//   * a parked poll's answer arrives whole, past the 64 KB of a record,
//     with the CORS header that the Origin it came with asks for;
//   * a poll that still has stdin to read when it parks (a GET with a
//     body, or one whose stdin ends late) keeps its streams and is
//     answered all the same;
//   * 500 parked polls cost a few KB each, not libfcgi's 17.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { Session, decode, sleep } from './lib/eio.mjs';
import { fcgiRequest } from './lib/fcgi.mjs';

const MAX = 300000;
let srv;
let sock;
before(async () => {
  srv = await startServer({
    args: ['--ping-interval', '20000', '--ping-timeout', '20000', '--max-payload', String(MAX),
      '--cors-origin', 'http://a.test'],
  });
  sock = path.join(srv.dir, 'sio-fcgi.sock');
});
after(async () => { await srv?.stop(); });

// A GET of session s sent straight to the daemon, to be parked.
function heldGet(s, opts = {}) {
  const u = new URL(s.url());
  return fcgiRequest(sock, { url: u.pathname + u.search, timeout: 15000, ...opts });
}

// Time for a GET to reach the daemon and be parked.
const PARK_MS = 400;

function vmRssKib(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

function hasAsan(pid) {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libasan');
}

test('a parked poll is answered whole past one record, with its CORS header', async () => {
  const s = await Session.open(srv.url);
  const held = heldGet(s, { headers: { Origin: 'http://a.test' } });
  await sleep(PARK_MS);
  // 150,000 bytes: three records of our own, the last one padded.
  const big = '4' + 'xyz'.repeat(50000);
  const p = await s.post(big);
  assert.equal(p.status, 200, p.text);
  const r = await held;
  assert.equal(r.status, 200, r.text.slice(0, 200));
  assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
  assert.equal(r.headers['access-control-allow-origin'], 'http://a.test');
  assert.equal(r.body.length, big.length);
  assert.deepEqual(decode(r.text), [big]);
  // The session goes on: the next parked poll gets the next message.
  const next = heldGet(s);
  await sleep(PARK_MS);
  assert.equal((await s.post('4again')).status, 200);
  assert.deepEqual(decode((await next).text), ['4again']);
});

test('a poll with stdin still to read keeps its streams and is answered', async () => {
  // A GET with a body longer than what is drained before parking.
  const s = await Session.open(srv.url);
  const withBody = heldGet(s, { body: 'b'.repeat(10000) });
  await sleep(PARK_MS);
  assert.equal((await s.post('4body')).status, 200);
  const r1 = await withBody;
  assert.equal(r1.status, 200, r1.text);
  assert.deepEqual(decode(r1.text), ['4body']);

  // A GET whose stdin ends only after it was parked.
  const t = await Session.open(srv.url);
  const late = heldGet(t, { body: 'abcdef', bodyDelay: 2 * PARK_MS });
  await sleep(PARK_MS);
  assert.equal((await t.post('4late')).status, 200);
  const r2 = await late;
  assert.equal(r2.status, 200, r2.text);
  assert.deepEqual(decode(r2.text), ['4late']);
});

test('500 parked polls cost a few KB each, and every one is answered', async (t) => {
  const N = 500;
  const pid = srv.pids()['sio-fcgi'];
  const sessions = [];
  for (let i = 0; i < N; i++) sessions.push(await Session.open(srv.url));
  const before = vmRssKib(pid);
  const held = sessions.map((s) => heldGet(s, { timeout: 30000 }));
  await sleep(2 * PARK_MS);
  const parked = vmRssKib(pid);
  for (let i = 0; i < N; i += 50)
    await Promise.all(sessions.slice(i, i + 50).map((s, j) => s.post(`4m${i + j}`)));
  const answers = await Promise.all(held);
  answers.forEach((r, i) => {
    assert.equal(r.status, 200, `poll ${i}: ${r.text}`);
    assert.deepEqual(decode(r.text), [`4m${i}`], `poll ${i}`);
  });
  const perPoll = (parked - before) / N;
  t.diagnostic(`${perPoll.toFixed(1)} KB of RSS per parked poll`);
  // With libfcgi's streams kept, a parked poll held 17 KB more than now
  // (8 KB of input and 8 KB of output buffer).  A sanitizer build pads
  // and quarantines every allocation: only the answers count there.
  if (!hasAsan(pid))
    assert.ok(perPoll < 8, `${perPoll.toFixed(1)} KB of RSS per parked poll (${before} -> ${parked} KiB)`);
});
