/*
 * sio-fcgi: unit tests for eio, the Engine.IO v4 long-polling server:
 * handshake, the reference server's error answers, long-polling, the
 * heartbeat, the ways a session closes, lost answers and the sweep.
 * Requests are built in memory, time is a variable the tests advance,
 * and the store lives in a fresh temporary directory per test.
 */
#include "config.h"

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
#include "store.h"
#include "testutil.h"

#define RS		"\x1e"
#define NO_STORE	"Cache-Control: no-store\r\n"
#define UNKNOWN_SID	"AAAAAAAAAAAAAAAAAAAA"	/* well-formed, never made */

static const char *error_messages[] = {
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
};

/* The fixture. */
static struct store	*st;
static struct eio	*e;

/* Responses owned by the fixture, so a failing test leaks nothing. */
static struct http_response	 r_test;	/* the test's own */
static struct http_response	 r_helper;	/* the helpers' */
static struct http_response	 r_overlap;	/* a request inside another */
static char			*big;		/* a body over max_payload */
static struct http_cors		 cors;		/* borrowed by e's config */

/* What the test application saw. */
#define MAX_CLOSES	8
static struct {
	char	sid[STORE_SID_MAX + 1];
	char	reason[64];
}			 closes[MAX_CLOSES];
static size_t		 ncloses;
static size_t		 nopens;
static bool		 farewell;	/* on_close queues "4bye" */

/*
 * The test application: echoes every message, except "close-me", which
 * closes the session gracefully, and "kick:<sid>", which closes session
 * sid gracefully; records every close and, with farewell, queues a last
 * message for the closing session.
 */
static int
app_on_open(void *arg, struct eio_ctx *ctx, const char *sid)
{
	(void)arg;
	(void)ctx;
	(void)sid;
	nopens++;
	return (0);
}

static int
app_on_message(void *arg, struct eio_ctx *ctx, const char *sid, bool binary,
    const char *data, size_t len)
{
	(void)arg;
	char	other[STORE_SID_MAX + 1];

	if (!binary && len == 8 && memcmp(data, "close-me", 8) == 0)
		return (eio_close(ctx, sid, true, "forced close"));
	if (!binary && len > 5 && len - 5 <= STORE_SID_MAX &&
	    memcmp(data, "kick:", 5) == 0) {
		memcpy(other, data + 5, len - 5);
		other[len - 5] = '\0';
		return (eio_close(ctx, other, true, "kicked"));
	}
	return (eio_send(ctx, sid, binary, data, len));
}

static void
app_on_close(void *arg, struct eio_ctx *ctx, const char *sid,
    const char *reason)
{
	(void)arg;
	if (farewell)
		ck_assert_int_eq(eio_send(ctx, sid, false, "bye", 3), 0);
	if (ncloses < MAX_CLOSES) {
		snprintf(closes[ncloses].sid, sizeof(closes[ncloses].sid),
		    "%s", sid);
		snprintf(closes[ncloses].reason,
		    sizeof(closes[ncloses].reason), "%s", reason);
	}
	ncloses++;
}

static const struct eio_handler app = {
	.path = "/engine.io",
	.on_open = app_on_open,
	.on_message = app_on_message,
	.on_close = app_on_close,
};

/* Fixture. */

static void
setup(void)
{
	struct eio_config	ecfg = testutil_eio_config();

	st = testutil_store_setup();
	e = testutil_eio_new(&ecfg, st, "/engine.io");
	eio_add_handler(e, &app);
	testutil_now = TESTUTIL_T0;
	memset(closes, 0, sizeof(closes));
	ncloses = 0;
	nopens = 0;
	farewell = false;
	http_response_init(&r_test);
	http_response_init(&r_helper);
	http_response_init(&r_overlap);
	big = NULL;
	memset(&cors, 0, sizeof(cors));
}

static void
teardown(void)
{
	http_response_clear(&r_test);
	http_response_clear(&r_helper);
	http_response_clear(&r_overlap);
	free(big);
	big = NULL;
	testutil_eio_free(e);
	e = NULL;
	http_cors_clear(&cors);
	testutil_store_teardown(st);
	st = NULL;
}

/* Helpers.  Every request is served at testutil_now. */

/* Fail unless resp is the reference server's error answer code. */
static void
check_error(const struct http_response *resp, int code)
{
	char	body[128];

	snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code,
	    error_messages[code]);
	ck_assert_int_eq(resp->status, code == 4 ? 403 : 400);
	ck_assert_ptr_nonnull(resp->content_type);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_str_eq(buf_str(&resp->body), body);
}

/* Fail unless resp is a 200 text answer with exactly body. */
static void
check_text(const struct http_response *resp, const char *body)
{
	ck_assert_int_eq(resp->status, 200);
	ck_assert_ptr_nonnull(resp->content_type);
	ck_assert_str_eq(resp->content_type, TESTUTIL_TEXT_PLAIN);
	ck_assert_str_eq(buf_str(&resp->body), body);
}

/* Fail unless resp is status with no body and no Content-Type. */
static void
check_empty(const struct http_response *resp, int status)
{
	ck_assert_int_eq(resp->status, status);
	ck_assert_ptr_null(resp->content_type);
	ck_assert_uint_eq(resp->body.len, 0);
}

/* A GET that must be answered with error code. */
static void
get_error(const char *sid, int code)
{
	testutil_get_done(sid, &r_helper);
	check_error(&r_helper, code);
}

/* A GET that must be held; *w describes it. */
static void
get_held(struct testutil_req *f, const char *sid, struct eio_wait *w)
{
	struct http_response	*resp = &r_helper;

	ck_assert_int_eq(testutil_get(f, sid, resp, w), EIO_WAIT);
	ck_assert_str_eq(w->sid, sid);
}

/* Resume the held GET w; it must answer with body. */
static void
resume_text(struct testutil_req *f, struct eio_wait *w, bool shutdown,
    const char *body)
{
	struct http_response	*resp = &r_helper;

	ck_assert_int_eq(eio_resume(e, &f->req, w, testutil_now, shutdown,
	    resp), EIO_DONE);
	check_text(resp, body);
}

/* Resume the held GET w; it must keep waiting. */
static void
resume_wait(struct testutil_req *f, struct eio_wait *w)
{
	struct http_response	*resp = &r_helper;

	ck_assert_int_eq(eio_resume(e, &f->req, w, testutil_now, false, resp),
	    EIO_WAIT);
}

/* POST text to sid; it must be answered "ok" as text/html. */
static void
post_ok(const char *sid, const char *body)
{
	const struct http_response	*resp = testutil_post_ok(sid, body);

	ck_assert_str_eq(resp->content_type, "text/html");
}

/* Fail unless exactly one close was seen, for sid, with reason. */
static void
check_closed_once(const char *sid, const char *reason)
{
	ck_assert_uint_eq(ncloses, 1);
	ck_assert_str_eq(closes[0].sid, sid);
	ck_assert_str_eq(closes[0].reason, reason);
}

/* Handshake. */

START_TEST(test_handshake_answers_open_packet)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	const char		*body;
	char			 expect[256];
	size_t			 i;

	testutil_req_init(&f, HTTP_GET, "EIO=4&transport=polling&t=Nabc", NULL,
	    0);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->content_type, TESTUTIL_TEXT_PLAIN);
	ck_assert_str_eq(buf_str(&resp->headers), NO_STORE);

	body = buf_str(&resp->body);
	ck_assert_uint_gt(strlen(body), 29);
	for (i = 9; i < 29; i++) {
		char c = body[i];
		ck_assert_msg((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_',
		    "sid char %zu is %#x", i - 9, (unsigned)(unsigned char)c);
	}
	snprintf(expect, sizeof(expect), "0{\"sid\":\"%.20s\",\"upgrades\":[],"
	    "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}",
	    body + 9);
	ck_assert_str_eq(body, expect);
	ck_assert_uint_eq(nopens, 1);
	ck_assert_uint_eq(testutil_session_count(st), 1);
}
END_TEST

START_TEST(test_handshakes_make_different_sids)
{
	char	a[32], b[32];

	testutil_handshake(a);
	testutil_handshake(b);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(testutil_session_count(st), 2);
}
END_TEST

