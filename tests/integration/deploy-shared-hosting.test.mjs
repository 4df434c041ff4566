// Deployment: shared hosting.  Apache 2.4 as a stock Debian host runs it,
// for a user who has only a web space and its .htaccess: Debian's own
// module files from /etc/apache2/mods-available (mod_fcgid with its stock
// fcgid.conf, so FcgidMaxRequestLen 131072, FcgidIOTimeout 40 s,
// FcgidMaxProcessesPerClass 100 and spawn throttling, as compiled in),
// a virtual host whose DocumentRoot is the user's public_html with the
// AllowOverride the recipe documents, and no configuration of ours.  The
// only project files are contrib/shared-hosting/.htaccess and
// contrib/shared-hosting/sio.fcgi (their settings filled in) and the page
// of www/, copied into the web space, and the sio-fcgi binary outside it.
// The chat is installed at the site's root, again in chat/ (its own
// database), and once more in bad/ with its database in the web space,
// which the wrapper refuses.  sio-fcgi runs with its defaults
// (pingInterval 25 s, maxPayload 100000).
// With CI set, a missing apache2, module or Debian module file is a
// failure, never a skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, freePort, logLinesForSid, processGone } from './lib/server.mjs';
import { join, entry, checkUsers, closeAll, sleep, now, until } from './lib/chat.mjs';
import { Session, request, rawRequest } from './lib/eio.mjs';

const RECIPE = path.join(ROOT, 'contrib', 'shared-hosting');
const WWW = path.join(ROOT, 'www');
const PAGE = ['index.html', 'chat.js', 'chat.css', 'favicon.svg', 'vendor/socket.io.min.js'];
const STOCK = '/etc/apache2/mods-available';
const MODULES = '/usr/lib/apache2/modules';
// Debian's modules enabled after "apt install apache2", plus the two the
// recipe needs: fcgid (enabled by libapache2-mod-fcgid) and rewrite.
const ENABLED = ['access_compat', 'alias', 'auth_basic', 'authn_core', 'authn_file', 'authz_core',
  'authz_host', 'authz_user', 'autoindex', 'deflate', 'dir', 'env', 'filter', 'mime', 'mpm_event',
  'negotiation', 'reqtimeout', 'setenvif', 'status', 'fcgid', 'rewrite'];
// The limits this deployment lives with: mod_fcgid's compiled-in defaults.
const FCGID_MAX_REQUEST_LEN = 131072;
const FCGID_IO_TIMEOUT_MS = 40000;
const PING_INTERVAL = 25000;
const MAX_PAYLOAD = 100000;

