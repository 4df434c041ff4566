/*
 * sio-fcgi: the JSON text of a json-c value, written straight into a buf.
 *
 * json-c's own writer builds the text in a print buffer it allocates in
 * the object (and in every nested object it reaches through the object's
 * serializer), copying each piece through printbuf_memappend.  Encoding
 * a chat message that way cost as much as storing it (docs/design.md,
 * "Writing JSON").  This writer walks the tree once and appends to the
 * caller's buffer.
 *
 * The output is json-c 0.16's with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, byte for byte (tests/check_json_write.c
 * compares them on random trees):
 *   - strings and keys: '"', '\\', \b, \f, \n, \r, \t as two-character
 *     escapes, every other byte below 0x20 as \u00xx (lower-case hex),
 *     everything else, bytes above 0x7f included, as it is; a key ends at
 *     its first NUL (json-c writes it with strlen), a string does not;
 *   - objects in insertion order, "null" for a NULL member;
 *   - doubles are left to json-c: one made by the parser writes back the
 *     text it was read from, another goes through json-c's formatting;
 *   - integers in decimal; the one value json-c could hold unsigned
 *     beyond INT64_MAX is left to json-c too.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json_write.h"
#include "log.h"

/* Bytes that need an escape: below 0x20, '"' and '\\'. */
static inline int
json_write_needs_escape(unsigned char c)
{
	return (c < 0x20 || c == '"' || c == '\\');
}

static void
json_write_string(const char *s, size_t len, struct buf *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, start = 0;
	char			 esc[6];
	unsigned char		 c;

	buf_reserve(out, len + 2);
	buf_append_char(out, '"');
	for (i = 0; i < len; i++) {
		c = p[i];
		if (!json_write_needs_escape(c))
			continue;
		if (i > start)
			buf_append(out, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			buf_append(out, esc, 6);
			continue;
		}
		buf_append(out, esc, 2);
	}
	if (len > start)
		buf_append(out, s + start, len - start);
	buf_append_char(out, '"');
}

/* What json-c writes for obj, for the values this file leaves to it. */
static void
json_write_by_jsonc(struct json_object *obj, struct buf *out)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL)
		fatalx("json-c: out of memory");
	buf_append(out, s, len);
}

void
json_write(struct json_object *obj, struct buf *out)
{
	char		num[24];
	size_t		i, n;
	int64_t		v;
	int		len;
	bool		first;

	switch (json_object_get_type(obj)) {
	case json_type_null:
		buf_append(out, "null", 4);
		return;
	case json_type_boolean:
		if (json_object_get_boolean(obj))
			buf_append(out, "true", 4);
		else
			buf_append(out, "false", 5);
		return;
	case json_type_int:
		v = json_object_get_int64(obj);
		if (v == INT64_MAX) {
			/* Maybe a uint64 above it: json-c knows. */
			json_write_by_jsonc(obj, out);
			return;
		}
		len = snprintf(num, sizeof(num), "%" PRId64, v);
		buf_append(out, num, (size_t)len);
		return;
	case json_type_double:
		json_write_by_jsonc(obj, out);
		return;
	case json_type_string:
		json_write_string(json_object_get_string(obj),
		    (size_t)json_object_get_string_len(obj), out);
		return;
	case json_type_array:
		buf_append_char(out, '[');
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_append_char(out, ',');
			json_write(json_object_array_get_idx(obj, i), out);
		}
		buf_append_char(out, ']');
		return;
	case json_type_object:
		buf_append_char(out, '{');
		first = true;
		json_object_object_foreach(obj, key, val) {
			if (!first)
				buf_append_char(out, ',');
			first = false;
			json_write_string(key, strlen(key), out);
			buf_append_char(out, ':');
			json_write(val, out);
		}
		buf_append_char(out, '}');
		return;
	}
	/* A type json-c added later: its own writer knows it. */
	json_write_by_jsonc(obj, out);
}
