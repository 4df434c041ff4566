/*
 * sio-fcgi: unit tests for store, the LMDB state store: session records,
 * outbound queues, the deadline index, leases, wake-ups at commit, a full
 * map and reopening.  Each test gets a fresh environment in a temporary
 * directory.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "bell.h"
#include "buf.h"
#include "store.h"
#include "testutil.h"

#define RS		"\x1e"

/* Instance ids nobody owns: no process binds their bell socket. */
#define DEAD_A		UINT64_C(0x5eed0000dead0001)
#define DEAD_B		UINT64_C(0x5eed0000dead0002)

static struct store	*st;
static struct buf	 out;	/* what a test read, freed by teardown */

/* Close and open the same environment again as instance. */
static void
reopen_store(uint64_t instance, size_t map_size)
{
	store_close(st);
	st = NULL;
	st = testutil_store_open(instance, map_size);
}

static void
setup(void)
{
	st = testutil_store_setup();
	buf_init(&out);
}

static void
teardown(void)
{
	buf_clear(&out);
	testutil_store_teardown(st);
	st = NULL;
}

/* Helpers. */

static struct store_txn *
begin(bool write)
{
	struct store_txn	*t = NULL;

	ck_assert_int_eq(store_txn_begin(st, write, &t), 0);
	ck_assert_ptr_nonnull(t);
	return (t);
}

static void
commit(struct store_txn *t)
{
	ck_assert_int_eq(store_txn_commit(t), 0);
}

static struct store_session
new_session(int64_t created)
{
	struct store_session	s;

	memset(&s, 0, sizeof(s));
	s.version = STORE_SESSION_VERSION;
	s.state = STORE_SESSION_OPEN;
	s.endpoint = 1;
	s.ping_interval = 300;
	s.ping_timeout = 200;
	s.created = created;
	s.ping_at = created + 300;
	return (s);
}

/* Create sid in its own committed transaction. */
static void
create_session(const char *sid, struct store_session *s)
{
	struct store_txn	*t = begin(true);

	ck_assert_int_eq(store_session_put(t, sid, s, true), 0);
	commit(t);
}

/* Push the packets (NUL-terminated strings) to sid and commit. */
static void
push_all(const char *sid, struct store_session *s, const char *const *pkts,
    size_t n)
{
	struct store_txn	*t = begin(true);
	size_t			 i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(store_queue_push(t, sid, s, pkts[i],
		    strlen(pkts[i])), 0);
	ck_assert_int_eq(store_session_put(t, sid, s, false), 0);
	commit(t);
}

/* Fail unless sid's queue [from, to) reads as expect. */
static void
check_queue(const char *sid, uint64_t from, uint64_t to, const char *expect)
{
	struct store_txn	*t = begin(false);
	int			 rc;

	buf_reset(&out);
	rc = store_queue_read(t, sid, from, to, &out);
	store_txn_abort(t);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(buf_str(&out), expect);
}

/* The sessions in st2. */
static size_t
count_sessions_in(struct store *st2)
{
	struct store_txn	*t;
	size_t			 n = 12345;

	ck_assert_int_eq(store_txn_begin(st2, false, &t), 0);
	ck_assert_int_eq(store_session_count(t, &n), 0);
	store_txn_abort(t);
	return (n);
}

static size_t
count_sessions(void)
{
	return (count_sessions_in(st));
}

/* What store_timer_due's callback saw. */
struct visits {
	char	sids[8][STORE_SID_MAX + 1];
	size_t	n;
	int	rc;		/* what the callback returns */
};

static int
record_visit(struct store_txn *t, const char *sid, void *arg)
{
	struct visits	*v = arg;

	(void)t;
	ck_assert_uint_lt(v->n, nitems(v->sids));
	snprintf(v->sids[v->n], sizeof(v->sids[v->n]), "%s", sid);
	v->n++;
	return (v->rc);
}

/* Run store_timer_due(now, max) in its own transaction and commit. */
static int
run_due(int64_t now, size_t max, struct visits *v)
{
	struct store_txn	*t = begin(true);
	int			 n;

	memset(v, 0, sizeof(*v));
	n = store_timer_due(t, now, max, record_visit, v);
	commit(t);
	return (n);
}

/* Give sid a session record with a deadline in the index. */
static void
create_timed(const char *sid, int64_t deadline)
{
	struct store_session	 s = new_session(0);
	struct store_txn	*t = begin(true);

	ck_assert_int_eq(store_session_set_timer(t, sid, &s, deadline), 0);
	ck_assert(s.timer == deadline);
	ck_assert_int_eq(store_session_put(t, sid, &s, true), 0);
	commit(t);
}

/* Session records. */

START_TEST(test_session_put_get_del_round_trip)
{
	struct store_session	 s = new_session(1000), got;
	struct store_txn	*t;

	s.ping_sent = 1;
	s.q_head = 3;
	s.q_sent = 4;
	s.q_tail = 5;
	s.get_instance = 77;
	s.get_token = 78;
	create_session("abcdef", &s);

	t = begin(false);
	memset(&got, 0xaa, sizeof(got));
	ck_assert_int_eq(store_session_get(t, "abcdef", &got), 0);
	store_txn_abort(t);
	ck_assert_mem_eq(&got, &s, sizeof(s));

	t = begin(true);
	ck_assert_int_eq(store_session_del(t, "abcdef", &got), 0);
	commit(t);

	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "abcdef", &got), -ENOENT);
	store_txn_abort(t);
}
END_TEST

START_TEST(test_session_put_overwrites_without_create)
{
	struct store_session	 s = new_session(1000), got;
	struct store_txn	*t;

	create_session("abcdef", &s);
	s.ping_at = 4242;
	t = begin(true);
	ck_assert_int_eq(store_session_put(t, "abcdef", &s, false), 0);
	commit(t);

	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "abcdef", &got), 0);
	store_txn_abort(t);
	ck_assert(got.ping_at == 4242);
}
END_TEST

START_TEST(test_session_create_with_existing_sid_is_eexist)
{
	struct store_session	 s = new_session(1000), other, got;
	struct store_txn	*t;

	create_session("abcdef", &s);
	other = new_session(2000);
	t = begin(true);
	ck_assert_int_eq(store_session_put(t, "abcdef", &other, true),
	    -EEXIST);
	store_txn_abort(t);

	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "abcdef", &got), 0);
	store_txn_abort(t);
	ck_assert(got.created == 1000);
}
END_TEST

START_TEST(test_session_get_unknown_sid_is_enoent)
{
	struct store_session	 got;
	struct store_txn	*t = begin(false);

	ck_assert_int_eq(store_session_get(t, "nobody", &got), -ENOENT);
	ck_assert_int_eq(store_session_get(t, "", &got), -ENOENT);
	store_txn_abort(t);
}
END_TEST