function haveApache() {
  for (const d of [...(process.env.PATH || '').split(':'), '/usr/sbin']) {
    const p = path.join(d || '.', 'apache2');
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

function missingTools() {
  if (!haveApache()) return 'apache2 is not installed';
  for (const m of ENABLED) {
    if (!fs.existsSync(path.join(STOCK, `${m}.load`))) return `${STOCK}/${m}.load is missing`;
  }
  const so = fs.readFileSync(path.join(STOCK, 'fcgid.load'), 'utf8').match(/\S+\.so/)?.[0];
  if (!so || !fs.existsSync(so)) return `mod_fcgid (${MODULES}/mod_fcgid.so) is missing`;
  if (!fs.existsSync(path.join(WWW, PAGE[4]))) return `${WWW}/${PAGE[4]} is missing (run scripts/setup)`;
  return '';
}

// The host's configuration: Debian's apache2.conf reduced to what serves
// one site, the stock module files included as they are, one virtual
// host.  Every path Apache writes is under T (mod_fcgid's two included:
// their compiled-in places are under /var/lib/apache2).  Nothing here is
// the project's: no Fcgid limit, no handler, no rewrite.  Only for a
// sanitizer build (run-tests' second pass) does the host pass on the
// caller's sanitizer options, which say where reports go: mod_fcgid
// gives its processes no environment of its own.
const SANITIZER_OPTIONS = ['ASAN_OPTIONS', 'LSAN_OPTIONS', 'UBSAN_OPTIONS']
  .filter((k) => process.env[k] !== undefined);
function hostConf() {
  const mods = ENABLED.flatMap((m) => [`${m}.load`, `${m}.conf`])
    .filter((f) => fs.existsSync(path.join(STOCK, f)))
    .map((f) => `Include ${STOCK}/${f}`);
  const sanitizers = SANITIZER_OPTIONS.map((k) => `FcgidInitialEnv ${k} "${process.env[k]}"\n`).join('');
  return `# A stock Debian Apache host (apache2.conf, mods-enabled), private to a test.
ServerRoot "\${T}"
ServerName 127.0.0.1
Listen 127.0.0.1:\${PORT}
PidFile "\${T}/run/apache2.pid"
DefaultRuntimeDir "\${T}/run"
ErrorLog "\${T}/log/error.log"
LogLevel warn
Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
HostnameLookups Off
${mods.join('\n')}
FcgidIPCDir "\${T}/run/fcgidsock"
FcgidProcessTableFile "\${T}/run/fcgid_shm"
${sanitizers}<Directory />
	Options FollowSymLinks
	AllowOverride None
	Require all denied
</Directory>
AccessFileName .htaccess
<FilesMatch "^\\.ht">
	Require all denied
</FilesMatch>
# %D: microseconds taken; the request's Content-Length (a POST's size).
LogFormat "%h %t \\"%r\\" %>s %b %D %{Content-Length}i" timing
CustomLog "\${T}/log/access.log" timing
<VirtualHost 127.0.0.1:\${PORT}>
	ServerName 127.0.0.1
	DocumentRoot "\${WEB}"
</VirtualHost>
# The user's web space: Debian's options for /var/www, and the overrides
# contrib/shared-hosting/.htaccess asks the provider for.
<Directory "\${WEB}">
	Options Indexes FollowSymLinks
	AllowOverride FileInfo Options=ExecCGI
	Require all granted
</Directory>
`;
}

const missing = missingTools();
const skip = missing && !process.env.CI ? `${missing} (run scripts/setup)` : false;
const msg = (x) => (missing ? `${missing} (CI is set: a missing tool is a failure, not a skip)` : x);

let T;		// the host: configuration, logs, run files
let HOME;	// the user's home: public_html and sio-fcgi/
let WEB;
let DATA;
let LOG;
let SUB_DATA;	// the install in public_html/chat/
let SUB_LOG;
let url;
let apache;	// the apache2 child
const sioPids = new Set();

// Fill in the settings of a recipe file (lines NAME=value, or for the
// .htaccess "RewriteBase value") as the user does.
function fill(text, settings) {
  let out = text;
  for (const [k, v] of Object.entries(settings)) {
    const re = k === 'RewriteBase' ? /^RewriteBase .*$/m : new RegExp(`^${k}=.*$`, 'm');
    assert.match(out, re, `the recipe sets ${k}`);
    out = out.replace(re, k === 'RewriteBase' ? `RewriteBase ${v}` : `${k}=${v}`);
  }
  return out;
}

// The names of the lines of a filled-in file that differ from the recipe.
function changedSettings(file, filled) {
  const a = fs.readFileSync(path.join(RECIPE, file), 'utf8').split('\n');
  const b = fs.readFileSync(filled, 'utf8').split('\n');
  assert.equal(b.length, a.length, `${filled}: as many lines as the recipe's ${file}`);
  return a.map((l, i) => [l, b[i]]).filter(([x, y]) => x !== y).map(([x]) => x.split(/[= ]/)[0]);
}

// One install of the chat in directory dir of the web space: the page,
// the .htaccess and the wrapper; its database and log in the user's
// sio-fcgi/ directory.  urlPath: the directory's URL ("/", "/chat/").
function install(dir, urlPath, data, log) {
  fs.mkdirSync(path.join(dir, 'vendor'), { recursive: true });
  for (const f of PAGE) fs.copyFileSync(path.join(WWW, f), path.join(dir, f));
  const ht = fs.readFileSync(path.join(RECIPE, '.htaccess'), 'utf8');
  fs.writeFileSync(path.join(dir, '.htaccess'), urlPath === '/' ? ht : fill(ht, { RewriteBase: urlPath }));
  const settings = {
    SIO_FCGI: path.join(HOME, 'sio-fcgi', 'bin', 'sio-fcgi'),
    SIO_DATA: data,
    SIO_LOG: log,
    // Every request with its pid, to see one session's requests move
    // between processes.
    SIO_LOG_LEVEL: 'debug',
  };
  if (urlPath !== '/') settings.SIO_PATH = `${urlPath}socket.io`;
  fs.writeFileSync(path.join(dir, 'sio.fcgi'), fill(fs.readFileSync(path.join(RECIPE, 'sio.fcgi'), 'utf8'), settings),
    { mode: 0o755 });
}

const logText = () => { try { return fs.readFileSync(LOG, 'utf8'); } catch { return ''; } };
const accessLog = () => { try { return fs.readFileSync(path.join(T, 'log', 'access.log'), 'utf8'); } catch { return ''; } };
const errorLog = () => { try { return fs.readFileSync(path.join(T, 'log', 'error.log'), 'utf8'); } catch { return ''; } };

// The live processes whose stderr is one of the wrappers' logs:
// sio-fcgi's.
function sioProcesses() {
  const res = [];
  const inodes = new Set();
  for (const f of [LOG, SUB_LOG]) {
    try { inodes.add(fs.statSync(f).ino); } catch { /* not yet */ }
  }
  if (inodes.size === 0) return res;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (inodes.has(fs.statSync(`/proc/${d}/fd/2`).ino) && !processGone(Number(d))) res.push(Number(d));
    } catch { /* gone, or not ours to see */ }
  }
  return res;
}

