// The private-messaging chat (APP.md 1, --app chat) under faults, with the
// real socket.io-client: a sio-fcgi process SIGKILLed mid-traffic, clients
// that vanish without a goodbye, a restart of every process, and the
// presence race of the guide (tabs of one user coming and going at once).
// Three sio-fcgi processes behind lighttpd (spawn mode).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, processGone } from './lib/server.mjs';
import {
  CHAT_ARGS, PING_INTERVAL, PING_TIMEOUT, join, entry, checkUsers, usersOf, backendPids,
  closeAll, until, sleep, now,
} from './lib/chat.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// A dead session must be announced within this (ms).
const DEAD_WITHIN = PING_INTERVAL + PING_TIMEOUT + 1500;

let srv;
before(async () => {
  srv = await startServer({ mode: 'spawn', procs: 3, args: CHAT_ARGS });
});
after(async () => { closeAll(); await srv?.stop(); });
afterEach(() => closeAll());

const msg = (content, from, to) => ({ content, from, to });

// A user that reconnects by sessionID whenever its socket is lost (as the
// guide's client does), keeping every tab it had.
class Peer {
  constructor(url, name) { this.url = url; this.name = name; this.tabs = []; this.reconnects = 0; }
  async start() {
    const t = await join(this.url, { username: this.name }, { name: this.name });
    this.tabs.push(t);
    this.sessionID = t.sessionID;
    this.userID = t.userID;
    return this;
  }
  get tab() { return this.tabs.at(-1); }
  // A connected tab, reconnecting (for up to 15 s) if needed.
  async ensure() {
    if (this.tab.connected) return this.tab;
    const end = now() + 15000;
    let last;
    while (now() < end) {
      try {
        const t = await join(this.url, { sessionID: this.sessionID }, { name: `${this.name}#${this.tabs.length}` });
        assert.equal(t.userID, this.userID, 'the same user after reconnecting');
        this.tabs.push(t);
        this.reconnects++;
        return t;
      } catch (err) {
        last = err;
        await sleep(100);
      }
    }
    throw new Error(`${this.name}: cannot reconnect: ${last?.message}`);
  }
  // Every private message any of its tabs got.
  live() { return this.tabs.flatMap((t) => t.firsts('private message')); }
}

// Sockets open in process pid (its listening socket, its bell, and one
// per FastCGI connection lighttpd has open to it: a request in progress).
function socketCount(pid) {
  let n = 0;
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try { if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++; } catch { /* closed */ }
    }
  } catch { /* gone */ }
  return n;
}

