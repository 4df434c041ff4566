/*
 * sio-fcgi: the Engine.IO v4 codec for long-polling payloads.  Decoded
 * text slices borrow the payload; decoded binary bytes go to a caller-owned
 * buf.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "eio_packet.h"
#include "text.h"

void
eio_payload_iter_init(struct eio_payload_iter *it, const char *payload,
    size_t len)
{
	/* NULL + 0 is undefined, so an absent payload stays NULL. */
	it->p = payload;
	it->end = payload != NULL ? payload + len : NULL;
	it->done = false;
}

/* Decode the packet s[0..len) into *pkt. Returns 0 or -EPROTO. */
static int
eio_packet_decode(const char *s, size_t len, struct eio_packet *pkt,
    struct buf *bin)
{
	/* EIO v4: an empty packet is a parse error. */
	if (len == 0)
		return (-EPROTO);

	if (s[0] == 'b') {
		/* Polling binary: "b" + base64, in place of the type digit. */
		if (bin == NULL)
			return (-EPROTO);
		buf_reset(bin);
		if (text_base64_decode(s + 1, len - 1, bin) != 0)
			return (-EPROTO);
		pkt->type = EIO_PKT_MESSAGE;
		pkt->binary = true;
		pkt->data = buf_str(bin);
		pkt->len = bin->len;
		return (0);
	}

	if (s[0] < '0' || s[0] > '0' + EIO_PKT_NOOP)
		return (-EPROTO);
	if (!text_utf8_is_valid(s + 1, len - 1))
		return (-EPROTO);
	pkt->type = (enum eio_pkt_type)(s[0] - '0');
	pkt->binary = false;
	pkt->data = s + 1;
	pkt->len = len - 1;
	return (0);
}

int
eio_payload_next(struct eio_payload_iter *it, struct eio_packet *pkt,
    struct buf *bin)
{
	const char	*sep, *next;
	bool		 last;
	int		 rc;

	if (it->done)
		return (0);
	/*
	 * EIO v4: packets are separated by 0x1e, which cannot occur inside a
	 * multi-byte UTF-8 sequence, so splitting the raw bytes is safe.  An
	 * empty payload is one empty packet, a trailing separator ends in
	 * one.
	 */
	if (it->p == it->end ||
	    (sep = memchr(it->p, EIO_RECORD_SEPARATOR, it->end - it->p)) ==
	    NULL) {
		sep = it->end;
		next = it->end;
		last = true;
	} else {
		next = sep + 1;
		last = false;
	}
	/* On error the cursor stays put, so calling again fails again. */
	if ((rc = eio_packet_decode(it->p, sep - it->p, pkt, bin)) != 0)
		return (rc);
	it->p = next;
	it->done = last;
	return (1);
}

void
eio_packet_encode(enum eio_pkt_type type, const char *data, size_t len,
    struct buf *out)
{
	assert(type >= EIO_PKT_OPEN && type <= EIO_PKT_NOOP);
	buf_reserve(out, 1 + len);
	buf_append_char(out, '0' + type);
	buf_append(out, data, len);
}

void
eio_packet_encode_binary(const void *data, size_t len, struct buf *out)
{
	buf_append_char(out, 'b');
	text_base64_encode(data, len, out);
}