function remember() {
  for (const f of [LOG, SUB_LOG]) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { /* not yet */ }
    for (const m of text.matchAll(/^sio-fcgi\[(\d+)\]:/gm)) sioPids.add(Number(m[1]));
  }
  for (const p of sioProcesses()) sioPids.add(p);
}

// Access log lines: {method, uri, status, us, len}.
function accessLines() {
  const res = [];
  for (const line of accessLog().split('\n')) {
    const m = /"(\w+) (\S+) HTTP\/[\d.]+" (\d+) \S+ (\d+) (\S+)$/.exec(line);
    if (!m) continue;
    res.push({ method: m[1], uri: m[2], status: Number(m[3]), us: Number(m[4]),
      len: m[5] === '-' ? 0 : Number(m[5]), line });
  }
  return res;
}

async function waitExit(child, ms) {
  const end = now() + ms;
  while (child.exitCode === null && child.signalCode === null && now() < end) await sleep(50);
  return child.exitCode !== null || child.signalCode !== null;
}

before(async () => {
  if (missing) return;
  T = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-shared-'));
  HOME = path.join(T, 'home', 'alice');
  WEB = path.join(HOME, 'public_html');
  DATA = path.join(HOME, 'sio-fcgi', 'data');
  LOG = path.join(HOME, 'sio-fcgi', 'sio-fcgi.log');
  SUB_DATA = path.join(HOME, 'sio-fcgi', 'chat-data');
  SUB_LOG = path.join(HOME, 'sio-fcgi', 'chat.log');
  for (const d of ['run', 'log']) fs.mkdirSync(path.join(T, d));
  fs.mkdirSync(path.join(HOME, 'sio-fcgi', 'bin'), { recursive: true });
  // What the user uploads: the binary outside the web space, the page,
  // the .htaccess and the wrapper in it.
  fs.copyFileSync(BIN, path.join(HOME, 'sio-fcgi', 'bin', 'sio-fcgi'));
  fs.chmodSync(path.join(HOME, 'sio-fcgi', 'bin', 'sio-fcgi'), 0o755);
  install(WEB, '/', DATA, LOG);
  // A second install in a subdirectory, with its own database.
  install(path.join(WEB, 'chat'), '/chat/', SUB_DATA, SUB_LOG);
  // And one with its database in the web space, which the wrapper refuses.
  install(path.join(WEB, 'bad'), '/bad/', path.join(WEB, 'bad', 'data'), path.join(HOME, 'sio-fcgi', 'bad.log'));
  // Home directories are 0711 or 0755: the web server must reach the
  // web space.
  for (const d of [T, path.join(T, 'home'), HOME]) fs.chmodSync(d, 0o755);

  const conf = path.join(T, 'apache2.conf');
  fs.writeFileSync(conf, hostConf());
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  apache = spawn(haveApache(), ['-f', conf, '-DFOREGROUND', '-C', `Define T "${T}"`, '-C', `Define PORT ${port}`,
    '-C', `Define WEB "${WEB}"`], { stdio: ['ignore', 'ignore', fs.openSync(path.join(T, 'log', 'apache.out'), 'a')] });
  const end = now() + 15000;
  for (;;) {
    if (apache.exitCode !== null) {
      const out = fs.readFileSync(path.join(T, 'log', 'apache.out'), 'utf8');
      throw new Error(`apache2 exited at start:\n${out}${errorLog()}`);
    }
    try {
      if ((await request('GET', url, { timeout: 1000 })).status === 200) break;
    } catch { /* not yet */ }
    if (now() > end) throw new Error(`apache2 does not answer on ${url}:\n${errorLog()}`);
    await sleep(100);
  }
});

