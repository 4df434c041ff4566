/*
 * sio-fcgi: the scaffolding the Check programs share (see testutil.h).
 * It owns the base directory, the current test's directory and the
 * helpers' answer; every store and server is the caller's.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "bell.h"
#include "buf.h"
#include "eio.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "testutil.h"

int64_t				 testutil_now;

/* Every test's directory goes under the base; "" when there is none. */
static char			 testutil_base[4096];
static char			 testutil_test_dir[4096];

/* Where the helpers send their requests, and their answer. */
static struct eio		*testutil_server;
static const char		*testutil_path;
static struct http_response	 testutil_answer;

/* The runner. */

int
testutil_suite_run(Suite *s)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

bool
testutil_runner_is_forking(void)
{
	SRunner	*sr;
	bool	 forking;

	sr = srunner_create(NULL);
	forking = srunner_fork_status(sr) != CK_NOFORK;
	srunner_free(sr);
	return (forking);
}

static int
testutil_remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

/* Remove path and everything under it. */
static void
testutil_remove_tree(const char *path)
{
	nftw(path, testutil_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make the base directory every test's directory goes under. */
static int
testutil_base_make(const char *ident)
{
	const char	*tmp = getenv("TMPDIR");
	int		 n;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(testutil_base, sizeof(testutil_base),
	    "%s/sio-test-XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(testutil_base) ||
	    mkdtemp(testutil_base) == NULL) {
		fprintf(stderr, "%s: cannot make a directory in %s\n", ident,
		    tmp);
		return (-1);
	}
	return (0);
}

/*
 * Each test's directory is a fresh one under the base directory, which
 * is made and removed here around the whole run: in fork mode a failing
 * test exits in its child before its teardown runs, so this removes what
 * it left.
 */
int
testutil_suite_run_with_store(const char *ident, Suite *(*suite)(void))
{
	int	rc;

	log_init(ident, LOG_LEVEL_ERROR);
	if (bell_open() != 0) {
		fprintf(stderr, "%s: bell_open failed\n", ident);
		return (EXIT_FAILURE);
	}
	if (testutil_base_make(ident) != 0)
		return (EXIT_FAILURE);
	rc = testutil_suite_run(suite());
	testutil_remove_tree(testutil_base);
	bell_close();
	return (rc);
}

bool	testutil_batch_gets;

int
testutil_suite_run_both_ways(const char *ident, Suite *(*suite)(void))
{
	int	rc;

	testutil_batch_gets = false;
	rc = testutil_suite_run_with_store(ident, suite);
	printf("%s: again, with GETs and POSTs served in batches\n",
	    ident);
	testutil_batch_gets = true;
	if (testutil_suite_run_with_store(ident, suite) != EXIT_SUCCESS)
		rc = EXIT_FAILURE;
	testutil_batch_gets = false;
	return (rc);
}

/* The directory and store fixture. */

struct store *
testutil_store_setup(void)
{
	int	n;

	ck_assert_msg(testutil_base[0] != '\0',
	    "run the suite with testutil_suite_run_with_store()");
	testutil_rings_drain(NULL);
	n = snprintf(testutil_test_dir, sizeof(testutil_test_dir),
	    "%s/test-XXXXXX", testutil_base);
	ck_assert(n > 0 && (size_t)n < sizeof(testutil_test_dir));
	ck_assert_ptr_nonnull(mkdtemp(testutil_test_dir));
	return (testutil_store_open(bell_self(), TESTUTIL_MAP_SIZE));
}

struct store *
testutil_store_open(uint64_t instance, size_t map_size)
{
	struct store_config	 cfg;
	struct store		*st = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = testutil_test_dir;
	cfg.map_size = map_size;
	cfg.max_readers = TESTUTIL_MAX_READERS;
	cfg.sync = STORE_SYNC_NONE;
	cfg.instance = instance;
	ck_assert_int_eq(store_open(&cfg, &st), 0);
	ck_assert_ptr_nonnull(st);
	return (st);
}

void
testutil_store_teardown(struct store *st)
{
	store_close(st);
	if (testutil_test_dir[0] != '\0')
		testutil_remove_tree(testutil_test_dir);
	testutil_test_dir[0] = '\0';
	testutil_rings_drain(NULL);
}

const char *
testutil_dir(void)
{
	return (testutil_test_dir);
}

int
testutil_rings_drain(const char *sid)
{
	char	got[STORE_SID_MAX + 1];
	int64_t	sent;
	int	n = 0;

	while (bell_read(got, sizeof(got), &sent) == 1) {
		if (sid != NULL && strcmp(got, sid) == 0)
			n++;
	}
	return (n);
}

size_t
testutil_session_count(struct store *st)
{
	struct store_txn	*t;
	size_t			 n = 12345;

	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_session_count(t, &n), 0);
	store_txn_abort(t);
	return (n);
}

/* The fake clock. */

int64_t
testutil_clock(void)
{
	return (testutil_now);
}

/* Engine.IO servers under test. */

struct eio_config
testutil_eio_config(void)
{
	struct eio_config	cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ping_interval = TESTUTIL_PING_INTERVAL;
	cfg.ping_timeout = TESTUTIL_PING_TIMEOUT;
	cfg.max_payload = TESTUTIL_MAX_PAYLOAD;
	cfg.close_wait = TESTUTIL_CLOSE_WAIT;
	cfg.body_timeout = TESTUTIL_BODY_TIMEOUT;
	cfg.clock = testutil_clock;
	cfg.batch_gets = testutil_batch_gets;
	cfg.batch_posts = testutil_batch_gets;
	return (cfg);
}

struct eio *
testutil_eio_new(const struct eio_config *cfg, struct store *st,
    const char *path)
{
	testutil_server = eio_new(cfg, st);
	testutil_path = path;
	http_response_init(&testutil_answer);
	return (testutil_server);
}

void
testutil_eio_free(struct eio *e)
{
	if (e == testutil_server) {
		http_response_clear(&testutil_answer);
		testutil_server = NULL;
		testutil_path = NULL;
	}
	eio_free(e);
}

static int
testutil_req_read_body(struct http_request *req, size_t max,
    struct buf *body)
{
	struct testutil_req	*f = req->ctx;
	void			(*during)(void) = f->during_read;

	if (f->served) {
		/* Draining after read_body_ready: nothing left. */
		buf_reset(body);
		return (0);
	}
	f->reads++;
	f->during_read = NULL;
	if (during != NULL)
		during();
	buf_reset(body);
	if (f->body_len > max)
		return (-EMSGSIZE);
	buf_append(body, f->body, f->body_len);
	return (0);
}

/* The whole body is at hand unless the request streams it. */
static int
testutil_req_read_body_ready(struct http_request *req, size_t max,
    struct buf *body)
{
	struct testutil_req	*f = req->ctx;

	buf_reset(body);
	if (f->streaming || f->during_read != NULL)
		return (0);
	f->reads++;
	f->served = true;
	if (f->body_len > max)
		return (-EMSGSIZE);
	buf_append(body, f->body, f->body_len);
	return (1);
}

void
testutil_req_init(struct testutil_req *f, enum http_method method,
    const char *query, const char *body, size_t body_len)
{
	static const char *names[] = { "GET", "POST", "OPTIONS", "PUT" };
	int	n;

	ck_assert_ptr_nonnull(testutil_path);
	memset(f, 0, sizeof(*f));
	n = snprintf(f->uri, sizeof(f->uri), "%s/?%s", testutil_path, query);
	ck_assert(n > 0 && (size_t)n < sizeof(f->uri));
	f->req.method = method;
	f->req.method_name = names[method];
	f->req.uri = f->uri;
	f->req.query = f->uri + strlen(testutil_path) + strlen("/?");
	f->req.content_type = method == HTTP_POST ?
	    "text/plain;charset=UTF-8" : NULL;
	f->req.content_length = method == HTTP_POST ? (long long)body_len : -1;
	f->req.read_body = testutil_req_read_body;
	f->req.read_body_ready = testutil_req_read_body_ready;
	f->req.ctx = f;
	f->body = body;
	f->body_len = body_len;
}

void
testutil_sid_query(char *q, size_t size, const char *sid, const char *eio)
{
	int	n;

	n = snprintf(q, size, "%stransport=polling&sid=%s&t=x", eio, sid);
	ck_assert(n > 0 && (size_t)n < size);
}

/* The helpers. */

enum eio_result
testutil_request(struct testutil_req *f, struct http_response *resp,
    struct eio_wait *w)
{
	struct eio_resume_item	it;
	enum eio_result		r;

	r = eio_handle(testutil_server, &f->req, testutil_now, resp, w);
	if (r != EIO_BATCH)
		return (r);
	/* As the front does, in a batch of its own. */
	ck_assert(w->fresh);
	it.req = &f->req;
	it.w = w;
	it.resp = resp;
	eio_resume_batch(testutil_server, &it, 1, testutil_now, false);
	ck_assert(!w->fresh);
	return (it.result);
}

void
testutil_handshake(char *sid)
{
	struct testutil_req	 f;
	struct http_response	*resp = &testutil_answer;
	struct eio_wait		 w;
	const char		*p, *q;

	testutil_req_init(&f, HTTP_GET, "EIO=4&transport=polling&t=abc", NULL,
	    0);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 200);
	p = buf_str(&resp->body);
	ck_assert(strncmp(p, "0{\"sid\":\"", 9) == 0);
	p += 9;
	q = strchr(p, '"');
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((size_t)(q - p), EIO_ID_LEN);
	memcpy(sid, p, EIO_ID_LEN);
	sid[EIO_ID_LEN] = '\0';
}

