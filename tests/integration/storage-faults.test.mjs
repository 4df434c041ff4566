// Storage faults (docs/deploy.md, "Storage faults"): a full LMDB map, a
// full disk, a read-only or missing database directory, a data.mdb that
// is not LMDB, a stale or damaged lock file, processes killed with
// SIGKILL, reader slots left by killed processes and a failed meta-page
// write (MDB_PANIC).  Each gives a clear error at
// start or a clear error answer and a log line, never a crash or a damaged
// environment; nothing committed is lost and service resumes once the
// cause is gone.
//
// A full disk and a file system that turns read-only are injected with an
// LD_PRELOAD shim (c/fault_shim.c): while a control file exists, the
// writes and syncs of sio-fcgi on data.mdb fail with ENOSPC or EROFS.
// We chose it over filling a small tmpfs because it needs no privilege
// (mounting needs CAP_SYS_ADMIN, which CI containers may lack, and a
// test that dies would leave the mount behind), it starts and stops the
// fault at an exact moment, and it can fail fsync alone, which a tmpfs
// never does.  Permissions are real: as root (CI) the server is run as
// nobody through setpriv, since root ignores them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, BIN, freePort, processGone } from './lib/server.mjs';
import { Session, decode, sleep } from './lib/eio.mjs';
import { fcgiRequest } from './lib/fcgi.mjs';
import { buildHelpers, dumpDb, readerPids, unprivileged, holdReader, waitExit } from './lib/faults.mjs';

let srv;
before(async () => {
  // A 1 MiB map holds about three 300 kB messages (above the default
  // maxPayload, hence --max-payload).
  srv = await startServer({ args: ['--app', 'echo', '--map-size', '1', '--ping-interval', '60000',
    '--max-payload', '1000000'] });
});
after(async () => {
  await srv?.stop();
  buildHelpers().rm();
});

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

