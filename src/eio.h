/*
 * sio-fcgi: the Engine.IO v4 server over HTTP long-polling.
 *
 * Handshake, GET (answer what is queued or ask the front to hold the
 * request), POST (decode and dispatch packets), heartbeat, close, CORS and
 * the reference server's error answers.  It keeps no pointer across
 * requests: every session lives in the store, so any process or thread
 * may serve any request.  Applications plug in per endpoint through
 * struct eio_handler and act on sessions through the eio_ctx calls below,
 * inside the write transaction of the request that drives them.
 */
#ifndef EIO_H
#define EIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

struct eio;
struct eio_ctx;

struct eio_config {
	uint32_t	 ping_interval;	/* ms */
	uint32_t	 ping_timeout;	/* ms */
	size_t		 max_payload;	/* bytes of one POST body */
	size_t		 max_sessions;	/* sessions in the store; 0 = any */
	size_t		 max_queue;	/* packets queued per session; 0 = any */
	int64_t		 close_wait;	/* ms a closing session waits a GET */
	int64_t		 body_timeout;	/* ms a POST may stay in flight */
	struct http_cors cors;		/* borrowed */
	int64_t		(*clock)(void);	/* NULL: eio_now(); tests inject */
	/*
	 * GETs on a session, and POSTs whose body is in hand, are returned
	 * as EIO_BATCH, for the front to serve several in one transaction
	 * (eio_resume_batch()).
	 */
	bool		 batch_gets;
	bool		 batch_posts;
};

/*
 * An application bound to one path ("/engine.io").  Every callback runs
 * inside the request's write transaction; what it queues commits with
 * the request or not at all.
 */
struct eio_handler {
	const char	*path;
	/* A new session; may queue packets for it. */
	int		(*on_open)(void *arg, struct eio_ctx *, const char *sid);
	/*
	 * One message (text, or bytes when binary).  Return 0, or -EPROTO
	 * to close the session as a parse error.
	 */
	int		(*on_message)(void *arg, struct eio_ctx *, const char *sid,
			    bool binary, const char *data, size_t len);
	/* The session is closed, exactly once, with a reason. */
	void		(*on_close)(void *arg, struct eio_ctx *, const char *sid,
			    const char *reason);
	/* The deadline set with eio_set_timer() passed (run by the sweep). */
	void		(*on_timer)(void *arg, struct eio_ctx *, const char *sid);
	void		*arg;
};

/* Results of eio_handle() and eio_resume(). */
enum eio_result {
	EIO_DONE = 0,	/* the response is complete: write it */
	EIO_WAIT,	/* hold the request until a ring or the deadline */
	EIO_BATCH,	/* a GET to resolve with eio_resume_batch() */
};

/*
 * What the front keeps for a request it holds or has answered with a
 * batch: enough to resume it, and to put the batch back if writing the
 * answer failed.
 */
struct eio_wait {
	char		sid[STORE_SID_MAX + 1];
	uint64_t	token;		/* unique per request in a process */
	int64_t		deadline;	/* ms; resume then at the latest */
	uint64_t	from;		/* the batch answered: [from, to) */
	uint64_t	to;
	int		endpoint;
	bool		fresh;		/* EIO_BATCH: not looked at yet */
	bool		v4;		/* EIO_BATCH: the request said EIO=4 */
	bool		post;		/* EIO_BATCH: a POST, its body in body */
	struct buf	body;		/* freed once the POST is served */
};

/* Create the server over an open store; config is copied. */
struct eio *eio_new(const struct eio_config *, struct store *);
void	eio_free(struct eio *);
/* Register an application (borrowed for the server's lifetime). */
void	eio_add_handler(struct eio *, const struct eio_handler *);

/*
 * Serve one request at time now (ms).  Fills resp and returns EIO_DONE,
 * or EIO_WAIT with *w filled when the request is a GET to hold: the front
 * then calls eio_resume() when the bell rings for w->sid or at
 * w->deadline.  For a GET answered with packets, *w records the batch
 * (w->to > w->from) for eio_answer_failed().  With batch_gets, a GET on a
 * session returns EIO_BATCH after the checks that need no transaction,
 * with *w filled (w->fresh): the front hands it to eio_resume_batch(),
 * which serves it as eio_handle() would have and answers it or holds it
 * (EIO_WAIT, then as above).  With batch_posts, so does a POST whose
 * body was in hand (w->post; the body is in w->body, and the request's
 * body is not read again): the batch answers it.
 */
