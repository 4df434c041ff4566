// contrib/sio-check, the self-check a user runs against a deployed URL:
// every check passes against a working deployment, and a front server
// that does not route the path is reported with the directive to change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.mjs';

const CHECK = path.join(ROOT, 'contrib', 'sio-check');
let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 2, args: ['--app', 'chat', '--ping-interval', '1500', '--ping-timeout', '1000'] });
});
after(async () => { await srv?.stop(); });

test('a working deployment passes all four checks', () => {
  const r = spawnSync(CHECK, [srv.url], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.split('\n');
  for (const what of ['handshake', 'round trip', 'held poll', 'POST of maxPayload'])
    assert.ok(lines.some((l) => l.startsWith('PASS') && l.includes(what)), `${what}:\n${r.stdout}`);
  assert.match(r.stdout, /held poll: answered with a ping after 1\.[0-9]/);
});

test('a path the front server does not route fails with the directives to change', () => {
  const r = spawnSync(CHECK, ['--quick', '--path', '/not-routed/', srv.url], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL {2}handshake: HTTP 404/m);
  assert.match(r.stdout, /fastcgi\.server/);
  assert.match(r.stdout, /FcgidIOTimeout|Alias \/not-routed/);
});
