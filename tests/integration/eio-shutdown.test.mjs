// SIGTERM to the daemon answers held polls at once and exits promptly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, processGone } from './lib/server.mjs';
import { Session, sleep, now } from './lib/eio.mjs';

let srv;
before(async () => {
  // Long heartbeat, so that nothing but the shutdown can end the poll.
  srv = await startServer({ args: ['--ping-interval', '20000', '--ping-timeout', '5000'] });
});
after(async () => { await srv?.stop(); });

test('SIGTERM: a held GET is answered within 1 s and the daemon exits within 2 s', async (t) => {
  const pid = srv.pids()['sio-fcgi'];
  assert.ok(pid > 0, `sio-fcgi pid in ${srv.dir}/pids`);
  const s = await Session.open(srv.url);
  let answeredAt = 0;
  const g = s.get({ timeout: 10000 }).then((r) => { answeredAt = now(); return r; });
  await sleep(300);
  assert.equal(answeredAt, 0, 'the GET is held');

  const t0 = now();
  process.kill(pid, 'SIGTERM');
  const r = await g;
  const answer = answeredAt - t0;
  let gone = null;
  while (now() - t0 < 5000) {
    if (processGone(pid)) { gone = now() - t0; break; }
    await sleep(10);
  }
  t.diagnostic(`held GET answered ${answer.toFixed(0)} ms after SIGTERM with ` +
    `${r.status} ${JSON.stringify(r.text)}; process gone after ${gone?.toFixed(0)} ms`);
  assert.equal(r.status, 200);
  assert.equal(r.text, '6', 'a noop ends the held poll');
  assert.ok(answer < 1000, `answered after ${answer.toFixed(0)} ms`);
  assert.ok(gone !== null && gone < 2000, `exited after ${gone?.toFixed(0)} ms`);
});