START_TEST(test_path_without_handler_is_404)
{
	struct testutil_req	f;
	struct http_response	*resp = &r_test;
	struct eio_wait		w;

	testutil_req_init(&f, HTTP_GET, "EIO=4&transport=polling", NULL, 0);
	snprintf(f.uri, sizeof(f.uri), "/socket.io/?EIO=4&transport=polling");
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 404);
	ck_assert_uint_eq(testutil_session_count(st), 0);
}
END_TEST

/* As Node: "/engine.io" matches with its trailing slash only. */
START_TEST(test_path_without_trailing_slash_is_404)
{
	struct testutil_req	f;
	struct http_response	*resp = &r_test;
	struct eio_wait		w;

	testutil_req_init(&f, HTTP_GET, "EIO=4&transport=polling", NULL, 0);
	snprintf(f.uri, sizeof(f.uri), "/engine.io?EIO=4&transport=polling");
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 404);
	snprintf(f.uri, sizeof(f.uri), "/engine.iox/?EIO=4&transport=polling");
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 404);
	ck_assert_uint_eq(testutil_session_count(st), 0);
}
END_TEST

/* Limits. */

/* The fixture's server again, with cfg changed by the caller. */
static void
restart_with(struct eio_config *cfg)
{
	testutil_eio_free(e);
	e = testutil_eio_new(cfg, st, "/engine.io");
	eio_add_handler(e, &app);
}

START_TEST(test_handshake_past_max_sessions_is_503_and_others_go_on)
{
	struct eio_config	 cfg = testutil_eio_config();
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	char			 a[32], b[32];

	cfg.max_sessions = 2;
	restart_with(&cfg);
	testutil_handshake(a);
	testutil_handshake(b);
	testutil_req_init(&f, HTTP_GET, "EIO=4&transport=polling", NULL, 0);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 503);
	ck_assert_str_eq(buf_str(&resp->body),
	    "{\"code\":3,\"message\":\"Server full\"}");
	ck_assert_uint_eq(testutil_session_count(st), 2);
	/* The sessions that exist keep working. */
	post_ok(a, "4still");
	testutil_get_text(a, "4still");
}
END_TEST

START_TEST(test_slow_reader_past_max_queue_is_closed)
{
	struct eio_config	 cfg = testutil_eio_config();
	char			 sid[32];
	int			 i;

	cfg.max_queue = 3;
	restart_with(&cfg);
	testutil_handshake(sid);
	for (i = 0; i < 3; i++)
		post_ok(sid, "4x");
	ck_assert_uint_eq(ncloses, 0);
	/* The fourth echo finds three waiting: the session goes. */
	post_ok(sid, "4x");
	ck_assert_uint_eq(ncloses, 1);
	ck_assert_str_eq(closes[0].reason, "transport error");
	ck_assert_uint_eq(testutil_session_count(st), 0);
}
END_TEST

/* Errors: the reference server's table and check order. */

#define KNOWN	"@"	/* a query with this sid gets a fresh session's */

static const struct {
	enum http_method	 method;
	const char		*query;
	const char		*origin;
	int			 code;
} error_rows[] = {
	/* 1. transport */
	{ HTTP_GET, "EIO=4", NULL, 0 },
	{ HTTP_GET, "EIO=4&transport=websocket", NULL, 0 },
	{ HTTP_GET, "EIO=4&transport=", NULL, 0 },
	{ HTTP_POST, "EIO=4&sid=" KNOWN, NULL, 0 },
	{ HTTP_GET, "EIO=4&transport=websocket&sid=" KNOWN, NULL, 0 },
	{ HTTP_GET, "EIO=4", "http://a\nb", 0 },
	/* 2. Origin */
	{ HTTP_GET, "EIO=4&transport=polling", "http://a\x01" "b", 3 },
	{ HTTP_GET, "EIO=4&transport=polling&sid=" UNKNOWN_SID,
	    "http://a\rb", 3 },
	{ HTTP_POST, "transport=polling", "x\x7f", 3 },
	/* 3. sid */
	{ HTTP_GET, "EIO=4&transport=polling&sid=" UNKNOWN_SID, NULL, 1 },
	{ HTTP_GET, "transport=polling&sid=" UNKNOWN_SID, NULL, 1 },
	{ HTTP_POST, "EIO=4&transport=polling&sid=" UNKNOWN_SID, NULL, 1 },
	{ HTTP_POST, "EIO=3&transport=polling&sid=" UNKNOWN_SID, NULL, 1 },
	{ HTTP_GET, "EIO=4&transport=polling&sid=short", NULL, 1 },
	{ HTTP_GET, "EIO=4&transport=polling&sid=", NULL, 1 },
	{ HTTP_GET, "EIO=3&transport=polling&sid=" KNOWN, NULL, 3 },
	{ HTTP_GET, "transport=polling&sid=" KNOWN, NULL, 3 },
	{ HTTP_POST, "EIO=3&transport=polling&sid=" KNOWN, NULL, 3 },
	/* 4. method of a handshake */
	{ HTTP_POST, "EIO=4&transport=polling", NULL, 2 },
	{ HTTP_POST, "EIO=3&transport=polling", NULL, 2 },
	{ HTTP_OTHER, "EIO=4&transport=polling", NULL, 2 },
	/* 5. version of a handshake */
	{ HTTP_GET, "EIO=3&transport=polling", NULL, 5 },
	{ HTTP_GET, "transport=polling", NULL, 5 },
	{ HTTP_GET, "EIO=abc&transport=polling", NULL, 5 },
	{ HTTP_GET, "EIO=5&transport=polling", NULL, 5 },
	{ HTTP_GET, "EIO=44&transport=polling", NULL, 5 },
};

START_TEST(test_error_table_answers_code_in_reference_order)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	char			 sid[32], q[256];
	const char		*at;

	q[0] = '\0';
	if ((at = strstr(error_rows[_i].query, KNOWN)) != NULL) {
		testutil_handshake(sid);
		snprintf(q, sizeof(q), "%.*s%s%s",
		    (int)(at - error_rows[_i].query), error_rows[_i].query, sid,
		    at + 1);
	} else
		snprintf(q, sizeof(q), "%s", error_rows[_i].query);
	testutil_req_init(&f, error_rows[_i].method, q, "4x", 2);
	f.req.origin = error_rows[_i].origin;
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_error(resp, error_rows[_i].code);
	/* No error creates a session or closes one. */
	ck_assert_uint_eq(testutil_session_count(st), at != NULL ? 1 : 0);
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

START_TEST(test_known_sid_with_eio3_is_bad_request_and_keeps_session)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	char			 sid[32], q[256];

	testutil_handshake(sid);
	testutil_sid_query(q, sizeof(q), sid, "EIO=3&");
	testutil_req_init(&f, HTTP_GET, q, NULL, 0);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_error(resp, 3);
	testutil_req_init(&f, HTTP_POST, q, "4x", 2);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_error(resp, 3);

	/* The POST's body was not handled; the session works. */
	ck_assert_uint_eq(ncloses, 0);
	post_ok(sid, "4still-here");
	testutil_get_text(sid, "4still-here");
}
END_TEST

START_TEST(test_put_with_known_sid_is_500_empty_and_keeps_session)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	char			 sid[32], q[256];

	testutil_handshake(sid);
	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(&f, HTTP_OTHER, q, NULL, 0);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_empty(resp, 500);

	ck_assert_uint_eq(ncloses, 0);
	post_ok(sid, "4x");
	testutil_get_text(sid, "4x");
}
END_TEST

START_TEST(test_put_with_unknown_sid_is_unknown_sid)
{
	struct testutil_req	f;
	struct http_response	*resp = &r_test;
	struct eio_wait		w;

	testutil_req_init(&f, HTTP_OTHER,
	    "EIO=4&transport=polling&sid=" UNKNOWN_SID, NULL, 0);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_error(resp, 1);
}
END_TEST

