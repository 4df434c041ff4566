// Chaos: the private-messaging chat (APP.md 1) under process faults.
// Many users (some with two tabs), each sending private messages to
// random others, with the real socket.io-client forced to polling and
// reconnecting by itself as the web page's client does, while sio-fcgi
// processes are SIGKILLed at random moments and restarted:
//   (a) lighttpd spawning several processes (contrib/lighttpd-spawn.conf;
//       lighttpd starts a dead backend again), connection state recovery
//       on;
//   (b) one daemon behind lighttpd (contrib/lighttpd-daemon.conf), killed
//       whole and started again by contrib/serve --restart; recovery off,
//       so every tab comes back by its sessionID.
//
// What "lost" and "duplicated" mean here.  The chat has no idempotency
// key: `private message` is {content, to}, and the server stores and
// broadcasts it in the transaction that handles the POST, then queues the
// ack.  A POST cut by a SIGKILL leaves the client without an answer,
// whether or not its transaction committed, and a retry by the client
// would store a second copy if the first did commit.  Exactly-once for
// retried messages is therefore impossible with this wire protocol, and
// the clients here never send a message again (a second try in the final
// round is a new message, checked like any other).  What the server does
// guarantee, and what this test checks:
//   * an acked message is stored exactly once, and every tab that must
//     see it (the recipient's tabs, the sender's other tabs, and the
//     sending tab itself, as the guide's client appends its own message)
//     ends up showing it exactly once;
//   * a message whose ack never came ("unconfirmed") is stored at most
//     once, and atomically: if it is not stored, no tab ever got it live;
//   * no tab shows any message twice, and no socket gets one event twice
//     (a recovered socket must get only what it missed);
//   * the live events of each tab's last socket (one socket across its
//     recoveries) are exactly the stored messages of its user that were
//     not in its first "users" and not sent by itself: a snapshot on a
//     later connection must not hide a lost event.
// A tab's view is the guide's client model: "users" replaces the
// conversations (the history, on every connection), "private message"
// appends, and the sending tab appends its own message when acked.
//
// The schedule (who sends what to whom, the pauses, when and what to
// kill) comes from a seeded generator: the seed is printed, and SEED=N
// replays it (the timing of the machine still varies).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startServer, processGone } from './lib/server.mjs';
import { usersOf, backendPids, until, sleep, now } from './lib/chat.mjs';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) >>> 0 : Math.floor(Math.random() * 2 ** 32);
const USERS = 14;		// users, of which
const TWO_TABS = 5;		// this many have a second tab
const CHAOS_MS = 20000;		// traffic under faults
const GAP = [40, 400];		// pause of a user between two messages (ms)
const ACK_MS = 15000;		// no ack after this: unconfirmed (a hang, in fact)
// Every case's server: a short heartbeat (a dead session is swept in
// about 2.5 s), with a pong deadline that a loaded 2-core machine meets
// (with 500 ms, clients time out now and then even without a fault), and
// a history long enough to keep every message.
const PING_INTERVAL = 1000;
const PING_TIMEOUT = 1500;
const ARGS = ['--app', 'chat', '--ping-interval', String(PING_INTERVAL), '--ping-timeout', String(PING_TIMEOUT),
  '--chat-history', '10000'];

// mulberry32: a small seeded generator.
function generator(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
  };
}

// Every socket still open; closed after each case and at exit.
const sockets = new Set();
after(() => { for (const s of sockets) s.disconnect(); });

