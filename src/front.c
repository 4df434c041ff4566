/*
 * sio-fcgi: the FastCGI front.
 *
 * Facts it is built on (DEPLOY.md section 5): FCGX_Init's own SIGTERM
 * handler only sets a flag, so main installs its handler first and
 * shutdown(2) of the listening socket makes every FCGX_Accept_r return;
 * FCGX_OpenSocket unlinks an existing path and binds INADDR_ANY for
 * ":port", so both are checked here; stdin is always read to its end,
 * or a kept connection breaks.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "bell.h"
#include "fcgi_record.h"
#include "front.h"
#include "log.h"
#include "park.h"
#include "xmalloc.h"

/* Never drain more than this from a client that keeps sending. */
#define FRONT_DRAIN_MAX	(64 * 1024 * 1024)
/* Bytes of stdin a poll may still have and be detached (a GET has none). */
#define FRONT_DETACH_DRAIN	4096

struct front_req {
	FCGX_Request		 fcgx;
	struct http_request	 req;
	struct http_response	 resp;
	struct eio_wait		 w;
	struct park_entry	 pe;	/* see front_req_of() */
	struct front_req	*wnext;	/* the writers' queue */
	bool			 eof;	/* stdin read to its end */
	bool			 detached; /* libfcgi's streams freed */
	struct buf		 early;	/* body read by front_read_body_ready */
	struct buf		 kept;	/* its strings, once detached */
	struct front_settle	*settle; /* what its batch's commit owes */
};

/*
 * What the commit of a parker's batch still owes (the wait for the disk,
 * its rings), shared by the batch's answers: the first writer to take
 * one of them settles it, the others wait for that, and none is written
 * before.  The parker meanwhile goes on with the next batch.
 */
struct front_settle {
	pthread_mutex_t		 mtx;
	struct store_ticket	 tk;
	bool			 settled;
	int			 refs;	/* answers holding it, under mtx */
};

/*
 * Answers to resumed polls are written by threads of their own, so that
 * the parker goes on with the next batch while the front reads these.
 */
#define FRONT_WRITERS	2
static pthread_t	 front_writers[FRONT_WRITERS];
static pthread_mutex_t	 front_wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 front_wcond = PTHREAD_COND_INITIALIZER;
static struct front_req	*front_wq;
static struct front_req	*front_wq_tail;
static bool		 front_wstop;

static int		 front_fd = -1;
static bool		 front_unix;	/* front_fd is an AF_UNIX socket */
static char		*front_path;	/* daemon socket file */
static int		 front_pipe[2] = { -1, -1 };
/* Set by a signal handler or the sweep, read by the workers. */
static atomic_bool	 front_stopping;

static struct eio	*front_eio;
static struct park	*front_park;

static struct front_req *
front_req_of(struct park_entry *pe)
{
	return ((struct front_req *)((char *)pe -
	    offsetof(struct front_req, pe)));
}

static struct front_req *
front_req_new(void)
{
	struct front_req	*fr;

	fr = xcalloc(1, sizeof(*fr));
	if (FCGX_InitRequest(&fr->fcgx, front_fd, 0) != 0)
		fatalx("front: FCGX_InitRequest failed");
	http_response_init(&fr->resp);
	buf_init(&fr->early);
	buf_init(&fr->kept);
	return (fr);
}

static void	front_settle_answer(struct front_req *);

static void
front_req_free(struct front_req *fr)
{
	if (fr == NULL)
		return;
	front_settle_answer(fr);	/* never held here, but never lost */
	http_response_clear(&fr->resp);
	buf_clear(&fr->early);
	buf_clear(&fr->kept);
	buf_clear(&fr->w.body);
	FCGX_Free(&fr->fcgx, 1);
	free(fr);
}

/*
 * Read the body into body, at most max bytes; the rest is read and
 * dropped.  See struct http_request.
 */