START_TEST(test_errors_carry_cors_headers_when_enabled)
{
	struct eio_config	 cfg = testutil_eio_config();
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;

	/* The fixture's server, again with CORS for any origin. */
	ck_assert_int_eq(http_cors_parse("*", &cors), 0);
	cfg.cors = cors;
	testutil_eio_free(e);
	e = testutil_eio_new(&cfg, st, "/engine.io");
	eio_add_handler(e, &app);
	testutil_req_init(&f, HTTP_GET, "EIO=4&transport=websocket", NULL, 0);
	f.req.origin = "https://a.example";
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_error(resp, 0);
	ck_assert_str_eq(buf_str(&resp->headers),
	    "Access-Control-Allow-Origin: *\r\n");
}
END_TEST

/* Long-polling. */

START_TEST(test_get_with_nothing_queued_waits_until_ping_time)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + 50;
	get_held(&f, sid, &w);
	ck_assert(w.deadline == TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
	ck_assert_uint_eq(w.from, 0);
	ck_assert_uint_eq(w.to, 0);
	ck_assert_int_eq(w.endpoint, 1);
	ck_assert_uint_ne(w.token, 0);
}
END_TEST

START_TEST(test_held_get_resumed_before_news_keeps_waiting)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_now = TESTUTIL_T0 + 100;
	resume_wait(&f, &w);
	ck_assert(w.deadline == TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
}
END_TEST

START_TEST(test_post_message_rings_and_resumed_get_gets_echo)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	ck_assert_int_eq(testutil_rings_drain(sid), 0);
	testutil_now = TESTUTIL_T0 + 10;
	post_ok(sid, "4hi");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_text(&f, &w, false, "4hi");
	ck_assert_uint_eq(w.from, 0);
	ck_assert_uint_eq(w.to, 1);
}
END_TEST

START_TEST(test_held_get_is_rung_once_until_answered)
{
	struct testutil_req	f, f2;
	struct eio_wait		w, w2;
	char			sid[32], other[32];

	testutil_handshake(sid);
	testutil_handshake(other);
	get_held(&f, sid, &w);
	testutil_rings_drain(NULL);
	post_ok(sid, "4a");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	/* Not yet answered: the first ring will make it find these too. */
	post_ok(sid, "4b");
	post_ok(other, "4x");
	ck_assert_int_eq(testutil_rings_drain(sid), 0);
	resume_text(&f, &w, false, "4a" RS "4b");

	/* Held anew: the next packet rings again. */
	get_held(&f2, sid, &w2);
	post_ok(sid, "4c");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_text(&f2, &w2, false, "4c");
}
END_TEST

START_TEST(test_ring_for_pong_does_not_silence_the_next_packet)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "2");
	get_held(&f, sid, &w);
	testutil_rings_drain(NULL);
	testutil_now += 10;
	post_ok(sid, "3");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_wait(&f, &w);
	post_ok(sid, "4after");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_text(&f, &w, false, "4after");
}
END_TEST

START_TEST(test_rung_mark_is_set_by_a_packet_and_reset_by_a_new_hold)
{
	struct testutil_req	f;
	struct eio_wait		w;
	struct store_txn	*t;
	struct store_session	 s;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_session_get(t, sid, &s), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(s.get_rung, 0);
	post_ok(sid, "4a");
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_session_get(t, sid, &s), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(s.get_rung, 1);
	resume_text(&f, &w, false, "4a");
	get_held(&f, sid, &w);
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_session_get(t, sid, &s), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(s.get_rung, 0);
}
END_TEST

START_TEST(test_queued_packets_go_out_in_one_answer)
{
	char	sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4a" RS "4b" RS "bAQIDBA==");
	post_ok(sid, "4\xc3\xa9\xe2\x82\xac");
	testutil_get_text(sid,
	    "4a" RS "4b" RS "bAQIDBA==" RS "4\xc3\xa9\xe2\x82\xac");
}
END_TEST

START_TEST(test_answered_batch_is_not_sent_twice)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4one");
	testutil_get_text(sid, "4one");
	get_held(&f, sid, &w);
	post_ok(sid, "4two");
	resume_text(&f, &w, false, "4two");
}
END_TEST

START_TEST(test_lost_answer_goes_out_again)
{
	struct testutil_req	f;
	struct http_response	*resp = &r_test;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4a" RS "4b");
	ck_assert_int_eq(testutil_get(&f, sid, resp, &w), EIO_DONE);
	check_text(resp, "4a" RS "4b");
	ck_assert_uint_eq(w.from, 0);
	ck_assert_uint_eq(w.to, 2);

	eio_answer_failed(e, &w);
	post_ok(sid, "4c");
	testutil_get_text(sid, "4a" RS "4b" RS "4c");
	/* That answer arrived: nothing is left to send. */
	get_held(&f, sid, &w);
}
END_TEST

