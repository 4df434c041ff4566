// The chat's limits: a user may hold --chat-max-tabs connections at once;
// the next one is refused with a clear CONNECT_ERROR, and the others go on.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { CHAT_ARGS, join, refused, closeAll } from './lib/chat.mjs';

let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 2, args: [...CHAT_ARGS, '--chat-max-tabs', '2'] });
});
after(async () => { closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

test('a third tab of one user is refused with "too many connections"; the first two go on', async () => {
  const a1 = await join(srv.url, { username: 'alice' });
  const a2 = await join(srv.url, { sessionID: a1.sessionID });
  const err = await refused(srv.url, { sessionID: a1.sessionID });
  assert.equal(err.message, 'too many connections');
  const b = await join(srv.url, { username: 'bob' });
  b.s.emit('private message', { content: 'still here?', to: a1.userID });
  const [m1] = await a1.take('private message');
  const [m2] = await a2.take('private message');
  assert.deepEqual(m1, { content: 'still here?', from: b.userID, to: a1.userID });
  assert.deepEqual(m2, m1);
  // Once a tab leaves, a new one is welcome again (the leaving tab's
  // DISCONNECT may still be on its way: try a few times).
  a2.close();
  let a3 = null;
  for (let i = 0; i < 10 && a3 === null; i++) {
    try {
      a3 = await join(srv.url, { sessionID: a1.sessionID });
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.ok(a3, 'a new tab after one left');
  assert.equal(a3.userID, a1.userID);
});