static int
front_read_body(struct http_request *req, size_t max, struct buf *body)
{
	struct front_req	*fr = req->ctx;
	char			 chunk[16384];
	size_t			 total = 0;
	int			 n;
	bool			 over = false;

	buf_reset(body);
	if (fr->early.len > 0) {
		/* What front_read_body_ready() got first. */
		total = fr->early.len;
		if (total > max)
			over = true;
		else
			buf_append(body, fr->early.data, fr->early.len);
		buf_reset(&fr->early);
	}
	while (!fr->eof) {
		n = FCGX_GetStr(chunk, sizeof(chunk), fr->fcgx.in);
		if (n > 0) {
			total += (size_t)n;
			if (total > max)
				over = true;
			else
				buf_append(body, chunk, (size_t)n);
		}
		if (n < (int)sizeof(chunk)) {
			fr->eof = true;
			if (FCGX_GetError(fr->fcgx.in) != 0)
				return (-EIO);
		}
		if (total > FRONT_DRAIN_MAX)
			return (-EMSGSIZE);
	}
	if (over)
		return (-EMSGSIZE);
	return (0);
}

/*
 * libfcgi's private FCGX_Stream_Data (fcgiapp.c; the same since 2.4.0,
 * and mirrored the same way by other FastCGI servers to find their
 * socket): what was read from the connection but not yet delivered,
 * and where the current record stands.  Only read, and only trusted
 * when it agrees with the public stream pointers.
 */
struct front_stream_data {
	unsigned char	*buff;
	int		 bufflen;
	unsigned char	*mbuff;
	unsigned char	*buffstop;	/* end of the bytes read */
	int		 type;
	int		 eorstop;
	int		 skip;
	int		 contentlen;	/* content of the record still unread */
	int		 paddinglen;	/* its padding still unread */
};

#define FRONT_FCGI_STDIN	5	/* the FastCGI record type */

/*
 * True when refilling the stream of fr cannot block: libfcgi's buffer
 * already holds the next content byte or the end of stdin (after the
 * current record's padding and the next record's header), or the
 * connection has bytes to read (a front server writes each record
 * whole, so the rest of one follows at once).
 */
static bool
front_stdin_is_ready(struct front_req *fr)
{
	FCGX_Stream			*in = fr->fcgx.in;
	const struct front_stream_data	*d = in->data;
	const unsigned char		*p;
	struct pollfd			 pfd;
	size_t				 rem, clen;

	if (d != NULL && d->buff != NULL && d->bufflen > 0 &&
	    d->buff <= in->rdNext && in->rdNext <= d->buffstop &&
	    d->buffstop <= d->buff + d->bufflen && d->contentlen >= 0 &&
	    d->paddinglen >= 0) {
		p = in->rdNext;
		rem = (size_t)(d->buffstop - p);
		if (d->contentlen > 0) {
			if (rem > 0)
				return (true);
		} else if ((size_t)d->paddinglen <= rem) {
			p += d->paddinglen;
			rem -= (size_t)d->paddinglen;
			if (rem >= 8 && p[1] == FRONT_FCGI_STDIN) {
				clen = ((size_t)p[4] << 8) | p[5];
				if (clen == 0 || rem > 8)
					return (true);
			}
		}
	}
	pfd.fd = fr->fcgx.ipcFd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0);
}

/*
 * Read the body if all of it is already here (see struct http_request):
 * lighttpd (server.stream-request-body 0, its default) and mod_fcgid
 * send the whole body right behind the params, so by the time we look
 * it is in libfcgi's buffer or the socket.  A body that is still
 * streaming is left to front_read_body(), with what was read kept.
 */
static int
front_read_body_ready(struct http_request *req, size_t max, struct buf *body)
{
	struct front_req	*fr = req->ctx;
	FCGX_Stream		*in = fr->fcgx.in;
	size_t			 want, avail, n;
	int			 c;

	buf_reset(body);
	if (req->content_length < 0 || (unsigned long long)req->content_length >
	    max)
		return (0);
	want = (size_t)req->content_length;
	while (fr->early.len < want && !fr->eof) {
		avail = (size_t)(in->stop - in->rdNext);
		if (avail > 0) {
			/* In the current record: no refill, no wait. */
			n = want - fr->early.len;
			if (n > avail)
				n = avail;
			buf_append(&fr->early, in->rdNext, n);
			in->rdNext += n;
			continue;
		}
		if (!front_stdin_is_ready(fr))
			return (0);
		/* One refill: the next record's bytes, or the end. */
		if ((c = FCGX_GetChar(in)) == EOF) {
			fr->eof = true;
			if (FCGX_GetError(in) != 0)
				return (-EIO);
			break;
		}
		buf_append_char(&fr->early, (char)c);
	}
	if (fr->early.len != want) {
		/* Shorter than its Content-Length: the client went away. */
		buf_reset(&fr->early);
		return (-EIO);
	}
	buf_append(body, fr->early.data, fr->early.len);
	buf_reset(&fr->early);
	return (1);
}

