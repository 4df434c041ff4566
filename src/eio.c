/*
 * sio-fcgi: the Engine.IO v4 long-polling server.
 *
 * Every request is one write transaction (a POST whose body streams is
 * two: one marks it in flight before its body is read, so that an
 * overlapping POST is seen, one handles the packets).  Nothing is kept in
 * memory between requests but a cache of POST marks the store refused to
 * remove (eio_stale_add); a
 * held GET is described to the front by struct eio_wait and looked at
 * again with eio_resume().  Error answers follow the reference server
 * (engine.io lib/server.ts): codes, messages, statuses and check order.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bell.h"
#include "eio.h"
#include "eio_packet.h"
#include "log.h"
#include "text.h"
#include "xmalloc.h"

#define EIO_MAX_HANDLERS	8
#define EIO_SID_BYTES		15	/* 120 bits, 20 base64url chars */
#define EIO_SWEEP_BATCH		64
#define EIO_STALE_MARKS		64	/* failed unmarks remembered */

struct eio {
	struct eio_config		 cfg;
	struct store			*st;
	const struct eio_handler	*handlers[EIO_MAX_HANDLERS];
	size_t				 nhandlers;
	uint64_t			 tokens;
	/*
	 * Tokens of this process's POSTs whose in-flight mark could not be
	 * removed (the store refused every commit): their marks are stale,
	 * not overlapping POSTs.  A cache: forgetting one only lets that
	 * mark count as in flight until the body timeout.
	 */
	pthread_mutex_t			 stale_lock;
	uint64_t			 stale[EIO_STALE_MARKS];
	size_t				 nstale;
};

struct eio_ctx {
	struct eio			*e;
	struct store_txn		*txn;
	int64_t				 now;
	const char			*sid;	/* the session driving us */
	struct store_session		*s;	/* its record, put at the end */
	bool				 deleted; /* ... unless removed */
};

/* How a session ends; see PROTOCOL.md section 6. */
enum eio_close_mode {
	EIO_CLOSE_GRACEFUL,	/* queue goes out, then "1" or "6\x1e1" */
	EIO_CLOSE_ABRUPT,	/* nothing more; a held GET gets "1" */
	EIO_CLOSE_CLIENT,	/* client's "1": a held GET gets "6" */
};

/* The reference server's error table. */
enum eio_error {
	EIO_ERR_TRANSPORT_UNKNOWN = 0,
	EIO_ERR_UNKNOWN_SID,
	EIO_ERR_BAD_HANDSHAKE_METHOD,
	EIO_ERR_BAD_REQUEST,
	EIO_ERR_FORBIDDEN,
	EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION,
};

static const char *eio_error_messages[] = {
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
};

static const char *eio_tails[] = {
	[STORE_TAIL_NONE] = "",
	[STORE_TAIL_CLOSE] = "1",
	[STORE_TAIL_NOOP] = "6",
	[STORE_TAIL_NOOP_CLOSE] = ("6\x1e" "1"),
};

static int	eio_close_mode(struct eio_ctx *, const char *,
		    enum eio_close_mode, const char *);
static int	eio_ctx_commit(struct eio_ctx *, struct http_response *);
/* What a commit waits for: see store_txn_commit() and its variants. */
enum eio_commit {
	EIO_COMMIT_DURABLE,	/* its own writes on disk */
	EIO_COMMIT_SEEN,	/* what it read on disk (a poll's answer) */
	EIO_COMMIT_VISIBLE,	/* nothing (a held GET's record) */
};
static int	eio_ctx_commit_sync(struct eio_ctx *, struct http_response *,
		    enum eio_commit);
static const struct eio_handler *eio_handler_of(struct eio *, int);

int64_t
eio_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct eio *
eio_new(const struct eio_config *cfg, struct store *st)
{
	struct eio	*e;

	e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	if (e->cfg.clock == NULL)
		e->cfg.clock = eio_now;
	e->st = st;
	pthread_mutex_init(&e->stale_lock, NULL);
	return (e);
}

void
eio_free(struct eio *e)
{
	if (e == NULL)
		return;
	pthread_mutex_destroy(&e->stale_lock);
	free(e);
}

/* Remember that the mark of this process's POST token stayed behind. */
static void
eio_stale_add(struct eio *e, uint64_t token)
{
	pthread_mutex_lock(&e->stale_lock);
	e->stale[e->nstale++ % EIO_STALE_MARKS] = token;
	pthread_mutex_unlock(&e->stale_lock);
}

/* Is token one of this process's POSTs whose mark stayed behind? */
static bool
eio_stale_has(struct eio *e, uint64_t token)
{
	size_t	i;
	bool	found = false;

	pthread_mutex_lock(&e->stale_lock);
	for (i = 0; i < EIO_STALE_MARKS && !found; i++)
		found = token != 0 && e->stale[i] == token;
	pthread_mutex_unlock(&e->stale_lock);
	return (found);
}

void
eio_add_handler(struct eio *e, const struct eio_handler *h)
{
	if (e->nhandlers == EIO_MAX_HANDLERS)
		fatalx("eio: too many handlers");
	e->handlers[e->nhandlers++] = h;
}

struct store_txn *
eio_ctx_txn(struct eio_ctx *ctx)
{
	return (ctx->txn);
}

void *
eio_ctx_handler_arg(struct eio_ctx *ctx)
{
	const struct eio_handler	*h;

	if (ctx->s == NULL ||
	    (h = eio_handler_of(ctx->e, ctx->s->endpoint)) == NULL)
		return (NULL);
	return (h->arg);
}

int64_t
eio_ctx_now(struct eio_ctx *ctx)
{
	return (ctx->now);
}

int
eio_set_timer(struct eio_ctx *ctx, int64_t deadline)
{
	if (ctx->s == NULL || ctx->deleted ||
	    ctx->s->state != STORE_SESSION_OPEN)
		return (-ENOENT);
	ctx->s->app_deadline = deadline;
	return (0);
}

static const struct eio_handler *
eio_handler_of(struct eio *e, int endpoint)
{
	if (endpoint < 1 || (size_t)endpoint > e->nhandlers)
		return (NULL);
	return (e->handlers[endpoint - 1]);
}

/* Answers. */

static void
eio_answer_error(struct http_response *resp, enum eio_error code)
{
	resp->status = code == EIO_ERR_FORBIDDEN ? 403 : 400;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	buf_printf(&resp->body, "{\"code\":%d,\"message\":\"%s\"}", (int)code,
	    eio_error_messages[code]);
}

static void
eio_answer_empty(struct http_response *resp, int status)
{
	resp->status = status;
	resp->content_type = NULL;
	buf_reset(&resp->body);
}

static void
eio_answer_text(struct http_response *resp, const char *text)
{
	resp->status = 200;
	resp->content_type = "text/plain; charset=UTF-8";
	buf_reset(&resp->body);
	buf_append_str(&resp->body, text);
	buf_append_str(&resp->headers, "Cache-Control: no-store\r\n");
}