after(async () => {
  closeAll();
  if (apache && apache.exitCode === null && apache.signalCode === null) {
    apache.kill('SIGTERM');
    if (!await waitExit(apache, 15000)) apache.kill('SIGKILL');
  }
  if (LOG) for (const p of sioProcesses()) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  if (T) fs.rmSync(T, { recursive: true, force: true });
});

test('shared hosting: a stock host, the recipe\'s files and nothing else', { skip }, () => {
  assert.equal(missing, '', msg());
  assert.ok(apache, 'apache2 started');
  // mod_fcgid's settings are Debian's: its fcgid.conf sets no limit.
  const fcgid = fs.readFileSync(path.join(STOCK, 'fcgid.conf'), 'utf8');
  const stockFcgid = fcgid.split('\n').map((l) => l.trim()).filter((l) => /^Fcgid/i.test(l));
  assert.deepEqual(stockFcgid.map((l) => l.split(/\s+/)[0]), ['FcgidConnectTimeout'],
    `Debian's fcgid.conf sets only the connect timeout: ${stockFcgid}`);
  const lines = fs.readFileSync(path.join(T, 'apache2.conf'), 'utf8').split('\n').map((l) => l.trim());
  const isSanitizer = (l) => /^FcgidInitialEnv [A-Z]+SAN_OPTIONS /.test(l);
  const ours = lines.filter((l) => /^Fcgid/i.test(l) && !isSanitizer(l)).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(ours, ['FcgidIPCDir', 'FcgidProcessTableFile'], 'the host sets only mod_fcgid\'s paths');
  assert.deepEqual(lines.filter(isSanitizer).map((l) => l.split(/\s+/)[1]), SANITIZER_OPTIONS,
    'and the sanitizer options of the caller\'s environment');
  // The recipe's files differ from the shipped ones in their settings
  // lines only.
  assert.deepEqual(changedSettings('.htaccess', path.join(WEB, '.htaccess')), [], '.htaccess verbatim');
  assert.deepEqual(changedSettings('sio.fcgi', path.join(WEB, 'sio.fcgi')),
    ['SIO_FCGI', 'SIO_DATA', 'SIO_LOG', 'SIO_LOG_LEVEL']);
  assert.deepEqual(changedSettings('.htaccess', path.join(WEB, 'chat', '.htaccess')), ['RewriteBase']);
  assert.deepEqual(changedSettings('sio.fcgi', path.join(WEB, 'chat', 'sio.fcgi')),
    ['SIO_FCGI', 'SIO_DATA', 'SIO_LOG', 'SIO_LOG_LEVEL', 'SIO_PATH']);
});

