/*
 * sio-fcgi: the FastCGI front, the only module that includes <fcgiapp.h>.
 *
 * Worker threads accept requests on the listening socket (fd 0 when a web
 * server spawned us, or our own socket in daemon mode), turn the CGI
 * params and stdin into struct http_request, hand it to eio and write the
 * answer.  A GET that must wait is parked (park.h) and the thread goes
 * back to accepting, so held polls cost a descriptor, not a thread.  The
 * front owns every request from accept to FCGX_Finish_r.
 */
#ifndef FRONT_H
#define FRONT_H

#include "eio.h"

struct front_config {
	const char	*listen;	/* NULL: fd 0; unix:PATH; HOST:PORT */
	int		 threads;	/* accepting workers */
	int		 backlog;
};

/*
 * Open the listening socket (or check that fd 0 is one) and initialise
 * libfcgi.  Returns 0 or -1 with *cause set to a static reason.
 */
int	front_open(const struct front_config *, const char **cause);
/*
 * Serve until front_shutdown(); then answer held polls, let requests in
 * flight finish and return.  Returns 0 or -errno.
 */
int	front_run(const struct front_config *, struct eio *);
/* Ask front_run() to end.  Async-signal-safe. */
void	front_shutdown(void);
/* Remove what front_open() created (the daemon's socket file). */
void	front_close(void);

#endif
