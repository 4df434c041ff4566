/*
 * sio-fcgi: unit tests for park, the table of held polls: rings that
 * race with parking or with a resume are never lost, a ring for an
 * entry that is already ready is absorbed, due entries (pings) are
 * answered before rung ones, and what is ready goes in one batch.  The park runs its real threads over this
 * process's bell; the resume callback records what it was given.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "bell.h"
#include "eio.h"
#include "park.h"
#include "testutil.h"

#define FAR		60000	/* ms: a deadline no test reaches */
#define WAIT_MS		2000	/* how long a test waits for a resume */
#define MAX_CALLS	16

static struct park	*pk;
/* Entries outlive the test function: teardown answers what is parked. */
static struct park_entry gate, a, a2, b, c, rung, due;

/* What the resume callback saw, in order; guarded by lock. */
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static char		 calls[MAX_CALLS][STORE_SID_MAX + 1];
static size_t		 ncalls;
static size_t		 batches[MAX_CALLS];	/* entries per callback */
static size_t		 nbatches;
/* Resumes of gate_sid wait until gate_open. */
static const char	*gate_sid;
static bool		 gate_open;
/* The first resume of ring_sid rings it again and keeps it parked. */
static const char	*ring_sid;
/* The first resume of keep_once keeps it parked, with no ring. */
static struct park_entry *keep_once;

static bool
resume_one(struct park_entry *pe)
{
	bool	keep = false;

	pthread_mutex_lock(&lock);
	if (ncalls < MAX_CALLS)
		strcpy(calls[ncalls], pe->sid);
	ncalls++;
	pthread_cond_broadcast(&cond);
	while (gate_sid != NULL && strcmp(pe->sid, gate_sid) == 0 &&
	    !gate_open)
		pthread_cond_wait(&cond, &lock);
	if (ring_sid != NULL && strcmp(pe->sid, ring_sid) == 0) {
		/* A commit that lands after this resume looked. */
		ring_sid = NULL;
		keep = true;
	}
	if (pe == keep_once) {
		keep_once = NULL;
		pe->deadline = eio_now() + FAR;
		pe->rung = 0;
		pthread_mutex_unlock(&lock);
		return (true);
	}
	pthread_mutex_unlock(&lock);
	if (keep) {
		ck_assert_int_eq(bell_ring(bell_self(), pe->sid), 0);
		pe->deadline = eio_now() + FAR;
		pe->rung = 0;
	}
	return (keep);
}

static size_t
resume(void *arg, struct park_entry **pes, size_t n, bool shutdown)
{
	size_t	i, keep = 0;

	(void)arg;
	if (shutdown)
		return (0);
	pthread_mutex_lock(&lock);
	if (nbatches < MAX_CALLS)
		batches[nbatches] = n;
	nbatches++;
	pthread_mutex_unlock(&lock);
	for (i = 0; i < n; i++) {
		if (resume_one(pes[i]))
			pes[keep++] = pes[i];
	}
	return (keep);
}

/* Wait until the callback has run n times; false after WAIT_MS. */
static bool
wait_calls(size_t n, int64_t ms)
{
	struct timespec	ts;
	bool		ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	while (ncalls < n && pthread_cond_timedwait(&cond, &lock, &ts) == 0)
		;
	ok = ncalls >= n;
	pthread_mutex_unlock(&lock);
	return (ok);
}