START_TEST(test_session_sid_longer_than_max_is_refused)
{
	char			 sid[STORE_SID_MAX + 2];
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t = begin(true);

	memset(sid, 'x', sizeof(sid) - 1);
	sid[sizeof(sid) - 1] = '\0';
	ck_assert_int_eq(store_session_put(t, sid, &s, true), -EINVAL);
	ck_assert_int_eq(store_session_get(t, sid, &got), -ENOENT);
	ck_assert_int_eq(store_queue_push(t, sid, &s, "4a", 2), -EINVAL);
	/* STORE_SID_MAX itself is fine. */
	sid[STORE_SID_MAX] = '\0';
	ck_assert_int_eq(store_session_put(t, sid, &s, true), 0);
	ck_assert_int_eq(store_session_get(t, sid, &got), 0);
	commit(t);
}
END_TEST

START_TEST(test_session_record_of_another_version_is_eio)
{
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t;

	s.version = STORE_SESSION_VERSION + 1;
	create_session("future", &s);
	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "future", &got), -EIO);
	store_txn_abort(t);
}
END_TEST

START_TEST(test_session_count_counts_records)
{
	struct store_session	 s = new_session(0);
	struct store_txn	*t;

	ck_assert_uint_eq(count_sessions(), 0);
	create_session("a", &s);
	create_session("b", &s);
	create_session("c", &s);
	ck_assert_uint_eq(count_sessions(), 3);

	t = begin(true);
	ck_assert_int_eq(store_session_del(t, "b", &s), 0);
	commit(t);
	ck_assert_uint_eq(count_sessions(), 2);
}
END_TEST

START_TEST(test_aborted_transaction_changes_nothing)
{
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t = begin(true);

	ck_assert_int_eq(store_session_put(t, "gone", &s, true), 0);
	ck_assert_int_eq(store_queue_push(t, "gone", &s, "4a", 2), 0);
	store_txn_abort(t);
	store_txn_abort(NULL);

	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "gone", &got), -ENOENT);
	store_txn_abort(t);
	check_queue("gone", 0, 1, "");
}
END_TEST

/*
 * A table's stamp changes with every put and delete in it, and only then;
 * no two transactions share one, so a value kept with a stamp is never
 * taken for one read in another transaction.
 */
START_TEST(test_kv_stamp_changes_with_writes_to_its_table_only)
{
	struct store_txn	*t, *r;
	struct buf		 v;
	uint64_t		 app, eio, seen[8];
	size_t			 n = 0, i, j;

	buf_init(&v);
	t = begin(true);
	app = store_kv_stamp(t, STORE_T_APP);
	eio = store_kv_stamp(t, STORE_T_SIO_EIO);
	ck_assert_uint_ne(app, 0);
	seen[n++] = app;
	ck_assert_int_eq(store_kv_get(t, STORE_T_APP, "k", 1, &v), -ENOENT);
	ck_assert_uint_eq(store_kv_stamp(t, STORE_T_APP), app);
	ck_assert_int_eq(store_kv_put(t, STORE_T_APP, "k", 1, "v", 1), 0);
	ck_assert_uint_ne(store_kv_stamp(t, STORE_T_APP), app);
	app = store_kv_stamp(t, STORE_T_APP);
	seen[n++] = app;
	ck_assert_uint_eq(store_kv_stamp(t, STORE_T_SIO_EIO), eio);
	ck_assert_int_eq(store_kv_get(t, STORE_T_APP, "k", 1, &v), 0);
	ck_assert_uint_eq(store_kv_stamp(t, STORE_T_APP), app);
	ck_assert_int_eq(store_kv_del(t, STORE_T_APP, "k", 1), 0);
	ck_assert_uint_ne(store_kv_stamp(t, STORE_T_APP), app);
	seen[n++] = store_kv_stamp(t, STORE_T_APP);
	/* A delete of a key not there counts too: it may have written. */
	ck_assert_int_eq(store_kv_del(t, STORE_T_APP, "k", 1), -ENOENT);
	seen[n++] = store_kv_stamp(t, STORE_T_APP);
	ck_assert_int_eq(store_kv_put(t, STORE_T_SIO_EIO, "e", 1, "s", 1), 0);
	ck_assert_uint_ne(store_kv_stamp(t, STORE_T_SIO_EIO), eio);
	seen[n++] = store_kv_stamp(t, STORE_T_SIO_EIO);
	ck_assert_uint_eq(store_kv_stamp(t, STORE_T_APP), seen[n - 2]);
	commit(t);

	/* The next transactions, write and read, start from new stamps. */
	t = begin(true);
	seen[n++] = store_kv_stamp(t, STORE_T_APP);
	seen[n++] = store_kv_stamp(t, STORE_T_SIO_EIO);
	ck_assert_uint_eq(seen[n - 1], seen[n - 2]);
	store_txn_abort(t);
	r = begin(false);
	seen[n++] = store_kv_stamp(r, STORE_T_APP);
	store_txn_abort(r);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (!(i == 5 && j == 6))
				ck_assert_uint_ne(seen[i], seen[j]);
	buf_clear(&v);
}
END_TEST

/* Queues. */

START_TEST(test_queue_push_advances_tail)
{
	struct store_session	 s = new_session(0);
	struct store_txn	*t;

	create_session("q", &s);
	t = begin(true);
	ck_assert_int_eq(store_queue_push(t, "q", &s, "4a", 2), 0);
	ck_assert_uint_eq(s.q_tail, 1);
	ck_assert_int_eq(store_queue_push(t, "q", &s, "4b", 2), 0);
	ck_assert_uint_eq(s.q_tail, 2);
	ck_assert_uint_eq(s.q_head, 0);
	ck_assert_uint_eq(s.q_sent, 0);
	commit(t);
}
END_TEST

START_TEST(test_queue_read_joins_packets_with_record_separator)
{
	static const char *const pkts[] = { "4hello", "2", "bAQIDBA==" };
	struct store_session	 s = new_session(0);

	create_session("q", &s);
	push_all("q", &s, pkts, nitems(pkts));
	check_queue("q", 0, 3, "4hello" RS "2" RS "bAQIDBA==");
}
END_TEST

START_TEST(test_queue_read_respects_from_to)
{
	static const char *const pkts[] = { "40", "41", "42", "43", "44" };
	struct store_session	 s = new_session(0);

	create_session("q", &s);
	push_all("q", &s, pkts, nitems(pkts));
	check_queue("q", 1, 3, "41" RS "42");
	check_queue("q", 4, 5, "44");
	check_queue("q", 0, 1, "40");
	check_queue("q", 2, 2, "");
	check_queue("q", 3, 1, "");
	/* Past the tail there is nothing. */
	check_queue("q", 3, 9, "43" RS "44");
	check_queue("q", 5, 9, "");
}
END_TEST