// One tab: a socket.io-client socket with reconnection on (the default of
// the web page), which keeps the guide client's model of the chat.
class ChaosTab {
  constructor(user, url, auth, no) {
    this.user = user;
    this.name = `${user.name}/${no}`;
    this.view = new Map();	// userID -> contents, in the order shown
    this.presence = new Map();	// userID -> online?
    this.live = new Map();	// socket id -> Set of contents got live
    this.firstSnap = new Map();	// socket id -> Set of contents in its first "users"
    this.sentBy = new Map();	// socket id -> Set of contents it sent
    this.liveCount = 0;
    this.dupLive = [];		// "content to socket" got twice
    this.refusals = [];		// connect_error from the server itself
    this.wrongSession = [];	// "session" events for another user
    this.connects = 0;
    this.recoveries = 0;
    this.disconnects = 0;
    this.snapshots = 0;
    const s = io(url, {
      transports: ['polling'], forceNew: true, auth,
      reconnectionDelay: 500, reconnectionDelayMax: 2000, timeout: 5000,
    });
    this.s = s;
    sockets.add(s);
    s.on('connect', () => {
      note('connect');
      this.connects++;
      if (s.recovered) this.recoveries++;
    });
    this.trail = [];		// the last connection events, for a failure
    const note = (x) => { this.trail.push(`${(now() % 100000).toFixed(0)} ${x}`); if (this.trail.length > 6) this.trail.shift(); };
    this.reasons = {};		// disconnect reason -> count
    s.on('disconnect', (reason) => {
      this.disconnects++;
      this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
      note(`disconnect ${reason}`);
    });
    s.io.on('reconnect_attempt', (n) => note(`attempt ${n}`));
    s.on('connect_error', (err) => {
      note(`connect_error ${err?.message} ${err?.description?.message ?? err?.description ?? ''}`);
      // Transport errors (a dead process, a 503 while a daemon restarts)
      // are retried by the client; an error from the server's middleware
      // is not, and means the session was refused.
      if (err?.type !== 'TransportError' && err?.message !== 'timeout') this.refusals.push(err?.message);
    });
    s.on('session', ({ sessionID, userID }) => {
      s.auth = { sessionID };
      if (this.user.sessionID === undefined) {
        this.user.sessionID = sessionID;
        this.user.userID = userID;
      } else if (sessionID !== this.user.sessionID || userID !== this.user.userID) {
        this.wrongSession.push({ sessionID, userID });
      }
    });
    s.on('users', (users) => {
      this.snapshots++;
      // A recovered socket keeps its id and gets "users" again: the
      // first one is what it had before its live events.
      if (!this.firstSnap.has(s.id)) {
        this.firstSnap.set(s.id, new Set(users.flatMap((u) => u.messages.map((m) => m.content))));
      }
      for (const u of users) {
        this.view.set(u.userID, u.messages.map((m) => m.content));
        this.presence.set(u.userID, u.connected);
      }
    });
    s.on('private message', (m) => {
      const other = m.from === this.user.userID ? m.to : m.from;
      if (!this.view.has(other)) this.view.set(other, []);
      this.view.get(other).push(m.content);
      this.liveCount++;
      this.user.world.liveSeen.set(m.content, m);
      const id = s.id ?? '?';
      if (!this.live.has(id)) this.live.set(id, new Set());
      const got = this.live.get(id);
      if (got.has(m.content)) this.dupLive.push(`${m.content} to ${this.name} (socket ${id})`);
      got.add(m.content);
    });
    s.on('user connected', (u) => { this.presence.set(u.userID, true); });
    s.on('user disconnected', (userID) => { this.presence.set(userID, false); });
  }

  get connected() { return this.s.connected; }

  // Send a private message: -> 'acked', 'refused' or 'unconfirmed' (no
  // ack: the connection was lost, or no answer within ACK_MS).  The ack
  // callback runs synchronously with the ack packet, so the sending tab's
  // own copy goes into its view before any later event.
  send(to, content) {
    if (!this.sentBy.has(this.s.id)) this.sentBy.set(this.s.id, new Set());
    this.sentBy.get(this.s.id).add(content);
    return new Promise((resolve) => {
      this.s.timeout(ACK_MS).emit('private message', { content, to }, (err, res) => {
        if (err) resolve({ outcome: 'unconfirmed', why: err.message });
        else if (res !== undefined) resolve({ outcome: 'refused', why: JSON.stringify(res) });
        else {
          if (!this.view.has(to)) this.view.set(to, []);
          this.view.get(to).push(content);
          resolve({ outcome: 'acked' });
        }
      });
    });
  }

  close() {
    this.s.disconnect();
    sockets.delete(this.s);
  }
}

class ChaosUser {
  constructor(world, i) {
    this.world = world;
    this.name = `chaos${i}`;
    this.tabs = [];
    this.n = 0;
  }

  async open(url, no) {
    const auth = no === 0 ? { username: this.name } : { sessionID: this.sessionID };
    const tab = new ChaosTab(this, url, auth, no);
    this.tabs.push(tab);
    await until(() => tab.connected && tab.snapshots > 0, `${tab.name} connected`, 10000);
    return tab;
  }

