/*
 * sio-fcgi: the Engine.IO v4 codec for long-polling.
 *
 * A payload (one HTTP body) is packets joined by 0x1e.  A text packet is a
 * type digit and its data; a binary packet is "b" and the standard base64
 * of its bytes (always a message).  Decoded text slices borrow the input;
 * decoded binary bytes live in a caller-owned buf.
 */
#ifndef EIO_PACKET_H
#define EIO_PACKET_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define EIO_RECORD_SEPARATOR	'\x1e'

enum eio_pkt_type {
	EIO_PKT_OPEN = 0,
	EIO_PKT_CLOSE,
	EIO_PKT_PING,
	EIO_PKT_PONG,
	EIO_PKT_MESSAGE,
	EIO_PKT_UPGRADE,
	EIO_PKT_NOOP,
};

struct eio_packet {
	enum eio_pkt_type	 type;
	bool			 binary;	/* "b" packet: a message */
	const char		*data;		/* borrowed, see below */
	size_t			 len;
};

/* A cursor over one payload; borrows the payload bytes. */
struct eio_payload_iter {
	const char	*p;
	const char	*end;
	bool		 done;
};

void	eio_payload_iter_init(struct eio_payload_iter *, const char *payload,
	    size_t len);
/*
 * Decode the next packet.  Returns 1 with *pkt filled, 0 at the end, or
 * -EPROTO for a malformed packet: an empty packet (so an empty payload is
 * an error too), a type outside 0-6 and "b", invalid base64 after "b", or
 * text data that is not valid UTF-8.  For a text packet pkt->data points
 * into the payload; for a binary one it points to bin's contents (bin is
 * reset first), valid until bin changes.
 */
int	eio_payload_next(struct eio_payload_iter *, struct eio_packet *pkt,
	    struct buf *bin);

/* Append one text packet (type digit + data) to out. */
void	eio_packet_encode(enum eio_pkt_type type, const char *data,
	    size_t len, struct buf *out);
/* Append one binary packet ("b" + base64 of data) to out. */
void	eio_packet_encode_binary(const void *data, size_t len,
	    struct buf *out);

#endif
