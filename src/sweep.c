/*
 * sio-fcgi: the sweep thread: ping timeouts and the removal of closed
 * sessions that nobody came back for, under a lease so that one process
 * at a time does it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "sweep.h"
#include "xmalloc.h"

#define SWEEP_LEASE	"sweep"

struct sweep {
	struct eio	*e;
	struct store	*st;
	int64_t		 period;
	void		(*on_broken)(void);
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	bool		 stop;
};

int
sweep_run(struct eio *e, struct store *st, int64_t now, int64_t period)
{
	int	rc;

	/* The lease outlives a few missed periods, not a dead holder. */
	rc = store_lease_take(st, SWEEP_LEASE, now, period * 4);
	if (rc <= 0)
		return (rc);
	return (eio_sweep(e, now));
}

static void *
sweep_main(void *arg)
{
	struct sweep	*sw = arg;
	struct timespec	 ts;
	int		 rc;

	pthread_mutex_lock(&sw->lock);
	while (!sw->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += sw->period / 1000;
		ts.tv_nsec += (sw->period % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!sw->stop && pthread_cond_timedwait(&sw->cond,
		    &sw->lock, &ts) != ETIMEDOUT)
			;
		if (sw->stop)
			break;
		pthread_mutex_unlock(&sw->lock);
		/*
		 * In every process, lease or not: slots left by a killed
		 * process could keep the lease itself from being read.
		 */
		store_reader_check(sw->st);
		if (store_is_broken(sw->st)) {
			log_error("store: a write failed half-way and LMDB refuses every transaction of this process (MDB_PANIC): stopping, so that a new process opens the database again");
			if (sw->on_broken != NULL)
				sw->on_broken();
			pthread_mutex_lock(&sw->lock);
			break;
		}
		rc = sweep_run(sw->e, sw->st, eio_now(), sw->period);
		if (rc < 0)
			log_warnx("sweep: pass failed: %s", strerror(-rc));
		else if (rc > 0)
			log_debug("sweep: %d sessions looked at", rc);
		pthread_mutex_lock(&sw->lock);
	}
	pthread_mutex_unlock(&sw->lock);
	return (NULL);
}

struct sweep *
sweep_start(struct eio *e, struct store *st, int64_t period,
    void (*on_broken)(void))
{
	struct sweep		*sw;
	pthread_condattr_t	 ca;

	sw = xcalloc(1, sizeof(*sw));
	sw->e = e;
	sw->st = st;
	sw->on_broken = on_broken;
	sw->period = period > 0 ? period : 1000;
	pthread_mutex_init(&sw->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sw->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&sw->thread, NULL, sweep_main, sw)) != 0)
		fatal("sweep: pthread_create");
	return (sw);
}

void
sweep_stop(struct sweep *sw)
{
	if (sw == NULL)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->stop = true;
	pthread_cond_signal(&sw->cond);
	pthread_mutex_unlock(&sw->lock);
	pthread_join(sw->thread, NULL);
	pthread_cond_destroy(&sw->cond);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}
