/*
 * bench/loadgen: a load generator for Socket.IO servers over Engine.IO v4
 * HTTP long-polling (no WebSocket), in C on one epoll event loop.
 *
 *   cc -O2 -o loadgen bench/loadgen.c -ljson-c
 *
 *   loadgen --mode chat --url http://127.0.0.1:P/socket.io/ --users N
 *           [--tabs K] [--messages M] [--window W] [--global-window]
 *           [--size BYTES] [--pids PID,...] [--label TEXT] ...
 *   loadgen --mode idle --url URL[,URL...] --sessions S [--pings C] ...
 *   loadgen --mode raw  --url http://127.0.0.1:P/hello [--conns C]
 *           [--duration SEC]
 *
 * chat: the private-messaging chat of the Socket.IO guide (APP.md 1).
 *   N users connect, K tabs (sockets) each: tab 0 sends
 *   40{"username":"uI"}, the others 40{"sessionID":...} once tab 0 got
 *   its session; a socket is ready when it has "session" and "users".
 *   At most --connect-batch sockets are connecting at a time.  When all
 *   are ready, every user sends M private messages, each to a random
 *   other user, from its tabs in turn, keeping at most W messages in
 *   flight (emitted but not yet delivered everywhere) per user, or in
 *   total with --global-window.  As the official client does, a socket
 *   has at most one POST in flight, and the messages emitted meanwhile go
 *   in its next POST, joined by 0x1E.  Every socket keeps one long-poll
 *   GET outstanding on its own keep-alive connection and answers every
 *   ping with a pong.  Every delivery is checked: a message must reach
 *   each tab of the recipient and each other tab of the sender exactly
 *   once, with content, from and to unaltered; any loss, duplicate,
 *   stray delivery, HTTP error, protocol error, close or "user
 *   disconnected" fails the run.  At the end every socket must have seen
 *   every user (in "users" or a "user connected").
 * idle: S Engine.IO sessions (handshake only, no Socket.IO CONNECT)
 *   kept alive by answering pings, until each one got C pings.
 * raw: C keep-alive connections GET the URL as fast as they can for
 *   --duration seconds (the ceiling, when wrk is not installed).
 *
 * POSTs go through a pool of keep-alive connections (--post-conns, by
 * default one per socket up to 2000); a poll has a connection of its own.
 * With several URLs (front servers sharing one backend) socket i polls
 * through front i mod F, and the POST connections are spread over all.
 *
 * --pids: the server processes; each one's descendants (present at each
 * sample) are included.  CPU is utime+stime+cutime+cstime from
 * /proc/PID/stat summed over them, as a delta over the connect phase and
 * over the message (or hold) phase; RSS and PSS are the peaks over the
 * run of the sums of their VmRSS, Pss and Pss_Anon (smaps_rollup: the
 * anonymous part is private memory, the rest mapped files such as an
 * LMDB data file, whose pages are the kernel's page cache), sampled every
 * 200 ms, and the sum of their VmHWM at the end.  "other_cpu_util" is
 * the machine's busy CPU (/proc/stat) over the phase minus the servers'
 * and the loadgen's own: what else ran meanwhile.
 * Pings: "ping_late_ms" is each ping's arrival minus (the answer to the
 * POST that carried the previous pong, or the handshake) + pingInterval;
 * "pong_rtt_ms" is a ping's arrival to its pong POST answered.
 * --timeline SEC prints the deliveries per SEC of the message phase.
 *
 * Output: progress on stderr; a summary on stdout whose last line is one
 * line of JSON.  Exit status 0 when everything checked out, 1 otherwise.
 * Not part of the test suite.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define LG_MAX_FRONTS	16
#define LG_MAX_TABS	16
#define LG_MAX_PIDS	32
#define LG_RS		'\x1e'

/* ---------------------------------------------------------------- util */

static uint64_t
lg_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

static void	lg_fail(const char *, ...) __attribute__((format(printf, 1, 2)));

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
buf_need(struct buf *b, size_t n)
{
	size_t	cap;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((b->p = realloc(b->p, cap)) == NULL) {
		perror("realloc");
		exit(2);
	}
	b->cap = cap;
}

static void
buf_add(struct buf *b, const void *d, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_need(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Append s as a JSON string (quotes included). */
static void
buf_add_json_string(struct buf *b, const char *s, size_t len)
{
	size_t	i;

	buf_add(b, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char	e[2] = { '\\', (char)c };

			buf_add(b, e, 2);
		} else if (c < 0x20) {
			char	e[8];

			snprintf(e, sizeof(e), "\\u%04x", c);
			buf_add(b, e, 6);
		} else
			buf_add(b, &s[i], 1);
	}
	buf_add(b, "\"", 1);
}

static uint64_t	lg_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
lg_random(void)
{
	lg_rng ^= lg_rng << 13;
	lg_rng ^= lg_rng >> 7;
	lg_rng ^= lg_rng << 17;
	return (lg_rng);
}

/* ------------------------------------------------------------- options */

enum lg_mode { MODE_CHAT, MODE_IDLE, MODE_RAW };

static struct {
	enum lg_mode	 mode;
	int		 users;
	int		 tabs;
	int		 messages;
	int		 window;
	bool		 global_window;
	int		 size;
	int		 sessions;
	int		 pings;
	int		 conns;
	double		 duration;
	int		 post_conns;
	int		 connect_batch;
	double		 timeout;
	double		 stall;
	double		 grace;
	const char	*label;
	double		 timeline;
	int		 npids;
	int		 pids[LG_MAX_PIDS];
	bool		 quiet;
} opt = {
	.mode = MODE_CHAT, .users = 100, .tabs = 1, .messages = 100,
	.window = 100, .size = 0, .sessions = 1000, .pings = 3, .conns = 50,
	.duration = 10, .post_conns = 0, .connect_batch = 100,
	.timeout = 900, .stall = 60, .grace = 1.0, .label = "",
};

struct front {
	struct sockaddr_in	 addr;
	char			 hostport[64];
	char			 path[256];
};
static struct front	fronts[LG_MAX_FRONTS];
static int		nfronts;

/* ----------------------------------------------------------- processes */

struct proc_sample {
	double		cpu_s;		/* utime+stime+cutime+cstime, seconds */
	long		rss_kib;	/* sum of VmRSS */
	long		hwm_kib;	/* sum of VmHWM */
	long		pss_kib;	/* sum of Pss (shared pages split) */
	long		anon_kib;	/* sum of Pss_Anon: private memory */
	int		nproc;
	double		machine_s;	/* busy CPU time of the whole machine */
	double		self_s;		/* this process's CPU time */
};

static double	self_cpu(void);

static long	lg_clk_tck;

/* The processes of opt.pids and their descendants, summed. */
static void
proc_sample(struct proc_sample *ps)
{
	DIR		*d;
	struct dirent	*de;
	int		*pid = NULL, *ppid = NULL, n = 0, cap = 0, i, j;
	bool		*in;
	bool		 more;
	char		 path[300], line[1024];
	FILE		*f;

	memset(ps, 0, sizeof(*ps));
	ps->self_s = self_cpu();
	if ((f = fopen("/proc/stat", "r")) != NULL) {
		unsigned long long	v[8] = { 0 };

		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
			/* All but idle (3) and iowait (4). */
			ps->machine_s = (double)(v[0] + v[1] + v[2] + v[5] +
			    v[6] + v[7]) / (double)lg_clk_tck;
		fclose(f);
	}
	if (opt.npids == 0)
		return;
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char	*e, *p;
		long	 v;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) == NULL) {
			fclose(f);
			continue;
		}
		fclose(f);
		if ((p = strrchr(line, ')')) == NULL)
			continue;
		/* ") S PPID" */
		v = strtol(p + 4, &e, 10);
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			pid = realloc(pid, (size_t)cap * sizeof(*pid));
			ppid = realloc(ppid, (size_t)cap * sizeof(*ppid));
		}
		pid[n] = atoi(de->d_name);
		ppid[n] = (int)v;
		n++;
	}
	closedir(d);
	in = calloc((size_t)n + 1, sizeof(*in));
	for (i = 0; i < n; i++)
		for (j = 0; j < opt.npids; j++)
			if (pid[i] == opt.pids[j])
				in[i] = true;
	do {
		more = false;
		for (i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (j = 0; j < n; j++)
				if (in[j] && pid[j] == ppid[i]) {
					in[i] = more = true;
					break;
				}
		}
	} while (more);
	for (i = 0; i < n; i++) {
		char			*p, *save;
		int			 k;
		unsigned long long	 t = 0;

		if (!in[i])
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) == NULL ||
		    (p = strrchr(line, ')')) == NULL) {
			fclose(f);
			continue;
		}
		fclose(f);
		/* Fields after ")": 3 state ... 14 utime 15 stime 16 cutime 17 cstime. */
		p = strtok_r(p + 1, " ", &save);
		for (k = 3; p != NULL && k <= 17; k++) {
			if (k >= 14)
				t += strtoull(p, NULL, 10);
			p = strtok_r(NULL, " ", &save);
		}
		ps->cpu_s += (double)t / (double)lg_clk_tck;
		ps->nproc++;
		snprintf(path, sizeof(path), "/proc/%d/status", pid[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "VmRSS:", 6) == 0)
				ps->rss_kib += atol(line + 6);
			else if (strncmp(line, "VmHWM:", 6) == 0)
				ps->hwm_kib += atol(line + 6);
		}
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "Pss:", 4) == 0)
				ps->pss_kib += atol(line + 4);
			else if (strncmp(line, "Pss_Anon:", 9) == 0)
				ps->anon_kib += atol(line + 9);
		}
		fclose(f);
	}
	free(in);
	free(pid);
	free(ppid);
}

