/*
 * sio-fcgi: options, signals, and the wiring of the layers: store and
 * bell, eio with its applications, the sweep thread, then the front.
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bell.h"
#include "chat.h"
#include "conformance.h"
#include "echo.h"
#include "eio.h"
#include "front.h"
#include "http.h"
#include "log.h"
#include "sio.h"
#include "sio_packet.h"
#include "store.h"
#include "sweep.h"
#include "xmalloc.h"

#ifndef SIO_DEFAULT_DB
#define SIO_DEFAULT_DB	"/var/lib/sio-fcgi"
#endif

struct options {
	const char	*listen;
	const char	*db;
	const char	*app;
	char		*path;		/* no trailing slash */
	long long	 ping_interval;
	long long	 ping_timeout;
	long long	 max_payload;
	long long	 connect_timeout;
	long long	 recovery;
	long long	 chat_history;
	long long	 chat_retention;	/* days */
	long long	 chat_session_days;
	long long	 chat_max_tabs;
	long long	 chat_max_username;
	long long	 chat_max_content;
	long long	 max_json_depth;
	long long	 max_attachments;
	long long	 max_sessions;
	long long	 max_queue;
	const char	*cors_origin;
	long long	 threads;
	const char	*log_level;
	const char	*sync;
	long long	 map_size;	/* MiB */
	long long	 max_readers;
	int		 stats;
};

enum {
	OPT_LISTEN = 256,
	OPT_DB,
	OPT_APP,
	OPT_PATH,
	OPT_PING_INTERVAL,
	OPT_PING_TIMEOUT,
	OPT_MAX_PAYLOAD,
	OPT_CONNECT_TIMEOUT,
	OPT_RECOVERY,
	OPT_CHAT_HISTORY,
	OPT_CHAT_RETENTION,
	OPT_CHAT_SESSION_DAYS,
	OPT_CHAT_MAX_TABS,
	OPT_CHAT_MAX_USERNAME,
	OPT_CHAT_MAX_CONTENT,
	OPT_MAX_JSON_DEPTH,
	OPT_MAX_ATTACHMENTS,
	OPT_MAX_SESSIONS,
	OPT_MAX_QUEUE,
	OPT_CORS_ORIGIN,
	OPT_THREADS,
	OPT_LOG_LEVEL,
	OPT_SYNC,
	OPT_MAP_SIZE,
	OPT_MAX_READERS,
	OPT_STATS,
	OPT_VERSION,
};

/*
 * Every option, with the environment variable that sets it when the
 * command line does not (mod_fcgid passes only FcgidInitialEnv).
 */