START_TEST(test_second_get_is_400_and_held_get_gets_close)
{
	struct testutil_req	 f, f2;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w, w2;
	char			 sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	ck_assert_int_eq(testutil_get(&f2, sid, resp, &w2), EIO_DONE);
	check_empty(resp, 400);
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	check_closed_once(sid, "transport error");

	resume_text(&f, &w, false, "1");
	get_error(sid, 1);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_shutdown_resume_answers_noop_and_keeps_session)
{
	struct testutil_req	f, f2;
	struct eio_wait		w, w2;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	resume_text(&f, &w, true, "6");
	ck_assert_uint_eq(ncloses, 0);

	/* The next GET is a fresh hold, not a second GET. */
	get_held(&f2, sid, &w2);
	post_ok(sid, "4after");
	resume_text(&f2, &w2, false, "4after");
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

START_TEST(test_superseded_held_get_gets_noop)
{
	struct testutil_req	f, f2;
	struct eio_wait		w, w2;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	resume_text(&f, &w, true, "6");
	get_held(&f2, sid, &w2);
	/* The first request, resumed again, is no longer the held one. */
	resume_text(&f, &w, false, "6");
	post_ok(sid, "4x");
	resume_text(&f2, &w2, false, "4x");
}
END_TEST

/*
 * Several held GETs resumed in one transaction get what each would get
 * alone: news, nothing yet, a ping, a close, a noop for a superseded one.
 */
START_TEST(test_batch_resume_answers_each_as_alone)
{
	struct testutil_req	 f[5];
	struct eio_wait		 w[5];
	struct http_response	 resp[5];
	struct eio_resume_item	 it[5];
	char			 sid[5][32];
	size_t			 i;

	for (i = 0; i < 5; i++) {
		http_response_init(&resp[i]);
		testutil_handshake(sid[i]);
	}
	/* 3 and 4 are one session: 3's GET is superseded by 4's. */
	strcpy(sid[4], sid[3]);
	testutil_now = TESTUTIL_T0 + 100;
	for (i = 0; i < 4; i++)
		get_held(&f[i], sid[i], &w[i]);
	resume_text(&f[3], &w[3], true, "6");
	get_held(&f[4], sid[4], &w[4]);
	post_ok(sid[0], "4news");
	post_ok(sid[2], "1");
	testutil_rings_drain(NULL);

	for (i = 0; i < 5; i++) {
		it[i].req = &f[i].req;
		it[i].w = &w[i];
		it[i].resp = &resp[i];
	}
	eio_resume_batch(e, it, 5, TESTUTIL_T0 + 200, false);
	ck_assert_int_eq(it[0].result, EIO_DONE);
	check_text(&resp[0], "4news");
	ck_assert_uint_eq(w[0].to - w[0].from, 1);
	ck_assert_int_eq(it[1].result, EIO_WAIT);
	ck_assert(w[1].deadline == TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
	ck_assert_int_eq(it[2].result, EIO_DONE);
	check_text(&resp[2], "6");
	ck_assert_int_eq(it[3].result, EIO_DONE);
	check_text(&resp[3], "6");
	ck_assert_int_eq(it[4].result, EIO_WAIT);
	check_closed_once(sid[2], "transport close");

	/* The answers were committed: the sessions go on from there. */
	testutil_now = TESTUTIL_T0 + 300;
	testutil_get_text(sid[0], "2");
	eio_resume_batch(e, &it[1], 1, testutil_now, false);
	check_text(&resp[1], "2");
	get_error(sid[2], 1);
	for (i = 0; i < 5; i++)
		http_response_clear(&resp[i]);
}
END_TEST

/*
 * With batch_gets, GETs on a session come back from eio_handle() as
 * EIO_BATCH and are served together by eio_resume_batch(), in order and
 * beside a held GET resumed in the same batch, each as eio_handle() would
 * have served it: news, a GET to hold, an unknown sid, a wrong EIO, a
 * second GET while one is held (400, and "1" for the held one).
 */
START_TEST(test_batched_gets_are_served_as_alone)
{
	struct eio_config	 ecfg = testutil_eio_config();
	struct eio		*e2;
	struct testutil_req	 f[6];
	struct eio_wait		 w[6];
	struct http_response	 resp[6];
	struct eio_resume_item	 it[6];
	const char		*eio4 = "EIO=4&";
	char			 sid[4][32], q[256];
	size_t			 i;

	ecfg.batch_gets = true;
	e2 = eio_new(&ecfg, st);
	eio_add_handler(e2, &app);
	for (i = 0; i < 6; i++)
		http_response_init(&resp[i]);
	for (i = 0; i < 4; i++)
		testutil_handshake(sid[i]);
	post_ok(sid[0], "4news");
	get_held(&f[5], sid[3], &w[5]);
	testutil_rings_drain(NULL);

	for (i = 0; i < 5; i++) {
		testutil_sid_query(q, sizeof(q), i == 2 ?
		    "AAAAAAAAAAAAAAAAAAAA" : sid[i < 2 ? i : i - 1],
		    i == 3 ? "EIO=3&" : eio4);
		testutil_req_init(&f[i], HTTP_GET, q, NULL, 0);
		ck_assert_int_eq(eio_handle(e2, &f[i].req, testutil_now,
		    &resp[i], &w[i]), EIO_BATCH);
		ck_assert(w[i].fresh);
	}
	for (i = 0; i < 6; i++) {
		it[i].req = &f[i].req;
		it[i].w = &w[i];
		it[i].resp = &resp[i];
	}
	eio_resume_batch(e2, it, 6, testutil_now, false);
	for (i = 0; i < 6; i++)
		ck_assert(!w[i].fresh);
	ck_assert_int_eq(it[0].result, EIO_DONE);
	check_text(&resp[0], "4news");
	ck_assert_uint_eq(w[0].to - w[0].from, 1);
	ck_assert_int_eq(it[1].result, EIO_WAIT);
	ck_assert(w[1].deadline == TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
	check_error(&resp[2], 1);
	check_error(&resp[3], 3);
	check_empty(&resp[4], 400);
	check_text(&resp[5], "1");
	check_closed_once(sid[3], "transport error");

	/* What the batch did was committed: the sessions go on from it. */
	post_ok(sid[1], "4later");
	ck_assert_int_eq(eio_resume(e2, &f[1].req, &w[1], testutil_now,
	    false, &resp[1]), EIO_DONE);
	check_text(&resp[1], "4later");
	get_error(sid[3], 1);
	post_ok(sid[2], "4y");		/* the wrong EIO closed nothing */
	testutil_get_text(sid[2], "4y");
	for (i = 0; i < 6; i++)
		http_response_clear(&resp[i]);
	eio_free(e2);
}
END_TEST

/* A batched request for e2: q is the query, body a POST's (NULL: GET). */
static void
batch_req(struct eio *e2, struct testutil_req *f, struct eio_wait *w,
    struct http_response *resp, const char *sid, const char *body,
    size_t len)
{
	char	q[256];

	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(f, body != NULL ? HTTP_POST : HTTP_GET, q, body,
	    len);
	if (body != NULL)
		f->req.content_type = "text/plain;charset=UTF-8";
	ck_assert_int_eq(eio_handle(e2, &f->req, testutil_now, resp, w),
	    EIO_BATCH);
	ck_assert(w->fresh);
	ck_assert(w->post == (body != NULL));
}

/*
 * With batch_posts, POSTs whose body is in hand are served in the batch
 * too, each in a transaction nested in the batch's, in order with the
 * GETs: a GET after a POST of its session gets what the POST queued, a
 * held GET resumed after a POST to it too, a POST to an unknown sid gets
 * its error, a POST of a close closes its session (its held GET, outside
 * the batch, gets "6" once rung).
 */
START_TEST(test_batched_posts_are_served_in_order)
{
	struct eio_config	 ecfg = testutil_eio_config();
	struct eio		*e2;
	struct testutil_req	 f[7];
	struct eio_wait		 w[7];
	struct http_response	 resp[7];
	struct eio_resume_item	 it[7];
	char			 sid[3][32];
	size_t			 i;

	ecfg.batch_gets = ecfg.batch_posts = true;
	e2 = eio_new(&ecfg, st);
	eio_add_handler(e2, &app);
	for (i = 0; i < 7; i++)
		http_response_init(&resp[i]);
	for (i = 0; i < 3; i++)
		testutil_handshake(sid[i]);
	get_held(&f[3], sid[2], &w[3]);
	get_held(&f[6], sid[1], &w[6]);
	testutil_rings_drain(NULL);

	batch_req(e2, &f[0], &w[0], &resp[0], sid[0], "4one", 4);
	batch_req(e2, &f[1], &w[1], &resp[1], sid[0], NULL, 0);
	batch_req(e2, &f[2], &w[2], &resp[2], sid[2], "4two", 4);
	batch_req(e2, &f[4], &w[4], &resp[4], "AAAAAAAAAAAAAAAAAAAA", "4x",
	    2);
	batch_req(e2, &f[5], &w[5], &resp[5], sid[1], "1", 1);
	for (i = 0; i < 6; i++) {
		it[i].req = &f[i].req;
		it[i].w = &w[i];
		it[i].resp = &resp[i];
	}
	eio_resume_batch(e2, it, 6, testutil_now, false);
	for (i = 0; i < 6; i++) {
		ck_assert(!w[i].fresh && !w[i].post);
		ck_assert_ptr_null(w[i].body.data);
		ck_assert_int_eq(it[i].result, EIO_DONE);
	}
	ck_assert_str_eq(buf_str(&resp[0].body), "ok");
	check_text(&resp[1], "4one");
	ck_assert_str_eq(buf_str(&resp[2].body), "ok");
	check_text(&resp[3], "4two");
	check_error(&resp[4], 1);
	ck_assert_str_eq(buf_str(&resp[5].body), "ok");
	check_closed_once(sid[1], "transport close");

	/* Committed, and the held GET of the closed session was rung. */
	ck_assert_uint_ge(testutil_rings_drain(sid[1]), 1);
	ck_assert_int_eq(eio_resume(e2, &f[6].req, &w[6], testutil_now,
	    false, &resp[6]), EIO_DONE);
	check_text(&resp[6], "6");
	get_error(sid[1], 1);
	post_ok(sid[0], "4three");
	testutil_get_text(sid[0], "4three");
	for (i = 0; i < 7; i++)
		http_response_clear(&resp[i]);
	eio_free(e2);
}
END_TEST

/*
 * A batched POST that finds the map full, one commit after a GET freed
 * it, is served again alone, with the whole batch: it then takes the
 * two-step path and fits, as it would have outside a batch.
 */
START_TEST(test_batched_post_on_a_full_map_is_served_alone)
{
	struct eio_config	 ecfg = testutil_eio_config();
	struct eio		*e2;
	struct testutil_req	 f[2], fh;
	struct eio_wait		 w[2], wh;
	struct http_response	 resp[2], *r = &r_test;
	struct eio_resume_item	 it[2];
	char			 sid[2][32];
	size_t			 len = 300000, i;

	testutil_eio_free(e);
	store_close(st);
	st = testutil_store_open(bell_self(), 1024 * 1024);
	e = testutil_eio_new(&ecfg, st, "/engine.io");
	eio_add_handler(e, &app);
	ecfg.batch_gets = ecfg.batch_posts = true;
	e2 = eio_new(&ecfg, st);
	eio_add_handler(e2, &app);
	for (i = 0; i < 2; i++)
		http_response_init(&resp[i]);

	big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', len);
	big[0] = '4';
	testutil_handshake(sid[0]);
	testutil_handshake(sid[1]);
	for (i = 0; i < 10; i++) {
		if (testutil_post_typed(sid[0], big, len, "text/plain",
		    r) != 200)
			break;
	}
	ck_assert_int_eq(r->status, 507);
	testutil_get_done(sid[0], &r_helper);
	ck_assert_int_eq(r_helper.status, 200);
	get_held(&fh, sid[0], &wh);

	batch_req(e2, &f[0], &w[0], &resp[0], sid[1], NULL, 0);
	batch_req(e2, &f[1], &w[1], &resp[1], sid[0], big, len);
	for (i = 0; i < 2; i++) {
		it[i].req = &f[i].req;
		it[i].w = &w[i];
		it[i].resp = &resp[i];
	}
	eio_resume_batch(e2, it, 2, testutil_now, false);
	ck_assert_int_eq(it[0].result, EIO_WAIT);
	ck_assert_int_eq(it[1].result, EIO_DONE);
	ck_assert_int_eq(resp[1].status, 200);
	ck_assert_ptr_null(w[1].body.data);
	for (i = 0; i < 2; i++)
		http_response_clear(&resp[i]);
	eio_free(e2);
}
END_TEST

/*
 * A GET served in a batch at shutdown that would be held gets a noop, as
 * a held one does then; the session stays for the next GET.
 */
START_TEST(test_batched_get_at_shutdown_gets_noop)
{
	struct eio_config	 ecfg = testutil_eio_config();
	struct eio		*e2;
	struct testutil_req	 f;
	struct eio_wait		 w;
	struct http_response	 resp;
	struct eio_resume_item	 it;
	char			 sid[32], q[256];

	ecfg.batch_gets = true;
	e2 = eio_new(&ecfg, st);
	eio_add_handler(e2, &app);
	http_response_init(&resp);
	testutil_handshake(sid);
	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(&f, HTTP_GET, q, NULL, 0);
	ck_assert_int_eq(eio_handle(e2, &f.req, testutil_now, &resp, &w),
	    EIO_BATCH);
	it.req = &f.req;
	it.w = &w;
	it.resp = &resp;
	eio_resume_batch(e2, &it, 1, testutil_now, true);
	ck_assert_int_eq(it.result, EIO_DONE);
	check_text(&resp, "6");
	post_ok(sid, "4x");
	testutil_get_text(sid, "4x");
	http_response_clear(&resp);
	eio_free(e2);
}
END_TEST

/*
 * In one batch, a pong deadline passed closes its session (on_close once,
 * "1"), and a ping as late for a held GET goes out all the same.
 */
START_TEST(test_batch_resume_closes_late_pong_once)
{
	struct testutil_req	 f[2];
	struct eio_wait		 w[2];
	struct http_response	 resp[2];
	struct eio_resume_item	 it[2];
	char			 sid[2][32];
	size_t			 i;

	for (i = 0; i < 2; i++) {
		http_response_init(&resp[i]);
		testutil_handshake(sid[i]);
	}
	get_held(&f[1], sid[1], &w[1]);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid[0], "2");
	get_held(&f[0], sid[0], &w[0]);
	for (i = 0; i < 2; i++) {
		it[i].req = &f[i].req;
		it[i].w = &w[i];
		it[i].resp = &resp[i];
	}
	testutil_now += TESTUTIL_PING_TIMEOUT;
	eio_resume_batch(e, it, 2, testutil_now, false);
	check_text(&resp[0], "1");
	check_text(&resp[1], "2");
	check_closed_once(sid[0], "ping timeout");
	ck_assert_uint_eq(testutil_session_count(st), 1);
	for (i = 0; i < 2; i++)
		http_response_clear(&resp[i]);
}
END_TEST

/* Heartbeat. */

START_TEST(test_held_get_gets_ping_at_ping_time)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL - 1;
	resume_wait(&f, &w);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	resume_text(&f, &w, false, "2");
}
END_TEST

START_TEST(test_get_after_ping_time_gets_ping)
{
	char	sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + 50;
	testutil_get_text(sid, "2");
}
END_TEST

START_TEST(test_ping_is_queued_behind_waiting_packets)
{
	char	sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4a");
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "4a" RS "2");
}
END_TEST

