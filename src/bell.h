/*
 * sio-fcgi: cross-process wake-up of waiting polls.
 *
 * Each process owns one datagram socket in the abstract UNIX namespace,
 * named from a random 64-bit instance id chosen at start.  A writer that
 * queued packets for a session whose GET is held by instance I sends the
 * session id to I's socket; the socket vanishes with the process, so a
 * failed send also tells that the holder is dead.  Nothing here touches
 * the store.
 */
#ifndef BELL_H
#define BELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Create this process's socket.  Returns 0 or -errno. */
int	bell_open(void);
void	bell_close(void);
/* This process's instance id (never 0); valid after bell_open(). */
uint64_t bell_self(void);
/* The socket to poll for readability; -1 before bell_open(). */
int	bell_fd(void);
/*
 * Send sid to instance, stamped with the time of sending (bell_clock()).
 * Returns 0, or -ESRCH when nobody owns it.
 */
int	bell_ring(uint64_t instance, const char *sid);
/*
 * Hand rings for this process's own instance to fn(arg, sid, sent) in
 * the ringing thread instead of sending them through the socket, whose
 * queue is short and would block the ringer; NULL sends them through the
 * socket again.  fn must not ring.  Returns when no ringer is inside the
 * previous fn any more, so that its arg may then be freed.
 */
typedef void (*bell_local_fn)(void *arg, const char *sid, int64_t sent);
void	bell_set_local(bell_local_fn fn, void *arg);
/* True when a process owns instance's socket. */
bool	bell_is_alive(uint64_t instance);
/*
 * Read one waiting ring: the sid into sid (NUL-terminated, at most
 * size - 1 bytes) and its sending time into *sent.  Returns 1, 0 when
 * nothing is waiting, or -errno.
 */
int	bell_read(char *sid, size_t size, int64_t *sent);
/* CLOCK_MONOTONIC in microseconds, the same in every process. */
int64_t	bell_clock(void);

#endif