static void
eio_answer_ok(struct http_response *resp)
{
	resp->status = 200;
	resp->content_type = "text/html";
	buf_reset(&resp->body);
	buf_append_str(&resp->body, "ok");
	buf_append_str(&resp->headers, "Cache-Control: no-store\r\n");
}

/* A storage failure: the client may retry; nothing half-written stays. */
static void
eio_answer_failure(struct http_response *resp, int rc)
{
	resp->status = rc == -ENOSPC ? 507 : 503;
	resp->content_type = "text/plain; charset=UTF-8";
	buf_reset(&resp->body);
	buf_append_str(&resp->body, rc == -ENOSPC ?
	    "storage full\n" : "storage unavailable\n");
}

/* Session bookkeeping. */

void
eio_id_new(char *sid)
{
	unsigned char	raw[EIO_SID_BYTES];
	struct buf	b;
	size_t		off = 0;
	ssize_t		n;

	while (off < sizeof(raw)) {
		n = getrandom(raw + off, sizeof(raw) - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		off += (size_t)n;
	}
	buf_init(&b);
	text_base64url_encode(raw, sizeof(raw), &b);
	strcpy(sid, buf_str(&b));
	buf_clear(&b);
}

/* A sid we could have made: base64url, the right length. */
static bool
eio_sid_is_wellformed(const char *sid)
{
	size_t	i, len = strlen(sid);

	if (len != 20)
		return (false);
	for (i = 0; i < len; i++) {
		char c = sid[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return (false);
	}
	return (true);
}

/*
 * When the sweep must look at s next, at now.  The pong is due
 * pingTimeout after the ping went out in a poll answer, or, when no GET
 * came to take it, after it was due.  A ping that is due while a GET is
 * held goes out with that GET's answer, however late the front gives
 * it: the sweep then only looks again a pingTimeout later.
 */
static int64_t
eio_deadline(const struct store_session *s, int64_t now)
{
	int64_t	d;

	if (s->state == STORE_SESSION_CLOSING)
		return (s->closing_until);
	d = s->ping_at + s->ping_timeout;
	if (!s->ping_sent && s->get_instance != 0 && d <= now)
		d = now + s->ping_timeout;
	if (s->app_deadline != 0 && s->app_deadline < d)
		d = s->app_deadline;
	return (d);
}

/* When a held GET of s must be looked at again. */
static int64_t
eio_get_deadline(const struct store_session *s)
{
	if (s->state == STORE_SESSION_CLOSING)
		return (s->closing_until);
	if (s->ping_sent)
		return (s->ping_at + s->ping_timeout);
	return (s->ping_at);
}

static bool
eio_get_is_held(const struct store_session *s)
{
	return (s->get_instance != 0 && bell_is_alive(s->get_instance));
}

/*
 * Whether s's pong is late at now.  Never while a live GET is held and
 * the ping has not gone out: the server, not the client, is late then
 * (its parker has not answered the GET yet), and that GET carries the
 * ping when it is answered.
 */
static bool
eio_pong_is_late(const struct store_session *s, int64_t now)
{
	if (now < s->ping_at + (int64_t)s->ping_timeout)
		return (false);
	return (s->ping_sent || !eio_get_is_held(s));
}

/* Write back the driving session, with its timer, unless removed. */
static int
eio_ctx_put(struct eio_ctx *ctx)
{
	int	rc;

	if (ctx->deleted || ctx->s == NULL)
		return (0);
	if ((rc = store_session_set_timer(ctx->txn, ctx->sid, ctx->s,
	    eio_deadline(ctx->s, ctx->now))) != 0)
		return (rc);
	return (store_session_put(ctx->txn, ctx->sid, ctx->s, false));
}

/*
 * Queue pkt for sid and wake its held GET.  Once: that GET, resumed after
 * this commit, finds the packet and is answered, so the rings of later
 * commits would only make its holder look again in vain.  A ring that
 * queues nothing (a pong, a close) does not count: the resume it causes
 * may keep the GET waiting.
 */
static int
eio_push(struct eio_ctx *ctx, const char *sid, struct store_session *s,
    const char *pkt, size_t len)
{
	int	rc;

	if ((rc = store_queue_push(ctx->txn, sid, s, pkt, len)) != 0)
		return (rc);
	if (s->get_instance != 0 && !s->get_rung) {
		store_txn_ring(ctx->txn, s->get_instance, sid);
		s->get_rung = 1;
	}
	return (0);
}

int
eio_send(struct eio_ctx *ctx, const char *sid, bool binary,
    const void *data, size_t len)
{
	struct store_session	 other, *s;
	struct buf		 pkt;
	bool			 own;
	int			 rc;

	own = ctx->s != NULL && strcmp(sid, ctx->sid) == 0;
	if (own) {
		if (ctx->deleted)
			return (-ENOENT);
		s = ctx->s;
	} else {
		if ((rc = store_session_get(ctx->txn, sid, &other)) != 0)
			return (rc);
		s = &other;
	}
	if (s->state != STORE_SESSION_OPEN)
		return (-ENOENT);
	if (ctx->e->cfg.max_queue != 0 &&
	    s->q_tail - s->q_head >= ctx->e->cfg.max_queue) {
		log_warnx("eio: a session has %zu packets waiting: closing it",
		    ctx->e->cfg.max_queue);
		log_debug("eio: sid=%s: queue full", sid);
		if ((rc = eio_close_mode(ctx, sid, EIO_CLOSE_ABRUPT,
		    "transport error")) != 0)
			return (rc);
		return (-ENOENT);
	}
	buf_init(&pkt);
	if (binary)
		eio_packet_encode_binary(data, len, &pkt);
	else
		eio_packet_encode(EIO_PKT_MESSAGE, data, len, &pkt);
	rc = eio_push(ctx, sid, s, pkt.data, pkt.len);
	buf_clear(&pkt);
	if (rc == 0 && !own)
		rc = store_session_put(ctx->txn, sid, s, false);
	return (rc);
}

int
eio_close(struct eio_ctx *ctx, const char *sid, bool graceful,
    const char *reason)
{
	return (eio_close_mode(ctx, sid, graceful ? EIO_CLOSE_GRACEFUL :
	    EIO_CLOSE_ABRUPT, reason));
}

/*
 * Close sid exactly once: only the transaction that finds it open runs
 * on_close, and the record changes in that same transaction.
 */
static int
eio_close_mode(struct eio_ctx *ctx, const char *sid,
    enum eio_close_mode mode, const char *reason)
{
	const struct eio_handler	*h;
	struct store_session		 other, *s;
	bool				 own, held;
	int				 rc;

	own = ctx->s != NULL && strcmp(sid, ctx->sid) == 0;
	if (own) {
		if (ctx->deleted)
			return (0);
		s = ctx->s;
	} else {
		if ((rc = store_session_get(ctx->txn, sid, &other)) != 0)
			return (rc == -ENOENT ? 0 : rc);
		s = &other;
	}
	if (s->state != STORE_SESSION_OPEN)
		return (0);
	log_debug("eio: close sid=%s: %s", sid, reason);

	/* The application may still queue last packets when graceful. */
	h = eio_handler_of(ctx->e, s->endpoint);
	if (h != NULL && h->on_close != NULL) {
		h->on_close(h->arg, ctx, sid, reason);
		/* Its sends to another session went through the store. */
		if (!own && (rc = store_session_get(ctx->txn, sid, s)) != 0)
			return (rc);
	}

	held = eio_get_is_held(s);
	if (mode != EIO_CLOSE_GRACEFUL) {
		if ((rc = store_queue_trim(ctx->txn, sid, s->q_head,
		    s->q_tail)) != 0)
			return (rc);
		s->q_head = s->q_sent = s->q_tail;
	}
	if (mode == EIO_CLOSE_GRACEFUL || held) {
		s->state = STORE_SESSION_CLOSING;
		s->close_tail_held = mode == EIO_CLOSE_CLIENT ?
		    STORE_TAIL_NOOP : STORE_TAIL_CLOSE;
		s->close_tail_next = mode == EIO_CLOSE_GRACEFUL ?
		    STORE_TAIL_NOOP_CLOSE : STORE_TAIL_NONE;
		s->closing_until = ctx->now + ctx->e->cfg.close_wait;
		if (held)
			store_txn_ring(ctx->txn, s->get_instance, sid);
		if (own)
			return (0);	/* eio_ctx_put() writes it */
		if ((rc = store_session_set_timer(ctx->txn, sid, s,
		    eio_deadline(s, ctx->now))) != 0)
			return (rc);
		return (store_session_put(ctx->txn, sid, s, false));
	}
	if ((rc = store_session_del(ctx->txn, sid, s)) != 0)
		return (rc);
	if (own)
		ctx->deleted = true;
	return (0);
}

/*
 * For a poll: queue a ping when one is due, or close when the pong is
 * late.  The poll answers with what is queued, so a ping queued here
 * goes out now, and the pong deadline counts from now.  When this poll
 * is the session's held GET (get_instance is still set: eio_get clears
 * it for a new GET), a due ping goes out however late the resume is.
 */
static int
eio_heartbeat(struct eio_ctx *ctx)
{
	struct store_session	*s = ctx->s;

	if (s->state != STORE_SESSION_OPEN)
		return (0);
	if (eio_pong_is_late(s, ctx->now))
		return (eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
		    "ping timeout"));
	if (!s->ping_sent && ctx->now >= s->ping_at) {
		s->ping_sent = 1;
		s->ping_at = ctx->now;
		/* No ring: this very poll answers it. */
		return (store_queue_push(ctx->txn, ctx->sid, s, "2", 1));
	}
	return (0);
}

/*
 * Answer a GET with everything waiting: [q_sent, q_tail).  The batch
 * stays stored until the next GET proves that this one arrived.
 */
static int
eio_answer_batch(struct eio_ctx *ctx, struct http_response *resp,
    struct eio_wait *w)
{
	struct store_session	*s = ctx->s;
	int			 rc;

	resp->status = 200;
	resp->content_type = "text/plain; charset=UTF-8";
	buf_reset(&resp->body);
	if ((rc = store_queue_read(ctx->txn, ctx->sid, s->q_sent, s->q_tail,
	    &resp->body)) != 0)
		return (rc);
	buf_append_str(&resp->headers, "Cache-Control: no-store\r\n");
	w->from = s->q_sent;
	w->to = s->q_tail;
	s->q_sent = s->q_tail;
	return (0);
}

/* Drop what the previous GET carried: this GET proves it arrived. */
static int
eio_trim_delivered(struct eio_ctx *ctx)
{
	struct store_session	*s = ctx->s;
	int			 rc;

	if (s->q_head >= s->q_sent)
		return (0);
	if ((rc = store_queue_trim(ctx->txn, ctx->sid, s->q_head,
	    s->q_sent)) != 0)
		return (rc);
	s->q_head = s->q_sent;
	return (0);
}

/*
 * The common part of a new and a resumed GET: held tells whether this
 * request is the session's held GET.  Returns EIO_DONE with resp filled,
 * or EIO_WAIT; *rcp gets a store error.
 */
static enum eio_result
eio_poll(struct eio_ctx *ctx, bool held, struct http_response *resp,
    struct eio_wait *w, int *rcp)
{
	struct store_session	*s = ctx->s;
	enum store_tail		 tail;
	int			 rc;

	*rcp = 0;
	if ((rc = eio_trim_delivered(ctx)) != 0 ||
	    (rc = eio_heartbeat(ctx)) != 0) {
		*rcp = rc;
		return (EIO_DONE);
	}
	if (ctx->deleted) {
		eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		return (EIO_DONE);
	}
	if (held) {
		s->get_instance = 0;
		s->get_token = 0;
	}
	if (s->q_sent < s->q_tail) {
		*rcp = eio_answer_batch(ctx, resp, w);
		return (EIO_DONE);
	}
	if (s->state == STORE_SESSION_CLOSING) {
		tail = held ? s->close_tail_held : s->close_tail_next;
		if (tail == STORE_TAIL_NONE) {
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
			return (EIO_DONE);
		}
		eio_answer_text(resp, eio_tails[tail]);
		*rcp = store_session_del(ctx->txn, ctx->sid, s);
		ctx->deleted = true;
		return (EIO_DONE);
	}
	/* Nothing to say yet: hold the request. */
	s->get_instance = store_instance(ctx->e->st);
	s->get_token = w->token;
	s->get_rung = 0;
	w->deadline = eio_get_deadline(s);
	return (EIO_WAIT);
}

static enum eio_result
eio_get(struct eio_ctx *ctx, struct http_response *resp,
    struct eio_wait *w, int *rcp)
{
	struct store_session	*s = ctx->s;

	*rcp = 0;
	if (s->state == STORE_SESSION_CLOSING &&
	    s->close_tail_next == STORE_TAIL_NONE) {
		/* Closed abruptly; only the held GET may still learn it. */
		eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		return (EIO_DONE);
	}
	if (eio_get_is_held(s)) {
		/*
		 * A second GET while one is held: 400 for this one, "1" for
		 * the held one, and the session is gone (PROTOCOL.md 4).
		 */
		*rcp = eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
		    "transport error");
		eio_answer_empty(resp, 400);
		return (EIO_DONE);
	}
	s->get_instance = 0;	/* a holder that died */
	return (eio_poll(ctx, false, resp, w, rcp));
}

