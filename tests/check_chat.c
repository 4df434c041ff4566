/*
 * sio-fcgi: unit tests for the chat's stored history: the cap on
 * messages per conversation and the retention, with the oldest message's
 * time kept beside the conversation's bounds.  The chat runs over the
 * Engine.IO and Socket.IO layers, driven by raw Engine.IO requests built
 * in memory (as in check_sio); time is a variable the tests advance, and
 * what is stored is read back from the store.
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
#include "chat.h"
#include "eio.h"
#include "http.h"
#include "sio.h"
#include "store.h"
#include "testutil.h"

#define PATH		"/socket.io"
#define RETENTION	1000	/* ms */
#define MAX_KEPT	16

static struct store	*st;
static struct eio	*e;
static struct sio	*sio;

/* A user of the chat: its Engine.IO session and its userID. */
struct user {
	char	sid[STORE_SID_MAX + 1];
	char	id[64];
	char	session[64];	/* the chat's sessionID */
};

/* Copy the string value of "name" in text into out. */
static void
copy_field(const char *text, const char *name, char *out, size_t size)
{
	char		 pat[64];
	const char	*p;
	size_t		 n;

	snprintf(pat, sizeof(pat), "\"%s\":\"", name);
	p = strstr(text, pat);
	ck_assert_msg(p != NULL, "no %s in \"%s\"", name, text);
	p += strlen(pat);
	n = strcspn(p, "\"");
	ck_assert_uint_lt(n, size);
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
start(size_t history, int64_t retention)
{
	struct eio_config	ecfg = testutil_eio_config();
	struct sio_config	scfg;
	struct chat_config	ccfg;

	/* No ping falls due while the tests move the clock by seconds. */
	ecfg.ping_interval = 1000000;
	ecfg.ping_timeout = 1000000;
	st = testutil_store_setup();
	e = testutil_eio_new(&ecfg, st, PATH);
	memset(&scfg, 0, sizeof(scfg));
	scfg.connect_timeout = 1000000;
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.history = history;
	ccfg.retention = retention;
	ccfg.session_ttl = INT64_C(30) * 24 * 3600 * 1000;
	ccfg.max_tabs = 32;
	ccfg.max_username = CHAT_USERNAME_MAX;
	ccfg.max_content = CHAT_CONTENT_MAX;
	sio = sio_new(&scfg, PATH, chat_namespaces(&ccfg));
	eio_add_handler(e, sio_eio_handler(sio));
	testutil_now = TESTUTIL_T0;
}

/* The checked fixture's end, also after a failed test. */
static void
teardown(void)
{
	testutil_eio_free(e);
	e = NULL;
	if (sio != NULL)
		sio_free(sio);
	sio = NULL;
	if (st != NULL)
		testutil_store_teardown(st);
	st = NULL;
}

/* Connect a new user named name: u gets its sid and userID. */
static void
join(struct user *u, const char *name)
{
	char		 body[128];
	const char	*got;

	testutil_handshake(u->sid);
	snprintf(body, sizeof(body), "40{\"username\":\"%s\"}", name);
	testutil_post_ok(u->sid, body);
	got = testutil_get_now(u->sid);
	copy_field(got, "userID", u->id, sizeof(u->id));
	copy_field(got, "sessionID", u->session, sizeof(u->session));
}

/* What a new tab of u gets on connecting (its "users" event among it). */
static const char *
new_tab_of(const struct user *u)
{
	static char	 out[4096];
	char		 body[128], sid[STORE_SID_MAX + 1];

	testutil_handshake(sid);
	snprintf(body, sizeof(body), "40{\"sessionID\":\"%s\"}", u->session);
	testutil_post_ok(sid, body);
	snprintf(out, sizeof(out), "%s", testutil_get_now(sid));
	return (out);
}

/* from sends content to to, at testutil_now. */
static void
say(const struct user *from, const struct user *to, const char *content)
{
	char	body[256];

	snprintf(body, sizeof(body),
	    "42[\"private message\",{\"content\":\"%s\",\"to\":\"%s\"}]",
	    content, to->id);
	testutil_post_ok(from->sid, body);
}

/* The contents of the stored messages, in key (conversation) order. */
struct kept {
	char	content[MAX_KEPT][32];
	size_t	n;
};

static int
kept_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct kept		*k = arg;
	struct json_object	*m, *c;
	char			*text;

	/* A conversation's bounds ("cm/" a "/" b "~"), not a message. */
	if (klen > 0 && ((const char *)key)[klen - 1] == '~')
		return (0);
	ck_assert_uint_lt(k->n, MAX_KEPT);
	/* 0x01, "t" (8 bytes), the direction, the content. */
	if (vlen >= 10 && ((const unsigned char *)val)[0] == 0x01) {
		snprintf(k->content[k->n++], sizeof(k->content[0]), "%.*s",
		    (int)(vlen - 10), (const char *)val + 10);
		return (0);
	}
	text = strndup(val, vlen);
	m = json_tokener_parse(text);
	free(text);
	ck_assert_ptr_nonnull(m);
	ck_assert(json_object_object_get_ex(m, "content", &c));
	snprintf(k->content[k->n++], sizeof(k->content[0]), "%s",
	    json_object_get_string(c));
	json_object_put(m);
	return (0);
}