test('shared hosting: the chat page and the vendored client are served', { skip }, async () => {
  assert.ok(apache, msg('apache2 not started'));
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal(await page.text(), fs.readFileSync(path.join(WWW, 'index.html'), 'utf8'));
  const js = await fetch(new URL('vendor/socket.io.min.js', url));
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.ok(Buffer.from(await js.arrayBuffer()).equals(fs.readFileSync(path.join(WWW, PAGE[4]))));
  for (const f of ['chat.js', 'chat.css']) assert.equal((await fetch(new URL(f, url))).status, 200, f);
});

let alice;
let bob;
let conversation;
let aliceEngine;
let overSid;	// the session of the POST above the limit
const JOIN = { ms: 20000 };
test('shared hosting: two users, a message each way', { skip }, async (t) => {
  assert.ok(apache, msg('apache2 not started'));
  // Cold: no sio-fcgi process runs yet.  mod_fcgid starts the first at
  // once; a request that finds every process busy (a held poll) waits a
  // second before it gets a new one.
  const t0 = now();
  alice = await join(url, { username: 'alice' }, JOIN);
  const t1 = now();
  bob = await join(url, { username: 'bob' }, JOIN);
  t.diagnostic(`joins took ${(t1 - t0).toFixed(0)} ms (alice) and ${(now() - t1).toFixed(0)} ms (bob); ` +
    `${new Set(logText().match(/^sio-fcgi\[\d+\]/gm)).size} sio-fcgi processes so far`);
  aliceEngine = alice.s.io.engine.id;
  assert.equal(alice.s.io.engine.transport.name, 'polling');
  assert.equal(entry(bob.users, alice.userID).connected, true, 'bob sees alice online');
  assert.equal((await alice.waitAbout('user connected', bob.userID, 1, 15000)).username, 'bob');
  assert.equal(await alice.send(bob.userID, 'hello bob', 15000), undefined);
  const m1 = { content: 'hello bob', from: alice.userID, to: bob.userID };
  assert.deepEqual((await bob.take('private message', { ms: 15000 }))[0], m1);
  assert.equal(await bob.send(alice.userID, 'hi alice \u00e9\u{1f600}', 15000), undefined);
  const m2 = { content: 'hi alice \u00e9\u{1f600}', from: bob.userID, to: alice.userID };
  assert.deepEqual((await alice.take('private message', { ms: 15000 }))[0], m2);
  conversation = [m1, m2];
  remember();
});

test('shared hosting: sio-fcgi has the caller\'s sanitizer options', { skip }, () => {
  assert.ok(apache, msg('apache2 not started'));
  const pids = sioProcesses();
  assert.ok(pids.length >= 1, 'sio-fcgi processes are running');
  for (const pid of pids) {
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    for (const k of SANITIZER_OPTIONS)
      assert.ok(env.includes(`${k}=${process.env[k]}`), `${k} of sio-fcgi process ${pid}`);
  }
});

