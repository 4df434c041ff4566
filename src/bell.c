/*
 * sio-fcgi: cross-process wake-ups through abstract UNIX datagram
 * sockets, one per process, named from a random instance id.
 *
 * A datagram socket was chosen over a futex in shared memory because a
 * held poll is parked in an event loop (poll(2) needs a descriptor) and
 * because the kernel removes the name when the process dies, which makes
 * "is the holder alive?" a single failed send.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bell.h"
#include "log.h"

static int	 bell_sock = -1;
static uint64_t	 bell_instance;

/* Rings to ourselves: held for reading while fn runs. */
static pthread_rwlock_t	 bell_local_lock = PTHREAD_RWLOCK_INITIALIZER;
static bell_local_fn	 bell_local;
static void		*bell_local_arg;

static socklen_t
bell_addr(uint64_t instance, struct sockaddr_un *sun)
{
	int	n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* Abstract namespace: a leading NUL, no file to clean up. */
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
	    "sio-fcgi/bell/%016" PRIx64, instance);
	return ((socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
}

int
bell_open(void)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			tries, fd;

	if (bell_sock != -1)
		return (0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return (-errno);
	for (tries = 0; tries < 8; tries++) {
		if (getrandom(&bell_instance, sizeof(bell_instance), 0) !=
		    sizeof(bell_instance)) {
			close(fd);
			return (-EIO);
		}
		if (bell_instance == 0)
			continue;
		len = bell_addr(bell_instance, &sun);
		if (bind(fd, (struct sockaddr *)&sun, len) == 0) {
			bell_sock = fd;
			return (0);
		}
		if (errno != EADDRINUSE)
			break;
	}
	close(fd);
	return (-errno);
}

void
bell_close(void)
{
	if (bell_sock != -1)
		close(bell_sock);
	bell_sock = -1;
}

uint64_t
bell_self(void)
{
	return (bell_instance);
}

int
bell_fd(void)
{
	return (bell_sock);
}

/*
 * The kernel queues at most net.unix.max_dgram_qlen datagrams per
 * receiver (10 by default), so rings are sent blocking, with a timeout,
 * from a socket of their own; the receiver drains its socket in a thread
 * that does nothing else, so a full queue lasts microseconds.
 */
static int
bell_sender(void)
{
	static int		fd = -1;
	static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;
	struct timeval		tv = { 0, 500 * 1000 };
	int			s;

	pthread_mutex_lock(&lock);
	if (fd == -1) {
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s != -1 && setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv)) != 0) {
			close(s);
			s = -1;
		}
		fd = s;
	}
	s = fd;
	pthread_mutex_unlock(&lock);
	return (s);
}

int64_t
bell_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
bell_set_local(bell_local_fn fn, void *arg)
{
	pthread_rwlock_wrlock(&bell_local_lock);
	bell_local = fn;
	bell_local_arg = arg;
	pthread_rwlock_unlock(&bell_local_lock);
}

int
bell_ring(uint64_t instance, const char *sid)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			msg[128];
	int			fd, n;

	if (instance == bell_instance && bell_sock != -1) {
		pthread_rwlock_rdlock(&bell_local_lock);
		if (bell_local != NULL) {
			bell_local(bell_local_arg, sid, bell_clock());
			pthread_rwlock_unlock(&bell_local_lock);
			return (0);
		}
		pthread_rwlock_unlock(&bell_local_lock);
	}
	if ((fd = bell_sender()) == -1)
		return (-errno);
	/* "sid time": the time lets the receiver measure wake latency. */
	n = snprintf(msg, sizeof(msg), "%s %lld", sid,
	    (long long)bell_clock());
	if (n < 0 || (size_t)n >= sizeof(msg))
		return (-EINVAL);
	len = bell_addr(instance, &sun);
	while (sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&sun,
	    len) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			log_warnx("bell: instance %016" PRIx64 " does not "
			    "drain its rings", instance);
			return (-EAGAIN);
		}
		return (errno == ECONNREFUSED || errno == ENOENT ?
		    -ESRCH : -errno);
	}
	return (0);
}

bool
bell_is_alive(uint64_t instance)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd, rc;

	if (instance == 0)
		return (false);
	if (instance == bell_instance && bell_sock != -1)
		return (true);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (true);	/* cannot tell: assume it lives */
	len = bell_addr(instance, &sun);
	rc = connect(fd, (struct sockaddr *)&sun, len);
	close(fd);
	return (rc == 0);
}

int
bell_read(char *sid, size_t size, int64_t *sent)
{
	char	msg[128], *sp;
	ssize_t	n;

	for (;;) {
		n = recv(bell_sock, msg, sizeof(msg) - 1, MSG_DONTWAIT);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return (0);
		return (-errno);
	}
	msg[n] = '\0';
	*sent = 0;
	if ((sp = strchr(msg, ' ')) != NULL) {
		*sp++ = '\0';
		*sent = strtoll(sp, NULL, 10);
	}
	if (strlen(msg) >= size)
		msg[size - 1] = '\0';
	strcpy(sid, msg);
	return (1);
}
