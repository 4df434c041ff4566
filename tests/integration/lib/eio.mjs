// Raw HTTP helpers for Engine.IO v4 long-polling tests.
//
// node:http rather than fetch, so that any header (Origin included) can be
// set.  Every request uses its own connection (agent: false) unless an
// agent is given.

import http from 'node:http';
import net from 'node:net';

export const SEP = '\x1e';

// request(method, url, {headers, body, agent, timeout})
//   -> {status, headers, body (Buffer), text}
// body: string or Buffer; its Content-Length is set.  Rejects on a
// network error or after `timeout` ms (default 10 s).
export function request(method, url, opts = {}) {
  const { headers = {}, body, agent = false, timeout = 10000 } = opts;
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    let data = null;
    if (body !== undefined && body !== null) {
      data = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-length'))
        h['Content-Length'] = String(data.length);
    }
    const req = http.request(url, { method, headers: h, agent });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${url}: no answer in ${timeout} ms`));
    }, timeout);
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
      res.on('end', () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: buf,
          text: buf.toString('utf8') });
      });
    });
    req.end(data ?? undefined);
  });
}

// rawRequest(url, text): send `text` (the whole HTTP request, with CRLFs)
// on a fresh TCP connection and parse the answer; for headers that
// node:http refuses to send.  Add "Connection: close" to the request.
export function rawRequest(url, text, { timeout = 10000 } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw request to ${url}: no answer in ${timeout} ms`));
    }, timeout);
    sock.on('connect', () => sock.write(Buffer.from(text, 'latin1')));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`bad answer: ${all.toString()}`));
      const head = all.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const headers = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const body = all.subarray(end + 4);
      resolve({ status, headers, body, text: body.toString('utf8') });
    });
  });
}

// The URL of an Engine.IO request: base is "http://127.0.0.1:P/".
// query: extra or overriding parameters; a value of null drops the key.
export function eioUrl(base, { sid, path = '/engine.io/', query = {} } = {}) {
  const q = { EIO: '4', transport: 'polling', t: Math.random().toString(36).slice(2) };
  if (sid !== undefined) q.sid = sid;
  Object.assign(q, query);
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(q))
    if (v !== null && v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

// handshake(base, path) -> sid; handshakeOpen -> the parsed open packet.
export async function handshakeOpen(base, path = '/engine.io/', opts = {}) {
  const r = await request('GET', eioUrl(base, { path }), opts);
  if (r.status !== 200 || r.text[0] !== '0')
    throw new Error(`handshake failed: ${r.status} ${r.text}`);
  return JSON.parse(r.text.slice(1));
}
export async function handshake(base, path = '/engine.io/') {
  return (await handshakeOpen(base, path)).sid;
}

// Payload framing: packets (strings) joined by 0x1e.
export function encode(packets) { return packets.join(SEP); }
export function decode(text) { return text === '' ? [] : text.split(SEP); }
// A binary message packet: "b" + standard base64.
export function binPacket(bytes) { return 'b' + Buffer.from(bytes).toString('base64'); }

// One Engine.IO session on `base`, with raw GET/POST helpers.
export class Session {
  constructor(base, sid, path = '/engine.io/') {
    this.base = base; this.sid = sid; this.path = path;
  }
  static async open(base, path = '/engine.io/') {
    const open = await handshakeOpen(base, path);
    const s = new Session(base, open.sid, path);
    s.open = open;
    return s;
  }
  url(query = {}) { return eioUrl(this.base, { sid: this.sid, path: this.path, query }); }
  get(opts = {}) { return request('GET', this.url(opts.query), opts); }
  post(body, opts = {}) {
    const headers = { 'Content-Type': 'text/plain;charset=UTF-8', ...(opts.headers || {}) };
    return request('POST', this.url(opts.query), { ...opts, headers, body });
  }
  // GET until a non-ping packet arrives, answering server pings with a
  // pong; returns the other packets of that answer.
  async messages({ tries = 10 } = {}) {
    for (let i = 0; i < tries; i++) {
      const r = await this.get();
      if (r.status !== 200) throw new Error(`GET: ${r.status} ${r.text}`);
      const pkts = decode(r.text);
      if (pkts.includes('2')) {
        const p = await this.post('3');
        if (p.status !== 200) throw new Error(`pong POST: ${p.status} ${p.text}`);
      }
      const rest = pkts.filter((p) => p !== '2');
      if (rest.length > 0) return rest;
    }
    throw new Error(`no message after ${tries} GETs`);
  }
}

// Assert helpers for Engine.IO error answers.
export const ERR = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Milliseconds since an arbitrary origin, sub-ms resolution.
export const now = () => Number(process.hrtime.bigint()) / 1e6;

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