/*
 * Close the driving session abruptly and answer status; commits.  Used
 * for the POSTs that end a session (octet-stream, overlap, 413).
 */
static void
eio_close_answer(struct eio_ctx *ctx, struct http_response *resp,
    int status)
{
	int	rc;

	rc = eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
	    "transport error");
	if (rc != 0) {
		store_txn_abort(ctx->txn);
		ctx->txn = NULL;
		eio_answer_failure(resp, rc);
		return;
	}
	if (eio_ctx_commit(ctx, resp) == 0)
		eio_answer_empty(resp, status);
}

/* Handle one decoded packet of a POST; false when the session ended. */
static int
eio_post_packet(struct eio_ctx *ctx, const struct eio_handler *h,
    const struct eio_packet *p)
{
	struct store_session	*s = ctx->s;
	int			 rc;

	switch (p->type) {
	case EIO_PKT_MESSAGE:
		if (h->on_message == NULL)
			return (0);
		rc = h->on_message(h->arg, ctx, ctx->sid, p->binary, p->data,
		    p->len);
		if (rc == -EPROTO)
			return (eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
			    "parse error"));
		/*
		 * A send to a session that is gone (maybe this one) is not
		 * a failure of the request.
		 */
		return (rc == -ENOENT ? 0 : rc);
	case EIO_PKT_PONG:
		if (s->ping_sent) {
			/* v4: the next ping comes pingInterval after this. */
			s->ping_sent = 0;
			s->ping_at = ctx->now + s->ping_interval;
			if (s->get_instance != 0)
				store_txn_ring(ctx->txn, s->get_instance,
				    ctx->sid);
		}
		return (0);
	case EIO_PKT_CLOSE:
		return (eio_close_mode(ctx, ctx->sid, EIO_CLOSE_CLIENT,
		    "transport close"));
	case EIO_PKT_NOOP:
	case EIO_PKT_UPGRADE:
		return (0);
	case EIO_PKT_PING:
		/* v4: "invalid heartbeat direction". */
		return (eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
		    "transport error"));
	case EIO_PKT_OPEN:
	default:
		return (eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
		    "parse error"));
	}
}

