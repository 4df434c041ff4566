// Start contrib/serve (lighttpd or Apache + sio-fcgi) on a free loopback
// port.
//
//   const srv = await startServer({mode: 'daemon'|'spawn', procs, args, env});
//   const srv = await startServer({mode: 'daemon', restart: true, ...});
//                  (serve --restart: a daemon that dies is started again;
//                  srv.pids() gives the current one)
//   const srv = await startServer({front: 'apache-fcgid', args, env});
//   const srv = await startServer({front: 'apache-proxy'|'nginx', args, env});
//                  (a sio-fcgi daemon behind Apache mod_proxy_fcgi or nginx)
//   srv.url        "http://127.0.0.1:P/"
//   srv.dir        the run directory (configs, logs, pids, db/)
//   srv.logText()  the sio-fcgi log so far
//   srv.pids()     {lighttpd: PID, 'sio-fcgi': PID (daemon mode)}, or
//                  {apache: PID} with front 'apache-fcgid', or
//                  {apache|nginx: PID, 'sio-fcgi': PID} with 'apache-proxy'
//                  or 'nginx'
//   srv.stats()    the output of `sio-fcgi --stats --db DIR/db`
//   await srv.stop()  SIGTERM, wait for exit (SIGKILL after 15 s)
//
// The run directory is removed by stop() unless SIO_TEST_KEEP is set.
// SIO_FCGI_BIN selects another sio-fcgi binary (a sanitizer build, say).

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.SIO_FCGI_BIN || path.join(ROOT, 'src', 'sio-fcgi');
const SERVE = path.join(ROOT, 'contrib', 'serve');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

// Servers still running when the test process exits (a crash, a failed
// `before`) get SIGTERM, so that no lighttpd outlives the tests.
const running = new Set();
process.on('exit', () => {
  for (const child of running) if (!exited(child)) child.kill('SIGTERM');
});

async function startOnce({ front, mode, procs, args, env, timeout, restart }) {
  // sio-fcgi serves the chat by default; these tests talk to the echo
  // endpoint unless they choose an app.
  if (!args.some((a) => a === '--app' || a.startsWith('--app='))) args = ['--app', 'echo', ...args];
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-it-'));
  // --mode and --procs are lighttpd's: mod_fcgid spawns processes itself,
  // and apache-proxy and nginx always talk to one daemon.
  const frontArgs = front === 'lighttpd'
    ? ['--mode', mode, '--procs', String(procs)]
    : ['--front', front];
  const argv = ['--port', String(port), '--dir', dir, ...frontArgs,
    ...(restart ? ['--restart'] : []), '--bin', BIN, '--', ...args];
  // Tests are deterministic: sio-fcgi options come from the test only,
  // never from SIO_* variables of the caller's environment.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIO_')));
  const child = spawn(SERVE, argv, {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = `http://127.0.0.1:${port}/`;
  const readText = (f) => { try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; } };

  const srv = {
    url, dir, port, child, mode, front,
    db: path.join(dir, 'db'),
    output: () => out,
    logText: () => readText('sio-fcgi.log'),
    pids() {
      const p = {};
      for (const line of readText('pids').split('\n')) {
        const [name, pid] = line.trim().split(/\s+/);
        if (name && pid) p[name] = Number(pid);
      }
      return p;
    },
    stats() {
      return execFileSync(BIN, ['--stats', '--db', path.join(dir, 'db')],
        { encoding: 'utf8', timeout: 10000 });
    },
    async stop() {
      if (!exited(child)) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 15000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5000);
        }
      }
      if (!process.env.SIO_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
      else console.log(`# kept ${dir}`);
    },
  };

  await new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      const log = srv.logText();
      reject(new Error(`contrib/serve ${argv.join(' ')}: ${why}\n--- output:\n${out}` +
        (log ? `--- sio-fcgi.log:\n${log}` : '')));
    };
    const timer = setTimeout(async () => {
      child.kill('SIGTERM');
      await waitExit(child, 10000);
      fail(`not serving after ${timeout} ms`);
    }, timeout);
    child.stdout.on('data', () => {
      if (out.includes(`serving ${url}`)) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code, sig) => fail(`exited (${code ?? sig}) before serving`));
  });
  child.removeAllListeners('exit');
  child.on('exit', () => running.delete(child));
  return srv;
}

export async function startServer({ front = 'lighttpd', mode = 'daemon', procs = 2, args = [], env = {},
  timeout = 15000, restart = false } = {}) {
  // The port is free when picked but might be taken before serve binds it:
  // retry then, and only then.
  for (let i = 0; ; i++) {
    try {
      return await startOnce({ front, mode, procs, args, env, timeout, restart });
    } catch (err) {
      if (i < 2 && /already in use/.test(err.message)) continue;
      throw err;
    }
  }
}

// Lines of the sio-fcgi log that mention sid, as {pid, line}.
export function logLinesForSid(logText, sid) {
  const res = [];
  for (const line of logText.split('\n')) {
    if (!line.includes(`sid=${sid}`)) continue;
    const m = /sio-fcgi\[(\d+)\]/.exec(line);
    if (m) res.push({ pid: Number(m[1]), line });
  }
  return res;
}

// Is the process gone (or a zombie)?
export function processGone(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}
