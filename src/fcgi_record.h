/*
 * sio-fcgi: FastCGI records of a responder's answer, written without
 * libfcgi's streams.
 *
 * A parked poll gives its libfcgi streams back while it waits (two 8 KB
 * buffers each; thousands of polls wait at once) and keeps only the
 * connection and the request id.  Its answer is then framed here: the
 * FCGI_STDOUT records of the answer, the empty one that ends the stream,
 * and FCGI_END_REQUEST.
 */
#ifndef FCGI_RECORD_H
#define FCGI_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Append FCGI_STDOUT records of request id carrying data (as many as
 * its length needs; none when len is 0).
 */
void	fcgi_record_stdout(struct buf *out, uint16_t id, const void *data,
	    size_t len);
/*
 * Append the end of the request: the empty FCGI_STDOUT record, then
 * FCGI_END_REQUEST with application status 0, request complete.
 */
void	fcgi_record_end(struct buf *out, uint16_t id);

#endif