enum eio_result eio_handle(struct eio *, struct http_request *, int64_t now,
	    struct http_response *resp, struct eio_wait *w);
/*
 * Look again at a held GET.  With shutdown, answer it at once with a noop
 * and leave the session to the next GET (which any process may serve).
 */
enum eio_result eio_resume(struct eio *, struct http_request *,
	    struct eio_wait *, int64_t now, bool shutdown,
	    struct http_response *resp);
/* One held GET to look at again, for eio_resume_batch(). */
struct eio_resume_item {
	struct http_request	*req;		/* borrowed */
	struct eio_wait		*w;		/* borrowed, updated */
	struct http_response	*resp;		/* borrowed, filled */
	enum eio_result		 result;	/* set: as eio_resume() */
};
/*
 * eio_resume() for n held GETs at once, in one write transaction (one
 * commit, one flush) instead of n.  Each item gets the answer it would
 * get alone, in the order given; when the shared transaction fails, each
 * item is retried alone so that one failure does not fail the others.
 * Answers are made at now, or at the configured clock's time once the
 * transaction is open when that is later (the wait for LMDB's writer
 * lock is the server's lag: a ping answered after it goes out then).
 */
void	eio_resume_batch(struct eio *, struct eio_resume_item *, size_t n,
	    int64_t now, bool shutdown);
/*
 * The same, returning once the batch's commit is visible: what it still
 * owes (the wait for the disk, the rings) is in *ticket, which must be
 * settled (store_ticket_settle()) before any of the answers is written.
 */
void	eio_resume_batch_later(struct eio *, struct eio_resume_item *,
	    size_t n, int64_t now, bool shutdown, struct store_ticket *);
/* Writing the answer of w failed: make its batch go out again. */
void	eio_answer_failed(struct eio *, const struct eio_wait *);
/*
 * Run the timers that are due without a request: close sessions whose
 * pong is late, remove closed sessions nobody came back for.  Returns the
 * number of sessions looked at, or -errno.
 */
int	eio_sweep(struct eio *, int64_t now);

/*
 * Write a new random id into id (EIO_ID_LEN characters and a NUL): 120
 * bits from the kernel's CSPRNG in base64url.
 */
#define EIO_ID_LEN	20
void	eio_id_new(char *id);

/* The current time in the clock the store uses (CLOCK_REALTIME, ms). */
int64_t	eio_now(void);

/*
 * Calls for applications, valid inside a callback.  Queue one message
 * (text, or binary bytes) for session sid, this one or another, and wake
 * its held GET after commit.  Returns 0, -ENOENT when sid is not open
 * (or was just closed because max_queue packets were waiting for it: a
 * reader that slow is disconnected rather than allowed to fill the
 * disk), or a store error.
 */
int	eio_send(struct eio_ctx *, const char *sid, bool binary,
	    const void *data, size_t len);
/*
 * Close session sid: gracefully (what is queued goes out, then a close
 * packet) or abruptly (nothing more is sent).  on_close runs with reason.
 */
int	eio_close(struct eio_ctx *, const char *sid, bool graceful,
	    const char *reason);
/* The transaction of the request, for application tables in the store. */
struct store_txn *eio_ctx_txn(struct eio_ctx *);
/* The arg of the handler that serves the session being handled. */
void	*eio_ctx_handler_arg(struct eio_ctx *);
/* The time the request is handled at (ms, eio_now() clock). */
int64_t	eio_ctx_now(struct eio_ctx *);
/*
 * Arm (deadline > 0) or disarm (0) the application timer of the session
 * being handled: on_timer runs once when it passes, even if no request
 * arrives.  Returns 0 or -ENOENT when the session is closed.
 */
int	eio_set_timer(struct eio_ctx *, int64_t deadline);

#endif