START_TEST(test_get_after_ping_waits_for_pong_deadline)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "2");
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + 10;
	get_held(&f, sid, &w);
	ck_assert(w.deadline ==
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT);
}
END_TEST

START_TEST(test_pong_rearms_ping_interval_after_the_pong)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "2");
	testutil_now = TESTUTIL_T0 + 400;
	post_ok(sid, "3");
	get_held(&f, sid, &w);
	ck_assert(w.deadline == TESTUTIL_T0 + 400 + TESTUTIL_PING_INTERVAL);

	/* The old pong deadline passes harmlessly. */
	testutil_now =
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT;
	ck_assert_int_eq(eio_sweep(e, testutil_now), 0);
	resume_wait(&f, &w);
	testutil_now = TESTUTIL_T0 + 400 + TESTUTIL_PING_INTERVAL - 1;
	resume_wait(&f, &w);
	testutil_now = TESTUTIL_T0 + 400 + TESTUTIL_PING_INTERVAL;
	resume_text(&f, &w, false, "2");
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

START_TEST(test_pong_rings_held_get_which_waits_for_new_ping_time)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "2");
	get_held(&f, sid, &w);
	ck_assert(w.deadline ==
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT);
	testutil_now = TESTUTIL_T0 + 350;
	post_ok(sid, "3probe");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_wait(&f, &w);
	ck_assert(w.deadline == TESTUTIL_T0 + 350 + TESTUTIL_PING_INTERVAL);
}
END_TEST

START_TEST(test_pong_without_ping_changes_nothing)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + 100;
	post_ok(sid, "3");
	get_held(&f, sid, &w);
	ck_assert(w.deadline == TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
}
END_TEST

START_TEST(test_sweep_closes_session_whose_pong_is_late)
{
	char	sid[32];

	testutil_handshake(sid);
	ck_assert_int_eq(eio_sweep(e,
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT - 1),
	    0);
	ck_assert_uint_eq(ncloses, 0);
	ck_assert_int_eq(eio_sweep(e,
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT), 1);
	check_closed_once(sid, "ping timeout");
	ck_assert_uint_eq(testutil_session_count(st), 0);

	testutil_now =
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT + 1;
	get_error(sid, 1);
	ck_assert_int_eq(eio_sweep(e, testutil_now + 100000), 0);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_sweep_closes_at_pong_deadline_counted_from_the_ping)
{
	const int64_t	sent = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + 20;
	char		sid[32];

	/* The ping went out 20 ms after it was due: the pong has until. */
	testutil_handshake(sid);
	testutil_now = sent;
	testutil_get_text(sid, "2");
	ck_assert_int_eq(eio_sweep(e, sent + TESTUTIL_PING_TIMEOUT - 1), 0);
	ck_assert_uint_eq(ncloses, 0);
	ck_assert_int_eq(eio_sweep(e, sent + TESTUTIL_PING_TIMEOUT), 1);
	check_closed_once(sid, "ping timeout");
	get_error(sid, 1);
}
END_TEST

/*
 * Regress for healthy clients closed under load: the ping was due at T
 * while the session's GET was held, but the server resumed that GET only
 * pingTimeout + 50 ms later.  The client answers the ping at once: the
 * session lives, and the next ping comes pingInterval after that pong.
 */
