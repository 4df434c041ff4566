// The configurable limits of the Socket.IO layer and the chat: each one,
// set low, is enforced at exactly its value, answers the client clearly
// and writes a log line (at the default log level) naming the limit.
//   --max-json-depth, --max-attachments: the session is closed as for a
//     malformed packet (Node's parser does the same), log "a packet was
//     refused (...)";
//   --chat-max-username: CONNECT_ERROR "invalid username";
//   --chat-max-content: the private message's ack gets
//     {error: "content is too long"}, the message is neither stored nor
//     delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { binPacket } from './lib/eio.mjs';
import { SioSession, CONFORMANCE_ARGS, ph } from './lib/sio.mjs';
import { CHAT_ARGS, join, refused, closeAll, until, entry } from './lib/chat.mjs';

// n arrays nested in one another around a 1: nest(2) = [[1]].
const nest = (n) => '['.repeat(n) + '1' + ']'.repeat(n);

async function assertClosedGracefully(s, what) {
  const pre = await s.closed({ ms: 2000 }).catch((e) => { throw new Error(`${what}: ${e.message}`); });
  assert.deepEqual(pre, ['6'], `${what}: the close GET is 6\\x1e1`);
}

async function logShows(srv, re, what) {
  await until(() => re.test(srv.logText()), `log line: ${what}`);
}

test('--max-json-depth and --max-attachments are enforced at their values', async (t) => {
  const srv = await startServer({ mode: 'spawn', procs: 2,
    args: [...CONFORMANCE_ARGS, '--max-json-depth', '4', '--max-attachments', '2'] });
  t.after(() => srv.stop());
  const joined = async () => { const s = await SioSession.open(srv.url); await s.connect('/'); return s; };

  // The event array is one level: 3 more make 4, accepted.
  const s = await joined();
  await s.send(`42["message",${nest(3)}]`);
  assert.deepEqual(await s.read(1), [`42["message-back",${nest(3)}]`]);
  // 4 more make 5: refused, the session closed, a log line.
  await s.send(`42["message",${nest(4)}]`);
  await assertClosedGracefully(s, 'depth 5');
  await logShows(srv, /a packet was refused \(JSON nested too deep\): session closed/, 'too deep');
  // Objects count as well.
  const o = await joined();
  await o.send('42["message",{"a":{"b":{"c":{}}}}]');
  await assertClosedGracefully(o, 'objects, depth 5');

  const bufs = [1, 2, 3].map((i) => Buffer.from([i, 0x1e, 255 - i]));
  const two = await joined();
  await two.send(['452-' + JSON.stringify(['message', ph(0), ph(1)]), binPacket(bufs[0]), binPacket(bufs[1])]);
  const [m] = await two.readSio(1);
  assert.equal(m.head, '452-', `reply ${m.raw}`);
  assert.deepEqual(m.args, ['message-back', bufs[0], bufs[1]]);
  const three = await joined();
  await three.send(['453-' + JSON.stringify(['message', ph(0), ph(1), ph(2)]), ...bufs.map(binPacket)]);
  await assertClosedGracefully(three, '453-');
  await logShows(srv, /a packet was refused \(attachment count out of range\): session closed/, 'attachments');
  // Nothing secret in these lines: no sid.
  for (const line of srv.logText().split('\n').filter((l) => l.includes('a packet was refused')))
    assert.doesNotMatch(line, /sid=/, line);
});

test('out-of-range limit settings are refused at start', async () => {
  const { spawnSync } = await import('node:child_process');
  const { BIN } = await import('./lib/server.mjs');
  for (const [opt, v] of [['--max-json-depth', '0'], ['--max-json-depth', '257'],
    ['--max-attachments', '0'], ['--max-attachments', '65'], ['--chat-max-content', '0'],
    ['--chat-max-username', 'x']]) {
    const r = spawnSync(BIN, [opt, v, '--version'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `${opt} ${v} accepted`);
    assert.match(r.stderr, new RegExp(opt.slice(2)), `${opt} ${v}: ${r.stderr}`);
  }
});

test('--chat-max-username and --chat-max-content: clear refusals, the rest goes on', async (t) => {
  const srv = await startServer({ mode: 'spawn', procs: 2,
    args: [...CHAT_ARGS, '--chat-max-username', '5', '--chat-max-content', '20'] });
  t.after(async () => { closeAll(); await srv.stop(); });

  // Five characters (not bytes), trimmed: accepted; six refused.
  const a = await join(srv.url, { username: ' élise ' });
  const err = await refused(srv.url, { username: 'brigitte' });
  assert.equal(err.message, 'invalid username');
  await logShows(srv, /chat: a username of 8 characters refused \(limit 5\)/, 'username');

  const b = await join(srv.url, { username: 'bob' });
  assert.equal(entry(b.users, a.userID).username, 'élise');
  const ok = 'x'.repeat(20);
  assert.equal(await b.send(a.userID, ok), undefined, 'accepted');
  const [m] = await a.take('private message');
  assert.equal(m.content, ok);
  assert.deepEqual(await b.send(a.userID, ok + 'y'), { error: 'content is too long' });
  await logShows(srv, /chat: a message of 21 bytes refused \(limit 20\)/, 'content');
  // Bytes, not characters: 7 euro signs are 21 bytes.
  assert.deepEqual(await b.send(a.userID, '€'.repeat(7)), { error: 'content is too long' });
  // The refused ones were not delivered: the next one is the next seen.
  assert.equal(await b.send(a.userID, 'after'), undefined);
  const [n] = await a.take('private message');
  assert.equal(n.content, 'after');
});
