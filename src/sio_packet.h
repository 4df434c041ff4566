/*
 * sio-fcgi: the Socket.IO v5 packet codec.
 *
 * One packet is <type>[<attachments>-][<nsp>,][<ack id>][<JSON>]
 * (PROTOCOL.md section 8.1).  Decoding validates the packet the way the
 * reference parser does, JSON included (json-c, bounded depth).  A
 * decoded packet owns its json_object; callers borrow it until
 * sio_packet_clear().  Encoding escapes every control character, so the
 * Engine.IO record separator 0x1e never appears raw.
 */
#ifndef SIO_PACKET_H
#define SIO_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"

#define SIO_NSP_MAX		128	/* longest namespace, with its "/" */
#define SIO_MAX_ATTACHMENTS	10	/* default: Node's maxAttachments */
#define SIO_ATTACHMENTS_CAP	64	/* the largest setting */
#define SIO_JSON_DEPTH		32	/* default: deeper JSON is an error */
#define SIO_JSON_DEPTH_CAP	256	/* the largest setting */

enum sio_pkt_type {
	SIO_PKT_CONNECT = 0,
	SIO_PKT_DISCONNECT,
	SIO_PKT_EVENT,
	SIO_PKT_ACK,
	SIO_PKT_CONNECT_ERROR,
	SIO_PKT_BINARY_EVENT,
	SIO_PKT_BINARY_ACK,
};

struct sio_packet {
	enum sio_pkt_type	 type;
	char			 nsp[SIO_NSP_MAX + 1];	/* "/" by default */
	bool			 has_id;
	uint64_t		 id;		/* ack id */
	size_t			 attachments;	/* types 5 and 6: 1..limit */
	struct json_object	*data;		/* owned; NULL when absent */
};

/*
 * The decoder's limits for the whole process: JSON nesting (arrays and
 * objects, 1..SIO_JSON_DEPTH_CAP) and attachments of a binary packet
 * (1..SIO_ATTACHMENTS_CAP).  Set once at start-up, before any thread;
 * the defaults are SIO_JSON_DEPTH and SIO_MAX_ATTACHMENTS.  Returns
 * -EINVAL (and changes nothing) for a value out of range.
 */
int	sio_packet_set_limits(int json_depth, size_t attachments);
int	sio_packet_json_depth(void);
size_t	sio_packet_max_attachments(void);

/* Zero p: type CONNECT, namespace "/", no id, no data. */
void	sio_packet_init(struct sio_packet *);
/* Drop the data (json_object_put) and re-initialise. */
void	sio_packet_clear(struct sio_packet *);

/*
 * Decode s[0..len) into p (which the caller initialised; on success the
 * caller clears it).  Returns 0, or -EPROTO with *cause set to a static
 * reason for any of:
 *   - a type outside 0-6;
 *   - types 5 and 6: a count that is not 1..sio_packet_max_attachments()
 *     digits followed by "-" (no digits, "0", "11", a missing "-");
 *   - a namespace longer than SIO_NSP_MAX ("/x" without a comma is
 *     accepted up to the end of the string);
 *   - an ack id that does not fit 64 bits;
 *   - JSON that does not parse completely, is deeper than the limit,
 *     or is not valid for the type: CONNECT an object or nothing;
 *     DISCONNECT nothing; EVENT and BINARY_EVENT a non-empty array whose
 *     first element is a number or a string that is not reserved
 *     ("connect", "connect_error", "disconnect", "disconnecting",
 *     "newListener", "removeListener"); ACK and BINARY_ACK an array;
 *     CONNECT_ERROR an object or a string;
 *   - for types 5 and 6, a placeholder {"_placeholder":true,"num":N}
 *     (anywhere in the JSON) with N not an integer in [0, attachments).
 * On error p holds no data.
 */
int	sio_packet_decode(const char *s, size_t len, struct sio_packet *p,
	    const char **cause);

/*
 * Append the text of p to out: type, count and "-" for types 5 and 6,
 * "<nsp>," unless the namespace is "/", the id when has_id, and the JSON
 * of data when not NULL (compact, every control character escaped as
 * \uXXXX or its short form, "/" not escaped).
 */
void	sio_packet_encode(const struct sio_packet *, struct buf *out);

/*
 * Append the compact JSON text of obj to out, escaping as above.  NULL
 * gives "null".
 */
void	sio_json_encode(struct json_object *obj, struct buf *out);

/*
 * Parse JSON text with the depth limit.  Returns a new reference, or NULL
 * for text that is not exactly one JSON value.
 */
struct json_object *sio_json_parse(const char *s, size_t len);

/* A new placeholder object {"_placeholder":true,"num":num}. */
struct json_object *sio_placeholder_new(size_t num);
/* True when obj is a placeholder; *num gets its number. */
bool	sio_placeholder_is(struct json_object *obj, size_t *num);
/*
 * Count the placeholders anywhere in obj and check that each number is
 * below count.  Returns the number found, or -EPROTO.
 */
int	sio_placeholder_check(struct json_object *obj, size_t count);

#endif
