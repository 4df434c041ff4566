/*
 * sio-fcgi: unit tests for sio, the Socket.IO v5 server: CONNECT and its
 * refusals, rooms and broadcasts, disconnects, server acks, socket data,
 * connectTimeout, binary reassembly and protocol errors.  A small test
 * application (the namespace table below) runs over the Engine.IO layer,
 * driven by raw Engine.IO requests built in memory, as in check_eio: time
 * is a variable the tests advance, and the store lives in a fresh
 * temporary directory per test.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "buf.h"
#include "eio.h"
#include "http.h"
#include "sio.h"
#include "sio_packet.h"
#include "store.h"
#include "testutil.h"

#define RS		"\x1e"
#define CONNECT_TIMEOUT	1000
#define PATH		"/socket.io"
#define PH(n)		"{\"_placeholder\":true,\"num\":" #n "}"
#define ID_LEN		EIO_ID_LEN

/* The fixture. */
static struct store	*st;
static struct eio	*e;
static struct sio	*sio;

/* Responses owned by the fixture, so a failing test leaks nothing. */
static struct http_response	 r_helper;

/* What the test application saw. */
#define MAX_SEEN	16
static struct {
	char	nsp[SIO_NSP_MAX + 1];
	char	id[ID_LEN + 1];
	char	eio_sid[STORE_SID_MAX + 1];
	char	reason[64];
}			 discs[MAX_SEEN];	/* on_disconnect */
static size_t		 ndiscs;
static struct {
	char	tag[64];
	char	args[256];
}			 acks[MAX_SEEN];	/* on_ack */
static size_t		 nacks;
static char		 members[MAX_SEEN][ID_LEN + 1];	/* the last "count" */
static size_t		 nmembers;
static struct {
	unsigned char	data[64];
	size_t		len;
}			 bins_seen[SIO_MAX_ATTACHMENTS];	/* the last "bin" */
static size_t		 nbins_seen;
static size_t		 nbin_events;
static size_t		 nconnections;

/* The test application. */

/* A new reference to ack results [n]. */
static struct json_object *
int_results(int64_t n)
{
	struct json_object	*a = json_object_new_array();

	json_object_array_add(a, json_object_new_int64(n));
	return (a);
}

/* Ack with [n] when the client asked for an ack. */
static void
ack_int(struct sio_ack *ack, int64_t n)
{
	struct json_object	*r;

	if (ack == NULL)
		return;
	r = int_results(n);
	ck_assert_int_eq(sio_ack(ack, r, NULL), 0);
	json_object_put(r);
}

