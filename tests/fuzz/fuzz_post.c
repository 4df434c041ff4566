/*
 * sio-fcgi: libFuzzer target for a whole POST, through eio_handle(), to
 * the conformance application and the echo application over a real
 * LMDB store in a temporary directory.
 *
 * The world (store, Engine.IO server with echo at /engine.io and the
 * conformance app at /socket.io, fake clock) lives across inputs, as a
 * server process does.  Three sessions are kept open: S, a Socket.IO
 * session that joined "/" and "/custom" and gets the fuzzer's bodies; L,
 * a Socket.IO session on "/" that only listens (broadcasts reach it);
 * and E, an echo session that gets the same bodies.  A session that got
 * closed is opened again before the next body, so binary packets and
 * their attachments may span inputs, as they span POSTs.  Connection
 * state recovery is on: a new S offers the pid and offset the last one
 * got, as the JS client does, so a session lost abruptly comes back with
 * the events it missed.
 *
 * Each body goes out the way a client sends it: a GET is held for S,
 * the body is POSTed, the held GET is resumed, and what is queued is
 * drained.  Checked after every request: no 5xx answer (the store never
 * fails here, so a 5xx means client input broke the server), every GET
 * answer is a valid Engine.IO payload, every Socket.IO packet the server
 * sends decodes with our own (Node-compatible) decoder and has as many
 * binary packets after it as it announces; the echo session sends back
 * exactly the messages of a valid payload.  The harness answers pings.
 *
 * Input format: one POST body, or several separated by FUZZ_SEP (two
 * 0xff bytes, which valid UTF-8 never holds).  In a body, 0xff and a
 * byte 1-4 stand for ids the server made up, 0xff 5 for 0xff
 * (fuzz_substitute()).  An input that starts with FUZZ_SEP starts from a
 * fresh world; the world is also renewed every FUZZ_RESET_EVERY bodies,
 * at the start of an input.  The bodies since the renewal are written to
 * a history file ("<dir>/history", or $SIO_FUZZ_POST_HISTORY) before
 * they run, after a FUZZ_SEP, so the history file is one input that
 * replays from a fresh world everything that led to a crash:
 * `fuzz_post <history>`.
 *
 * SIO_FUZZ_POST_APP=chat puts the chat app at /socket.io instead of the
 * conformance app; SIO_FUZZ_LOG=debug runs the debug log lines too.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bell.h"
#include "buf.h"
#include "chat.h"
#include "conformance.h"
#include "echo.h"
#include "eio.h"
#include "eio_packet.h"
#include "http.h"
#include "log.h"
#include "sio.h"
#include "sio_packet.h"
#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_SEP		"\xff\xff"
#define FUZZ_SEP_LEN		2
#define FUZZ_ESC_FF		5	/* 0xff 5: a literal 0xff in a body */
#define FUZZ_RESET_EVERY	256	/* bodies */
#define FUZZ_T0			INT64_C(1700000000000)
#define FUZZ_STEP		50	/* ms the clock advances per body */
#define FUZZ_MAP_SIZE		(64u * 1024 * 1024)
#define FUZZ_MAX_PAYLOAD	4000
#define FUZZ_ORIGIN		"http://fuzz.example"
#define FUZZ_TEXT		"text/plain;charset=UTF-8"

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_post: check failed: %s (%s:%d)\n",	\
		    #cond, __FILE__, __LINE__);					\
		abort();						\
	}								\
} while (0)

/* One request built in memory; read_body serves body. */
struct fuzz_req {
	struct http_request	 req;
	char			 uri[256];
	const char		*body;
	size_t			 len;
	int			 reads;
};