enum eio_result
testutil_get(struct testutil_req *f, const char *sid,
    struct http_response *resp, struct eio_wait *w)
{
	char	q[256];

	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(f, HTTP_GET, q, NULL, 0);
	return (testutil_request(f, resp, w));
}

void
testutil_get_done(const char *sid, struct http_response *resp)
{
	struct testutil_req	f;
	struct eio_wait		w;

	ck_assert_int_eq(testutil_get(&f, sid, resp, &w), EIO_DONE);
}

const char *
testutil_get_now(const char *sid)
{
	struct http_response	*resp = &testutil_answer;

	testutil_get_done(sid, resp);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_ptr_nonnull(resp->content_type);
	ck_assert_str_eq(resp->content_type, TESTUTIL_TEXT_PLAIN);
	return (buf_str(&resp->body));
}

void
testutil_get_text(const char *sid, const char *body)
{
	ck_assert_str_eq(testutil_get_now(sid), body);
}

int
testutil_post_typed(const char *sid, const char *body, size_t len,
    const char *type, struct http_response *resp)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			q[256];

	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(&f, HTTP_POST, q, body, len);
	f.req.content_type = type;
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(f.reads, 1);
	return (resp->status);
}

const struct http_response *
testutil_post_ok(const char *sid, const char *body)
{
	struct http_response	*resp = &testutil_answer;

	testutil_post_typed(sid, body, strlen(body),
	    "text/plain;charset=UTF-8", resp);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(buf_str(&resp->body), "ok");
	return (resp);
}