/* The string argument i of args, or NULL. */
static const char *
arg_str(struct json_object *args, size_t i)
{
	struct json_object	*v;

	if (i >= json_object_array_length(args))
		return (NULL);
	v = json_object_array_get_idx(args, i);
	if (!json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

/* Refuse auth {"deny":true} with "denied" and data {"why":1}. */
static int
app_middleware(void *arg, struct eio_ctx *ctx, struct json_object *auth,
    struct sio_verdict *refusal)
{
	struct json_object	*deny;

	(void)arg;
	(void)ctx;
	if (!json_object_object_get_ex(auth, "deny", &deny) ||
	    !json_object_get_boolean(deny))
		return (0);
	snprintf(refusal->message, sizeof(refusal->message), "denied");
	refusal->error_data = json_object_new_object();
	json_object_object_add(refusal->error_data, "why", json_object_new_int(1));
	return (-1);
}

/* Join the rooms named in auth.rooms. */
static void
app_on_connection(void *arg, struct sio_socket *sock, struct json_object *auth)
{
	struct json_object	*rooms;
	size_t			 i, n;

	(void)arg;
	nconnections++;
	if (!json_object_object_get_ex(auth, "rooms", &rooms) ||
	    !json_object_is_type(rooms, json_type_array))
		return;
	n = json_object_array_length(rooms);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(sio_join(sock, json_object_get_string(
		    json_object_array_get_idx(rooms, i))), 0);
}

static void
app_on_disconnect(void *arg, struct sio_socket *sock, const char *reason)
{
	(void)arg;
	if (ndiscs < MAX_SEEN) {
		snprintf(discs[ndiscs].nsp, sizeof(discs[ndiscs].nsp), "%s",
		    sio_socket_nsp(sock));
		snprintf(discs[ndiscs].id, sizeof(discs[ndiscs].id), "%s",
		    sio_socket_id(sock));
		snprintf(discs[ndiscs].eio_sid, sizeof(discs[ndiscs].eio_sid),
		    "%s", sio_socket_eio_sid(sock));
		snprintf(discs[ndiscs].reason, sizeof(discs[ndiscs].reason),
		    "%s", reason);
	}
	ndiscs++;
}

static void
app_on_ack(void *arg, struct sio_socket *sock, const char *tag,
    struct json_object *args, const struct sio_bins *bins)
{
	struct buf	out;

	(void)arg;
	(void)sock;
	(void)bins;
	if (nacks < MAX_SEEN) {
		buf_init(&out);
		sio_json_encode(args, &out);
		snprintf(acks[nacks].tag, sizeof(acks[nacks].tag), "%s", tag);
		snprintf(acks[nacks].args, sizeof(acks[nacks].args), "%s",
		    buf_str(&out));
		buf_clear(&out);
	}
	nacks++;
}

/* "join" room, "leave" room: ack with the result. */
static void
ev_join(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	(void)arg;
	(void)bins;
	ack_int(ack, sio_join(sock, arg_str(args, 0)));
}

static void
ev_leave(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	(void)arg;
	(void)bins;
	ack_int(ack, sio_leave(sock, arg_str(args, 0)));
}

/* Up to max strings of the array args[i] into v; returns how many. */
static size_t
arg_strings(struct json_object *args, size_t i, const char **v, size_t max)
{
	struct json_object	*a;
	size_t			 j, n;

	if (i >= json_object_array_length(args))
		return (0);
	a = json_object_array_get_idx(args, i);
	if (!json_object_is_type(a, json_type_array))
		return (0);
	n = json_object_array_length(a);
	ck_assert_uint_le(n, max);
	for (j = 0; j < n; j++)
		v[j] = json_object_get_string(json_object_array_get_idx(a, j));
	return (n);
}

/*
 * "to" [rooms], [except rooms], payload: broadcast "news" with payload
 * to the rooms minus the except rooms minus the sender; ack with the
 * number of sockets reached.
 */
static void
ev_to(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	struct sio_target	 t;
	struct json_object	*news;
	const char		*rooms[8], *except[8];
	int			 rc;

	(void)arg;
	(void)bins;
	memset(&t, 0, sizeof(t));
	t.nsp = sio_socket_nsp(sock);
	t.rooms = rooms;
	t.nrooms = arg_strings(args, 0, rooms, 8);
	t.except = except;
	t.nexcept = arg_strings(args, 1, except, 8);
	t.except_socket = sio_socket_id(sock);
	news = json_object_new_array();
	if (json_object_array_length(args) > 2)
		json_object_array_add(news, json_object_get(
		    json_object_array_get_idx(args, 2)));
	rc = sio_broadcast(sio_socket_ctx(sock), &t, "news", news, NULL);
	json_object_put(news);
	ck_assert_int_ge(rc, 0);
	ack_int(ack, rc);
}

/* "all" args...: broadcast "all" with args to every socket of "/". */
static void
ev_all(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	struct sio_target	t = { .nsp = "/" };
	int			rc;

	(void)arg;
	rc = sio_broadcast(sio_socket_ctx(sock), &t, "all", args, bins);
	ck_assert_int_ge(rc, 0);
	ack_int(ack, rc);
}

static int
count_fn(void *arg, const char *id)
{
	size_t	*n = arg;

	if (nmembers < MAX_SEEN)
		snprintf(members[nmembers], sizeof(members[nmembers]), "%s",
		    id);
	nmembers++;
	(*n)++;
	return (0);
}

/* "count" room (null: everyone): record the members, ack the count. */
static void
ev_count(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	size_t	n = 0;

	(void)arg;
	(void)bins;
	nmembers = 0;
	ck_assert_int_eq(sio_room_each(sio_socket_ctx(sock),
	    sio_socket_nsp(sock), arg_str(args, 0), count_fn, &n), 0);
	ack_int(ack, (int64_t)n);
}

/* "set" value: the socket's data; "get": ack with it (null if none). */
static void
ev_set(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	(void)arg;
	(void)bins;
	ck_assert_uint_ge(json_object_array_length(args), 1);
	ack_int(ack, sio_socket_set_data(sock,
	    json_object_array_get_idx(args, 0)));
}

static void
ev_get(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	struct json_object	*r;

	(void)arg;
	(void)args;
	(void)bins;
	r = json_object_new_array();
	json_object_array_add(r, sio_socket_data(sock));
	if (ack != NULL)
		ck_assert_int_eq(sio_ack(ack, r, NULL), 0);
	json_object_put(r);
}

/* "ask" tag: emit "question" asking for an ack tagged tag. */
static void
ev_ask(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	(void)arg;
	(void)bins;
	(void)ack;
	ck_assert_int_eq(sio_emit_ack(sock, "question", NULL, NULL,
	    arg_str(args, 0)), 0);
}

/* "bin" args...: record the attachments, emit "bin" back with them. */
static void
ev_bin(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	size_t	i;

	(void)arg;
	(void)ack;
	nbin_events++;
	nbins_seen = bins != NULL ? bins->n : 0;
	for (i = 0; i < nbins_seen && i < SIO_MAX_ATTACHMENTS; i++) {
		ck_assert_uint_le(bins->v[i].len, sizeof(bins_seen[i].data));
		memcpy(bins_seen[i].data, bins->v[i].data, bins->v[i].len);
		bins_seen[i].len = bins->v[i].len;
	}
	ck_assert_int_eq(sio_emit(sock, "bin", args, bins), 0);
}

/* "kick": server namespace disconnect; "bye": close the session too. */
static void
ev_kick(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	(void)arg;
	(void)args;
	(void)bins;
	(void)ack;
	ck_assert_int_eq(sio_disconnect(sock, false), 0);
}

static void
ev_bye(void *arg, struct sio_socket *sock, struct json_object *args,
    const struct sio_bins *bins, struct sio_ack *ack)
{
	(void)arg;
	(void)args;
	(void)bins;
	(void)ack;
	ck_assert_int_eq(sio_disconnect(sock, true), 0);
}

static const struct sio_event app_events[] = {
	{ "join", ev_join },
	{ "leave", ev_leave },
	{ "to", ev_to },
	{ "all", ev_all },
	{ "count", ev_count },
	{ "set", ev_set },
	{ "get", ev_get },
	{ "ask", ev_ask },
	{ "bin", ev_bin },
	{ "kick", ev_kick },
	{ "bye", ev_bye },
	{ NULL, NULL },
};

/*
 * "/" is the application; "/other" has nothing but the rooms of auth
 * (to show that rooms are per namespace) and the disconnect record.
 */
static const struct sio_namespace app_namespaces[] = {
	{
		.name = "/",
		.middleware = app_middleware,
		.on_connection = app_on_connection,
		.events = app_events,
		.on_ack = app_on_ack,
		.on_disconnect = app_on_disconnect,
	},
	{
		.name = "/other",
		.on_connection = app_on_connection,
		.on_disconnect = app_on_disconnect,
	},
	{ .name = NULL },
};

/* Fixture. */

static void
setup(void)
{
	struct eio_config	ecfg = testutil_eio_config();
	struct sio_config	cfg;

	st = testutil_store_setup();
	e = testutil_eio_new(&ecfg, st, PATH);
	memset(&cfg, 0, sizeof(cfg));
	cfg.connect_timeout = CONNECT_TIMEOUT;
	sio = sio_new(&cfg, PATH, app_namespaces);
	eio_add_handler(e, sio_eio_handler(sio));
	testutil_now = TESTUTIL_T0;
	memset(discs, 0, sizeof(discs));
	ndiscs = 0;
	memset(acks, 0, sizeof(acks));
	nacks = 0;
	memset(members, 0, sizeof(members));
	nmembers = 0;
	memset(bins_seen, 0, sizeof(bins_seen));
	nbins_seen = 0;
	nbin_events = 0;
	nconnections = 0;
	http_response_init(&r_helper);
}

static void
teardown(void)
{
	http_response_clear(&r_helper);
	testutil_eio_free(e);
	e = NULL;
	sio_free(sio);
	sio = NULL;
	testutil_store_teardown(st);
	st = NULL;
}

/* Engine.IO helpers.  Every request is served at testutil_now. */

/*
 * A GET that finds nothing queued: it must be held.  It is then let go
 * (answered with a noop, as at shutdown), so the session takes GETs on.
 */
static void
get_nothing(const char *sid)
{
	struct testutil_req	 f;
	struct http_response	*resp = &r_helper;
	struct eio_wait		 w;

	ck_assert_int_eq(testutil_get(&f, sid, resp, &w), EIO_WAIT);
	ck_assert_int_eq(eio_resume(e, &f.req, &w, testutil_now, true, resp),
	    EIO_DONE);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(buf_str(&resp->body), "6");
}

/* A GET for a session that is gone: "Session ID unknown". */
static void
get_unknown(const char *sid)
{
	struct http_response	*resp = &r_helper;

	testutil_get_done(sid, resp);
	ck_assert_int_eq(resp->status, 400);
	ck_assert_str_eq(buf_str(&resp->body),
	    "{\"code\":1,\"message\":\"Session ID unknown\"}");
}

/* The session was closed gracefully with nothing left queued. */
static void
check_closed(const char *sid)
{
	testutil_get_text(sid, "6" RS "1");
	get_unknown(sid);
}

/* Answer the ping due at time t: GET "2", POST "3". */
static void
pong_at(const char *sid, int64_t t)
{
	testutil_now = t;
	testutil_get_text(sid, "2");
	testutil_post_ok(sid, "3");
}

/* Socket.IO helpers. */

/*
 * CONNECT session sid to nsp with auth ("" for none); the reply must be
 * 40[nsp,]{"sid":"<id>"}, and the socket id goes to id.
 */
static void
join_nsp(const char *sid, const char *nsp, const char *auth, char *id)
{
	char		 body[512], prefix[256];
	const char	*got;
	bool		 root = strcmp(nsp, "/") == 0;

	snprintf(body, sizeof(body), "40%s%s%s", root ? "" : nsp,
	    root ? "" : ",", auth);
	testutil_post_ok(sid, body);
	snprintf(prefix, sizeof(prefix), "40%s%s{\"sid\":\"", root ? "" : nsp,
	    root ? "" : ",");
	got = testutil_get_now(sid);
	ck_assert_msg(strncmp(got, prefix, strlen(prefix)) == 0,
	    "CONNECT reply \"%s\", wanted the prefix \"%s\"", got, prefix);
	got += strlen(prefix);
	ck_assert_uint_eq(strlen(got), ID_LEN + 2);
	ck_assert_str_eq(got + ID_LEN, "\"}");
	memcpy(id, got, ID_LEN);
	id[ID_LEN] = '\0';
}

/* A new session that joined "/" with auth: its sid and socket id. */
static void
client(char *sid, char *id, const char *auth)
{
	testutil_handshake(sid);
	join_nsp(sid, "/", auth, id);
}

/* Fail unless on_disconnect ran once, for id, with reason. */
static void
check_disconnected_once(const char *id, const char *reason)
{
	ck_assert_uint_eq(ndiscs, 1);
	ck_assert_str_eq(discs[0].id, id);
	ck_assert_str_eq(discs[0].reason, reason);
}

/* Connecting. */

START_TEST(test_connect_reply_has_new_socket_id)
{
	char	sid[32], id[32];
	size_t	i;

	testutil_handshake(sid);
	join_nsp(sid, "/", "", id);
	ck_assert_str_ne(id, sid);
	for (i = 0; i < ID_LEN; i++) {
		char c = id[i];
		ck_assert((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_');
	}
	ck_assert_uint_eq(nconnections, 1);
	ck_assert_uint_eq(ndiscs, 0);
}
END_TEST

START_TEST(test_connect_to_other_namespace_reply_names_it)
{
	char	sid[32], a[32], b[32];

	testutil_handshake(sid);
	join_nsp(sid, "/other", "", b);
	join_nsp(sid, "/", "", a);
	ck_assert_str_ne(a, b);
	ck_assert_str_ne(b, sid);
}
END_TEST

START_TEST(test_connect_without_comma_is_accepted)
{
	char		 sid[32];
	const char	*got;

	testutil_handshake(sid);
	testutil_post_ok(sid, "40/other");
	got = testutil_get_now(sid);
	ck_assert_msg(strncmp(got, "40/other,{\"sid\":\"", 17) == 0,
	    "got \"%s\"", got);
}
END_TEST

START_TEST(test_connect_to_unknown_namespace_is_refused_and_session_stays)
{
	char	sid[32], id[32];

	testutil_handshake(sid);
	testutil_post_ok(sid, "40/x,");
	testutil_get_text(sid, "44/x,{\"message\":\"Invalid namespace\"}");
	ck_assert_uint_eq(testutil_session_count(st), 1);
	join_nsp(sid, "/", "", id);
	ck_assert_uint_eq(nconnections, 1);
}
END_TEST

START_TEST(test_middleware_refusal_sends_message_and_data)
{
	char	sid[32], id[32];

	testutil_handshake(sid);
	testutil_post_ok(sid, "40{\"deny\":true}");
	testutil_get_text(sid,
	    "44{\"message\":\"denied\",\"data\":{\"why\":1}}");
	ck_assert_uint_eq(nconnections, 0);
	/* The session stays, and a CONNECT that passes works. */
	ck_assert_uint_eq(testutil_session_count(st), 1);
	join_nsp(sid, "/", "{\"deny\":false}", id);
	ck_assert_uint_eq(nconnections, 1);
}
END_TEST

START_TEST(test_middleware_refused_socket_is_not_joined)
{
	char	sid[32];

	testutil_handshake(sid);
	testutil_post_ok(sid, "40{\"deny\":true}");
	testutil_get_text(sid,
	    "44{\"message\":\"denied\",\"data\":{\"why\":1}}");
	testutil_post_ok(sid, "42[\"all\"]");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 0);
}
END_TEST

/* Rooms and broadcasts. */

/*
 * Four sessions on "/": a in room "r1", b in "r1" and "r2", c in "r2",
 * d in none; and o, on "/other" only, in "r1" and "r2" of "/other".
 */
static char	sa[32], sb[32], sc[32], sd[32], so[32];
static char	ia[32], ib[32], ic[32], id_[32], io[32];

static void
four_clients(void)
{
	client(sa, ia, "{\"rooms\":[\"r1\"]}");
	client(sb, ib, "{\"rooms\":[\"r1\",\"r2\"]}");
	client(sc, ic, "{\"rooms\":[\"r2\"]}");
	client(sd, id_, "");
	testutil_handshake(so);
	join_nsp(so, "/other", "{\"rooms\":[\"r1\",\"r2\"]}", io);
}

START_TEST(test_broadcast_to_one_room_reaches_its_members_only)
{
	four_clients();
	testutil_post_ok(sd, "421[\"to\",[\"r2\"],[],\"x\"]");
	testutil_get_text(sd, "431[2]");
	get_nothing(sa);
	testutil_get_text(sb, "42[\"news\",\"x\"]");
	testutil_get_text(sc, "42[\"news\",\"x\"]");
	get_nothing(so);
}
END_TEST

START_TEST(test_broadcast_to_two_rooms_reaches_a_member_of_both_once)
{
	four_clients();
	testutil_post_ok(sd, "421[\"to\",[\"r1\",\"r2\"],[],\"x\"]");
	testutil_get_text(sd, "431[3]");
	testutil_get_text(sa, "42[\"news\",\"x\"]");
	testutil_get_text(sb, "42[\"news\",\"x\"]");
	get_nothing(sb);
	testutil_get_text(sc, "42[\"news\",\"x\"]");
	get_nothing(so);
}
END_TEST

START_TEST(test_broadcast_skips_sockets_in_except_rooms)
{
	four_clients();
	testutil_post_ok(sd, "421[\"to\",[\"r1\",\"r2\"],[\"r2\"],\"x\"]");
	testutil_get_text(sd, "431[1]");
	testutil_get_text(sa, "42[\"news\",\"x\"]");
	get_nothing(sb);
	get_nothing(sc);
}
END_TEST

START_TEST(test_broadcast_to_everyone_skips_except_rooms)
{
	four_clients();
	testutil_post_ok(sd, "421[\"to\",[],[\"r2\"],\"x\"]");
	testutil_get_text(sd, "431[1]");
	testutil_get_text(sa, "42[\"news\",\"x\"]");
	get_nothing(sb);
	get_nothing(sc);
}
END_TEST

START_TEST(test_broadcast_skips_the_sender)
{
	four_clients();
	testutil_post_ok(sb, "421[\"to\",[\"r1\"],[],\"x\"]");
	testutil_get_text(sb, "431[1]");
	testutil_get_text(sa, "42[\"news\",\"x\"]");
	get_nothing(sc);
}
END_TEST

START_TEST(test_broadcast_to_no_room_reaches_everyone_but_the_sender)
{
	four_clients();
	testutil_post_ok(sd, "421[\"to\",[],[],\"x\"]");
	testutil_get_text(sd, "431[3]");
	testutil_get_text(sa, "42[\"news\",\"x\"]");
	testutil_get_text(sb, "42[\"news\",\"x\"]");
	testutil_get_text(sc, "42[\"news\",\"x\"]");
	get_nothing(so);
}
END_TEST

START_TEST(test_broadcast_to_all_reaches_every_socket_of_the_namespace)
{
	four_clients();
	testutil_post_ok(sa, "42[\"all\",1,{\"k\":\"v\"}]");
	testutil_get_text(sa, "42[\"all\",1,{\"k\":\"v\"}]");
	testutil_get_text(sb, "42[\"all\",1,{\"k\":\"v\"}]");
	testutil_get_text(sc, "42[\"all\",1,{\"k\":\"v\"}]");
	testutil_get_text(sd, "42[\"all\",1,{\"k\":\"v\"}]");
	get_nothing(so);
}
END_TEST

START_TEST(test_broadcast_to_a_socket_id_room_reaches_that_socket)
{
	char	body[128];

	four_clients();
	snprintf(body, sizeof(body), "421[\"to\",[\"%s\"],[],\"x\"]", ic);
	testutil_post_ok(sa, body);
	testutil_get_text(sa, "431[1]");
	testutil_get_text(sc, "42[\"news\",\"x\"]");
	get_nothing(sb);
}
END_TEST

START_TEST(test_rooms_are_per_namespace)
{
	char	id2[32];

	four_clients();
	/* o's session joins "/" too, in no room there. */
	join_nsp(so, "/", "", id2);
	testutil_post_ok(sd, "421[\"count\",\"r1\"]");
	testutil_get_text(sd, "431[2]");
	testutil_post_ok(sd, "421[\"to\",[\"r1\"],[],\"x\"]");
	testutil_get_text(sd, "431[2]");
	get_nothing(so);
	testutil_get_text(sa, "42[\"news\",\"x\"]");
	testutil_get_text(sb, "42[\"news\",\"x\"]");
}
END_TEST

START_TEST(test_broadcast_reaches_two_namespace_session_once)
{
	char	id2[32];

	four_clients();
	join_nsp(so, "/", "", id2);
	testutil_post_ok(sa, "42[\"all\",\"y\"]");
	testutil_get_text(so, "42[\"all\",\"y\"]");
	get_nothing(so);
}
END_TEST

START_TEST(test_count_lists_room_members_in_id_order)
{
	const char	*lo, *hi;

	four_clients();
	testutil_post_ok(sa, "421[\"count\",\"r2\"]");
	testutil_get_text(sa, "431[2]");
	ck_assert_uint_eq(nmembers, 2);
	lo = strcmp(ib, ic) < 0 ? ib : ic;
	hi = strcmp(ib, ic) < 0 ? ic : ib;
	ck_assert_str_eq(members[0], lo);
	ck_assert_str_eq(members[1], hi);
	testutil_post_ok(sa, "422[\"count\",null]");
	testutil_get_text(sa, "432[4]");
}
END_TEST

START_TEST(test_join_then_broadcast_reaches_the_new_member)
{
	four_clients();
	testutil_post_ok(sd, "421[\"join\",\"r9\"]");
	testutil_get_text(sd, "431[0]");
	testutil_post_ok(sa, "42[\"to\",[\"r9\"],[],\"x\"]");
	testutil_get_text(sd, "42[\"news\",\"x\"]");
}
END_TEST

START_TEST(test_leave_stops_delivery)
{
	four_clients();
	testutil_post_ok(sb, "421[\"leave\",\"r2\"]");
	testutil_get_text(sb, "431[0]");
	testutil_post_ok(sd, "421[\"to\",[\"r2\"],[],\"x\"]");
	testutil_get_text(sd, "431[1]");
	get_nothing(sb);
	testutil_get_text(sc, "42[\"news\",\"x\"]");
	/* Still in r1. */
	testutil_post_ok(sd, "42[\"to\",[\"r1\"],[],\"y\"]");
	testutil_get_text(sb, "42[\"news\",\"y\"]");
}
END_TEST

START_TEST(test_join_of_empty_room_name_is_einval)
{
	char	sid[32], id[32], body[64];

	client(sid, id, "");
	testutil_post_ok(sid, "421[\"join\",\"\"]");
	snprintf(body, sizeof(body), "431[%d]", -EINVAL);
	testutil_get_text(sid, body);
}
END_TEST

/* Disconnect. */

START_TEST(test_client_disconnect_leaves_every_room)
{
	char	id2[32];
	size_t	i;

	four_clients();
	testutil_post_ok(sb, "41");
	check_disconnected_once(ib, "client namespace disconnect");
	ck_assert_str_eq(discs[0].nsp, "/");
	ck_assert_str_eq(discs[0].eio_sid, sb);
	/* No reply, the session stays. */
	get_nothing(sb);
	ck_assert_uint_eq(testutil_session_count(st), 5);

	testutil_post_ok(sd, "421[\"to\",[\"r1\",\"r2\"],[],\"x\"]");
	testutil_get_text(sd, "431[2]");
	testutil_post_ok(sd, "42[\"all\"]");
	get_nothing(sb);
	testutil_post_ok(sd, "422[\"count\",null]");
	testutil_get_text(sd, "42[\"all\"]" RS "432[3]");
	for (i = 0; i < nmembers && i < MAX_SEEN; i++)
		ck_assert_str_ne(members[i], ib);
	testutil_post_ok(sd, "423[\"count\",\"r2\"]");
	testutil_get_text(sd, "433[1]");
	ck_assert_str_eq(members[0], ic);
	testutil_post_ok(sd, "424[\"count\",\"r1\"]");
	testutil_get_text(sd, "434[1]");
	ck_assert_str_eq(members[0], ia);

	/* The session may join again, as a new socket. */
	join_nsp(sb, "/", "", id2);
	ck_assert_str_ne(id2, ib);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

START_TEST(test_server_disconnect_sends_disconnect_and_session_stays)
{
	char	sid[32], id[32], sid2[32], id2[32];

	client(sid, id, "{\"rooms\":[\"r1\"]}");
	client(sid2, id2, "{\"rooms\":[\"r1\"]}");
	testutil_post_ok(sid, "42[\"kick\"]");
	testutil_get_text(sid, "41");
	check_disconnected_once(id, "server namespace disconnect");
	get_nothing(sid);
	ck_assert_uint_eq(testutil_session_count(st), 2);
	testutil_post_ok(sid2, "421[\"count\",\"r1\"]");
	testutil_get_text(sid2, "431[1]");
	ck_assert_str_eq(members[0], id2);
}
END_TEST

START_TEST(test_server_close_disconnects_every_namespace_then_closes)
{
	char		 sid[32], a[32], b[32];
	const char	*got;

	testutil_handshake(sid);
	join_nsp(sid, "/", "", a);
	join_nsp(sid, "/other", "", b);
	testutil_post_ok(sid, "42[\"bye\"]");
	got = testutil_get_now(sid);
	ck_assert_msg(strcmp(got, "41" RS "41/other,") == 0 ||
	    strcmp(got, "41/other," RS "41") == 0, "got \"%s\"", got);
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 2);
	ck_assert_str_eq(discs[0].reason, "server namespace disconnect");
	ck_assert_str_eq(discs[1].reason, "server namespace disconnect");
	ck_assert_str_ne(discs[0].id, discs[1].id);
}
END_TEST

START_TEST(test_event_after_client_disconnect_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "41");
	testutil_post_ok(sid, "42[\"all\"]");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

START_TEST(test_engine_io_close_disconnects_each_namespace_once)
{
	char	sid[32], a[32], b[32];
	size_t	i;

	testutil_handshake(sid);
	join_nsp(sid, "/", "{\"rooms\":[\"r1\"]}", a);
	join_nsp(sid, "/other", "", b);
	testutil_post_ok(sid, "1");
	ck_assert_uint_eq(ndiscs, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_str_eq(discs[i].reason, "transport close");
		ck_assert_str_eq(discs[i].eio_sid, sid);
	}
	ck_assert((strcmp(discs[0].id, a) == 0 && strcmp(discs[1].id, b) == 0)
	    || (strcmp(discs[0].id, b) == 0 && strcmp(discs[1].id, a) == 0));
	ck_assert_str_ne(discs[0].nsp, discs[1].nsp);
	get_unknown(sid);
	ck_assert_uint_eq(ndiscs, 2);
}
END_TEST

START_TEST(test_engine_io_close_removes_sockets_from_rooms)
{
	char	sid[32], id[32], sid2[32], id2[32];

	client(sid, id, "{\"rooms\":[\"r1\"]}");
	client(sid2, id2, "{\"rooms\":[\"r1\"]}");
	testutil_post_ok(sid, "1");
	testutil_post_ok(sid2, "421[\"count\",\"r1\"]");
	testutil_get_text(sid2, "431[1]");
	ck_assert_str_eq(members[0], id2);
	testutil_post_ok(sid2, "422[\"count\",null]");
	testutil_get_text(sid2, "432[1]");
}
END_TEST

START_TEST(test_ping_timeout_disconnects_with_its_reason)
{
	char	sid[32], id[32];

	client(sid, id, "");
	ck_assert_int_eq(eio_sweep(e,
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT - 1),
	    0);
	ck_assert_uint_eq(ndiscs, 0);
	ck_assert_int_eq(eio_sweep(e,
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT), 1);
	check_disconnected_once(id, "ping timeout");
	testutil_now =
	    TESTUTIL_T0 + TESTUTIL_PING_INTERVAL + TESTUTIL_PING_TIMEOUT;
	get_unknown(sid);
	ck_assert_int_eq(eio_sweep(e, testutil_now + 100000), 0);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

/* Server acks. */

START_TEST(test_server_ack_request_runs_on_ack_with_tag)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42[\"ask\",\"t1\"]");
	testutil_get_text(sid, "420[\"question\"]");
	ck_assert_uint_eq(nacks, 0);
	testutil_post_ok(sid, "430[\"yes\",{\"n\":2}]");
	ck_assert_uint_eq(nacks, 1);
	ck_assert_str_eq(acks[0].tag, "t1");
	ck_assert_str_eq(acks[0].args, "[\"yes\",{\"n\":2}]");
}
END_TEST

START_TEST(test_server_ack_ids_increase)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42[\"ask\",\"t1\"]" RS "42[\"ask\",\"t2\"]");
	testutil_get_text(sid, "420[\"question\"]" RS "421[\"question\"]");
	testutil_post_ok(sid, "42[\"ask\",\"t3\"]");
	testutil_get_text(sid, "422[\"question\"]");
	/* Answered in any order, each runs with its own tag. */
	testutil_post_ok(sid, "432[]" RS "430[1]" RS "431[]");
	ck_assert_uint_eq(nacks, 3);
	ck_assert_str_eq(acks[0].tag, "t3");
	ck_assert_str_eq(acks[0].args, "[]");
	ck_assert_str_eq(acks[1].tag, "t1");
	ck_assert_str_eq(acks[1].args, "[1]");
	ck_assert_str_eq(acks[2].tag, "t2");
}
END_TEST

START_TEST(test_unknown_ack_id_is_dropped_and_session_stays)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "4399[\"x\"]");
	ck_assert_uint_eq(nacks, 0);
	testutil_post_ok(sid, "42[\"all\",\"still\"]");
	testutil_get_text(sid, "42[\"all\",\"still\"]");
	ck_assert_uint_eq(ndiscs, 0);
}
END_TEST

