/*
 * sio-fcgi: libFuzzer target for the Socket.IO packet codec and its JSON
 * parser.
 *
 * The input is one Socket.IO packet (the data of an Engine.IO message).
 * When sio_packet_decode() accepts it, the packet is encoded and decoded
 * again: the second decoding must succeed and give the same packet (type,
 * attachments, namespace, ack id, equal JSON), and encoding that gives
 * the same text (the encoding is a fixed point).  The encoded text never
 * holds a raw control character, so never the record separator 0x1e, and
 * is valid UTF-8.  sio_placeholder_check() runs on every decoded JSON
 * value with several attachment counts, and sio_json_parse() on the
 * input as a whole.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "log.h"
#include "sio_packet.h"
#include "text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_sio_packet: check failed: %s (%s:%d)\n",	\
		    #cond, __FILE__, __LINE__);					\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_sio_packet", LOG_LEVEL_ERROR);
	return (0);
}

/* Encoded JSON: no control character outside escapes, valid UTF-8. */
static void
fuzz_check_text(const struct buf *b)
{
	size_t	i;

	FUZZ_CHECK(text_utf8_is_valid(b->data, b->len));
	for (i = 0; i < b->len; i++)
		FUZZ_CHECK((unsigned char)b->data[i] >= 0x20);
}

static void
fuzz_placeholders(struct json_object *obj, size_t attachments)
{
	int	n0, n;

	n0 = sio_placeholder_check(obj, 0);
	/* With no attachment, any placeholder is out of range. */
	FUZZ_CHECK(n0 == 0 || n0 == -EPROTO);
	n = sio_placeholder_check(obj, SIO_MAX_ATTACHMENTS);
	FUZZ_CHECK(n >= -EPROTO);
	/* No placeholder at all: none with any count either. */
	if (n0 == 0)
		FUZZ_CHECK(n == 0);
	if (attachments > 0) {
		n = sio_placeholder_check(obj, attachments);
		FUZZ_CHECK(n >= 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sio_packet	 p, q;
	struct json_object	*obj, *copy;
	struct buf		 enc, enc2, js;
	const char		*s = (const char *)data;
	const char		*cause = NULL;
	int			 rc;

	buf_init(&enc);
	buf_init(&enc2);
	buf_init(&js);
	sio_packet_init(&p);
	sio_packet_init(&q);

	rc = sio_packet_decode(s, size, &p, &cause);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EPROTO);
		FUZZ_CHECK(cause != NULL && *cause != '\0');
		FUZZ_CHECK(p.data == NULL);
		goto json;
	}
	FUZZ_CHECK(p.type >= SIO_PKT_CONNECT && p.type <= SIO_PKT_BINARY_ACK);
	FUZZ_CHECK(p.nsp[0] == '/');
	FUZZ_CHECK(strlen(p.nsp) <= SIO_NSP_MAX);
	if (p.type == SIO_PKT_BINARY_EVENT || p.type == SIO_PKT_BINARY_ACK)
		FUZZ_CHECK(p.attachments >= 1 &&
		    p.attachments <= SIO_MAX_ATTACHMENTS);
	else
		FUZZ_CHECK(p.attachments == 0);
	if (p.data != NULL)
		fuzz_placeholders(p.data, p.attachments);

	/* Round trip: decode(encode(p)) == p, and encode is a fixed point. */
	sio_packet_encode(&p, &enc);
	if (p.data != NULL) {
		buf_reset(&js);
		sio_json_encode(p.data, &js);
		fuzz_check_text(&js);
	}
	cause = NULL;
	rc = sio_packet_decode(enc.data, enc.len, &q, &cause);
	if (rc != 0)
		fprintf(stderr,
		    "fuzz_sio_packet: re-encoded packet does not decode (%s): %s\n",
		    cause, buf_str(&enc));
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(q.type == p.type);
	FUZZ_CHECK(q.attachments == p.attachments);
	FUZZ_CHECK(strcmp(q.nsp, p.nsp) == 0);
	FUZZ_CHECK(q.has_id == p.has_id);
	FUZZ_CHECK(!p.has_id || q.id == p.id);
	FUZZ_CHECK((q.data == NULL) == (p.data == NULL));
	if (p.data != NULL && !json_object_equal(p.data, q.data))
		fprintf(stderr,
		    "fuzz_sio_packet: JSON differs after a round trip: %s\n",
		    buf_str(&enc));
	FUZZ_CHECK(p.data == NULL || json_object_equal(p.data, q.data));
	sio_packet_encode(&q, &enc2);
	FUZZ_CHECK(enc2.len == enc.len);
	FUZZ_CHECK(memcmp(enc2.data, enc.data, enc.len) == 0);

	/* A deep copy (what sio does before renumbering) encodes the same. */
	if (p.data != NULL) {
		copy = NULL;
		FUZZ_CHECK(json_object_deep_copy(p.data, &copy, NULL) == 0);
		buf_reset(&enc2);
		sio_json_encode(copy, &enc2);
		FUZZ_CHECK(enc2.len == js.len);
		FUZZ_CHECK(memcmp(enc2.data, js.data, js.len) == 0);
		json_object_put(copy);
	}

json:
	/* The JSON parser alone, on the whole input. */
	obj = sio_json_parse(s, size);
	if (obj != NULL) {
		fuzz_placeholders(obj, 0);
		buf_reset(&js);
		sio_json_encode(obj, &js);
		fuzz_check_text(&js);
		copy = sio_json_parse(js.data, js.len);
		FUZZ_CHECK(copy != NULL);
		FUZZ_CHECK(json_object_equal(obj, copy));
		json_object_put(copy);
		json_object_put(obj);
	}

	sio_packet_clear(&p);
	sio_packet_clear(&q);
	buf_clear(&enc);
	buf_clear(&enc2);
	buf_clear(&js);
	return (0);
}