static bool
eio_is_octet_stream(const char *type)
{
	size_t	n = strlen("application/octet-stream");

	return (type != NULL && strncasecmp(type, "application/octet-stream",
	    n) == 0 && (type[n] == '\0' || type[n] == ';' || type[n] == ' '));
}

/* Begin a write transaction and load sid for one request. */
static int
eio_ctx_open(struct eio *e, struct eio_ctx *ctx, const char *sid,
    struct store_session *s, int64_t now)
{
	int	rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->e = e;
	ctx->now = now;
	ctx->sid = sid;
	ctx->s = s;
	if ((rc = store_txn_begin(e->st, true, &ctx->txn)) != 0)
		return (rc);
	if ((rc = store_session_get(ctx->txn, sid, s)) != 0) {
		store_txn_abort(ctx->txn);
		ctx->txn = NULL;
	}
	return (rc);
}

/*
 * Write the session back and commit; on failure answer with it.  The
 * commit is on disk when it returns (store_txn_commit), so the answer
 * that follows never tells of something a power loss could undo.
 */
static int
eio_ctx_commit(struct eio_ctx *ctx, struct http_response *resp)
{
	return (eio_ctx_commit_sync(ctx, resp, EIO_COMMIT_DURABLE));
}

static int
eio_ctx_commit_sync(struct eio_ctx *ctx, struct http_response *resp,
    enum eio_commit wait)
{
	int	rc;

	if ((rc = eio_ctx_put(ctx)) != 0) {
		store_txn_abort(ctx->txn);
		ctx->txn = NULL;
		eio_answer_failure(resp, rc);
		return (rc);
	}
	switch (wait) {
	case EIO_COMMIT_DURABLE:
		rc = store_txn_commit(ctx->txn);
		break;
	case EIO_COMMIT_SEEN:
		rc = store_txn_commit_seen(ctx->txn);
		break;
	default:
		rc = store_txn_commit_nowait(ctx->txn);
		break;
	}
	ctx->txn = NULL;
	if (rc != 0)
		eio_answer_failure(resp, rc);
	return (rc);
}

/*
 * The POST's work was rolled back (a full map, a storage error): take
 * its in-flight mark away, or the client's next POST would look like an
 * overlapping one and close the session.
 */
static void
eio_post_unmark(struct eio *e, const char *sid, uint64_t token)
{
	struct store_session	 s;
	struct eio_ctx		 ctx;
	struct http_response	 resp;

	if (eio_ctx_open(e, &ctx, sid, &s, e->cfg.clock()) != 0) {
		eio_stale_add(e, token);
		return;
	}
	if (s.post_instance != store_instance(e->st) || s.post_token != token) {
		store_txn_abort(ctx.txn);
		return;
	}
	s.post_instance = 0;
	s.post_token = 0;
	s.post_started = 0;
	http_response_init(&resp);
	if (eio_ctx_commit(&ctx, &resp) != 0)
		eio_stale_add(e, token);	/* a full disk, say */
	http_response_clear(&resp);
}

/*
 * The checks every POST passes before its packets are handled, in the
 * transaction ctx has open on s.  Returns true with the transaction
 * still open when the POST may go on; otherwise it answered resp and
 * ended the transaction.
 */
static bool
eio_post_check(struct eio *e, struct eio_ctx *ctx, struct store_session *s,
    int endpoint, struct http_request *req, int64_t now,
    struct http_response *resp)
{
	int	rc;

	if (s->endpoint != endpoint || (s->state == STORE_SESSION_CLOSING &&
	    s->close_tail_next == STORE_TAIL_NONE)) {
		store_txn_abort(ctx->txn);
		eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		return (false);
	}
	if (s->state == STORE_SESSION_CLOSING) {
		/* Closing gracefully: accepted and ignored, as Node does. */
		store_txn_abort(ctx->txn);
		eio_answer_ok(resp);
		return (false);
	}
	if (eio_is_octet_stream(req->content_type)) {
		/* v4 polling carries text only (PROTOCOL.md 1). */
		eio_close_answer(ctx, resp, 400);
		return (false);
	}
	if (eio_pong_is_late(s, now)) {
		/* The pong is late: closed, even if the sweep has not run. */
		rc = eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
		    "ping timeout");
		if (rc == 0 && eio_ctx_commit(ctx, resp) == 0)
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		else if (rc != 0) {
			store_txn_abort(ctx->txn);
			eio_answer_failure(resp, rc);
		}
		return (false);
	}
	if (s->post_instance != 0 && bell_is_alive(s->post_instance) &&
	    now - s->post_started < e->cfg.body_timeout &&
	    !(s->post_instance == store_instance(e->st) &&
	    eio_stale_has(e, s->post_token))) {
		/* A second POST while one is read: 400, session closed. */
		eio_close_answer(ctx, resp, 400);
		return (false);
	}
	if (req->content_length > (long long)e->cfg.max_payload) {
		log_warnx("eio: a POST of %lld bytes refused (--max-payload "
		    "%zu): session closed", req->content_length,
		    e->cfg.max_payload);
		eio_close_answer(ctx, resp, 413);
		return (false);
	}
	return (true);
}

/*
 * Open the POST's transaction on sid and run its checks.  False when the
 * request is answered already (unknown sid, storage failure, a check).
 */
static bool
eio_post_begin(struct eio *e, struct eio_ctx *ctx, const char *sid,
    struct store_session *s, int endpoint, struct http_request *req,
    int64_t now, struct http_response *resp)
{
	int	rc;

	if ((rc = eio_ctx_open(e, ctx, sid, s, now)) != 0) {
		if (rc == -ENOENT)
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		else
			eio_answer_failure(resp, rc);
		return (false);
	}
	return (eio_post_check(e, ctx, s, endpoint, req, now, resp));
}