START_TEST(test_queue_read_appends_after_existing_output)
{
	static const char *const pkts[] = { "4a", "4b" };
	struct store_session	 s = new_session(0);
	struct store_txn	*t;

	create_session("q", &s);
	push_all("q", &s, pkts, nitems(pkts));
	buf_append_str(&out, "6");
	t = begin(false);
	ck_assert_int_eq(store_queue_read(t, "q", 0, 2, &out), 0);
	store_txn_abort(t);
	ck_assert_str_eq(buf_str(&out), "6" RS "4a" RS "4b");
}
END_TEST

START_TEST(test_queue_keeps_empty_and_binary_packets)
{
	struct store_session	 s = new_session(0);
	struct store_txn	*t;

	create_session("q", &s);
	t = begin(true);
	ck_assert_int_eq(store_queue_push(t, "q", &s, "4a\0b", 4), 0);
	ck_assert_int_eq(store_queue_push(t, "q", &s, "", 0), 0);
	ck_assert_int_eq(store_queue_push(t, "q", &s, "4c", 2), 0);
	ck_assert_int_eq(store_session_put(t, "q", &s, false), 0);
	commit(t);

	t = begin(false);
	ck_assert_int_eq(store_queue_read(t, "q", 0, 3, &out), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(out.len, 8);
	ck_assert_mem_eq(out.data, "4a\0b" RS RS "4c", 8);
}
END_TEST

START_TEST(test_queue_of_one_sid_is_not_read_from_a_longer_sid)
{
	static const char *const ab[] = { "4ab0", "4ab1" };
	static const char *const abc[] = { "4abc0", "4abc1", "4abc2" };
	struct store_session	 sab = new_session(0), sabc = new_session(0);

	create_session("ab", &sab);
	create_session("abc", &sabc);
	push_all("abc", &sabc, abc, nitems(abc));
	push_all("ab", &sab, ab, nitems(ab));
	check_queue("ab", 0, 10, "4ab0" RS "4ab1");
	check_queue("abc", 0, 10, "4abc0" RS "4abc1" RS "4abc2");
	check_queue("a", 0, 10, "");
}
END_TEST

START_TEST(test_queue_trim_removes_exactly_from_to)
{
	static const char *const pkts[] = { "40", "41", "42", "43", "44" };
	struct store_session	 s = new_session(0);
	struct store_txn	*t;

	create_session("q", &s);
	push_all("q", &s, pkts, nitems(pkts));
	t = begin(true);
	ck_assert_int_eq(store_queue_trim(t, "q", 0, 2), 0);
	commit(t);
	check_queue("q", 0, 5, "42" RS "43" RS "44");

	/* An empty or reversed range removes nothing. */
	t = begin(true);
	ck_assert_int_eq(store_queue_trim(t, "q", 3, 3), 0);
	ck_assert_int_eq(store_queue_trim(t, "q", 4, 3), 0);
	commit(t);
	check_queue("q", 0, 5, "42" RS "43" RS "44");

	t = begin(true);
	ck_assert_int_eq(store_queue_trim(t, "q", 2, 4), 0);
	commit(t);
	check_queue("q", 0, 5, "44");
	check_queue("q", 4, 5, "44");
}
END_TEST

START_TEST(test_queue_read_skips_trimmed_hole)
{
	static const char *const pkts[] = { "40", "41", "42", "43" };
	struct store_session	 s = new_session(0);
	struct store_txn	*t;

	create_session("q", &s);
	push_all("q", &s, pkts, nitems(pkts));
	t = begin(true);
	ck_assert_int_eq(store_queue_trim(t, "q", 1, 3), 0);
	commit(t);
	/* Packet 3 is not in [0, 2): only packet 0 is. */
	check_queue("q", 0, 2, "40");
	check_queue("q", 0, 4, "40" RS "43");
}
END_TEST

START_TEST(test_queue_trim_leaves_other_sessions_intact)
{
	static const char *const ab[] = { "4ab0", "4ab1", "4ab2" };
	static const char *const abc[] = { "4abc0", "4abc1", "4abc2" };
	static const char *const b[] = { "4b0" };
	struct store_session	 sab = new_session(0), sabc = new_session(0);
	struct store_session	 sb = new_session(0);
	struct store_txn	*t;

	create_session("ab", &sab);
	create_session("abc", &sabc);
	create_session("b", &sb);
	push_all("ab", &sab, ab, nitems(ab));
	push_all("abc", &sabc, abc, nitems(abc));
	push_all("b", &sb, b, nitems(b));

	t = begin(true);
	ck_assert_int_eq(store_queue_trim(t, "ab", 0, UINT64_MAX), 0);
	commit(t);
	check_queue("ab", 0, 3, "");
	check_queue("abc", 0, 3, "4abc0" RS "4abc1" RS "4abc2");
	check_queue("b", 0, 1, "4b0");

	t = begin(true);
	ck_assert_int_eq(store_queue_trim(t, "abc", 1, 2), 0);
	commit(t);
	check_queue("abc", 0, 3, "4abc0" RS "4abc2");
	check_queue("b", 0, 1, "4b0");
}
END_TEST

START_TEST(test_session_del_removes_queue_and_timer_entry)
{
	static const char *const pkts[] = { "4a", "4b", "4c" };
	struct store_session	 s = new_session(0), other = new_session(0);
	struct store_txn	*t;
	struct visits		 v;

	create_session("gone", &s);
	create_session("gone2", &other);
	push_all("gone", &s, pkts, nitems(pkts));
	push_all("gone2", &other, pkts, 1);
	t = begin(true);
	ck_assert_int_eq(store_session_set_timer(t, "gone", &s, 100), 0);
	ck_assert_int_eq(store_session_put(t, "gone", &s, false), 0);
	ck_assert_int_eq(store_session_set_timer(t, "gone2", &other, 200), 0);
	ck_assert_int_eq(store_session_put(t, "gone2", &other, false), 0);
	commit(t);

	t = begin(true);
	ck_assert_int_eq(store_session_del(t, "gone", &s), 0);
	commit(t);

	check_queue("gone", 0, 3, "");
	check_queue("gone2", 0, 1, "4a");
	ck_assert_int_eq(run_due(1000, 10, &v), 1);
	ck_assert_str_eq(v.sids[0], "gone2");

	/* A new session under the same sid starts with an empty queue. */
	s = new_session(0);
	create_session("gone", &s);
	check_queue("gone", 0, 3, "");
}
END_TEST

/* The deadline index. */

START_TEST(test_timer_due_visits_in_deadline_order)
{
	struct visits	v;

	create_timed("c", 300);
	create_timed("a", 100);
	create_timed("late", 1000);
	create_timed("b", 200);

	ck_assert_int_eq(run_due(500, 10, &v), 3);
	ck_assert_uint_eq(v.n, 3);
	ck_assert_str_eq(v.sids[0], "a");
	ck_assert_str_eq(v.sids[1], "b");
	ck_assert_str_eq(v.sids[2], "c");
}
END_TEST

START_TEST(test_timer_due_visits_at_most_max)
{
	struct visits	v;

	create_timed("c", 300);
	create_timed("a", 100);
	create_timed("b", 200);

	ck_assert_int_eq(run_due(500, 2, &v), 2);
	ck_assert_str_eq(v.sids[0], "a");
	ck_assert_str_eq(v.sids[1], "b");
	/* Visited entries leave the index; the rest wait for the next run. */
	ck_assert_int_eq(run_due(500, 2, &v), 1);
	ck_assert_str_eq(v.sids[0], "c");
	ck_assert_int_eq(run_due(500, 2, &v), 0);
}
END_TEST

START_TEST(test_timer_due_skips_future_deadlines)
{
	struct visits	v;

	create_timed("soon", 500);
	create_timed("later", 501);

	ck_assert_int_eq(run_due(499, 10, &v), 0);
	ck_assert_uint_eq(v.n, 0);
	/* A deadline equal to now is due. */
	ck_assert_int_eq(run_due(500, 10, &v), 1);
	ck_assert_str_eq(v.sids[0], "soon");
	ck_assert_int_eq(run_due(501, 10, &v), 1);
	ck_assert_str_eq(v.sids[0], "later");
}
END_TEST

START_TEST(test_timer_due_orders_equal_deadlines_by_sid)
{
	struct visits	v;

	create_timed("abc", 100);
	create_timed("ab", 100);
	create_timed("b", 100);

	ck_assert_int_eq(run_due(100, 10, &v), 3);
	ck_assert_str_eq(v.sids[0], "ab");
	ck_assert_str_eq(v.sids[1], "abc");
	ck_assert_str_eq(v.sids[2], "b");
}
END_TEST

START_TEST(test_timer_due_returns_callback_error)
{
	struct store_txn	*t;
	struct visits		 v;

	create_timed("a", 100);
	t = begin(true);
	memset(&v, 0, sizeof(v));
	v.rc = -EIO;
	ck_assert_int_eq(store_timer_due(t, 500, 10, record_visit, &v), -EIO);
	ck_assert_uint_eq(v.n, 1);
	store_txn_abort(t);
	/* Aborted: the entry is still due. */
	ck_assert_int_eq(run_due(500, 10, &v), 1);
}
END_TEST

START_TEST(test_set_timer_moves_the_entry)
{
	struct store_session	 s = new_session(0);
	struct store_txn	*t;
	struct visits		 v;

	create_session("m", &s);
	t = begin(true);
	ck_assert_int_eq(store_session_set_timer(t, "m", &s, 100), 0);
	ck_assert_int_eq(store_session_set_timer(t, "m", &s, 900), 0);
	ck_assert(s.timer == 900);
	ck_assert_int_eq(store_session_put(t, "m", &s, false), 0);
	commit(t);

	ck_assert_int_eq(run_due(899, 10, &v), 0);
	ck_assert_int_eq(run_due(900, 10, &v), 1);
	ck_assert_str_eq(v.sids[0], "m");
}
END_TEST

START_TEST(test_set_timer_to_zero_removes_the_entry)
{
	struct store_session	 s = new_session(0);
	struct store_txn	*t;
	struct visits		 v;

	create_session("z", &s);
	t = begin(true);
	ck_assert_int_eq(store_session_set_timer(t, "z", &s, 100), 0);
	commit(t);
	t = begin(true);
	ck_assert_int_eq(store_session_set_timer(t, "z", &s, 0), 0);
	ck_assert(s.timer == 0);
	commit(t);
	ck_assert_int_eq(run_due(INT64_MAX, 10, &v), 0);
}
END_TEST

/* Leases. */

START_TEST(test_lease_free_is_taken)
{
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 1000), 1);
}
END_TEST