START_TEST(test_ack_answered_twice_runs_on_ack_once)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42[\"ask\",\"t1\"]");
	testutil_get_text(sid, "420[\"question\"]");
	testutil_post_ok(sid, "430[]" RS "430[]");
	ck_assert_uint_eq(nacks, 1);
	testutil_post_ok(sid, "42[\"all\"]");
	testutil_get_text(sid, "42[\"all\"]");
}
END_TEST

START_TEST(test_ack_from_another_socket_is_dropped)
{
	char	sid[32], id[32], sid2[32], id2[32];

	client(sid, id, "");
	client(sid2, id2, "");
	testutil_post_ok(sid, "42[\"ask\",\"t1\"]");
	testutil_get_text(sid, "420[\"question\"]");
	/* The id is the first socket's; the second has asked nothing. */
	testutil_post_ok(sid2, "430[]");
	ck_assert_uint_eq(nacks, 0);
	testutil_post_ok(sid, "430[]");
	ck_assert_uint_eq(nacks, 1);
}
END_TEST

START_TEST(test_client_ack_request_is_answered_with_same_id)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42007[\"join\",\"r\"]");
	testutil_get_text(sid, "437[0]");
}
END_TEST

/* Socket data. */

START_TEST(test_socket_data_round_trips_across_requests)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "421[\"get\"]");
	testutil_get_text(sid, "431[null]");
	testutil_post_ok(sid, "422[\"set\",{\"name\":\"ann\",\"n\":[1,2]}]");
	testutil_get_text(sid, "432[0]");
	testutil_post_ok(sid, "423[\"get\"]");
	testutil_get_text(sid, "433[{\"name\":\"ann\",\"n\":[1,2]}]");
	testutil_post_ok(sid, "424[\"set\",\"two\"]");
	testutil_post_ok(sid, "425[\"get\"]");
	testutil_get_text(sid, "434[0]" RS "435[\"two\"]");
}
END_TEST

