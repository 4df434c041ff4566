// Security properties of a deployed chat (docs/security.md): database
// files only for their owner, no secret in the log below debug level, no
// impersonation, no eavesdropping on another user's conversation.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { CHAT_ARGS, join, closeAll, sleep } from './lib/chat.mjs';
import { Session } from './lib/eio.mjs';

let srv;
before(async () => {
  const args = CHAT_ARGS.filter((a, i, all) => a !== '--log-level' && all[i - 1] !== '--log-level');
  srv = await startServer({ mode: 'spawn', procs: 2, args: [...args, '--log-level', 'info'] });
});
after(async () => { closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

test('the database directory is 0700 and its files 0600', () => {
  const mode = (p) => fs.statSync(p).mode & 0o777;
  assert.equal(mode(srv.db), 0o700, 'db directory');
  for (const f of fs.readdirSync(srv.db))
    assert.equal(mode(path.join(srv.db, f)), 0o600, f);
});

test('a sender cannot pretend to be someone else, and a third user hears nothing', async () => {
  const a = await join(srv.url, { username: 'alice' });
  const b = await join(srv.url, { username: 'bob' });
  const c = await join(srv.url, { username: 'carol' });
  a.s.emit('private message', { content: 'from alice', to: b.userID, from: c.userID });
  const [m] = await b.take('private message');
  assert.deepEqual(m, { content: 'from alice', from: a.userID, to: b.userID });
  await sleep(300);
  assert.equal(c.all('private message').length, 0, 'carol got nothing');
  // Nor does carol's "users" hold the conversation of alice and bob.
  const c2 = await join(srv.url, { sessionID: c.sessionID });
  for (const u of c2.users) assert.deepEqual(u.messages, [], `carol's view of ${u.username}`);
});

test('no session id, sessionID, username or message content in the log at info level', async () => {
  const secret = 'the password is swordfish';
  const a = await join(srv.url, { username: 'zelda-secret-name' });
  const b = await join(srv.url, { username: 'link-secret-name' });
  a.s.emit('private message', { content: secret, to: b.userID });
  await b.take('private message');
  const raw = await Session.open(srv.url, '/socket.io/');
  await sleep(200);
  const log = srv.logText();
  for (const s of [secret, a.sessionID, b.sessionID, raw.sid, 'zelda-secret-name', 'link-secret-name'])
    assert.ok(!log.includes(s), `the log holds ${JSON.stringify(s)}`);
});