  // Send to random others until `end`, one message at a time (the next
  // after the ack or its failure), from a random connected tab.
  async run(rand, end) {
    const w = this.world;
    while (now() < end) {
      const tabs = this.tabs.filter((t) => t.connected);
      if (tabs.length === 0) {
        await sleep(50);
        continue;
      }
      const tab = rand.pick(tabs);
      const to = rand.pick(w.users.filter((u) => u !== this));
      await this.sendOne(tab, to);
      await sleep(rand.int(GAP[0], GAP[1]));
    }
  }

  async sendOne(tab, to) {
    const content = `${this.name}:${this.n++}`;
    const rec = { content, from: this, to, tab: tab.name, outcome: null };
    this.world.sent.push(rec);
    this.world.byContent.set(content, rec);
    Object.assign(rec, await tab.send(to.userID, content));
    return rec;
  }
}

// The processes died of our SIGKILLs only: no other signal, no exit, no
// fatal error or failed assertion in the log.
function checkCrashes(srv, stats) {
  const log = srv.logText();
  const bad = log.split('\n').filter((l) => /fatal|assert|sanitizer|runtime error|panic/i.test(l));
  assert.deepEqual(bad, [], 'no fatal error in the sio-fcgi log');
  if (srv.mode === 'spawn') {
    let lerr = '';
    try { lerr = fs.readFileSync(path.join(srv.dir, 'lighttpd-error.log'), 'utf8'); } catch { /* none */ }
    const deaths = lerr.split('\n').filter((l) => /child (signalled|exited)/.test(l));
    const other = deaths.filter((l) => !/child signalled: 9$/.test(l));
    assert.deepEqual(other, [], 'no sio-fcgi process died but by our SIGKILLs');
    assert.equal(deaths.length, stats.kills, 'lighttpd saw each kill');
  } else {
    const restarts = (srv.output().match(/exited; starting it again/g) ?? []).length;
    assert.equal(restarts, stats.kills, 'contrib/serve restarted the daemon once per kill, never else');
    assert.equal(stats.restarts, stats.kills, 'a new daemon after each kill');
  }
}

// Sorted copy, to compare contents as multisets.
const sorted = (a) => [...a].sort();
const dupsOf = (a) => a.filter((c, i) => a.indexOf(c) !== i);