static double
self_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* ------------------------------------------------------- state: global */

/* A growable set of signed samples, microseconds. */
struct samples {
	int64_t	*v;
	size_t	 n, cap;
	bool	 sorted;
};
static struct samples	ping_late, pong_rtt;

static void
sample_add(struct samples *sm, int64_t v)
{
	if (sm->n == sm->cap) {
		sm->cap = sm->cap ? sm->cap * 2 : 1024;
		sm->v = realloc(sm->v, sm->cap * sizeof(*sm->v));
	}
	sm->v[sm->n++] = v;
	sm->sorted = false;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Percentile p of sm in milliseconds. */
static double
sample_pct(struct samples *sm, double p)
{
	if (sm->n == 0)
		return (0);
	if (!sm->sorted) {
		qsort(sm->v, sm->n, sizeof(*sm->v), cmp_i64);
		sm->sorted = true;
	}
	return (sm->v[(size_t)(p / 100.0 * (double)(sm->n - 1) + 0.5)] / 1000.0);
}

static int	ep;
static char	errors_first[2048];
static int	nerrors;

static struct {
	uint64_t	requests, polls, posts, handshakes, retries, reconnects;
	uint64_t	pings, pongs, user_connected, user_disconnected;
	uint64_t	deliveries, post_msgs;
	uint64_t	bytes_in, bytes_out;
} st;

/* ------------------------------------------------------------- HTTP */

enum req_type { RQ_NONE, RQ_HANDSHAKE, RQ_POLL, RQ_POST, RQ_RAW };

struct sess;

struct conn {
	int		 fd;
	int		 front;
	bool		 connecting;
	bool		 want_write;
	bool		 is_pool;
	struct sess	*owner;		/* the session of the request */
	enum req_type	 rq;		/* RQ_NONE: idle */
	struct buf	 req;
	size_t		 req_off;
	struct buf	 in;
	bool		 got_bytes;
	bool		 retried;
	unsigned	 nreq;		/* requests answered on this TCP connection */
	uint64_t	 t_idle;
	uint64_t	 t_sent;
	int		 post_msgs;	/* messages in the POST in flight */
	bool		 post_pong;	/* it carries a pong */
	/* response parser */
	bool		 hdr_done;
	int		 status;
	long		 clen;
	bool		 chunked;
	bool		 close_after;
	size_t		 pos;		/* parse position in in */
	struct buf	 body;
	long		 chunk_left;	/* -1: expecting a size line */
	int		 raw_idx;
};

static struct buf	scratch;	/* the body of the response handled */

static void	conn_io(struct conn *, uint32_t);
static void	on_response(struct conn *, int, const char *, size_t);

static void
conn_events(struct conn *c)
{
	struct epoll_event	ev;

	ev.events = EPOLLIN | EPOLLRDHUP | (c->want_write ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		lg_fail("epoll_ctl: %s", strerror(errno));
}

static void
conn_reset_parser(struct conn *c)
{
	c->hdr_done = false;
	c->status = 0;
	c->clen = -1;
	c->chunked = false;
	c->close_after = false;
	c->pos = 0;
	c->chunk_left = -1;
	buf_reset(&c->body);
	c->got_bytes = false;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->connecting = false;
	c->want_write = false;
	c->nreq = 0;
	buf_reset(&c->in);
	conn_reset_parser(c);
}

static void
conn_open(struct conn *c)
{
	struct epoll_event	ev;
	int			one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		lg_fail("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&fronts[c->front].addr,
	    sizeof(fronts[c->front].addr)) < 0 && errno != EINPROGRESS)
		lg_fail("connect %s: %s", fronts[c->front].hostport,
		    strerror(errno));
	c->connecting = true;
	c->want_write = true;
	c->nreq = 0;
	st.reconnects++;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		lg_fail("epoll_ctl add: %s", strerror(errno));
}

static void
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (c->req_off < c->req.len) {
		n = send(c->fd, c->req.p + c->req_off, c->req.len - c->req_off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The server is gone: the read side reports it. */
			c->req_off = c->req.len;
			break;
		}
		c->req_off += (size_t)n;
		st.bytes_out += (size_t)n;
	}
	if ((c->req_off < c->req.len) != c->want_write) {
		c->want_write = c->req_off < c->req.len;
		conn_events(c);
	}
}

/* Send c->req (already built); opens the connection when needed. */
static void
conn_send(struct conn *c, enum req_type rq)
{
	c->rq = rq;
	c->req_off = 0;
	c->t_sent = lg_now();
	conn_reset_parser(c);
	st.requests++;
	/* Servers close keep-alive connections idle for 5 s: do not race them. */
	if (c->fd >= 0 && c->nreq > 0 && c->t_sent - c->t_idle > 3000000)
		conn_close(c);
	if (c->fd < 0) {
		conn_open(c);
		return;
	}
	if (!c->connecting)
		conn_flush(c);
}

static void
conn_build(struct conn *c, const char *method, const char *sid,
    const char *body, size_t blen)
{
	struct front	*f = &fronts[c->front];

	buf_reset(&c->req);
	if (opt.mode == MODE_RAW)
		buf_printf(&c->req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
		    f->path, f->hostport);
	else
		buf_printf(&c->req, "%s %s?EIO=4&transport=polling%s%s HTTP/1.1\r\n"
		    "Host: %s\r\n", method, f->path, sid ? "&sid=" : "",
		    sid ? sid : "", f->hostport);
	if (body != NULL) {
		buf_printf(&c->req, "Content-Type: text/plain;charset=UTF-8\r\n"
		    "Content-Length: %zu\r\n\r\n", blen);
		buf_add(&c->req, body, blen);
	} else
		buf_adds(&c->req, "\r\n");
}

static const char *
lg_memmem_ci_header(const char *h, size_t hl, const char *name)
{
	size_t	nl = strlen(name), i;

	for (i = 0; i + nl < hl; i++) {
		if ((i == 0 || h[i - 1] == '\n') && strncasecmp(h + i, name, nl) == 0)
			return (h + i + nl);
	}
	return (NULL);
}

