// Every error answer of PROTOCOL.md section 1, with its status, body and
// the order of the checks.  The server runs with --max-payload 1000.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { request, rawRequest, eioUrl, Session, ERR } from './lib/eio.mjs';
import { fcgiRequest } from './lib/fcgi.mjs';

const MAX = 1000;
let srv;
before(async () => {
  srv = await startServer({
    args: ['--ping-interval', '300', '--ping-timeout', '200', '--max-payload', String(MAX)],
  });
});
after(async () => { await srv?.stop(); });

// An Engine.IO error answer: 400 (403 for code 4), JSON {code, message}.
function assertError(r, code, what = '') {
  const status = code === 4 ? 403 : 400;
  assert.equal(r.status, status, `${what}: status (body ${JSON.stringify(r.text)})`);
  assert.match(r.headers['content-type'] ?? '', /^application\/json/, `${what}: content-type`);
  let body;
  assert.doesNotThrow(() => { body = JSON.parse(r.text); }, `${what}: JSON body, got ${JSON.stringify(r.text)}`);
  assert.deepEqual(body, { code, message: ERR[code] }, what);
}

// The session still echoes: POST a message and find it in the next GETs.
async function assertAlive(s) {
  const p = await s.post('4still-alive');
  assert.equal(p.status, 200, `session alive: POST got ${p.status} ${p.text}`);
  assert.deepEqual(await s.messages(), ['4still-alive']);
}

async function assertClosed(s) {
  assertError(await s.get(), 1, 'after the session is closed, GET');
}

const url = (q, p) => eioUrl(srv.url, { query: q, path: p });

test('transport missing, unknown or websocket -> code 0', async () => {
  assertError(await request('GET', url({ transport: null })), 0, 'no transport');
  assertError(await request('GET', url({ transport: 'foo' })), 0, 'transport=foo');
  assertError(await request('GET', url({ transport: 'websocket' })), 0, 'transport=websocket');
  assertError(await request('POST', url({ transport: null }), { body: '4x' }), 0, 'POST no transport');
});

test('transport is checked first: missing transport + unknown sid -> code 0', async () => {
  assertError(await request('GET', url({ transport: null, sid: 'nosuchsid00000000000' })), 0, 'GET');
  assertError(await request('POST', url({ transport: null, sid: 'nosuchsid00000000000' }), { body: '4x' }), 0, 'POST');
});

test('transport=websocket with a known sid -> code 0, session kept', async () => {
  const s = await Session.open(srv.url);
  assertError(await s.get({ query: { transport: 'websocket' } }), 0, 'websocket + known sid');
  await assertAlive(s);
});

test('unknown sid -> code 1 for GET and POST, also without EIO', async () => {
  const sid = 'AAAAAAAAAAAAAAAAAAAA';
  assertError(await request('GET', url({ sid })), 1, 'GET');
  assertError(await request('POST', url({ sid }), { body: '4x' }), 1, 'POST');
  assertError(await request('GET', url({ sid, EIO: null })), 1, 'GET without EIO');
  assertError(await request('GET', url({ sid, EIO: '3' })), 1, 'GET with EIO=3');
});

test('known sid with EIO=3 or no EIO -> code 3, and the session still works', async () => {
  const s = await Session.open(srv.url);
  assertError(await s.get({ query: { EIO: '3' } }), 3, 'GET EIO=3');
  assertError(await s.post('4x', { query: { EIO: '3' } }), 3, 'POST EIO=3');
  assertError(await s.get({ query: { EIO: null } }), 3, 'GET without EIO');
  await assertAlive(s);
});

test('no sid and not GET -> code 2 (checked before the EIO version)', async () => {
  assertError(await request('POST', url({}), { body: '4x' }), 2, 'POST');
  assertError(await request('POST', url({ EIO: '3' }), { body: '4x' }), 2, 'POST EIO=3');
  assertError(await request('PUT', url({}), { body: '' }), 2, 'PUT');
});

test('handshake with EIO 3, abc, 5 or missing -> code 5', async () => {
  for (const v of ['3', 'abc', '5', null, '', '04'])
    assertError(await request('GET', url({ EIO: v })), 5, `EIO=${v}`);
});

