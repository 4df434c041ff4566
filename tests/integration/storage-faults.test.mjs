// Storage faults: a full LMDB map gives a clear answer, loses nothing that
// was committed, keeps the session, and service resumes once space is
// freed; a database path that cannot be a directory stops the server at
// start with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, BIN } from './lib/server.mjs';
import { Session, decode } from './lib/eio.mjs';

let srv;
before(async () => {
  // A 1 MiB map holds about three 300 kB messages (above the default
  // maxPayload, hence --max-payload).
  srv = await startServer({ args: ['--app', 'echo', '--map-size', '1', '--ping-interval', '60000',
    '--max-payload', '1000000'] });
});
after(async () => { await srv?.stop(); });

test('a full map: 507 "storage full", the session stays, committed data intact, service resumes', async () => {
  const s = await Session.open(srv.url);
  const big = (i) => `4${String(i)}${'a'.repeat(300000)}`;
  const codes = [];
  let i = 0;
  for (; i < 10; i++) {
    const r = await s.post(big(i));
    codes.push(r.status);
    if (r.status !== 200) {
      assert.equal(r.status, 507, `POST ${i}: ${r.status} ${r.text}`);
      assert.equal(r.text, 'storage full\n');
      break;
    }
  }
  assert.ok(i >= 1 && i < 10, `the map filled up after ${i} POSTs (${codes})`);
  assert.match(srv.logText(), /MDB_MAP_FULL/, 'a log line names the cause');
  // Everything committed before the failure is there, unaltered.
  const got = decode((await s.get()).text);
  assert.equal(got.length, i);
  for (let k = 0; k < i; k++) assert.equal(got[k], big(k), `message ${k}`);
  // The next GET proves the batch arrived, so its packets are freed; it
  // is then held (nothing queued) until a POST fits in the map again.
  const held = s.get();
  await new Promise((r) => setTimeout(r, 200));
  const p = await s.post(big(99));
  assert.equal(p.status, 200, `after the client read its queue, a POST fits again (${p.status} ${p.text})`);
  const r = await held;
  assert.equal(r.status, 200);
  assert.deepEqual(decode(r.text), [big(99)]);
});

test('a --db path that is a file stops the server at start with a clear message', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-db-'));
  const file = path.join(dir, 'not-a-dir');
  fs.writeFileSync(file, 'x');
  try {
    const r = spawnSync(BIN, ['--stats', '--db', file], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, `exit status ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /store: cannot (create|open) .*not-a-dir/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