/* The stored messages joined by ",": "" when there is none. */
static const char *
stored(void)
{
	static char		 out[MAX_KEPT * 33];
	struct store_txn	*t;
	struct kept		 k;
	size_t			 i;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_kv_scan(t, STORE_T_APP, "cm/", 3, kept_fn,
	    &k), 0);
	store_txn_abort(t);
	out[0] = '\0';
	for (i = 0; i < k.n; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, k.content[i]);
	}
	return (out);
}

START_TEST(test_history_keeps_the_last_messages_of_a_conversation)
{
	struct user	a, b;

	start(3, 0);
	join(&a, "alice");
	join(&b, "bob");
	say(&a, &b, "m1");
	say(&b, &a, "m2");
	say(&a, &b, "m3");
	ck_assert_str_eq(stored(), "m1,m2,m3");
	say(&b, &a, "m4");
	say(&a, &b, "m5");
	ck_assert_str_eq(stored(), "m3,m4,m5");
}
END_TEST

START_TEST(test_retention_drops_what_is_older_than_it)
{
	struct user	a, b;

	start(100, RETENTION);
	join(&a, "alice");
	join(&b, "bob");
	say(&a, &b, "m1");
	testutil_now += 500;
	say(&a, &b, "m2");
	testutil_now += 400;
	say(&b, &a, "m3");
	ck_assert_str_eq(stored(), "m1,m2,m3");
	/* At 1001: m1 is 1001 ms old, past the retention; m2 501. */
	testutil_now += 101;
	say(&a, &b, "m4");
	ck_assert_str_eq(stored(), "m2,m3,m4");
	/* At 1500 m2 is exactly as old as the retention: kept. */
	testutil_now = TESTUTIL_T0 + 1500;
	say(&a, &b, "m5");
	ck_assert_str_eq(stored(), "m2,m3,m4,m5");
	/* Everything before is past the retention. */
	testutil_now += 5000;
	say(&b, &a, "m6");
	ck_assert_str_eq(stored(), "m6");
}
END_TEST

/*
 * The cap drops the oldest message, so the new oldest one's time is not
 * known from the bounds: the retention must still find it expired.
 */
START_TEST(test_retention_after_the_cap_dropped_the_oldest)
{
	struct user	a, b;

	start(2, RETENTION);
	join(&a, "alice");
	join(&b, "bob");
	say(&a, &b, "m1");
	testutil_now += 600;
	say(&a, &b, "m2");
	testutil_now += 300;
	say(&b, &a, "m3");
	ck_assert_str_eq(stored(), "m2,m3");
	/* m2 (at 600) is now past the retention, m3 (at 900) is not. */
	testutil_now += 800;
	say(&a, &b, "m4");
	ck_assert_str_eq(stored(), "m3,m4");
}
END_TEST