START_TEST(test_late_resume_of_held_get_sends_ping_and_pong_keeps_session)
{
	const int64_t		due = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	const int64_t		late = due + TESTUTIL_PING_TIMEOUT + 50;
	struct testutil_req	f, f2;
	struct eio_wait		w, w2;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	ck_assert(w.deadline == due);
	testutil_now = late;
	resume_text(&f, &w, false, "2");
	testutil_now = late + 5;
	post_ok(sid, "3");
	get_held(&f2, sid, &w2);
	ck_assert(w2.deadline == late + 5 + TESTUTIL_PING_INTERVAL);
	ck_assert_int_eq(eio_sweep(e, late + TESTUTIL_PING_TIMEOUT), 0);
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

/* The same, with the pong slow but in time: pingTimeout from the ping. */
START_TEST(test_pong_deadline_of_late_ping_counts_from_its_answer)
{
	const int64_t		due = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	const int64_t		late = due + TESTUTIL_PING_TIMEOUT + 50;
	struct testutil_req	f, f2;
	struct eio_wait		w, w2;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_now = late;
	resume_text(&f, &w, false, "2");
	testutil_now = late + 1;
	get_held(&f2, sid, &w2);
	ck_assert(w2.deadline == late + TESTUTIL_PING_TIMEOUT);
	testutil_now = late + TESTUTIL_PING_TIMEOUT - 1;
	post_ok(sid, "3");
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

/*
 * The resume was asked for at the ping time but got the writer lock 50 ms
 * later: the ping went out then, and the pong has pingTimeout from then.
 */
START_TEST(test_pong_deadline_counts_from_the_resume_holding_the_lock)
{
	const int64_t		due = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	struct testutil_req	f;
	struct eio_wait		w;
	struct http_response	*resp = &r_test;
	char			 sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_now = due + 50;
	ck_assert_int_eq(eio_resume(e, &f.req, &w, due, false, resp),
	    EIO_DONE);
	check_text(resp, "2");
	ck_assert_int_eq(eio_sweep(e, due + 50 + TESTUTIL_PING_TIMEOUT - 1),
	    0);
	ck_assert_uint_eq(ncloses, 0);
	ck_assert_int_eq(eio_sweep(e, due + 50 + TESTUTIL_PING_TIMEOUT), 1);
	check_closed_once(sid, "ping timeout");
}
END_TEST

START_TEST(test_sweep_spares_and_rings_held_get_late_with_the_ping)
{
	const int64_t		due = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_rings_drain(NULL);
	ck_assert_int_eq(eio_sweep(e, due + TESTUTIL_PING_TIMEOUT), 1);
	ck_assert_uint_eq(ncloses, 0);
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	/* It looks again a pingTimeout later, not at every pass. */
	ck_assert_int_eq(eio_sweep(e, due + 2 * TESTUTIL_PING_TIMEOUT - 1),
	    0);
	ck_assert_int_eq(eio_sweep(e, due + 2 * TESTUTIL_PING_TIMEOUT), 1);
	ck_assert_uint_eq(ncloses, 0);

	testutil_now = due + 2 * TESTUTIL_PING_TIMEOUT + 10;
	resume_text(&f, &w, false, "2");
	/* Now the client is late. */
	ck_assert_int_eq(eio_sweep(e, testutil_now + TESTUTIL_PING_TIMEOUT -
	    1), 0);
	ck_assert_int_eq(eio_sweep(e, testutil_now + TESTUTIL_PING_TIMEOUT),
	    1);
	check_closed_once(sid, "ping timeout");
}
END_TEST

START_TEST(test_post_spares_session_whose_held_get_is_late_with_the_ping)
{
	const int64_t		due = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_now = due + TESTUTIL_PING_TIMEOUT + 10;
	post_ok(sid, "4hi");
	ck_assert_uint_eq(ncloses, 0);
	resume_text(&f, &w, false, "4hi" RS "2");
}
END_TEST

START_TEST(test_ping_answered_by_held_get_rings_nobody)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_rings_drain(NULL);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	resume_text(&f, &w, false, "2");
	ck_assert_int_eq(testutil_rings_drain(sid), 0);
}
END_TEST

START_TEST(test_shutdown_resume_with_ping_due_answers_ping)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4a");
	testutil_get_text(sid, "4a");
	get_held(&f, sid, &w);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + 10;
	resume_text(&f, &w, true, "2");
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

START_TEST(test_late_pong_closes_held_get_with_close)
{
	struct testutil_req	f, f2;
	struct eio_wait		w, w2;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	resume_text(&f, &w, false, "2");
	get_held(&f2, sid, &w2);
	ck_assert(w2.deadline ==
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT);

	testutil_rings_drain(NULL);
	testutil_now = w2.deadline;
	ck_assert_int_eq(eio_sweep(e, testutil_now), 1);
	check_closed_once(sid, "ping timeout");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_text(&f2, &w2, false, "1");
	get_error(sid, 1);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_held_get_resumed_at_pong_deadline_gets_close)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	/* No sweep: the resume itself notices the late pong. */
	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "2");
	get_held(&f, sid, &w);
	testutil_now = w.deadline;
	resume_text(&f, &w, false, "1");
	check_closed_once(sid, "ping timeout");
	get_error(sid, 1);
}
END_TEST

START_TEST(test_get_after_pong_deadline_is_unknown_sid)
{
	char	sid[32];

	testutil_handshake(sid);
	testutil_now =
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT;
	get_error(sid, 1);
	check_closed_once(sid, "ping timeout");
	ck_assert_uint_eq(testutil_session_count(st), 0);
}
END_TEST

/* Closing. */

START_TEST(test_client_close_with_held_get_answers_noop)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	post_ok(sid, "1");
	check_closed_once(sid, "transport close");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_text(&f, &w, false, "6");
	get_error(sid, 1);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_client_close_without_held_get_closes_at_once)
{
	char	sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4lost" RS "1");
	check_closed_once(sid, "transport close");
	ck_assert_uint_eq(testutil_session_count(st), 0);
	get_error(sid, 1);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_post_after_client_close_is_unknown_sid)
{
	struct http_response	*resp = &r_test;
	char			sid[32];

	testutil_handshake(sid);
	post_ok(sid, "1");
	testutil_post_typed(sid, "4x", 2, "text/plain", resp);
	check_error(resp, 1);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_post_with_body_at_hand_is_one_write_transaction)
{
	char		sid[32];
	uint64_t	before;

	testutil_handshake(sid);
	before = store_commit_count(st);
	post_ok(sid, "4one" RS "4two");
	ck_assert_uint_eq(store_commit_count(st) - before, 1);
	testutil_get_text(sid, "4one" RS "4two");
}
END_TEST

START_TEST(test_streaming_post_marks_in_flight_then_handles_packets)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	char			 sid[32], q[256];
	uint64_t		 before;

	testutil_handshake(sid);
	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(&f, HTTP_POST, q, "4slow", 5);
	f.streaming = true;
	before = store_commit_count(st);
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(buf_str(&resp->body), "ok");
	ck_assert_int_eq(f.reads, 1);
	ck_assert_uint_eq(store_commit_count(st) - before, 2);
	/* The mark is gone: the next POST is no overlap. */
	post_ok(sid, "4next");
	testutil_get_text(sid, "4slow" RS "4next");
}
END_TEST

START_TEST(test_post_fits_again_right_after_a_get_freed_the_map)
{
	struct eio_config	 ecfg = testutil_eio_config();
	struct testutil_req	 f;
	struct eio_wait		 w;
	struct http_response	*resp = &r_test;
	char			 sid[32];
	size_t			 len = 300000;
	int			 i;

	/* The fixture's server again, over a 1 MiB map. */
	testutil_eio_free(e);
	store_close(st);
	st = testutil_store_open(bell_self(), 1024 * 1024);
	e = testutil_eio_new(&ecfg, st, "/engine.io");
	eio_add_handler(e, &app);

	big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', len);
	big[0] = '4';
	testutil_handshake(sid);
	for (i = 0; i < 10; i++) {
		if (testutil_post_typed(sid, big, len, "text/plain",
		    resp) != 200)
			break;
	}
	ck_assert_int_eq(resp->status, 507);
	ck_assert_int_ge(i, 1);
	/* The batch goes out; the next GET trims it and is held. */
	testutil_get_done(sid, &r_helper);
	ck_assert_int_eq(r_helper.status, 200);
	get_held(&f, sid, &w);
	/*
	 * One commit after the trim: LMDB cannot reuse its pages yet,
	 * but the POST must fit anyway.
	 */
	ck_assert_int_eq(testutil_post_typed(sid, big, len, "text/plain",
	    resp), 200);
}
END_TEST

START_TEST(test_octet_stream_post_is_400_and_closes)
{
	struct http_response	*resp = &r_test;
	char			sid[32];

	testutil_handshake(sid);
	ck_assert_int_eq(testutil_post_typed(sid, "4x", 2,
	    "application/octet-stream", resp), 400);
	check_empty(resp, 400);
	check_closed_once(sid, "transport error");
	get_error(sid, 1);
}
END_TEST

START_TEST(test_announced_body_over_max_payload_is_413_and_closes)
{
	struct testutil_req	f;
	struct http_response	*resp = &r_test;
	struct eio_wait		w;
	char			sid[32], q[256];

	testutil_handshake(sid);
	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(&f, HTTP_POST, q, "4x", 2);
	f.req.content_length = TESTUTIL_MAX_PAYLOAD + 1;
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_empty(resp, 413);
	check_closed_once(sid, "transport error");
	get_error(sid, 1);
}
END_TEST

