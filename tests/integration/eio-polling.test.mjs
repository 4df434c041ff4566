// Long-polling, heartbeat and close (PROTOCOL.md sections 4 to 6), with
// pingInterval 300 ms and pingTimeout 200 ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { Session, decode, sleep, now, percentile, ERR } from './lib/eio.mjs';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
let srv;
before(async () => {
  srv = await startServer({
    args: ['--ping-interval', String(PING_INTERVAL), '--ping-timeout', String(PING_TIMEOUT)],
  });
});
after(async () => { await srv?.stop(); });

function assertSessionUnknown(r, what) {
  assert.equal(r.status, 400, `${what}: status ${r.status} ${JSON.stringify(r.text)}`);
  assert.deepEqual(JSON.parse(r.text), { code: 1, message: ERR[1] }, what);
}

// A request promise plus whether it has settled yet.
function track(p) {
  const t = { done: false, at: 0 };
  t.promise = p.then((r) => { t.done = true; t.at = now(); return r; });
  return t;
}

function sessionCount() {
  const out = srv.stats();
  const m = /sessions (\d+)/.exec(out);
  assert.ok(m, `--stats printed ${JSON.stringify(out)}`);
  return Number(m[1]);
}

// First, while this server has no other session: a session left alone is
// closed by the ping timeout without any request arriving.
test('a session left alone is removed by ping timeout, with no request', async () => {
  await Session.open(srv.url);
  assert.equal(sessionCount(), 1, 'the new session is counted');
  await sleep(PING_INTERVAL + PING_TIMEOUT + 1000);
  assert.equal(sessionCount(), 0, 'no session left');
});

test('a GET answers everything queued at once', async () => {
  const s = await Session.open(srv.url);
  for (const m of ['4a', '4b', '4c'])
    assert.equal((await s.post(m)).status, 200);
  const r = await s.get();
  assert.equal(r.status, 200);
  assert.deepEqual(decode(r.text).filter((p) => p !== '2'), ['4a', '4b', '4c']);
});

test('a GET with nothing queued is held and woken by a POST', async (t) => {
  const lat = [];
  for (let i = 0; i < 20; i++) {
    const s = await Session.open(srv.url);
    const g = track(s.get());
    await sleep(40);
    assert.equal(g.done, false, 'the GET is held while nothing is queued');
    const t0 = now();
    const p = await s.post(`4wake${i}`);
    assert.equal(p.status, 200);
    const r = await g.promise;
    assert.equal(r.status, 200);
    assert.equal(r.text, `4wake${i}`);
    lat.push(g.at - t0);
  }
  lat.sort((a, b) => a - b);
  const msg = `POST->held GET wake latency (end to end, daemon, 20 runs): ` +
    `p50 ${percentile(lat, 50).toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} ms`;
  t.diagnostic(msg);
  assert.ok(percentile(lat, 50) < 50, msg);
});

test('a second concurrent GET gets 400 and the first is answered with close', async () => {
  const s = await Session.open(srv.url);
  const g1 = track(s.get());
  await sleep(80);
  assert.equal(g1.done, false, 'first GET held');
  const g2 = await s.get();
  assert.equal(g2.status, 400);
  assert.equal(g2.body.length, 0, `empty body, got ${JSON.stringify(g2.text)}`);
  const r1 = await g1.promise;
  assert.equal(r1.status, 200);
  assert.equal(r1.text, '1');
  assertSessionUnknown(await s.get(), 'after the double GET');
});

test('client close "1" with a GET pending: the GET gets noop, then 400 code 1', async () => {
  const s = await Session.open(srv.url);
  const g = track(s.get());
  await sleep(80);
  assert.equal(g.done, false, 'GET held');
  const p = await s.post('1');
  assert.equal(p.status, 200);
  assert.equal(p.text, 'ok');
  const r = await g.promise;
  assert.equal(r.status, 200);
  assert.equal(r.text, '6');
  assertSessionUnknown(await s.get(), 'GET after close');
  assertSessionUnknown(await s.post('4x'), 'POST after close');
});

test('client close "1" without a GET pending: the next GET gets 400 code 1', async () => {
  const s = await Session.open(srv.url);
  const p = await s.post('1');
  assert.equal(p.status, 200);
  assertSessionUnknown(await s.get(), 'GET after close');
});

test('the server pings every pingInterval and pongs keep the session alive', async (t) => {
  const s = await Session.open(srv.url);
  let since = now();
  const gaps = [];
  for (let cycle = 0; cycle < 4; cycle++) {
    const r = await s.get({ timeout: 5000 });
    const gap = now() - since;
    assert.equal(r.status, 200);
    assert.equal(r.text, '2', `cycle ${cycle}: a ping`);
    gaps.push(gap);
    assert.ok(gap > PING_INTERVAL - 100 && gap < PING_INTERVAL + 400,
      `cycle ${cycle}: ping ${gap.toFixed(0)} ms after the handshake/pong`);
    const p = await s.post('3');
    since = now();
    assert.equal(p.status, 200);
  }
  t.diagnostic(`ping gaps: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
  assert.equal((await s.post('4alive')).status, 200);
  assert.deepEqual(await s.messages(), ['4alive']);
});

test('no pong: the held GET gets close "1", then 400 code 1', async () => {
  const s = await Session.open(srv.url);
  const r1 = await s.get({ timeout: 5000 });
  assert.equal(r1.text, '2');
  const t0 = now();
  const r2 = await s.get({ timeout: 5000 });
  const waited = now() - t0;
  assert.equal(r2.status, 200);
  assert.equal(r2.text, '1', 'the held GET is answered with close');
  assert.ok(waited < PING_TIMEOUT + 600, `close came ${waited.toFixed(0)} ms after the ping`);
  assertSessionUnknown(await s.get(), 'after ping timeout');
});

test('no pong and no GET: the next GET after the timeout gets 400 code 1', async () => {
  const s = await Session.open(srv.url);
  await sleep(PING_INTERVAL + PING_TIMEOUT + 200);
  assertSessionUnknown(await s.get(), 'after ping timeout');
});