/*
 * Handle the body of a POST (rc: how reading it went) in the open
 * transaction of ctx, commit, and answer.  marked: the POST was marked
 * in flight by an earlier transaction, which must be undone if this one
 * is rolled back.  Returns the storage error that rolled it back, or 0.
 */
static int
eio_post_apply(struct eio *e, struct eio_ctx *ctx, const struct eio_handler *h,
    const struct buf *body, int rc, bool marked, uint64_t token,
    struct http_response *resp)
{
	struct eio_payload_iter	 it;
	struct eio_packet	 p;
	struct buf		 bin;
	int			 n;

	if (rc == -EMSGSIZE) {
		log_warnx("eio: a POST body above %zu bytes (--max-payload) "
		    "refused: session closed", e->cfg.max_payload);
		eio_close_answer(ctx, resp, 413);
		return (0);
	}
	if (rc != 0) {
		/* The client went away mid-body: forget the POST. */
		if (eio_ctx_commit(ctx, resp) == 0)
			eio_answer_empty(resp, 400);
		return (0);
	}

	buf_init(&bin);
	eio_payload_iter_init(&it, body->data, body->len);
	while (!ctx->deleted && ctx->s->state == STORE_SESSION_OPEN) {
		n = eio_payload_next(&it, &p, &bin);
		if (n == 0)
			break;
		if (n < 0) {
			/* A decoding error closes the session at once. */
			log_debug("eio: sid=%s: malformed payload", ctx->sid);
			rc = eio_close_mode(ctx, ctx->sid, EIO_CLOSE_ABRUPT,
			    "parse error");
			if (rc == 0)
				rc = -EPROTO;
			break;
		}
		if ((rc = eio_post_packet(ctx, h, &p)) != 0)
			break;
	}
	buf_clear(&bin);
	if (rc != 0 && rc != -EPROTO) {
		store_txn_abort(ctx->txn);
		ctx->txn = NULL;
		eio_answer_failure(resp, rc);
		if (marked)
			eio_post_unmark(e, ctx->sid, token);
		return (rc);
	}
	if ((n = eio_ctx_commit(ctx, resp)) != 0) {
		if (marked)
			eio_post_unmark(e, ctx->sid, token);
		return (n);
	}
	if (rc == -EPROTO)
		eio_answer_error(resp, EIO_ERR_BAD_REQUEST);
	else
		eio_answer_ok(resp);
	return (0);
}

/*
 * A POST.  When the front already holds the whole body (lighttpd and
 * mod_fcgid buffer it before they start the request), it is read first
 * and one transaction checks the session, the one-POST-at-a-time rule
 * and handles the packets.  Otherwise the body streams: a first
 * transaction marks the POST in flight, so that an overlapping POST is
 * seen while the body is read with no transaction open, and a second
 * one handles the packets and clears the mark.
 */
static int	eio_post_body(struct eio *, const struct eio_handler *, int,
		    struct http_request *, const char *, int64_t,
		    struct http_response *, struct buf *, int, uint64_t,
		    bool, bool);

static enum eio_result
eio_post(struct eio *e, const struct eio_handler *h, int endpoint,
    struct http_request *req, const char *sid, int64_t now,
    struct http_response *resp, struct eio_wait *w)
{
	struct buf	body;
	uint64_t	token;
	int		ready = 0;

	buf_init(&body);
	token = __atomic_add_fetch(&e->tokens, 1, __ATOMIC_RELAXED);

	if (req->read_body_ready != NULL && req->content_length >= 0 &&
	    req->content_length <= (long long)e->cfg.max_payload &&
	    !eio_is_octet_stream(req->content_type)) {
		ready = req->read_body_ready(req, e->cfg.max_payload, &body);
		if (ready != 0)
			now = e->cfg.clock();
	}
	if (ready == 1 && e->cfg.batch_posts) {
		/* The rest in a batch: eio_post_item(). */
		strcpy(w->sid, sid);
		w->endpoint = endpoint;
		w->token = token;
		w->fresh = true;
		w->post = true;
		w->body = body;
		return (EIO_BATCH);
	}
	(void)eio_post_body(e, h, endpoint, req, sid, now, resp, &body, ready,
	    token, false, false);
	buf_clear(&body);
	return (EIO_DONE);
}

/*
 * The POST once its body is read (ready: 1, or how reading it went; 0:
 * it streams, read here).  nested: in a batch's transaction, where a full
 * map is returned (-ENOSPC) for the batch to serve the POST again alone
 * rather than taking the two-step path, whose mark needs a commit of its
 * own.  in_hand: the request's body must not be read again (the front
 * let its streams go).  Returns -ENOSPC as said, or 0.
 */
static int
eio_post_body(struct eio *e, const struct eio_handler *h, int endpoint,
    struct http_request *req, const char *sid, int64_t now,
    struct http_response *resp, struct buf *bodyp, int ready,
    uint64_t token, bool nested, bool in_hand)
{
	struct store_session	 s;
	struct eio_ctx		 ctx;
	struct buf		 body = *bodyp;
	uint64_t		 self = store_instance(e->st);
	int			 rc, n, ret = 0;

	/* The (first) transaction: the checks. */
	if (!eio_post_begin(e, &ctx, sid, &s, endpoint, req, now, resp))
		goto drain;
	if (ready != 0) {
		/* The body is in hand: one transaction does it all. */
		rc = eio_post_apply(e, &ctx, h, &body, ready == 1 ? 0 : ready,
		    false, token, resp);
		if (rc != -ENOSPC || ready != 1)
			goto out;
		if (nested) {
			ret = -ENOSPC;
			goto out;
		}
		/*
		 * The map is full.  LMDB reuses the pages a commit freed
		 * only from the second commit after it, so when the GET
		 * before us trimmed a batch, the packets fit one commit
		 * later: take the two-step path, whose mark is that commit.
		 */
		now = e->cfg.clock();
		if (!eio_post_begin(e, &ctx, sid, &s, endpoint, req, now,
		    resp))
			goto out;
	}
	s.post_instance = self;
	s.post_token = token;
	s.post_started = now;
	if (eio_ctx_commit(&ctx, resp) != 0)
		goto drain;

	/* The body, with no transaction open (unless it is in hand). */
	rc = ready == 1 ? 0 : req->read_body(req, e->cfg.max_payload, &body);

	/* Second transaction: handle every packet. */
	now = e->cfg.clock();
	if ((n = eio_ctx_open(e, &ctx, sid, &s, now)) != 0) {
		if (n == -ENOENT)
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		else {
			eio_answer_failure(resp, n);
			eio_post_unmark(e, sid, token);
		}
		goto out;
	}
	if (s.post_instance != self || s.post_token != token ||
	    s.state != STORE_SESSION_OPEN) {
		/* Closed (or taken over) while the body was read. */
		store_txn_abort(ctx.txn);
		if (s.state == STORE_SESSION_CLOSING &&
		    s.close_tail_next != STORE_TAIL_NONE)
			eio_answer_ok(resp);
		else
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		goto out;
	}
	s.post_instance = 0;
	s.post_token = 0;
	s.post_started = 0;
	(void)eio_post_apply(e, &ctx, h, &body, rc, true, token, resp);
	goto out;

drain:
	/* Read and drop what is left, so the connection stays sane. */
	if (!in_hand)
		(void)req->read_body(req, 0, &body);
out:
	*bodyp = body;
	return (ret);
}

