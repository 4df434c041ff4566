/*
 * sio-fcgi: parked polls.  A hash table by session id finds the entries
 * a ring names (waiting or already ready: a second ring for a ready
 * entry changes nothing); a binary heap by deadline finds the waiting
 * ones that are due; ready lists carry both to the parker thread.  One
 * mutex guards them all: every operation under it is O(1) or O(log n).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bell.h"
#include "eio.h"
#include "log.h"
#include "park.h"
#include "xmalloc.h"

#define PARK_BUCKETS	16384		/* power of two */
#define PARK_RECENT	256		/* rings that found no entry */
#define PARK_RECENT_MS	2000

enum park_where {
	PARK_NOWHERE = 0,
	PARK_WAITING,		/* in the table and the heap */
	PARK_READY,		/* in the table and on a ready list */
};

struct park_recent {
	char	sid[STORE_SID_MAX + 1];
	int64_t	at;
};

struct park {
	park_resume_fn		 resume;
	void			*arg;

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct park_entry	*table[PARK_BUCKETS];
	struct park_entry	**heap;
	size_t			 nheap;
	size_t			 szheap;
	/* Ready entries: the due ones (pings) first, then the rung ones. */
	struct park_entry	*due;
	struct park_entry	*due_tail;
	struct park_entry	*ready;
	struct park_entry	*ready_tail;
	struct park_recent	 recent[PARK_RECENT];
	size_t			 nrecent;
	bool			 shutdown;
	bool			 stop;

	int			 stop_pipe[2];
	pthread_t		 drain_thread;
	pthread_t		 parker_thread;
};

static uint32_t
park_hash(const char *sid)
{
	uint32_t	h = 2166136261u;

	while (*sid != '\0')
		h = (h ^ (unsigned char)*sid++) * 16777619u;
	return (h & (PARK_BUCKETS - 1));
}

/* Heap by deadline. */

static void
park_heap_swap(struct park *pk, size_t a, size_t b)
{
	struct park_entry	*t = pk->heap[a];

	pk->heap[a] = pk->heap[b];
	pk->heap[b] = t;
	pk->heap[a]->heap_index = a;
	pk->heap[b]->heap_index = b;
}

