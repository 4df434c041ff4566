/*
 * sio-fcgi: the scaffolding the Check programs share: the suite runner
 * behind every main(), the per-test directory and store fixture, the
 * fake clock, and Engine.IO requests built in memory with the helpers
 * that send them.  testutil owns only the directories it makes and the
 * helpers' answer; stores and servers belong to the test that opens them.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "eio.h"
#include "http.h"
#include "store.h"

/* The runner. */

/*
 * Run s (taken: the runner frees it) as CK_ENV says: CK_FORK, CK_RUN_CASE,
 * CK_VERBOSITY.  Returns EXIT_SUCCESS when no test failed, for main().
 */
int	testutil_suite_run(Suite *s);
/* True when the tests run in forked children (CK_FORK is not "no"). */
bool	testutil_runner_is_forking(void);
/*
 * main() of a program whose tests use the store fixture: log as ident
 * at error level, open the bell, make the base directory every test's
 * directory goes under, run suite() with testutil_suite_run(), then remove
 * the base directory (with what failing forked tests left) and close the
 * bell.  Returns EXIT_SUCCESS or EXIT_FAILURE.
 */
int	testutil_suite_run_with_store(const char *ident, Suite *(*suite)(void));
/*
 * The same twice: as it is, then with testutil_batch_gets set, so that
 * the servers testutil_eio_config() makes return the GETs on a session
 * and the POSTs whose body is in hand as EIO_BATCH, which
 * testutil_request() resolves as the front does.
 */
extern bool	testutil_batch_gets;
int	testutil_suite_run_both_ways(const char *ident, Suite *(*suite)(void));

/* The directory and store fixture. */

#define TESTUTIL_MAP_SIZE	(16u * 1024 * 1024)
#define TESTUTIL_MAX_READERS	126

/*
 * Start a test: drop the rings left on our bell, make a fresh directory
 * under the base directory and open a store in it as bell_self() with
 * TESTUTIL_MAP_SIZE.  Returns the store, returned owned: end the test
 * with testutil_store_teardown().  Fails the test on error.
 */
struct store *testutil_store_setup(void);
/*
 * Open the test's directory as a store as instance, unsynced, with
 * map_size.  Returns it, returned owned (store_close()); fails the test
 * on error.
 */
struct store *testutil_store_open(uint64_t instance, size_t map_size);
/* End a test: close st (taken; NULL is fine), remove the directory, drain. */
void	testutil_store_teardown(struct store *st);
/* This test's directory; borrowed, valid until testutil_store_teardown(). */
const char *testutil_dir(void);
/* Read every ring waiting on our bell; returns how many named sid. */
int	testutil_rings_drain(const char *sid);
/* How many sessions st holds; fails the test on error. */
size_t	testutil_session_count(struct store *st);

/* The fake clock: time is a variable the tests advance. */

extern int64_t	testutil_now;	/* ms */
/* Returns testutil_now; the clock of testutil_eio_config(). */
int64_t	testutil_clock(void);

/* Engine.IO servers under test. */

#define TESTUTIL_PING_INTERVAL	300
#define TESTUTIL_PING_TIMEOUT	200
#define TESTUTIL_MAX_PAYLOAD	1000000
#define TESTUTIL_CLOSE_WAIT	30000
#define TESTUTIL_BODY_TIMEOUT	30000
#define TESTUTIL_T0		INT64_C(1700000000000)	/* handshake time */
#define TESTUTIL_TEXT_PLAIN	"text/plain; charset=UTF-8"

/* The settings above, clocked by testutil_clock(), without CORS. */
struct eio_config testutil_eio_config(void);
/*
 * eio_new(cfg, st), and the server the helpers below send to from now
 * on, for requests under path ("/engine.io"; borrowed: a literal).
 * Returns the server, returned owned: free with testutil_eio_free().
 */
struct eio *testutil_eio_new(const struct eio_config *cfg, struct store *st,
	    const char *path);
/* eio_free(e) and the helpers' answer; NULL is fine. */
void	testutil_eio_free(struct eio *e);

/*
 * A request built in memory for the server's path; its body is served
 * by the read_body callback, which counts the reads.
 */
struct testutil_req {
	struct http_request	 req;
	char			 uri[512];
	const char		*body;		/* borrowed */
	size_t			 body_len;
	int			 reads;
	/* Called once from read_body, to overlap another request. */
	void			(*during_read)(void);
	/*
	 * The body streams: read_body_ready never finds it at hand (as
	 * when during_read is set), so a POST takes the two-step path.
	 */
	bool			 streaming;
	bool			 served;	/* read_body_ready gave it */
};

/*
 * Make f a request "<path>/?query" with method; body (borrowed, body_len
 * bytes) is what read_body serves.  A POST is text/plain with its
 * Content-Length; anything else has neither.
 */
void	testutil_req_init(struct testutil_req *f, enum http_method method,
	    const char *query, const char *body, size_t body_len);
/*
 * Write "<eio>transport=polling&sid=<sid>&t=x" into q (size bytes); eio
 * is "EIO=4&" or another version parameter, or "".
 */
void	testutil_sid_query(char *q, size_t size, const char *sid,
	    const char *eio);

/*
 * The helpers.  Every request goes to the server of testutil_eio_new()
 * at testutil_now.  Those without a resp argument answer into the
 * helpers' answer, which testutil owns: what they return from it is
 * borrowed until the next helper call.
 */

/* Serve f into resp (caller-owned). */
enum eio_result testutil_request(struct testutil_req *f,
	    struct http_response *resp, struct eio_wait *w);
/* A handshake that must succeed; the new sid goes to sid (21 bytes). */
void	testutil_handshake(char *sid);
/*
 * A GET for sid into resp.  f must outlive a held request (resuming
 * uses it).
 */
enum eio_result testutil_get(struct testutil_req *f, const char *sid,
	    struct http_response *resp, struct eio_wait *w);
/* A GET for sid that must answer at once, into resp (caller-owned). */
void	testutil_get_done(const char *sid, struct http_response *resp);
/* A GET that must answer at once with 200 text; returns its body. */
const char *testutil_get_now(const char *sid);
/* A GET that must answer at once with 200 text and exactly body. */
void	testutil_get_text(const char *sid, const char *body);
/*
 * POST body (len bytes) to sid as content type into resp; it must be
 * read exactly once.  Returns the status.
 */
int	testutil_post_typed(const char *sid, const char *body, size_t len,
	    const char *type, struct http_response *resp);
/* POST the text body to sid; it must be answered 200 "ok".  Returns it. */
const struct http_response *testutil_post_ok(const char *sid,
	    const char *body);

#endif /* TESTUTIL_H */