static void
open_gate(void)
{
	pthread_mutex_lock(&lock);
	gate_open = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void
entry_init(struct park_entry *pe, const char *sid, int64_t deadline)
{
	memset(pe, 0, sizeof(*pe));
	strcpy(pe->sid, sid);
	pe->deadline = deadline;
}

static void
setup(void)
{
	testutil_rings_drain(NULL);
	memset(calls, 0, sizeof(calls));
	ncalls = 0;
	nbatches = 0;
	gate_sid = NULL;
	gate_open = false;
	ring_sid = NULL;
	keep_once = NULL;
	pk = park_start(resume, NULL);
}

static void
teardown(void)
{
	open_gate();
	park_shutdown(pk);
	park_stop(pk);
	pk = NULL;
}

START_TEST(test_ring_before_park_add_wakes_the_entry)
{
	/* The ring overtakes the worker that committed and now parks. */
	entry_init(&a, "sid-a", eio_now() + FAR);
	ck_assert_int_eq(bell_ring(bell_self(), "sid-a"), 0);
	park_add(pk, &a);
	ck_assert(wait_calls(1, WAIT_MS));
	ck_assert_str_eq(calls[0], "sid-a");
}
END_TEST

START_TEST(test_ring_during_resume_is_not_lost)
{
	entry_init(&a, "sid-a", eio_now() + FAR);
	ring_sid = "sid-a";
	park_add(pk, &a);
	ck_assert_int_eq(bell_ring(bell_self(), "sid-a"), 0);
	ck_assert(wait_calls(2, WAIT_MS));
	ck_assert_str_eq(calls[1], "sid-a");
	ck_assert_uint_eq(park_count(pk), 0);
}
END_TEST

START_TEST(test_ring_of_a_ready_entry_is_absorbed)
{
	/* Hold the parker in the gate's resume while a is rung twice. */
	entry_init(&gate, "gate", eio_now());
	entry_init(&a, "sid-a", eio_now() + FAR);
	gate_sid = "gate";
	park_add(pk, &a);
	park_add(pk, &gate);
	ck_assert(wait_calls(1, WAIT_MS));
	ck_assert_int_eq(bell_ring(bell_self(), "sid-a"), 0);
	ck_assert_int_eq(bell_ring(bell_self(), "sid-a"), 0);
	open_gate();
	ck_assert(wait_calls(2, WAIT_MS));
	ck_assert_str_eq(calls[1], "sid-a");

	/* The second ring was for the answered poll, not for the next. */
	entry_init(&a2, "sid-a", eio_now() + FAR);
	park_add(pk, &a2);
	ck_assert(!wait_calls(3, 300));
	ck_assert_uint_eq(park_count(pk), 1);
}
END_TEST

/*
 * A request added ready (park_add_ready: a new GET or a POST, for the
 * parker's next batch) is not a held poll: a ring for its sid while the
 * held poll of that sid is in the parker's hands must not be absorbed by
 * it, but kept for the held poll, which is resumed again once parked.
 */
START_TEST(test_ring_is_not_taken_by_an_entry_added_ready)
{
	entry_init(&a, "sid-a", eio_now());
	gate_sid = "sid-a";
	keep_once = &a;
	park_add(pk, &a);
	ck_assert(wait_calls(1, WAIT_MS));
	/* a is out, its resume held at the gate. */
	entry_init(&a2, "sid-a", 0);
	park_add_ready(pk, &a2);
	ck_assert_int_eq(bell_ring(bell_self(), "sid-a"), 0);
	open_gate();
	ck_assert(wait_calls(3, WAIT_MS));
	ck_assert_str_eq(calls[1], "sid-a");
	ck_assert_str_eq(calls[2], "sid-a");
	ck_assert_uint_eq(park_count(pk), 0);
}
END_TEST

START_TEST(test_due_entries_are_answered_before_rung_ones)
{
	entry_init(&gate, "gate", eio_now());
	entry_init(&rung, "rung", eio_now() + FAR);
	gate_sid = "gate";
	park_add(pk, &rung);
	park_add(pk, &gate);
	ck_assert(wait_calls(1, WAIT_MS));
	/* While the parker is busy: a message, then a ping falls due. */
	ck_assert_int_eq(bell_ring(bell_self(), "rung"), 0);
	entry_init(&due, "due", eio_now() - 1);
	park_add(pk, &due);
	open_gate();
	ck_assert(wait_calls(3, WAIT_MS));
	ck_assert_str_eq(calls[1], "due");
	ck_assert_str_eq(calls[2], "rung");
}
END_TEST

START_TEST(test_ready_entries_are_resumed_in_one_batch)
{
	entry_init(&gate, "gate", eio_now());
	entry_init(&a, "sid-a", eio_now() + FAR);
	entry_init(&b, "sid-b", eio_now() + FAR);
	entry_init(&c, "sid-c", eio_now() + FAR);
	gate_sid = "gate";
	park_add(pk, &a);
	park_add(pk, &b);
	park_add(pk, &c);
	park_add(pk, &gate);
	ck_assert(wait_calls(1, WAIT_MS));
	ck_assert_int_eq(bell_ring(bell_self(), "sid-b"), 0);
	ck_assert_int_eq(bell_ring(bell_self(), "sid-a"), 0);
	ck_assert_int_eq(bell_ring(bell_self(), "sid-c"), 0);
	open_gate();
	ck_assert(wait_calls(4, WAIT_MS));
	ck_assert_uint_eq(nbatches, 2);
	ck_assert_uint_eq(batches[1], 3);
	ck_assert_str_eq(calls[1], "sid-b");
	ck_assert_str_eq(calls[2], "sid-a");
	ck_assert_str_eq(calls[3], "sid-c");
	ck_assert_uint_eq(park_count(pk), 0);
}
END_TEST

static Suite *
park_suite(void)
{
	Suite	*s = suite_create("park");
	TCase	*tc;

	tc = tcase_create("rings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ring_before_park_add_wakes_the_entry);
	tcase_add_test(tc, test_ring_during_resume_is_not_lost);
	tcase_add_test(tc, test_ring_of_a_ready_entry_is_absorbed);
	tcase_add_test(tc, test_ring_is_not_taken_by_an_entry_added_ready);
	suite_add_tcase(s, tc);

	tc = tcase_create("order");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_due_entries_are_answered_before_rung_ones);
	tcase_add_test(tc, test_ready_entries_are_resumed_in_one_batch);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (testutil_suite_run_with_store("check_park", park_suite));
}
