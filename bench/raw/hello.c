/*
 * The raw ceiling of bench/run: a trivial FastCGI responder (libfcgi),
 * threaded like sio-fcgi's daemon, that answers every request with
 * "hello".  lighttpd in front of it, driven by wrk, gives the most
 * requests per second this machine's front + FastCGI path can carry.
 *
 *   cc -O2 -o hello bench/raw/hello.c -lfcgi -pthread
 *   ./hello unix:/path/to/hello.sock [THREADS]
 *
 * Not part of the test suite.
 */
#include <fcgiapp.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	hello_fd;

static void *
hello_loop(void *arg)
{
	FCGX_Request	req;

	(void)arg;
	if (FCGX_InitRequest(&req, hello_fd, 0) != 0)
		return (NULL);
	for (;;) {
		if (FCGX_Accept_r(&req) < 0)
			break;
		FCGX_PutS("Status: 200 OK\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Length: 5\r\n\r\nhello", req.out);
		FCGX_Finish_r(&req);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	pthread_t	*th;
	const char	*path;
	int		 n, i;

	if (argc < 2 || strncmp(argv[1], "unix:", 5) != 0) {
		fprintf(stderr, "usage: hello unix:PATH [THREADS]\n");
		return (2);
	}
	path = argv[1] + 5;
	n = argc > 2 ? atoi(argv[2]) : 8;
	if (n < 1)
		n = 1;
	if (FCGX_Init() != 0) {
		fprintf(stderr, "hello: FCGX_Init failed\n");
		return (1);
	}
	/* libfcgi catches SIGTERM (for its own accept loop): just die. */
	signal(SIGTERM, SIG_DFL);
	if ((hello_fd = FCGX_OpenSocket(path, 1024)) < 0) {
		fprintf(stderr, "hello: cannot listen on %s\n", path);
		return (1);
	}
	if ((th = calloc((size_t)n, sizeof(*th))) == NULL)
		return (1);
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, hello_loop, NULL);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return (0);
}