static const struct option_def {
	const char	*name;
	int		 id;
	int		 has_arg;
	const char	*env;
	const char	*arg;
	const char	*help;
} option_defs[] = {
	{ "listen", OPT_LISTEN, 1, "SIO_LISTEN", "ADDR",
	  "run as a daemon on unix:PATH or HOST:PORT (default: fd 0)" },
	{ "db", OPT_DB, 1, "SIO_DB", "DIR",
	  "LMDB environment directory (default " SIO_DEFAULT_DB ")" },
	{ "app", OPT_APP, 1, "SIO_APP", "NAME",
	  "chat, conformance or echo (default chat)" },
	{ "path", OPT_PATH, 1, "SIO_PATH", "PATH",
	  "URL path of the Socket.IO endpoint (default /socket.io)" },
	{ "ping-interval", OPT_PING_INTERVAL, 1, "SIO_PING_INTERVAL", "MS",
	  "ping interval (default 25000)" },
	{ "ping-timeout", OPT_PING_TIMEOUT, 1, "SIO_PING_TIMEOUT", "MS",
	  "pong deadline after a ping (default 20000)" },
	{ "max-payload", OPT_MAX_PAYLOAD, 1, "SIO_MAX_PAYLOAD", "BYTES",
	  "largest POST body (default 100000)" },
	{ "connect-timeout", OPT_CONNECT_TIMEOUT, 1, "SIO_CONNECT_TIMEOUT",
	  "MS", "time to join a namespace (default 45000)" },
	{ "recovery", OPT_RECOVERY, 1, "SIO_RECOVERY", "MS",
	  "connection state recovery window, 0 = off (default 0)" },
	{ "chat-history", OPT_CHAT_HISTORY, 1, "SIO_CHAT_HISTORY", "N",
	  "chat: messages kept per conversation (default 100)" },
	{ "chat-retention", OPT_CHAT_RETENTION, 1, "SIO_CHAT_RETENTION",
	  "DAYS", "chat: days a message is kept, 0 = forever (default 30)" },
	{ "chat-session-days", OPT_CHAT_SESSION_DAYS, 1,
	  "SIO_CHAT_SESSION_DAYS", "DAYS",
	  "chat: days an unused session is kept (default 30)" },
	{ "chat-max-tabs", OPT_CHAT_MAX_TABS, 1, "SIO_CHAT_MAX_TABS", "N",
	  "chat: connections one user may have at once (default 32)" },
	{ "chat-max-username", OPT_CHAT_MAX_USERNAME, 1,
	  "SIO_CHAT_MAX_USERNAME", "N",
	  "chat: characters of a username (default 32)" },
	{ "chat-max-content", OPT_CHAT_MAX_CONTENT, 1, "SIO_CHAT_MAX_CONTENT",
	  "BYTES", "chat: bytes of a message (default 10000)" },
	{ "max-json-depth", OPT_MAX_JSON_DEPTH, 1, "SIO_MAX_JSON_DEPTH", "N",
	  "arrays and objects nested in a packet (default 32, at most 256)" },
	{ "max-attachments", OPT_MAX_ATTACHMENTS, 1, "SIO_MAX_ATTACHMENTS",
	  "N", "binary attachments of a packet (default 10, at most 64)" },
	{ "max-sessions", OPT_MAX_SESSIONS, 1, "SIO_MAX_SESSIONS", "N",
	  "sessions before handshakes get 503, 0 = no limit (default 100000)" },
	{ "max-queue", OPT_MAX_QUEUE, 1, "SIO_MAX_QUEUE", "N",
	  "packets waiting for one session before it is closed (default 10000)" },
	{ "cors-origin", OPT_CORS_ORIGIN, 1, "SIO_CORS_ORIGIN", "LIST",
	  "\"*\" or comma-separated allowed origins (default none)" },
	{ "threads", OPT_THREADS, 1, "SIO_THREADS", "N",
	  "accepting threads (default 64 with --listen, else 8)" },
	{ "log-level", OPT_LOG_LEVEL, 1, "SIO_LOG_LEVEL", "LEVEL",
	  "error, warn, info or debug (default warn)" },
	{ "sync", OPT_SYNC, 1, "SIO_SYNC", "MODE",
	  "full, meta or none: what survives a power failure (default full)" },
	{ "map-size", OPT_MAP_SIZE, 1, "SIO_MAP_SIZE", "MIB",
	  "LMDB map size, the same for every process (default 1024)" },
	{ "max-readers", OPT_MAX_READERS, 1, "SIO_MAX_READERS", "N",
	  "LMDB reader slots, the same for every process (default 1024)" },
	{ "stats", OPT_STATS, 0, NULL, NULL,
	  "print the number of sessions in --db and exit" },
	{ "version", OPT_VERSION, 0, NULL, NULL, "print the version" },
	{ "help", 'h', 0, NULL, NULL, "this help" },
};

static void
usage(FILE *f)
{
	const struct option_def	*d;
	char			 left[64];
	size_t			 i;

	fprintf(f, "usage: sio-fcgi [options]\n\n"
	    "A Socket.IO / Engine.IO v4 long-polling server for FastCGI.\n"
	    "Without --listen it serves the FastCGI socket on fd 0 (lighttpd "
	    "bin-path,\nmod_fcgid, spawn-fcgi).\n\noptions (and the "
	    "environment variables that set them):\n");
	for (i = 0; i < nitems(option_defs); i++) {
		d = &option_defs[i];
		snprintf(left, sizeof(left), "--%s%s%s", d->name,
		    d->arg != NULL ? " " : "", d->arg != NULL ? d->arg : "");
		fprintf(f, "  %-26s %s", left, d->help);
		if (d->env != NULL)
			fprintf(f, " [%s]", d->env);
		fputc('\n', f);
	}
}