/* Conversations are kept apart: one's retention leaves the other. */
START_TEST(test_retention_is_per_conversation)
{
	struct user	a, b, c;

	start(100, RETENTION);
	join(&a, "alice");
	join(&b, "bob");
	join(&c, "carol");
	say(&a, &b, "ab1");
	say(&a, &c, "ac1");
	testutil_now += 2000;
	say(&b, &a, "ab2");
	/* Only the conversation written to is trimmed. */
	ck_assert_ptr_nonnull(strstr(stored(), "ac1"));
	ck_assert_ptr_null(strstr(stored(), "ab1"));
	ck_assert_ptr_nonnull(strstr(stored(), "ab2"));
}
END_TEST

/* The bounds of the conversation of a and b: "cm/" or legacy "cn/". */
static void
bounds_key(struct buf *k, const char *kind, const struct user *a,
    const struct user *b)
{
	const struct user	*lo = strcmp(a->id, b->id) <= 0 ? a : b;
	const struct user	*hi = lo == a ? b : a;

	buf_reset(k);
	buf_printf(k, "%s%s/%s%s", kind, lo->id, hi->id,
	    strcmp(kind, "cm/") == 0 ? "~" : "");
}

/* The bounds record of kind, as {first, last}; false if there is none. */
static bool
bounds_get(const char *kind, const struct user *a, const struct user *b,
    uint64_t fl[2])
{
	struct store_txn	*t;
	struct buf		 k, v;
	int			 rc;

	buf_init(&k);
	buf_init(&v);
	bounds_key(&k, kind, a, b);
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	rc = store_kv_get(t, STORE_T_APP, k.data, k.len, &v);
	store_txn_abort(t);
	ck_assert(rc == 0 || rc == -ENOENT);
	if (rc == 0) {
		ck_assert_uint_ge(v.len, 2 * sizeof(uint64_t));
		memcpy(fl, v.data, 2 * sizeof(uint64_t));
	}
	buf_clear(&k);
	buf_clear(&v);
	return (rc == 0);
}

/* The last key of the table under "cm/", copied into k. */
static int
last_key_fn(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct buf	*k = arg;

	(void)val;
	(void)vlen;
	buf_reset(k);
	buf_append(k, key, klen);
	return (0);
}

/*
 * The bounds sort right after the conversation's newest message, on the
 * page that message is written to, and are read where they were kept
 * before ("cn/" a "/" b, 16 bytes then), moved, and continued from.
 */
START_TEST(test_bounds_follow_the_messages_and_old_ones_are_moved)
{
	struct user		 a, b;
	struct store_txn	*t;
	struct buf		 k, last;
	uint64_t		 fl[2], old[2] = { 1, 5 };

	start(100, 0);
	join(&a, "alice");
	join(&b, "bob");
	say(&a, &b, "m1");
	ck_assert(bounds_get("cm/", &a, &b, fl));
	ck_assert_uint_eq(fl[0], 1);
	ck_assert_uint_eq(fl[1], 1);
	buf_init(&k);
	buf_init(&last);
	bounds_key(&k, "cm/", &a, &b);
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_kv_scan(t, STORE_T_APP, "cm/", 3, last_key_fn,
	    &last), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(last.len, k.len);
	ck_assert_mem_eq(last.data, k.data, k.len);

	/* Bounds as an older version kept them: first 1, last 5. */
	ck_assert_int_eq(store_txn_begin(st, true, &t), 0);
	ck_assert_int_eq(store_kv_del(t, STORE_T_APP, k.data, k.len), 0);
	bounds_key(&k, "cn/", &a, &b);
	ck_assert_int_eq(store_kv_put(t, STORE_T_APP, k.data, k.len, old,
	    sizeof(old)), 0);
	ck_assert_int_eq(store_txn_commit(t), 0);
	say(&b, &a, "m6");
	ck_assert(!bounds_get("cn/", &a, &b, fl));
	ck_assert(bounds_get("cm/", &a, &b, fl));
	ck_assert_uint_eq(fl[0], 1);
	ck_assert_uint_eq(fl[1], 6);
	ck_assert_str_eq(stored(), "m1,m6");
	buf_clear(&k);
	buf_clear(&last);
}
END_TEST