async function chaos(t, { name, caseNo, serverOpts, kill }) {
  const seed = (SEED + caseNo * 7919) >>> 0;
  const rand = generator(seed);
  t.diagnostic(`${name}: seed ${SEED} (replay with SEED=${SEED})`);
  const srv = await startServer({ ...serverOpts, timeout: 20000 });
  const world = { users: [], sent: [], byContent: new Map(), liveSeen: new Map() };
  let killer;
  try {
    // The users, then the second tabs.
    for (let i = 0; i < USERS; i++) world.users.push(new ChaosUser(world, i));
    await Promise.all(world.users.map((u) => u.open(srv.url, 0)));
    await Promise.all(world.users.slice(0, TWO_TABS).map((u) => u.open(srv.url, 1)));
    const tabs = world.users.flatMap((u) => u.tabs);

    // Traffic, and the killer on its own schedule.
    const end = now() + CHAOS_MS;
    const stats = { kills: 0, restarts: 0 };
    let stop = false;
    killer = (async () => {
      const krand = generator(seed ^ 0x5bd1e995);
      while (!stop && now() < end) {
        await kill(srv, krand, stats, () => stop || now() >= end);
      }
    })();
    await Promise.all(world.users.map((u) => u.run(generator(rand.int(0, 2 ** 31)), end)));
    stop = true;
    await killer;
    killer = null;
    const tKill = now();

    // Settle: every tab connected again, as the same user, and still
    // connected a moment later (a request cut by the last kill has been
    // noticed by then).
    const notConnected = () => tabs.filter((tb) => !tb.connected)
      .map((tb) => `${tb.name} (${tb.trail.join('; ')})`).join(', ') +
      `; contrib/serve ${srv.child.exitCode === null && srv.child.signalCode === null ? 'running'
        : `exited (${srv.child.exitCode ?? srv.child.signalCode}): ${srv.output().slice(-2000)}`}`;
    await sleep(500);
    await until(() => tabs.every((tb) => tb.connected), 'every tab connected again', 20000)
      .catch((err) => { throw new Error(`${err.message}: ${notConnected()}`); });
    await sleep(500);
    await until(() => tabs.every((tb) => tb.connected), 'every tab connected again', 10000)
      .catch((err) => { throw new Error(`${err.message}: ${notConnected()}`); });
    for (const tb of tabs) {
      assert.deepEqual(tb.refusals, [], `${tb.name}: no CONNECT refused`);
      assert.deepEqual(tb.wrongSession, [], `${tb.name}: always the same sessionID and userID`);
      assert.equal(tb.s.auth.sessionID, tb.user.sessionID, `${tb.name}: reconnects by its sessionID`);
    }
    // A final round, with no fault: every user's message goes through.
    // A loaded machine may still cut a connection (a late ping): then the
    // user sends again, a new message, as a person would; the one not
    // acked is checked like every unconfirmed one.
    const final = await Promise.all(world.users.map(async (u, i) => {
      const to = world.users[(i + 1) % USERS];
      const tries = [];
      for (let k = 0; k < 3; k++) {
        await until(() => u.tabs.some((tb) => tb.connected), `${u.name} connected`, 10000);
        const r = await u.sendOne(rand.pick(u.tabs.filter((tb) => tb.connected)), to);
        tries.push(`${r.content}: ${r.outcome} ${r.why ?? ''}`);
        if (r.outcome !== 'unconfirmed') break;
      }
      return tries;
    }));
    const retried = final.filter((tries) => tries.length > 1).length;
    assert.deepEqual(final.filter((tries) => !/: acked $/.test(tries.at(-1))), [], 'the final round is acked');

    // The sessions of killed requests time out (pingInterval +
    // pingTimeout) and the sweep closes them: wait for that.
    const swept = tKill + PING_INTERVAL + PING_TIMEOUT + 1500;
    if (now() < swept) await sleep(swept - now());

    // The history, as a fresh connection by sessionID gets it.
    const stored = new Map();	// "a b" (a, b userIDs) -> contents
    const storedMsgs = new Map();	// content -> {from, to}, and counts
    const storedCount = new Map();
    for (const u of world.users) {
      const users = await usersOf(srv.url, u.sessionID);
      for (const e of users) {
        if (e.userID === u.userID) continue;
        stored.set(`${u.userID} ${e.userID}`, e.messages.map((m) => m.content));
        for (const m of e.messages) {
          if (u.userID < e.userID) {
            storedCount.set(m.content, (storedCount.get(m.content) ?? 0) + 1);
            storedMsgs.set(m.content, m);
          }
        }
      }
    }

    // Each tab's view converges on the history (messages in flight at
    // the end arrive): wait, then compare.
    const viewDiff = () => {
      const diffs = [];
      for (const tb of tabs) {
        for (const o of world.users) {
          if (o === tb.user) continue;
          const want = stored.get(`${tb.user.userID} ${o.userID}`) ?? [];
          const got = tb.view.get(o.userID) ?? [];
          const a = sorted(got);
          const b = sorted(want);
          if (a.length !== b.length || a.some((c, i) => c !== b[i])) {
            diffs.push({ tab: tb.name, with: o.name,
              missing: want.filter((c) => !got.includes(c)),
              extra: got.filter((c) => !want.includes(c)),
              dups: dupsOf(got) });
          }
        }
      }
      return diffs;
    };
    // The live stream of each tab's current socket (since it first
    // connected, across recoveries): every stored message of its user
    // that was not in its first "users" and that it did not send itself,
    // each once.
    const liveDiff = () => {
      const diffs = [];
      for (const tb of tabs) {
        const id = tb.s.id;
        const mine = new Set(world.users.filter((o) => o !== tb.user)
          .flatMap((o) => stored.get(`${tb.user.userID} ${o.userID}`) ?? []));
        const first = tb.firstSnap.get(id) ?? new Set();
        const sent = tb.sentBy.get(id) ?? new Set();
        const want = [...mine].filter((c) => !first.has(c) && !sent.has(c));
        const got = tb.live.get(id) ?? new Set();
        const missing = want.filter((c) => !got.has(c));
        const extra = [...got].filter((c) => !mine.has(c) || first.has(c) || sent.has(c));
        if (missing.length || extra.length) diffs.push({ tab: tb.name, socket: id, missing, extra });
      }
      return diffs;
    };
    try {
      await until(() => viewDiff().length === 0 && liveDiff().length === 0,
        'every tab\'s view and live events to match the history', 5000);
    } catch { /* reported below */ }
    const diffs = viewDiff();
    const liveDiffs = liveDiff();

    // The counts.
    const acked = world.sent.filter((r) => r.outcome === 'acked');
    const unconfirmed = world.sent.filter((r) => r.outcome === 'unconfirmed');
    const refused = world.sent.filter((r) => r.outcome === 'refused');
    const lostStored = acked.filter((r) => !storedCount.has(r.content));
    const lostInTabs = diffs.flatMap((d) => d.missing.filter((c) => world.byContent.get(c)?.outcome === 'acked'));
    const lostLive = liveDiffs.flatMap((d) => d.missing);
    const dupStored = [...storedCount].filter(([, n]) => n > 1).map(([c]) => c);
    const dupInTabs = diffs.flatMap((d) => d.dups);
    const dupLive = tabs.flatMap((tb) => tb.dupLive);
    const lost = lostStored.length + lostInTabs.length + lostLive.length;
    const duplicated = dupStored.length + dupInTabs.length + dupLive.length +
      liveDiffs.reduce((n, d) => n + d.extra.length, 0);
    const committedUnconfirmed = unconfirmed.filter((r) => storedCount.has(r.content)).length;
    const liveDeliveries = tabs.reduce((n, tb) => n + tb.liveCount, 0);
    // (acked message, tab that must show it): the recipient's tabs and
    // every tab of the sender.
    const mustShow = acked.reduce((n, r) => n + r.from.tabs.length + r.to.tabs.length, 0);
    const shown = mustShow - lostInTabs.length;
    const recoveries = tabs.reduce((n, tb) => n + tb.recoveries, 0);
    const reconnects = tabs.reduce((n, tb) => n + tb.connects - 1, 0);
    const reasons = {};
    for (const tb of tabs) for (const [r, n] of Object.entries(tb.reasons)) reasons[r] = (reasons[r] ?? 0) + n;
    const summary = `${name}: seed ${SEED}, ${stats.kills} SIGKILLs` +
      (stats.restarts ? ` (${stats.restarts} daemon restarts)` : '') +
      `, ${USERS} users in ${tabs.length} tabs, ${world.sent.length} messages sent, ${acked.length} acked, ` +
      `${unconfirmed.length} unconfirmed (${committedUnconfirmed} of them stored), ` +
      `delivered ${shown} of ${mustShow} (acked message, tab) (${liveDeliveries} live events), ` +
      `lost ${lost}, duplicated ${duplicated}, ` +
      `${reconnects} reconnects (${recoveries} recovered, ${reconnects - recoveries} by sessionID; ` +
      `disconnect events: ${Object.entries(reasons).map(([r, n]) => `${n} ${r}`).join(', ')})` +
      (retried ? `; ${retried} final messages sent twice` : '');
    t.diagnostic(summary);
    console.log(`# chaos summary: ${summary}`);

    assert.ok(stats.kills >= 5, `processes were killed: ${stats.kills}`);
    assert.ok(reconnects >= 1, 'the faults made clients reconnect');
    assert.deepEqual(refused.map((r) => `${r.content}: ${r.why}`), [], 'no valid message refused');
    // Real traffic went through (a daemon restart stops everyone for
    // a moment: fewer there).
    assert.ok(acked.length >= 50 && acked.length >= world.sent.length / 4,
      `messages acked: ${acked.length} of ${world.sent.length}`);
    assert.equal(srv.child.exitCode, null, 'contrib/serve and lighttpd still running');
    checkCrashes(srv, stats);
    assert.deepEqual(lostStored.map((r) => r.content), [], 'every acked message is stored');
    assert.deepEqual(dupStored, [], 'no message stored twice');
    assert.deepEqual(dupLive, [], 'no socket got a message twice');
    assert.deepEqual(diffs, [], 'every tab shows its conversations as stored, each message once');
    assert.deepEqual(liveDiffs, [], 'each socket got live every message it had to, and nothing else');
    for (const a of world.users) {
      for (const b of world.users) {
        if (a !== b) assert.deepEqual(stored.get(`${a.userID} ${b.userID}`), stored.get(`${b.userID} ${a.userID}`),
          `${a.name} and ${b.name} see the same conversation`);
      }
    }
    // Stored messages are ours, with the right sender and recipient, and
    // an acked sender's messages keep their order.
    for (const [c, m] of storedMsgs) {
      const rec = world.byContent.get(c);
      assert.ok(rec, `stored message ${c} was sent`);
      assert.deepEqual(m, { content: c, from: rec.from.userID, to: rec.to.userID }, `${c}: from and to`);
    }
    for (const [key, contents] of stored) {
      for (const u of world.users) {
        const seq = contents.filter((c) => world.byContent.get(c)?.from === u &&
          world.byContent.get(c)?.outcome === 'acked').map((c) => Number(c.split(':')[1]));
        assert.deepEqual(seq, [...seq].sort((x, y) => x - y), `${u.name}'s acked messages in order in ${key}`);
      }
    }
    // Atomic: what a tab got live was stored (an unconfirmed message is
    // either stored and delivered, or neither).
    const phantoms = [...world.liveSeen.keys()].filter((c) => !storedCount.has(c));
    assert.deepEqual(phantoms, [], 'no message delivered live without being stored');

    // Presence once the sweep has run: everyone is online for every tab.
    const presenceWrong = () => tabs.flatMap((tb) => world.users
      .filter((o) => o !== tb.user && tb.presence.get(o.userID) !== true)
      .map((o) => `${tb.name} sees ${o.name} offline`));
    try {
      await until(() => presenceWrong().length === 0, 'everyone shown online', 5000);
    } catch { /* reported below */ }
    assert.deepEqual(presenceWrong(), [], 'no user with a connected tab is shown offline');
    for (const e of await usersOf(srv.url, world.users[0].sessionID)) {
      assert.equal(e.connected, true, `${e.username} stored as connected`);
    }

    // Two users close every tab: the others see them go offline, and
    // nobody else.
    const leaving = world.users.slice(USERS - 2);
    const staying = world.users.slice(0, USERS - 2);
    for (const u of leaving) for (const tb of u.tabs) tb.close();
    const rest = staying.flatMap((u) => u.tabs);
    await until(() => rest.every((tb) => leaving.every((u) => tb.presence.get(u.userID) === false)),
      'the users who left shown offline in every tab', PING_INTERVAL + PING_TIMEOUT + 3000);
    await sleep(300);
    for (const tb of rest) {
      for (const o of staying) {
        if (o !== tb.user) assert.equal(tb.presence.get(o.userID), true, `${tb.name}: ${o.name} still online`);
      }
      assert.ok(tb.connected, `${tb.name} still connected`);
    }
    for (const e of await usersOf(srv.url, staying[0].sessionID)) {
      const left = leaving.some((u) => u.userID === e.userID);
      assert.equal(e.connected, !left, `${e.username} stored as ${left ? 'offline' : 'online'}`);
    }
    if (srv.mode === 'spawn') {
      await until(() => backendPids(srv).length === serverOpts.procs, 'lighttpd running every backend', 10000);
    }
  } finally {
    if (killer) {
      await killer.catch(() => {});
    }
    for (const u of world.users) for (const tb of u.tabs) tb.close();
    await srv.stop();
  }
}