test('shared hosting: a burst above 128 KiB is split by the client and arrives whole', { skip }, async (t) => {
  assert.ok(alice && bob, 'the previous test ran');
  // The limit is really in force: one POST above it gets Apache's 500.
  const s = await Session.open(url, '/socket.io/');
  const over = await s.post(`4${'x'.repeat(FCGID_MAX_REQUEST_LEN)}`, { timeout: 15000 });
  assert.equal(over.status, 500, 'a body above FcgidMaxRequestLen is refused by mod_fcgid');
  overSid = s.sid;
  assert.equal(s.open.maxPayload, MAX_PAYLOAD, 'the default maxPayload, in the handshake');
  // 20 messages of 8 KiB emitted at once: about 165 kB in all.
  const before = accessLines().length;
  const contents = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}:${'m'.repeat(8189)}`);
  const acks = await Promise.all(contents.map((c) => alice.send(bob.userID, c, 30000)));
  assert.deepEqual(acks, contents.map(() => undefined), 'every message acknowledged');
  const got = [];
  for (let i = 0; i < contents.length; i++) got.push((await bob.take('private message', { ms: 30000 }))[0]);
  assert.deepEqual(got.map((m) => m.content), contents, 'all 20, whole and in order');
  assert.ok(got.every((m) => m.from === alice.userID && m.to === bob.userID));
  conversation.push(...got);
  // The POSTs that carried them: each below the limit, together above it.
  const posts = accessLines().slice(before).filter((l) => l.method === 'POST' && l.uri.includes(`sid=${aliceEngine}`));
  const total = posts.reduce((n, l) => n + l.len, 0);
  t.diagnostic(`alice's POSTs: ${posts.map((l) => `${l.len} B -> ${l.status}`).join(', ')}`);
  assert.ok(total > FCGID_MAX_REQUEST_LEN, `the burst took ${total} bytes of POSTs`);
  assert.ok(posts.length >= 2, 'in several POSTs');
  for (const l of posts) {
    assert.equal(l.status, 200, l.line);
    assert.ok(l.len <= MAX_PAYLOAD, `a POST within maxPayload: ${l.line}`);
  }
  remember();
});