static long long
parse_number(const char *name, const char *s, long long min, long long max)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "sio-fcgi: --%s: %s: not a number from %lld "
		    "to %lld\n", name, s, min, max);
		exit(2);
	}
	return (n);
}

/* An endpoint path, its trailing slashes dropped: returned owned. */
static char *
parse_path(const char *name, const char *s)
{
	char	*p;
	size_t	 n;

	p = xstrdup(s);
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if (!http_path_is_endpoint(p)) {
		fprintf(stderr, "sio-fcgi: --%s: %s: not a URL path such as "
		    "/socket.io or /chat/socket.io\n", name, s);
		exit(2);
	}
	return (p);
}

static void
set_option(struct options *o, const struct option_def *d, const char *v)
{
	switch (d->id) {
	case OPT_LISTEN:
		o->listen = *v != '\0' ? v : NULL;
		break;
	case OPT_DB:
		o->db = v;
		break;
	case OPT_APP:
		o->app = v;
		break;
	case OPT_PATH:
		free(o->path);
		o->path = parse_path(d->name, v);
		break;
	case OPT_PING_INTERVAL:
		o->ping_interval = parse_number(d->name, v, 1, INT_MAX);
		break;
	case OPT_PING_TIMEOUT:
		o->ping_timeout = parse_number(d->name, v, 1, INT_MAX);
		break;
	case OPT_MAX_PAYLOAD:
		o->max_payload = parse_number(d->name, v, 1, 1LL << 30);
		break;
	case OPT_CONNECT_TIMEOUT:
		o->connect_timeout = parse_number(d->name, v, 1, INT_MAX);
		break;
	case OPT_RECOVERY:
		o->recovery = parse_number(d->name, v, 0, INT_MAX);
		break;
	case OPT_CHAT_HISTORY:
		o->chat_history = parse_number(d->name, v, 1, 1000000);
		break;
	case OPT_CHAT_RETENTION:
		o->chat_retention = parse_number(d->name, v, 0, 100000);
		break;
	case OPT_CHAT_SESSION_DAYS:
		o->chat_session_days = parse_number(d->name, v, 1, 100000);
		break;
	case OPT_CHAT_MAX_TABS:
		o->chat_max_tabs = parse_number(d->name, v, 1, 100000);
		break;
	case OPT_CHAT_MAX_USERNAME:
		o->chat_max_username = parse_number(d->name, v, 1, 10000);
		break;
	case OPT_CHAT_MAX_CONTENT:
		o->chat_max_content = parse_number(d->name, v, 1, 1LL << 30);
		break;
	case OPT_MAX_JSON_DEPTH:
		o->max_json_depth = parse_number(d->name, v, 1,
		    SIO_JSON_DEPTH_CAP);
		break;
	case OPT_MAX_ATTACHMENTS:
		o->max_attachments = parse_number(d->name, v, 1,
		    SIO_ATTACHMENTS_CAP);
		break;
	case OPT_MAX_SESSIONS:
		o->max_sessions = parse_number(d->name, v, 0, INT_MAX);
		break;
	case OPT_MAX_QUEUE:
		o->max_queue = parse_number(d->name, v, 0, INT_MAX);
		break;
	case OPT_CORS_ORIGIN:
		o->cors_origin = v;
		break;
	case OPT_THREADS:
		o->threads = parse_number(d->name, v, 1, 4096);
		break;
	case OPT_LOG_LEVEL:
		o->log_level = v;
		break;
	case OPT_SYNC:
		o->sync = v;
		break;
	case OPT_MAP_SIZE:
		o->map_size = parse_number(d->name, v, 1, 1LL << 24);
		break;
	case OPT_MAX_READERS:
		o->max_readers = parse_number(d->name, v, 8, 1 << 20);
		break;
	}
}