static void
eio_handshake(struct eio *e, const struct eio_handler *h, int endpoint,
    int64_t now, struct http_response *resp)
{
	struct store_session	 s;
	struct eio_ctx		 ctx;
	char			 sid[STORE_SID_MAX + 1];
	size_t			 count;
	int			 rc, tries;

	memset(&s, 0, sizeof(s));
	s.version = STORE_SESSION_VERSION;
	s.state = STORE_SESSION_OPEN;
	s.endpoint = (uint8_t)endpoint;
	s.ping_interval = e->cfg.ping_interval;
	s.ping_timeout = e->cfg.ping_timeout;
	s.created = now;
	s.ping_at = now + s.ping_interval;

	memset(&ctx, 0, sizeof(ctx));
	ctx.e = e;
	ctx.now = now;
	ctx.sid = sid;
	ctx.s = &s;
	if ((rc = store_txn_begin(e->st, true, &ctx.txn)) != 0) {
		eio_answer_failure(resp, rc);
		return;
	}
	if (e->cfg.max_sessions != 0 &&
	    (rc = store_session_count(ctx.txn, &count)) == 0 &&
	    count >= e->cfg.max_sessions) {
		/* Full: refuse new sessions; the open ones go on. */
		store_txn_abort(ctx.txn);
		log_warnx("eio: %zu sessions: handshake refused", count);
		resp->status = 503;
		resp->content_type = "application/json";
		buf_reset(&resp->body);
		buf_append_str(&resp->body,
		    "{\"code\":3,\"message\":\"Server full\"}");
		buf_append_str(&resp->headers, "Retry-After: 5\r\n");
		return;
	}
	for (tries = 0; tries < 4; tries++) {
		eio_id_new(sid);
		rc = store_session_put(ctx.txn, sid, &s, true);
		if (rc != -EEXIST)
			break;
	}
	if (rc == 0 && h->on_open != NULL)
		rc = h->on_open(h->arg, &ctx, sid);
	if (rc != 0) {
		store_txn_abort(ctx.txn);
		if (rc == -EEXIST)
			eio_answer_error(resp, EIO_ERR_BAD_REQUEST);
		else
			eio_answer_failure(resp, rc);
		return;
	}
	if (eio_ctx_commit(&ctx, resp) != 0)
		return;
	log_debug("eio: open sid=%s", sid);

	resp->status = 200;
	resp->content_type = "text/plain; charset=UTF-8";
	buf_reset(&resp->body);
	buf_printf(&resp->body, "0{\"sid\":\"%s\",\"upgrades\":[],"
	    "\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":%zu}",
	    sid, e->cfg.ping_interval, e->cfg.ping_timeout,
	    e->cfg.max_payload);
	buf_append_str(&resp->headers, "Cache-Control: no-store\r\n");
}

enum eio_result
eio_handle(struct eio *e, struct http_request *req, int64_t now,
    struct http_response *resp, struct eio_wait *w)
{
	const struct eio_handler	*h = NULL;
	struct store_session		 s;
	struct eio_ctx			 ctx;
	struct buf			 transport, sid, eio;
	enum eio_result			 r = EIO_DONE;
	bool				 has_sid, v4;
	size_t				 i;
	int				 endpoint = 0, rc;

	memset(w, 0, sizeof(*w));
	http_response_reset(resp);
	buf_init(&transport);
	buf_init(&sid);
	buf_init(&eio);

	for (i = 0; i < e->nhandlers; i++) {
		/* As Node: the path with its trailing slash ("/engine.io/"). */
		if (req->uri != NULL &&
		    http_path_has_prefix(req->uri, e->handlers[i]->path) &&
		    req->uri[strlen(e->handlers[i]->path)] == '/') {
			h = e->handlers[i];
			endpoint = (int)i + 1;
			break;
		}
	}
	if (h == NULL) {
		resp->status = 404;
		resp->content_type = "text/plain; charset=UTF-8";
		buf_append_str(&resp->body, "Not Found\n");
		goto out;
	}
	if (req->method == HTTP_OPTIONS &&
	    http_cors_is_enabled(&e->cfg.cors)) {
		resp->status = 204;
		http_cors_preflight_headers(&e->cfg.cors, req->origin,
		    req->acrh, &resp->headers);
		goto out;
	}
	http_cors_headers(&e->cfg.cors, req->origin, &resp->headers);

	/* The reference server's checks, in its order. */
	if (http_query_get(req->query, "transport", &transport) != 1 ||
	    transport.len != strlen("polling") ||
	    strcmp(buf_str(&transport), "polling") != 0) {
		eio_answer_error(resp, EIO_ERR_TRANSPORT_UNKNOWN);
		goto out;
	}
	if (!http_header_value_is_valid(req->origin)) {
		eio_answer_error(resp, EIO_ERR_BAD_REQUEST);
		goto out;
	}
	has_sid = http_query_get(req->query, "sid", &sid) == 1;
	v4 = http_query_get(req->query, "EIO", &eio) == 1 &&
	    eio.len == 1 && strcmp(buf_str(&eio), "4") == 0;
	if (!has_sid) {
		if (req->method != HTTP_GET)
			eio_answer_error(resp, EIO_ERR_BAD_HANDSHAKE_METHOD);
		else if (!v4)
			eio_answer_error(resp,
			    EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION);
		else
			eio_handshake(e, h, endpoint, now, resp);
		goto out;
	}

	if (!eio_sid_is_wellformed(buf_str(&sid))) {
		eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		goto out;
	}
	if (req->method == HTTP_POST) {
		if (!v4) {
			/* Known sid, wrong EIO: 3; unknown: 1. */
			if ((rc = eio_ctx_open(e, &ctx, buf_str(&sid), &s,
			    now)) == 0)
				store_txn_abort(ctx.txn);
			eio_answer_error(resp, rc == 0 && s.endpoint ==
			    endpoint ? EIO_ERR_BAD_REQUEST :
			    EIO_ERR_UNKNOWN_SID);
			(void)req->read_body(req, 0, &transport);
			goto out;
		}
		r = eio_post(e, h, endpoint, req, buf_str(&sid), now, resp, w);
		goto out;
	}