/*
 * A message is stored as 0x01, its time (8 bytes, big-endian), who of
 * the two sent it, and the content: the userIDs are in the key.  A
 * message stored as JSON by an earlier version reads the same.
 */
START_TEST(test_messages_are_stored_compact_and_old_ones_read)
{
	struct user		 a, b;
	struct store_txn	*t;
	struct buf		 k, v, old;
	uint64_t		 fl[2] = { 1, 2 };
	const char		*lo, *hi, *users;
	char			 want[512];
	int64_t			 when = 0;
	int			 i;

	start(100, RETENTION);
	join(&a, "alice");
	join(&b, "bob");
	say(&b, &a, "hello");
	lo = strcmp(a.id, b.id) < 0 ? a.id : b.id;
	hi = lo == a.id ? b.id : a.id;
	buf_init(&k);
	buf_init(&v);
	buf_init(&old);
	buf_printf(&k, "cm/%s/%s/", lo, hi);
	buf_append(&k, "\0\0\0\0\0\0\0\1", 8);
	ck_assert_int_eq(store_txn_begin(st, false, &t), 0);
	ck_assert_int_eq(store_kv_get(t, STORE_T_APP, k.data, k.len, &v), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(v.len, 10 + strlen("hello"));
	ck_assert_int_eq(v.data[0], 1);
	for (i = 0; i < 8; i++)
		when = when << 8 | (unsigned char)v.data[1 + i];
	ck_assert_int_eq(when, TESTUTIL_T0);
	ck_assert_int_eq(v.data[9], strcmp(b.id, a.id) > 0 ? 1 : 0);
	ck_assert_mem_eq(v.data + 10, "hello", 5);

	/* A second message as an earlier version stored it. */
	buf_printf(&old, "{\"content\":\"old one\",\"from\":\"%s\","
	    "\"to\":\"%s\",\"t\":%lld}", a.id, b.id,
	    (long long)TESTUTIL_T0);
	k.data[k.len - 1] = 2;
	ck_assert_int_eq(store_txn_begin(st, true, &t), 0);
	ck_assert_int_eq(store_kv_put(t, STORE_T_APP, k.data, k.len, old.data,
	    old.len), 0);
	buf_reset(&k);
	buf_printf(&k, "cm/%s/%s~", lo, hi);
	ck_assert_int_eq(store_kv_put(t, STORE_T_APP, k.data, k.len, fl,
	    sizeof(fl)), 0);
	ck_assert_int_eq(store_txn_commit(t), 0);
	ck_assert_str_eq(stored(), "hello,old one");

	/* Both reach a client with their sender and recipient, in order. */
	snprintf(want, sizeof(want), "\"messages\":[{\"content\":\"hello\","
	    "\"from\":\"%s\",\"to\":\"%s\"},{\"content\":\"old one\","
	    "\"from\":\"%s\",\"to\":\"%s\"}]", b.id, a.id, a.id, b.id);
	users = new_tab_of(&a);
	ck_assert_msg(strstr(users, want) != NULL, "no %s in %s", want, users);
	users = new_tab_of(&b);
	ck_assert_msg(strstr(users, want) != NULL, "no %s in %s", want, users);
	/* The retention reads both kinds: past it, all three go. */
	testutil_now += 5 * RETENTION;
	say(&b, &a, "last");
	ck_assert_str_eq(stored(), "last");
	buf_clear(&k);
	buf_clear(&v);
	buf_clear(&old);
}
END_TEST

static Suite *
chat_suite(void)
{
	Suite	*s = suite_create("chat");
	TCase	*tc;

	tc = tcase_create("history");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc,
	    test_history_keeps_the_last_messages_of_a_conversation);
	tcase_add_test(tc, test_retention_drops_what_is_older_than_it);
	tcase_add_test(tc, test_retention_after_the_cap_dropped_the_oldest);
	tcase_add_test(tc, test_retention_is_per_conversation);
	tcase_add_test(tc,
	    test_bounds_follow_the_messages_and_old_ones_are_moved);
	tcase_add_test(tc, test_messages_are_stored_compact_and_old_ones_read);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (testutil_suite_run_both_ways("check_chat", chat_suite));
}
