/*
 * sio-fcgi: allocation wrappers.
 *
 * Each dies with a log line when memory runs out (the web server respawns
 * the process), so callers never test for NULL.  Ownership is libc's.
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

#include "compat.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) printflike(2, 3);

#endif
