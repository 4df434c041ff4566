/*
 * sio-fcgi: FastCGI records of a responder's answer (the FastCGI
 * specification 1.0, sections 3.3, 5.3 and 5.5).
 */
#include "config.h"

#include <fastcgi.h>
#include <string.h>

#include "fcgi_record.h"

/*
 * Content per record: the largest multiple of 8 that fits the 16-bit
 * length, so that only the last record of a stream needs padding.
 */
#define FCGI_RECORD_CHUNK	(FCGI_MAX_LENGTH & ~7)

static void
fcgi_record_header(struct buf *out, int type, uint16_t id, size_t len,
    size_t pad)
{
	FCGI_Header	h;

	memset(&h, 0, sizeof(h));
	h.version = FCGI_VERSION_1;
	h.type = (unsigned char)type;
	h.requestIdB1 = (unsigned char)(id >> 8);
	h.requestIdB0 = (unsigned char)id;
	h.contentLengthB1 = (unsigned char)(len >> 8);
	h.contentLengthB0 = (unsigned char)len;
	h.paddingLength = (unsigned char)pad;
	buf_append(out, &h, sizeof(h));
}

/* One record of at most FCGI_RECORD_CHUNK bytes, padded to 8. */
static void
fcgi_record_one(struct buf *out, int type, uint16_t id, const void *data,
    size_t len)
{
	static const char	zeros[8];
	size_t			pad = (8 - len % 8) % 8;

	fcgi_record_header(out, type, id, len, pad);
	buf_append(out, data, len);
	buf_append(out, zeros, pad);
}

void
fcgi_record_stdout(struct buf *out, uint16_t id, const void *data,
    size_t len)
{
	const char	*p = data;
	size_t		 n;

	while (len > 0) {
		n = len < FCGI_RECORD_CHUNK ? len : FCGI_RECORD_CHUNK;
		fcgi_record_one(out, FCGI_STDOUT, id, p, n);
		p += n;
		len -= n;
	}
}

void
fcgi_record_end(struct buf *out, uint16_t id)
{
	FCGI_EndRequestBody	body;

	fcgi_record_one(out, FCGI_STDOUT, id, "", 0);
	memset(&body, 0, sizeof(body));
	body.protocolStatus = FCGI_REQUEST_COMPLETE;
	fcgi_record_one(out, FCGI_END_REQUEST, id, &body, sizeof(body));
}