static void
park_heap_up(struct park *pk, size_t i)
{
	while (i > 0 && pk->heap[(i - 1) / 2]->deadline >
	    pk->heap[i]->deadline) {
		park_heap_swap(pk, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
park_heap_down(struct park *pk, size_t i)
{
	size_t	l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < pk->nheap &&
		    pk->heap[l]->deadline < pk->heap[m]->deadline)
			m = l;
		if (r < pk->nheap &&
		    pk->heap[r]->deadline < pk->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		park_heap_swap(pk, i, m);
		i = m;
	}
}

static void
park_heap_remove(struct park *pk, struct park_entry *pe)
{
	size_t	i = pe->heap_index;

	pk->nheap--;
	if (i != pk->nheap) {
		pk->heap[i] = pk->heap[pk->nheap];
		pk->heap[i]->heap_index = i;
		park_heap_down(pk, i);
		park_heap_up(pk, i);
	}
}

/* Table and ready list; the lock is held. */

static void
park_link(struct park *pk, struct park_entry *pe)
{
	uint32_t	h = park_hash(pe->sid);

	pe->next = pk->table[h];
	pk->table[h] = pe;
}

static void
park_insert(struct park *pk, struct park_entry *pe)
{
	park_link(pk, pe);
	if (pk->nheap == pk->szheap) {
		pk->szheap = pk->szheap == 0 ? 256 : pk->szheap * 2;
		pk->heap = xreallocarray(pk->heap, pk->szheap,
		    sizeof(*pk->heap));
	}
	pe->heap_index = pk->nheap;
	pk->heap[pk->nheap++] = pe;
	park_heap_up(pk, pe->heap_index);
	pe->where = PARK_WAITING;
}

static void
park_unlink(struct park *pk, struct park_entry *pe)
{
	struct park_entry	**pp;

	for (pp = &pk->table[park_hash(pe->sid)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == pe) {
			*pp = pe->next;
			break;
		}
	}
	pe->next = NULL;
	pe->where = PARK_NOWHERE;
}

/* Put pe at the end of a ready list (the due one with due), for the parker. */
static void
park_append_ready(struct park *pk, struct park_entry *pe, bool due)
{
	struct park_entry	**head, **tail;

	head = due ? &pk->due : &pk->ready;
	tail = due ? &pk->due_tail : &pk->ready_tail;
	pe->ready_next = NULL;
	pe->where = PARK_READY;
	if (*tail != NULL)
		(*tail)->ready_next = pe;
	else
		*head = pe;
	*tail = pe;
	pthread_cond_signal(&pk->cond);
}

/*
 * Move pe to a ready list: the due list when its deadline passed (a ping
 * to send, a pong deadline), so that the parker answers those before the
 * rung ones: a late ping costs a client its session, a late message only
 * latency.
 */
static void
park_make_ready(struct park *pk, struct park_entry *pe, bool due)
{
	if (pe->where == PARK_READY)
		return;
	if (pe->where == PARK_WAITING)
		park_heap_remove(pk, pe);
	else {
		/* Not in the table yet (park_add, or back from a resume). */
		park_link(pk, pe);
	}
	park_append_ready(pk, pe, due);
}

/* Take the first ready entry, due ones first; NULL when none. */
static struct park_entry *
park_take_ready(struct park *pk)
{
	struct park_entry	**head, **tail, *pe;

	if (pk->due != NULL) {
		head = &pk->due;
		tail = &pk->due_tail;
	} else {
		head = &pk->ready;
		tail = &pk->ready_tail;
	}
	if ((pe = *head) == NULL)
		return (NULL);
	*head = pe->ready_next;
	if (*head == NULL)
		*tail = NULL;
	pe->ready_next = NULL;
	park_unlink(pk, pe);
	return (pe);
}

/* A ring for sid: ready every entry of it, or remember it. */
static void
park_ring(struct park *pk, const char *sid, int64_t sent, int64_t now)
{
	struct park_entry	*pe, *next;
	bool			 found = false;
	size_t			 i;

	for (pe = pk->table[park_hash(sid)]; pe != NULL; pe = next) {
		next = pe->next;
		if (strcmp(pe->sid, sid) == 0) {
			if (pe->rung == 0)
				pe->rung = sent;
			park_make_ready(pk, pe, false);	/* no-op when ready */
			found = true;
		}
	}
	if (found)
		return;
	/*
	 * The ring may have overtaken the worker that is about to park
	 * this sid (it commits, then parks): keep it for park_add().
	 */
	i = pk->nrecent % PARK_RECENT;
	strcpy(pk->recent[i].sid, sid);
	pk->recent[i].at = now;
	pk->nrecent++;
}

/*
 * Take the rings for sid that found no entry in the last PARK_RECENT_MS;
 * true when there was one.
 */
static bool
park_recent_take(struct park *pk, const char *sid, int64_t now)
{
	size_t	i, n;
	bool	rung = false;

	n = pk->nrecent < PARK_RECENT ? pk->nrecent : PARK_RECENT;
	for (i = 0; i < n; i++) {
		if (pk->recent[i].at != 0 &&
		    now - pk->recent[i].at < PARK_RECENT_MS &&
		    strcmp(pk->recent[i].sid, sid) == 0) {
			pk->recent[i].at = 0;
			rung = true;
		}
	}
	return (rung);
}

/* A ring from this process (bell_set_local()), in the ringer's thread. */
static void
park_ring_local(void *arg, const char *sid, int64_t sent)
{
	struct park	*pk = arg;

	if (strlen(sid) > STORE_SID_MAX)
		return;
	pthread_mutex_lock(&pk->lock);
	park_ring(pk, sid, sent, eio_now());
	pthread_mutex_unlock(&pk->lock);
}

static void *
park_drain_main(void *arg)
{
	struct park	*pk = arg;
	struct pollfd	 pfd[2];
	char		 sid[STORE_SID_MAX + 2];
	int64_t		 sent;
	int		 n;

	pfd[0].fd = bell_fd();
	pfd[0].events = POLLIN;
	pfd[1].fd = pk->stop_pipe[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("park: poll");
		}
		if (pfd[1].revents != 0)
			break;
		pthread_mutex_lock(&pk->lock);
		while ((n = bell_read(sid, sizeof(sid), &sent)) == 1) {
			if (strlen(sid) <= STORE_SID_MAX)
				park_ring(pk, sid, sent, eio_now());
		}
		pthread_mutex_unlock(&pk->lock);
		if (n < 0)
			log_warnx("park: bell read failed (%d)", n);
	}
	return (NULL);
}

static void *
park_parker_main(void *arg)
{
	struct park		*pk = arg;
	struct park_entry	*batch[PARK_BATCH], *pe;
	struct timespec		 ts;
	int64_t			 now, wait;
	size_t			 i, n, keep;
	bool			 shutdown;

	pthread_mutex_lock(&pk->lock);
	for (;;) {
		now = eio_now();
		while (pk->nheap > 0 && (pk->shutdown ||
		    pk->heap[0]->deadline <= now))
			park_make_ready(pk, pk->heap[0], true);
		/* Everything ready, up to a batch: one transaction for all. */
		for (n = 0; n < PARK_BATCH &&
		    (pe = park_take_ready(pk)) != NULL; n++)
			batch[n] = pe;
		if (n == 0) {
			if (pk->stop)
				break;
			if (pk->nheap == 0)
				pthread_cond_wait(&pk->cond, &pk->lock);
			else {
				wait = pk->heap[0]->deadline - now;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += wait / 1000;
				ts.tv_nsec += (wait % 1000) * 1000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&pk->cond, &pk->lock,
				    &ts);
			}
			continue;
		}
		shutdown = pk->shutdown;
		pthread_mutex_unlock(&pk->lock);

		keep = pk->resume(pk->arg, batch, n, shutdown);

		pthread_mutex_lock(&pk->lock);
		now = eio_now();
		for (i = 0; i < keep; i++) {
			pe = batch[i];
			/*
			 * A ring sent while the entry was out (after the
			 * resume looked) found nothing: apply it now.
			 */
			if (pk->shutdown)
				park_make_ready(pk, pe, true);
			else if (park_recent_take(pk, pe->sid, now))
				park_make_ready(pk, pe, false);
			else
				park_insert(pk, pe);
		}
	}
	pthread_mutex_unlock(&pk->lock);
	return (NULL);
}