// A server whose writes on data.mdb fail while the returned control file
// exists (c/fault_shim.c).
async function startFaultyServer() {
  const { shim, dir } = buildHelpers();
  const ctl = path.join(dir, `fault-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const s = await startServer({
    args: ['--app', 'echo', '--ping-interval', '60000'],
    env: { LD_PRELOAD: shim, FAULT_SHIM_CONTROL: ctl },
  });
  return { srv: s, ctl };
}

// Three sessions post numbered messages as fast as they can, and a fourth
// holds a GET, while the fault named by `fault` (the control file's
// contents) lasts 400 ms.  During it, a GET, a handshake and a POST must
// get `status` `text`.  Afterwards every message that got 200 must be
// queued, in order, and no other; the held GET and new traffic must work.
// Returns the number of failed requests.
async function faultWindow(s, ctl, fault, status, text) {
  const sessions = await Promise.all([0, 1, 2].map(() => Session.open(s.url)));
  const held = await Session.open(s.url);
  const heldGet = held.get({ timeout: 20000 }).catch((err) => ({ status: 0, text: String(err) }));
  await sleep(100);
  const acked = sessions.map(() => []);
  const failed = [];
  const okAfter = sessions.map(() => 0);
  let stop = false, over = false;
  // Sessions go on posting through the fault, as a client that retries
  // would: a failed POST must not end its session.
  const loops = sessions.map(async (sess, k) => {
    for (let i = 0; !stop; i++) {
      const msg = `4s${k}m${i}`;
      const r = await sess.post(msg);
      if (r.status === 200) {
        acked[k].push(msg);
        if (over) okAfter[k]++;
      } else {
        failed.push(`${r.status} ${r.text}`);
        await sleep(10);
      }
    }
  });
  // Every session has a message through before the fault (on a loaded
  // machine that may take longer than the 150 ms usually enough).
  await sleep(150);
  assert.ok(await until(() => acked.every((a) => a.length > 0)), 'traffic before the fault');
  fs.writeFileSync(ctl, `${fault}\n`);
  await sleep(50);
  const during = [
    await sessions[0].get(),
    await Session.open(s.url).then(() => ({ status: 200, text: 'a handshake went through' }),
      (err) => ({ status: Number(/failed: (\d+)/.exec(err.message)?.[1]), text: err.message.replace(/^handshake failed: \d+ /, '') })),
    await held.post('4lost'),
  ];
  await sleep(300);
  assert.ok(await until(() => failed.length > 0), 'traffic hit the fault');
  fs.rmSync(ctl);
  await sleep(150);
  over = true;
  await until(() => okAfter.every((n) => n > 0));
  stop = true;
  await Promise.all(loops);

  for (const r of during) assert.deepEqual([r.status, r.text], [status, text], 'an answer during the fault');
  assert.ok(failed.length > 0, 'some POSTs of the traffic failed');
  for (const f of failed) assert.equal(f, `${status} ${text}`);
  assert.ok(okAfter.every((n) => n > 0), `every session got POSTs through after the fault (${okAfter})`);
  for (let k = 0; k < sessions.length; k++) {
    assert.ok(acked[k].length > 0, `session ${k} got POSTs through`);
    const r = await sessions[k].get();
    assert.equal(r.status, 200, `session ${k} after the fault: ${r.status} ${r.text}`);
    assert.deepEqual(decode(r.text), acked[k], `session ${k}: exactly what was acknowledged, in order`);
  }
  const p = await held.post('4back');
  assert.equal(p.status, 200, `POST after the fault: ${p.status} ${p.text}`);
  const h = await heldGet;
  assert.equal(h.status, 200);
  assert.deepEqual(decode(h.text), ['4back'], 'the GET held across the fault');
  const fresh = await Session.open(s.url);
  const q = await fresh.post('4again');
  assert.equal(q.status, 200);
  assert.deepEqual(decode((await fresh.get()).text), ['4again']);
  for (const sess of sessions) {
    const p2 = await sess.post('4later');
    assert.equal(p2.status, 200, `a session of the traffic after the fault: ${p2.status} ${p2.text}`);
  }
  return failed.length + during.length;
}

// Wait until cond() holds (polling every 20 ms), at most ms.
async function until(cond, ms = 10000) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await sleep(20);
  return cond();
}

// The log lines that report failed storage operations.
const storeLines = (log, re) => log.split('\n').filter((l) => re.test(l));

test('a data.mdb that is not LMDB stops the server at start with a clear message and is left alone', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-db-'));
  const db = path.join(dir, 'db');
  fs.mkdirSync(db, { mode: 0o700 });
  const junk = Buffer.alloc(16384, 0x5a);
  fs.writeFileSync(path.join(db, 'data.mdb'), junk);
  try {
    const r = spawnSync(BIN, ['--stats', '--db', db], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, `exit status ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /store: cannot open .*: MDB_INVALID: File is not an LMDB file \(data\.mdb is not an LMDB environment of this version\)/);
    assert.deepEqual(fs.readFileSync(path.join(db, 'data.mdb')), junk, 'not overwritten');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk while serving: 507, a log line naming the cause, nothing committed lost, sessions kept, service resumes', async () => {
  const { srv: s, ctl } = await startFaultyServer();
  try {
    const pid = s.pids()['sio-fcgi'];
    // Writes of pages fail, as on a disk with no free block.
    const n1 = await faultWindow(s, ctl, 'ENOSPC', 507, 'storage full\n');
    // Only fsync fails: a file system that allocates blocks late reports
    // the full disk there.  The commit must still fail, not half-happen.
    const n2 = await faultWindow(s, ctl, 'ENOSPC sync', 507, 'storage full\n');
    const log = s.logText();
    assert.match(log, /fault_shim: (pwrite|writev) on data\.mdb/, 'the shim failed page writes');
    assert.match(log, /fault_shim: fdatasync on data\.mdb/, 'the shim failed syncs');
    const lines = storeLines(log, /error: store: \w+: No space left on device$/);
    // One per failed request, and one per failed commit of the sweep's
    // lease or of taking a failed POST's mark away.
    assert.ok(lines.length >= n1 + n2, `a log line per failed request (${lines.length} < ${n1 + n2})`);
    assert.doesNotMatch(log, /MDB_PANIC|fatal|assert/i);
    assert.equal(s.pids()['sio-fcgi'], pid);
    assert.ok(!processGone(pid), 'the daemon is still running');
    const dump = dumpDb(s.db);
    assert.match(dump, /database=sessions/);
  } finally {
    await s.stop();
  }
});