START_TEST(test_lease_of_our_own_is_kept)
{
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 1000), 1);
	ck_assert_int_eq(store_lease_take(st, "sweep", 1100, 1000), 1);
	ck_assert_int_eq(store_lease_take(st, "sweep", 1999, 1000), 1);
}
END_TEST

START_TEST(test_lease_held_by_a_live_instance_is_not_taken)
{
	/* We hold it; a process with another id finds us alive. */
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 1000), 1);
	reopen_store(DEAD_A, TESTUTIL_MAP_SIZE);
	ck_assert(!bell_is_alive(DEAD_A));
	ck_assert_int_eq(store_lease_take(st, "sweep", 1500, 1000), 0);
	/* Other names are independent. */
	ck_assert_int_eq(store_lease_take(st, "other", 1500, 1000), 1);
}
END_TEST

START_TEST(test_lease_held_by_a_live_instance_is_taken_once_expired)
{
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 1000), 1);
	reopen_store(DEAD_A, TESTUTIL_MAP_SIZE);
	ck_assert_int_eq(store_lease_take(st, "sweep", 1999, 1000), 0);
	ck_assert_int_eq(store_lease_take(st, "sweep", 2000, 1000), 1);
}
END_TEST

START_TEST(test_lease_held_by_a_dead_instance_is_taken_over)
{
	reopen_store(DEAD_A, TESTUTIL_MAP_SIZE);
	ck_assert(!bell_is_alive(DEAD_A));
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 10000), 1);

	/* Unexpired, but its holder is dead. */
	reopen_store(bell_self(), TESTUTIL_MAP_SIZE);
	ck_assert_int_eq(store_lease_take(st, "sweep", 1001, 10000), 1);

	/* It is ours now: another process sees a live holder. */
	reopen_store(DEAD_B, TESTUTIL_MAP_SIZE);
	ck_assert_int_eq(store_lease_take(st, "sweep", 1002, 10000), 0);
}
END_TEST

START_TEST(test_lease_is_renewed_past_half_its_ttl)
{
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 1000), 1);
	/* 400 ms left of 1000: renewed until 1600 + 1000... */
	ck_assert_int_eq(store_lease_take(st, "sweep", 1600, 1000), 1);
	reopen_store(DEAD_A, TESTUTIL_MAP_SIZE);
	/* ... so at 2500 it is still held by us, alive. */
	ck_assert_int_eq(store_lease_take(st, "sweep", 2500, 1000), 0);
	ck_assert_int_eq(store_lease_take(st, "sweep", 2600, 1000), 1);
}
END_TEST

START_TEST(test_lease_is_not_rewritten_before_half_its_ttl)
{
	ck_assert_int_eq(store_lease_take(st, "sweep", 1000, 1000), 1);
	/* 600 ms left: nothing written, the lease still ends at 2000. */
	ck_assert_int_eq(store_lease_take(st, "sweep", 1400, 1000), 1);
	reopen_store(DEAD_A, TESTUTIL_MAP_SIZE);
	ck_assert_int_eq(store_lease_take(st, "sweep", 1999, 1000), 0);
	ck_assert_int_eq(store_lease_take(st, "sweep", 2000, 1000), 1);
}
END_TEST

/* Wake-ups sent at commit. */

