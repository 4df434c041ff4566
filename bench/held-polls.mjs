// Hold N Engine.IO long-polls at once against one server and report what
// the server processes cost while they wait.
//
//   node bench/held-polls.mjs --url http://127.0.0.1:P/engine.io/[,URL...] \
//       --polls 10000 --pids PID[,PID...]
//
// With several URLs (front servers sharing one sio-fcgi), session i is
// opened through front i and polled and woken through front i + 1: no
// request of a session needs the front that opened it.
// 1. opens N sessions (handshakes, 200 at a time);
// 2. sends one GET per session, all at once, each on its own connection;
//    the server has nothing to send, so every one of them is held;
// 3. after the GETs have been in flight for --settle seconds, checks that
//    none has been answered, reads VmRSS and the open descriptors of each
//    server process, and wakes a sample of sessions with a POST, timing
//    POST -> GET answer;
// 4. prints one line of JSON.  Exit status 1 if any poll was answered
//    early, failed, or a woken GET did not carry its echo.
import http from 'node:http';
import fs from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
	if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
	return acc;
}, []));
const bases = (args.url ?? 'http://127.0.0.1:8080/engine.io/').split(',').map((u) => new URL(u));
const polls = Number(args.polls ?? 10000);
const settle = Number(args.settle ?? 5);
const sample = Math.min(Number(args.sample ?? 200), polls);
const pids = (args.pids ?? '').split(',').filter(Boolean).map(Number);

function request(i, method, query, body) {
	const base = bases[i % bases.length];
	return new Promise((resolve, reject) => {
		const req = http.request({
			host: base.hostname, port: base.port, method,
			path: `${base.pathname}?EIO=4&transport=polling${query}`,
			agent: false,
			headers: body === undefined ? {} :
			    { 'Content-Type': 'text/plain;charset=UTF-8',
			      'Content-Length': Buffer.byteLength(body) },
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode,
			    text: Buffer.concat(chunks).toString() }));
		});
		req.on('error', reject);
		req.setTimeout(120000, () => req.destroy(new Error('timeout')));
		req.end(body);
	});
}

function processInfo(pid) {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
		const threads = Number(/Threads:\s+(\d+)/.exec(status)[1]);
		const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
		return { pid, rss_kib: rss, threads, fds };
	} catch (e) {
		return { pid, error: String(e) };
	}
}

function pct(sorted, p) {
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const t0 = Date.now();
const sids = [];
for (let i = 0; i < polls; i += 200) {
	const batch = [];
	for (let j = i; j < Math.min(polls, i + 200); j++)
		batch.push(request(j, 'GET', ''));
	for (const r of await Promise.all(batch)) {
		if (r.status !== 200) throw new Error(`handshake: ${r.status} ${r.text}`);
		sids.push(JSON.parse(r.text.slice(1)).sid);
	}
}
const handshakeMs = Date.now() - t0;

let early = 0, failed = 0;
const gets = sids.map((sid, i) => {
	const p = request(i + 1, 'GET', `&sid=${sid}`);
	p.answeredAt = 0;
	p.then((r) => { p.answeredAt = process.hrtime.bigint(); p.status = r.status; },
	    () => { failed++; });
	return p;
});
await new Promise((r) => setTimeout(r, settle * 1000));
early = gets.filter((p) => p.answeredAt !== 0).length;
if (early)
	console.error('held-polls: answered early with statuses', [...new Set(gets.filter((p) => p.answeredAt).map((p) => p.status))]);
const servers = pids.map(processInfo);
console.error(`held-polls: after ${settle} s: ${early} answered, ${failed} failed; ` +
    servers.map((x) => `pid ${x.pid}: ${x.rss_kib} KiB, ${x.fds} fds`).join('; '));

// Wake a sample: POST an echo, time until its held GET answers.
const lat = [];
let wrong = 0;
for (let i = 0; i < sample; i++) {
	const k = Math.floor(i * polls / sample);
	const start = process.hrtime.bigint();
	const post = request(k + 1, 'POST', `&sid=${sids[k]}`, `4wake-${k}`);
	const got = await Promise.race([gets[k], new Promise((resolve) =>
	    setTimeout(() => resolve({ status: 0, text: '(no answer in 10 s)' }), 10000))]);
	lat.push(Number(process.hrtime.bigint() - start) / 1e6);
	if (got.text !== `4wake-${k}`) wrong++;
	await post;
}
lat.sort((a, b) => a - b);

const out = {
	polls, fronts: bases.length, handshake_ms: handshakeMs, settle_s: settle,
	answered_early: early, failed, woken: sample, wrong_echo: wrong,
	wake_ms: { p50: pct(lat, 0.5), p95: pct(lat, 0.95), max: lat.at(-1) },
	servers,
	rss_kib_total: servers.reduce((s, x) => s + (x.rss_kib ?? 0), 0),
};
console.log(JSON.stringify(out));
process.exit(early || failed || wrong ? 1 : 0);
