// Socket.IO v5 helpers for the integration tests: a raw packet codec and a
// raw long-polling session on /socket.io/ (built on lib/eio.mjs), plus
// small promise helpers for socket.io-client sockets.

import assert from 'node:assert/strict';
import { Session, decode, ERR, now } from './eio.mjs';

export const SIO_PATH = '/socket.io/';

// The arguments every conformance test server gets (APP.md 2).
export const CONFORMANCE_ARGS = ['--app', 'conformance', '--ping-interval', '300',
  '--ping-timeout', '200', '--connect-timeout', '1000', '--cors-origin', '*'];

export const T = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6 };

// A placeholder of a binary attachment.
export const ph = (num) => ({ _placeholder: true, num });

// Parse one Engine.IO message packet carrying a Socket.IO packet
// ("4" + encoded packet) the way socket.io-parser does, strictly:
// -> {type, attachments, nsp, id, data, head}; head is everything before
// the JSON.  Throws on anything malformed.
export function parseSio(pkt) {
  if (typeof pkt !== 'string' || pkt[0] !== '4')
    throw new Error(`not an Engine.IO message packet: ${JSON.stringify(pkt)}`);
  const s = pkt.slice(1);
  let i = 0;
  const type = Number(s[i++]);
  if (!(type >= 0 && type <= 6)) throw new Error(`bad Socket.IO type in ${JSON.stringify(pkt)}`);
  let attachments = 0;
  if (type === 5 || type === 6) {
    const dash = s.indexOf('-', i);
    if (dash < 0 || !/^\d+$/.test(s.slice(i, dash)))
      throw new Error(`bad attachment count in ${JSON.stringify(pkt)}`);
    attachments = Number(s.slice(i, dash));
    i = dash + 1;
  }
  let nsp = '/';
  if (s[i] === '/') {
    const comma = s.indexOf(',', i);
    const end = comma < 0 ? s.length : comma;
    nsp = s.slice(i, end);
    i = comma < 0 ? end : end + 1;
  }
  let id;
  const m = /^\d+/.exec(s.slice(i));
  if (m) { id = Number(m[0]); i += m[0].length; }
  const head = '4' + s.slice(0, i);
  const rest = s.slice(i);
  let data;
  if (rest !== '') {
    try { data = JSON.parse(rest); } catch (e) {
      throw new Error(`bad JSON in ${JSON.stringify(pkt)}: ${e.message}`);
    }
  }
  return { type, attachments, nsp, id, data, head };
}

// Replace the placeholders of `data` by the attachments (Buffers).
export function reconstruct(data, buffers) {
  if (Array.isArray(data)) return data.map((x) => reconstruct(x, buffers));
  if (data && typeof data === 'object') {
    if (data._placeholder === true && typeof data.num === 'number') {
      assert.ok(data.num >= 0 && data.num < buffers.length, `placeholder num ${data.num} of ${buffers.length}`);
      return buffers[data.num];
    }
    const o = {};
    for (const [k, v] of Object.entries(data)) o[k] = reconstruct(v, buffers);
    return o;
  }
  return data;
}

// Every binary value (Buffer, ArrayBuffer, typed array) as a Buffer,
// recursively, so that deepEqual compares bytes.
export function normalize(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = normalize(x);
    return o;
  }
  return v;
}

// Group a list of Engine.IO packets (pings removed) into Socket.IO
// packets: each text packet of type 5/6 takes the next `attachments`
// "b..." packets.  -> [{...parseSio(), raw, buffers, args}] where args is
// the reconstructed data.
export function groupSio(packets) {
  const res = [];
  for (let i = 0; i < packets.length; i++) {
    const raw = packets[i];
    const p = parseSio(raw);
    const buffers = [];
    for (let k = 0; k < p.attachments; k++) {
      const b = packets[++i];
      assert.ok(typeof b === 'string' && b[0] === 'b',
        `attachment ${k} of ${raw}: expected a "b" packet, got ${JSON.stringify(b)} in ${JSON.stringify(packets)}`);
      buffers.push(Buffer.from(b.slice(1), 'base64'));
    }
    res.push({ ...p, raw, buffers, args: reconstruct(p.data, buffers) });
  }
  return res;
}

// A raw Engine.IO long-polling session on /socket.io/.
export class SioSession extends Session {
  static async open(base) {
    const s = await Session.open(base, SIO_PATH);
    const r = new SioSession(base, s.sid, SIO_PATH);
    r.open = s.open;
    return r;
  }

  // POST a payload (array of packets or a string), expect 200 "ok".
  async send(packets) {
    const body = Array.isArray(packets) ? packets.join('\x1e') : packets;
    const r = await this.post(body);
    assert.equal(r.status, 200, `POST ${JSON.stringify(body).slice(0, 200)}: ${r.status} ${r.text}`);
    assert.equal(r.text, 'ok', `POST answer`);
    return r;
  }

