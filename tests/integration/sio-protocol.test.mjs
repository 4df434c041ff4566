// Socket.IO v5 over raw HTTP long-polling (PROTOCOL.md 8), against the
// conformance app (APP.md 2) at /socket.io/: what real clients never send
// (malformed packets, wrong states, split attachments) and exact wire
// formats.  Two sio-fcgi processes behind lighttpd (requests spread over
// both).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { sleep, now, binPacket } from './lib/eio.mjs';
import { SioSession, CONFORMANCE_ARGS, T, ph, parseSio, groupSio } from './lib/sio.mjs';

let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 2, args: CONFORMANCE_ARGS });
});
after(async () => { await srv?.stop(); });

const open = () => SioSession.open(srv.url);
async function joined(nsp = '/') {
  const s = await open();
  await s.connect(nsp);
  return s;
}

// A graceful close with nothing else queued: "6" then "1" (pings aside).
// Prompt: within 800 ms, before connectTimeout could close a fresh session.
async function assertClosedGracefully(s, what) {
  const pre = await s.closed({ ms: 800 }).catch((e) => { throw new Error(`${what}: ${e.message}`); });
  assert.deepEqual(pre, ['6'], `${what}: the close GET is 6\\x1e1`);
}

test('CONNECT to "/": 40{"sid"} with a new sid, then 42["auth",{}]', async () => {
  const s = await open();
  assert.deepEqual(s.open.upgrades, []);
  await s.send('40');
  const pkts = await s.read(2);
  assert.equal(pkts.length, 2, JSON.stringify(pkts));
  assert.match(pkts[0], /^40\{/, 'CONNECT reply without a namespace');
  const c = parseSio(pkts[0]);
  assert.deepEqual(Object.keys(c.data), ['sid'], `reply ${pkts[0]}`);
  assert.match(c.data.sid, /^[A-Za-z0-9_-]{8,}$/);
  assert.notEqual(c.data.sid, s.sid, 'the Socket.IO sid differs from the Engine.IO sid');
  assert.equal(pkts[1], '42["auth",{}]');
  // Another session gets another Socket.IO sid.
  const s2 = await open();
  assert.notEqual(await s2.connect('/'), c.data.sid);
});

test('CONNECT with an auth payload: it is echoed in the auth event', async () => {
  const s = await open();
  const auth = { token: '123', n: [1, 2.5, null, true], u: 'é€😀' };
  await s.send('40' + JSON.stringify(auth));
  const [c, a] = await s.readSio(2);
  assert.equal(c.type, T.CONNECT);
  assert.deepEqual(a.data, ['auth', auth]);
});

test('"40/custom" without the comma is accepted, answered 40/custom,{...}', async () => {
  const s = await open();
  await s.send('40/custom');
  const pkts = await s.read(2);
  assert.match(pkts[0], /^40\/custom,\{/, pkts[0]);
  const c = parseSio(pkts[0]);
  assert.equal(typeof c.data.sid, 'string');
  assert.notEqual(c.data.sid, s.sid);
  assert.equal(pkts[1], '42/custom,["auth",{}]');
});

test('CONNECT to /custom with auth', async () => {
  const s = await open();
  await s.send('40/custom,{"token":"abc"}');
  const pkts = await s.read(2);
  assert.match(pkts[0], /^40\/custom,\{"sid":/);
  assert.deepEqual(parseSio(pkts[1]).data, ['auth', { token: 'abc' }]);
  assert.match(pkts[1], /^42\/custom,\[/);
});

test('unknown namespace: 44/random,{"message":"Invalid namespace"}; the session stays and "40" works', async () => {
  const s = await open();
  await s.send('40/random,');
  const pkts = await s.read(1);
  assert.deepEqual(pkts, ['44/random,{"message":"Invalid namespace"}']);
  await s.connect('/');
  // And the refused namespace still is not joined: an event to it closes.
  await s.send('42/random,["message","x"]');
  await assertClosedGracefully(s, 'event to the refused namespace');
});

test('several namespaces in one POST ("40\\x1e40/custom,") are both answered', async () => {
  const s = await open();
  await s.send(['40', '40/custom,']);
  const got = await s.readSio(4);
  assert.equal(got.length, 4, JSON.stringify(got.map((p) => p.raw)));
  const byNsp = (n) => got.filter((p) => p.nsp === n);
  for (const n of ['/', '/custom']) {
    const ps = byNsp(n);
    assert.equal(ps.length, 2, `${n}: ${JSON.stringify(got.map((p) => p.raw))}`);
    assert.equal(ps[0].type, T.CONNECT, `${n}: CONNECT reply first`);
    assert.deepEqual(ps[1].data, ['auth', {}]);
  }
  assert.notEqual(byNsp('/')[0].data.sid, byNsp('/custom')[0].data.sid);
  // Both work afterwards.
  await s.send(['42/custom,["message","c"]', '42["message","r"]']);
  const back = await s.read(2);
  assert.deepEqual(back.sort(), ['42/custom,["message-back","c"]', '42["message-back","r"]'].sort());
});

test('CONNECT twice to "/" closes the session gracefully', async () => {
  const s = await joined('/');
  await s.send('40');
  await assertClosedGracefully(s, 'second CONNECT');
});

test('an event to a namespace not joined closes the session', async () => {
  const s = await joined('/');
  await s.send('42/custom,["message","x"]');
  await assertClosedGracefully(s, 'event to /custom');
  const s2 = await open();
  await s2.send('42["message","x"]');
  await assertClosedGracefully(s2, 'event before any CONNECT');
  const s3 = await open();
  await s3.send('41');
  await assertClosedGracefully(s3, 'DISCONNECT before any CONNECT');
});

test('a CONNECT_ERROR from the client ("44{}") closes the session', async () => {
  const s = await joined('/');
  await s.send('44{}');
  await assertClosedGracefully(s, '44{}');
});

const malformed = [
  '4abc', '4', '47', '42{}', '42[]', '41"x"', '41{}', '42abc["x"]', '42"message"', '42["message"',
  '42["connect"]', '42["disconnect"]', '42["connect_error"]', '42["disconnecting"]',
  '42["newListener"]', '42["removeListener"]', '42[null]', '42[{}]', '42[["message"]]',
  '43{}', '43"x"', '450-["message"]', '45-["message"]', '45x-["message"]',
];
for (const p of malformed) {
  test(`malformed packet ${JSON.stringify(p)} closes the session gracefully`, async () => {
    const s = await joined('/');
    await s.send(p);
    await assertClosedGracefully(s, p);
  });
}

// CONNECT payloads must be objects (checked on a session that joined
// nothing yet, so that it is no "second CONNECT").
for (const p of ['40"x"', '40[1]', '40null', '40/custom,[]', '40{']) {
  test(`CONNECT with a bad payload ${JSON.stringify(p)} closes the session gracefully`, async () => {
    const s = await open();
    await s.send(p);
    await assertClosedGracefully(s, p);
  });
}

test('11 attachments (4511-) close the session; 10 (4510-) are accepted', async () => {
  const bufs = Array.from({ length: 11 }, (_, i) => Buffer.from([i, 255 - i, 0x1e, i * 7]));
  const s = await joined('/');
  await s.send(['4511-' + JSON.stringify(['message', ...bufs.map((_, i) => ph(i))]),
    ...bufs.map(binPacket)]);
  await assertClosedGracefully(s, '4511-');

  const s2 = await joined('/');
  const ten = bufs.slice(0, 10);
  await s2.send(['4510-' + JSON.stringify(['message', ...ten.map((_, i) => ph(i))]), ...ten.map(binPacket)]);
  const [m] = await s2.readSio(1);
  assert.equal(m.head, '4510-', `reply ${m.raw}`);
  assert.equal(m.buffers.length, 10);
  assert.deepEqual(m.args, ['message-back', ...ten]);
  // In order: placeholder i is attachment i.
  assert.deepEqual(m.data.slice(1), ten.map((_, i) => ph(i)));
});

test('numeric event names are legal: 42[1,"x"] is no error', async () => {
  const s = await joined('/');
  await s.send('42[1,"x"]');
  await s.send('42["message","after"]');
  assert.deepEqual(await s.read(1), ['42["message-back","after"]']);
});

test('events: message -> message-back with the same arguments, JSON types kept', async () => {
  const s = await joined('/');
  const args = [1, -2.5, 1e21, 'two', { three: [false, null, true], '': {} }, [], 'é€😀', '', 0];
  await s.send('42' + JSON.stringify(['message', ...args]));
  const [m] = await s.readSio(1);
  assert.equal(m.head, '42');
  assert.deepEqual(m.data, ['message-back', ...args]);
});

test('acks: 421["message-with-ack"] -> 431[]; arguments returned; 64-bit ids', async () => {
  const s = await joined('/');
  await s.send('421["message-with-ack"]');
  assert.deepEqual(await s.read(1), ['431[]']);
  await s.send('42456["message-with-ack",1,"2",{"3":[false]}]');
  assert.deepEqual(await s.read(1), ['43456[1,"2",{"3":[false]}]']);
  await s.send('420["message-with-ack","zero"]');
  assert.deepEqual(await s.read(1), ['430["zero"]']);
  await s.send('424294967297["message-with-ack","big"]');
  assert.deepEqual(await s.read(1), ['434294967297["big"]']);
});

test('an ack id with leading zeros: 42007["message-with-ack",1] -> 437[1]', async () => {
  const s = await joined('/');
  await s.send('42007["message-with-ack",1]');
  assert.deepEqual(await s.read(1), ['437[1]']);
});

test('acks on /custom carry the namespace: 42/custom,5[...] -> 43/custom,5[...]', async () => {
  const s = await joined('/custom');
  await s.send('42/custom,5["message-with-ack","c"]');
  assert.deepEqual(await s.read(1), ['43/custom,5["c"]']);
});

test('server-requested ack: 42<id>["server-ack-request",...], the client acks, ack-back', async () => {
  const s = await joined('/');
  await s.send('42["request-ack","x",2]');
  const [req] = await s.readSio(1);
  assert.equal(req.type, T.EVENT);
  assert.equal(req.nsp, '/');
  assert.ok(Number.isInteger(req.id) && req.id >= 0, `ack id in ${req.raw}`);
  assert.deepEqual(req.data, ['server-ack-request', 'x', 2]);
  await s.send(`43${req.id}["y",{"z":[1]}]`);
  assert.deepEqual(await s.read(1), ['42["ack-back","y",{"z":[1]}]']);
  // An unknown ack id is dropped silently; the session goes on.
  await s.send('43999999["nobody"]');
  await s.idle();
  // A second request gets another id.
  await s.send('42["request-ack"]');
  const [req2] = await s.readSio(1);
  assert.notEqual(req2.id, req.id);
  assert.deepEqual(req2.data, ['server-ack-request']);
  // A binary ack is answered with the bytes.
  await s.send([`461-${req2.id}[{"_placeholder":true,"num":0}]`, binPacket([9, 8, 7])]);
  const [back] = await s.readSio(1);
  assert.equal(back.head, '451-');
  assert.deepEqual(back.args, ['ack-back', Buffer.from([9, 8, 7])]);
});

test('binary event: 452-[...] with two attachments comes back as 452-["message-back",...]', async () => {
  const s = await joined('/');
  await s.send(['452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', 'bAQID', 'bBAUG']);
  const pkts = await s.read(3);
  assert.equal(pkts.length, 3);
  const [m] = groupSio(pkts);
  assert.equal(m.head, '452-');
  assert.deepEqual(m.data, ['message-back', ph(0), ph(1)]);
  assert.deepEqual(pkts.slice(1), ['bAQID', 'bBAUG']);
});

test('binary nested in objects and arrays, mixed with text, round-trips', async () => {
  const s = await joined('/');
  const a = Buffer.from([0, 1, 2, 0x1e, 255]);
  const b = Buffer.alloc(0);
  const c = Buffer.from('é€😀', 'utf8');
  // Placeholders out of order and nested.
  const payload = ['message', 'txt', { x: [1, ph(2)], y: { z: ph(0) } }, [ph(1)], null];
  await s.send(['453-' + JSON.stringify(payload), binPacket(a), binPacket(b), binPacket(c)]);
  const [m] = await s.readSio(1);
  assert.equal(m.head, '453-', m.raw);
  assert.deepEqual(m.args, ['message-back', 'txt', { x: [1, c], y: { z: a } }, [b], null]);
});

test('outgoing placeholders are numbered in depth-first order, attachments in that order', async () => {
  // PROTOCOL.md 8.1 (what Node's parser does when it encodes an event).
  const s = await joined('/');
  const a = Buffer.from([0xa]);
  const b = Buffer.from([0xb, 0xb]);
  const c = Buffer.from([0xc, 0xc, 0xc]);
  const payload = ['message', 'txt', { x: [1, ph(2)], y: { z: ph(0) } }, [ph(1)], null];
  await s.send(['453-' + JSON.stringify(payload), binPacket(a), binPacket(b), binPacket(c)]);
  const pkts = await s.read(4);
  assert.deepEqual(parseSio(pkts[0]).data,
    ['message-back', 'txt', { x: [1, ph(0)], y: { z: ph(1) } }, [ph(2)], null], pkts[0]);
  assert.deepEqual(pkts.slice(1), [c, a, b].map(binPacket));
});

test('binary ack: 451-3[...] message-with-ack -> 461-3[...]', async () => {
  const s = await joined('/');
  await s.send(['451-3["message-with-ack","t",{"_placeholder":true,"num":0}]', 'bAQID']);
  const [m] = await s.readSio(1);
  assert.equal(m.head, '461-3', m.raw);
  assert.deepEqual(m.args, ['t', Buffer.from([1, 2, 3])]);
});

test('attachments that arrive in a later POST are awaited', async () => {
  const s = await joined('/');
  await s.send('452-["message",{"_placeholder":true,"num":0},"mid",{"_placeholder":true,"num":1}]');
  await s.send('bAQID');
  await s.send('bBAUG');
  const pkts = await s.read(3);
  assert.deepEqual(pkts, ['452-["message-back",{"_placeholder":true,"num":0},"mid",{"_placeholder":true,"num":1}]',
    'bAQID', 'bBAUG']);
});

test('a text packet while attachments are awaited closes the session', async () => {
  const s = await joined('/');
  await s.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  await s.send('bAQID');
  await s.send('42["message","x"]');
  await assertClosedGracefully(s, 'text while an attachment is awaited');
});

test('a binary packet while none is awaited closes the session', async () => {
  const s = await joined('/');
  await s.send('bAQID');
  await assertClosedGracefully(s, 'stray b packet');
});

test('a placeholder num out of range closes the session', async () => {
  for (const data of ['["message",{"_placeholder":true,"num":1}]', '["message",{"_placeholder":true,"num":-1}]']) {
    const s = await joined('/');
    await s.send(['451-' + data, 'bAQID']);
    await assertClosedGracefully(s, `451-${data}`);
  }
});

test('U+001E and other control characters come back escaped, never raw', async () => {
  const s = await joined('/');
  const str = 'a\u001eb\u0000c\u0001\n\t\r\u001f"\\/é€😀';
  await s.send('42' + JSON.stringify(['message', str, { k: '\u001e' }]));
  const r = await s.get();
  assert.equal(r.status, 200);
  assert.equal(Number(r.headers['content-length']), r.body.length, 'Content-Length counts bytes');
  const pkts = r.text.split('\x1e').filter((p) => p !== '2');
  assert.equal(pkts.length, 1, `one packet, no raw 0x1e: ${JSON.stringify(r.text)}`);
  assert.ok(pkts[0].includes('\\u001e'), `escaped as \\u001e: ${JSON.stringify(pkts[0])}`);
  assert.ok(![...pkts[0]].some((ch) => ch.charCodeAt(0) < 0x20), `no raw control character: ${JSON.stringify(pkts[0])}`);
  assert.deepEqual(parseSio(pkts[0]).data, ['message-back', str, { k: '\u001e' }]);
});

test('"\\u" escapes, surrogate pairs included, are decoded to UTF-8', async () => {
  const s = await joined('/');
  await s.send('42["message","\\u00e9\\u20ac\\ud83d\\ude00"]');
  const [m] = await s.readSio(1);
  assert.deepEqual(m.data, ['message-back', 'é€😀']);
});

test('client "41": no reply, the session stays; a new "40" works', async () => {
  const s = await joined('/');
  await s.send('41');
  await s.idle();
  await s.connect('/');
  await s.send('42["message","again"]');
  assert.deepEqual(await s.read(1), ['42["message-back","again"]']);
});

test('client "41/custom," leaves /custom only', async () => {
  const s = await open();
  await s.send(['40', '40/custom,']);
  await s.readSio(4);
  await s.send('41/custom,');
  await s.send('42["message","still"]');
  assert.deepEqual(await s.read(1), ['42["message-back","still"]']);
  await s.send('42/custom,["message","gone"]');
  await assertClosedGracefully(s, 'event to /custom after leaving it');
});

test('disconnect-me: the server sends 41 for that namespace, the session stays', async () => {
  const s = await open();
  await s.send(['40', '40/custom,']);
  await s.readSio(4);
  await s.send('42/custom,["disconnect-me"]');
  assert.deepEqual(await s.read(1), ['41/custom,']);
  await s.send('42["message","alive"]');
  assert.deepEqual(await s.read(1), ['42["message-back","alive"]']);
  await s.send('42["disconnect-me"]');
  assert.deepEqual(await s.read(1), ['41']);
  await s.idle();
  await s.connect('/');
});

test('close-me: 41 for each namespace, then the Engine.IO close', async () => {
  const s = await joined('/');
  await s.send('42["close-me"]');
  const pre = await s.closed();
  assert.deepEqual(pre, ['41', '6'], 'GET 41, then 6\\x1e1');

  const s2 = await open();
  await s2.send(['40', '40/custom,']);
  await s2.readSio(4);
  await s2.send('42/custom,["close-me"]');
  const b2 = await s2.closed();
  assert.deepEqual(b2.filter((p) => p !== '6').sort(), ['41', '41/custom,']);
  assert.equal(b2[b2.length - 1], '6', JSON.stringify(b2));
});

test('broadcast reaches every socket of "/" in every session, once; not /custom', async () => {
  const a = await joined('/');
  const b = await joined('/');
  const c = await joined('/custom');
  await a.send('42["broadcast","hi",{"n":1}]');
  const want = '42["broadcast-back","hi",{"n":1}]';
  assert.deepEqual(await a.read(1), [want]);
  assert.deepEqual(await b.read(1), [want]);
  // Exactly once, and nothing for /custom: the next GETs are pings only.
  await Promise.all([a.idle(), b.idle(), c.idle()]);
});

test('connectTimeout: no CONNECT -> closed after ~1000 ms, not before 800 ms', async (t) => {
  const s = await open();
  const t0 = now();
  let closedAt = null;
  const seen = [];
  while (now() - t0 < 3000) {
    const r = await s.get();
    if (r.status !== 200) {
      seen.push(`${r.status} ${r.text}`);
      break;
    }
    const pkts = r.text.split('\x1e');
    seen.push(r.text);
    if (pkts.includes('1')) { closedAt = now() - t0; break; }
    if (pkts.includes('2')) await s.post('3');
  }
  t.diagnostic(`closed after ${closedAt?.toFixed(0)} ms; GETs: ${JSON.stringify(seen)}`);
  assert.ok(closedAt !== null, `a GET ends with the close packet: ${JSON.stringify(seen)}`);
  assert.ok(closedAt >= 800, `closed too early: ${closedAt} ms`);
  assert.ok(closedAt < 2000, `closed too late: ${closedAt} ms`);
  const last = seen[seen.length - 1].split('\x1e');
  assert.equal(last[last.length - 1], '1');
  assert.ok(last.every((p) => ['1', '2', '6'].includes(p)), JSON.stringify(last));
  await s.gone();
});

test('connectTimeout: a refused CONNECT does not cancel it', async () => {
  const s = await open();
  const t0 = now();
  await s.send('40/random,');
  assert.deepEqual(await s.read(1), ['44/random,{"message":"Invalid namespace"}']);
  await s.closed({ ms: 2500 });
  const dt = now() - t0;
  assert.ok(dt >= 800 && dt < 2000, `closed after ${dt} ms`);
});

test('connectTimeout: a session that joined, and even left, stays open past 1000 ms', async () => {
  const s = await joined('/');
  const s2 = await joined('/custom');
  await s2.send('41/custom,');
  const t0 = now();
  // Keep both alive (answer pings) for 1500 ms.
  await Promise.all([s, s2].map(async (x) => {
    while (now() - t0 < 1500) await x.idle();
  }));
  await s.send('42["message","late"]');
  assert.deepEqual(await s.read(1), ['42["message-back","late"]']);
  await s2.connect('/');
});

test('no ping answered after a CONNECT: the session ends by ping timeout', async () => {
  const s = await joined('/');
  await sleep(300 + 200 + 300);
  await s.gone();
});
