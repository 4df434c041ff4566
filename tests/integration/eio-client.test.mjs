// The real engine.io-client (npm) against the echo endpoint, polling only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import { startServer } from './lib/server.mjs';
import { request, eioUrl, sleep, ERR } from './lib/eio.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--ping-interval', '300', '--ping-timeout', '200'] });
});
after(async () => { await srv?.stop(); });

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
      if (event !== 'close') socket.off('close', onClose);
    };
    socket.on(event, onEvent);
    if (event !== 'close') socket.on('close', onClose);
  });
}

test('engine.io-client: open, text and binary echo, two ping cycles, clean close', async (t) => {
  const socket = new Socket(srv.url, { transports: ['polling'], path: '/engine.io/' });
  const errors = [];
  socket.on('error', (e) => errors.push(e));
  try {
    await next(socket, 'open');
    assert.equal(socket.transport.name, 'polling');
    assert.match(socket.id, /^[A-Za-z0-9_-]{20,}$/);

    // Text, including non-ASCII.
    const text = 'hello \u00e9\u20ac\u{1f600}';
    let got = next(socket, 'message');
    socket.send(text);
    assert.deepEqual(await got, [text]);

    // Binary as a Uint8Array and as a Buffer.
    const bytes = new Uint8Array([0, 1, 2, 3, 0x1e, 254, 255]);
    got = next(socket, 'message');
    socket.send(bytes);
    let [m] = await got;
    assert.equal(typeof m, 'object', `binary comes back as bytes, got ${typeof m}`);
    assert.deepEqual([...new Uint8Array(m)], [...bytes]);

    const buf = Buffer.from('binary \u00ff payload', 'latin1');
    got = next(socket, 'message');
    socket.send(buf);
    [m] = await got;
    assert.ok(Buffer.from(m).equals(buf), 'Buffer echoed unchanged');

    // Several messages in a row keep their order.
    const received = [];
    const all = new Promise((resolve) => {
      const h = (d) => { received.push(d); if (received.length === 5) { socket.off('message', h); resolve(); } };
      socket.on('message', h);
    });
    for (let i = 0; i < 5; i++) socket.send(`n${i}`);
    await all;
    assert.deepEqual(received, ['n0', 'n1', 'n2', 'n3', 'n4']);

    // Two ping cycles (300 ms interval) without losing the connection.
    const t0 = Date.now();
    await next(socket, 'ping', 3000);
    await next(socket, 'ping', 3000);
    t.diagnostic(`two pings in ${Date.now() - t0} ms`);
    assert.equal(socket.readyState, 'open');
    got = next(socket, 'message');
    socket.send('after pings');
    assert.deepEqual(await got, ['after pings']);

    // Clean close: the client posts "1"; the session is gone on the server.
    const sid = socket.id;
    const closed = next(socket, 'close');
    socket.close();
    const [reason] = await closed;
    assert.equal(reason, 'forced close');
    // The close packet is POSTed after the event: give it time to land.
    await sleep(300);
    const r = await request('GET', eioUrl(srv.url, { sid }));
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), { code: 1, message: ERR[1] });
    assert.deepEqual(errors, []);
  } finally {
    socket.close();
  }
});