START_TEST(test_socket_data_is_per_socket)
{
	char	sid[32], id[32], sid2[32], id2[32];

	client(sid, id, "");
	client(sid2, id2, "");
	testutil_post_ok(sid, "42[\"set\",1]");
	testutil_post_ok(sid2, "421[\"get\"]");
	testutil_get_text(sid2, "431[null]");
	testutil_post_ok(sid, "421[\"get\"]");
	testutil_get_text(sid, "431[1]");
}
END_TEST

/*
 * The data a thread parsed last is kept by its bytes (sio.c): a change in
 * the same POST, and two sockets taking turns, must each be seen.
 */
START_TEST(test_socket_data_changes_seen_within_one_post)
{
	char	sid[32], id[32], sid2[32], id2[32];

	client(sid, id, "");
	client(sid2, id2, "");
	testutil_post_ok(sid, "421[\"set\",{\"a\":1}]" RS "422[\"get\"]" RS
	    "423[\"set\",{\"a\":2}]" RS "424[\"get\"]" RS
	    "425[\"set\",{\"a\":1}]" RS "426[\"get\"]" RS "427[\"get\"]");
	testutil_get_text(sid, "431[0]" RS "432[{\"a\":1}]" RS "433[0]" RS
	    "434[{\"a\":2}]" RS "435[0]" RS "436[{\"a\":1}]" RS
	    "437[{\"a\":1}]");
	testutil_post_ok(sid2, "421[\"set\",{\"b\":2}]" RS "422[\"get\"]");
	testutil_get_text(sid2, "431[0]" RS "432[{\"b\":2}]");
	testutil_post_ok(sid, "428[\"get\"]");
	testutil_post_ok(sid2, "423[\"get\"]");
	testutil_post_ok(sid, "429[\"set\",null]" RS "4210[\"get\"]");
	testutil_get_text(sid, "438[{\"a\":1}]" RS "439[0]" RS "4310[null]");
	testutil_get_text(sid2, "433[{\"b\":2}]");
}
END_TEST