/* 1: a whole response is in c->body (or the in buffer), 0: more, -1: bad. */
static int
conn_parse(struct conn *c)
{
	char		*end, *v;
	size_t		 hl;

	if (!c->hdr_done) {
		if ((end = memmem(c->in.p, c->in.len, "\r\n\r\n", 4)) == NULL)
			return (c->in.len > 65536 ? -1 : 0);
		hl = (size_t)(end - c->in.p) + 4;
		if (c->in.len < 12 || strncmp(c->in.p, "HTTP/1.", 7) != 0)
			return (-1);
		c->status = atoi(c->in.p + 9);
		if ((v = (char *)lg_memmem_ci_header(c->in.p, hl,
		    "content-length:")) != NULL)
			c->clen = atol(v);
		if ((v = (char *)lg_memmem_ci_header(c->in.p, hl,
		    "transfer-encoding:")) != NULL) {
			while (*v == ' ')
				v++;
			c->chunked = strncasecmp(v, "chunked", 7) == 0;
		}
		if ((v = (char *)lg_memmem_ci_header(c->in.p, hl,
		    "connection:")) != NULL) {
			while (*v == ' ')
				v++;
			c->close_after = strncasecmp(v, "close", 5) == 0;
		}
		if (strncmp(c->in.p, "HTTP/1.0", 8) == 0 &&
		    (v == NULL || strncasecmp(v, "keep-alive", 10) != 0))
			c->close_after = true;
		c->hdr_done = true;
		c->pos = hl;
		if (!c->chunked && c->clen < 0)
			return (-1);	/* read-to-close: not expected */
	}
	if (!c->chunked) {
		if (c->in.len - c->pos < (size_t)c->clen)
			return (0);
		buf_add(&c->body, c->in.p + c->pos, (size_t)c->clen);
		c->pos += (size_t)c->clen;
		return (1);
	}
	for (;;) {
		if (c->chunk_left < 0) {
			char	*nl = memmem(c->in.p + c->pos, c->in.len - c->pos,
			    "\r\n", 2);

			if (nl == NULL)
				return (0);
			c->chunk_left = strtol(c->in.p + c->pos, NULL, 16);
			c->pos = (size_t)(nl - c->in.p) + 2;
			if (c->chunk_left == 0) {
				/* No trailers expected: the final CRLF. */
				c->chunk_left = -2;
			}
		}
		if (c->chunk_left == -2) {
			if (c->in.len - c->pos < 2)
				return (0);
			c->pos += 2;
			return (1);
		}
		if (c->in.len - c->pos < (size_t)c->chunk_left + 2)
			return (0);
		buf_add(&c->body, c->in.p + c->pos, (size_t)c->chunk_left);
		c->pos += (size_t)c->chunk_left + 2;
		c->chunk_left = -1;
	}
}

static void
conn_lost(struct conn *c, const char *why)
{
	enum req_type	rq = c->rq;

	if (rq == RQ_NONE) {
		/* An idle keep-alive connection the server closed. */
		conn_close(c);
		return;
	}
	if (!c->got_bytes && c->nreq > 0 && !c->retried) {
		/* The server closed a reused connection as we wrote: retry. */
		conn_close(c);
		c->retried = true;
		st.retries++;
		c->req_off = 0;
		conn_open(c);
		return;
	}
	lg_fail("connection to %s lost during a %s (%s, %zu bytes of answer)",
	    fronts[c->front].hostport,
	    rq == RQ_POLL ? "poll" : rq == RQ_POST ? "POST" :
	    rq == RQ_HANDSHAKE ? "handshake" : "request", why, c->in.len);
}

static void
conn_io(struct conn *c, uint32_t events)
{
	char	rb[65536];
	ssize_t	n;
	int	r;

	if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int		err = 0;
		socklen_t	len = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			if (c->rq == RQ_NONE)
				lg_fail("connect %s: %s", fronts[c->front].hostport,
				    strerror(err));
			lg_fail("connect %s: %s", fronts[c->front].hostport,
			    strerror(err));
		}
		c->connecting = false;
	}
	if (!c->connecting && c->want_write && (events & EPOLLOUT))
		conn_flush(c);
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		n = recv(c->fd, rb, sizeof(rb), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_lost(c, strerror(errno));
			return;
		}
		if (n == 0) {
			conn_lost(c, "closed by the server");
			return;
		}
		st.bytes_in += (size_t)n;
		if (c->rq == RQ_NONE)
			lg_fail("%s sent %zd bytes nobody asked for",
			    fronts[c->front].hostport, n);
		c->got_bytes = true;
		buf_add(&c->in, rb, (size_t)n);
		if ((size_t)n < sizeof(rb))
			break;
	}
	if (c->rq == RQ_NONE)
		return;
	r = conn_parse(c);
	if (r < 0)
		lg_fail("bad HTTP answer from %s: %.200s", fronts[c->front].hostport,
		    c->in.p);
	if (r == 0)
		return;
	if (c->pos != c->in.len)
		lg_fail("%s: %zu bytes after the answer", fronts[c->front].hostport,
		    c->in.len - c->pos);
	{
		enum req_type	rq = c->rq;
		int		status = c->status;

		buf_reset(&scratch);
		buf_add(&scratch, c->body.p ? c->body.p : "", c->body.len);
		buf_reset(&c->in);
		c->rq = RQ_NONE;
		c->nreq++;
		c->retried = false;
		c->t_idle = lg_now();
		if (c->close_after)
			conn_close(c);
		(void)rq;
		on_response(c, status, scratch.p, scratch.len);
	}
}

/* ------------------------------------------------------- chat sessions */

enum sess_phase { SP_WAIT, SP_HANDSHAKE, SP_OPEN, SP_READY, SP_DEAD };

struct user {
	char		 userID[40];
	char		 sessionID[80];
	int		 first;		/* index of tab 0's session */
	int		 sent;
	int		 inflight;
	int		 next_tab;
};

struct sess {
	int		 idx;
	int		 user;
	int		 tab;
	enum sess_phase	 phase;
	char		 sid[64];
	struct conn	 poll;
	struct buf	 outq;
	int		 outq_msgs;
	bool		 posting;
	bool		 queued;
	bool		 got_connect, got_session, got_users;
	int		 pings;
	uint64_t	 t_start, t_ready, t_last_ping;
	uint64_t	 max_ping_gap;
	uint64_t	 t_ping_expect;	/* when the next ping is due, our view */
	uint64_t	 t_ping_got;
	bool		 pong_queued;
	uint8_t		*known;
	int		 nknown;
};

struct msg {
	uint64_t	t_emit;
	int		from, to;
	uint8_t		from_tab;
	uint8_t		pending;
	uint32_t	got;		/* bit t: recipient tab t; bit 16+t: sender tab t */
};

static struct user	*users;
static struct sess	*sess;
static int		 nsess;
static struct msg	*msgs;
static uint32_t		 nmsgs_total, nmsgs_emitted, nmsgs_done;
static int		 global_inflight;
static int		 fill_cursor;
static uint32_t		*lat;		/* per delivery, microseconds */
static uint64_t		 nlat;

static struct conn	*pool;
static int		 npool;
static struct conn	**pool_idle;
static int		 npool_idle;
static struct sess	**postq;
static int		 postq_head, postq_len;

static int		 next_start, nconnecting, nready, nopen;
static int		*tabq;		/* tabs > 0 ready to start */
static int		 tabq_len;

static uint64_t		 t0, t_connected, t_msg_end;
static struct proc_sample ps_start, ps_connected, ps_end;
static uint64_t		 requests_connected;	/* st.requests then */
static long		 rss_peak, pss_peak, anon_peak;
static int		 nproc_peak;
static int		 pingInterval_ms, pingTimeout_ms;
static bool		 stopping;

static void	sess_start(struct sess *);
static void	pool_dispatch(void);
static void	user_fill(int);
static void	fill_all(void);

static void
sess_kick(struct sess *s)
{
	if (s->posting || s->queued || s->outq.len == 0 || s->phase == SP_DEAD)
		return;
	s->queued = true;
	postq[(postq_head + postq_len) % nsess] = s;
	postq_len++;
}