static enum http_method
front_method(const char *m)
{
	if (m == NULL)
		return (HTTP_OTHER);
	if (strcmp(m, "GET") == 0)
		return (HTTP_GET);
	if (strcmp(m, "POST") == 0)
		return (HTTP_POST);
	if (strcmp(m, "OPTIONS") == 0)
		return (HTTP_OPTIONS);
	return (HTTP_OTHER);
}

/* Fill fr->req from the params; the strings live until Finish. */
static void
front_req_parse(struct front_req *fr)
{
	FCGX_ParamArray		 env = fr->fcgx.envp;
	struct http_request	*req = &fr->req;
	const char		*cl;
	char			*end;

	memset(req, 0, sizeof(*req));
	req->method_name = FCGX_GetParam("REQUEST_METHOD", env);
	req->method = front_method(req->method_name);
	/* REQUEST_URI is the one variable all front servers agree on. */
	req->uri = FCGX_GetParam("REQUEST_URI", env);
	if (req->uri == NULL)
		req->uri = FCGX_GetParam("SCRIPT_NAME", env);
	req->query = FCGX_GetParam("QUERY_STRING", env);
	req->origin = FCGX_GetParam("HTTP_ORIGIN", env);
	req->content_type = FCGX_GetParam("CONTENT_TYPE", env);
	req->acrh = FCGX_GetParam("HTTP_ACCESS_CONTROL_REQUEST_HEADERS",
	    env);
	req->content_length = -1;
	cl = FCGX_GetParam("CONTENT_LENGTH", env);
	if (cl != NULL && *cl != '\0') {
		errno = 0;
		req->content_length = strtoll(cl, &end, 10);
		if (errno != 0 || *end != '\0' || req->content_length < 0)
			req->content_length = -1;
	}
	req->read_body = front_read_body;
	req->read_body_ready = front_read_body_ready;
	req->ctx = fr;
	fr->eof = false;
	buf_reset(&fr->early);
}

/*
 * A parked poll may wait for a whole pingInterval, and thousands wait at
 * once: give libfcgi's streams (an 8 KB input and an 8 KB output buffer)
 * and its params back while it waits, and keep the connection, the
 * request id and the strings the answer needs; front_answer() frames the
 * answer itself (fcgi_record.h).  Only when stdin is at its end without
 * waiting: a GET has no body, and the front server sends its empty
 * stdin record right behind the params.  Otherwise the request keeps
 * its streams, as any other.
 */
static void
front_req_detach(struct front_req *fr)
{
	struct http_request	*req = &fr->req;
	const char		**str[4] = { &req->method_name, &req->uri,
				    &req->query, &req->origin };
	size_t			 off[4], i;
	int			 n = 0;

	while (!fr->eof) {
		if (n++ > FRONT_DETACH_DRAIN || !front_stdin_is_ready(fr))
			return;
		if (FCGX_GetChar(fr->fcgx.in) == EOF) {
			if (FCGX_GetError(fr->fcgx.in) != 0)
				return;
			fr->eof = true;
		}
	}
	buf_reset(&fr->kept);
	for (i = 0; i < 4; i++) {
		off[i] = fr->kept.len;
		if (*str[i] != NULL)
			buf_append(&fr->kept, *str[i], strlen(*str[i]) + 1);
	}
	for (i = 0; i < 4; i++) {
		if (*str[i] != NULL)
			*str[i] = fr->kept.data + off[i];
	}
	req->content_type = NULL;
	req->acrh = NULL;
	req->read_body_ready = NULL;
	/* The streams and the params; the connection stays open. */
	FCGX_Free(&fr->fcgx, 0);
	fr->fcgx.envp = NULL;
	fr->detached = true;
}