/* A session the harness keeps open. */
struct fuzz_session {
	const char	*name;		/* "S", "L", "E" for messages */
	const char	*path;		/* "/socket.io" or "/engine.io" */
	const char	*open_body;	/* POSTed after the handshake */
	bool		 sio;		/* validate Socket.IO packets */
	char		 sid[STORE_SID_MAX + 1];	/* "" when none */
	/* A held GET, when w is valid. */
	bool		 held;
	struct eio_wait	 w;
	struct fuzz_req	 get;
	/* Binary packets still announced by the last answers. */
	size_t		 pending_bins;
	bool		 ping_seen;
	/*
	 * Connection state recovery, per namespace ("/", "/custom"): the
	 * last pid and offset the server gave, which the next session
	 * offers in its CONNECTs, as the JS client does.
	 */
	char		 pid[2][EIO_ID_LEN + 1];
	char		 offset[2][17];
	/* Chat: the ids of its "session" event. */
	char		 user_id[64];
	char		 session_id[64];
};

static char			 fuzz_dir[4096];	/* ours, removed at exit */
static char			 fuzz_db[4096];
static char			 fuzz_history[4096];
static int			 fuzz_history_fd = -1;
static bool			 fuzz_history_fresh;	/* only the marker */
static int64_t			 fuzz_now;
static unsigned long		 fuzz_bodies;	/* since the last renewal */
static struct http_cors		 fuzz_cors;
static struct store		*fuzz_st;
static struct eio		*fuzz_e;
static struct sio		*fuzz_sio;
static struct fuzz_session	 fuzz_s = { .name = "S", .path = "/socket.io",
				    .open_body = "40\x1e" "40/custom,",
				    .sio = true };
static struct fuzz_session	 fuzz_l = { .name = "L", .path = "/socket.io",
				    .open_body = "40", .sio = true };
static struct fuzz_session	 fuzz_x = { .name = "E", .path = "/engine.io",
				    .open_body = NULL, .sio = false };
static const char		*fuzz_nsps[] = { "/", "/custom" };
/* E's messages in the answers since fuzz_echo_expect(), in echo form. */
static struct buf		 fuzz_echo_got;
/* SIO_FUZZ_POST_APP=chat: the chat app at /socket.io instead. */
static bool			 fuzz_chat;

static int64_t
fuzz_clock(void)
{
	return (fuzz_now);
}

/* Requests. */

static int
fuzz_read_body(struct http_request *req, size_t max, struct buf *body)
{
	struct fuzz_req	*f = req->ctx;

	f->reads++;
	buf_reset(body);
	if (f->len > max)
		return (-EMSGSIZE);
	buf_append(body, f->body, f->len);
	return (0);
}

static void
fuzz_req_init(struct fuzz_req *f, enum http_method method, const char *path,
    const char *sid, const char *body, size_t len)
{
	int	n;

	memset(f, 0, sizeof(*f));
	if (sid != NULL)
		n = snprintf(f->uri, sizeof(f->uri),
		    "%s/?EIO=4&transport=polling&t=fz&sid=%s", path, sid);
	else
		n = snprintf(f->uri, sizeof(f->uri),
		    "%s/?EIO=4&transport=polling&t=fz", path);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(f->uri));
	f->req.method = method;
	f->req.method_name = method == HTTP_POST ? "POST" : "GET";
	f->req.uri = f->uri;
	f->req.query = strchr(f->uri, '?') + 1;
	f->req.origin = FUZZ_ORIGIN;
	f->req.content_type = method == HTTP_POST ? FUZZ_TEXT : NULL;
	f->req.content_length = method == HTTP_POST ? (long long)len : -1;
	f->req.read_body = fuzz_read_body;
	f->req.ctx = f;
	f->body = body;
	f->len = len;
}

/* A 5xx means the store failed, which client input must never cause. */
static void
fuzz_check_status(const struct fuzz_session *fs, const char *what,
    const struct http_response *r)
{
	if (r->status == 200 || r->status == 400 || r->status == 413)
		return;
	fprintf(stderr, "fuzz_post: %s of session %s answered %d: %s\n",
	    what, fs->name, r->status, buf_str(&r->body));
	abort();
}

/* Answers. */

static void
fuzz_fail_packet(const struct fuzz_session *fs, const char *why,
    const char *data, size_t len, const char *cause)
{
	fprintf(stderr, "fuzz_post: session %s: %s%s%s: %.*s\n", fs->name,
	    why, cause != NULL ? ": " : "", cause != NULL ? cause : "",
	    (int)len, data);
	abort();
}

