// Turn bench/run's results.jsonl (one loadgen JSON line per run) into
// Markdown tables, with the ratios sio-fcgi / Node.
//
//   node bench/report.mjs results.jsonl [machine.txt]
//
// Not part of the test suite.
import fs from 'node:fs';

const [file, machine] = process.argv.slice(2);
if (!file) {
	console.error('usage: node bench/report.mjs results.jsonl [machine.txt]');
	process.exit(2);
}
const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
	try { return JSON.parse(l); } catch { return { label: '?', ok: false, error: `bad line: ${l}` }; }
});
const out = [];
const p = (s) => out.push(s);
const f = (v, d = 0) => (v === undefined || v === null || Number.isNaN(v) ? '–' :
	Number(v).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const mib = (kib) => (kib ? f(kib / 1024, 0) : '–');
const ratio = (a, b, d = 2) => (a && b ? `${f(a / b, d)}×` : '–');
const split = (r) => { const [scenario, server] = String(r.label).split('/'); return { scenario, server }; };

if (machine && fs.existsSync(machine)) {
	p('```');
	p(fs.readFileSync(machine, 'utf8').trim());
	p('```');
	p('');
}

const raw = rows.filter((r) => r.mode === 'raw');
if (raw.length) {
	p('Raw ceiling (lighttpd + trivial libfcgi responder):');
	p('');
	p('| tool | req/s | server CPU µs/request | p50 ms | p99 ms |');
	p('|---|---:|---:|---:|---:|');
	for (const r of raw)
		p(`| ${r.tool ?? `loadgen raw, ${r.conns} conns`} | ${f(r.req_per_s)}${r.req_per_s_all ? ` (runs: ${r.req_per_s_all.map((x) => f(x)).join(', ')})` : ''} | ${f(r.cpu_us_per_request, 1)} | ${f(r.lat_ms?.p50, 2)} | ${f(r.lat_ms?.p99, 2)} |`);
	p('');
}

// With bench/run --repeat, a scenario and server have several runs: the
// tables show the run of median msg/s (the lower of the two middle ones
// for an even count), or a failed one if any failed, with the msg/s of
// every run beside it.
const chatRuns = rows.filter((r) => r.mode === 'chat' || (r.mode === undefined && !/^(raw|idle)\//.test(r.label)));
const groups = new Map();
for (const r of chatRuns) {
	if (!groups.has(r.label)) groups.set(r.label, []);
	groups.get(r.label).push(r);
}
const chat = [...groups.values()].map((g) => {
	if (g.length === 1) return g[0];
	const all = g.map((r) => r.msgs_per_s);
	const bad = g.find((r) => !r.ok);
	if (bad) return { ...bad, runs_msgs_per_s: all };
	const s = [...g].sort((a, b) => a.msgs_per_s - b.msgs_per_s);
	return { ...s[(s.length - 1) >> 1], runs_msgs_per_s: all };
});
if (chat.length) {
	p('Chat (every delivery checked; latency = emit to delivery; CPU = all server processes, front included, over the message phase, in CPU-seconds per second (2 = both cores); other load = CPU used meanwhile by neither the servers nor the loadgen):');
	p('');
	p('| scenario | server | users×tabs | msgs | connect s | msg/s | p50 ms | p95 ms | p99 ms | max ms | CPU µs/delivery | CPU util | other load | peak RSS MiB | peak PSS MiB | of it anon MiB | ok |');
	p('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
	for (const r of chat) {
		const { scenario, server } = split(r);
		p(`| ${scenario} | ${server} | ${r.users ?? '–'}×${r.tabs ?? '–'} | ${f(r.messages)} | ${f(r.connect_s, 2)} | ${f(r.msgs_per_s)}${r.runs_msgs_per_s ? ` (runs: ${r.runs_msgs_per_s.map((x) => f(x)).join(', ')})` : ''} | ${f(r.lat_ms?.p50, 1)} | ${f(r.lat_ms?.p95, 1)} | ${f(r.lat_ms?.p99, 1)} | ${f(r.lat_ms?.max, 1)} | ${f(r.cpu_us_per_delivery, 0)} | ${f(r.server_cpu_util, 2)} | ${f(r.other_cpu_util, 2)} | ${mib(r.rss_peak_kib)} | ${mib(r.pss_peak_kib)} | ${mib(r.pss_anon_peak_kib)} | ${r.ok ? 'yes' : `**no**: ${r.error ?? ''}`} |`);
	}
	p('');
	p('HTTP requests of the message phase (every poll and POST, each one a FastCGI request for sio-fcgi) and the servers\' CPU per request:');
	p('');
	p('| scenario | server | requests | per message | msgs per POST | CPU µs/request |');
	p('|---|---|---:|---:|---:|---:|');
	for (const r of chat) {
		const { scenario, server } = split(r);
		if (!r.phase_requests || !r.messages) continue;
		p(`| ${scenario} | ${server} | ${f(r.phase_requests)} | ${f(r.phase_requests / r.messages, 2)} | ${f(r.msgs_per_post, 1)} | ${f(r.server_cpu_s * 1e6 / r.phase_requests, 0)} |`);
	}
	p('');
	p('Ratios sio-fcgi / Node (msg/s above 1 = sio-fcgi faster; latency, CPU and memory above 1 = sio-fcgi costs more; memory by PSS):');
	p('');
	p('| scenario | sio-fcgi server | connect time | msg/s | p50 | p99 | CPU/delivery | peak RSS | peak PSS | peak anon |');
	p('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
	const by = new Map(chat.map((r) => [r.label, r]));
	for (const r of chat) {
		const { scenario, server } = split(r);
		if (server === 'node' || !r.ok) continue;
		const n = by.get(`${scenario}/node`) ?? (scenario.endsWith('-none') ? by.get(`${scenario.slice(0, -5)}/node`) : undefined);
		if (!n || !n.ok) continue;
		p(`| ${scenario} | ${server} | ${ratio(r.connect_s, n.connect_s)} | ${ratio(r.msgs_per_s, n.msgs_per_s)} | ${ratio(r.lat_ms?.p50, n.lat_ms?.p50)} | ${ratio(r.lat_ms?.p99, n.lat_ms?.p99)} | ${ratio(r.cpu_us_per_delivery, n.cpu_us_per_delivery)} | ${ratio(r.rss_peak_kib, n.rss_peak_kib)} | ${ratio(r.pss_peak_kib, n.pss_peak_kib)} | ${ratio(r.pss_anon_peak_kib, n.pss_anon_peak_kib)} |`);
	}
	p('');
}

const idle = rows.filter((r) => r.mode === 'idle' || (r.mode === undefined && /^idle\//.test(r.label)));
if (idle.length) {
	p('Idle sessions (Engine.IO sessions held through ping cycles; ping late = ping arrival minus pong answered + pingInterval):');
	p('');
	p('| server | sessions | fronts | ping interval/timeout s | connect s | sessions/s | ping late p50 ms | p99 ms | max ms | CPU µs/ping | CPU util | other load | peak RSS MiB | peak PSS MiB | ok |');
	p('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
	for (const r of idle) {
		const { server } = split(r);
		p(`| ${server} | ${f(r.sessions)} | ${r.fronts ?? '–'} | ${r.ping_interval_ms ? `${r.ping_interval_ms / 1000}/${r.ping_timeout_ms / 1000}` : '–'} | ${f(r.connect_s, 2)} | ${f(r.connect_per_s)} | ${f(r.ping_late_ms?.p50, 0)} | ${f(r.ping_late_ms?.p99, 0)} | ${f(r.ping_late_ms?.max, 0)} | ${f(r.cpu_us_per_ping, 0)} | ${f(r.server_cpu_util, 2)} | ${f(r.other_cpu_util, 2)} | ${mib(r.rss_peak_kib)} | ${mib(r.pss_peak_kib)} | ${r.ok ? 'yes' : `**no**: ${r.error ?? ''}`} |`);
	}
	const n = idle.find((r) => split(r).server === 'node' && r.ok);
	if (n) {
		p('');
		p('| ratio sio-fcgi / Node | connect time | CPU/ping | peak PSS |');
		p('|---|---:|---:|---:|');
		for (const r of idle) {
			const { server } = split(r);
			if (server === 'node' || !r.ok) continue;
			p(`| ${server} | ${ratio(r.connect_s, n.connect_s)} | ${ratio(r.cpu_us_per_ping, n.cpu_us_per_ping)} | ${ratio(r.pss_peak_kib, n.pss_peak_kib)} |`);
		}
	}
	p('');
}
console.log(out.join('\n'));