/* Write all of data to fd; -1 when the connection failed. */
static int
front_send_all(int fd, const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, data, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		data += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The answer of a detached request, in FastCGI records of our own. */
static bool
front_answer_detached(struct front_req *fr, const struct buf *head)
{
	struct buf	out;
	uint16_t	id = (uint16_t)fr->fcgx.requestId;
	bool		failed;

	buf_init(&out);
	buf_reserve(&out, head->len + fr->resp.body.len + 64);
	fcgi_record_stdout(&out, id, head->data, head->len);
	fcgi_record_stdout(&out, id, fr->resp.body.data, fr->resp.body.len);
	fcgi_record_end(&out, id);
	failed = front_send_all(fr->fcgx.ipcFd, out.data, out.len) != 0;
	buf_clear(&out);
	return (failed);
}

/* Write the answer and finish the request. */
static void
front_answer(struct front_req *fr)
{
	struct buf	head;
	struct buf	dummy;
	bool		failed = false;

	/*
	 * Log first: once the answer is written the client may act on it,
	 * and the log must not show effects before their causes.
	 */
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("front: %s %s -> %d", fr->req.method_name,
		    fr->req.uri != NULL ? fr->req.uri : "-", fr->resp.status);
	buf_init(&head);
	http_response_head(&fr->resp, &head);
	if (fr->detached) {
		failed = front_answer_detached(fr, &head);
		buf_clear(&head);
		/* Streams gone, FCGX_Finish_r() only closes the connection. */
		fr->fcgx.keepConnection = 0;
		if (front_unix)
			(void)shutdown(fr->fcgx.ipcFd, SHUT_RDWR);
		FCGX_Finish_r(&fr->fcgx);
		goto out;
	}
	if (FCGX_PutStr(head.data, (int)head.len, fr->fcgx.out) < 0 ||
	    (fr->resp.body.len > 0 && FCGX_PutStr(fr->resp.body.data,
	    (int)fr->resp.body.len, fr->fcgx.out) < 0) ||
	    FCGX_FFlush(fr->fcgx.out) < 0)
		failed = true;
	buf_clear(&head);
	if (!fr->eof) {
		buf_init(&dummy);
		(void)front_read_body(&fr->req, 0, &dummy);
		buf_clear(&dummy);
	}
	/* Never keep the connection: a kept one pins a thread (2.3). */
	fr->fcgx.keepConnection = 0;
	if (front_unix) {
		/*
		 * libfcgi's close shuts our side down and then waits, up to
		 * 2 s, for the front server to close its side first, lest a
		 * TCP reset lose the answer.  On a UNIX socket what we wrote
		 * is in the peer's queue already and there is no reset: end
		 * the request's streams (the END_REQUEST record) and shut
		 * both sides, so that the close finds EOF at once and the
		 * thread goes on without a sleep and a wake-up.
		 */
		(void)FCGX_FClose(fr->fcgx.err);
		(void)FCGX_FClose(fr->fcgx.out);
		(void)shutdown(fr->fcgx.ipcFd, SHUT_RDWR);
	}
	FCGX_Finish_r(&fr->fcgx);
out:
	if (failed) {
		log_info("front: writing a %d answer failed (client gone)",
		    fr->resp.status);
		if (fr->w.to > fr->w.from)
			eio_answer_failed(front_eio, &fr->w);
	}
}

/* Settle what fr's batch owes, once for all its answers; drop fr's hold. */
static void
front_settle_answer(struct front_req *fr)
{
	struct front_settle	*fs = fr->settle;
	bool			 last;

	if (fs == NULL)
		return;
	fr->settle = NULL;
	pthread_mutex_lock(&fs->mtx);
	if (!fs->settled) {
		(void)store_ticket_settle(&fs->tk);
		fs->settled = true;
	}
	last = --fs->refs == 0;
	pthread_mutex_unlock(&fs->mtx);
	if (last) {
		pthread_mutex_destroy(&fs->mtx);
		free(fs);
	}
}

/* Queue the answered fr (taken) for the writers. */
static void
front_write_later(struct front_req *fr)
{
	pthread_mutex_lock(&front_wlock);
	fr->wnext = NULL;
	if (front_wq_tail != NULL)
		front_wq_tail->wnext = fr;
	else
		front_wq = fr;
	front_wq_tail = fr;
	pthread_cond_signal(&front_wcond);
	pthread_mutex_unlock(&front_wlock);
}

/* A writer: answer and free what the parker queued, until told to stop. */
static void *
front_writer(void *arg)
{
	struct front_req	*fr;

	(void)arg;
	pthread_mutex_lock(&front_wlock);
	for (;;) {
		if ((fr = front_wq) == NULL) {
			if (front_wstop)
				break;
			pthread_cond_wait(&front_wcond, &front_wlock);
			continue;
		}
		if ((front_wq = fr->wnext) == NULL)
			front_wq_tail = NULL;
		pthread_mutex_unlock(&front_wlock);
		front_settle_answer(fr);
		front_answer(fr);
		front_req_free(fr);
		pthread_mutex_lock(&front_wlock);
	}
	pthread_mutex_unlock(&front_wlock);
	return (NULL);
}

/*
 * The parker's callback: look at every entry again in one write
 * transaction, then hand the answers to the writers.
 */
static size_t
front_resume(void *arg, struct park_entry **pes, size_t n, bool shutdown)
{
	struct eio_resume_item	 items[PARK_BATCH];
	struct front_settle	*fs;
	struct front_req	*fr;
	struct park_entry	*pe;
	size_t			 i, keep = 0;
	int			 answers = 0;

	(void)arg;
	for (i = 0; i < n; i++) {
		fr = front_req_of(pes[i]);
		items[i].req = &fr->req;
		items[i].w = &fr->w;
		items[i].resp = &fr->resp;
	}
	fs = xcalloc(1, sizeof(*fs));
	pthread_mutex_init(&fs->mtx, NULL);
	eio_resume_batch_later(front_eio, items, n, eio_now(), shutdown,
	    &fs->tk);
	for (i = 0; i < n; i++)
		answers += items[i].result != EIO_WAIT;
	if (answers == 0 || fs->tk.st == NULL) {
		/* Nobody to hand it to, or nothing owed. */
		(void)store_ticket_settle(&fs->tk);
		pthread_mutex_destroy(&fs->mtx);
		free(fs);
		fs = NULL;
	} else
		fs->refs = answers;
	for (i = 0; i < n; i++) {
		pe = pes[i];
		fr = front_req_of(pe);
		if (items[i].result == EIO_WAIT) {
			pe->deadline = fr->w.deadline;
			pe->rung = 0;
			pes[keep++] = pe;
			continue;
		}
		if (pe->rung != 0 && log_enabled(LOG_LEVEL_DEBUG)) {
			/*
			 * From the ringer's commit to our answer ready;
			 * logged before the answer goes out, like the
			 * request line.
			 */
			log_debug("front: woke sid=%s in %lld us", pe->sid,
			    (long long)(bell_clock() - pe->rung));
		}
		fr->settle = fs;
		front_write_later(fr);
	}
	return (keep);
}

static void *
front_worker(void *arg)
{
	struct front_req	*fr = NULL;
	enum eio_result		 r;

	(void)arg;
	while (!atomic_load_explicit(&front_stopping,
	    memory_order_relaxed)) {
		if (fr == NULL)
			fr = front_req_new();
		if (FCGX_Accept_r(&fr->fcgx) < 0)
			break;
		front_req_parse(fr);
		r = eio_handle(front_eio, &fr->req, eio_now(), &fr->resp,
		    &fr->w);
		if (r == EIO_WAIT || r == EIO_BATCH) {
			strcpy(fr->pe.sid, fr->w.sid);
			fr->pe.deadline = fr->w.deadline;
			fr->pe.rung = 0;
			front_req_detach(fr);
			/*
			 * A GET on a session, or a POST whose body is in
			 * hand, is served by the parker with the others
			 * ready (front_resume): one transaction for them
			 * all, and this thread goes back to accepting
			 * instead of waiting for the writer.
			 */
			if (r == EIO_BATCH)
				park_add_ready(front_park, &fr->pe);
			else
				park_add(front_park, &fr->pe);
			fr = NULL;
			continue;
		}
		front_answer(fr);
	}
	front_req_free(fr);
	return (NULL);
}

/* A live socket at path means another daemon: refuse to steal it. */
static bool
front_path_in_use(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return (false);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (false);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return (rc == 0);
}

/* Whether fd is a UNIX-domain socket. */
static bool
front_is_unix(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return (false);
	return (ss.ss_family == AF_UNIX);
}

int
front_open(const struct front_config *cfg, const char **cause)
{
	const char	*addr = cfg->listen;
	const char	*colon;

	if (FCGX_Init() != 0) {
		*cause = "FCGX_Init failed";
		return (-1);
	}
	if (pipe(front_pipe) != 0) {
		*cause = "pipe failed";
		return (-1);
	}
	if (addr == NULL) {
		if (FCGX_IsCGI()) {
			*cause = "fd 0 is not a FastCGI listening socket; "
			    "start me from a web server or use --listen";
			return (-1);
		}
		front_fd = 0;
		front_unix = front_is_unix(front_fd);
		return (0);
	}
	if (strncmp(addr, "unix:", 5) == 0) {
		addr += 5;
		if (*addr == '\0') {
			*cause = "empty socket path";
			return (-1);
		}
		if (front_path_in_use(addr)) {
			*cause = "socket path in use by a running server";
			return (-1);
		}
		front_fd = FCGX_OpenSocket(addr, cfg->backlog);
		if (front_fd >= 0)
			front_path = xstrdup(addr);
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || colon == addr || colon[1] == '\0') {
			/* libfcgi binds every interface for ":port". */
			*cause = "--listen needs unix:PATH or HOST:PORT";
			return (-1);
		}
		front_fd = FCGX_OpenSocket(addr, cfg->backlog);
	}
	if (front_fd < 0) {
		*cause = "cannot open the listening socket";
		return (-1);
	}
	front_unix = front_is_unix(front_fd);
	return (0);
}