test('a file system that turns read-only while serving: 503, a log line, service resumes when writable', async () => {
  const { srv: s, ctl } = await startFaultyServer();
  try {
    const n = await faultWindow(s, ctl, 'EROFS', 503, 'storage unavailable\n');
    const lines = storeLines(s.logText(), /error: store: \w+: Read-only file system$/);
    assert.ok(lines.length >= n, `a log line per failed request (${lines.length} < ${n})`);
    assert.doesNotMatch(s.logText(), /MDB_PANIC|fatal|assert/i);
    dumpDb(s.db);
  } finally {
    await s.stop();
  }
});

test('a POST whose packets cannot be stored as the disk fills keeps its session: the next POST is not an overlap', async () => {
  const { srv: s, ctl } = await startFaultyServer();
  try {
    const sess = await Session.open(s.url);
    // Straight to the daemon, so that the body can wait: the first
    // transaction (marking the POST in flight) commits while the disk has
    // room, the second (the packets) and the removal of the mark fail.
    const r = await fcgiRequest(path.join(s.dir, 'sio-fcgi.sock'), {
      method: 'POST',
      url: `/engine.io/?EIO=4&transport=polling&sid=${sess.sid}`,
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: '4straddle',
      beforeBody: async () => { await sleep(300); fs.writeFileSync(ctl, 'ENOSPC\n'); },
    });
    assert.deepEqual([r.status, r.text], [507, 'storage full\n']);
    fs.rmSync(ctl);
    const failures = storeLines(s.logText(), /error: store: \w+: No space left on device$/);
    assert.ok(failures.length >= 2, `the packets and the mark's removal both failed:\n${s.logText()}`);
    const p = await sess.post('4next');
    assert.equal(p.status, 200, `the next POST: ${p.status} ${p.text}`);
    assert.deepEqual(decode((await sess.get()).text), ['4next']);
  } finally {
    fs.rmSync(ctl, { force: true });
    await s.stop();
  }
});

test('reader slots left by killed processes are cleared and logged; the server keeps answering', async () => {
  const { staleReader } = buildHelpers();
  const MAX = 8;
  const s = await startServer({ args: ['--app', 'echo', '--ping-interval', '60000', '--ping-timeout', '2000', '--max-readers', String(MAX)] });
  const holders = [];
  try {
    const sess = await Session.open(s.url);
    // Fill the reader table with processes that each hold a read
    // transaction; the one after the last free slot is refused.
    for (let i = 0; i <= MAX; i++) {
      const h = await holdReader(staleReader, s.db, MAX);
      if (!h.ready) {
        assert.match(h.err, /MDB_READERS_FULL/, 'refused for a full reader table');
        break;
      }
      holders.push(h.child);
    }
    assert.equal(holders.length, MAX, 'every slot was taken');
    // Requests use write transactions, which need no slot: they go on.
    assert.equal((await sess.post('4full')).status, 200);
    assert.deepEqual(decode((await sess.get()).text), ['4full']);
    // A read transaction gets a clear error while the holders live.
    const stats = spawnSync(BIN, ['--stats', '--db', s.db], { encoding: 'utf8', timeout: 10000 });
    assert.equal(stats.status, 1, stats.stdout);
    assert.match(stats.stderr, /store: txn_begin: MDB_READERS_FULL/);
    // Killed inside their transactions, they leave their slots behind.
    const pids = holders.map((c) => c.pid);
    for (const c of holders) c.kill('SIGKILL');
    await Promise.all(holders.map(waitExit));
    // The sweep (every 500 ms here) frees them and says so.
    let cleared = 0;
    for (let t = 0; t < 40 && cleared < MAX; t++) {
      await sleep(100);
      cleared = [...s.logText().matchAll(/store: cleared (\d+) stale reader slots? /g)]
        .reduce((n, m) => n + Number(m[1]), 0);
    }
    assert.equal(cleared, MAX, `log:\n${s.logText()}`);
    const left = readerPids(s.db).filter((p) => pids.includes(p));
    assert.deepEqual(left, [], 'no slot of a killed process is left');
    assert.match(s.stats(), /^sessions 1$/m);
    assert.equal((await sess.post('4after')).status, 200);
    assert.deepEqual(decode((await sess.get()).text), ['4after']);
  } finally {
    for (const c of holders) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await s.stop();
  }
});

