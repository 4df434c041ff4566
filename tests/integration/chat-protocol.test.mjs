// The private-messaging chat (APP.md 1, --app chat) with the real
// socket.io-client, polling only, three sio-fcgi processes behind
// lighttpd: sessions, "users", live and stored messages, tabs, validation.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer } from './lib/server.mjs';
import {
  CHAT_ARGS, SESSION_RE, USER_RE, Tab, join, refused, entry, checkUsers, usersOf,
  closeAll, until, sleep,
} from './lib/chat.mjs';

let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 3, args: CHAT_ARGS });
});
after(async () => { closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

const randHex = (bytes) => crypto.randomBytes(bytes).toString('hex');
const msg = (content, from, to) => ({ content, from, to });
// How long "nothing arrives" is waited for when no later event can prove it.
const QUIET = 500;

test('a new user: connect, session {sessionID, userID}, users with itself; others get "user connected"', async () => {
  const obs = await join(srv.url, { username: 'observer' });
  const a = await join(srv.url, { username: 'alice' });
  assert.deepEqual(a.events.slice(0, 3).map((e) => e.name), ['connect', 'session', 'users'],
    'session comes before users');
  assert.deepEqual(Object.keys(a.session).sort(), ['sessionID', 'userID']);
  assert.match(a.session.sessionID, SESSION_RE);
  assert.match(a.session.userID, USER_RE);
  checkUsers(a.users);
  assert.deepEqual(entry(a.users, a.userID),
    { userID: a.userID, username: 'alice', connected: true, messages: [] });
  assert.deepEqual(entry(a.users, obs.userID),
    { userID: obs.userID, username: 'observer', connected: true, messages: [] });
  const uc = await obs.waitAbout('user connected', a.userID);
  assert.deepEqual(uc, { userID: a.userID, username: 'alice', connected: true, messages: [] });
  // Different users, different ids.
  assert.notEqual(a.sessionID, obs.sessionID);
  assert.notEqual(a.userID, obs.userID);
  // The new user gets no "user connected" about itself (no other tab).
  await sleep(QUIET);
  assert.deepEqual(a.about('user connected', a.userID), []);
});

test('a returning user by sessionID keeps userID and username; a username sent along is ignored', async () => {
  const a = await join(srv.url, { username: 'carol' });
  a.close();
  const obs = await join(srv.url, { username: 'watcher' });
  const r = await join(srv.url, { sessionID: a.sessionID, username: 'mallory' });
  assert.deepEqual(r.session, { sessionID: a.sessionID, userID: a.userID });
  checkUsers(r.users);
  assert.deepEqual(entry(r.users, a.userID),
    { userID: a.userID, username: 'carol', connected: true, messages: [] });
  assert.equal(r.users.filter((u) => u.username === 'mallory').length, 0, 'no user "mallory"');
  const uc = await obs.waitAbout('user connected', a.userID);
  assert.deepEqual(uc, { userID: a.userID, username: 'carol', connected: true, messages: [] });
  // And once more without a username.
  r.close();
  const r2 = await join(srv.url, { sessionID: a.sessionID });
  assert.deepEqual(r2.session, { sessionID: a.sessionID, userID: a.userID });
  assert.equal(entry(r2.users, a.userID).username, 'carol');
});

test('an unknown sessionID without a username is refused with "invalid username"', async () => {
  const auths = [
    undefined,
    { sessionID: randHex(16) },
    { sessionID: 'not-a-session' },
    { sessionID: randHex(16).toUpperCase() },
    { sessionID: 12345 },
    { sessionID: null },
  ];
  const errs = await Promise.all(auths.map((a) => refused(srv.url, a)));
  errs.forEach((e, i) => assert.equal(e.message, 'invalid username', `auth ${JSON.stringify(auths[i])}`));
  // With a username, an unknown sessionID makes a new session: the client
  // never chooses its sessionID.
  const wanted = randHex(16);
  const t = await join(srv.url, { sessionID: wanted, username: 'eve' });
  assert.notEqual(t.sessionID, wanted);
  assert.match(t.sessionID, SESSION_RE);
  assert.equal(entry(t.users, t.userID).username, 'eve');
});

test('invalid usernames are refused and create no user', async () => {
  const obs = await join(srv.url, { username: 'counter' });
  const before = obs.users.length;
  const auths = [
    {},
    { username: '' },
    { username: '   ' },
    { username: ' \t ' },
    { username: 42 },
    { username: null },
    { username: ['bob'] },
    { username: { name: 'bob' } },
    { username: true },
    { username: 'a'.repeat(33) },
    { username: 'é'.repeat(33) },
    { username: 'bad\u0001name' },
    { username: 'bad\nname' },
    { username: 'bad\u0000name' },
    { username: '\u0000' },
    { username: 'bad\u007fname' },
    { token: 'x' },
  ];
  const res = await Promise.allSettled(auths.map((a) => refused(srv.url, a)));
  const wrong = res.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  assert.deepEqual(wrong, [], 'every one refused');
  res.forEach((r, i) => assert.equal(r.value.message, 'invalid username', `auth ${JSON.stringify(auths[i])}`));
  obs.close();
  const users = await usersOf(srv.url, obs.sessionID);
  assert.equal(users.length, before, `no user was added: ${JSON.stringify(users.map((u) => u.username))}`);
});

test('usernames at the limits: trimmed, 32 characters, multibyte', async () => {
  const cases = [
    ['  dave  ', 'dave'],
    ['\tin  between\t', 'in  between'],
    ['x'.repeat(32), 'x'.repeat(32)],
    ['é'.repeat(32), 'é'.repeat(32)],
    ['😀'.repeat(32), '😀'.repeat(32)],
    [' ' + 'y'.repeat(32) + ' ', 'y'.repeat(32)],
  ];
  const obs = await join(srv.url, { username: 'limits-watcher' });
  for (const [sent, stored] of cases) {
    const t = await join(srv.url, { username: sent });
    assert.equal(entry(t.users, t.userID).username, stored, `username ${JSON.stringify(sent)}`);
    const uc = await obs.waitAbout('user connected', t.userID);
    assert.deepEqual(uc, { userID: t.userID, username: stored, connected: true, messages: [] });
    t.close();
  }
});

test('users: every user once, connected flags right, "user disconnected" is the bare userID', async () => {
  const u1 = await join(srv.url, { username: 'u1' });
  const u2 = await join(srv.url, { username: 'u2' });
  const u3 = await join(srv.url, { username: 'u3' });
  u3.close();
  const gone = await u1.waitAbout('user disconnected', u3.userID);
  assert.equal(gone, u3.userID, 'the bare userID string');
  assert.equal(await u2.waitAbout('user disconnected', u3.userID), u3.userID);
  const u4 = await join(srv.url, { username: 'u4' });
  checkUsers(u4.users);
  assert.deepEqual(entry(u4.users, u1.userID), { userID: u1.userID, username: 'u1', connected: true, messages: [] });
  assert.deepEqual(entry(u4.users, u2.userID), { userID: u2.userID, username: 'u2', connected: true, messages: [] });
  assert.deepEqual(entry(u4.users, u3.userID), { userID: u3.userID, username: 'u3', connected: false, messages: [] });
  assert.deepEqual(entry(u4.users, u4.userID), { userID: u4.userID, username: 'u4', connected: true, messages: [] });
  // u3 comes back: online again for the others, and for itself.
  const u3b = await join(srv.url, { sessionID: u3.sessionID });
  assert.equal(entry(u3b.users, u3.userID).connected, true);
  assert.equal(entry(u3b.users, u4.userID).connected, true);
  assert.deepEqual(await u1.waitAbout('user connected', u3.userID, 2),
    { userID: u3.userID, username: 'u3', connected: true, messages: [] });
  const users = await usersOf(srv.url, u4.sessionID);
  assert.equal(entry(users, u3.userID).connected, true);
});

test('a conversation keeps its order: 5 alternating messages, live and after reconnecting', async () => {
  const a = await join(srv.url, { username: 'ann' });
  const b = await join(srv.url, { username: 'ben' });
  const expected = [];
  for (let i = 0; i < 5; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const content = `message ${i} from ${from === a ? 'ann' : 'ben'}`;
    assert.equal(await from.send(to.userID, content), undefined, `ack of message ${i}`);
    expected.push(msg(content, from.userID, to.userID));
    const [got] = await to.take('private message');
    assert.deepEqual(got, expected.at(-1), `live message ${i}`);
  }
  // Neither got its own messages back (one tab each).
  assert.deepEqual(a.firsts('private message'), expected.filter((m) => m.to === a.userID));
  assert.deepEqual(b.firsts('private message'), expected.filter((m) => m.to === b.userID));
  for (const me of [a, b]) {
    const other = me === a ? b : a;
    const users = await usersOf(srv.url, me.sessionID);
    assert.deepEqual(entry(users, other.userID).messages, expected, `the conversation seen by ${me.userID}`);
    assert.deepEqual(entry(users, me.userID).messages, [], 'nothing to oneself');
  }
});

test('multi-tab: one sessionID is one user; messages reach the other tabs, not the sending one', async () => {
  const b = await join(srv.url, { username: 'bea' });
  const a1 = await join(srv.url, { username: 'amy' });
  await b.waitAbout('user connected', a1.userID);
  const a2 = await join(srv.url, { sessionID: a1.sessionID });
  assert.equal(a2.userID, a1.userID);
  // "user connected" goes to the user's other tab too, and to the others.
  const amy = { userID: a1.userID, username: 'amy', connected: true, messages: [] };
  assert.deepEqual(await a1.waitAbout('user connected', a1.userID), amy);
  assert.deepEqual(await b.waitAbout('user connected', a1.userID, 2), amy);
  checkUsers(a2.users);
  assert.equal(a2.users.filter((u) => u.userID === a1.userID).length, 1, 'the user once');

  // Tab 1 sends: the recipient and tab 2 get it, tab 1 does not.
  assert.equal(await a1.send(b.userID, 'from tab 1'), undefined);
  const m1 = msg('from tab 1', a1.userID, b.userID);
  assert.deepEqual((await b.take('private message'))[0], m1);
  assert.deepEqual((await a2.take('private message'))[0], m1);
  // The recipient answers: both tabs get it.
  assert.equal(await b.send(a1.userID, 'to both tabs'), undefined);
  const m2 = msg('to both tabs', b.userID, a1.userID);
  assert.deepEqual((await a1.take('private message'))[0], m2);
  assert.deepEqual((await a2.take('private message'))[0], m2);
  assert.deepEqual(a1.firsts('private message'), [m2], 'tab 1 never got its own message');
  assert.deepEqual(a2.firsts('private message'), [m1, m2]);
  assert.deepEqual(b.firsts('private message'), [m1]);

  // One tab leaves: the user stays online.
  a1.close();
  await sleep(QUIET);
  assert.deepEqual(b.about('user disconnected', a1.userID), [], 'no "user disconnected" while a tab is left');
  assert.deepEqual(a2.about('user disconnected', a1.userID), []);
  assert.equal(entry(await usersOf(srv.url, b.sessionID), a1.userID).connected, true);
  // The last tab leaves: "user disconnected" with the bare userID.
  a2.close();
  assert.equal(await b.waitAbout('user disconnected', a1.userID), a1.userID);
  await sleep(200);
  assert.equal(b.about('user disconnected', a1.userID).length, 1, 'once');
  const users = await usersOf(srv.url, b.sessionID);
  assert.equal(entry(users, a1.userID).connected, false);
  assert.deepEqual(entry(users, a1.userID).messages, [m1, m2]);
});

test('a message to oneself reaches the other tabs and is stored once', async () => {
  const b = await join(srv.url, { username: 'bill' });
  const a1 = await join(srv.url, { username: 'self' });
  const a2 = await join(srv.url, { sessionID: a1.sessionID });
  const me = a1.userID;
  assert.equal(await a1.send(me, 'note to self'), undefined);
  const n1 = msg('note to self', me, me);
  assert.deepEqual((await a2.take('private message'))[0], n1);
  // A later message from someone else proves tab 1 got nothing before it.
  assert.equal(await b.send(me, 'later'), undefined);
  const m = msg('later', b.userID, me);
  assert.deepEqual((await a1.take('private message'))[0], m);
  assert.deepEqual((await a2.take('private message'))[0], m);
  assert.deepEqual(a1.firsts('private message'), [m]);
  assert.deepEqual(a2.firsts('private message'), [n1, m], 'each tab gets it once');
  assert.deepEqual(b.firsts('private message'), [], 'nobody else gets it');
  const users = await usersOf(srv.url, a1.sessionID);
  assert.deepEqual(entry(users, me).messages, [n1], 'stored once');
  assert.deepEqual(entry(users, b.userID).messages, [m]);
  // A single tab writing to itself: nobody gets it, it is stored.
  a2.close();
  assert.equal(await a1.send(me, 'alone'), undefined);
  const users2 = await usersOf(srv.url, a1.sessionID);
  assert.deepEqual(entry(users2, me).messages, [n1, msg('alone', me, me)]);
  assert.deepEqual(a1.firsts('private message'), [m]);
});

test('an offline recipient gets its messages in "users" when it comes back', async () => {
  const a = await join(srv.url, { username: 'sender' });
  const c = await join(srv.url, { username: 'away' });
  c.close();
  assert.equal(await a.waitAbout('user disconnected', c.userID), c.userID);
  assert.equal(await a.send(c.userID, 'while you were away'), undefined);
  assert.equal(await a.send(c.userID, 'and another'), undefined);
  const expected = [msg('while you were away', a.userID, c.userID), msg('and another', a.userID, c.userID)];
  const back = await join(srv.url, { sessionID: c.sessionID });
  assert.equal(back.userID, c.userID);
  checkUsers(back.users);
  assert.deepEqual(entry(back.users, a.userID),
    { userID: a.userID, username: 'sender', connected: true, messages: expected });
  assert.equal(entry(back.users, c.userID).connected, true);
});

test('invalid private messages get an ack {error}; never stored nor delivered', async () => {
  const a1 = await join(srv.url, { username: 'val-a' });
  const a2 = await join(srv.url, { sessionID: a1.sessionID });
  const b = await join(srv.url, { username: 'val-b' });
  const to = b.userID;
  const bad = [
    ['content missing', { to }],
    ['content empty', { content: '', to }],
    ['content a number', { content: 42, to }],
    ['content null', { content: null, to }],
    ['content an array', { content: ['hi'], to }],
    ['content an object', { content: { text: 'hi' }, to }],
    ['content a boolean', { content: true, to }],
    ['content of 10001 bytes', { content: 'x'.repeat(10001), to }],
    ['content of 10001 bytes in 5001 characters', { content: 'é'.repeat(5000) + 'x', to }],
    ['to unknown', { content: 'hi', to: randHex(8) }],
    ['to not a userID', { content: 'hi', to: 'nobody' }],
    ['to uppercase', { content: 'hi', to: to.toUpperCase() }],
    ['to missing', { content: 'hi' }],
    ['to a number', { content: 'hi', to: 42 }],
    ['to null', { content: 'hi', to: null }],
    ['binary content', { content: Buffer.from('hi'), to }],
    ['a string payload', 'hi'],
    ['a number payload', 7],
    ['a null payload', null],
    ['an array payload', [{ content: 'hi', to }]],
    ['a binary payload', Buffer.from('{"content":"hi"}')],
  ];
  const acks = await Promise.all(bad.map(([, payload]) => a1.sendRaw(5000, payload)));
  acks.forEach((ack, i) => {
    assert.ok(ack && typeof ack === 'object', `${bad[i][0]}: an ack object, got ${JSON.stringify(ack)}`);
    assert.deepEqual(Object.keys(ack), ['error'], `${bad[i][0]}: ${JSON.stringify(ack)}`);
    assert.equal(typeof ack.error, 'string');
    assert.ok(ack.error.length > 0, `${bad[i][0]}: a message`);
  });
  // No argument at all.
  const none = await a1.sendRaw(5000);
  assert.equal(typeof none?.error, 'string', `no payload: ${JSON.stringify(none)}`);
  // Invalid ones without an ack: silently dropped.
  a1.s.emit('private message', { content: '', to });
  a1.s.emit('private message', { content: 'no recipient' });
  // The limits themselves are accepted.
  const okContents = ['x'.repeat(10000), 'é'.repeat(5000), '€'.repeat(3333) + 'y', 'ok'];
  for (const c of okContents) assert.equal(await a1.send(to, c), undefined, `content of ${Buffer.byteLength(c)} bytes`);
  const expected = okContents.map((c) => msg(c, a1.userID, to));
  // Delivered in order: the valid ones only.
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual((await b.take('private message'))[0], expected[i]);
    assert.deepEqual((await a2.take('private message'))[0], expected[i]);
  }
  await sleep(200);
  assert.deepEqual(b.firsts('private message'), expected, 'the recipient got only the valid messages');
  assert.deepEqual(a2.firsts('private message'), expected, "the sender's other tab got only the valid messages");
  assert.deepEqual(a1.firsts('private message'), []);
  // Stored: the valid ones only, on both sides.
  const ua = await usersOf(srv.url, a1.sessionID);
  assert.deepEqual(entry(ua, to).messages, expected);
  assert.deepEqual(entry(ua, a1.userID).messages, []);
  const ub = await usersOf(srv.url, b.sessionID);
  assert.deepEqual(entry(ub, a1.userID).messages, expected);
  // The sockets survived it all.
  assert.equal(a1.connected, true);
  assert.equal(b.connected, true);
});

test('content round-trips exactly: unicode, 0x1e, quotes, markup, whitespace', async () => {
  const a = await join(srv.url, { username: 'rt-a' });
  const b = await join(srv.url, { username: 'rt-b' });
  const contents = [
    'é€😀',
    'a\u001eb\u001e',
    '"double" \'single\' `back` \\ backslash \\" \\u0041',
    '<script>alert("x")</script>&amp;<b>',
    'line\nbreak\r\n\ttab',
    '  spaces kept  ',
    ' ',
    '{"content":"nested","to":"x"}',
    '\u2028\u2029\ufeff\u00a0',
    '42["private message",{}]',
  ];
  for (const c of contents) assert.equal(await a.send(b.userID, c), undefined, `ack of ${JSON.stringify(c)}`);
  const expected = contents.map((c) => msg(c, a.userID, b.userID));
  for (let i = 0; i < expected.length; i++) assert.deepEqual((await b.take('private message'))[0], expected[i]);
  const users = await usersOf(srv.url, b.sessionID);
  assert.deepEqual(entry(users, a.userID).messages, expected);
});

test('NUL characters: content stored whole or refused, never cut; "to" or sessionID with a NUL is no id', async () => {
  const a = await join(srv.url, { username: 'nul-a' });
  const b = await join(srv.url, { username: 'nul-b' });
  const content = 'before\u0000after';
  const ack = await a.send(b.userID, content);
  const toNul = await a.send(b.userID + '\u0000junk', 'to a userID with a NUL');
  assert.equal(await a.send(b.userID, 'sentinel'), undefined);
  const sentinel = msg('sentinel', a.userID, b.userID);
  await until(() => b.firsts('private message').some((m) => m.content === 'sentinel'), 'the sentinel');
  const expected = ack === undefined ? [msg(content, a.userID, b.userID), sentinel] : [sentinel];
  const problems = [];
  if (ack !== undefined && typeof ack?.error !== 'string') problems.push(`content: ack ${JSON.stringify(ack)}`);
  if (typeof toNul?.error !== 'string') problems.push(`to with a NUL: ack ${JSON.stringify(toNul)}, not an error`);
  const live = b.firsts('private message');
  const users = await usersOf(srv.url, b.sessionID);
  const stored = entry(users, a.userID).messages;
  if (JSON.stringify(live) !== JSON.stringify(expected)) problems.push(`delivered ${JSON.stringify(live)}`);
  if (JSON.stringify(stored) !== JSON.stringify(expected)) problems.push(`stored ${JSON.stringify(stored)}`);
  // A sessionID followed by a NUL is not that sessionID.
  try {
    const e = await refused(srv.url, { sessionID: a.sessionID + '\u0000x' });
    if (e.message !== 'invalid username') problems.push(`sessionID with a NUL: ${e.message}`);
  } catch (err) {
    problems.push(`sessionID with a NUL: ${err.message}`);
  }
  assert.deepEqual(problems, [], `expected (delivered and stored) ${JSON.stringify(expected)}`);
});

test('the history cap: with --chat-history 5, "users" holds the last 5 messages in order', async () => {
  const small = await startServer({ mode: 'spawn', procs: 3, args: [...CHAT_ARGS, '--chat-history', '5'] });
  try {
    const a = await join(small.url, { username: 'cap-a' });
    const b = await join(small.url, { username: 'cap-b' });
    const c = await join(small.url, { username: 'cap-c' });
    const all = [];
    for (let i = 0; i < 8; i++) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      assert.equal(await from.send(to.userID, `m${i}`), undefined);
      all.push(msg(`m${i}`, from.userID, to.userID));
    }
    // Another conversation of a is kept apart.
    assert.equal(await a.send(c.userID, 'to c'), undefined);
    assert.equal(await c.send(a.userID, 'to a'), undefined);
    const ua = await usersOf(small.url, a.sessionID);
    assert.deepEqual(entry(ua, b.userID).messages, all.slice(3), 'a sees the last 5');
    assert.deepEqual(entry(ua, c.userID).messages,
      [msg('to c', a.userID, c.userID), msg('to a', c.userID, a.userID)]);
    const ub = await usersOf(small.url, b.sessionID);
    assert.deepEqual(entry(ub, a.userID).messages, all.slice(3), 'b sees the last 5');
    // Three more: still 5, the newest.
    for (let i = 8; i < 11; i++) {
      assert.equal(await a.send(b.userID, `m${i}`), undefined);
      all.push(msg(`m${i}`, a.userID, b.userID));
    }
    const ua2 = await usersOf(small.url, a.sessionID);
    assert.deepEqual(entry(ua2, b.userID).messages, all.slice(-5));
  } finally {
    closeAll();
    await small.stop();
  }
});