// (a) lighttpd spawns the processes and starts a dead one again.  Kill one
// every 0.3 to 2 s, but keep at least two running.
test('chaos: SIGKILLs of sio-fcgi processes spawned by lighttpd lose and duplicate no message', async (t) => {
  await chaos(t, {
    name: 'spawn',
    caseNo: 0,
    serverOpts: { mode: 'spawn', procs: 3, args: [...ARGS, '--recovery', '30000'] },
    async kill(srv, rand, stats, done) {
      await sleep(rand.int(300, 2000));
      if (done()) return;
      const pids = backendPids(srv).filter((p) => !processGone(p));
      if (pids.length < 2) return;
      const victim = rand.pick(pids);
      try { process.kill(victim, 'SIGKILL'); stats.kills++; } catch { /* gone already */ }
    },
  });
});

// (b) The daemon: killed whole, contrib/serve --restart starts it again.
test('chaos: SIGKILLs of the sio-fcgi daemon, restarted each time, lose and duplicate no message', async (t) => {
  await chaos(t, {
    name: 'daemon',
    caseNo: 1,
    serverOpts: { mode: 'daemon', restart: true, args: ARGS },
    async kill(srv, rand, stats, done) {
      await sleep(rand.int(700, 2500));
      if (done()) return;
      const pid = srv.pids()['sio-fcgi'];
      if (!pid || processGone(pid)) return;
      try { process.kill(pid, 'SIGKILL'); stats.kills++; } catch { return; }
      await until(() => {
        const p = srv.pids()['sio-fcgi'];
        return p && p !== pid && !processGone(p);
      }, `contrib/serve restarting the daemon (${pid} killed)`, 10000);
      stats.restarts++;
    },
  });
});