START_TEST(test_commit_rings_recorded_instances)
{
	struct store_txn	*t = begin(true);
	char			 sid[STORE_SID_MAX + 1];
	int64_t			 sent;

	store_txn_ring(t, bell_self(), "ringme");
	store_txn_ring(t, bell_self(), "ringme");	/* merged */
	/* Nothing goes out before the commit. */
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 0);
	commit(t);
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 1);
	ck_assert_str_eq(sid, "ringme");
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 0);
}
END_TEST

START_TEST(test_abort_drops_recorded_rings)
{
	struct store_txn	*t = begin(true);
	char			 sid[STORE_SID_MAX + 1];
	int64_t			 sent;

	store_txn_ring(t, bell_self(), "ringme");
	store_txn_abort(t);
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 0);
}
END_TEST

START_TEST(test_ring_to_a_dead_instance_does_not_fail_commit)
{
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t = begin(true);

	ck_assert_int_eq(store_session_put(t, "x", &s, true), 0);
	store_txn_ring(t, DEAD_A, "x");
	store_txn_ring(t, 0, "x");
	commit(t);
	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "x", &got), 0);
	store_txn_abort(t);
}
END_TEST

/* A full map and reopening. */

/*
 * The smallest map LMDB opens with our five tables leaves room for a few
 * packets only.
 */
#define SMALL_MAP	(64u * 1024)

START_TEST(test_full_map_is_enospc_and_keeps_committed_data)
{
	static const char *const pkts[] = { "4before" };
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t;
	char			 pkt[1024];
	size_t			 i;
	int			 rc = 0;

	reopen_store(bell_self(), SMALL_MAP);
	create_session("full", &s);
	push_all("full", &s, pkts, nitems(pkts));

	memset(pkt, 'x', sizeof(pkt));
	pkt[0] = '4';
	t = begin(true);
	for (i = 0; i < 1000; i++) {
		if ((rc = store_queue_push(t, "full", &s, pkt,
		    sizeof(pkt))) != 0)
			break;
	}
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_uint_gt(i, 0);
	store_txn_abort(t);

	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "full", &got), 0);
	store_txn_abort(t);
	ck_assert_uint_eq(got.q_tail, 1);
	check_queue("full", 0, 10, "4before");

	/* The store is still usable for small writes. */
	t = begin(true);
	ck_assert_int_eq(store_queue_push(t, "full", &got, "4after", 6), 0);
	ck_assert_int_eq(store_session_put(t, "full", &got, false), 0);
	commit(t);
	check_queue("full", 0, 10, "4before" RS "4after");
}
END_TEST

START_TEST(test_commit_after_a_full_map_fails_and_writes_nothing)
{
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t;
	char			 pkt[1024];
	size_t			 i;
	int			 rc = 0;

	reopen_store(bell_self(), SMALL_MAP);
	memset(pkt, 'x', sizeof(pkt));
	pkt[0] = '4';
	t = begin(true);
	ck_assert_int_eq(store_session_put(t, "full", &s, true), 0);
	for (i = 0; i < 1000; i++) {
		if ((rc = store_queue_push(t, "full", &s, pkt,
		    sizeof(pkt))) != 0)
			break;
	}
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_int_lt(store_txn_commit(t), 0);

	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "full", &got), -ENOENT);
	store_txn_abort(t);
	check_queue("full", 0, 10, "");
}
END_TEST

START_TEST(test_reopening_keeps_data)
{
	static const char *const pkts[] = { "4one", "4two" };
	struct store_session	 s = new_session(1234), got;
	struct store_txn	*t;

	create_session("kept", &s);
	push_all("kept", &s, pkts, nitems(pkts));
	t = begin(true);
	ck_assert_int_eq(store_session_set_timer(t, "kept", &s, 700), 0);
	ck_assert_int_eq(store_session_put(t, "kept", &s, false), 0);
	commit(t);

	reopen_store(bell_self(), TESTUTIL_MAP_SIZE);
	t = begin(false);
	ck_assert_int_eq(store_session_get(t, "kept", &got), 0);
	store_txn_abort(t);
	ck_assert_mem_eq(&got, &s, sizeof(s));
	check_queue("kept", 0, 2, "4one" RS "4two");
	ck_assert_uint_eq(count_sessions(), 1);
	{
		struct visits	v;

		ck_assert_int_eq(run_due(700, 10, &v), 1);
		ck_assert_str_eq(v.sids[0], "kept");
	}
	ck_assert_uint_eq(store_instance(st), bell_self());
}
END_TEST

