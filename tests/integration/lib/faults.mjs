// Helpers of the storage-fault tests: the C helpers of tests/integration/c
// built with cc, the database checked with lmdb-utils, and running a
// command as an unprivileged user when the tests run as root (root
// ignores file permissions).  Every tool they need is installed by
// scripts/setup (build-essential, lmdb-utils, util-linux); a missing one
// makes the test fail, never skip.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './server.mjs';

const CDIR = path.join(ROOT, 'tests', 'integration', 'c');
let built = null;

// Build fault_shim.so and stale_reader once per test process, warnings as
// errors; returns {dir, shim, staleReader}.  rm() removes the directory.
export function buildHelpers() {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-faults-'));
  const cc = process.env.CC || 'cc';
  const flags = ['-Wall', '-Wextra', '-Werror', '-O1'];
  const shim = path.join(dir, 'fault_shim.so');
  const staleReader = path.join(dir, 'stale_reader');
  execFileSync(cc, [...flags, '-shared', '-fPIC', '-o', shim,
    path.join(CDIR, 'fault_shim.c'), '-ldl'], { stdio: 'pipe' });
  execFileSync(cc, [...flags, '-o', staleReader,
    path.join(CDIR, 'stale_reader.c'), '-llmdb'], { stdio: 'pipe' });
  built = { dir, shim, staleReader, rm: () => fs.rmSync(dir, { recursive: true, force: true }) };
  return built;
}

// The whole environment read back with mdb_dump (every table, every
// record): throws when LMDB finds a damaged page.  Returns the dump.
export function dumpDb(db) {
  return execFileSync('mdb_dump', ['-a', db], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 20000 });
}

// The pids in the reader table (mdb_stat -r), without clearing stale ones.
// (mdb_stat -r exits 1 even when it printed the table.)
export function readerPids(db) {
  const r = spawnSync('mdb_stat', ['-r', db], { encoding: 'utf8', timeout: 10000 });
  const out = r.stdout ?? '';
  if (!out.includes('Reader Table Status'))
    throw new Error(`mdb_stat -r ${db}: ${r.error ?? r.stderr}`);
  const pids = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+[0-9a-f]+\s+(\d+|-)\s*$/.exec(line);
    if (m) pids.push(Number(m[1]));
  }
  return pids;
}

// How to run a command so that file permissions apply: as root, through
// setpriv as nobody:nogroup (util-linux, in every Debian); otherwise as
// we are.  {prefix: [...argv before the command], uid, gid}
export function unprivileged() {
  if (process.getuid() !== 0)
    return { prefix: [], uid: process.getuid(), gid: process.getgid() };
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).split(':')[2]);
  return {
    prefix: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'],
    uid, gid,
  };
}

// Start `staleReader db maxReaders`; resolves {child, ready: true} once it
// printed "ready", or {child, ready: false, err} when it exited first.
export function holdReader(staleReader, db, maxReaders) {
  return new Promise((resolve) => {
    const child = spawn(staleReader, [db, String(maxReaders)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve({ child, ready: true });
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', () => resolve({ child, ready: false, err }));
  });
}

export function waitExit(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}