// Meanwhile contrib/sio-check, the self-check the docs tell the user to
// run, checks the site from outside: its held poll and its POST of
// maxPayload bytes must pass under mod_fcgid's default limits.
test('shared hosting: a held poll lasts pingInterval (25 s), below FcgidIOTimeout; sio-check passes', { skip }, async (t) => {
  assert.ok(alice && bob, 'the chat test ran');
  const t0 = now();
  const check = new Promise((resolve) => {
    const c = spawn(path.join(ROOT, 'contrib', 'sio-check'), [url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    c.on('close', (code) => resolve({ code, out }));
  });
  await sleep(PING_INTERVAL + 3000);
  const r = await check;
  t.diagnostic(`sio-check: ${r.out.trim().split('\n').join(' | ')}`);
  assert.equal(r.code, 0, r.out);
  for (const what of ['handshake', 'round trip', 'held poll', 'POST of maxPayload (100000)'])
    assert.match(r.out, new RegExp(`^PASS  ${what.replace(/[()]/g, '\\$&')}`, 'm'), what);
  assert.ok(alice.connected && bob.connected, 'both still connected after a ping interval');
  assert.deepEqual([...alice.all('disconnect'), ...bob.all('disconnect')], []);
  const alicesGets = () => accessLines().filter((l) => l.method === 'GET' && l.uri.includes(`sid=${aliceEngine}`));
  // If alice's last request came just before her ping was due, the poll
  // that carried it was short and the next one ends a whole interval
  // later: wait for it (up to two intervals from the start).
  while (!alicesGets().some((l) => l.us > 10e6) && now() - t0 < 2 * PING_INTERVAL + 5000)
    await sleep(500);
  const gets = alicesGets();
  // A poll is held until the next ping is due: how long depends on when
  // it began in the ping cycle (a poll sent 5 s after a ping waits 20 s),
  // so any wait far beyond a round trip shows holding; sio-check above
  // timed one poll against the whole interval.
  const held = gets.filter((l) => l.us > 10e6);
  t.diagnostic(`alice's GETs held over 10 s: ${held.map((l) => `${(l.us / 1e6).toFixed(1)} s -> ${l.status}`).join(', ')} ` +
    `(waited ${((now() - t0) / 1000).toFixed(1)} s)`);
  assert.ok(held.length >= 1, `a poll was held until the ping:\n${gets.map((l) => l.line).join('\n')}`);
  for (const l of held) {
    assert.equal(l.status, 200, l.line);
    assert.ok(l.us < FCGID_IO_TIMEOUT_MS * 1000 && l.us < (PING_INTERVAL + 2000) * 1000, l.line);
  }
  const failed = accessLines().filter((l) => l.uri.startsWith('/socket.io/') && l.status >= 400 &&
    !l.uri.includes(`sid=${overSid}`));
  assert.deepEqual(failed.map((l) => l.line), [], 'no request of the chat failed');
  remember();
});

test('shared hosting: a reconnect by sessionID keeps the userID and the conversation', { skip }, async () => {
  assert.ok(alice && conversation, 'the chat test ran');
  alice.close();
  assert.equal(await bob.waitAbout('user disconnected', alice.userID, 1, 15000), alice.userID);
  const again = await join(url, { sessionID: alice.sessionID }, JOIN);
  assert.deepEqual(again.session, { sessionID: alice.sessionID, userID: alice.userID });
  checkUsers(again.users);
  assert.equal(entry(again.users, alice.userID).username, 'alice');
  assert.deepEqual(entry(again.users, bob.userID).messages, conversation, 'the conversation, in "users"');
  assert.equal((await bob.waitAbout('user connected', alice.userID, 1, 15000)).username, 'alice');
  assert.equal(await again.send(bob.userID, 'back', 15000), undefined);
  assert.deepEqual((await bob.take('private message', { ms: 15000 }))[0],
    { content: 'back', from: alice.userID, to: bob.userID });
  remember();
});

test('shared hosting: consecutive requests of one session reach different sio-fcgi processes', { skip }, (t) => {
  assert.ok(aliceEngine, 'the chat test ran');
  // At debug level sio-fcgi logs "sio-fcgi[PID]: debug: front: METHOD URI -> STATUS".
  const lines = logLinesForSid(logText(), aliceEngine).filter((l) => / -> \d+$/.test(l.line));
  assert.ok(lines.length >= 4, `requests of sid ${aliceEngine}:\n${lines.map((l) => l.line).join('\n')}`);
  const pids = new Set(lines.map((l) => l.pid));
  let switches = 0;
  for (let i = 1; i < lines.length; i++) if (lines[i].pid !== lines[i - 1].pid) switches++;
  t.diagnostic(`sid ${aliceEngine}: ${lines.length} requests in ${pids.size} processes (${[...pids].join(', ')}), ` +
    `${switches} changes of process between consecutive requests; ${sioPids.size} sio-fcgi processes in all`);
  assert.ok(pids.size >= 2, `one session served by several processes: ${[...pids]}`);
  assert.ok(switches >= 1, 'consecutive requests ran in different processes');
  assert.ok(sioPids.size <= 100, 'within FcgidMaxProcessesPerClass');
});

test('shared hosting: a second install in /chat/ (SIO_PATH /chat/socket.io) is a chat of its own', { skip }, async (t) => {
  assert.ok(apache, msg('apache2 not started'));
  const page = await fetch(new URL('chat/', url));
  assert.equal(page.status, 200, 'GET /chat/');
  assert.equal(await page.text(), fs.readFileSync(path.join(WWW, 'index.html'), 'utf8'));
  assert.equal((await fetch(new URL('chat/vendor/socket.io.min.js', url))).status, 200);
  // The page's own computation of its path (www/chat.js).
  assert.equal(new URL('socket.io/', new URL('chat/', url)).pathname, '/chat/socket.io/');
  const opts = { ...JOIN, path: '/chat/socket.io/' };
  const t0 = now();
  const carol = await join(url, { username: 'carol' }, opts);
  const dave = await join(url, { username: 'dave' }, opts);
  t.diagnostic(`joins in /chat/ took ${(now() - t0).toFixed(0)} ms`);
  // Its own database: the users of the root install are not there.
  assert.deepEqual(dave.users.map((u) => u.username).sort(), ['carol', 'dave']);
  assert.equal(await carol.send(dave.userID, 'in chat/', 15000), undefined);
  assert.deepEqual((await dave.take('private message', { ms: 15000 }))[0],
    { content: 'in chat/', from: carol.userID, to: dave.userID });
  assert.equal(await dave.send(carol.userID, 'yes', 15000), undefined);
  assert.deepEqual((await carol.take('private message', { ms: 15000 }))[0],
    { content: 'yes', from: dave.userID, to: carol.userID });
  const sid = carol.s.io.engine.id;
  const lines = logLinesForSid(fs.readFileSync(SUB_LOG, 'utf8'), sid).filter((l) => / -> 200$/.test(l.line));
  assert.ok(lines.length >= 2 && lines.every((l) => l.line.includes('front: ') && / \/chat\/socket\.io\/\?/.test(l.line)),
    `carol's requests reached the /chat/ install as /chat/socket.io/:\n${lines.map((l) => l.line).join('\n')}`);
  assert.ok(fs.existsSync(path.join(SUB_DATA, 'data.mdb')));
  remember();
  carol.close();
  dave.close();
});

test('shared hosting: a wrapper whose database is in the web space refuses to start', { skip }, async () => {
  assert.ok(apache, msg('apache2 not started'));
  const r = await request('GET', new URL('bad/socket.io/?EIO=4&transport=polling', url), { timeout: 15000 });
  assert.equal(r.status, 500);
  assert.match(errorLog(), /sio\.fcgi: \S+\/public_html\/bad\/data is inside the web space/);
  assert.ok(!fs.existsSync(path.join(WEB, 'bad', 'data')), 'nothing created there');
});

test('shared hosting: the database is outside the web space and cannot be downloaded', { skip }, async () => {
  assert.ok(apache, msg('apache2 not started'));
  assert.ok(fs.existsSync(path.join(DATA, 'data.mdb')), `the LMDB environment is in ${DATA}`);
  assert.ok(!DATA.startsWith(`${WEB}/`));
  assert.equal(fs.statSync(DATA).mode & 0o077, 0, 'the database directory is the user\'s alone');
  // Nothing appeared in the web space.
  const files = [];
  const walk = (d, rel = '') => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${rel}${e.name}/`);
      else files.push(`${rel}${e.name}`);
    }
  };
  walk(WEB);
  const uploaded = ['.htaccess', 'sio.fcgi', ...PAGE];
  assert.deepEqual(files.sort(), [...uploaded, ...uploaded.map((f) => `chat/${f}`),
    ...uploaded.map((f) => `bad/${f}`)].sort(), 'the web space holds only what was uploaded');
  // No URL reaches it.
  for (const p of ['/sio-fcgi/data/data.mdb', '/data.mdb', '/../sio-fcgi/data/data.mdb', '/%2e%2e/sio-fcgi/data/data.mdb']) {
    const r = await rawRequest(url, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.ok([400, 403, 404].includes(r.status), `GET ${p}: ${r.status}`);
    assert.ok(!r.body.includes(Buffer.from('private message')), `GET ${p} leaks nothing`);
  }
  // Nor do the recipe's files give anything away.
  assert.equal((await request('GET', new URL('.htaccess', url))).status, 403);
  const wrapper = await request('GET', new URL('sio.fcgi', url));
  assert.equal(wrapper.status, 404, 'sio.fcgi runs (sio-fcgi answers 404 outside /socket.io/), never shows itself');
  assert.ok(!wrapper.text.includes('SIO_DATA'));
});

test('shared hosting: the stop leaves no process behind', { skip }, async (t) => {
  assert.ok(apache, msg('apache2 not started'));
  remember();
  closeAll();
  const pids = [...sioPids];
  const t0 = now();
  apache.kill('SIGTERM');
  assert.ok(await waitExit(apache, 15000), 'apache2 stopped');
  await until(() => pids.every(processGone), `sio-fcgi processes ${pids} gone`, 5000).catch(() => {});
  t.diagnostic(`stopped in ${(now() - t0).toFixed(0)} ms; sio-fcgi processes checked: ${pids.join(', ')}`);
  assert.deepEqual(pids.filter((p) => !processGone(p)), [], 'every sio-fcgi process is gone');
  assert.deepEqual(sioProcesses(), []);
});
