/*
 * sio-fcgi: text helpers shared by the codecs: standard base64 (RFC 4648
 * section 4, alphabet "+/", "=" padding), base64url without padding for
 * ids, and UTF-8 validation.  No hidden allocation: output goes to a
 * caller-owned buf.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Append the standard base64 of src to out. */
void	text_base64_encode(const void *src, size_t len, struct buf *out);
/*
 * Append the bytes of standard base64 text to out.  Padding is optional
 * (Engine.IO clients always pad, but a missing "=" costs nothing to
 * accept); whitespace, "-_" and any other byte is an error.  Returns 0 or
 * -EPROTO; on error out may hold a partial result.
 */
int	text_base64_decode(const char *src, size_t len, struct buf *out);
/* Append base64url (RFC 4648 section 5, "-_", no padding) of src to out. */
void	text_base64url_encode(const void *src, size_t len, struct buf *out);
/*
 * True when s[0..len) is well-formed UTF-8: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence.  NUL bytes are valid UTF-8 and accepted.
 */
bool	text_utf8_is_valid(const char *s, size_t len);

#endif
