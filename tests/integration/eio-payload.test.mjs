// Payload framing and packet handling on the echo endpoint (PROTOCOL.md 3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { Session, encode, binPacket, ERR } from './lib/eio.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--ping-interval', '300', '--ping-timeout', '200'] });
});
after(async () => { await srv?.stop(); });

async function echo(packets) {
  const s = await Session.open(srv.url);
  const p = await s.post(encode(packets));
  assert.equal(p.status, 200, `POST: ${p.status} ${p.text}`);
  assert.equal(p.text, 'ok');
  return { s, got: await s.messages() };
}

async function assertClosed(s, what) {
  const r = await s.get();
  assert.equal(r.status, 400, `${what}: the next GET should be 400, got ${r.status} ${JSON.stringify(r.text)}`);
  assert.deepEqual(JSON.parse(r.text), { code: 1, message: ERR[1] }, what);
}

async function assertAlive(s, what) {
  const p = await s.post('4ping-check');
  assert.equal(p.status, 200, `${what}: POST ${p.status} ${p.text}`);
  assert.deepEqual(await s.messages(), ['4ping-check'], what);
}

test('a text message is echoed', async () => {
  const { got } = await echo(['4hello']);
  assert.deepEqual(got, ['4hello']);
});

test('several packets in one POST are echoed in order', async () => {
  const { got } = await echo(['4test1', '4test2', '4test3']);
  assert.deepEqual(got, ['4test1', '4test2', '4test3']);
});

test('an empty text message is echoed', async () => {
  const { got } = await echo(['4', '4x']);
  assert.deepEqual(got, ['4', '4x']);
});

test('a binary message (b + base64) is echoed', async () => {
  const { got } = await echo(['bAQIDBA==']);
  assert.deepEqual(got, ['bAQIDBA==']);
  assert.deepEqual([...Buffer.from(got[0].slice(1), 'base64')], [1, 2, 3, 4]);
});

test('text and binary mixed keep their order', async () => {
  const bytes = Buffer.from([0, 255, 0x1e, 10, 13, 128]);
  const { got } = await echo(['4hello', binPacket(bytes), '4world']);
  assert.deepEqual(got, ['4hello', binPacket(bytes), '4world']);
});

test('UTF-8 "é€😀" round-trips and Content-Length counts bytes', async () => {
  const s = await Session.open(srv.url);
  const msg = '4\u00e9\u20ac\u{1f600}';
  assert.equal((await s.post(msg)).status, 200);
  let r;
  for (let i = 0; i < 5; i++) {
    r = await s.get();
    if (r.text !== '2') break;
    await s.post('3');
  }
  assert.equal(r.status, 200);
  assert.equal(Number(r.headers['content-length']), r.body.length);
  assert.ok(r.text.split('\x1e').includes(msg), `got ${JSON.stringify(r.text)}`);
  assert.equal(Buffer.byteLength(msg), 10);
});

test('a longer unicode message without U+001E round-trips', async () => {
  const text = '4Ελληνικά 中文 עברית русский 🎉🚀 \u0000\u0001\u001f \\ " \n\t end';
  const { got } = await echo([text, '4second']);
  assert.deepEqual(got, [text, '4second']);
});

test('an empty POST body is an error and closes the session', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('');
  // Node answers "ok" then kills the session; a 400 is allowed as well.
  assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
  await assertClosed(s, 'empty body');
});

test('"abc" (unknown packet type) closes the session', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('abc');
  assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
  await assertClosed(s, 'abc');
});

test('an empty packet between separators closes the session', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('4a\x1e\x1e4b');
  assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
  await assertClosed(s, 'empty packet');
});

test('a client ping "2" closes the session (invalid heartbeat direction)', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('2');
  assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
  await assertClosed(s, 'ping 2');
});

test('"2probe" closes the session', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('2probe');
  assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
  await assertClosed(s, '2probe');
});

test('a pong with data "3xyz" is accepted', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post('3xyz');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ok');
  await assertAlive(s, '3xyz');
});

test('noop "6" and upgrade "5" are ignored', async () => {
  const s = await Session.open(srv.url);
  for (const p of ['6', '5', encode(['6', '5', '6'])]) {
    const r = await s.post(p);
    assert.equal(r.status, 200, `POST ${JSON.stringify(p)}`);
    assert.equal(r.text, 'ok');
  }
  // Nothing was echoed for them: the first message answer is ours alone.
  assert.equal((await s.post('4after')).status, 200);
  assert.deepEqual(await s.messages(), ['4after']);
});

test('invalid UTF-8 in a POST is a clear error and closes the session', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post(Buffer.from([0x34, 0x61, 0xff, 0xfe, 0x62]));
  assert.equal(r.status, 400, `status ${r.status} ${JSON.stringify(r.text)}`);
  await assertClosed(s, 'invalid UTF-8');
});

test('a truncated UTF-8 sequence is refused too', async () => {
  const s = await Session.open(srv.url);
  const r = await s.post(Buffer.from([0x34, 0xe2, 0x82]));
  assert.equal(r.status, 400, `status ${r.status} ${JSON.stringify(r.text)}`);
  await assertClosed(s, 'truncated UTF-8');
});