test('sio-fcgi processes SIGKILLed mid-traffic: every acked message is stored, once, in order', async (t) => {
  const pids0 = backendPids(srv);
  assert.equal(pids0.length, 3, `three backends: ${pids0}`);
  const a = await new Peer(srv.url, 'kill-a').start();
  const b = await new Peer(srv.url, 'kill-b').start();
  const acked = [];
  const lost = [];
  const errors = [];
  const killed = [];
  // Three kills while both clients send and poll, each of the process
  // then busiest (most likely holding a poll or a POST).
  const killAt = [20, 45, 70];
  const N = 50;
  // From a timer of its own (not in step with the clients): once the
  // count is reached, kill a process with a FastCGI connection open (more
  // sockets than the idle ones), or the busiest after 500 ms of looking.
  let looking = 0;
  let busy = 0;
  const killer = setInterval(() => {
    if (killed.length >= killAt.length || acked.length < killAt[killed.length]) return;
    if (looking === 0) looking = now();
    const pids = backendPids(srv).filter((p) => !killed.includes(p));
    if (pids.length === 0) return;
    const counts = pids.map((p) => [p, socketCount(p)]).sort((x, y) => y[1] - x[1]);
    const idle = counts.at(-1)[1];
    if (counts[0][1] <= idle && now() - looking < 500) return;
    const [victim, sockets] = counts[0];
    try { process.kill(victim, 'SIGKILL'); } catch { return; }
    killed.push(victim);
    if (sockets > idle) busy++;
    looking = 0;
    t.diagnostic(`SIGKILL ${victim} (${sockets} sockets; others ${JSON.stringify(counts.slice(1))}) after ${acked.length} acked`);
  }, 2);
  async function sender(from, to) {
    for (let i = 0; i < N; i++) {
      const content = `${from.name} ${i}`;
      const tab = await from.ensure();
      try {
        const ack = await tab.send(to.userID, content, 4000);
        if (ack === undefined) acked.push(content);
        else errors.push(`${content}: ${JSON.stringify(ack)}`);
      } catch (err) {
        lost.push(`${content}: ${err.message}`);
      }
    }
  }
  try {
    await Promise.all([sender(a, b), sender(b, a)]);
  } finally {
    clearInterval(killer);
  }
  t.diagnostic(`${busy} of the kills hit a process with more sockets than an idle one`);
  t.diagnostic(`${acked.length} acked, ${lost.length} not acked (${lost.slice(0, 3).join('; ')}), ` +
    `reconnects: ${a.reconnects} + ${b.reconnects}`);
  assert.deepEqual(errors, [], 'no valid message refused');
  assert.equal(killed.length, killAt.length, 'the processes were killed');
  assert.ok(acked.length >= 2 * N - 10, `most messages acked: ${acked.length}`);
  // lighttpd respawns the processes.
  await until(() => {
    const pids = backendPids(srv);
    return pids.length === 3 && !pids.some((p) => killed.includes(p));
  }, `lighttpd respawning ${killed} (backends: ${backendPids(srv)})`, 10000);
  for (const p of killed) assert.ok(processGone(p), `${p} is gone`);

  for (const [me, other] of [[a, b], [b, a]]) {
    const users = await usersOf(srv.url, me.sessionID);
    const conv = entry(users, other.userID).messages;
    const contents = conv.map((m) => m.content);
    const missing = acked.filter((c) => !contents.includes(c));
    assert.deepEqual(missing, [], `acked messages missing in the conversation seen by ${me.name}`);
    const dups = contents.filter((c, i) => contents.indexOf(c) !== i);
    assert.deepEqual(dups, [], 'no message stored twice');
    for (const m of conv) {
      const sender = m.content.startsWith('kill-a ') ? a : b;
      assert.deepEqual(m, msg(m.content, sender.userID, sender === a ? b.userID : a.userID), 'from and to');
    }
    // Each sender's messages in the order sent.
    for (const p of [a, b]) {
      const seq = contents.filter((c) => c.startsWith(`${p.name} `)).map((c) => Number(c.split(' ')[1]));
      assert.deepEqual(seq, [...seq].sort((x, y) => x - y), `${p.name}'s messages in order`);
    }
    assert.ok(conv.length >= acked.length && conv.length <= 2 * N);
    if (me === a) t.diagnostic(`${conv.length} stored (${conv.length - acked.length} of the ${lost.length} not acked)`);
    // Both are shown online (each has a connected tab, or had until usersOf).
    assert.equal(entry(users, me.userID).connected, true);
  }
  // Live: no message delivered twice to a user.
  for (const p of [a, b]) {
    const live = p.live().map((m) => m.content);
    const dups = live.filter((c, i) => live.indexOf(c) !== i);
    assert.deepEqual(dups, [], `${p.name} got no message twice`);
  }
});

// A socket.io-client in a child process: -> {child, session}; kill it
// with SIGKILL to make its session die without a goodbye.
const CHILD = `
import { io } from 'socket.io-client';
const s = io(process.env.CHAT_URL, { transports: ['polling'], forceNew: true, reconnection: false,
  auth: JSON.parse(process.env.CHAT_AUTH) });
let session;
s.on('session', (x) => { session = x; });
s.on('users', () => { process.stdout.write(JSON.stringify(session) + '\\n'); });
s.on('connect_error', (e) => { process.stdout.write(JSON.stringify({ error: e.message }) + '\\n'); });
setInterval(() => {}, 1000);
`;
const children = new Set();
after(() => { for (const c of children) c.kill('SIGKILL'); });