START_TEST(test_socket_data_survives_server_ack_bookkeeping)
{
	char	sid[32], id[32];

	/* sio_emit_ack rewrites the socket record: the data must stay. */
	client(sid, id, "");
	testutil_post_ok(sid, "42[\"set\",{\"k\":true}]");
	testutil_post_ok(sid, "42[\"ask\",\"t\"]");
	testutil_get_text(sid, "420[\"question\"]");
	testutil_post_ok(sid, "421[\"get\"]");
	testutil_get_text(sid, "431[{\"k\":true}]");
}
END_TEST

/* connectTimeout. */

/* Keep sid's heartbeat going to TESTUTIL_T0 + 900 (next pong due at 1400). */
static void
keep_alive(const char *sid)
{
	pong_at(sid, TESTUTIL_T0 + TESTUTIL_PING_INTERVAL);
	pong_at(sid, TESTUTIL_T0 + 2 * TESTUTIL_PING_INTERVAL);
	pong_at(sid, TESTUTIL_T0 + 3 * TESTUTIL_PING_INTERVAL);
}

START_TEST(test_connect_timeout_closes_unjoined_session_gracefully)
{
	char	sid[32];

	testutil_handshake(sid);
	keep_alive(sid);
	ck_assert_int_eq(eio_sweep(e, TESTUTIL_T0 + CONNECT_TIMEOUT - 1), 0);
	ck_assert_uint_eq(testutil_session_count(st), 1);
	testutil_now = TESTUTIL_T0 + CONNECT_TIMEOUT - 1;
	get_nothing(sid);
	ck_assert_int_eq(eio_sweep(e, TESTUTIL_T0 + CONNECT_TIMEOUT), 1);
	testutil_now = TESTUTIL_T0 + CONNECT_TIMEOUT;
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 0);
}
END_TEST

