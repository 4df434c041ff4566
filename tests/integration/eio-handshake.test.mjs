// The handshake and the success answers (PROTOCOL.md sections 1 and 2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { request, eioUrl, Session, decode } from './lib/eio.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--ping-interval', '300', '--ping-timeout', '200'] });
});
after(async () => { await srv?.stop(); });

test('handshake answers one open packet with exactly the five keys', async () => {
  const r = await request('GET', eioUrl(srv.url));
  assert.equal(r.status, 200);
  const pkts = decode(r.text);
  assert.equal(pkts.length, 1, `one packet, got ${JSON.stringify(r.text)}`);
  assert.equal(pkts[0][0], '0', 'open packet type');
  const open = JSON.parse(pkts[0].slice(1));
  assert.deepEqual(Object.keys(open).sort(),
    ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
  assert.equal(typeof open.sid, 'string');
  assert.deepEqual(open.upgrades, []);
  assert.equal(open.pingInterval, 300);
  assert.equal(open.pingTimeout, 200);
  assert.equal(open.maxPayload, 100000);
});

test('handshake GET headers: text/plain; charset=UTF-8, no-store, byte length', async () => {
  const r = await request('GET', eioUrl(srv.url));
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(Number(r.headers['content-length']), r.body.length);
});

test('the t cache-buster is ignored and a handshake without it works too', async () => {
  const a = await request('GET', eioUrl(srv.url, { query: { t: 'Nabc123.0' } }));
  const b = await request('GET', eioUrl(srv.url, { query: { t: null } }));
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(a.text[0], '0');
  assert.equal(b.text[0], '0');
});

test('sid is URL-safe, at least 20 characters, and distinct across handshakes', async () => {
  const sids = new Set();
  for (let i = 0; i < 30; i++) {
    const s = await Session.open(srv.url);
    assert.match(s.sid, /^[A-Za-z0-9_-]{20,}$/, `sid ${s.sid}`);
    sids.add(s.sid);
  }
  assert.equal(sids.size, 30, 'all sids distinct');
});

test('POST answers 200 "ok" as text/html with Content-Length 2 and no-store', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('4hello');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ok');
  assert.equal(r.headers['content-type'], 'text/html');
  assert.equal(r.headers['content-length'], '2');
  assert.equal(r.headers['cache-control'], 'no-store');
});

test('a GET with data answers text/plain; charset=UTF-8 with its byte length', async () => {
  const s = await Session.open(srv.url);
  assert.equal((await s.post('4h\u00e9llo')).status, 200);
  const r = await s.get();
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(Number(r.headers['content-length']), r.body.length);
  assert.ok(decode(r.text).includes('4h\u00e9llo'), `got ${JSON.stringify(r.text)}`);
});