START_TEST(test_open_creates_missing_directories)
{
	char			 sub[8192];
	struct store_config	 cfg;
	struct store		*st2 = NULL;
	struct stat		 sb;

	snprintf(sub, sizeof(sub), "%s/a/b", testutil_dir());
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = sub;
	cfg.map_size = TESTUTIL_MAP_SIZE;
	cfg.max_readers = TESTUTIL_MAX_READERS;
	cfg.sync = STORE_SYNC_NONE;
	cfg.instance = bell_self();
	ck_assert_int_eq(store_open(&cfg, &st2), 0);
	ck_assert_int_eq(stat(sub, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	store_close(st2);
	/* The teardown removes the whole tree. */
}
END_TEST

/* Open a second store in a fresh directory under the test's, in mode. */
static struct store *
open_synced(const char *name, enum store_sync mode)
{
	char			 sub[8192];
	struct store_config	 cfg;
	struct store		*st2 = NULL;

	snprintf(sub, sizeof(sub), "%s/%s", testutil_dir(), name);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = sub;
	cfg.map_size = TESTUTIL_MAP_SIZE;
	cfg.max_readers = TESTUTIL_MAX_READERS;
	cfg.sync = mode;
	cfg.instance = bell_self();
	ck_assert_int_eq(store_open(&cfg, &st2), 0);
	return (st2);
}

/* One write transaction that creates sid, committed by commit_fn. */
static int
commit_one(struct store *st2, const char *sid,
    int (*commit_fn)(struct store_txn *), bool ring)
{
	struct store_session	 s = new_session(1);
	struct store_txn	*t;

	ck_assert_int_eq(store_txn_begin(st2, true, &t), 0);
	ck_assert_int_eq(store_session_put(t, sid, &s, true), 0);
	if (ring)
		store_txn_ring(t, bell_self(), sid);
	return (commit_fn(t));
}

START_TEST(test_synced_modes_sync_before_commit_returns)
{
	static const enum store_sync modes[] = {
		STORE_SYNC_FULL, STORE_SYNC_META
	};
	struct store	*st2;
	char		 name[16];
	size_t		 i;

	for (i = 0; i < nitems(modes); i++) {
		snprintf(name, sizeof(name), "m%zu", i);
		st2 = open_synced(name, modes[i]);
		ck_assert_uint_eq(store_sync_count(st2), 0);
		ck_assert_int_eq(commit_one(st2, "a",
		    store_txn_commit, false), 0);
		ck_assert_uint_eq(store_sync_count(st2), 1);
		ck_assert_uint_eq(store_commit_count(st2), 1);
		store_close(st2);
	}
}
END_TEST

START_TEST(test_commit_nowait_does_not_sync_unless_it_rings)
{
	struct store	*st2 = open_synced("nowait", STORE_SYNC_META);

	ck_assert_int_eq(commit_one(st2, "a",
	    store_txn_commit_nowait, false), 0);
	ck_assert_uint_eq(store_sync_count(st2), 0);
	/* A ring announces the data: it must be on disk first. */
	ck_assert_int_eq(commit_one(st2, "b",
	    store_txn_commit_nowait, true), 0);
	ck_assert_uint_eq(store_sync_count(st2), 1);
	ck_assert_uint_eq(store_commit_count(st2), 2);
	store_close(st2);
	testutil_rings_drain(NULL);
}
END_TEST

/*
 * A commit that waits for what it read: with full its own commit's flush
 * (under the writer lock, before its meta page) is all it needs, so no
 * sync of its own, even after a commit that did not wait; with meta it
 * syncs as a durable commit does; with a ring it waits as one does.
 */
START_TEST(test_commit_seen_waits_only_for_what_it_read)
{
	struct store	*st2 = open_synced("seen", STORE_SYNC_FULL);

	ck_assert_int_eq(commit_one(st2, "a",
	    store_txn_commit_nowait, false), 0);
	ck_assert_int_eq(commit_one(st2, "b", store_txn_commit_seen, false), 0);
	ck_assert_uint_eq(store_sync_count(st2), 0);
	ck_assert_uint_eq(store_commit_count(st2), 2);
	ck_assert_uint_eq(store_lmdb_commit_count(st2), 2);
	ck_assert_int_eq(commit_one(st2, "c", store_txn_commit_seen, true), 0);
	ck_assert_uint_eq(store_sync_count(st2), 1);
	/* A durable commit still syncs. */
	ck_assert_int_eq(commit_one(st2, "d", store_txn_commit, false), 0);
	ck_assert_uint_eq(store_sync_count(st2), 2);
	store_close(st2);

	st2 = open_synced("seen-meta", STORE_SYNC_META);
	ck_assert_int_eq(commit_one(st2, "a", store_txn_commit_seen, false), 0);
	ck_assert_uint_eq(store_sync_count(st2), 1);
	store_close(st2);

	st2 = open_synced("seen-none", STORE_SYNC_NONE);
	ck_assert_int_eq(commit_one(st2, "a", store_txn_commit_seen, false), 0);
	ck_assert_uint_eq(store_sync_count(st2), 0);
	store_close(st2);
	testutil_rings_drain(NULL);
}
END_TEST

/*
 * A nested transaction's rings and wait become its parent's; a commit
 * made "later" is visible at once, and its rings go out (after the wait
 * for the disk its nested transaction asked for) only when its ticket is
 * settled.  A nested transaction rolled back takes its rings with it.
 */
START_TEST(test_nested_rings_go_out_when_the_ticket_is_settled)
{
	struct store		*st2 = open_synced("nested", STORE_SYNC_FULL);
	struct store_session	 s = new_session(0), got;
	struct store_txn	*t, *c, *r;
	struct store_ticket	 tk;
	char			 sid[STORE_SID_MAX + 1];
	int64_t			 sent;
	uint64_t		 syncs;

	ck_assert_int_eq(store_txn_begin(st2, true, &t), 0);
	store_txn_nest(t);
	ck_assert_int_eq(store_txn_begin(st2, true, &c), 0);
	ck_assert_int_eq(store_session_put(c, "kept", &s, true), 0);
	store_txn_ring(c, bell_self(), "ringme");
	ck_assert_int_eq(store_txn_commit(c), 0);
	ck_assert_int_eq(store_txn_begin(st2, true, &c), 0);
	ck_assert_int_eq(store_session_put(c, "undone", &s, true), 0);
	store_txn_ring(c, bell_self(), "undone");
	store_txn_abort(c);
	store_txn_nest(NULL);
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 0);

	syncs = store_sync_count(st2);
	ck_assert_int_eq(store_txn_commit_later(t, &tk), 0);
	ck_assert_ptr_nonnull(tk.st);
	ck_assert(tk.wait);		/* the nested commit asked for it */
	ck_assert_uint_eq(tk.nrings, 1);
	/* Visible already, and nobody told. */
	ck_assert_int_eq(store_txn_begin(st2, false, &r), 0);
	ck_assert_int_eq(store_session_get(r, "kept", &got), 0);
	ck_assert_int_eq(store_session_get(r, "undone", &got), -ENOENT);
	store_txn_abort(r);
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 0);

	ck_assert_int_eq(store_ticket_settle(&tk), 0);
	ck_assert_uint_gt(store_sync_count(st2), syncs);
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 1);
	ck_assert_str_eq(sid, "ringme");
	ck_assert_int_eq(bell_read(sid, sizeof(sid), &sent), 0);
	ck_assert_ptr_null(tk.st);
	ck_assert_int_eq(store_ticket_settle(&tk), 0);	/* owes nothing */
	store_close(st2);
}
END_TEST

/* A ticket settled on another thread, which says when it is done. */
struct settler {
	struct store_ticket	*tk;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	bool			 done;
	int			 rc;
};

static void *
settler_main(void *arg)
{
	struct settler	*se = arg;
	int		 rc;

	rc = store_ticket_settle(se->tk);
	pthread_mutex_lock(&se->mtx);
	se->rc = rc;
	se->done = true;
	pthread_cond_signal(&se->cond);
	pthread_mutex_unlock(&se->mtx);
	return (NULL);
}

/*
 * With full, a commit's meta page is made durable by the next commit's
 * flush, but a settle waits for that only once the next transaction is
 * committing: one that is merely open may run a whole batch before it
 * commits.  Here it is never committed while the settle runs, which
 * must sync by itself and return.
 */
START_TEST(test_settle_does_not_wait_for_an_open_writer)
{
	struct store		*st2 = open_synced("open", STORE_SYNC_FULL);
	struct store_session	 s = new_session(0);
	struct store_txn	*t, *c, *open;
	struct store_ticket	 tk;
	struct settler		 se;
	struct timespec		 until;
	pthread_t		 th;
	uint64_t		 syncs;
	bool			 done;

	ck_assert_int_eq(store_txn_begin(st2, true, &t), 0);
	store_txn_nest(t);
	ck_assert_int_eq(store_txn_begin(st2, true, &c), 0);
	ck_assert_int_eq(store_session_put(c, "durable", &s, true), 0);
	ck_assert_int_eq(store_txn_commit(c), 0);
	store_txn_nest(NULL);
	ck_assert_int_eq(store_txn_commit_later(t, &tk), 0);
	ck_assert(tk.wait);
	syncs = store_sync_count(st2);

	/* The next writer begins after that commit, and stays open. */
	ck_assert_int_eq(store_txn_begin(st2, true, &open), 0);
	ck_assert_int_eq(store_session_put(open, "later", &s, true), 0);

	memset(&se, 0, sizeof(se));
	se.tk = &tk;
	pthread_mutex_init(&se.mtx, NULL);
	pthread_cond_init(&se.cond, NULL);
	ck_assert_int_eq(pthread_create(&th, NULL, settler_main, &se), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&se.mtx);
	while (!se.done && pthread_cond_timedwait(&se.cond, &se.mtx,
	    &until) == 0)
		;
	done = se.done;
	pthread_mutex_unlock(&se.mtx);
	/* Let a settle that waited for the writer go before failing. */
	store_txn_abort(open);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(done, "the settle waited for an open writer");
	ck_assert_int_eq(se.rc, 0);
	ck_assert_uint_eq(store_sync_count(st2), syncs + 1);
	pthread_cond_destroy(&se.cond);
	pthread_mutex_destroy(&se.mtx);
	store_close(st2);
}
END_TEST