START_TEST(test_connect_timeout_spares_session_that_joined)
{
	char	sid[32], id[32];

	testutil_handshake(sid);
	testutil_now = TESTUTIL_T0 + 100;
	join_nsp(sid, "/", "", id);
	keep_alive(sid);
	ck_assert_int_eq(eio_sweep(e, TESTUTIL_T0 + CONNECT_TIMEOUT), 0);
	testutil_now = TESTUTIL_T0 + CONNECT_TIMEOUT;
	testutil_post_ok(sid, "42[\"all\"]");
	testutil_get_text(sid, "42[\"all\"]");
	ck_assert_uint_eq(ndiscs, 0);
}
END_TEST

START_TEST(test_connect_timeout_spares_session_that_joined_then_left)
{
	char	sid[32], id[32];

	testutil_handshake(sid);
	join_nsp(sid, "/", "", id);
	testutil_post_ok(sid, "41");
	keep_alive(sid);
	ck_assert_int_eq(eio_sweep(e, TESTUTIL_T0 + CONNECT_TIMEOUT), 0);
	ck_assert_uint_eq(testutil_session_count(st), 1);
	testutil_now = TESTUTIL_T0 + CONNECT_TIMEOUT;
	get_nothing(sid);
}
END_TEST

START_TEST(test_connect_timeout_not_cancelled_by_refused_connect)
{
	char	sid[32];

	testutil_handshake(sid);
	testutil_post_ok(sid, "40/x,");
	testutil_get_text(sid, "44/x,{\"message\":\"Invalid namespace\"}");
	keep_alive(sid);
	ck_assert_int_eq(eio_sweep(e, TESTUTIL_T0 + CONNECT_TIMEOUT), 1);
	testutil_now = TESTUTIL_T0 + CONNECT_TIMEOUT;
	check_closed(sid);
}
END_TEST

