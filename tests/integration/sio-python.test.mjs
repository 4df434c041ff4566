// python-socketio (Debian's python3-socketio), forced to polling, against
// the conformance app: tests/integration/py/client.py prints one JSON line
// of results.  Without python3 or its socketio module the test is skipped,
// except under CI (env CI set), where that is a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.mjs';
import { request, eioUrl, ERR } from './lib/eio.mjs';
import { CONFORMANCE_ARGS, SIO_PATH } from './lib/sio.mjs';

const SCRIPT = path.join(ROOT, 'tests', 'integration', 'py', 'client.py');

// The first python3 that imports socketio: $SIO_TEST_PYTHON, Debian's
// /usr/bin/python3 (a pyenv or venv python3 on PATH may lack the Debian
// modules), then python3 on PATH.
function findPython() {
  const tried = [];
  for (const py of [process.env.SIO_TEST_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean)) {
    const r = spawnSync(py, ['-c', 'import socketio, engineio, requests'], { encoding: 'utf8', timeout: 20000 });
    if (r.status === 0) return { py };
    tried.push(`${py}: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  }
  return { why: `no python3 with socketio, engineio and requests (${tried.join('; ')})` };
}

const found = findPython();
const skip = !found.py && !process.env.CI ? found.why : false;

let srv;
before(async () => {
  if (!found.py) return;
  // Daemon mode (one sio-fcgi process, --threads) here; the other sio-*
  // files use two spawned processes.
  srv = await startServer({ mode: 'daemon', args: CONFORMANCE_ARGS });
});
after(async () => { await srv?.stop(); });

function run(py, args, ms) {
  return new Promise((resolve) => {
    const child = spawn(py, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = ''; let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
  });
}

test('python-socketio client: connect, events, acks, binary, ping cycles, disconnect', { skip }, async (t) => {
  assert.ok(found.py, found.why);
  const r = await run(found.py, [SCRIPT, srv.url], 40000);
  const lines = r.out.trim().split('\n').filter(Boolean);
  const detail = `exit ${r.code ?? r.signal}\n--- stdout:\n${r.out}--- stderr:\n${r.err.slice(-3000)}`;
  assert.ok(lines.length >= 1, `no output: ${detail}`);
  let res;
  assert.doesNotThrow(() => { res = JSON.parse(lines[lines.length - 1]); }, `last line is JSON: ${detail}`);
  t.diagnostic(`versions ${JSON.stringify(res.versions)}`);
  assert.deepEqual(res.errors, [], detail);
  const names = Object.keys(res.checks);
  assert.ok(names.length >= 15, `checks run: ${names.join(', ')}`);
  for (const [name, ok] of Object.entries(res.checks)) assert.equal(ok, true, `check "${name}": ${detail}`);
  assert.equal(res.ok, true, detail);
  assert.equal(r.code, 0, detail);
  // The client's disconnect closed its Engine.IO session on the server.
  assert.match(res.engine_sid ?? '', /^[A-Za-z0-9_-]{8,}$/);
  // python-socketio returns from disconnect() before its close packet is
  // sent, and its last long-poll may still be held when the process has
  // exited (no front server reports the abort).  So this GET finds the
  // session either closed (code 1) or still holding that poll: then it is
  // an overlapping GET, which gets an empty 400 and closes the session
  // (PROTOCOL.md 4).  Either way the sid is dead afterwards.
  const url = eioUrl(srv.url, { sid: res.engine_sid, path: SIO_PATH });
  const g = await request('GET', url);
  assert.equal(g.status, 400, `GET with the python client's old sid: ${g.status} ${g.text}`);
  if (g.text !== '') assert.deepEqual(JSON.parse(g.text), { code: 1, message: ERR[1] });
  const g2 = await request('GET', url);
  assert.equal(g2.status, 400);
  assert.deepEqual(JSON.parse(g2.text), { code: 1, message: ERR[1] });
});