START_TEST(test_sync_none_never_syncs)
{
	struct store	*st2 = open_synced("none", STORE_SYNC_NONE);

	ck_assert_int_eq(commit_one(st2, "a", store_txn_commit, false), 0);
	ck_assert_uint_eq(store_sync_count(st2), 0);
	ck_assert_uint_eq(store_commit_count(st2), 1);
	store_close(st2);
}
END_TEST

/* Group commit: threads committing at once share syncs. */
#define SYNC_THREADS	8
#define SYNC_COMMITS	40
static struct store	*sync_st;

/* Run fn(i) in n threads (at most 64) at once; each must return NULL. */
static void
run_threads(void *(*fn)(void *), int n)
{
	pthread_t	th[64];
	void		*ret;
	int		 i;

	ck_assert_int_le(n, 64);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, fn,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(pthread_join(th[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
}


static void *
sync_committer(void *arg)
{
	char	sid[32];
	int	i, id = (int)(intptr_t)arg;

	for (i = 0; i < SYNC_COMMITS; i++) {
		snprintf(sid, sizeof(sid), "t%d-%d", id, i);
		if (commit_one(sync_st, sid, store_txn_commit, false) != 0)
			return ((void *)1);
	}
	return (NULL);
}

START_TEST(test_concurrent_commits_each_wait_for_a_shared_sync)
{
	static const enum store_sync modes[] = {
		STORE_SYNC_META, STORE_SYNC_FULL
	};
	sync_st = open_synced(_i == 0 ? "group-meta" : "group-full",
	    modes[_i]);
	run_threads(sync_committer, SYNC_THREADS);
	ck_assert_uint_eq(store_commit_count(sync_st),
	    SYNC_THREADS * SYNC_COMMITS);
	/* Never more syncs than commits; every commit saw one. */
	ck_assert_uint_ge(store_sync_count(sync_st), 1);
	ck_assert_uint_le(store_sync_count(sync_st),
	    SYNC_THREADS * SYNC_COMMITS);
	ck_assert_uint_eq(count_sessions_in(sync_st),
	    SYNC_THREADS * SYNC_COMMITS);
	store_close(sync_st);
	sync_st = NULL;
}
END_TEST

/*
 * Combining writer: threads writing at once share LMDB commits (one
 * child transaction each in a batch); each sees its write once its
 * commit returns, and an aborted child takes nothing of the others.
 */
#define BATCH_THREADS	8
#define BATCH_TXNS	30
static struct store	*batch_st;

static bool
batch_visible(const char *sid)
{
	struct store_session	 s;
	struct store_txn	*t;
	int			 rc;

	ck_assert_int_eq(store_txn_begin(batch_st, false, &t), 0);
	rc = store_session_get(t, sid, &s);
	store_txn_abort(t);
	return (rc == 0);
}

static void *
batch_writer(void *arg)
{
	struct store_session	 s = new_session(1);
	struct store_txn	*t;
	char			 sid[32];
	int			 i, id = (int)(intptr_t)arg;

	for (i = 0; i < BATCH_TXNS; i++) {
		snprintf(sid, sizeof(sid), "b%d-%d", id, i);
		if (store_txn_begin(batch_st, true, &t) != 0 ||
		    store_session_put(t, sid, &s, true) != 0)
			return ((void *)1);
		usleep(200);	/* others queue up meanwhile */
		if (i % 3 == 2) {
			store_txn_abort(t);
			if (batch_visible(sid))
				return ((void *)2);
			continue;
		}
		if (store_txn_commit(t) != 0)
			return ((void *)3);
		if (!batch_visible(sid))
			return ((void *)4);
	}
	return (NULL);
}

START_TEST(test_concurrent_writers_share_lmdb_commits)
{
	static const enum store_sync modes[] = {
		STORE_SYNC_FULL, STORE_SYNC_NONE
	};
	char		 sid[32];
	size_t		 n;
	int		 i, j;

	batch_st = open_synced(_i == 0 ? "batch-full" : "batch-none",
	    modes[_i]);
	run_threads(batch_writer, BATCH_THREADS);
	/* Every committed write is there, no aborted one. */
	for (i = 0; i < BATCH_THREADS; i++) {
		for (j = 0; j < BATCH_TXNS; j++) {
			snprintf(sid, sizeof(sid), "b%d-%d", i, j);
			ck_assert(batch_visible(sid) == (j % 3 != 2));
		}
	}
	n = count_sessions_in(batch_st);
	ck_assert_uint_eq(n, BATCH_THREADS * (BATCH_TXNS / 3 * 2));
	ck_assert_uint_eq(store_commit_count(batch_st), n);
	ck_assert_uint_ge(store_lmdb_commit_count(batch_st), 1);
	ck_assert_uint_lt(store_lmdb_commit_count(batch_st), n);
	store_close(batch_st);
	batch_st = NULL;
}
END_TEST

/*
 * The slot of the combining writer under contention: 32 threads with no
 * pause between transactions, mixing commits that wait for the disk,
 * commits that do not, and aborts, so that batches close at their bounds
 * while threads queue for the slot.  Nothing hangs, every commit is
 * there, no abort is, and each commit that waited is synced.
 */
#define SLOT_THREADS	32
#define SLOT_TXNS	60

static void *
slot_writer(void *arg)
{
	struct store_session	 s = new_session(1);
	struct store_txn	*t;
	char			 sid[32];
	int			 i, id = (int)(intptr_t)arg;

	for (i = 0; i < SLOT_TXNS; i++) {
		snprintf(sid, sizeof(sid), "s%d-%d", id, i);
		if (store_txn_begin(batch_st, true, &t) != 0 ||
		    store_session_put(t, sid, &s, true) != 0)
			return ((void *)1);
		switch ((i + id) % 4) {
		case 0:
			store_txn_abort(t);
			break;
		case 1:
			if (store_txn_commit_nowait(t) != 0)
				return ((void *)2);
			break;
		default:
			if (store_txn_commit(t) != 0)
				return ((void *)3);
			break;
		}
	}
	return (NULL);
}

START_TEST(test_writers_queue_for_the_slot_without_losing_any)
{
	static const enum store_sync modes[] = {
		STORE_SYNC_FULL, STORE_SYNC_META, STORE_SYNC_NONE
	};
	static const char *names[] = { "slot-full", "slot-meta", "slot-none" };
	char		 sid[32];
	size_t		 n;
	int		 i, j, want = 0;

	batch_st = open_synced(names[_i], modes[_i]);
	run_threads(slot_writer, SLOT_THREADS);
	for (i = 0; i < SLOT_THREADS; i++) {
		for (j = 0; j < SLOT_TXNS; j++) {
			snprintf(sid, sizeof(sid), "s%d-%d", i, j);
			ck_assert(batch_visible(sid) == ((i + j) % 4 != 0));
			want += (i + j) % 4 != 0;
		}
	}
	n = count_sessions_in(batch_st);
	ck_assert_uint_eq(n, (size_t)want);
	ck_assert_uint_eq(store_commit_count(batch_st), n);
	ck_assert_uint_lt(store_lmdb_commit_count(batch_st), n);
	if (modes[_i] == STORE_SYNC_NONE)
		ck_assert_uint_eq(store_sync_count(batch_st), 0);
	else
		ck_assert_uint_ge(store_sync_count(batch_st), 1);
	store_close(batch_st);
	batch_st = NULL;
}
END_TEST

/*
 * A process that dies inside a read transaction leaves its reader slot;
 * store_reader_check frees it and counts it, once.
 */
START_TEST(test_reader_check_frees_the_slot_of_a_dead_reader)
{
	struct store_txn	*t;
	int			 status;
	pid_t			 pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store	*child;

		/* Its own environment handle, as after any fork. */
		child = testutil_store_open(DEAD_A, TESTUTIL_MAP_SIZE);
		if (store_txn_begin(child, false, &t) != 0)
			_exit(1);
		_exit(0);	/* no abort, no close: the slot stays */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(store_reader_check(st), 1);
	ck_assert_int_eq(store_reader_check(st), 0);
	/* Our own readers are alive: never counted. */
	t = begin(false);
	ck_assert_int_eq(store_reader_check(st), 0);
	store_txn_abort(t);
}
END_TEST

START_TEST(test_sync_parse_knows_three_modes)
{
	ck_assert_int_eq(store_sync_parse("full"), STORE_SYNC_FULL);
	ck_assert_int_eq(store_sync_parse("meta"), STORE_SYNC_META);
	ck_assert_int_eq(store_sync_parse("none"), STORE_SYNC_NONE);
	ck_assert_int_eq(store_sync_parse("FULL"), -1);
	ck_assert_int_eq(store_sync_parse(""), -1);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("store");

	tc = tcase_create("session");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_session_put_get_del_round_trip);
	tcase_add_test(tc, test_session_put_overwrites_without_create);
	tcase_add_test(tc, test_session_create_with_existing_sid_is_eexist);
	tcase_add_test(tc, test_session_get_unknown_sid_is_enoent);
	tcase_add_test(tc, test_session_sid_longer_than_max_is_refused);
	tcase_add_test(tc, test_session_record_of_another_version_is_eio);
	tcase_add_test(tc, test_session_count_counts_records);
	tcase_add_test(tc, test_aborted_transaction_changes_nothing);
	tcase_add_test(tc, test_kv_stamp_changes_with_writes_to_its_table_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_queue_push_advances_tail);
	tcase_add_test(tc, test_queue_read_joins_packets_with_record_separator);
	tcase_add_test(tc, test_queue_read_respects_from_to);
	tcase_add_test(tc, test_queue_read_appends_after_existing_output);
	tcase_add_test(tc, test_queue_keeps_empty_and_binary_packets);
	tcase_add_test(tc, test_queue_of_one_sid_is_not_read_from_a_longer_sid);
	tcase_add_test(tc, test_queue_trim_removes_exactly_from_to);
	tcase_add_test(tc, test_queue_read_skips_trimmed_hole);
	tcase_add_test(tc, test_queue_trim_leaves_other_sessions_intact);
	tcase_add_test(tc, test_session_del_removes_queue_and_timer_entry);
	suite_add_tcase(s, tc);

	tc = tcase_create("timer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_timer_due_visits_in_deadline_order);
	tcase_add_test(tc, test_timer_due_visits_at_most_max);
	tcase_add_test(tc, test_timer_due_skips_future_deadlines);
	tcase_add_test(tc, test_timer_due_orders_equal_deadlines_by_sid);
	tcase_add_test(tc, test_timer_due_returns_callback_error);
	tcase_add_test(tc, test_set_timer_moves_the_entry);
	tcase_add_test(tc, test_set_timer_to_zero_removes_the_entry);
	suite_add_tcase(s, tc);

	tc = tcase_create("lease");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lease_free_is_taken);
	tcase_add_test(tc, test_lease_of_our_own_is_kept);
	tcase_add_test(tc, test_lease_held_by_a_live_instance_is_not_taken);
	tcase_add_test(tc,
	    test_lease_held_by_a_live_instance_is_taken_once_expired);
	tcase_add_test(tc, test_lease_held_by_a_dead_instance_is_taken_over);
	tcase_add_test(tc, test_lease_is_renewed_past_half_its_ttl);
	tcase_add_test(tc, test_lease_is_not_rewritten_before_half_its_ttl);
	suite_add_tcase(s, tc);

	tc = tcase_create("ring");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_commit_rings_recorded_instances);
	tcase_add_test(tc, test_abort_drops_recorded_rings);
	tcase_add_test(tc, test_ring_to_a_dead_instance_does_not_fail_commit);
	tcase_add_test(tc, test_nested_rings_go_out_when_the_ticket_is_settled);
	tcase_add_test(tc, test_settle_does_not_wait_for_an_open_writer);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_map_is_enospc_and_keeps_committed_data);
	tcase_add_test(tc,
	    test_commit_after_a_full_map_fails_and_writes_nothing);
	tcase_add_test(tc, test_reopening_keeps_data);
	tcase_add_test(tc, test_open_creates_missing_directories);
	tcase_add_test(tc, test_reader_check_frees_the_slot_of_a_dead_reader);
	tcase_add_test(tc, test_sync_parse_knows_three_modes);
	tcase_add_test(tc, test_synced_modes_sync_before_commit_returns);
	tcase_add_test(tc, test_commit_nowait_does_not_sync_unless_it_rings);
	tcase_add_test(tc, test_commit_seen_waits_only_for_what_it_read);
	tcase_add_test(tc, test_sync_none_never_syncs);
	tcase_add_loop_test(tc,
	    test_concurrent_commits_each_wait_for_a_shared_sync, 0, 2);
	tcase_add_loop_test(tc, test_concurrent_writers_share_lmdb_commits,
	    0, 2);
	tcase_add_loop_test(tc,
	    test_writers_queue_for_the_slot_without_losing_any, 0, 3);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	/* The map-full cases log one error each, on purpose. */
	return (testutil_suite_run_with_store("check_store", store_suite));
}