static void
parse_options(struct options *o, int argc, char **argv)
{
	struct option	 longopts[nitems(option_defs) + 1];
	const char	*v;
	size_t		 i;
	int		 c;

	/* The environment first; the command line wins. */
	for (i = 0; i < nitems(option_defs); i++) {
		if (option_defs[i].env != NULL &&
		    (v = getenv(option_defs[i].env)) != NULL)
			set_option(o, &option_defs[i], v);
	}
	for (i = 0; i < nitems(option_defs); i++) {
		longopts[i].name = option_defs[i].name;
		longopts[i].has_arg = option_defs[i].has_arg ?
		    required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = option_defs[i].id;
	}
	memset(&longopts[i], 0, sizeof(longopts[i]));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("sio-fcgi %s\n", PACKAGE_VERSION);
			exit(0);
		case OPT_STATS:
			o->stats = 1;
			break;
		case '?':
			usage(stderr);
			exit(2);
		default:
			for (i = 0; i < nitems(option_defs); i++) {
				if (option_defs[i].id == c)
					set_option(o, &option_defs[i],
					    optarg);
			}
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sio-fcgi: unexpected argument: %s\n",
		    argv[optind]);
		exit(2);
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	front_shutdown();
}

/*
 * Every held poll keeps its connection from the web server open: allow
 * as many descriptors as the hard limit does.
 */
static void
raise_fd_limit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("setrlimit");
	}
}

