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

/*
 * The escape of each byte: 0 for none, the letter of a two-character
 * escape, or 'u' for \u00xx.
 */
static const char json_write_escape[256] = {
	['\0'] = 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0b] = 'u',
	['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	['"'] = '"', ['\\'] = '\\',
};

/*
 * Write the string of len bytes at s, quoted and escaped: one pass counts
 * the room the escapes take, which is made once, and a second writes the
 * bytes in place.
 */
static void
json_write_string(const char *s, size_t len, struct buf *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + len;
	size_t			 room = len + 2;
	char			*w;
	char			 e;

	for (; p < end; p++) {
		if ((e = json_write_escape[*p]) != 0)
			room += e == 'u' ? 5 : 1;
	}
	if (room < len)
		fatalx("json_write: a string of %zu bytes", len);
	buf_reserve(out, room);
	p = (const unsigned char *)s;
	w = out->data + out->len;
	*w++ = '"';
	while (p < end) {
		if ((e = json_write_escape[*p]) == 0) {
			*w++ = (char)*p++;
			continue;
		}
		*w++ = '\\';
		*w++ = e;
		if (e == 'u') {
			*w++ = '0';
			*w++ = '0';
			*w++ = hex[*p >> 4];
			*w++ = hex[*p & 0xf];
		}
		p++;
	}
	*w++ = '"';
	out->len = (size_t)(w - out->data);
	out->data[out->len] = '\0';
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