struct park *
park_start(park_resume_fn resume, void *arg)
{
	struct park	*pk;

	pk = xcalloc(1, sizeof(*pk));
	pk->resume = resume;
	pk->arg = arg;
	pthread_mutex_init(&pk->lock, NULL);
	pthread_cond_init(&pk->cond, NULL);
	if (pipe(pk->stop_pipe) != 0)
		fatal("park: pipe");
	if ((errno = pthread_create(&pk->drain_thread, NULL, park_drain_main,
	    pk)) != 0)
		fatal("park: pthread_create");
	if ((errno = pthread_create(&pk->parker_thread, NULL,
	    park_parker_main, pk)) != 0)
		fatal("park: pthread_create");
	bell_set_local(park_ring_local, pk);
	return (pk);
}

void
park_add(struct park *pk, struct park_entry *pe)
{
	int64_t	now = eio_now();
	bool	rung;

	pthread_mutex_lock(&pk->lock);
	rung = park_recent_take(pk, pe->sid, now);
	pe->next = NULL;
	if (rung || pk->shutdown)
		park_make_ready(pk, pe, pk->shutdown);
	else {
		park_insert(pk, pe);
		if (pe->heap_index == 0)
			pthread_cond_signal(&pk->cond);
	}
	pthread_mutex_unlock(&pk->lock);
}

/*
 * Not in the table: rings are for held polls.  A ring for the sid while
 * this entry waits here must not be taken for one (the held poll of the
 * sid may be out, in the parker's hands, and would miss it): finding no
 * entry, it is kept (park_ring) for when that poll is parked again.
 */
void
park_add_ready(struct park *pk, struct park_entry *pe)
{
	pthread_mutex_lock(&pk->lock);
	pe->next = NULL;
	park_append_ready(pk, pe, pk->shutdown);
	pthread_mutex_unlock(&pk->lock);
}

void
park_shutdown(struct park *pk)
{
	pthread_mutex_lock(&pk->lock);
	pk->shutdown = true;
	pthread_cond_signal(&pk->cond);
	pthread_mutex_unlock(&pk->lock);
}

void
park_stop(struct park *pk)
{
	if (pk == NULL)
		return;
	/* Our own rings go through the socket again, still drained. */
	bell_set_local(NULL, NULL);
	pthread_mutex_lock(&pk->lock);
	pk->shutdown = true;
	pk->stop = true;
	pthread_cond_signal(&pk->cond);
	pthread_mutex_unlock(&pk->lock);
	pthread_join(pk->parker_thread, NULL);
	(void)!write(pk->stop_pipe[1], "x", 1);
	pthread_join(pk->drain_thread, NULL);
	close(pk->stop_pipe[0]);
	close(pk->stop_pipe[1]);
	pthread_cond_destroy(&pk->cond);
	pthread_mutex_destroy(&pk->lock);
	free(pk->heap);
	free(pk);
}

size_t
park_count(struct park *pk)
{
	size_t	n;

	pthread_mutex_lock(&pk->lock);
	n = pk->nheap;
	pthread_mutex_unlock(&pk->lock);
	return (n);
}
