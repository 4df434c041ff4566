/*
 * sio-fcgi: libFuzzer target for the Engine.IO payload codec.
 *
 * The input is one POST body.  Every packet eio_payload_next() yields is
 * re-encoded with eio_packet_encode() or eio_packet_encode_binary(); the
 * properties checked are those of eio_packet.h: decoding never reads
 * outside the payload, a text packet is its type digit plus valid UTF-8
 * that borrows the payload, a binary packet's base64 comes back the same
 * (up to the optional "=" padding), and when the whole payload decodes,
 * its re-encoding decodes to the same packets.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "eio_packet.h"
#include "log.h"
#include "text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_MAX_PACKETS	4096

/* A property failed: say which and crash, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_eio_payload: check failed: %s (%s:%d)\n",	\
		    #cond, __FILE__, __LINE__);					\
		abort();						\
	}								\
} while (0)

struct fuzz_pkt {
	enum eio_pkt_type	 type;
	bool			 binary;
	size_t			 off;	/* into the packets' bytes */
	size_t			 len;
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_eio_payload", LOG_LEVEL_ERROR);
	return (0);
}

/* Length of base64 text without its trailing "=" padding. */
static size_t
fuzz_unpadded(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == '=')
		len--;
	return (len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_pkt	 pkts[FUZZ_MAX_PACKETS];
	struct eio_payload_iter	 it, it2;
	struct eio_packet	 p;
	struct buf		 bin, out, bytes, one;
	const char		*in, *src;
	size_t			 n = 0, i, srclen;
	bool			 whole = false;
	int			 rc;

	/* A NULL payload of length 0 is what an absent body gives. */
	in = size > 0 ? (const char *)data : NULL;
	buf_init(&bin);
	buf_init(&out);
	buf_init(&bytes);
	buf_init(&one);

	eio_payload_iter_init(&it, in, size);
	for (;;) {
		src = it.p;
		rc = eio_payload_next(&it, &p, &bin);
		if (rc == 0) {
			whole = true;
			break;
		}
		if (rc < 0) {
			FUZZ_CHECK(rc == -EPROTO);
			/* The cursor stays put: the same error again. */
			FUZZ_CHECK(it.p == src);
			FUZZ_CHECK(eio_payload_next(&it, &p, &bin) == -EPROTO);
			break;
		}
		FUZZ_CHECK(rc == 1);
		FUZZ_CHECK(p.type >= EIO_PKT_OPEN && p.type <= EIO_PKT_NOOP);
		FUZZ_CHECK(it.p > src && it.p <= in + size);
		/* The packet's text: from src up to the separator or end. */
		srclen = (size_t)(it.p - src);
		if (!it.done) {
			FUZZ_CHECK(src[srclen - 1] == EIO_RECORD_SEPARATOR);
			srclen--;
		}
		FUZZ_CHECK(memchr(src, EIO_RECORD_SEPARATOR, srclen) == NULL);

		buf_reset(&one);
		if (p.binary) {
			FUZZ_CHECK(p.type == EIO_PKT_MESSAGE);
			FUZZ_CHECK(src[0] == 'b');
			FUZZ_CHECK(p.len == bin.len);
			eio_packet_encode_binary(p.data, p.len, &one);
			/* Canonical base64: only the padding may differ. */
			FUZZ_CHECK(fuzz_unpadded(one.data, one.len) ==
			    fuzz_unpadded(src, srclen));
			FUZZ_CHECK(memcmp(one.data, src,
			    fuzz_unpadded(src, srclen)) == 0);
		} else {
			FUZZ_CHECK(p.data == src + 1);
			FUZZ_CHECK(p.len == srclen - 1);
			FUZZ_CHECK(text_utf8_is_valid(p.data, p.len));
			eio_packet_encode(p.type, p.data, p.len, &one);
			FUZZ_CHECK(one.len == srclen);
			FUZZ_CHECK(memcmp(one.data, src, srclen) == 0);
		}
		if (n < FUZZ_MAX_PACKETS) {
			pkts[n].type = p.type;
			pkts[n].binary = p.binary;
			pkts[n].off = bytes.len;
			pkts[n].len = p.len;
			buf_append(&bytes, p.data, p.len);
			n++;
		}
		if (out.len > 0)
			buf_append_char(&out, EIO_RECORD_SEPARATOR);
		buf_append(&out, one.data, one.len);
	}

	/* A payload that decoded completely decodes the same re-encoded. */
	if (whole && n < FUZZ_MAX_PACKETS) {
		FUZZ_CHECK(n > 0);
		eio_payload_iter_init(&it2, out.data, out.len);
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(eio_payload_next(&it2, &p, &bin) == 1);
			FUZZ_CHECK(p.type == pkts[i].type);
			FUZZ_CHECK(p.binary == pkts[i].binary);
			FUZZ_CHECK(p.len == pkts[i].len);
			FUZZ_CHECK(p.len == 0 || memcmp(p.data,
			    bytes.data + pkts[i].off, p.len) == 0);
		}
		FUZZ_CHECK(eio_payload_next(&it2, &p, &bin) == 0);
	}

	buf_clear(&bin);
	buf_clear(&out);
	buf_clear(&bytes);
	buf_clear(&one);
	return (0);
}