test('Origin with a control character is refused by the front server', async () => {
  // lighttpd (header-strict, its default) answers 400 itself; the request
  // never reaches sio-fcgi.  Either way the client gets a 400.
  const u = new URL(url({}));
  const r = await rawRequest(srv.url,
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    'Origin: http://a\x01b.test\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 400);
});

test('Origin with a control character -> code 3, checked after transport and before sid (direct FastCGI)', async () => {
  const sock = path.join(srv.dir, 'sio-fcgi.sock');
  const u = (q) => { const x = new URL(url(q)); return x.pathname + x.search; };
  const bad = { Origin: 'http://a\x01b.test' };
  assertError(await fcgiRequest(sock, { url: u({}), headers: bad }), 3, 'handshake');
  assertError(await fcgiRequest(sock, { url: u({ sid: 'BBBBBBBBBBBBBBBBBBBB' }), headers: bad }), 3, 'unknown sid');
  assertError(await fcgiRequest(sock, { url: u({ transport: null }), headers: bad }), 0, 'no transport');
  assertError(await fcgiRequest(sock, { url: u({}), headers: { Origin: 'http://a\x7fb.test' } }), 3, 'DEL');
  // A plain origin passes the same path.
  const ok = await fcgiRequest(sock, { url: u({}), headers: { Origin: 'http://a.test' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.text[0], '0');
});

test('a POST whose body streams is handled once it is complete (direct FastCGI)', async () => {
  const sock = path.join(srv.dir, 'sio-fcgi.sock');
  const s = await Session.open(srv.url);
  const u = new URL(s.url());
  const r = await fcgiRequest(sock, {
    method: 'POST', url: u.pathname + u.search, body: '4streamed',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, bodyDelay: 300,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'ok');
  assert.deepEqual(await s.messages(), ['4streamed']);
});

test('a second POST while a streaming one is read -> 400 empty, session closed (direct FastCGI)', async () => {
  const sock = path.join(srv.dir, 'sio-fcgi.sock');
  const s = await Session.open(srv.url);
  const u = new URL(s.url());
  const headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
  const first = fcgiRequest(sock, {
    method: 'POST', url: u.pathname + u.search, body: '4first', headers, bodyDelay: 1000,
  });
  await new Promise((r) => setTimeout(r, 300));
  // Its body is whole: one transaction, which still sees the first in flight.
  const second = await fcgiRequest(sock, { method: 'POST', url: u.pathname + u.search, body: '4second', headers });
  assert.equal(second.status, 400, second.text);
  assert.equal(second.body.length, 0, `empty body, got ${JSON.stringify(second.text)}`);
  const f = await first;
  assert.notEqual(f.status, 200, `the first POST after the close: ${f.status} ${f.text}`);
  await assertClosed(s);
});

test('PUT with a known sid -> 500 with an empty body, session kept', async () => {
  const s = await Session.open(srv.url);
  const r = await request('PUT', s.url(), { body: '4x' });
  assert.equal(r.status, 500);
  assert.equal(r.body.length, 0, `empty body, got ${JSON.stringify(r.text)}`);
  await assertAlive(s);
});

test('PUT with an unknown sid -> code 1 (sid checked before the method)', async () => {
  assertError(await request('PUT', url({ sid: 'CCCCCCCCCCCCCCCCCCCC' }), { body: '4x' }), 1, 'PUT');
});

test('POST as application/octet-stream -> 400 empty, session closed', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('4x', { headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.length, 0, `empty body, got ${JSON.stringify(r.text)}`);
  await assertClosed(s);
});

test(`POST body of maxPayload+1 bytes -> 413 empty, session closed`, async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('4' + 'a'.repeat(MAX));
  assert.equal(r.status, 413);
  assert.equal(r.body.length, 0, `empty body, got ${JSON.stringify(r.text)}`);
  await assertClosed(s);
  // The limit is logged, without the sid.
  const line = srv.logText().split('\n').find((l) => l.includes(`a POST of ${MAX + 1} bytes refused`));
  assert.ok(line, `log line for the 413 in:\n${srv.logText()}`);
  assert.ok(!line.includes(s.sid), line);
});

test('POST body of exactly maxPayload bytes is accepted and echoed', async () => {
  const s = await Session.open(srv.url);
  const msg = '4' + 'a'.repeat(MAX - 1);
  const r = await s.post(msg);
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ok');
  assert.deepEqual(await s.messages(), [msg]);
});

test('maxPayload counts bytes, not characters', async () => {
  const s = await Session.open(srv.url);
  // 1 + 2 * 500 = 1001 bytes, 501 characters.
  const r = await s.post('4' + '\u00e9'.repeat(MAX / 2));
  assert.equal(r.status, 413);
  await assertClosed(s);
});