	if (e->cfg.batch_gets && req->method == HTTP_GET) {
		/* The rest in eio_fresh_in(), with other GETs. */
		strcpy(w->sid, buf_str(&sid));
		w->endpoint = endpoint;
		w->v4 = v4;
		w->fresh = true;
		r = EIO_BATCH;
		goto out;
	}
	if ((rc = eio_ctx_open(e, &ctx, buf_str(&sid), &s, now)) != 0) {
		if (rc == -ENOENT)
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		else
			eio_answer_failure(resp, rc);
		goto out;
	}
	if (s.endpoint != endpoint) {
		store_txn_abort(ctx.txn);
		eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		goto out;
	}
	if (!v4) {
		store_txn_abort(ctx.txn);
		eio_answer_error(resp, EIO_ERR_BAD_REQUEST);
		goto out;
	}
	if (req->method != HTTP_GET) {
		/* Node: any other method on a session is a 500. */
		store_txn_abort(ctx.txn);
		eio_answer_empty(resp, 500);
		goto out;
	}
	strcpy(w->sid, buf_str(&sid));
	w->endpoint = endpoint;
	w->token = __atomic_add_fetch(&e->tokens, 1, __ATOMIC_RELAXED);
	ctx.sid = w->sid;
	r = eio_get(&ctx, resp, w, &rc);
	if (rc != 0) {
		store_txn_abort(ctx.txn);
		eio_answer_failure(resp, rc);
		r = EIO_DONE;
	} else if (eio_ctx_commit_sync(&ctx, resp, r == EIO_DONE ?
	    EIO_COMMIT_SEEN : EIO_COMMIT_VISIBLE) != 0) {
		/*
		 * A GET to hold answers nothing yet: its record (and the
		 * trim of the last batch) need not wait for the disk; the
		 * commit of its answer will cover them.
		 */
		r = EIO_DONE;
	}
	if (r == EIO_DONE && w->to == w->from)
		w->from = w->to = 0;
out:
	buf_clear(&transport);
	buf_clear(&sid);
	buf_clear(&eio);
	return (r);
}

/*
 * A new GET (EIO_BATCH) inside the open write transaction of a batch: the
 * checks and the work eio_handle() does for a GET once it has opened its
 * transaction, in the same order.  With shutdown, a GET that would be
 * held is answered with a noop at once, as a held one is then.
 */
static enum eio_result
eio_fresh_in(struct eio *e, struct eio_ctx *ctx, struct eio_wait *w,
    bool shutdown, struct http_response *resp, bool *dirty, int *rcp)
{
	struct store_session	*s = ctx->s;
	enum eio_result		 r;
	int			 rc;

	if ((rc = store_session_get(ctx->txn, w->sid, s)) != 0) {
		if (rc == -ENOENT)
			eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		else
			*rcp = rc;
		return (EIO_DONE);
	}
	if (s->endpoint != w->endpoint) {
		eio_answer_error(resp, EIO_ERR_UNKNOWN_SID);
		return (EIO_DONE);
	}
	if (!w->v4) {
		eio_answer_error(resp, EIO_ERR_BAD_REQUEST);
		return (EIO_DONE);
	}
	w->token = __atomic_add_fetch(&e->tokens, 1, __ATOMIC_RELAXED);
	*dirty = true;
	r = eio_get(ctx, resp, w, rcp);
	if (r == EIO_WAIT && shutdown) {
		s->get_instance = 0;
		s->get_token = 0;
		eio_answer_text(resp, "6");
		r = EIO_DONE;
	}
	return (r);
}

/*
 * The resume of one held GET inside the open write transaction txn.
 * Returns EIO_DONE with resp filled, or EIO_WAIT; *dirty tells whether
 * it wrote to txn, in which case the caller must eio_ctx_put(ctx) and
 * commit.  *rcp gets a store error, after which txn must be aborted.
 */
static enum eio_result
eio_resume_in(struct eio *e, struct store_txn *txn, struct eio_ctx *ctx,
    struct store_session *s, struct http_request *req, struct eio_wait *w,
    int64_t now, bool shutdown, struct http_response *resp, bool *dirty,
    int *rcp)
{
	enum eio_result	 r;
	uint64_t	 head;
	int		 rc;

	*rcp = 0;
	*dirty = false;
	memset(ctx, 0, sizeof(*ctx));
	ctx->e = e;
	ctx->txn = txn;
	ctx->now = now;
	ctx->sid = w->sid;
	ctx->s = s;
	http_response_reset(resp);
	http_cors_headers(&e->cfg.cors, req->origin, &resp->headers);
	w->from = w->to = 0;
	if (w->fresh)
		return (eio_fresh_in(e, ctx, w, shutdown, resp, dirty, rcp));
	if ((rc = store_session_get(txn, w->sid, s)) != 0) {
		/* Removed while we waited: it was closed. */
		if (rc != -ENOENT)
			*rcp = rc;
		eio_answer_text(resp, "1");
		return (EIO_DONE);
	}
	if (s->get_instance != store_instance(e->st) ||
	    s->get_token != w->token) {
		eio_answer_text(resp, "6");
		return (EIO_DONE);
	}
	*dirty = true;
	if (shutdown && !(s->state == STORE_SESSION_OPEN && !s->ping_sent &&
	    now >= s->ping_at)) {
		/*
		 * Let the next GET, in any process, take over; but a due
		 * ping goes out now, with what is queued (below), or the
		 * next GET might come too late for it.
		 */
		s->get_instance = 0;
		s->get_token = 0;
		eio_answer_text(resp, "6");
		return (EIO_DONE);
	}
	head = s->q_head;
	r = eio_poll(ctx, true, resp, w, rcp);
	/* Still nothing: keep waiting, nothing written (unless a trim). */
	if (r == EIO_WAIT && s->q_head == head)
		*dirty = false;
	return (r);
}

enum eio_result
eio_resume(struct eio *e, struct http_request *req, struct eio_wait *w,
    int64_t now, bool shutdown, struct http_response *resp)
{
	struct eio_resume_item	it;

	it.req = req;
	it.w = w;
	it.resp = resp;
	eio_resume_batch(e, &it, 1, now, shutdown);
	return (it.result);
}

/*
 * The time to answer at: now, or later when the writer lock took a
 * while to get.  A ping the answer carries goes out when it commits, and
 * the client's pingTimeout counts from then, not from before our wait.
 */
static int64_t
eio_resume_now(struct eio *e, int64_t now)
{
	int64_t	t = e->cfg.clock();

	return (t > now ? t : now);
}

/*
 * A POST of a batch (w->post): nested in txn, the batch's transaction, or
 * alone when txn is NULL.  Returns -ENOSPC when nested and the map is
 * full (the batch then serves every item alone), else 0.
 */
static int
eio_post_item(struct eio *e, struct store_txn *txn,
    struct eio_resume_item *it, int64_t now)
{
	struct eio_wait	*w = it->w;
	int		 rc;

	it->result = EIO_DONE;
	http_response_reset(it->resp);
	http_cors_headers(&e->cfg.cors, it->req->origin, &it->resp->headers);
	store_txn_nest(txn);
	rc = eio_post_body(e, eio_handler_of(e, w->endpoint), w->endpoint,
	    it->req, w->sid, now, it->resp, &w->body, 1, w->token,
	    txn != NULL, true);
	store_txn_nest(NULL);
	return (rc);
}

/* An item served: a GET held from now on, or answered. */
static void
eio_item_done(struct eio_resume_item *it)
{
	it->w->fresh = false;
	it->w->post = false;
	buf_clear(&it->w->body);
}

/* Resume one item in a transaction of its own. */
static void
eio_resume_alone_in(struct eio *e, struct eio_resume_item *it, int64_t now,
    bool shutdown);