  // One GET; server pings are answered with a pong.  -> all packets.
  async poll(opts = {}) {
    const r = await this.get(opts);
    if (r.status !== 200) throw new Error(`GET: ${r.status} ${r.text}`);
    const pkts = decode(r.text);
    assert.ok(!r.body.includes(Buffer.from('\x1e\x1e')), `empty packet in ${JSON.stringify(r.text)}`);
    if (pkts.includes('2')) {
      const p = await this.post('3');
      if (p.status !== 200) throw new Error(`pong POST: ${p.status} ${p.text}`);
    }
    return pkts;
  }

  // GET (answering pings) until at least n non-ping packets arrived;
  // fails on a close, a 400 or after `ms`.  -> the non-ping packets.
  async read(n, { ms = 5000 } = {}) {
    const got = [];
    const end = now() + ms;
    while (got.length < n) {
      if (now() > end) throw new Error(`only ${JSON.stringify(got)} after ${ms} ms, wanted ${n} packets`);
      const pkts = await this.poll();
      got.push(...pkts.filter((p) => p !== '2'));
      if (got.includes('1'))
        throw new Error(`session closed while reading: ${JSON.stringify(got)}`);
    }
    return got;
  }

  // read() then groupSio(): at least n Socket.IO packets (attachments
  // included).
  async readSio(n, { ms = 5000 } = {}) {
    const end = now() + ms;
    let pending = [];
    for (;;) {
      let g = null;
      try { g = groupSio(pending); } catch { /* incomplete (or malformed) */ }
      if (g && g.length >= n) return g;
      const left = end - now();
      if (left <= 0) throw new Error(`wanted ${n} Socket.IO packets, read ${JSON.stringify(pending)}`);
      pending = pending.concat(await this.read(1, { ms: left }));
    }
  }

  // CONNECT to nsp (with an optional auth object), expect the CONNECT
  // reply and the "auth" event.  -> the Socket.IO sid.
  async connect(nsp = '/', auth) {
    const prefix = nsp === '/' ? '40' : `40${nsp},`;
    await this.send(prefix + (auth === undefined ? '' : JSON.stringify(auth)));
    const pkts = await this.read(2);
    assert.equal(pkts.length, 2, `CONNECT ${nsp}: ${JSON.stringify(pkts)}`);
    const c = parseSio(pkts[0]);
    assert.equal(c.type, T.CONNECT, `CONNECT reply: ${pkts[0]}`);
    assert.equal(c.nsp, nsp);
    assert.equal(typeof c.data?.sid, 'string', `sid in ${pkts[0]}`);
    const a = parseSio(pkts[1]);
    assert.equal(a.type, T.EVENT, `auth event: ${pkts[1]}`);
    assert.equal(a.nsp, nsp);
    assert.deepEqual(a.data, ['auth', auth ?? {}]);
    return c.data.sid;
  }

  // The session must be closed gracefully now: the next GETs (pings
  // answered) end with the close packet "1", then the sid is unknown.
  // -> the packets before the close, pings removed (usually ["6"]).
  async closed({ ms = 3000 } = {}) {
    const got = [];
    const end = now() + ms;
    for (;;) {
      if (now() > end) throw new Error(`not closed after ${ms} ms: got ${JSON.stringify(got)}`);
      const r = await this.get();
      if (r.status !== 200)
        throw new Error(`expected a graceful close (a GET ending with "1"), got ${r.status} ${r.text} ` +
          `after ${JSON.stringify(got)}`);
      const pkts = decode(r.text);
      if (pkts[pkts.length - 1] === '1') {
        got.push(...pkts.slice(0, -1).filter((p) => p !== '2'));
        break;
      }
      if (pkts.includes('1')) throw new Error(`close packet not last: ${JSON.stringify(r.text)}`);
      if (pkts.includes('2')) await this.post('3');
      got.push(...pkts.filter((p) => p !== '2'));
    }
    await this.gone();
    return got;
  }

  // Every request with this sid now gets 400 code 1.
  async gone() {
    const r = await this.get();
    assert.equal(r.status, 400, `GET after the close: ${r.status} ${JSON.stringify(r.text)}`);
    assert.deepEqual(JSON.parse(r.text), { code: 1, message: ERR[1] });
  }

  // Nothing but a ping comes: the next GET (held until the ping) is "2".
  async idle() {
    const pkts = await this.poll();
    assert.deepEqual(pkts, ['2'], 'only a ping expected');
  }
}

// --- socket.io-client helpers --------------------------------------------

// The next `event` of emitter -> its arguments (array).  Rejects after
// `ms`, or when one of `failOn` events comes first.
export function next(emitter, event, { ms = 5000, failOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const onEvent = (...a) => { cleanup(); resolve(a); };
    const fails = failOn.filter((e) => e !== event).map((e) => [e, (...a) => {
      cleanup();
      reject(new Error(`${e} (${a.map((x) => x?.message ?? JSON.stringify(x)).join(', ')}) while waiting for ${event}`));
    }]);
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${event} in ${ms} ms`)); }, ms);
    function cleanup() {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      for (const [e, f] of fails) emitter.off(e, f);
    }
    emitter.on(event, onEvent);
    for (const [e, f] of fails) emitter.on(e, f);
  });
}

// Collect every `event` of emitter (arguments arrays) from now on.
export function collect(emitter, event) {
  const got = [];
  emitter.on(event, (...a) => got.push(a));
  return got;
}
