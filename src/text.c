/*
 * sio-fcgi: text helpers shared by the codecs: base64 (RFC 4648), base64url
 * and UTF-8 validation.  Output goes to a caller-owned buf; nothing else is
 * allocated.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "text.h"

static const char text_b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char text_b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
text_base64_encode_with(const char *alphabet, bool pad, const void *src,
    size_t len, struct buf *out)
{
	const unsigned char	*s = src;
	char			 q[4];
	uint32_t		 v;
	size_t			 i;

	if (len > 0)
		buf_reserve(out, (len + 2) / 3 * 4);
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 0x3f];
		q[2] = alphabet[(v >> 6) & 0x3f];
		q[3] = alphabet[v & 0x3f];
		buf_append(out, q, 4);
	}
	switch (len - i) {
	case 1:
		v = (uint32_t)s[i] << 16;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 0x3f];
		q[2] = q[3] = '=';
		buf_append(out, q, pad ? 4 : 2);
		break;
	case 2:
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 0x3f];
		q[2] = alphabet[(v >> 6) & 0x3f];
		q[3] = '=';
		buf_append(out, q, pad ? 4 : 3);
		break;
	}
}

void
text_base64_encode(const void *src, size_t len, struct buf *out)
{
	text_base64_encode_with(text_b64_std, true, src, len, out);
}

void
text_base64url_encode(const void *src, size_t len, struct buf *out)
{
	text_base64_encode_with(text_b64_url, false, src, len, out);
}

/* The 6-bit value of a standard base64 character, or -1. */
static int
text_base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

int
text_base64_decode(const char *src, size_t len, struct buf *out)
{
	const unsigned char	*s = (const unsigned char *)src;
	unsigned char		 b[3];
	uint32_t		 v;
	size_t			 i, n, pad, k;
	int			 d;

	/* Up to two trailing "=", and then only on a whole quantum. */
	pad = 0;
	while (pad < 2 && pad < len && s[len - pad - 1] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return (-EPROTO);
	n = len - pad;
	/* One character left over carries only 6 bits: never valid. */
	if (n % 4 == 1)
		return (-EPROTO);

	v = 0;
	k = 0;
	for (i = 0; i < n; i++) {
		if ((d = text_base64_value(s[i])) == -1)
			return (-EPROTO);
		v = v << 6 | (uint32_t)d;
		if (++k == 4) {
			b[0] = v >> 16;
			b[1] = (v >> 8) & 0xff;
			b[2] = v & 0xff;
			buf_append(out, b, 3);
			v = 0;
			k = 0;
		}
	}

	/*
	 * A partial quantum must end in zero bits (RFC 4648 section 3.5), so
	 * each byte string has exactly one encoding.
	 */
	switch (k) {
	case 2:
		if ((v & 0xf) != 0)
			return (-EPROTO);
		b[0] = v >> 4;
		buf_append(out, b, 1);
		break;
	case 3:
		if ((v & 0x3) != 0)
			return (-EPROTO);
		b[0] = v >> 10;
		b[1] = (v >> 2) & 0xff;
		buf_append(out, b, 2);
		break;
	}
	return (0);
}

/*
 * Well-formed UTF-8 byte sequences, as in Unicode 15 table 3-7: the second
 * byte's range depends on the first so that overlong forms, surrogates and
 * code points above U+10FFFF are all rejected.
 */
bool
text_utf8_is_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	const unsigned char	*end;
	unsigned char		 c, lo, hi;
	size_t			 more, j;

	if (len == 0)
		return (true);	/* str may be NULL */
	end = s + len;
	while (s < end) {
		c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (c == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;	/* overlong */
			else if (c == 0xf4)
				hi = 0x8f;	/* above U+10FFFF */
		} else
			return (false);	/* 0x80-0xc1, 0xf5-0xff */

		if ((size_t)(end - s) <= more)
			return (false);
		if (s[1] < lo || s[1] > hi)
			return (false);
		for (j = 2; j <= more; j++) {
			if (s[j] < 0x80 || s[j] > 0xbf)
				return (false);
		}
		s += more + 1;
	}
	return (true);
}
