// Every sio-fcgi process the tests start is the binary SIO_FCGI_BIN names
// (lib/server.mjs's BIN), and it gets the sanitizer options of the test
// environment, whichever web server starts it.  run-tests runs the suite a
// second time against a sanitizer build, whose reports go where
// ASAN_OPTIONS/UBSAN_OPTIONS say: a process that ran another binary, or
// that lost these options on the way (mod_fcgid passes on no environment),
// would escape that pass unseen.  With CI set, a missing web server is a
// failure, never a skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, BIN, ROOT } from './lib/server.mjs';
import { missingFor } from './lib/deploy.mjs';

// The caller's options (run-tests' sanitizer pass) or, without them,
// values that change nothing, so that the check means something in the
// plain pass too.
const WANT = {
  ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'halt_on_error=1',
  LSAN_OPTIONS: process.env.LSAN_OPTIONS ?? 'report_objects=0',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1',
};

// The sio-fcgi processes of a run: serve sends the stderr of every one
// of them to DIR/sio-fcgi.log, in every mode.
function sioProcesses(srv) {
  const log = path.join(srv.dir, 'sio-fcgi.log');
  const res = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readlinkSync(`/proc/${d}/fd/2`) === log) res.push(Number(d));
    } catch { /* gone, or not ours */ }
  }
  return res;
}

function environ(pid) {
  const env = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

const FRONTS = [
  { name: 'lighttpd daemon', front: 'lighttpd', mode: 'daemon' },
  { name: 'lighttpd spawn', front: 'lighttpd', mode: 'spawn' },
  { name: 'apache-fcgid', front: 'apache-fcgid' },
  { name: 'apache-proxy', front: 'apache-proxy' },
  { name: 'nginx', front: 'nginx' },
];

for (const f of FRONTS) {
  const missing = missingFor(f.front);
  const skip = missing && !process.env.CI ? `${missing} (run scripts/setup)` : false;
  test(`${f.name}: every sio-fcgi process runs SIO_FCGI_BIN with the sanitizer options`, { skip }, async (t) => {
    assert.equal(missing, '', `${missing} (CI is set: a missing tool is a failure, not a skip)`);
    const srv = await startServer({ front: f.front, mode: f.mode, env: WANT });
    try {
      // mod_fcgid starts its processes for requests: serve's start-up
      // probe made one; one more request cannot hurt.
      const r = await fetch(new URL('engine.io/?EIO=4&transport=polling', srv.url),
        { signal: AbortSignal.timeout(10000) });
      assert.equal(r.status, 200, 'handshake');
      await r.text();
      const pids = sioProcesses(srv);
      t.diagnostic(`sio-fcgi processes: ${pids.join(', ')}`);
      assert.ok(pids.length >= 1, `no process has ${srv.dir}/sio-fcgi.log as stderr`);
      const bin = fs.realpathSync(BIN);
      for (const pid of pids) {
        assert.equal(fs.readlinkSync(`/proc/${pid}/exe`), bin, `process ${pid} runs SIO_FCGI_BIN`);
        const env = environ(pid);
        for (const [k, v] of Object.entries(WANT))
          assert.equal(env[k], v, `${k} of process ${pid}`);
      }
    } finally {
      await srv.stop();
    }
  });
}

// A test that starts a sio-fcgi of its own, by path, escapes both checks:
// they all go through lib/server.mjs (startServer, BIN).
test('no integration test names a sio-fcgi binary but lib/server.mjs', () => {
  const dir = path.join(ROOT, 'tests', 'integration');
  const offenders = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(mjs|js|cjs|py|sh)$/.test(e.name) && p !== path.join(dir, 'lib', 'server.mjs')) {
        const text = fs.readFileSync(p, 'utf8');
        if (/src\/sio-fcgi\b|['"]src['"]\s*,\s*['"]sio-fcgi['"]/.test(text)) offenders.push(path.relative(ROOT, p));
      }
    }
  };
  walk(dir);
  assert.deepEqual(offenders, [], 'use BIN or startServer() from lib/server.mjs instead');
});
