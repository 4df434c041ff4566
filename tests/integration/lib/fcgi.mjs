// A minimal FastCGI client (responder role), to send sio-fcgi requests
// that no web server would pass on (a control character in Origin, say).
//
//   const r = await fcgiRequest(sockPath, {method, url, headers, body});
//   -> {status, headers, body (Buffer), text}
//   beforeBody: an async function awaited after the params are sent and
//   before the body is (to act while sio-fcgi waits for it).
//
// url is a path with query ("/engine.io/?EIO=4&..."); headers become
// HTTP_* parameters, as lighttpd builds them.  With bodyDelay (ms) the
// body streams, as behind a front that does not buffer it: the first
// half goes with the params, the rest bodyDelay ms later.

import net from 'node:net';

const FCGI_BEGIN_REQUEST = 1;
const FCGI_END_REQUEST = 3;
const FCGI_PARAMS = 4;
const FCGI_STDIN = 5;
const FCGI_STDOUT = 6;
const FCGI_RESPONDER = 1;

function record(type, id, content = Buffer.alloc(0)) {
  const pad = (8 - (content.length % 8)) % 8;
  const h = Buffer.alloc(8);
  h.writeUInt8(1, 0);
  h.writeUInt8(type, 1);
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(content.length, 4);
  h.writeUInt8(pad, 6);
  return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

function nvLen(n) {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0);
  return b;
}

function encodeParams(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'latin1');
    parts.push(nvLen(kb.length), nvLen(vb.length), kb, vb);
  }
  return Buffer.concat(parts);
}

function chunked(type, id, data) {
  const out = [];
  for (let i = 0; i < data.length; i += 65528)
    out.push(record(type, id, data.subarray(i, i + 65528)));
  out.push(record(type, id));
  return out;
}

export function fcgiRequest(sockPath, { method = 'GET', url, headers = {}, body, bodyDelay = 0, timeout = 10000, beforeBody } = {}) {
  const u = new URL(url, 'http://127.0.0.1/');
  const data = body === undefined ? Buffer.alloc(0)
    : (Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8'));
  const params = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'sio-fcgi-tests',
    SERVER_NAME: '127.0.0.1',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    REQUEST_METHOD: method,
    REQUEST_URI: u.pathname + u.search,
    QUERY_STRING: u.search.replace(/^\?/, ''),
    SCRIPT_NAME: u.pathname,
    DOCUMENT_ROOT: '/',
  };
  if (method !== 'GET' || data.length > 0) params.CONTENT_LENGTH = String(data.length);
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toUpperCase().replace(/-/g, '_');
    if (name === 'CONTENT_TYPE' || name === 'CONTENT_LENGTH') params[name] = v;
    else params[`HTTP_${name}`] = v;
  }
  const id = 1;
  const begin = Buffer.alloc(8);
  begin.writeUInt16BE(FCGI_RESPONDER, 0);
  const head = Buffer.concat([
    record(FCGI_BEGIN_REQUEST, id, begin),
    ...chunked(FCGI_PARAMS, id, encodeParams(params)),
  ]);
  const stdin = Buffer.concat(chunked(FCGI_STDIN, id, data));
  // bodyDelay: the first half with the params, the rest (and the end of
  // stdin) bodyDelay ms later.
  const half = bodyDelay > 0 ? Math.floor(data.length / 2) : data.length;
  const first = half > 0 ? record(FCGI_STDIN, id, data.subarray(0, half)) : Buffer.alloc(0);
  const rest = Buffer.concat(chunked(FCGI_STDIN, id, data.subarray(half)));

  return new Promise((resolve, reject) => {
    const sock = net.connect(sockPath);
    let buf = Buffer.alloc(0);
    const stdout = [];
    let done = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`FastCGI ${method} ${url}: no answer in ${timeout} ms`));
    }, timeout);
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const out = Buffer.concat(stdout);
      let end = out.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (end < 0) { end = out.indexOf('\n\n'); sepLen = 2; }
      if (end < 0) return reject(new Error(`FastCGI: no header end in ${out.toString()}`));
      const headersOut = {};
      for (const line of out.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headersOut[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const status = headersOut.status ? Number(headersOut.status.split(' ')[0]) : 200;
      const b = out.subarray(end + sepLen);
      resolve({ status, headers: headersOut, body: b, text: b.toString('utf8') });
    };
    sock.on('connect', async () => {
      if (bodyDelay > 0) {
        sock.write(Buffer.concat([head, first]));
        setTimeout(() => { if (!done) sock.write(rest); }, bodyDelay);
        return;
      }
      if (!beforeBody) return sock.write(Buffer.concat([head, stdin]));
      sock.write(head);
      await beforeBody();
      if (!done) sock.write(stdin);
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 8) {
        const type = buf.readUInt8(1);
        const len = buf.readUInt16BE(4);
        const pad = buf.readUInt8(6);
        if (buf.length < 8 + len + pad) break;
        const content = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len + pad);
        if (type === FCGI_STDOUT) stdout.push(content);
        else if (type === FCGI_END_REQUEST) finish();
      }
    });
    sock.on('error', (err) => { if (!done) { done = true; clearTimeout(timer); reject(err); } });
    sock.on('close', () => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error('FastCGI connection closed before END_REQUEST')); }
    });
  });
}
