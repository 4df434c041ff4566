#!/usr/bin/env node
// What a held long poll costs in each deployment (docs/deploy.md): start
// the deployment with contrib/serve and the chat (default heartbeat, so
// that idle clients hold a poll almost all the time), read /proc for every
// process of it, connect N idle chat clients (the real socket.io-client,
// polling), read /proc again.  Also times the joins and one message sent
// while all N polls are held (its POST needs a free worker/process).
//
//   node contrib/measure-deploy.mjs [--clients N] [--fronts LIST] [-- sio-fcgi options]
//
// LIST: comma-separated among apache-fcgid, apache-proxy, lighttpd-daemon,
// lighttpd-spawn, nginx (default: all five).  Needs scripts/setup (the
// test dependencies in tests/node_modules).  Read as root to see every
// process's memory (smaps_rollup).

import fs from 'node:fs';
import { startServer } from '../tests/integration/lib/server.mjs';
import { join, closeAll, sleep, now } from '../tests/integration/lib/chat.mjs';

const argv = process.argv.slice(2);
let clients = 100;
let fronts = ['apache-fcgid', 'apache-proxy', 'lighttpd-daemon', 'lighttpd-spawn', 'nginx'];
let extra = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--clients') clients = Number(argv[++i]);
  else if (argv[i] === '--fronts') fronts = argv[++i].split(',');
  else if (argv[i] === '--') { extra = argv.slice(i + 1); break; }
  else { console.error(`unknown argument ${argv[i]}`); process.exit(2); }
}

const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };

// Every live process below pid (not pid itself).
function descendants(pid) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = read(`/proc/${d}/stat`);
    if (!stat) continue;
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] !== 'Z') parent.set(Number(d), Number(rest[1]));
  }
  const want = new Set([pid]);
  for (let more = true; more;) {
    more = false;
    for (const [p, pp] of parent) if (want.has(pp) && !want.has(p)) { want.add(p); more = true; }
  }
  want.delete(pid);
  return [...want];
}

// {procs, threads, fds, rss, anon, pss} (kB) of a group of pids: anon is
// the RSS that is not file-backed (heap, stacks), the rest being mostly
// shared libraries and, in sio-fcgi, the LMDB map.
function usage(pids) {
  const u = { procs: 0, threads: 0, fds: 0, rss: 0, anon: 0, pss: 0 };
  for (const p of pids) {
    const status = read(`/proc/${p}/status`);
    if (!status) continue;
    u.procs++;
    u.threads += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    u.rss += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    u.anon += Number(/^RssAnon:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    u.pss += Number(/^Pss:\s+(\d+)/m.exec(read(`/proc/${p}/smaps_rollup`))?.[1] ?? 0);
    try { u.fds += fs.readdirSync(`/proc/${p}/fd`).length; } catch { /* gone */ }
  }
  return u;
}

// The deployment's processes, split into the web server's and sio-fcgi's
// (by command name; serve's wrappers exec sio-fcgi).
function snapshot(srv) {
  const all = descendants(srv.child.pid);
  const comm = (p) => read(`/proc/${p}/comm`).trim();
  return {
    front: usage(all.filter((p) => comm(p) !== 'sio-fcgi')),
    sio: usage(all.filter((p) => comm(p) === 'sio-fcgi')),
  };
}

const mib = (kb) => (kb / 1024).toFixed(1);
const fmt = (u) => `${u.procs} procs, ${u.threads} threads, ${u.fds} fds, RSS ${mib(u.rss)} MiB ` +
  `(anon ${mib(u.anon)}), PSS ${mib(u.pss)} MiB`;
const per = (a, b, k) => ((b[k] - a[k]) / clients);

const setups = {
  'apache-fcgid': { front: 'apache-fcgid' },
  'apache-proxy': { front: 'apache-proxy' },
  'lighttpd-daemon': { front: 'lighttpd', mode: 'daemon' },
  'lighttpd-spawn': { front: 'lighttpd', mode: 'spawn', procs: 2 },
  nginx: { front: 'nginx' },
};

for (const name of fronts) {
  const setup = setups[name];
  if (!setup) { console.error(`unknown front ${name}`); process.exit(2); }
  const srv = await startServer({ ...setup, args: ['--app', 'chat', ...extra], timeout: 30000 });
  try {
    // One client first (mod_fcgid starts its first process), then idle.
    const first = await join(srv.url, { username: 'probe' });
    first.close();
    await sleep(2000);
    const s0 = snapshot(srv);
    const t0 = now();
    const tabs = [];
    // In batches of 10 at once.
    for (let i = 0; i < clients; i += 10) {
      const batch = [];
      for (let j = i; j < Math.min(clients, i + 10); j++)
        batch.push(join(srv.url, { username: `idle${j}` }, { ms: 120000 }));
      tabs.push(...await Promise.all(batch));
    }
    const joined = now() - t0;
    await sleep(3000);
    const s1 = snapshot(srv);
    // One message while every client holds a poll.
    const t1 = now();
    await tabs[0].send(tabs[1].userID, 'while all polls are held', 120000);
    await tabs[1].take('private message', { ms: 120000 });
    const delivered = now() - t1;
    const connected = tabs.filter((t) => t.connected).length;
    console.log(`== ${name}: ${clients} clients joined in ${(joined / 1000).toFixed(1)} s, ${connected} connected`);
    console.log(`   idle:        web server ${fmt(s0.front)}; sio-fcgi ${fmt(s0.sio)}`);
    console.log(`   ${clients} clients: web server ${fmt(s1.front)}; sio-fcgi ${fmt(s1.sio)}`);
    for (const [label, a, b] of [['web server', s0.front, s1.front], ['sio-fcgi', s0.sio, s1.sio]]) {
      console.log(`   per client, ${label}: ${per(a, b, 'procs').toFixed(2)} procs, ${per(a, b, 'threads').toFixed(2)} threads, ` +
        `${per(a, b, 'fds').toFixed(2)} fds, RSS ${per(a, b, 'rss').toFixed(0)} kB ` +
        `(anon ${per(a, b, 'anon').toFixed(0)}), PSS ${per(a, b, 'pss').toFixed(0)} kB`);
    }
    console.log(`   a message sent and delivered with all ${clients} polls held: ${delivered.toFixed(0)} ms`);
  } finally {
    closeAll();
    await srv.stop();
  }
}
process.exit(0);