void
front_close(void)
{
	if (front_path != NULL) {
		unlink(front_path);
		free(front_path);
		front_path = NULL;
	}
}

void
front_shutdown(void)
{
	int	saved = errno;

	atomic_store_explicit(&front_stopping, true, memory_order_relaxed);
	if (front_pipe[1] != -1)
		(void)!write(front_pipe[1], "x", 1);
	errno = saved;
}

int
front_run(const struct front_config *cfg, struct eio *e)
{
	pthread_t	*workers;
	struct pollfd	 pfd;
	int		 i, n = cfg->threads > 0 ? cfg->threads : 1;

	front_eio = e;
	for (i = 0; i < FRONT_WRITERS; i++) {
		if ((errno = pthread_create(&front_writers[i], NULL,
		    front_writer, NULL)) != 0)
			fatal("front: pthread_create");
	}
	front_park = park_start(front_resume, NULL);
	workers = xcalloc((size_t)n, sizeof(*workers));
	for (i = 0; i < n; i++) {
		if ((errno = pthread_create(&workers[i], NULL, front_worker,
		    NULL)) != 0)
			fatal("front: pthread_create");
	}

	/* Wait for front_shutdown(), called from the signal handler. */
	pfd.fd = front_pipe[0];
	pfd.events = POLLIN;
	while (poll(&pfd, 1, -1) == -1 && errno == EINTR)
		;
	log_info("front: shutting down, %zu held polls",
	    park_count(front_park));

	/* Held polls answer at once; then no new request is accepted. */
	park_shutdown(front_park);
	shutdown(front_fd, SHUT_RDWR);
	for (i = 0; i < n; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	park_stop(front_park);
	front_park = NULL;
	/* The parker answered every held poll: write what is queued. */
	pthread_mutex_lock(&front_wlock);
	front_wstop = true;
	pthread_cond_broadcast(&front_wcond);
	pthread_mutex_unlock(&front_wlock);
	for (i = 0; i < FRONT_WRITERS; i++)
		pthread_join(front_writers[i], NULL);
	return (0);
}
