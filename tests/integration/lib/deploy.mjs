// The deployment tests (tests/integration/deploy-*.test.mjs): one web
// server in front of sio-fcgi, started by contrib/serve from the shipped
// configuration in contrib/ (serve adapts only paths and the port), the
// chat app driven by the real socket.io-client, and the web page.
//
//   deploySuite({name, front, mode, procs, conf, args, warm, fcgidLog});
//
// registers the whole suite (before/after hooks and tests) in the calling
// test file.  With CI set, a missing web server or module is a failure,
// never a skip.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, logLinesForSid, processGone, ROOT } from './server.mjs';
import { join, entry, checkUsers, closeAll, backendPids, sleep, now } from './chat.mjs';
import { Session, decode } from './eio.mjs';

const MODULES = '/usr/lib/apache2/modules';
export const WWW = path.join(ROOT, 'www');
export const VENDOR = path.join(WWW, 'vendor', 'socket.io.min.js');

function haveProgram(name) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  return dirs.some((d) => {
    try { fs.accessSync(path.join(d || '.', name), fs.constants.X_OK); return true; } catch { return false; }
  });
}

// What is missing to run this front ('' when nothing): the programs and
// the Apache modules the shipped configuration loads.
export function missingFor(front) {
  const need = {
    lighttpd: { prog: 'lighttpd', mods: [] },
    nginx: { prog: 'nginx', mods: [] },
    'apache-fcgid': { prog: 'apache2', mods: ['mpm_event', 'authz_core', 'alias', 'mime', 'dir', 'fcgid'] },
    'apache-proxy': { prog: 'apache2', mods: ['mpm_event', 'authz_core', 'mime', 'dir', 'proxy', 'proxy_fcgi'] },
  }[front];
  if (!haveProgram(need.prog)) return `${need.prog} is not installed`;
  for (const m of need.mods)
    if (!fs.existsSync(path.join(MODULES, `mod_${m}.so`))) return `${MODULES}/mod_${m}.so is missing`;
  return '';
}

// The live (non-zombie) descendants of pid, from /proc.
export function descendants(pid) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] !== 'Z') parent.set(Number(d), Number(rest[1]));
    } catch { /* gone */ }
  }
  const want = new Set([pid]);
  for (let more = true; more;) {
    more = false;
    for (const [p, pp] of parent) {
      if (want.has(pp) && !want.has(p)) { want.add(p); more = true; }
    }
  }
  want.delete(pid);
  return [...want].sort((a, b) => a - b);
}

// The sio-fcgi processes that logged their start ("serving") so far.
export function startedPids(srv) {
  return new Set([...srv.logText().matchAll(/^sio-fcgi\[(\d+)\]: info: serving/gm)].map((m) => Number(m[1])));
}

// mod_fcgid starts a process only for a request that has waited 1 s for
// a free one (see eio-fcgid.test.mjs): grow its pool to k processes first
// by keeping k Engine.IO sessions polling on the chat's path, so that no
// pong of the test waits a second behind a held poll.
export async function warmUp(srv, k, ms = 20000) {
  const deadline = now() + ms;
  let stop = false;
  const client = async () => {
    let s = null;
    while (!stop && now() < deadline) {
      try {
        s ??= await Session.open(srv.url, '/socket.io/');
        const r = await s.get({ timeout: 5000 });
        if (r.status !== 200 || decode(r.text).includes('1')) s = null;
        else if (decode(r.text).includes('2')) await s.post('3', { timeout: 5000 });
      } catch {
        s = null;
      }
    }
  };
  const clients = Array.from({ length: k }, client);
  while (startedPids(srv).size < k && now() < deadline) await sleep(50);
  stop = true;
  await Promise.all(clients);
  return startedPids(srv).size;
}

// GET url -> {status, type, body (Buffer)}.
async function get(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: Buffer.from(await r.arrayBuffer()) };
}

// The configuration serve wrote, without its generated header (the
// comment lines before the template's first line).
function generatedBody(file, template) {
  const text = fs.readFileSync(file, 'utf8');
  const first = template.split('\n')[0];
  const i = text.indexOf(`${first}\n`);
  assert.ok(i >= 0, `${file} contains the template`);
  return text.slice(i);
}