/* Binary reassembly. */

START_TEST(test_binary_event_attachment_in_later_post)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "451-[\"bin\"," PH(0) ",\"t\"]");
	ck_assert_uint_eq(nbin_events, 0);
	get_nothing(sid);
	testutil_post_ok(sid, "bAP8Q");
	ck_assert_uint_eq(nbin_events, 1);
	ck_assert_uint_eq(nbins_seen, 1);
	ck_assert_uint_eq(bins_seen[0].len, 3);
	ck_assert(memcmp(bins_seen[0].data, "\x00\xff\x10", 3) == 0);
	testutil_get_text(sid, "451-[\"bin\"," PH(0) ",\"t\"]" RS "bAP8Q");
}
END_TEST

START_TEST(test_binary_event_attachments_in_separate_posts_keep_order)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "452-[\"bin\",{\"a\":[" PH(1) "]}," PH(0) "]");
	testutil_post_ok(sid, "bAQID");
	ck_assert_uint_eq(nbin_events, 0);
	testutil_post_ok(sid, "bAP8Q");
	ck_assert_uint_eq(nbin_events, 1);
	ck_assert_uint_eq(nbins_seen, 2);
	ck_assert_uint_eq(bins_seen[0].len, 3);
	ck_assert(memcmp(bins_seen[0].data, "\x01\x02\x03", 3) == 0);
	ck_assert_uint_eq(bins_seen[1].len, 3);
	ck_assert(memcmp(bins_seen[1].data, "\x00\xff\x10", 3) == 0);
	/* Sent back renumbered depth-first, as the reference encoder does. */
	testutil_get_text(sid, "452-[\"bin\",{\"a\":[" PH(0) "]}," PH(1) "]"
	    RS "bAP8Q" RS "bAQID");
}
END_TEST

START_TEST(test_binary_event_in_one_post_and_empty_attachment)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "451-[\"bin\"," PH(0) "]" RS "b");
	ck_assert_uint_eq(nbin_events, 1);
	ck_assert_uint_eq(nbins_seen, 1);
	ck_assert_uint_eq(bins_seen[0].len, 0);
	testutil_get_text(sid, "451-[\"bin\"," PH(0) "]" RS "b");
}
END_TEST

/*
 * sio.c keeps the socket of (session, namespace) and "no binary packet
 * awaited" from one packet to the next while their tables are unchanged
 * (store_kv_stamp): a binary packet's header, then its attachment, then
 * leaving the namespace, then an event for it, all in one POST, must each
 * see what the packets before them wrote.
 */
START_TEST(test_lookups_follow_changes_within_one_post)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42[\"get\"]" RS "451-[\"bin\"," PH(0) "]" RS
	    "bAQID" RS "42[\"get\"]" RS "41" RS "42[\"get\"]");
	ck_assert_uint_eq(nbin_events, 1);
	ck_assert_uint_eq(nbins_seen, 1);
	ck_assert_uint_eq(bins_seen[0].len, 3);
	check_disconnected_once(id, "client namespace disconnect");
	/*
	 * The last event was for a namespace left: a protocol error, which
	 * closes the session once its queue has gone out.
	 */
	testutil_get_text(sid, "451-[\"bin\"," PH(0) "]" RS "bAQID");
	check_closed(sid);
}
END_TEST

START_TEST(test_binary_broadcast_sends_attachments_to_each)
{
	char	sid[32], id[32], sid2[32], id2[32];

	client(sid, id, "");
	client(sid2, id2, "");
	testutil_post_ok(sid, "451-[\"all\"," PH(0) "]" RS "bAQID");
	testutil_get_text(sid, "451-[\"all\"," PH(0) "]" RS "bAQID");
	testutil_get_text(sid2, "451-[\"all\"," PH(0) "]" RS "bAQID");
}
END_TEST

START_TEST(test_binary_ack_runs_on_ack_with_placeholders)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42[\"ask\",\"tb\"]");
	testutil_get_text(sid, "420[\"question\"]");
	testutil_post_ok(sid, "461-0[" PH(0) "]");
	ck_assert_uint_eq(nacks, 0);
	testutil_post_ok(sid, "bAQID");
	ck_assert_uint_eq(nacks, 1);
	ck_assert_str_eq(acks[0].tag, "tb");
	ck_assert_str_eq(acks[0].args, "[" PH(0) "]");
}
END_TEST

START_TEST(test_text_while_attachments_awaited_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "452-[\"bin\"," PH(0) "," PH(1) "]" RS "bAQID");
	testutil_post_ok(sid, "42[\"all\"]");
	ck_assert_uint_eq(nbin_events, 0);
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

START_TEST(test_binary_without_pending_packet_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "bAQID");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

START_TEST(test_extra_attachment_after_reassembly_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "451-[\"bin\"," PH(0) "]" RS "bAQID" RS "bAQID");
	ck_assert_uint_eq(nbin_events, 1);
	testutil_get_text(sid, "451-[\"bin\"," PH(0) "]" RS "bAQID");
	check_closed(sid);
}
END_TEST

/* Protocol errors close the Engine.IO session gracefully. */

START_TEST(test_connect_twice_closes_session)
{
	char		 sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "40");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
	ck_assert_str_eq(discs[0].id, id);
}
END_TEST

START_TEST(test_connect_twice_in_one_post_closes_after_first_reply)
{
	char		 sid[32];
	const char	*got;

	testutil_handshake(sid);
	testutil_post_ok(sid, "40" RS "40");
	got = testutil_get_now(sid);
	ck_assert_msg(strncmp(got, "40{\"sid\":\"", 10) == 0, "got \"%s\"",
	    got);
	ck_assert_uint_eq(strlen(got), 10 + ID_LEN + 2);
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

START_TEST(test_event_for_namespace_not_joined_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42/other,[\"all\"]");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

START_TEST(test_event_before_any_connect_closes_session)
{
	char	sid[32];

	testutil_handshake(sid);
	testutil_post_ok(sid, "42[\"all\"]");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 0);
}
END_TEST

START_TEST(test_disconnect_for_namespace_not_joined_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "41/other,");
	check_closed(sid);
}
END_TEST