/* Append one message to out: binary flag, length, bytes. */
static void
fuzz_echo_add(struct buf *out, const struct eio_packet *p)
{
	uint32_t	len = (uint32_t)p->len;

	buf_append_char(out, p->binary ? 'b' : 't');
	buf_append(out, &len, sizeof(len));
	buf_append(out, p->data, p->len);
}

/*
 * The messages the echo app must send back for body, in echo form, when
 * the body is a valid payload of messages and harmless packets only.
 * Returns false when there is nothing to expect.
 */
static bool
fuzz_echo_expect(const char *body, size_t len, struct buf *want)
{
	struct eio_payload_iter	 it;
	struct eio_packet	 p;
	struct buf		 bin;
	int			 rc;

	buf_reset(want);
	if (len > FUZZ_MAX_PAYLOAD)
		return (false);
	buf_init(&bin);
	eio_payload_iter_init(&it, body, len);
	while ((rc = eio_payload_next(&it, &p, &bin)) == 1) {
		if (p.type == EIO_PKT_MESSAGE)
			fuzz_echo_add(want, &p);
		else if (p.type != EIO_PKT_PONG && p.type != EIO_PKT_NOOP &&
		    p.type != EIO_PKT_UPGRADE)
			rc = -1;	/* open, close, ping: the session ends */
		if (rc != 1)
			break;
	}
	buf_clear(&bin);
	return (rc == 0);
}