export function deploySuite({ name, front, mode = 'daemon', procs = 2, conf, args, warm = 0, fcgidLog = false }) {
  const missing = missingFor(front);
  const skip = missing && !process.env.CI ? `${missing} (run scripts/setup)` : false;
  const msg = (x) => `${missing ? `${missing} (CI is set: a missing tool is a failure, not a skip)` : x}`;
  let srv;
  let warmed = '';
  // The pids to check after the stop: the front server, its children and
  // the sio-fcgi processes.
  const seen = new Set();
  const remember = () => {
    if (!srv) return;
    for (const pid of Object.values(srv.pids())) {
      seen.add(pid);
      for (const d of descendants(pid)) seen.add(d);
    }
    for (const pid of startedPids(srv)) seen.add(pid);
  };

  before(async () => {
    if (missing) return;
    srv = await startServer({ front, mode, procs, args, timeout: 20000 });
    if (warm) {
      const t0 = now();
      const n = await warmUp(srv, warm);
      warmed = `${n} sio-fcgi processes after ${(now() - t0).toFixed(0)} ms of warm-up`;
    }
  });
  // The chat tabs live across tests (the reconnect test goes on with
  // alice and bob); after() closes them.
  afterEach(() => remember());
  after(async () => { closeAll(); await srv?.stop(); });

  test(`${name}: installed, started from the shipped ${conf} unchanged`, { skip }, (t) => {
    assert.equal(missing, '', msg());
    assert.ok(srv, 'server started');
    const pids = srv.pids();
    const server = front === 'lighttpd' ? 'lighttpd' : front === 'nginx' ? 'nginx' : 'apache';
    assert.ok(pids[server] > 0, `${server} in ${srv.dir}/pids: ${JSON.stringify(pids)}`);
    if (front === 'apache-fcgid' || mode === 'spawn')
      assert.equal(pids['sio-fcgi'], undefined, 'no sio-fcgi daemon: the web server spawns it');
    else
      assert.ok(pids['sio-fcgi'] > 0, `sio-fcgi daemon in ${srv.dir}/pids: ${JSON.stringify(pids)}`);
    t.diagnostic(`pids ${JSON.stringify(pids)}${warmed ? `; ${warmed}` : ''}`);
    // The configuration that runs is the shipped one: serve copies it
    // after a header, and for nginx changes only listen, fastcgi_pass
    // and root.
    const template = fs.readFileSync(path.join(ROOT, 'contrib', conf), 'utf8');
    const generated = front === 'lighttpd' ? 'lighttpd.conf' : conf;
    const body = generatedBody(path.join(srv.dir, generated), template);
    const a = template.split('\n');
    const b = body.split('\n');
    assert.equal(b.length, a.length, `${generated}: as many lines as contrib/${conf}`);
    const changed = a.map((l, i) => [l, b[i]]).filter(([x, y]) => x !== y);
    if (front === 'nginx') {
      assert.deepEqual(changed.map(([x]) => x.trim()).sort(),
        ['fastcgi_pass unix:/run/sio-fcgi/sio.sock;', 'listen 127.0.0.1:8080;', 'root www;'],
        `only the three adaptable lines differ: ${JSON.stringify(changed)}`);
      assert.ok(changed.some(([, y]) => y.includes(`listen 127.0.0.1:${srv.port};`)));
    } else {
      assert.deepEqual(changed, [], `${generated} is contrib/${conf} verbatim`);
    }
    if (warm) assert.ok(startedPids(srv).size >= warm, warmed);
  });

  test(`${name}: the web page and the vendored socket.io client are served`, { skip }, async () => {
    assert.ok(srv, msg('server not started'));
    assert.ok(fs.existsSync(VENDOR), `${VENDOR} is missing: run scripts/setup (it copies it from npm)`);
    const page = await get(srv.url);
    assert.equal(page.status, 200, 'GET /');
    assert.match(page.type, /^text\/html/, 'GET / content type');
    const html = page.body.toString('utf8');
    assert.equal(html, fs.readFileSync(path.join(WWW, 'index.html'), 'utf8'), 'GET / is www/index.html');
    assert.match(html, /<title>Private messaging<\/title>/);
    assert.match(html, /<script src="vendor\/socket\.io\.min\.js"/);
    const js = await get(new URL('vendor/socket.io.min.js', srv.url));
    assert.equal(js.status, 200, 'GET /vendor/socket.io.min.js');
    assert.match(js.type, /javascript/, 'GET /vendor/socket.io.min.js content type');
    assert.ok(js.body.equals(fs.readFileSync(VENDOR)), 'the vendored client, byte for byte');
    const app = await get(new URL('chat.js', srv.url));
    assert.equal(app.status, 200, 'GET /chat.js');
    assert.match(app.type, /javascript/);
  });

  let alice;
  let bob;
  let conversation;
  let aliceEngine;
  test(`${name}: two users, a message each way`, { skip }, async () => {
    assert.ok(srv, msg('server not started'));
    alice = await join(srv.url, { username: 'alice' });
    bob = await join(srv.url, { username: 'bob' });
    aliceEngine = alice.s.io.engine.id;
    assert.equal(entry(bob.users, alice.userID).connected, true, 'bob sees alice online');
    const uc = await alice.waitAbout('user connected', bob.userID);
    assert.equal(uc.username, 'bob');
    assert.equal(await alice.send(bob.userID, 'hello bob'), undefined, 'ack of alice\'s message');
    const m1 = { content: 'hello bob', from: alice.userID, to: bob.userID };
    assert.deepEqual((await bob.take('private message'))[0], m1);
    assert.equal(await bob.send(alice.userID, 'hi alice \u00e9\u{1f600}'), undefined, 'ack of bob\'s message');
    const m2 = { content: 'hi alice \u00e9\u{1f600}', from: bob.userID, to: alice.userID };
    assert.deepEqual((await alice.take('private message'))[0], m2);
    conversation = [m1, m2];
    // And a ping cycle or two: both stay connected.
    await sleep(1500);
    assert.ok(alice.connected && bob.connected, 'still connected after the ping interval');
    assert.deepEqual(alice.all('disconnect'), []);
  });

  test(`${name}: a reconnect by sessionID keeps the userID and the conversation`, { skip }, async () => {
    assert.ok(srv, msg('server not started'));
    assert.ok(alice && conversation, 'the previous test ran');
    alice.close();
    assert.equal(await bob.waitAbout('user disconnected', alice.userID), alice.userID);
    const again = await join(srv.url, { sessionID: alice.sessionID });
    assert.deepEqual(again.session, { sessionID: alice.sessionID, userID: alice.userID });
    checkUsers(again.users);
    assert.equal(entry(again.users, alice.userID).username, 'alice');
    assert.deepEqual(entry(again.users, bob.userID).messages, conversation, 'the conversation, in "users"');
    // bob joined after alice: this is the first "user connected" about her.
    const uc = await bob.waitAbout('user connected', alice.userID);
    assert.equal(uc.username, 'alice');
    // The reconnected user can still write.
    assert.equal(await again.send(bob.userID, 'back'), undefined);
    assert.deepEqual((await bob.take('private message'))[0], { content: 'back', from: alice.userID, to: bob.userID });
  });

  if (fcgidLog) {
    test(`${name}: consecutive requests of one session reach different sio-fcgi processes`, { skip }, (t) => {
      assert.ok(srv, msg('server not started'));
      assert.ok(aliceEngine, 'the chat test ran');
      // With --log-level debug sio-fcgi logs every request as
      // "sio-fcgi[PID]: debug: front: METHOD URI -> STATUS".
      const lines = logLinesForSid(srv.logText(), aliceEngine).filter((l) => / -> \d+$/.test(l.line));
      assert.ok(lines.length >= 4, `requests of sid ${aliceEngine} in the log:\n${lines.map((l) => l.line).join('\n')}`);
      const pids = new Set(lines.map((l) => l.pid));
      let switches = 0;
      for (let i = 1; i < lines.length; i++) if (lines[i].pid !== lines[i - 1].pid) switches++;
      t.diagnostic(`sid ${aliceEngine}: ${lines.length} requests in ${pids.size} processes ` +
        `(${[...pids].join(', ')}), ${switches} process changes between consecutive requests`);
      assert.ok(pids.size >= 2, `one session served by several processes: ${[...pids]}`);
      assert.ok(switches >= 1, 'consecutive requests ran in different processes');
      assert.ok(lines.every((l) => / -> 200$/.test(l.line)),
        `every request answered 200:\n${lines.map((l) => l.line).join('\n')}`);
      // A held GET woken by a POST in another process (the message to
      // alice): the process that held it logs "woke sid=...".
      const woke = logLinesForSid(srv.logText(), aliceEngine).filter((l) => /woke sid=/.test(l.line));
      t.diagnostic(`held polls woken: ${woke.length} (eio-fcgid.test.mjs shows each wake's processes)`);
    });
  }

  test(`${name}: the stop leaves no process behind`, { skip }, async (t) => {
    assert.ok(srv, msg('server not started'));
    remember();
    if (front === 'lighttpd' && mode === 'spawn') {
      const b = backendPids(srv);
      assert.equal(b.length, procs, `lighttpd runs ${procs} sio-fcgi processes: ${b}`);
      for (const p of b) seen.add(p);
    }
    // A chat client still polling at the stop.
    const c = await join(srv.url, { username: 'carol' });
    remember();
    const pids = [...seen];
    const { child } = srv;
    const t0 = now();
    await srv.stop();
    const took = now() - t0;
    srv = null;
    c.close();
    t.diagnostic(`stopped in ${took.toFixed(0)} ms; processes checked: ${pids.join(', ')}`);
    assert.equal(child.exitCode, 0, `contrib/serve exit code (signal ${child.signalCode})`);
    const left = pids.filter((p) => !processGone(p));
    assert.deepEqual(left, [], 'every process of the deployment is gone');
    assert.ok(took < 12000, `stop took ${took.toFixed(0)} ms`);
  });
}