START_TEST(test_body_longer_than_announced_over_max_payload_is_413)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_test;
	struct eio_wait		 w;
	char			 sid[32], q[256];

	big = malloc(TESTUTIL_MAX_PAYLOAD + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', TESTUTIL_MAX_PAYLOAD + 1);
	big[0] = '4';
	testutil_handshake(sid);
	testutil_sid_query(q, sizeof(q), sid, "EIO=4&");
	testutil_req_init(&f, HTTP_POST, q, big, TESTUTIL_MAX_PAYLOAD + 1);
	f.req.content_length = 10;
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	check_empty(resp, 413);
	check_closed_once(sid, "transport error");
	get_error(sid, 1);
}
END_TEST

START_TEST(test_body_of_exactly_max_payload_is_accepted)
{
	struct http_response	*resp = &r_test;
	char			 sid[32];

	big = malloc(TESTUTIL_MAX_PAYLOAD + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', TESTUTIL_MAX_PAYLOAD);
	big[0] = '4';
	big[TESTUTIL_MAX_PAYLOAD] = '\0';
	testutil_handshake(sid);
	ck_assert_int_eq(testutil_post_typed(sid, big, TESTUTIL_MAX_PAYLOAD,
	    "text/plain", resp), 200);
	testutil_get_text(sid, big);
	ck_assert_uint_eq(ncloses, 0);
}
END_TEST

static const struct {
	const char	*body;
	size_t		 len;
	const char	*reason;
} closing_bodies[] = {
	{ "", 0, "parse error" },
	{ "abc", 3, "parse error" },
	{ "2", 1, "transport error" },
	{ "2probe", 6, "transport error" },
	{ "0", 1, "parse error" },
	{ "4\xff", 2, "parse error" },
	{ "4a" RS RS "4b", 6, "parse error" },
	{ "b!!", 3, "parse error" },
};

START_TEST(test_bad_post_body_closes_session)
{
	struct http_response	*resp = &r_test;
	char			sid[32];

	testutil_handshake(sid);
	testutil_post_typed(sid, closing_bodies[_i].body,
	    closing_bodies[_i].len, "text/plain;charset=UTF-8", resp);
	/* Node answers ok, the official suite accepts a 400 too. */
	ck_assert(resp->status == 200 || resp->status == 400);
	check_closed_once(sid, closing_bodies[_i].reason);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	get_error(sid, 1);
}
END_TEST

/*
 * The same bodies in a batch, nested beside a good POST and a GET of
 * another session: the bad one closes its session, the others are
 * served as if it were not there.
 */
START_TEST(test_bad_post_body_in_a_batch_closes_only_its_session)
{
	struct eio_config	 ecfg = testutil_eio_config();
	struct eio		*e2;
	struct testutil_req	 f[3];
	struct eio_wait		 w[3];
	struct http_response	 resp[3];
	struct eio_resume_item	 it[3];
	char			 sid[2][32];
	size_t			 i;

	ecfg.batch_gets = ecfg.batch_posts = true;
	e2 = eio_new(&ecfg, st);
	eio_add_handler(e2, &app);
	for (i = 0; i < 3; i++)
		http_response_init(&resp[i]);
	testutil_handshake(sid[0]);
	testutil_handshake(sid[1]);
	batch_req(e2, &f[0], &w[0], &resp[0], sid[0], closing_bodies[_i].body,
	    closing_bodies[_i].len);
	batch_req(e2, &f[1], &w[1], &resp[1], sid[1], "4ok", 3);
	batch_req(e2, &f[2], &w[2], &resp[2], sid[1], NULL, 0);
	for (i = 0; i < 3; i++) {
		it[i].req = &f[i].req;
		it[i].w = &w[i];
		it[i].resp = &resp[i];
	}
	eio_resume_batch(e2, it, 3, testutil_now, false);
	ck_assert(resp[0].status == 200 || resp[0].status == 400);
	check_closed_once(sid[0], closing_bodies[_i].reason);
	ck_assert_str_eq(buf_str(&resp[1].body), "ok");
	check_text(&resp[2], "4ok");
	ck_assert_uint_eq(testutil_session_count(st), 1);
	get_error(sid[0], 1);
	for (i = 0; i < 3; i++)
		http_response_clear(&resp[i]);
	eio_free(e2);
}
END_TEST

static const char *ignored_bodies[] = {
	"6",
	"5",
	"6" RS "5",
	"6junk",
};

START_TEST(test_noop_and_upgrade_posts_are_ignored)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	post_ok(sid, ignored_bodies[_i]);
	ck_assert_uint_eq(ncloses, 0);
	get_held(&f, sid, &w);
	ck_assert(w.deadline == TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
}
END_TEST

START_TEST(test_graceful_close_flushes_queue_then_noop_close)
{
	char	sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4last" RS "4close-me" RS "4never");
	check_closed_once(sid, "forced close");
	/* Closing: a POST is accepted and ignored. */
	post_ok(sid, "4ignored");
	testutil_get_text(sid, "4last");
	testutil_get_text(sid, "6" RS "1");
	get_error(sid, 1);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_graceful_close_without_queue_answers_noop_close)
{
	char	sid[32];

	testutil_handshake(sid);
	post_ok(sid, "4close-me");
	testutil_get_text(sid, "6" RS "1");
	get_error(sid, 1);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_graceful_close_with_held_get_answers_close)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	get_held(&f, sid, &w);
	post_ok(sid, "4close-me");
	ck_assert_int_eq(testutil_rings_drain(sid), 1);
	resume_text(&f, &w, false, "1");
	get_error(sid, 1);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_on_close_may_queue_last_packets_when_graceful)
{
	char	sid[32];

	testutil_handshake(sid);
	farewell = true;
	post_ok(sid, "4close-me");
	check_closed_once(sid, "forced close");
	testutil_get_text(sid, "4bye");
	testutil_get_text(sid, "6" RS "1");
	get_error(sid, 1);
}
END_TEST

START_TEST(test_on_close_packets_are_dropped_when_abrupt)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	farewell = true;
	get_held(&f, sid, &w);
	post_ok(sid, "1");
	resume_text(&f, &w, false, "6");
	get_error(sid, 1);
}
END_TEST

START_TEST(test_closing_another_session_closes_it_once)
{
	char	a[32], b[32], msg[64];

	testutil_handshake(a);
	testutil_handshake(b);
	snprintf(msg, sizeof(msg), "4kick:%s", b);
	post_ok(a, msg);
	check_closed_once(b, "kicked");
	testutil_get_text(b, "6" RS "1");
	get_error(b, 1);
	/* The kicker goes on. */
	post_ok(a, "4still");
	testutil_get_text(a, "4still");
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_closing_another_session_keeps_its_last_packets)
{
	char	a[32], b[32], msg[64];

	testutil_handshake(a);
	testutil_handshake(b);
	farewell = true;
	snprintf(msg, sizeof(msg), "4kick:%s", b);
	post_ok(a, msg);
	check_closed_once(b, "kicked");
	testutil_get_text(b, "4bye");
	testutil_get_text(b, "6" RS "1");
	get_error(b, 1);
}
END_TEST

