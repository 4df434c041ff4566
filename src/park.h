/*
 * sio-fcgi: held polls, parked without a thread.
 *
 * A GET with nothing to send is parked here: its entry waits in a table by
 * session id and in a heap by deadline, and the worker thread that took
 * it goes back to accepting.  A drain thread reads the bell (rings from
 * any process) and a parker thread hands each rung or expired entry to
 * the resume callback, which answers it or parks it again.  The module
 * owns no request: entries are embedded in the caller's structures.
 */
#ifndef PARK_H
#define PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct park;

struct park_entry {
	char			 sid[STORE_SID_MAX + 1];
	int64_t			 deadline;	/* eio_now() clock, ms */
	int64_t			 rung;	/* first ring's bell_clock(), or 0 */
	/* Private to park.c. */
	struct park_entry	*next;		/* hash chain */
	struct park_entry	*ready_next;	/* ready list */
	size_t			 heap_index;
	int			 where;
};

/*
 * Called in the parker thread, with no lock held, for n entries (at most
 * PARK_BATCH, the due ones first) that were rung, are due, or must end
 * because of shutdown.  Returns how many stay parked: the callback moves
 * those to the front of pes, with their deadlines updated; it owns and
 * frees the others, which it answered.
 */
#define PARK_BATCH	64
typedef size_t (*park_resume_fn)(void *arg, struct park_entry **pes,
    size_t n, bool shutdown);

/*
 * Start the drain and parker threads over the bell (bell_open() first).
 * Rings from this process are handed to the park directly
 * (bell_set_local()), not through the bell's socket.
 */
struct park *park_start(park_resume_fn, void *arg);
/* Park an entry (borrowed until the callback answers it). */
void	park_add(struct park *, struct park_entry *);
/* The same, for the callback's next batch, as if it were rung now. */
void	park_add_ready(struct park *, struct park_entry *);
/* Answer every parked entry at once, and every later one on arrival. */
void	park_shutdown(struct park *);
/* Stop the threads (after park_shutdown() and the workers' end). */
void	park_stop(struct park *);
/* Number of parked entries now (for logs and tests). */
size_t	park_count(struct park *);

#endif