static void
sess_queue(struct sess *s, const char *pkt, size_t len, int msgs_in)
{
	if (s->outq.len > 0)
		buf_add(&s->outq, "\x1e", 1);
	buf_add(&s->outq, pkt, len);
	s->outq_msgs += msgs_in;
	sess_kick(s);
}

static void
pool_dispatch(void)
{
	while (npool_idle > 0 && postq_len > 0) {
		struct conn	*c = pool_idle[--npool_idle];
		struct sess	*s = postq[postq_head];

		postq_head = (postq_head + 1) % nsess;
		postq_len--;
		s->queued = false;
		if (s->phase == SP_DEAD || s->outq.len == 0) {
			pool_idle[npool_idle++] = c;
			continue;
		}
		c->owner = s;
		c->post_msgs = s->outq_msgs;
		c->post_pong = s->pong_queued;
		s->pong_queued = false;
		conn_build(c, "POST", s->sid, s->outq.p, s->outq.len);
		buf_reset(&s->outq);
		s->outq_msgs = 0;
		s->posting = true;
		st.posts++;
		st.post_msgs += (uint64_t)c->post_msgs;
		conn_send(c, RQ_POST);
	}
}

static void
sess_poll(struct sess *s)
{
	if (stopping)
		return;
	conn_build(&s->poll, "GET", s->sid, NULL, 0);
	st.polls++;
	conn_send(&s->poll, RQ_POLL);
}

static void
sess_fail(struct sess *s, const char *what, const char *pkt, size_t len)
{
	uint64_t	now = lg_now();

	lg_fail("socket %d (user u%d tab %d, sid %s): %s: %.*s [%.3f s after "
	    "its handshake; %d pings, the last %.3f s ago; next ping expected "
	    "%s%.3f s; POST %s; poll sent %.3f s ago]", s->idx,
	    s->user, s->tab, s->sid, what, (int)(len > 300 ? 300 : len), pkt,
	    (now - s->t_start) / 1e6, s->pings,
	    s->t_last_ping ? (now - s->t_last_ping) / 1e6 : 0,
	    s->t_ping_expect == 0 ? "(pong in flight) " : "in ",
	    s->t_ping_expect ? ((double)s->t_ping_expect - (double)now) / 1e6 : 0,
	    s->posting ? "in flight" : s->queued ? "queued" : "none",
	    (now - s->poll.t_sent) / 1e6);
}

static void
sess_known(struct sess *s, struct json_object *username)
{
	const char	*u;
	int		 i;

	if (username == NULL || !json_object_is_type(username, json_type_string))
		return;
	u = json_object_get_string(username);
	if (u[0] != 'u' || !isdigit((unsigned char)u[1]))
		return;
	i = atoi(u + 1);
	if (i < 0 || i >= opt.users)
		return;
	if (!(s->known[i / 8] & (1 << (i % 8)))) {
		s->known[i / 8] |= (uint8_t)(1 << (i % 8));
		s->nknown++;
	}
}

/* The content of message id, from user `from` to user `to`. */
static size_t
msg_content(char *out, size_t cap, uint32_t id, int from, int to)
{
	int	n;

	n = snprintf(out, cap,
	    "m%u u%d>u%d caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"q\" \\ <b>&amp;",
	    id, from, to);
	while (n < opt.size && (size_t)n + 1 < cap) {
		out[n] = (char)('a' + (id + (uint32_t)n) % 26);
		n++;
	}
	out[n] = '\0';
	return ((size_t)n);
}

static char	*content_buf;
static size_t	 content_cap;

static void
msg_emit(int u)
{
	struct user	*us = &users[u];
	struct sess	*s;
	struct msg	*m;
	struct buf	 pkt = { 0 };
	uint32_t	 id = nmsgs_emitted++;
	size_t		 len;
	int		 to;

	to = (int)(lg_random() % (uint64_t)(opt.users - 1));
	if (to >= u)
		to++;
	s = &sess[us->first + us->next_tab];
	m = &msgs[id];
	m->from = u;
	m->to = to;
	m->from_tab = (uint8_t)us->next_tab;
	m->pending = (uint8_t)(2 * opt.tabs - 1);
	m->got = 0;
	us->next_tab = (us->next_tab + 1) % opt.tabs;
	len = msg_content(content_buf, content_cap, id, u, to);
	buf_adds(&pkt, "42[\"private message\",{\"content\":");
	buf_add_json_string(&pkt, content_buf, len);
	buf_printf(&pkt, ",\"to\":\"%s\"}]", users[to].userID);
	us->sent++;
	us->inflight++;
	global_inflight++;
	m->t_emit = lg_now();
	sess_queue(s, pkt.p, pkt.len, 1);
	free(pkt.p);
}

static void
user_fill(int u)
{
	if (opt.global_window) {
		fill_all();
		return;
	}
	while (users[u].inflight < opt.window && users[u].sent < opt.messages)
		msg_emit(u);
}

static void
fill_all(void)
{
	int	tried = 0;

	if (!opt.global_window) {
		for (int u = 0; u < opt.users; u++)
			user_fill(u);
		return;
	}
	while (global_inflight < opt.window && nmsgs_emitted < nmsgs_total &&
	    tried < opt.users) {
		int	u = fill_cursor;

		fill_cursor = (fill_cursor + 1) % opt.users;
		if (users[u].sent < opt.messages) {
			msg_emit(u);
			tried = 0;
		} else
			tried++;
	}
}

/* Deliveries per --timeline interval of the message phase. */
static uint32_t	*tl;
static size_t	 ntl;

static void
timeline_add(uint64_t now)
{
	size_t	i = (size_t)((now - t_connected) / (opt.timeline * 1e6));

	if (i >= ntl) {
		size_t	n = i + 64;

		tl = realloc(tl, n * sizeof(*tl));
		memset(tl + ntl, 0, (n - ntl) * sizeof(*tl));
		ntl = n;
	}
	tl[i]++;
}

static void
timeline_print(void)
{
	size_t	i, last = 0;

	for (i = 0; i < ntl; i++)
		if (tl[i])
			last = i;
	for (i = 0; i < ntl && i <= last; i++)
		fprintf(stderr, "loadgen: timeline %7.2f s %u\n",
		    i * opt.timeline, tl[i]);
}

static void
on_delivery(struct sess *s, struct json_object *obj, const char *pkt,
    size_t plen)
{
	struct json_object	*jc, *jf, *jt;
	const char		*content, *from, *to;
	struct msg		*m;
	uint32_t		 id, bit;
	size_t			 len, clen;
	char			*e;
	uint64_t		 now;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "content", &jc) ||
	    !json_object_object_get_ex(obj, "from", &jf) ||
	    !json_object_object_get_ex(obj, "to", &jt) ||
	    !json_object_is_type(jc, json_type_string))
		sess_fail(s, "malformed private message", pkt, plen);
	content = json_object_get_string(jc);
	clen = (size_t)json_object_get_string_len(jc);
	from = json_object_get_string(jf);
	to = json_object_get_string(jt);
	if (content[0] != 'm' || !isdigit((unsigned char)content[1]))
		sess_fail(s, "unknown message", pkt, plen);
	id = (uint32_t)strtoul(content + 1, &e, 10);
	if (id >= nmsgs_emitted)
		sess_fail(s, "message never sent", pkt, plen);
	m = &msgs[id];
	len = msg_content(content_buf, content_cap, id, m->from, m->to);
	if (len != clen || memcmp(content_buf, content, len) != 0)
		sess_fail(s, "content altered", pkt, plen);
	if (strcmp(from, users[m->from].userID) != 0)
		sess_fail(s, "wrong from", pkt, plen);
	if (strcmp(to, users[m->to].userID) != 0)
		sess_fail(s, "wrong to", pkt, plen);
	if (s->user == m->to)
		bit = 1u << s->tab;
	else if (s->user == m->from && s->tab != m->from_tab)
		bit = 1u << (16 + s->tab);
	else
		sess_fail(s, "delivered to a socket that is neither the "
		    "recipient nor another tab of the sender", pkt, plen);
	if (m->got & bit)
		sess_fail(s, "duplicate delivery", pkt, plen);
	m->got |= bit;
	m->pending--;
	now = lg_now();
	lat[nlat++] = (uint32_t)(now - m->t_emit);
	if (opt.timeline > 0)
		timeline_add(now);
	st.deliveries++;
	if (m->pending == 0) {
		nmsgs_done++;
		users[m->from].inflight--;
		global_inflight--;
		if (nmsgs_done == nmsgs_total) {
			t_msg_end = now;
			proc_sample(&ps_end);
		} else
			user_fill(m->from);
	}
}