START_TEST(test_sweep_removes_closing_session_after_close_wait)
{
	char	sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + 10;
	post_ok(sid, "4close-me");
	ck_assert_uint_eq(testutil_session_count(st), 1);
	ck_assert_int_eq(eio_sweep(e,
	    TESTUTIL_T0 + 10 + TESTUTIL_CLOSE_WAIT - 1), 0);
	ck_assert_uint_eq(testutil_session_count(st), 1);
	ck_assert_int_eq(eio_sweep(e, TESTUTIL_T0 + 10 + TESTUTIL_CLOSE_WAIT),
	    1);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	testutil_now = TESTUTIL_T0 + 10 + TESTUTIL_CLOSE_WAIT;
	get_error(sid, 1);
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

START_TEST(test_held_get_of_expired_closing_session_gets_close)
{
	struct testutil_req	f;
	struct eio_wait		w;
	char			sid[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + TESTUTIL_PING_INTERVAL;
	testutil_get_text(sid, "2");
	get_held(&f, sid, &w);
	testutil_now =
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT;
	ck_assert_int_eq(eio_sweep(e, testutil_now), 1);
	/* Nobody resumed it in time: the record goes. */
	testutil_now += TESTUTIL_CLOSE_WAIT;
	ck_assert_int_eq(eio_sweep(e, testutil_now), 1);
	ck_assert_uint_eq(testutil_session_count(st), 0);
	ck_assert_int_eq(testutil_rings_drain(sid), 2);
	resume_text(&f, &w, false, "1");
	ck_assert_uint_eq(ncloses, 1);
}
END_TEST

/* Overlapping POSTs: the second arrives while the first is read. */
static char	overlap_sid[32];
static int	overlap_status;

static void
overlap_post(void)
{
	struct http_response	*resp = &r_overlap;

	overlap_status = testutil_post_typed(overlap_sid, "4second", 7,
	    "text/plain", resp);
}

START_TEST(test_second_post_while_first_is_read_is_400_and_closes)
{
	struct testutil_req	f;
	struct http_response	*resp = &r_test;
	struct eio_wait		w;
	char			q[256];

	testutil_handshake(overlap_sid);
	testutil_sid_query(q, sizeof(q), overlap_sid, "EIO=4&");
	testutil_req_init(&f, HTTP_POST, q, "4first", 6);
	f.during_read = overlap_post;
	ck_assert_int_eq(testutil_request(&f, resp, &w), EIO_DONE);
	ck_assert_int_eq(overlap_status, 400);
	ck_assert_int_ne(resp->status, 200);
	check_closed_once(overlap_sid, "transport error");
	get_error(overlap_sid, 1);
}
END_TEST

static Suite *
eio_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("eio");

	tc = tcase_create("handshake");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_answers_open_packet);
	tcase_add_test(tc, test_handshakes_make_different_sids);
	tcase_add_test(tc, test_path_without_handler_is_404);
	tcase_add_test(tc, test_path_without_trailing_slash_is_404);
	tcase_add_test(tc,
	    test_handshake_past_max_sessions_is_503_and_others_go_on);
	tcase_add_test(tc, test_slow_reader_past_max_queue_is_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc,
	    test_error_table_answers_code_in_reference_order, 0,
	    nitems(error_rows));
	tcase_add_test(tc,
	    test_known_sid_with_eio3_is_bad_request_and_keeps_session);
	tcase_add_test(tc,
	    test_put_with_known_sid_is_500_empty_and_keeps_session);
	tcase_add_test(tc, test_put_with_unknown_sid_is_unknown_sid);
	tcase_add_test(tc, test_errors_carry_cors_headers_when_enabled);
	suite_add_tcase(s, tc);

	tc = tcase_create("polling");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_get_with_nothing_queued_waits_until_ping_time);
	tcase_add_test(tc, test_held_get_resumed_before_news_keeps_waiting);
	tcase_add_test(tc, test_post_message_rings_and_resumed_get_gets_echo);
	tcase_add_test(tc, test_held_get_is_rung_once_until_answered);
	tcase_add_test(tc,
	    test_ring_for_pong_does_not_silence_the_next_packet);
	tcase_add_test(tc, test_rung_mark_is_set_by_a_packet_and_reset_by_a_new_hold);
	tcase_add_test(tc, test_queued_packets_go_out_in_one_answer);
	tcase_add_test(tc, test_answered_batch_is_not_sent_twice);
	tcase_add_test(tc, test_lost_answer_goes_out_again);
	tcase_add_test(tc, test_second_get_is_400_and_held_get_gets_close);
	tcase_add_test(tc, test_shutdown_resume_answers_noop_and_keeps_session);
	tcase_add_test(tc, test_superseded_held_get_gets_noop);
	tcase_add_test(tc, test_batch_resume_answers_each_as_alone);
	tcase_add_test(tc, test_batch_resume_closes_late_pong_once);
	tcase_add_test(tc, test_batched_gets_are_served_as_alone);
	tcase_add_test(tc, test_batched_get_at_shutdown_gets_noop);
	tcase_add_test(tc, test_batched_posts_are_served_in_order);
	tcase_add_test(tc, test_batched_post_on_a_full_map_is_served_alone);
	suite_add_tcase(s, tc);

	tc = tcase_create("heartbeat");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_held_get_gets_ping_at_ping_time);
	tcase_add_test(tc, test_get_after_ping_time_gets_ping);
	tcase_add_test(tc, test_ping_is_queued_behind_waiting_packets);
	tcase_add_test(tc, test_get_after_ping_waits_for_pong_deadline);
	tcase_add_test(tc, test_pong_rearms_ping_interval_after_the_pong);
	tcase_add_test(tc,
	    test_pong_rings_held_get_which_waits_for_new_ping_time);
	tcase_add_test(tc, test_pong_without_ping_changes_nothing);
	tcase_add_test(tc, test_sweep_closes_session_whose_pong_is_late);
	tcase_add_test(tc,
	    test_sweep_closes_at_pong_deadline_counted_from_the_ping);
	tcase_add_test(tc,
	    test_late_resume_of_held_get_sends_ping_and_pong_keeps_session);
	tcase_add_test(tc,
	    test_pong_deadline_of_late_ping_counts_from_its_answer);
	tcase_add_test(tc,
	    test_pong_deadline_counts_from_the_resume_holding_the_lock);
	tcase_add_test(tc,
	    test_sweep_spares_and_rings_held_get_late_with_the_ping);
	tcase_add_test(tc,
	    test_post_spares_session_whose_held_get_is_late_with_the_ping);
	tcase_add_test(tc, test_ping_answered_by_held_get_rings_nobody);
	tcase_add_test(tc, test_shutdown_resume_with_ping_due_answers_ping);
	tcase_add_test(tc, test_late_pong_closes_held_get_with_close);
	tcase_add_test(tc, test_held_get_resumed_at_pong_deadline_gets_close);
	tcase_add_test(tc, test_get_after_pong_deadline_is_unknown_sid);
	suite_add_tcase(s, tc);

	tc = tcase_create("post");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_post_with_body_at_hand_is_one_write_transaction);
	tcase_add_test(tc,
	    test_streaming_post_marks_in_flight_then_handles_packets);
	tcase_add_test(tc,
	    test_post_fits_again_right_after_a_get_freed_the_map);
	tcase_add_test(tc, test_octet_stream_post_is_400_and_closes);
	tcase_add_test(tc,
	    test_announced_body_over_max_payload_is_413_and_closes);
	tcase_add_test(tc,
	    test_body_longer_than_announced_over_max_payload_is_413);
	tcase_add_test(tc, test_body_of_exactly_max_payload_is_accepted);
	tcase_add_loop_test(tc, test_bad_post_body_closes_session, 0,
	    nitems(closing_bodies));
	tcase_add_loop_test(tc,
	    test_bad_post_body_in_a_batch_closes_only_its_session, 0,
	    nitems(closing_bodies));
	tcase_add_loop_test(tc, test_noop_and_upgrade_posts_are_ignored, 0,
	    nitems(ignored_bodies));
	tcase_add_test(tc,
	    test_second_post_while_first_is_read_is_400_and_closes);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_close_with_held_get_answers_noop);
	tcase_add_test(tc, test_client_close_without_held_get_closes_at_once);
	tcase_add_test(tc, test_post_after_client_close_is_unknown_sid);
	tcase_add_test(tc, test_graceful_close_flushes_queue_then_noop_close);
	tcase_add_test(tc,
	    test_graceful_close_without_queue_answers_noop_close);
	tcase_add_test(tc, test_graceful_close_with_held_get_answers_close);
	tcase_add_test(tc, test_on_close_may_queue_last_packets_when_graceful);
	tcase_add_test(tc, test_on_close_packets_are_dropped_when_abrupt);
	tcase_add_test(tc, test_closing_another_session_closes_it_once);
	tcase_add_test(tc,
	    test_closing_another_session_keeps_its_last_packets);
	tcase_add_test(tc, test_sweep_removes_closing_session_after_close_wait);
	tcase_add_test(tc, test_held_get_of_expired_closing_session_gets_close);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run_both_ways("check_eio", eio_suite));
}