// Run sio-fcgi with args as a user to whom permissions apply; returns
// spawnSync's result.  A daemon that cannot open its database exits at
// once, so the timeout only catches one that wrongly starts.
function runAs(user, args) {
  const argv = [...user.prefix, BIN, ...args];
  return spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10000 });
}

// A database with one session in it, in a fresh directory owned by user.
async function dbWithSession(user) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-db-'));
  const db = path.join(dir, 'db');
  const s = await startServer({ args: ['--app', 'echo', '--db', db] });
  try {
    await Session.open(s.url);
  } finally {
    await s.stop();
  }
  for (const p of [dir, db, path.join(db, 'data.mdb'), path.join(db, 'lock.mdb')])
    fs.chownSync(p, user.uid, user.gid);
  return { dir, db };
}

test('a read-only database: a clear error at start and exit status 1; once writable, it starts with its data', async () => {
  const user = unprivileged();
  const { dir, db } = await dbWithSession(user);
  const data = path.join(db, 'data.mdb');
  const lock = path.join(db, 'lock.mdb');
  const port = String(await freePort());
  try {
    const cases = [
      ['data.mdb read-only', () => fs.chmodSync(data, 0o400), () => fs.chmodSync(data, 0o600)],
      ['lock.mdb read-only', () => fs.chmodSync(lock, 0o400), () => fs.chmodSync(lock, 0o600)],
      // LMDB must create lock.mdb, and the directory does not let it.
      ['directory read-only, lock.mdb gone', () => { fs.rmSync(lock); fs.chmodSync(db, 0o500); },
        () => fs.chmodSync(db, 0o700)],
    ];
    for (const [what, breakIt, fixIt] of cases) {
      breakIt();
      // A daemon, as the web server would start it, and --stats.
      const d = runAs(user, ['--listen', `127.0.0.1:${port}`, '--db', db]);
      assert.equal(d.status, 1, `${what}: daemon exit status ${d.status} ${d.signal ?? ''}: ${d.stderr}`);
      assert.match(d.stderr, /error: store: cannot open .*: Permission denied \(the directory and its files must be writable by the user sio-fcgi runs as\)/, what);
      const r = runAs(user, ['--stats', '--db', db]);
      assert.equal(r.status, 1, `${what}: --stats: ${r.stderr}`);
      assert.match(r.stderr, /cannot open .*Permission denied/, what);
      fixIt();
      const ok = runAs(user, ['--stats', '--db', db]);
      assert.equal(ok.status, 0, `${what}, fixed: ${ok.stderr}`);
      assert.equal(ok.stdout, 'sessions 1\n', `${what}: the data is intact`);
    }
    // A read-only directory whose files are there and writable is fine:
    // LMDB creates nothing then.
    fs.chmodSync(db, 0o500);
    const r = runAs(user, ['--stats', '--db', db]);
    assert.equal(r.status, 0, r.stderr);
    fs.chmodSync(db, 0o700);
    dumpDb(db);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing database directory is created (0700, with its parents); one that cannot be created is a clear error', () => {
  const user = unprivileged();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-db-'));
  fs.chownSync(dir, user.uid, user.gid);
  try {
    const db = path.join(dir, 'a', 'b', 'db');
    const r = runAs(user, ['--stats', '--db', db]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'sessions 0\n');
    for (const p of [path.join(dir, 'a'), path.join(dir, 'a', 'b'), db])
      assert.equal(fs.statSync(p).mode & 0o777, 0o700, p);
    // A parent the user cannot write to.
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: 0o500 });
    fs.chownSync(locked, user.uid, user.gid);
    const bad = path.join(locked, 'db');
    const e = runAs(user, ['--stats', '--db', bad]);
    assert.equal(e.status, 1, e.stderr);
    assert.match(e.stderr, /error: store: cannot create .*locked\/db: Permission denied \(the directory and its files must be writable/);
    assert.ok(!fs.existsSync(bad));
    // Made writable, the same command works.
    fs.chmodSync(locked, 0o700);
    const ok = runAs(user, ['--stats', '--db', bad]);
    assert.equal(ok.status, 0, ok.stderr);
    // A parent that is a file.
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const f = runAs(user, ['--stats', '--db', path.join(dir, 'file', 'db')]);
    assert.equal(f.status, 1, f.stderr);
    assert.match(f.stderr, /error: store: cannot create .*file\/db: Not a directory/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a server killed with SIGKILL mid-traffic leaves a stale lock.mdb: the next start works and nothing committed is lost', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-db-'));
  const db = path.join(dir, 'db');
  const args = ['--app', 'echo', '--db', db, '--ping-interval', '60000'];
  let s = await startServer({ args });
  try {
    const sessions = await Promise.all([0, 1, 2].map(() => Session.open(s.url)));
    const acked = sessions.map(() => []);
    const tried = sessions.map(() => []);
    const loops = sessions.map(async (sess, k) => {
      for (let i = 0; ; i++) {
        const msg = `4s${k}m${i}`;
        tried[k].push(msg);
        let r;
        try {
          r = await sess.post(msg, { timeout: 3000 });
        } catch {
          return;
        }
        if (r.status !== 200) return;
        acked[k].push(msg);
      }
    });
    await sleep(300);
    assert.ok(await until(() => acked.every((a) => a.length > 0)), 'traffic before the kill');
    const pid = s.pids()['sio-fcgi'];
    process.kill(pid, 'SIGKILL');
    await Promise.all(loops);
    await s.stop();
    assert.ok(fs.statSync(path.join(db, 'lock.mdb')).size > 0, 'the killed server left lock.mdb');

    // Killed again, then with lock.mdb damaged: the first opener
    // rebuilds it, so neither stops the next start.
    const damage = [
      ['stale', () => {}],
      ['garbage', () => fs.writeFileSync(path.join(db, 'lock.mdb'), Buffer.alloc(8192, 0xa5))],
      ['empty', () => fs.writeFileSync(path.join(db, 'lock.mdb'), '')],
    ];
    for (const [what, damageIt] of damage) {
      damageIt();
      s = await startServer({ args });
      const st = spawnSync(BIN, ['--stats', '--db', db], { encoding: 'utf8', timeout: 10000 });
      assert.equal(st.stdout, 'sessions 3\n', `${what} lock.mdb: every session is there ${st.stderr}`);
      for (const sess of sessions) sess.base = s.url;	// the new server's port
      if (what === 'stale') {
        for (let k = 0; k < sessions.length; k++) {
          assert.ok(acked[k].length > 0, `session ${k} got POSTs through before the kill`);
          const r = await sessions[k].get();
          assert.equal(r.status, 200, `session ${k}: ${r.status} ${r.text}`);
          const got = decode(r.text);
          // Every acknowledged message, in order; at most the one POST
          // in flight at the kill may have been committed too.
          assert.deepEqual(got.slice(0, acked[k].length), acked[k], `session ${k}: what was acknowledged`);
          assert.ok(got.length <= acked[k].length + 1, `session ${k}: ${got.length} > ${acked[k].length} + 1`);
          if (got.length > acked[k].length)
            assert.equal(got.at(-1), tried[k][acked[k].length]);
        }
      }
      const k = ['stale', 'garbage', 'empty'].indexOf(what);
      assert.equal((await sessions[k].post(`4${what}`)).status, 200);
      const h = await sessions[k].get();
      assert.deepEqual(decode(h.text), [`4${what}`], `${what}: service goes on`);
      const pid2 = s.pids()['sio-fcgi'];
      process.kill(pid2, 'SIGKILL');
      await s.stop();
    }
    dumpDb(db);
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The sio-fcgi processes of a server: those whose stderr is its log.
function serverPids(s) {
  const log = path.join(s.dir, 'sio-fcgi.log');
  const pids = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sio-fcgi' &&
          fs.readlinkSync(`/proc/${p}/fd/2`) === log)
        pids.push(Number(p));
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

// Is a a subsequence of b?
const subsequence = (a, b) => { let i = 0; for (const x of b) if (x === a[i]) i++; return i === a.length; };

test('one of two processes killed with SIGKILL mid-traffic: the other goes on with the shared lock file, nothing committed is lost', async () => {
  const s = await startServer({ mode: 'spawn', procs: 2, args: ['--app', 'echo', '--ping-interval', '60000'] });
  try {
    const pids = serverPids(s);
    assert.equal(pids.length, 2, `two sio-fcgi processes (${pids})`);
    const sessions = await Promise.all([0, 1, 2, 3].map(() => Session.open(s.url)));
    const acked = sessions.map(() => []);
    const tried = sessions.map(() => []);
    const after = sessions.map(() => []);	// statuses after the kill
    let killed = false, stop = false;
    const loops = sessions.map(async (sess, k) => {
      for (let i = 0; !stop; i++) {
        const msg = `4s${k}m${i}`;
        tried[k].push(msg);
        let status = 0;
        try {
          status = (await sess.post(msg, { timeout: 5000 })).status;
        } catch { /* the connection died with the process */ }
        if (status === 200) acked[k].push(msg);
        if (killed) after[k].push(status);
        if (status !== 200) await sleep(20);
      }
    });
    await sleep(300);
    process.kill(pids[0], 'SIGKILL');
    killed = true;
    // Until every session has had five POSTs in a row through (at
    // least 1.5 s).
    await sleep(1500);
    const fiveOk = (a) => a.length >= 5 && a.slice(-5).every((x) => x === 200);
    await until(() => after.every(fiveOk));
    stop = true;
    await Promise.all(loops);
    for (let k = 0; k < sessions.length; k++) {
      assert.deepEqual(after[k].slice(-5), [200, 200, 200, 200, 200], `session ${k}: POSTs go through again (${after[k]})`);
      const r = await sessions[k].get();
      assert.equal(r.status, 200, `session ${k}: ${r.status} ${r.text}`);
      const got = decode(r.text);
      assert.ok(subsequence(acked[k], got), `session ${k}: every acknowledged message, in order`);
      assert.ok(subsequence(got, tried[k]), `session ${k}: nothing but what was sent, in order`);
    }
    assert.doesNotMatch(s.logText(), /MDB_PANIC|MDB_CORRUPTED|error:/);
    dumpDb(s.db);
  } finally {
    await s.stop();
  }
});

test('a failed meta-page write (MDB_PANIC): 503, the process stops with a clear log line and status 1, its replacement serves the intact data', async () => {
  const { shim, dir } = buildHelpers();
  const ctl = path.join(dir, `fault-${process.pid}-panic`);
  const s = await startServer({
    mode: 'spawn', procs: 1,
    args: ['--app', 'echo', '--ping-interval', '60000', '--ping-timeout', '2000'],
    env: { LD_PRELOAD: shim, FAULT_SHIM_CONTROL: ctl },
  });
  try {
    const sess = await Session.open(s.url);
    assert.equal((await sess.post('4before')).status, 200);
    const [pid] = serverPids(s);
    fs.writeFileSync(ctl, 'EIO meta\n');
    const r = await sess.post('4lost');
    assert.deepEqual([r.status, r.text], [503, 'storage unavailable\n']);
    fs.rmSync(ctl);
    // LMDB now refuses every transaction of that process, even with the
    // cause gone: the sweep sees it and the process stops.
    for (let t = 0; t < 50 && !processGone(pid); t++) await sleep(100);
    assert.ok(processGone(pid), 'the broken process stopped');
    const log = s.logText();
    assert.match(log, /error: store: commit: Input\/output error/);
    assert.match(log, /error: store: a write failed half-way and LMDB refuses every transaction of this process \(MDB_PANIC\): stopping/);
    // A failure for supervisors (systemd's Restart=on-failure).
    for (let t = 0; t < 20 && !/child exited: 1 /.test(fs.readFileSync(path.join(s.dir, 'lighttpd-error.log'), 'utf8')); t++)
      await sleep(100);
    assert.match(fs.readFileSync(path.join(s.dir, 'lighttpd-error.log'), 'utf8'), /child exited: 1 /, 'exit status 1');
    // The web server starts another one, which opens the database again.
    let p;
    for (let t = 0; t < 50; t++) {
      p = await sess.post('4after').catch((err) => ({ status: 0, text: String(err) }));
      if (p.status === 200) break;
      await sleep(100);
    }
    assert.equal(p.status, 200, `POST after the restart: ${p.status} ${p.text}`);
    const g = await sess.get();
    assert.deepEqual(decode(g.text), ['4before', '4after'], 'committed data intact, the failed POST absent');
    assert.notEqual(serverPids(s)[0], pid);
    dumpDb(s.db);
  } finally {
    await s.stop();
  }
});
