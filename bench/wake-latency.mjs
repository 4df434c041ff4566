// Wake latency of a held poll: how long after a POST commits in one
// sio-fcgi process the GET held by another process is answered.
//
//   node bench/wake-latency.mjs [--cycles 500] [--mode spawn|daemon] [--procs 2]
//
// Starts lighttpd + sio-fcgi (contrib/serve) with --log-level debug, opens
// one Engine.IO session on the echo endpoint, and repeats: send a GET
// (held: nothing queued), wait 5 ms so that it is parked, POST a message,
// wait for the GET's answer.  The server logs, for every answer to a held
// GET that a ring woke, "woke sid=... in N us": the time from the ring,
// sent right after the waking commit, to the answer ready to write.  Reported:
// that server-side latency, the client's POST-sent-to-GET-answered time,
// and how many wakes crossed processes.  Last line: JSON.
import http from 'node:http';
import { startServer } from '../tests/integration/lib/server.mjs';

const opt = { cycles: 500, mode: 'spawn', procs: 2 };
for (let i = 2; i < process.argv.length; i += 2)
	opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const cycles = Number(opt.cycles);

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function request(method, url, body) {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method, agent, headers: body === undefined ? {} :
		    { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) } },
		    (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
		});
		req.on('error', reject);
		req.end(body);
	});
}
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const srv = await startServer({ mode: opt.mode, procs: Number(opt.procs),
    args: ['--log-level', 'debug', '--ping-interval', '600000', '--ping-timeout', '60000'] });
let failures = 0;
const client = [];
try {
	const base = `${srv.url}engine.io/?EIO=4&transport=polling`;
	const hs = await request('GET', base);
	const sid = JSON.parse(hs.text.slice(1)).sid;
	const url = `${base}&sid=${sid}`;
	for (let i = 0; i < cycles; i++) {
		const get = request('GET', url);
		await sleep(5);
		const t0 = process.hrtime.bigint();
		const post = request('POST', url, `4m${i}`);
		const got = await get;
		client.push(Number(process.hrtime.bigint() - t0) / 1000);
		if (got.text !== `4m${i}`) failures++;
		await post;
	}
} finally {
	await sleep(200);
	var log = srv.logText();
	await srv.stop();
	agent.destroy();
}

const server = [];
const pidsWoken = {}, pidsPost = {};
for (const line of log.split('\n')) {
	const pid = (/sio-fcgi\[(\d+)\]/.exec(line) ?? [])[1];
	let m = / woke sid=\S+ in (\d+) us/.exec(line);
	if (m) { server.push(Number(m[1])); pidsWoken[pid] = (pidsWoken[pid] ?? 0) + 1; }
	if (/front: POST /.test(line)) pidsPost[pid] = (pidsPost[pid] ?? 0) + 1;
}
server.sort((a, b) => a - b);
client.sort((a, b) => a - b);
const res = {
	mode: opt.mode, procs: Number(opt.procs), cycles, failures,
	server_us: { n: server.length, p50: pct(server, 0.5), p95: pct(server, 0.95), p99: pct(server, 0.99), max: server.at(-1) },
	client_us: { p50: Math.round(pct(client, 0.5)), p95: Math.round(pct(client, 0.95)), p99: Math.round(pct(client, 0.99)) },
	woken_by_pid: pidsWoken, posts_by_pid: pidsPost,
};
console.log(`wake latency, server side (ring -> answer ready): p50 ${res.server_us.p50} us, p95 ${res.server_us.p95} us, p99 ${res.server_us.p99} us over ${server.length} wakes`);
console.log(`client side (POST sent -> held GET answered): p50 ${res.client_us.p50} us, p95 ${res.client_us.p95} us`);
console.log(JSON.stringify(res));
process.exit(failures || server.length < cycles * 0.9 ? 1 : 0);