/* Keep the pid of a CONNECT reply and the offset of an event. */
static void
fuzz_recovery_note(struct fuzz_session *fs, const struct sio_packet *sp)
{
	struct json_object	*v;
	const char		*str;
	size_t			 i, n;

	for (i = 0; i < nitems(fuzz_nsps); i++) {
		if (strcmp(sp->nsp, fuzz_nsps[i]) == 0)
			break;
	}
	if (i == nitems(fuzz_nsps))
		return;
	/* Chat: 42["session",{"sessionID":...,"userID":...}]. */
	if (sp->type == SIO_PKT_EVENT && (n = json_object_array_length(
	    sp->data)) >= 2 && json_object_is_type(v =
	    json_object_array_get_idx(sp->data, 0), json_type_string) &&
	    strcmp(json_object_get_string(v), "session") == 0) {
		v = json_object_array_get_idx(sp->data, 1);
		if (json_object_object_get_ex(v, "userID", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(fs->user_id, sizeof(fs->user_id), "%s",
			    json_object_get_string(v));
		v = json_object_array_get_idx(sp->data, 1);
		if (json_object_object_get_ex(v, "sessionID", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(fs->session_id, sizeof(fs->session_id), "%s",
			    json_object_get_string(v));
	}
	if (sp->type == SIO_PKT_CONNECT && json_object_object_get_ex(sp->data,
	    "pid", &v) && json_object_is_type(v, json_type_string) &&
	    strlen(str = json_object_get_string(v)) == EIO_ID_LEN)
		snprintf(fs->pid[i], sizeof(fs->pid[i]), "%s", str);
	/* Recovery on: an event without ack id ends with its offset. */
	if ((sp->type == SIO_PKT_EVENT || sp->type == SIO_PKT_BINARY_EVENT) &&
	    !sp->has_id && (n = json_object_array_length(sp->data)) > 1) {
		v = json_object_array_get_idx(sp->data, n - 1);
		if (json_object_is_type(v, json_type_string) &&
		    strlen(str = json_object_get_string(v)) == 16)
			snprintf(fs->offset[i], sizeof(fs->offset[i]), "%s",
			    str);
	}
}

/*
 * A GET answer: with 200, a valid payload whose Socket.IO packets decode
 * and bring their attachments.
 */
static void
fuzz_check_answer(struct fuzz_session *fs, const struct http_response *r)
{
	struct eio_payload_iter	 it;
	struct eio_packet	 p;
	struct sio_packet	 sp;
	struct buf		 bin;
	const char		*cause;
	int			 rc;

	fuzz_check_status(fs, "GET", r);
	if (r->status != 200)
		return;
	buf_init(&bin);
	eio_payload_iter_init(&it, r->body.data, r->body.len);
	while ((rc = eio_payload_next(&it, &p, &bin)) == 1) {
		if (p.type == EIO_PKT_PING)
			fs->ping_seen = true;
		if (fs == &fuzz_x && p.type == EIO_PKT_MESSAGE)
			fuzz_echo_add(&fuzz_echo_got, &p);
		if (!fs->sio || p.type != EIO_PKT_MESSAGE)
			continue;
		if (p.binary) {
			if (fs->pending_bins == 0)
				fuzz_fail_packet(fs,
				    "binary packet nobody announced",
				    buf_str(&r->body), r->body.len, NULL);
			fs->pending_bins--;
			continue;
		}
		if (fs->pending_bins != 0)
			fuzz_fail_packet(fs,
			    "text packet while attachments are due",
			    buf_str(&r->body), r->body.len, NULL);
		sio_packet_init(&sp);
		cause = NULL;
		if (sio_packet_decode(p.data, p.len, &sp, &cause) != 0) {
			/*
			 * The "auth" event wraps the client's CONNECT
			 * payload one level deeper than it came: only our
			 * decoder's depth limit refuses that, not Node.
			 */
			if (cause == NULL ||
			    strcmp(cause, "JSON nested too deep") != 0)
				fuzz_fail_packet(fs,
				    "server sent a packet that does not decode",
				    p.data, p.len, cause);
		} else {
			if (sp.type == SIO_PKT_BINARY_EVENT ||
			    sp.type == SIO_PKT_BINARY_ACK)
				fs->pending_bins = sp.attachments;
			fuzz_recovery_note(fs, &sp);
		}
		sio_packet_clear(&sp);
	}
	if (rc != 0)
		fuzz_fail_packet(fs, "GET answer is not a valid payload",
		    buf_str(&r->body), r->body.len, NULL);
	buf_clear(&bin);
}

/* Sessions. */

/* True when fs has a session that is open in the store. */
static bool
fuzz_session_is_open(struct fuzz_session *fs)
{
	struct store_txn	*t;
	struct store_session	 s;
	int			 rc;

	if (fs->sid[0] == '\0')
		return (false);
	FUZZ_CHECK(store_txn_begin(fuzz_st, false, &t) == 0);
	rc = store_session_get(t, fs->sid, &s);
	store_txn_abort(t);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT);
	return (rc == 0 && s.state == STORE_SESSION_OPEN);
}

/* Answer a held GET of fs with a noop, as a shutting-down front does. */
static void
fuzz_release(struct fuzz_session *fs)
{
	struct http_response	r;

	if (!fs->held)
		return;
	http_response_init(&r);
	FUZZ_CHECK(eio_resume(fuzz_e, &fs->get.req, &fs->w, fuzz_now, true,
	    &r) == EIO_DONE);
	fuzz_check_answer(fs, &r);
	http_response_clear(&r);
	fs->held = false;
}

/* GET for fs: answered now (checked), or held in fs->w. */
static void
fuzz_get(struct fuzz_session *fs)
{
	struct http_response	r;

	if (fs->sid[0] == '\0' || fs->held)
		return;
	http_response_init(&r);
	fuzz_req_init(&fs->get, HTTP_GET, fs->path, fs->sid, NULL, 0);
	if (eio_handle(fuzz_e, &fs->get.req, fuzz_now, &r, &fs->w) ==
	    EIO_WAIT)
		fs->held = true;
	else
		fuzz_check_answer(fs, &r);
	http_response_clear(&r);
}

/* Look at a held GET again (the bell rang, or may have). */
static void
fuzz_resume(struct fuzz_session *fs)
{
	struct http_response	r;

	if (!fs->held)
		return;
	http_response_init(&r);
	if (eio_resume(fuzz_e, &fs->get.req, &fs->w, fuzz_now, false, &r) ==
	    EIO_DONE) {
		fs->held = false;
		fuzz_check_answer(fs, &r);
	}
	http_response_clear(&r);
}

/*
 * Take what is waiting: resume the held GET, else GET once; leaves no
 * GET held.  What the answer carried is trimmed by the next GET.
 */
static void
fuzz_drain(struct fuzz_session *fs)
{
	if (fs->held)
		fuzz_resume(fs);
	else
		fuzz_get(fs);
	fuzz_release(fs);
}

/* POST body to fs; returns the status (0 when fs has no session). */
static int
fuzz_post(struct fuzz_session *fs, const char *body, size_t len)
{
	struct fuzz_req		f;
	struct http_response	r;
	struct eio_wait		w;
	int			status;

	if (fs->sid[0] == '\0')
		return (0);
	http_response_init(&r);
	fuzz_req_init(&f, HTTP_POST, fs->path, fs->sid, body, len);
	FUZZ_CHECK(eio_handle(fuzz_e, &f.req, fuzz_now, &r, &w) == EIO_DONE);
	fuzz_check_status(fs, "POST", &r);
	FUZZ_CHECK(f.reads >= 1);
	status = r.status;
	http_response_clear(&r);
	return (status);
}

/* Answer a ping the last answers carried, as a client does. */
static void
fuzz_pong(struct fuzz_session *fs)
{
	if (!fs->ping_seen)
		return;
	fs->ping_seen = false;
	if (fuzz_session_is_open(fs))
		fuzz_post(fs, "3", 1);
}

/* Handshake (and join) a new session for fs. */
static void
fuzz_open(struct fuzz_session *fs)
{
	struct fuzz_req		f;
	struct http_response	r;
	struct eio_wait		w;
	struct buf		body;
	const char		*p;
	size_t			i;

	fs->held = false;
	fs->pending_bins = 0;
	fs->ping_seen = false;
	fs->sid[0] = '\0';
	http_response_init(&r);
	fuzz_req_init(&f, HTTP_GET, fs->path, NULL, NULL, 0);
	FUZZ_CHECK(eio_handle(fuzz_e, &f.req, fuzz_now, &r, &w) == EIO_DONE);
	FUZZ_CHECK(r.status == 200);
	p = buf_str(&r.body);
	FUZZ_CHECK(strncmp(p, "0{\"sid\":\"", 9) == 0);
	FUZZ_CHECK(strlen(p + 9) > EIO_ID_LEN && p[9 + EIO_ID_LEN] == '"');
	memcpy(fs->sid, p + 9, EIO_ID_LEN);
	fs->sid[EIO_ID_LEN] = '\0';
	http_response_clear(&r);
	if (fs->open_body == NULL)
		return;
	buf_init(&body);
	if (fuzz_chat) {
		/* The chat wants a username, or the sessionID it gave. */
		if (fs->session_id[0] != '\0')
			buf_printf(&body, "40{\"sessionID\":\"%s\"}",
			    fs->session_id);
		else
			buf_printf(&body, "40{\"username\":\"%s\"}", fs->name);
	} else if (fs == &fuzz_s) {
		/* Offer what the last session got, to be recovered. */
		for (i = 0; i < nitems(fuzz_nsps); i++) {
			if (body.len > 0)
				buf_append_char(&body, EIO_RECORD_SEPARATOR);
			buf_append_str(&body, "40");
			if (i > 0)
				buf_printf(&body, "%s,", fuzz_nsps[i]);
			if (fs->pid[i][0] != '\0' && fs->offset[i][0] != '\0')
				buf_printf(&body,
				    "{\"pid\":\"%s\",\"offset\":\"%s\"}",
				    fs->pid[i], fs->offset[i]);
			fs->pid[i][0] = fs->offset[i][0] = '\0';
		}
	} else
		buf_append_str(&body, fs->open_body);
	fuzz_post(fs, body.data, body.len);
	buf_clear(&body);
	fuzz_drain(fs);
	FUZZ_CHECK(fuzz_session_is_open(fs));
}

/* Open again every session that got closed. */
static void
fuzz_sessions_ensure(void)
{
	struct fuzz_session	*all[] = { &fuzz_s, &fuzz_l, &fuzz_x };
	size_t			 i;

	for (i = 0; i < nitems(all); i++) {
		if (!fuzz_session_is_open(all[i]))
			fuzz_open(all[i]);
	}
}

/* The world. */

static int
fuzz_remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

static void
fuzz_world_close(void)
{
	struct fuzz_session	*all[] = { &fuzz_s, &fuzz_l, &fuzz_x };
	size_t			 i;

	for (i = 0; i < nitems(all); i++) {
		all[i]->sid[0] = '\0';
		all[i]->held = false;
		memset(all[i]->pid, 0, sizeof(all[i]->pid));
		memset(all[i]->offset, 0, sizeof(all[i]->offset));
		all[i]->user_id[0] = all[i]->session_id[0] = '\0';
	}
	eio_free(fuzz_e);
	sio_free(fuzz_sio);
	store_close(fuzz_st);
	fuzz_e = NULL;
	fuzz_sio = NULL;
	fuzz_st = NULL;
	nftw(fuzz_db, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Drop the rings our own requests sent to our bell. */
static void
fuzz_rings_drain(void)
{
	char	sid[STORE_SID_MAX + 1];
	int64_t	sent;

	while (bell_read(sid, sizeof(sid), &sent) == 1)
		/* nothing */;
}

/* A fresh store, servers, clock and sessions; the history restarts. */
static void
fuzz_world_open(void)
{
	struct store_config	sc;
	struct eio_config	ec;
	struct sio_config	sioc;
	struct chat_config	chc;

	if (fuzz_st != NULL)
		fuzz_world_close();
	fuzz_rings_drain();
	memset(&sc, 0, sizeof(sc));
	sc.path = fuzz_db;
	sc.map_size = FUZZ_MAP_SIZE;
	sc.max_readers = 126;
	sc.sync = STORE_SYNC_NONE;
	sc.instance = bell_self();
	FUZZ_CHECK(store_open(&sc, &fuzz_st) == 0);

	memset(&ec, 0, sizeof(ec));
	ec.ping_interval = 2000;
	ec.ping_timeout = 1000;
	ec.max_payload = FUZZ_MAX_PAYLOAD;
	ec.max_sessions = 64;
	ec.max_queue = 64;
	ec.close_wait = 3000;
	ec.body_timeout = 30000;
	ec.cors = fuzz_cors;
	ec.clock = fuzz_clock;
	fuzz_e = eio_new(&ec, fuzz_st);
	memset(&sioc, 0, sizeof(sioc));
	sioc.connect_timeout = 1000;
	sioc.recovery = 1000;
	if (fuzz_chat) {
		memset(&chc, 0, sizeof(chc));
		chc.history = 8;
		chc.retention = 5000;
		chc.session_ttl = 5000;
		chc.max_tabs = 4;
		fuzz_sio = sio_new(&sioc, "/socket.io", chat_namespaces(&chc));
	} else
		fuzz_sio = sio_new(&sioc, "/socket.io",
		    conformance_namespaces);
	/* As main.c wires the conformance app: echo beside it. */
	eio_add_handler(fuzz_e, &echo_handler);
	eio_add_handler(fuzz_e, sio_eio_handler(fuzz_sio));

	fuzz_now = FUZZ_T0;
	fuzz_bodies = 0;
	fuzz_sessions_ensure();
	fuzz_rings_drain();

	if (fuzz_history_fd != -1) {
		FUZZ_CHECK(ftruncate(fuzz_history_fd, 0) == 0);
		FUZZ_CHECK(lseek(fuzz_history_fd, 0, SEEK_SET) == 0);
		FUZZ_CHECK(write(fuzz_history_fd, FUZZ_SEP, FUZZ_SEP_LEN) ==
		    FUZZ_SEP_LEN);
		fuzz_history_fresh = true;
	}
}

/*
 * Append body to out so that it splits and substitutes the same once
 * joined to others with FUZZ_SEP: a 0xff that is not an escape (0xff
 * and 1-5) becomes the escape of a literal 0xff, so no 0xff is left at
 * the end or next to another.
 */
static void
fuzz_history_encode(const char *body, size_t len, struct buf *out)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		buf_append_char(out, body[i]);
		if ((unsigned char)body[i] != 0xff)
			continue;
		if (i + 1 < len && body[i + 1] >= 1 &&
		    body[i + 1] <= FUZZ_ESC_FF)
			buf_append_char(out, body[++i]);
		else
			buf_append_char(out, FUZZ_ESC_FF);
	}
}

static void
fuzz_history_append(const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	if (fuzz_history_fd == -1)
		return;
	while (len > 0) {
		n = write(fuzz_history_fd, p, len);
		FUZZ_CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
fuzz_cleanup(void)
{
	if (fuzz_st != NULL)
		fuzz_world_close();
	http_cors_clear(&fuzz_cors);
	if (fuzz_history_fd != -1)
		close(fuzz_history_fd);
	bell_close();
	if (fuzz_dir[0] != '\0')
		nftw(fuzz_dir, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	buf_clear(&fuzz_echo_got);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR"), *hist, *lvl;
	int		 level = LOG_LEVEL_ERROR;

	(void)argc;
	(void)argv;
	/* SIO_FUZZ_LOG=debug runs the debug log lines too (noisy). */
	if ((lvl = getenv("SIO_FUZZ_LOG")) != NULL &&
	    (level = log_level_parse(lvl)) < 0)
		level = LOG_LEVEL_ERROR;
	fuzz_chat = (lvl = getenv("SIO_FUZZ_POST_APP")) != NULL &&
	    strcmp(lvl, "chat") == 0;
	log_init("fuzz_post", level);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	FUZZ_CHECK((size_t)snprintf(fuzz_dir, sizeof(fuzz_dir),
	    "%s/sio-fuzz-post-XXXXXX", tmp) < sizeof(fuzz_dir));
	if (mkdtemp(fuzz_dir) == NULL) {
		fprintf(stderr, "fuzz_post: cannot make a directory in %s\n",
		    tmp);
		exit(1);
	}
	snprintf(fuzz_db, sizeof(fuzz_db), "%s/db", fuzz_dir);
	if ((hist = getenv("SIO_FUZZ_POST_HISTORY")) != NULL && *hist != '\0')
		snprintf(fuzz_history, sizeof(fuzz_history), "%s", hist);
	else
		snprintf(fuzz_history, sizeof(fuzz_history), "%s/history",
		    fuzz_dir);
	fuzz_history_fd = open(fuzz_history, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644);
	if (fuzz_history_fd == -1)
		fprintf(stderr, "fuzz_post: cannot write %s: %s\n",
		    fuzz_history, strerror(errno));
	else
		fprintf(stderr, "fuzz_post: history in %s\n", fuzz_history);
	FUZZ_CHECK(bell_open() == 0);
	FUZZ_CHECK(http_cors_parse(FUZZ_ORIGIN, &fuzz_cors) == 0);
	fuzz_world_open();
	atexit(fuzz_cleanup);
	return (0);
}

/*
 * Replace the tokens of body, which valid UTF-8 cannot hold, by what
 * the fuzzer cannot guess: \xff\x01 L's chat userID, \xff\x02 S's own,
 * \xff\x03 S's chat sessionID, \xff\x04 S's Socket.IO pid on "/";
 * \xff\x05 is a literal 0xff.  Unknown ids stay tokens; any other 0xff
 * is itself.
 */
static void
fuzz_substitute(const char *body, size_t len, struct buf *out)
{
	const char	*ids[5] = { NULL, fuzz_l.user_id, fuzz_s.user_id,
			    fuzz_s.session_id, fuzz_s.pid[0] };
	size_t		 i;
	unsigned char	 c;

	buf_reset(out);
	buf_reserve(out, len);
	for (i = 0; i < len; i++) {
		c = (unsigned char)(i + 1 < len ? body[i + 1] : 0);
		if ((unsigned char)body[i] == 0xff && c == FUZZ_ESC_FF) {
			buf_append_char(out, body[i]);
			i++;
		} else if ((unsigned char)body[i] == 0xff && c >= 1 &&
		    c < nitems(ids) && ids[c][0] != '\0') {
			buf_append_str(out, ids[c]);
			i++;
		} else
			buf_append_char(out, body[i]);
	}
}

/* One body through the world. */
static void
fuzz_body(const char *raw, size_t rawlen)
{
	struct buf	want, sub;
	const char	*body;
	size_t		len;
	bool		expect;
	int		status;

	buf_init(&want);
	buf_init(&sub);
	fuzz_substitute(raw, rawlen, &sub);
	body = sub.data;
	len = sub.len;
	fuzz_now += FUZZ_STEP;
	fuzz_bodies++;
	FUZZ_CHECK(eio_sweep(fuzz_e, fuzz_now) >= 0);
	fuzz_sessions_ensure();

	/* S: a GET is held while the body is POSTed, as a client has it. */
	fuzz_get(&fuzz_s);
	fuzz_post(&fuzz_s, body, len);
	fuzz_drain(&fuzz_s);
	fuzz_pong(&fuzz_s);

	/*
	 * E: the same body, echoed: a valid payload comes back as the same
	 * messages, in order, while the session stays open.
	 */
	expect = fuzz_echo_expect(body, len, &want);
	buf_reset(&fuzz_echo_got);
	status = fuzz_post(&fuzz_x, body, len);
	if (expect && status != 200) {
		fprintf(stderr,
		    "fuzz_post: session E: a valid payload was answered %d\n",
		    status);
		abort();
	}
	fuzz_drain(&fuzz_x);
	if (expect && fuzz_session_is_open(&fuzz_x) &&
	    (fuzz_echo_got.len != want.len || (want.len > 0 &&
	    memcmp(fuzz_echo_got.data, want.data, want.len) != 0))) {
		fprintf(stderr,
		    "fuzz_post: session E: the echo differs from what was sent (%zu bytes expected, %zu got)\n",
		    want.len, fuzz_echo_got.len);
		abort();
	}
	buf_clear(&want);
	buf_clear(&sub);
	fuzz_pong(&fuzz_x);

	/* L: what broadcasts left for it, now and then. */
	if (fuzz_bodies % 4 == 0) {
		fuzz_drain(&fuzz_l);
		fuzz_pong(&fuzz_l);
	}

	fuzz_rings_drain();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *q, *b;
	struct buf	 hist;

	if (size >= FUZZ_SEP_LEN && memcmp(p, FUZZ_SEP, FUZZ_SEP_LEN) == 0) {
		fuzz_world_open();
		p += FUZZ_SEP_LEN;
	} else if (fuzz_bodies >= FUZZ_RESET_EVERY)
		fuzz_world_open();
	/*
	 * Write first: a crash below leaves the input in the history.  The
	 * bodies since the renewal, encoded, are joined by FUZZ_SEP, so the
	 * history splits into the same bodies.
	 */
	buf_init(&hist);
	for (b = p;; b = q + FUZZ_SEP_LEN) {
		q = memmem(b, (size_t)(end - b), FUZZ_SEP, FUZZ_SEP_LEN);
		if (q == NULL)
			q = end;
		if (!fuzz_history_fresh)
			buf_append(&hist, FUZZ_SEP, FUZZ_SEP_LEN);
		fuzz_history_fresh = false;
		fuzz_history_encode(b, (size_t)(q - b), &hist);
		if (q == end)
			break;
	}
	fuzz_history_append(hist.data, hist.len);
	buf_clear(&hist);

	for (;;) {
		q = memmem(p, (size_t)(end - p), FUZZ_SEP, FUZZ_SEP_LEN);
		if (q == NULL)
			q = end;
		fuzz_body(p, (size_t)(q - p));
		if (q == end)
			break;
		p = q + FUZZ_SEP_LEN;
	}
	return (0);
}