static void
all_ready(void)
{
	t_connected = lg_now();
	proc_sample(&ps_connected);
	requests_connected = st.requests;
	if (!opt.quiet)
		fprintf(stderr, "loadgen: %d sockets ready in %.2f s\n", nsess,
		    (t_connected - t0) / 1e6);
	if (opt.mode == MODE_CHAT)
		fill_all();
}

static void
start_more(void)
{
	while (nconnecting < opt.connect_batch) {
		struct sess	*s;

		if (tabq_len > 0)
			s = &sess[tabq[--tabq_len]];
		else if (next_start < nsess) {
			s = &sess[next_start];
			if (opt.mode == MODE_CHAT && s->tab != 0) {
				next_start++;	/* started by tab 0's session */
				continue;
			}
			next_start++;
		} else
			break;
		sess_start(s);
	}
}

static void
on_event(struct sess *s, const char *pkt, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*arr, *name, *a1;
	const char		*n;

	tok = json_tokener_new_ex(64);
	arr = json_tokener_parse_ex(tok, pkt + 2, (int)(len - 2));
	if (arr == NULL || json_tokener_get_parse_end(tok) != len - 2 ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) < 1 ||
	    (name = json_object_array_get_idx(arr, 0)) == NULL ||
	    !json_object_is_type(name, json_type_string))
		sess_fail(s, "bad event packet", pkt, len);
	json_tokener_free(tok);
	n = json_object_get_string(name);
	a1 = json_object_array_get_idx(arr, 1);

	if (strcmp(n, "private message") == 0) {
		if (s->phase != SP_READY || t_connected == 0)
			sess_fail(s, "private message before the messages", pkt, len);
		on_delivery(s, a1, pkt, len);
	} else if (strcmp(n, "user connected") == 0) {
		struct json_object	*u;

		st.user_connected++;
		if (a1 == NULL || !json_object_object_get_ex(a1, "username", &u))
			sess_fail(s, "bad user connected", pkt, len);
		sess_known(s, u);
	} else if (strcmp(n, "user disconnected") == 0) {
		st.user_disconnected++;
		sess_fail(s, "user disconnected while every tab is connected",
		    pkt, len);
	} else if (strcmp(n, "session") == 0) {
		struct json_object	*jsid, *juid;
		struct user		*u = &users[s->user];

		if (s->got_session || a1 == NULL ||
		    !json_object_object_get_ex(a1, "sessionID", &jsid) ||
		    !json_object_object_get_ex(a1, "userID", &juid))
			sess_fail(s, "bad or second session", pkt, len);
		s->got_session = true;
		if (s->tab == 0) {
			snprintf(u->sessionID, sizeof(u->sessionID), "%s",
			    json_object_get_string(jsid));
			snprintf(u->userID, sizeof(u->userID), "%s",
			    json_object_get_string(juid));
			for (int t = opt.tabs - 1; t >= 1; t--)
				tabq[tabq_len++] = s->idx + t;
			start_more();
		} else if (strcmp(u->userID, json_object_get_string(juid)) != 0 ||
		    strcmp(u->sessionID, json_object_get_string(jsid)) != 0)
			sess_fail(s, "another tab got another session", pkt, len);
	} else if (strcmp(n, "users") == 0) {
		size_t	i, cnt;
		bool	self = false;

		if (!s->got_session || s->got_users || a1 == NULL ||
		    !json_object_is_type(a1, json_type_array))
			sess_fail(s, "bad or unexpected users", pkt, len);
		cnt = json_object_array_length(a1);
		for (i = 0; i < cnt; i++) {
			struct json_object	*e = json_object_array_get_idx(a1, i);
			struct json_object	*uid, *un;

			if (!json_object_object_get_ex(e, "userID", &uid) ||
			    !json_object_object_get_ex(e, "username", &un))
				sess_fail(s, "bad users entry", pkt, len);
			if (strcmp(json_object_get_string(uid),
			    users[s->user].userID) == 0)
				self = true;
			sess_known(s, un);
		}
		if (!self)
			sess_fail(s, "users without the user itself", pkt, len);
		s->got_users = true;
		s->phase = SP_READY;
		s->t_ready = lg_now();
		nconnecting--;
		nready++;
		if (nready == nsess)
			all_ready();
		else
			start_more();
	} else
		sess_fail(s, "unexpected event", pkt, len);
	json_object_put(arr);
}

static void
on_packet(struct sess *s, const char *p, size_t len)
{
	if (len == 0)
		sess_fail(s, "empty packet", p, len);
	switch (p[0]) {
	case '2':
		st.pings++;
		s->pings++;
		{
			uint64_t	now = lg_now();

			if (s->t_last_ping != 0 &&
			    now - s->t_last_ping > s->max_ping_gap)
				s->max_ping_gap = now - s->t_last_ping;
			s->t_last_ping = now;
			s->t_ping_got = now;
			if (s->t_ping_expect != 0)
				sample_add(&ping_late, (int64_t)(now - s->t_ping_expect));
			s->t_ping_expect = 0;
		}
		st.pongs++;
		s->pong_queued = true;
		sess_queue(s, "3", 1, 0);
		return;
	case '6':
		return;
	case '1':
		sess_fail(s, "the server closed the session", p, len);
		return;
	case '4':
		break;
	default:
		sess_fail(s, "unexpected Engine.IO packet", p, len);
	}
	if (opt.mode != MODE_CHAT)
		sess_fail(s, "message on an idle session", p, len);
	if (len >= 2 && p[1] == '0') {
		if (s->got_connect)
			sess_fail(s, "second CONNECT", p, len);
		s->got_connect = true;
		return;
	}
	if (len >= 2 && p[1] == '2') {
		on_event(s, p, len);
		return;
	}
	sess_fail(s, "unexpected Socket.IO packet", p, len);
}

static void
on_handshake(struct sess *s, int status, const char *body, size_t len)
{
	struct json_object	*o, *v;

	if (status != 200 || len < 2 || body[0] != '0')
		sess_fail(s, "handshake failed", body, len);
	if ((o = json_tokener_parse(body + 1)) == NULL ||
	    !json_object_object_get_ex(o, "sid", &v))
		sess_fail(s, "bad open packet", body, len);
	snprintf(s->sid, sizeof(s->sid), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "pingInterval", &v))
		pingInterval_ms = json_object_get_int(v);
	if (json_object_object_get_ex(o, "pingTimeout", &v))
		pingTimeout_ms = json_object_get_int(v);
	json_object_put(o);
	s->phase = SP_OPEN;
	s->t_last_ping = lg_now();
	s->t_ping_expect = s->t_last_ping + (uint64_t)pingInterval_ms * 1000;
	nopen++;
	if (opt.mode == MODE_CHAT) {
		struct buf	b = { 0 };

		if (s->tab == 0)
			buf_printf(&b, "40{\"username\":\"u%d\"}", s->user);
		else
			buf_printf(&b, "40{\"sessionID\":\"%s\"}",
			    users[s->user].sessionID);
		sess_queue(s, b.p, b.len, 0);
		free(b.p);
	} else {
		nconnecting--;
		nready++;
		s->phase = SP_READY;
		s->t_ready = lg_now();
		if (nready == nsess)
			all_ready();
		else
			start_more();
	}
	sess_poll(s);
}