static int
print_stats(struct store *st)
{
	struct store_txn	*txn;
	size_t			 n;
	int			 rc;

	if ((rc = store_txn_begin(st, false, &txn)) != 0)
		return (rc);
	rc = store_session_count(txn, &n);
	store_txn_abort(txn);
	if (rc == 0)
		printf("sessions %zu\n", n);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct options		 o = {
		.db = SIO_DEFAULT_DB,
		.app = "chat",
		.ping_interval = 25000,
		.ping_timeout = 20000,
		.max_payload = 100000,
		.connect_timeout = 45000,
		.chat_history = 100,
		.chat_retention = 30,
		.chat_session_days = 30,
		.chat_max_tabs = 32,
		.max_sessions = 100000,
		.max_queue = 10000,
		.cors_origin = "",
		.threads = 0,	/* 64 with --listen, else 8 */
		.log_level = "warn",
		.sync = "full",
		.map_size = 1024,
		.max_readers = 1024,
		.chat_max_username = CHAT_USERNAME_MAX,
		.chat_max_content = CHAT_CONTENT_MAX,
		.max_json_depth = SIO_JSON_DEPTH,
		.max_attachments = SIO_MAX_ATTACHMENTS,
	};
	struct store_config	 sc;
	struct eio_config	 ec;
	struct front_config	 fc;
	struct http_cors	 cors;
	struct store		*st;
	struct eio		*e;
	struct sweep		*sw;
	struct sio		*sio = NULL;
	struct sio_config	 sioc;
	struct chat_config	 chc;
	struct sigaction	 sa;
	const char		*cause, *path;
	int			 level, sync, rc;
	int64_t			 period;

	parse_options(&o, argc, argv);
	if ((level = log_level_parse(o.log_level)) < 0) {
		fprintf(stderr, "sio-fcgi: unknown log level: %s\n",
		    o.log_level);
		return (2);
	}
	log_init("sio-fcgi", level);
	if ((sync = store_sync_parse(o.sync)) < 0) {
		fprintf(stderr, "sio-fcgi: --sync: full, meta or none\n");
		return (2);
	}
	if (strcmp(o.app, "echo") != 0 && strcmp(o.app, "conformance") != 0 &&
	    strcmp(o.app, "chat") != 0) {
		fprintf(stderr, "sio-fcgi: unknown app: %s (known: chat, "
		    "conformance, echo)\n", o.app);
		return (2);
	}
	memset(&cors, 0, sizeof(cors));
	if (http_cors_parse(o.cors_origin, &cors) != 0) {
		fprintf(stderr, "sio-fcgi: bad --cors-origin: %s\n",
		    o.cors_origin);
		return (2);
	}

	/* Checked by parse_number: cannot fail. */
	(void)sio_packet_set_limits((int)o.max_json_depth,
	    (size_t)o.max_attachments);

	memset(&sc, 0, sizeof(sc));
	sc.path = o.db;
	sc.map_size = (size_t)o.map_size * 1024 * 1024;
	sc.max_readers = (unsigned int)o.max_readers;
	sc.sync = sync;
	if (o.stats) {
		if ((rc = store_open(&sc, &st)) != 0)
			return (1);
		rc = print_stats(st);
		store_close(st);
		return (rc == 0 ? 0 : 1);
	}

	/* Ours before FCGX_Init, which then leaves SIGTERM alone (5.1). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	raise_fd_limit();
#ifdef M_ARENA_MAX
	/*
	 * glibc gives each thread an arena of its own, up to 8 per core,
	 * and keeps what a thread freed there (LMDB allocates megabytes per
	 * write transaction): two arenas hold the daemon's heap at a few
	 * MiB, at no cost in throughput (docs/design.md, "Threads").
	 */
	(void)mallopt(M_ARENA_MAX, 2);
#endif
	memset(&fc, 0, sizeof(fc));
	fc.listen = o.listen;
	/*
	 * The daemon's requests come from one front server: the more run
	 * at once, the more share an LMDB commit and its flush.  Spawned,
	 * the front server starts processes for concurrency (mod_fcgid
	 * sends a process one request at a time).
	 */
	if (o.threads == 0)
		o.threads = o.listen != NULL ? 64 : 8;
	fc.threads = (int)o.threads;
	fc.backlog = 4096;	/* the kernel caps it at somaxconn */
	if (front_open(&fc, &cause) != 0) {
		log_error("%s", cause);
		return (1);
	}
	if ((rc = bell_open()) != 0) {
		log_error("cannot open the bell socket: %s", strerror(-rc));
		return (1);
	}
	sc.instance = bell_self();
	if (store_open(&sc, &st) != 0)
		return (1);

	memset(&ec, 0, sizeof(ec));
	ec.ping_interval = (uint32_t)o.ping_interval;
	ec.ping_timeout = (uint32_t)o.ping_timeout;
	ec.max_payload = (size_t)o.max_payload;
	ec.max_sessions = (size_t)o.max_sessions;
	ec.max_queue = (size_t)o.max_queue;
	ec.close_wait = 30000;
	ec.body_timeout = 30000;
	ec.cors = cors;
	/* The front serves GETs and POSTs in the parker's batches. */
	ec.batch_gets = true;
	ec.batch_posts = true;
	e = eio_new(&ec, st);
	memset(&sioc, 0, sizeof(sioc));
	sioc.connect_timeout = o.connect_timeout;
	sioc.recovery = o.recovery;
	path = o.path != NULL ? o.path : "/socket.io";
	if (strcmp(o.app, "chat") == 0) {
		memset(&chc, 0, sizeof(chc));
		chc.history = (size_t)o.chat_history;
		chc.retention = o.chat_retention * 24 * 3600 * 1000;
		chc.session_ttl = o.chat_session_days * 24 * 3600 * 1000;
		chc.max_tabs = (size_t)o.chat_max_tabs;
		chc.max_username = (size_t)o.chat_max_username;
		chc.max_content = (size_t)o.chat_max_content;
		sio = sio_new(&sioc, path, chat_namespaces(&chc));
		eio_add_handler(e, sio_eio_handler(sio));
	} else {
		/* Echo; the conformance app beside it, as the suites want. */
		eio_add_handler(e, &echo_handler);
		if (strcmp(o.app, "conformance") == 0) {
			sio = sio_new(&sioc, path, conformance_namespaces);
			eio_add_handler(e, sio_eio_handler(sio));
		}
	}

	/* Often enough that a late pong is seen within a fraction of it. */
	period = o.ping_timeout / 4;
	if (period < 25)
		period = 25;
	if (period > 1000)
		period = 1000;
	/* A broken store stops the process, for a new one to replace it. */
	sw = sweep_start(e, st, period, front_shutdown);
	log_info("serving (%s), db %s", o.listen != NULL ? o.listen :
	    "fd 0", o.db);

	rc = front_run(&fc, e);
	if (store_is_broken(st))
		rc = -EIO;	/* a failure: supervisors restart it */

	sweep_stop(sw);
	eio_free(e);
	sio_free(sio);
	log_info("%llu write transactions committed in %llu LMDB commits, "
	    "%llu syncs",
	    (unsigned long long)store_commit_count(st),
	    (unsigned long long)store_lmdb_commit_count(st),
	    (unsigned long long)store_sync_count(st));
	store_close(st);
	bell_close();
	front_close();
	http_cors_clear(&cors);
	free(o.path);
	log_info("stopped");
	return (rc == 0 ? 0 : 1);
}
