/*
 * sio-fcgi: a growable byte buffer.
 *
 * Binary safe and always NUL-terminated: data[len] == '\0' once anything
 * has been appended, so text can be passed to C string functions.  The
 * caller owns the struct: buf_init() before use, buf_clear() to free.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

#include "compat.h"

struct buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;		/* bytes used, not counting the NUL */
	size_t	 size;		/* bytes allocated */
};

void	buf_init(struct buf *);
/* Free the memory and leave the buffer empty and reusable. */
void	buf_clear(struct buf *);
/* Keep the memory, drop the contents. */
void	buf_reset(struct buf *);
/* Make room for at least n more bytes (plus the NUL). */
void	buf_reserve(struct buf *, size_t n);
void	buf_append(struct buf *, const void *, size_t);
void	buf_append_str(struct buf *, const char *);
void	buf_append_char(struct buf *, char);
void	buf_printf(struct buf *, const char *, ...) printflike(2, 3);
/* Hand the data to the caller (free with free(3)); the buffer is reset. */
char	*buf_take(struct buf *);
/* A pointer to the contents, "" when empty; borrowed until the next change. */
const char *buf_str(const struct buf *);

#endif