static void
on_poll(struct sess *s, int status, const char *body, size_t len)
{
	const char	*p = body, *end = body + len, *q;

	if (status != 200)
		sess_fail(s, "poll failed with an HTTP error", body, len);
	while (p <= end) {
		q = memchr(p, LG_RS, (size_t)(end - p));
		if (q == NULL)
			q = end;
		on_packet(s, p, (size_t)(q - p));
		p = q + 1;
	}
	sess_poll(s);
}

static void
on_post(struct conn *c, int status, const char *body, size_t len)
{
	struct sess	*s = c->owner;

	if (status != 200 || len != 2 || memcmp(body, "ok", 2) != 0)
		sess_fail(s, "POST failed", body, len);
	c->owner = NULL;
	s->posting = false;
	if (c->post_pong) {
		uint64_t	now = lg_now();

		/* v4: the next ping comes pingInterval after the pong. */
		sample_add(&pong_rtt, (int64_t)(now - s->t_ping_got));
		s->t_ping_expect = now + (uint64_t)pingInterval_ms * 1000;
	}
	pool_idle[npool_idle++] = c;
	sess_kick(s);
	pool_dispatch();
}

/* ---------------------------------------------------------------- raw */

static struct conn	*rawc;
static uint64_t		 raw_done, raw_t_end;
static uint32_t		*raw_lat;
static uint64_t		 raw_nlat, raw_cap;

static void
raw_send(struct conn *c)
{
	conn_build(c, "GET", NULL, NULL, 0);
	conn_send(c, RQ_RAW);
}

static void
on_raw(struct conn *c, int status, size_t len)
{
	uint64_t	now = lg_now();

	if (status != 200 || len == 0)
		lg_fail("raw request failed: HTTP %d", status);
	raw_done++;
	if (raw_nlat == raw_cap) {
		raw_cap = raw_cap ? raw_cap * 2 : 65536;
		raw_lat = realloc(raw_lat, raw_cap * sizeof(*raw_lat));
	}
	raw_lat[raw_nlat++] = (uint32_t)(now - c->t_sent);
	if (now < raw_t_end)
		raw_send(c);
}

/* -------------------------------------------------------------- glue */

static void
on_response(struct conn *c, int status, const char *body, size_t len)
{
	struct sess	*s;

	if (opt.mode == MODE_RAW) {
		on_raw(c, status, len);
		return;
	}
	if (c->is_pool) {
		on_post(c, status, body, len);
		return;
	}
	s = c->owner;
	if (s->phase == SP_HANDSHAKE) {
		st.handshakes++;
		on_handshake(s, status, body, len);
	} else
		on_poll(s, status, body, len);
}

static void
sess_start(struct sess *s)
{
	s->phase = SP_HANDSHAKE;
	s->t_start = lg_now();
	nconnecting++;
	conn_build(&s->poll, "GET", NULL, NULL, 0);
	conn_send(&s->poll, RQ_HANDSHAKE);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

static double
pct(uint32_t *v, uint64_t n, double p)
{
	uint64_t	i;

	if (n == 0)
		return (0);
	i = (uint64_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (v[i] / 1000.0);
}

/* A double printed with at most 3 decimals. */
static struct json_object *
jdouble(double v)
{
	char	s[64];

	snprintf(s, sizeof(s), "%.3f", v);
	return (json_object_new_double_s(v, s));
}

static bool	lat_sorted;

static void
sort_latencies(void)
{
	if (lat_sorted)
		return;
	lat_sorted = true;
	if (lat != NULL)
		qsort(lat, nlat, sizeof(*lat), cmp_u32);
	if (raw_lat != NULL)
		qsort(raw_lat, raw_nlat, sizeof(*raw_lat), cmp_u32);
}

static void
report(bool ok)
{
	struct json_object	*j = json_object_new_object(), *l;
	double			 lgcpu = self_cpu();

	sort_latencies();

#define JD(k, v) json_object_object_add(j, k, jdouble(v))
#define JI(k, v) json_object_object_add(j, k, json_object_new_int64((int64_t)(v)))
#define JS(k, v) json_object_object_add(j, k, json_object_new_string(v))
	JS("label", opt.label);
	JS("mode", opt.mode == MODE_CHAT ? "chat" : opt.mode == MODE_IDLE ?
	    "idle" : "raw");
	JI("fronts", nfronts);
	if (opt.mode == MODE_RAW) {
		double	secs = opt.duration;

		JI("conns", opt.conns);
		JD("duration_s", secs);
		JI("requests", raw_done);
		JD("req_per_s", raw_done / secs);
		l = json_object_new_object();
		json_object_object_add(l, "p50", jdouble(pct(raw_lat, raw_nlat, 50)));
		json_object_object_add(l, "p99", jdouble(pct(raw_lat, raw_nlat, 99)));
		json_object_object_add(l, "max", jdouble(pct(raw_lat, raw_nlat, 100)));
		json_object_object_add(j, "lat_ms", l);
	} else {
		uint64_t	tend = t_msg_end ? t_msg_end : lg_now();
		double		conn_s = t_connected ? (t_connected - t0) / 1e6 : 0;
		double		phase_s = t_connected ? (tend - t_connected) / 1e6 : 0;
		double		cpu_conn = ps_connected.cpu_s - ps_start.cpu_s;
		double		cpu_phase = ps_end.cpu_s - ps_connected.cpu_s;

		JI("sessions", nsess);
		JD("connect_s", conn_s);
		JD("connect_per_s", conn_s > 0 ? nsess / conn_s : 0);
		JI("ping_interval_ms", pingInterval_ms);
		JI("ping_timeout_ms", pingTimeout_ms);
		if (opt.mode == MODE_CHAT) {
			JI("users", opt.users);
			JI("tabs", opt.tabs);
			JI("messages_per_user", opt.messages);
			JI("window", opt.window);
			JS("window_scope", opt.global_window ? "global" : "user");
			JI("size", opt.size);
			JI("messages", nmsgs_done);
			JI("deliveries", st.deliveries);
			JD("msg_phase_s", phase_s);
			JD("msgs_per_s", phase_s > 0 ? nmsgs_done / phase_s : 0);
			JD("deliveries_per_s", phase_s > 0 ? st.deliveries / phase_s : 0);
			l = json_object_new_object();
			json_object_object_add(l, "p50", jdouble(pct(lat, nlat, 50)));
			json_object_object_add(l, "p95", jdouble(pct(lat, nlat, 95)));
			json_object_object_add(l, "p99", jdouble(pct(lat, nlat, 99)));
			json_object_object_add(l, "max", jdouble(pct(lat, nlat, 100)));
			json_object_object_add(j, "lat_ms", l);
			JI("user_connected", st.user_connected);
			JD("msgs_per_post", st.posts ? (double)st.post_msgs / st.posts : 0);
		} else {
			uint64_t	gap = 0;

			for (int i = 0; i < nsess; i++)
				if (sess[i].max_ping_gap > gap)
					gap = sess[i].max_ping_gap;
			JI("pings_per_session", opt.pings);
			JD("hold_s", phase_s);
			JD("max_ping_gap_ms", gap / 1000.0);
		}
		if (opt.npids > 0) {
			JD("server_cpu_connect_s", cpu_conn);
			JD("server_cpu_s", cpu_phase);
			JD("server_cpu_util", phase_s > 0 ? cpu_phase / phase_s : 0);
			/* What else ran meanwhile: neither the servers nor us. */
			JD("other_cpu_util", phase_s > 0 ? (ps_end.machine_s -
			    ps_connected.machine_s - cpu_phase - (ps_end.self_s -
			    ps_connected.self_s)) / phase_s : 0);
			JD("loadgen_cpu_util", phase_s > 0 ? (ps_end.self_s -
			    ps_connected.self_s) / phase_s : 0);
			if (opt.mode == MODE_CHAT)
				JD("cpu_us_per_delivery", st.deliveries ?
				    cpu_phase * 1e6 / st.deliveries : 0);
			else
				JD("cpu_us_per_ping", st.pings ?
				    cpu_phase * 1e6 / st.pings : 0);
			JI("rss_peak_kib", rss_peak);
			JI("pss_peak_kib", pss_peak);
			JI("pss_anon_peak_kib", anon_peak);
			JI("hwm_end_kib", ps_end.hwm_kib);
			JI("server_procs_peak", nproc_peak);
		}
		if (ping_late.n > 0) {
			l = json_object_new_object();
			json_object_object_add(l, "p50", jdouble(sample_pct(&ping_late, 50)));
			json_object_object_add(l, "p99", jdouble(sample_pct(&ping_late, 99)));
			json_object_object_add(l, "max", jdouble(sample_pct(&ping_late, 100)));
			json_object_object_add(j, "ping_late_ms", l);
		}
		if (pong_rtt.n > 0) {
			l = json_object_new_object();
			json_object_object_add(l, "p50", jdouble(sample_pct(&pong_rtt, 50)));
			json_object_object_add(l, "p99", jdouble(sample_pct(&pong_rtt, 99)));
			json_object_object_add(l, "max", jdouble(sample_pct(&pong_rtt, 100)));
			json_object_object_add(j, "pong_rtt_ms", l);
		}
		JI("http_requests", st.requests);
		/* Those of the message (or hold) phase. */
		JI("phase_requests", st.requests - requests_connected);
		JI("polls", st.polls);
		JI("posts", st.posts);
		JI("pings", st.pings);
		JI("tcp_connects", st.reconnects);
		JI("retries", st.retries);
	}
	JD("loadgen_cpu_s", lgcpu);
	JI("errors", nerrors);
	if (nerrors)
		JS("error", errors_first);
	json_object_object_add(j, "ok", json_object_new_boolean(ok));
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(j);
}

static void
summary(void)
{
	sort_latencies();
	if (tl != NULL)
		timeline_print();
	if (opt.mode == MODE_RAW) {
		printf("loadgen: raw %d conns %.0f s: %llu requests, %.0f req/s\n",
		    opt.conns, opt.duration, (unsigned long long)raw_done,
		    raw_done / opt.duration);
		return;
	}
	if (opt.mode == MODE_CHAT) {
		double	phase = (t_msg_end - t_connected) / 1e6;

		printf("loadgen: %s: %d users x %d tabs connected in %.2f s; "
		    "%u messages (%llu deliveries) in %.2f s: %.0f msg/s; "
		    "latency p50 %.1f p95 %.1f p99 %.1f max %.1f ms\n",
		    opt.label, opt.users, opt.tabs, (t_connected - t0) / 1e6,
		    nmsgs_done, (unsigned long long)st.deliveries, phase,
		    nmsgs_done / phase, pct(lat, nlat, 50), pct(lat, nlat, 95),
		    pct(lat, nlat, 99), pct(lat, nlat, 100));
	} else
		printf("loadgen: %s: %d sessions connected in %.2f s, "
		    "%d pings each in %.2f s\n", opt.label, nsess,
		    (t_connected - t0) / 1e6, opt.pings,
		    (t_msg_end - t_connected) / 1e6);
	if (opt.npids > 0)
		printf("loadgen: server CPU %.2f s (connect %.2f s), peak RSS "
		    "%ld KiB, peak PSS %ld KiB\n", ps_end.cpu_s - ps_connected.cpu_s,
		    ps_connected.cpu_s - ps_start.cpu_s, rss_peak, pss_peak);
}

static void
lg_fail(const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "loadgen: FAIL: %s\n", msg);
	if (nerrors++ == 0)
		snprintf(errors_first, sizeof(errors_first), "%s", msg);
	if (ps_end.nproc == 0)
		proc_sample(&ps_end);
	if (t_msg_end == 0)
		t_msg_end = lg_now();
	report(false);
	exit(1);
}

static void
sample_tick(void)
{
	struct proc_sample	ps;

	if (opt.npids == 0)
		return;
	proc_sample(&ps);
	if (ps.rss_kib > rss_peak)
		rss_peak = ps.rss_kib;
	if (ps.pss_kib > pss_peak)
		pss_peak = ps.pss_kib;
	if (ps.anon_kib > anon_peak)
		anon_peak = ps.anon_kib;
	if (ps.nproc > nproc_peak)
		nproc_peak = ps.nproc;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: loadgen --url URL[,URL...] [--mode chat|idle|raw] [--label TEXT]\n"
"         [--pids PID,...] [--timeout SEC] [--stall SEC] [--quiet]\n"
"         [--timeline SEC] (chat: deliveries per interval, on stderr)\n"
"  chat: [--users N] [--tabs K] [--messages M] [--window W] [--global-window]\n"
"        [--size BYTES] [--connect-batch B] [--post-conns P] [--seed S]\n"
"  idle: [--sessions S] [--pings C] [--connect-batch B] [--post-conns P]\n"
"  raw:  [--conns C] [--duration SEC]\n");
	exit(2);
}