static void
eio_resume_alone(struct eio *e, struct eio_resume_item *it, int64_t now,
    bool shutdown)
{
	if (it->w->fresh && it->w->post)
		(void)eio_post_item(e, NULL, it, eio_resume_now(e, now));
	else
		eio_resume_alone_in(e, it, now, shutdown);
	eio_item_done(it);
}

static void
eio_resume_alone_in(struct eio *e, struct eio_resume_item *it, int64_t now,
    bool shutdown)
{
	struct store_session	 s;
	struct store_txn	*txn;
	struct eio_ctx		 ctx;
	bool			 dirty;
	int			 rc;

	it->result = EIO_DONE;
	if ((rc = store_txn_begin(e->st, true, &txn)) != 0) {
		http_response_reset(it->resp);
		http_cors_headers(&e->cfg.cors, it->req->origin,
		    &it->resp->headers);
		eio_answer_failure(it->resp, rc);
		return;
	}
	now = eio_resume_now(e, now);
	it->result = eio_resume_in(e, txn, &ctx, &s, it->req, it->w, now,
	    shutdown, it->resp, &dirty, &rc);
	if (rc != 0) {
		store_txn_abort(txn);
		eio_answer_failure(it->resp, rc);
		it->result = EIO_DONE;
		return;
	}
	if (!dirty) {
		/* Nothing written: no commit (no flush) needed. */
		store_txn_abort(txn);
		return;
	}
	if (eio_ctx_commit_sync(&ctx, it->resp, EIO_COMMIT_SEEN) != 0)
		it->result = EIO_DONE;
}

void
eio_resume_batch(struct eio *e, struct eio_resume_item *items, size_t n,
    int64_t now, bool shutdown)
{
	struct store_ticket	tk;

	eio_resume_batch_later(e, items, n, now, shutdown, &tk);
	(void)store_ticket_settle(&tk);
}

void
eio_resume_batch_later(struct eio *e, struct eio_resume_item *items,
    size_t n, int64_t now, bool shutdown, struct store_ticket *tk)
{
	struct store_session	 s;
	struct store_txn	*txn;
	struct eio_ctx		 ctx;
	size_t			 i;
	bool			 dirty, written = false;
	int			 rc;

	memset(tk, 0, sizeof(*tk));
	if (n == 1) {
		eio_resume_alone(e, &items[0], now, shutdown);
		return;
	}
	if ((rc = store_txn_begin(e->st, true, &txn)) != 0)
		goto one_by_one;
	now = eio_resume_now(e, now);
	for (i = 0; i < n; i++) {
		if (items[i].w->fresh && items[i].w->post) {
			if (eio_post_item(e, txn, &items[i], now) != 0) {
				store_txn_abort(txn);
				goto one_by_one;
			}
			written = true;
			continue;
		}
		items[i].result = eio_resume_in(e, txn, &ctx, &s, items[i].req,
		    items[i].w, now, shutdown, items[i].resp, &dirty, &rc);
		if (rc == 0 && dirty) {
			rc = eio_ctx_put(&ctx);
			written = true;
		}
		if (rc != 0) {
			store_txn_abort(txn);
			goto one_by_one;
		}
	}
	if (!written)
		store_txn_abort(txn);
	else if (store_txn_commit_later(txn, tk) != 0)
		goto one_by_one;
	for (i = 0; i < n; i++)
		eio_item_done(&items[i]);
	return;

one_by_one:
	/*
	 * Nothing of the batch was written: let each item fail (or not)
	 * on its own.
	 */
	for (i = 0; i < n; i++)
		eio_resume_alone(e, &items[i], now, shutdown);
}

void
eio_answer_failed(struct eio *e, const struct eio_wait *w)
{
	struct store_session	 s;
	struct eio_ctx		 ctx;
	struct http_response	 resp;

	if (w->to <= w->from)
		return;
	if (eio_ctx_open(e, &ctx, w->sid, &s, e->cfg.clock()) != 0)
		return;
	if (s.q_sent != w->to || s.q_head > w->from) {
		store_txn_abort(ctx.txn);
		return;
	}
	s.q_sent = w->from;
	http_response_init(&resp);
	(void)eio_ctx_commit(&ctx, &resp);
	http_response_clear(&resp);
	/* A sid is a credential: only at debug level. */
	log_info("eio: an answer was lost, %llu packets kept for the next "
	    "GET", (unsigned long long)(w->to - w->from));
	log_debug("eio: sid=%s: answer lost", w->sid);
}

static int
eio_sweep_one(struct store_txn *txn, const char *sid, void *arg)
{
	struct eio_ctx		*sweep = arg;
	struct eio_ctx		 ctx;
	struct store_session	 s;
	int			 rc;

	if ((rc = store_session_get(txn, sid, &s)) != 0)
		return (rc == -ENOENT ? 0 : rc);
	ctx = *sweep;
	ctx.sid = sid;
	ctx.s = &s;
	ctx.deleted = false;
	/* Take the entry out; eio_ctx_put() files the next deadline. */
	if ((rc = store_session_set_timer(txn, sid, &s, 0)) != 0)
		return (rc);
	if (s.state == STORE_SESSION_OPEN && s.app_deadline != 0 &&
	    ctx.now >= s.app_deadline) {
		const struct eio_handler *h = eio_handler_of(ctx.e, s.endpoint);

		s.app_deadline = 0;
		if (h != NULL && h->on_timer != NULL)
			h->on_timer(h->arg, &ctx, sid);
	}
	if (ctx.deleted)
		return (0);
	if (s.state == STORE_SESSION_OPEN) {
		if (eio_pong_is_late(&s, ctx.now)) {
			if ((rc = eio_close_mode(&ctx, sid, EIO_CLOSE_ABRUPT,
			    "ping timeout")) != 0)
				return (rc);
		} else if (!s.ping_sent && s.get_instance != 0 &&
		    ctx.now >= s.ping_at + (int64_t)s.ping_timeout) {
			/* Its held GET is late with the ping: hurry it. */
			store_txn_ring(txn, s.get_instance, sid);
		}
	} else if (ctx.now >= s.closing_until) {
		if (s.get_instance != 0)
			store_txn_ring(txn, s.get_instance, sid);
		if ((rc = store_session_del(txn, sid, &s)) != 0)
			return (rc);
		ctx.deleted = true;
	}
	return (eio_ctx_put(&ctx));
}

int
eio_sweep(struct eio *e, int64_t now)
{
	struct eio_ctx	ctx;
	int		n, total = 0, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.e = e;
	ctx.now = now;
	do {
		if ((rc = store_txn_begin(e->st, true, &ctx.txn)) != 0)
			return (rc);
		n = store_timer_due(ctx.txn, now, EIO_SWEEP_BATCH,
		    eio_sweep_one, &ctx);
		if (n <= 0) {
			store_txn_abort(ctx.txn);
			return (n < 0 ? n : total);
		}
		if ((rc = store_txn_commit(ctx.txn)) != 0)
			return (rc);
		total += n;
	} while (n == EIO_SWEEP_BATCH);
	return (total);
}
