/*
 * sio-fcgi: timers that must fire without a request.
 *
 * Each process runs one sweep thread; a lease in the store lets one
 * process at a time do the work, so that a hundred mod_fcgid processes
 * do not all scan.  The thread owns nothing but itself.
 */
#ifndef SWEEP_H
#define SWEEP_H

#include <stdint.h>

#include "eio.h"

struct sweep;

/*
 * Start the thread, waking every period_ms.  Dies if it cannot start.
 * When the store turns out broken (store_is_broken()), the thread logs
 * it, calls on_broken (if not NULL) once and stops sweeping.
 */
struct sweep *sweep_start(struct eio *, struct store *, int64_t period_ms,
	    void (*on_broken)(void));
/* Stop and join it (NULL is a no-op). */
void	sweep_stop(struct sweep *);
/* One pass at time now, if this process holds the lease; -errno. */
int	sweep_run(struct eio *, struct store *, int64_t now,
	    int64_t period_ms);

#endif