static void
parse_urls(const char *arg)
{
	char	*dup = strdup(arg), *tok, *save;

	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct front	*f;
		char		 host[64];
		const char	*p, *slash, *colon;
		int		 port = 80;

		if (nfronts == LG_MAX_FRONTS)
			usage();
		f = &fronts[nfronts++];
		if (strncmp(tok, "http://", 7) != 0)
			usage();
		p = tok + 7;
		slash = strchr(p, '/');
		if (slash == NULL)
			slash = p + strlen(p);
		colon = memchr(p, ':', (size_t)(slash - p));
		snprintf(host, sizeof(host), "%.*s",
		    (int)((colon ? colon : slash) - p), p);
		if (colon)
			port = atoi(colon + 1);
		snprintf(f->hostport, sizeof(f->hostport), "%.*s",
		    (int)(slash - p), p);
		snprintf(f->path, sizeof(f->path), "%s", *slash ? slash : "/");
		f->addr.sin_family = AF_INET;
		f->addr.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &f->addr.sin_addr) != 1) {
			fprintf(stderr, "loadgen: %s: give an IPv4 address\n", host);
			exit(2);
		}
	}
	free(dup);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 evs[512];
	struct rlimit		 rl;
	uint64_t		 last_tick = 0, last_progress = 0, last_change;
	uint64_t		 deadline, grace_end = 0;
	uint64_t		 last_seen = (uint64_t)-1;
	int			 i;

	signal(SIGPIPE, SIG_IGN);
	lg_clk_tck = sysconf(_SC_CLK_TCK);
	for (i = 1; i < argc; i++) {
		const char	*a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define NEEDV() do { if (v == NULL) usage(); i++; } while (0)
		if (strcmp(a, "--url") == 0) { NEEDV(); parse_urls(v); }
		else if (strcmp(a, "--mode") == 0) {
			NEEDV();
			if (strcmp(v, "chat") == 0) opt.mode = MODE_CHAT;
			else if (strcmp(v, "idle") == 0) opt.mode = MODE_IDLE;
			else if (strcmp(v, "raw") == 0) opt.mode = MODE_RAW;
			else usage();
		}
		else if (strcmp(a, "--users") == 0) { NEEDV(); opt.users = atoi(v); }
		else if (strcmp(a, "--tabs") == 0) { NEEDV(); opt.tabs = atoi(v); }
		else if (strcmp(a, "--messages") == 0) { NEEDV(); opt.messages = atoi(v); }
		else if (strcmp(a, "--window") == 0) { NEEDV(); opt.window = atoi(v); }
		else if (strcmp(a, "--global-window") == 0) opt.global_window = true;
		else if (strcmp(a, "--size") == 0) { NEEDV(); opt.size = atoi(v); }
		else if (strcmp(a, "--sessions") == 0) { NEEDV(); opt.sessions = atoi(v); }
		else if (strcmp(a, "--pings") == 0) { NEEDV(); opt.pings = atoi(v); }
		else if (strcmp(a, "--conns") == 0) { NEEDV(); opt.conns = atoi(v); }
		else if (strcmp(a, "--duration") == 0) { NEEDV(); opt.duration = atof(v); }
		else if (strcmp(a, "--post-conns") == 0) { NEEDV(); opt.post_conns = atoi(v); }
		else if (strcmp(a, "--connect-batch") == 0) { NEEDV(); opt.connect_batch = atoi(v); }
		else if (strcmp(a, "--timeout") == 0) { NEEDV(); opt.timeout = atof(v); }
		else if (strcmp(a, "--stall") == 0) { NEEDV(); opt.stall = atof(v); }
		else if (strcmp(a, "--grace") == 0) { NEEDV(); opt.grace = atof(v); }
		else if (strcmp(a, "--label") == 0) { NEEDV(); opt.label = v; }
		else if (strcmp(a, "--timeline") == 0) { NEEDV(); opt.timeline = atof(v); }
		else if (strcmp(a, "--seed") == 0) { NEEDV(); lg_rng = strtoull(v, NULL, 0) | 1; }
		else if (strcmp(a, "--quiet") == 0) opt.quiet = true;
		else if (strcmp(a, "--pids") == 0) {
			char	*dup, *tok, *save;

			NEEDV();
			dup = strdup(v);
			for (tok = strtok_r(dup, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save))
				if (opt.npids < LG_MAX_PIDS && atoi(tok) > 0)
					opt.pids[opt.npids++] = atoi(tok);
			free(dup);
		} else
			usage();
	}
	if (nfronts == 0 || opt.tabs < 1 || opt.tabs > LG_MAX_TABS ||
	    opt.users < 2 || opt.window < 1 || opt.messages < 0 ||
	    opt.connect_batch < 1 || opt.sessions < 1 || opt.conns < 1)
		usage();

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		lg_fail("epoll_create1: %s", strerror(errno));

	content_cap = (size_t)opt.size + 256;
	content_buf = malloc(content_cap);
	proc_sample(&ps_start);
	sample_tick();
	t0 = lg_now();
	deadline = t0 + (uint64_t)(opt.timeout * 1e6);

	if (opt.mode == MODE_RAW) {
		raw_t_end = t0 + (uint64_t)(opt.duration * 1e6);
		rawc = calloc((size_t)opt.conns, sizeof(*rawc));
		for (i = 0; i < opt.conns; i++) {
			rawc[i].fd = -1;
			rawc[i].front = i % nfronts;
			raw_send(&rawc[i]);
		}
	} else {
		nsess = opt.mode == MODE_CHAT ? opt.users * opt.tabs : opt.sessions;
		if ((size_t)nsess + 64 > rl.rlim_cur)
			lg_fail("descriptor limit %llu too low for %d sessions",
			    (unsigned long long)rl.rlim_cur, nsess);
		sess = calloc((size_t)nsess, sizeof(*sess));
		postq = calloc((size_t)nsess, sizeof(*postq));
		tabq = calloc((size_t)nsess, sizeof(*tabq));
		if (opt.mode == MODE_CHAT) {
			users = calloc((size_t)opt.users, sizeof(*users));
			nmsgs_total = (uint32_t)opt.users * (uint32_t)opt.messages;
			msgs = calloc((size_t)nmsgs_total + 1, sizeof(*msgs));
			lat = calloc((size_t)nmsgs_total * (2 * (size_t)opt.tabs - 1) + 1,
			    sizeof(*lat));
		}
		for (i = 0; i < nsess; i++) {
			struct sess	*s = &sess[i];

			s->idx = i;
			s->user = opt.mode == MODE_CHAT ? i / opt.tabs : i;
			s->tab = opt.mode == MODE_CHAT ? i % opt.tabs : 0;
			s->poll.fd = -1;
			s->poll.owner = s;
			s->poll.front = i % nfronts;
			if (opt.mode == MODE_CHAT) {
				s->known = calloc((size_t)opt.users / 8 + 1, 1);
				if (s->tab == 0)
					users[s->user].first = i;
			}
		}
		npool = opt.post_conns > 0 ? opt.post_conns :
		    (nsess < 2000 ? nsess : 2000);
		if ((size_t)(nsess + npool) + 64 > rl.rlim_cur)
			npool = (int)(rl.rlim_cur - (size_t)nsess - 64);
		pool = calloc((size_t)npool, sizeof(*pool));
		pool_idle = calloc((size_t)npool, sizeof(*pool_idle));
		for (i = 0; i < npool; i++) {
			pool[i].fd = -1;
			pool[i].is_pool = true;
			pool[i].front = i % nfronts;
			pool_idle[npool_idle++] = &pool[npool - 1 - i];
		}
		start_more();
	}

	last_change = lg_now();
	for (;;) {
		int		 n, timeout = 50;
		uint64_t	 now;

		n = epoll_wait(ep, evs, 512, timeout);
		if (n < 0 && errno != EINTR)
			lg_fail("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++)
			conn_io(evs[i].data.ptr, evs[i].events);
		if (opt.mode != MODE_RAW)
			pool_dispatch();
		now = lg_now();
		if (now - last_tick >= 200000) {
			last_tick = now;
			sample_tick();
		}
		if (now > deadline)
			lg_fail("timeout after %.0f s", opt.timeout);
		if (opt.mode == MODE_RAW) {
			if (now >= raw_t_end + 2000000 || (now >= raw_t_end &&
			    raw_nlat > 0 && st.requests == raw_done)) {
				summary();
				report(true);
				return (0);
			}
			continue;
		}
		/* Progress and stall detection. */
		{
			uint64_t	seen = st.deliveries + (uint64_t)nready +
			    st.pings + st.posts + st.polls;

			if (seen != last_seen) {
				last_seen = seen;
				last_change = now;
			} else if (now - last_change > (uint64_t)(opt.stall * 1e6) &&
			    grace_end == 0)
				lg_fail("no progress for %.0f s: %d/%d sockets ready, "
				    "%u/%u messages done, %d POSTs queued, %d POST "
				    "connections idle", opt.stall, nready, nsess,
				    nmsgs_done, nmsgs_total, postq_len, npool_idle);
		}
		if (!opt.quiet && now - last_progress >= 5000000) {
			last_progress = now;
			if (opt.mode == MODE_CHAT)
				fprintf(stderr, "loadgen: %.0f s: %d/%d ready, "
				    "%u/%u messages delivered, %llu deliveries\n",
				    (now - t0) / 1e6, nready, nsess, nmsgs_done,
				    nmsgs_total, (unsigned long long)st.deliveries);
			else {
				int	minp = 1 << 30;

				for (i = 0; i < nsess; i++)
					if (sess[i].pings < minp)
						minp = sess[i].pings;
				fprintf(stderr, "loadgen: %.0f s: %d/%d open, "
				    "%llu pings, fewest per session %d\n",
				    (now - t0) / 1e6, nready, nsess,
				    (unsigned long long)st.pings,
				    nready == nsess ? minp : 0);
			}
		}
		if (grace_end == 0 && nready == nsess) {
			bool	done = false;

			if (opt.mode == MODE_CHAT)
				done = nmsgs_done == nmsgs_total;
			else {
				done = true;
				for (i = 0; i < nsess && done; i++)
					if (sess[i].pings < opt.pings)
						done = false;
				if (done) {
					t_msg_end = now;
					proc_sample(&ps_end);
				}
			}
			if (done)
				grace_end = now + (uint64_t)(opt.grace * 1e6);
		}
		if (grace_end != 0 && now >= grace_end) {
			if (opt.mode == MODE_CHAT) {
				for (i = 0; i < nsess; i++)
					if (sess[i].nknown != opt.users)
						lg_fail("socket %d (user u%d tab %d) "
						    "knows %d users of %d", i,
						    sess[i].user, sess[i].tab,
						    sess[i].nknown, opt.users);
			}
			ps_end.hwm_kib = 0;
			{
				struct proc_sample	ps;

				proc_sample(&ps);
				ps_end.hwm_kib = ps.hwm_kib;
			}
			stopping = true;
			summary();
			report(true);
			return (0);
		}
	}
}