START_TEST(test_connect_error_from_client_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "44{\"message\":\"x\"}");
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
}
END_TEST

static const char *malformed[] = {
	"4abc",
	"47",
	"42{}",
	"42[]",
	"42abc[\"all\"]",
	"42[\"disconnect\"]",
	"41\"x\"",
	"43",
	"450-[\"bin\"]",
	"4511-[\"bin\"]",
	"451-[\"bin\"," PH(1) "]",
	"42[\"all\"",
};

START_TEST(test_malformed_packet_closes_session)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, malformed[_i]);
	ck_assert_uint_eq(nbin_events, 0);
	check_closed(sid);
	ck_assert_uint_eq(ndiscs, 1);
	ck_assert_str_eq(discs[0].id, id);
}
END_TEST

START_TEST(test_protocol_error_drops_later_packets_of_same_post)
{
	char	sid[32], id[32];

	client(sid, id, "");
	testutil_post_ok(sid, "42[\"all\",1]" RS "4abc" RS "42[\"all\",2]");
	testutil_get_text(sid, "42[\"all\",1]");
	check_closed(sid);
}
END_TEST

static Suite *
sio_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("sio");

	tc = tcase_create("connect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_connect_reply_has_new_socket_id);
	tcase_add_test(tc, test_connect_to_other_namespace_reply_names_it);
	tcase_add_test(tc, test_connect_without_comma_is_accepted);
	tcase_add_test(tc,
	    test_connect_to_unknown_namespace_is_refused_and_session_stays);
	tcase_add_test(tc, test_middleware_refusal_sends_message_and_data);
	tcase_add_test(tc, test_middleware_refused_socket_is_not_joined);
	suite_add_tcase(s, tc);

	tc = tcase_create("rooms");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_broadcast_to_one_room_reaches_its_members_only);
	tcase_add_test(tc,
	    test_broadcast_to_two_rooms_reaches_a_member_of_both_once);
	tcase_add_test(tc, test_broadcast_skips_sockets_in_except_rooms);
	tcase_add_test(tc, test_broadcast_to_everyone_skips_except_rooms);
	tcase_add_test(tc, test_broadcast_skips_the_sender);
	tcase_add_test(tc,
	    test_broadcast_to_no_room_reaches_everyone_but_the_sender);
	tcase_add_test(tc,
	    test_broadcast_to_all_reaches_every_socket_of_the_namespace);
	tcase_add_test(tc,
	    test_broadcast_to_a_socket_id_room_reaches_that_socket);
	tcase_add_test(tc, test_rooms_are_per_namespace);
	tcase_add_test(tc,
	    test_broadcast_reaches_two_namespace_session_once);
	tcase_add_test(tc, test_count_lists_room_members_in_id_order);
	tcase_add_test(tc, test_join_then_broadcast_reaches_the_new_member);
	tcase_add_test(tc, test_leave_stops_delivery);
	tcase_add_test(tc, test_join_of_empty_room_name_is_einval);
	suite_add_tcase(s, tc);

	tc = tcase_create("disconnect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_disconnect_leaves_every_room);
	tcase_add_test(tc,
	    test_server_disconnect_sends_disconnect_and_session_stays);
	tcase_add_test(tc,
	    test_server_close_disconnects_every_namespace_then_closes);
	tcase_add_test(tc, test_event_after_client_disconnect_closes_session);
	tcase_add_test(tc,
	    test_engine_io_close_disconnects_each_namespace_once);
	tcase_add_test(tc, test_engine_io_close_removes_sockets_from_rooms);
	tcase_add_test(tc, test_ping_timeout_disconnects_with_its_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("acks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_server_ack_request_runs_on_ack_with_tag);
	tcase_add_test(tc, test_server_ack_ids_increase);
	tcase_add_test(tc, test_unknown_ack_id_is_dropped_and_session_stays);
	tcase_add_test(tc, test_ack_answered_twice_runs_on_ack_once);
	tcase_add_test(tc, test_ack_from_another_socket_is_dropped);
	tcase_add_test(tc, test_client_ack_request_is_answered_with_same_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("data");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_socket_data_round_trips_across_requests);
	tcase_add_test(tc, test_socket_data_is_per_socket);
	tcase_add_test(tc, test_socket_data_survives_server_ack_bookkeeping);
	tcase_add_test(tc, test_socket_data_changes_seen_within_one_post);
	suite_add_tcase(s, tc);

	tc = tcase_create("connect_timeout");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_connect_timeout_closes_unjoined_session_gracefully);
	tcase_add_test(tc, test_connect_timeout_spares_session_that_joined);
	tcase_add_test(tc,
	    test_connect_timeout_spares_session_that_joined_then_left);
	tcase_add_test(tc,
	    test_connect_timeout_not_cancelled_by_refused_connect);
	suite_add_tcase(s, tc);

	tc = tcase_create("binary");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_binary_event_attachment_in_later_post);
	tcase_add_test(tc,
	    test_binary_event_attachments_in_separate_posts_keep_order);
	tcase_add_test(tc, test_binary_event_in_one_post_and_empty_attachment);
	tcase_add_test(tc, test_binary_broadcast_sends_attachments_to_each);
	tcase_add_test(tc, test_lookups_follow_changes_within_one_post);
	tcase_add_test(tc, test_binary_ack_runs_on_ack_with_placeholders);
	tcase_add_test(tc, test_text_while_attachments_awaited_closes_session);
	tcase_add_test(tc, test_binary_without_pending_packet_closes_session);
	tcase_add_test(tc,
	    test_extra_attachment_after_reassembly_closes_session);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol_errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_connect_twice_closes_session);
	tcase_add_test(tc,
	    test_connect_twice_in_one_post_closes_after_first_reply);
	tcase_add_test(tc, test_event_for_namespace_not_joined_closes_session);
	tcase_add_test(tc, test_event_before_any_connect_closes_session);
	tcase_add_test(tc,
	    test_disconnect_for_namespace_not_joined_closes_session);
	tcase_add_test(tc, test_connect_error_from_client_closes_session);
	tcase_add_loop_test(tc, test_malformed_packet_closes_session, 0,
	    nitems(malformed));
	tcase_add_test(tc,
	    test_protocol_error_drops_later_packets_of_same_post);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run_both_ways("check_sio", sio_suite));
}