function childClient(url, auth) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: HERE,
    env: { ...process.env, CHAT_URL: url, CHAT_AUTH: JSON.stringify(auth) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child client: no session in 10 s: ${out}`)); }, 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const session = JSON.parse(out.slice(0, nl));
      if (session.error) reject(new Error(`child client: ${session.error}`));
      else resolve({ child, session });
    });
  });
}

test('a client that dies without a goodbye is shown offline within pingInterval + pingTimeout + 1.5 s', async (t) => {
  const obs = await join(srv.url, { username: 'dead-watcher' });
  // y: one tab, in a child process.  x: a tab here and one in a child.
  const y = await childClient(srv.url, { username: 'dead-y' });
  const x1 = await join(srv.url, { username: 'dead-x' });
  const x2 = await childClient(srv.url, { sessionID: x1.sessionID });
  assert.equal(x2.session.userID, x1.userID);
  const yid = y.session.userID;
  assert.equal((await obs.waitAbout('user connected', yid)).connected, true);
  await sleep(300);
  const t0 = now();
  y.child.kill('SIGKILL');
  x2.child.kill('SIGKILL');
  assert.equal(await obs.waitAbout('user disconnected', yid, 1, DEAD_WITHIN + 1000), yid);
  const took = now() - t0;
  t.diagnostic(`"user disconnected" ${took.toFixed(0)} ms after the kill`);
  assert.ok(took <= DEAD_WITHIN, `announced after ${took.toFixed(0)} ms, more than ${DEAD_WITHIN}`);
  assert.equal(await x1.waitAbout('user disconnected', yid, 1, 1000), yid, 'the other users are told too');
  const users = await usersOf(srv.url, obs.sessionID);
  assert.equal(entry(users, yid).connected, false, 'stored offline');
  // x still has a tab: still online, no "user disconnected".
  const rest = DEAD_WITHIN + 300 - (now() - t0);
  if (rest > 0) await sleep(rest);
  assert.deepEqual(obs.about('user disconnected', x1.userID), [], 'x keeps a live tab: still online');
  assert.equal(entry(await usersOf(srv.url, obs.sessionID), x1.userID).connected, true);
  assert.equal(x1.connected, true);
  // Its last tab leaves: now offline.
  x1.close();
  assert.equal(await obs.waitAbout('user disconnected', x1.userID), x1.userID);
  assert.equal(entry(await usersOf(srv.url, obs.sessionID), x1.userID).connected, false);
});

test('a restart of every process loses no session and no message', async (t) => {
  const db = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-chat-db-'));
  let s1, s2;
  try {
    s1 = await startServer({ mode: 'spawn', procs: 3, args: [...CHAT_ARGS, '--db', db] });
    const a = await join(s1.url, { username: 'rs-a' });
    const b = await join(s1.url, { username: 'rs-b' });
    const c = await join(s1.url, { username: 'rs-c' });
    const ab = [];
    for (let i = 0; i < 6; i++) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      assert.equal(await from.send(to.userID, `before restart ${i} é€😀`), undefined);
      ab.push(msg(`before restart ${i} é€😀`, from.userID, to.userID));
    }
    c.close();
    await a.waitAbout('user disconnected', c.userID);
    assert.equal(await a.send(c.userID, 'for c, offline'), undefined);
    const ac = [msg('for c, offline', a.userID, c.userID)];
    // Stop everything with a and b still connected.
    await s1.stop();
    s1 = null;
    closeAll();

    s2 = await startServer({ mode: 'spawn', procs: 3, args: [...CHAT_ARGS, '--db', db] });
    const a2 = await join(s2.url, { sessionID: a.sessionID });
    assert.deepEqual(a2.session, { sessionID: a.sessionID, userID: a.userID });
    checkUsers(a2.users);
    assert.equal(entry(a2.users, a.userID).username, 'rs-a');
    assert.deepEqual(entry(a2.users, b.userID).messages, ab, 'the conversation with b, whole');
    assert.deepEqual(entry(a2.users, c.userID), { userID: c.userID, username: 'rs-c', connected: false, messages: ac });
    // b's session died with the old processes: shown offline in time.
    await until(async () => a2.about('user disconnected', b.userID).length > 0 ||
      entry(await usersOf(s2.url, a.sessionID), b.userID).connected === false,
      'b shown offline after the restart', DEAD_WITHIN);
    const b2 = await join(s2.url, { sessionID: b.sessionID, username: 'ignored' });
    assert.deepEqual(b2.session, { sessionID: b.sessionID, userID: b.userID });
    assert.equal(entry(b2.users, b.userID).username, 'rs-b');
    assert.deepEqual(entry(b2.users, a.userID).messages, ab);
    assert.equal(entry(b2.users, a.userID).connected, true);
    assert.equal((await a2.waitAbout('user connected', b.userID)).username, 'rs-b');
    // The conversation goes on, live and stored.
    assert.equal(await b2.send(a.userID, 'after restart'), undefined);
    ab.push(msg('after restart', b.userID, a.userID));
    assert.deepEqual((await a2.take('private message'))[0], ab.at(-1));
    const c2 = await join(s2.url, { sessionID: c.sessionID });
    assert.equal(c2.userID, c.userID);
    assert.deepEqual(entry(c2.users, a.userID).messages, ac);
    assert.deepEqual(entry(await usersOf(s2.url, a.sessionID), b.userID).messages, ab);
  } finally {
    closeAll();
    await s1?.stop();
    await s2?.stop();
    fs.rmSync(db, { recursive: true, force: true });
  }
});

test('presence race: tabs of one user coming and going at once, 20 rounds', async (t) => {
  const obs = await join(srv.url, { username: 'race-watcher' });
  const probe = await join(srv.url, { username: 'race-probe' });
  probe.close();
  const first = await join(srv.url, { username: 'racer' });
  const X = first.userID;
  const sessionID = first.sessionID;
  await obs.waitAbout('user connected', X);
  // The watcher's view of X: the last "user connected"/"user disconnected"
  // about X.
  const view = () => {
    let online = null;
    for (const e of obs.events) {
      if (e.name === 'user connected' && e.args[0]?.userID === X) online = true;
      if (e.name === 'user disconnected' && e.args[0] === X) online = false;
    }
    return online;
  };
  const downs = () => obs.about('user disconnected', X).length;
  // Three tab slots; each round goes to the next set of open tabs, every
  // open and close of the round at once.
  const slots = [first, null, null];
  const targets = [[1], [0, 2], [1, 2], [0], [0, 1, 2], [2], [], [0, 1], [], [0]];
  const jitter = () => sleep(Math.floor(Math.random() * 10));
  let opens = 1;
  let offTransitions = 0;
  for (let r = 0; r < 20; r++) {
    const want = targets[r % targets.length];
    const had = [0, 1, 2].filter((i) => slots[i]);
    const kept = had.filter((i) => want.includes(i));
    const downs0 = downs();
    const ops = [];
    for (const i of [0, 1, 2]) {
      if (want.includes(i) && !slots[i]) {
        opens++;
        ops.push(jitter().then(() => join(srv.url, { sessionID }, { name: `racer-slot${i}-r${r}` }))
          .then((tab) => { assert.equal(tab.userID, X); slots[i] = tab; }));
      } else if (!want.includes(i) && slots[i]) {
        const tab = slots[i];
        slots[i] = null;
        ops.push(jitter().then(() => tab.close()));
      }
    }
    await Promise.all(ops);
    const online = want.length > 0;
    const what = `round ${r} (tabs ${JSON.stringify(had)} -> ${JSON.stringify(want)})`;
    await until(() => view() === online, `${what}: X ${online ? 'online' : 'offline'} for the watcher`, 3000);
    await sleep(150);
    assert.equal(view(), online, `${what}: the watcher's view`);
    const users = await usersOf(srv.url, probe.sessionID);
    assert.equal(entry(users, X).connected, online, `${what}: the stored flag`);
    const n = downs() - downs0;
    if (kept.length > 0) assert.equal(n, 0, `${what}: no "user disconnected" while tab ${kept} stays`);
    else if (had.length === 0) assert.equal(n, 0, `${what}: no "user disconnected" when coming online`);
    else if (!online) assert.equal(n, 1, `${what}: exactly one "user disconnected" when the last tabs leave`);
    else assert.ok(n <= 1, `${what}: at most one "user disconnected" in a handoff, got ${n}`);
    if (had.length > 0 && !online) offTransitions++;
  }
  for (const s of slots) s?.close();
  if (slots.some(Boolean)) offTransitions++;
  await until(() => view() === false, 'X offline after the last tab left', 3000);
  await sleep(150);
  assert.equal(entry(await usersOf(srv.url, probe.sessionID), X).connected, false);
  // One "user connected" per tab opened.
  assert.equal(obs.about('user connected', X).length, opens, '"user connected" per tab opened');
  t.diagnostic(`${opens} tabs opened, offline ${offTransitions} times, ${downs()} "user disconnected"`);
});
