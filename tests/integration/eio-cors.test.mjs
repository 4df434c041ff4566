// CORS (PROTOCOL.md section 7) with --cors-origin '*', with a list of
// origins, and without the option.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { request, eioUrl, Session } from './lib/eio.mjs';

const BASE_ARGS = ['--ping-interval', '300', '--ping-timeout', '200'];
const ACAO = 'access-control-allow-origin';

function corsHeaders(r) {
  return Object.keys(r.headers).filter((h) => h.startsWith('access-control-'));
}

function varyHas(r, token) {
  return (r.headers.vary ?? '').split(',').map((v) => v.trim().toLowerCase())
    .includes(token.toLowerCase());
}

// A handshake, a POST, a GET with data and three error answers.
async function sampleAnswers(base, headers) {
  const out = {};
  const hs = await request('GET', eioUrl(base), { headers });
  assert.equal(hs.status, 200);
  out.handshake = hs;
  const sid = JSON.parse(hs.text.slice(1)).sid;
  const s = new Session(base, sid);
  out.post = await s.post('4cors', { headers });
  assert.equal(out.post.status, 200);
  out.get = await s.get({ headers });
  assert.equal(out.get.status, 200);
  out.errTransport = await request('GET', eioUrl(base, { query: { transport: null } }), { headers });
  assert.equal(out.errTransport.status, 400);
  out.errSid = await request('GET', eioUrl(base, { sid: 'DDDDDDDDDDDDDDDDDDDD' }), { headers });
  assert.equal(out.errSid.status, 400);
  out.errVersion = await request('GET', eioUrl(base, { query: { EIO: '3' } }), { headers });
  assert.equal(out.errVersion.status, 400);
  out.put = await request('PUT', s.url(), { headers, body: '' });
  assert.equal(out.put.status, 500);
  return out;
}

describe("--cors-origin '*'", () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: [...BASE_ARGS, '--cors-origin', '*'] });
  });
  after(async () => { await srv?.stop(); });

  test('every answer, errors included, has Access-Control-Allow-Origin: *', async () => {
    const answers = await sampleAnswers(srv.url, { Origin: 'http://x.test' });
    for (const [name, r] of Object.entries(answers))
      assert.equal(r.headers[ACAO], '*', `${name} (${r.status})`);
  });

  test('without an Origin header the answers still carry *', async () => {
    const answers = await sampleAnswers(srv.url, {});
    for (const [name, r] of Object.entries(answers))
      assert.equal(r.headers[ACAO], '*', `${name} (${r.status})`);
  });

  test('OPTIONS preflight -> 204 with methods, echoed headers, Vary', async () => {
    const r = await request('OPTIONS', eioUrl(srv.url), {
      headers: {
        Origin: 'http://x.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-custom',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers[ACAO], '*');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type,x-custom');
    assert.ok(varyHas(r, 'Access-Control-Request-Headers'), `Vary: ${r.headers.vary}`);
    assert.equal(r.body.length, 0);
  });

  test('OPTIONS preflight with a session id -> 204 too', async () => {
    const s = await Session.open(srv.url);
    const r = await request('OPTIONS', s.url(), {
      headers: { Origin: 'http://x.test', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers[ACAO], '*');
  });
});

describe("--cors-origin 'http://a.test'", () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: [...BASE_ARGS, '--cors-origin', 'http://a.test'] });
  });
  after(async () => { await srv?.stop(); });

  test('an allowed Origin is echoed with credentials and Vary: Origin', async () => {
    const answers = await sampleAnswers(srv.url, { Origin: 'http://a.test' });
    for (const [name, r] of Object.entries(answers)) {
      assert.equal(r.headers[ACAO], 'http://a.test', `${name} (${r.status})`);
      assert.equal(r.headers['access-control-allow-credentials'], 'true', name);
      assert.ok(varyHas(r, 'Origin'), `${name}: Vary: ${r.headers.vary}`);
    }
  });

  test('another Origin gets no Access-Control-Allow-Origin', async () => {
    const answers = await sampleAnswers(srv.url, { Origin: 'http://b.test' });
    for (const [name, r] of Object.entries(answers))
      assert.equal(r.headers[ACAO], undefined, `${name} (${r.status})`);
  });

  test('a prefix or suffix of an allowed origin is not allowed', async () => {
    for (const origin of ['http://a.tes', 'http://a.test.evil', 'https://a.test', 'http://a.test:80'])  {
      const r = await request('GET', eioUrl(srv.url), { headers: { Origin: origin } });
      assert.equal(r.status, 200);
      assert.equal(r.headers[ACAO], undefined, origin);
    }
  });

  test('a preflight from the allowed origin -> 204 with the origin echoed', async () => {
    const r = await request('OPTIONS', eioUrl(srv.url), {
      headers: {
        Origin: 'http://a.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers[ACAO], 'http://a.test');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type');
  });
});

describe('without --cors-origin', () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: BASE_ARGS });
  });
  after(async () => { await srv?.stop(); });

  test('no CORS header on any answer', async () => {
    const answers = await sampleAnswers(srv.url, { Origin: 'http://a.test' });
    for (const [name, r] of Object.entries(answers))
      assert.deepEqual(corsHeaders(r), [], `${name} (${r.status})`);
  });
});
