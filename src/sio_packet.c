/*
 * sio-fcgi: the Socket.IO v5 packet codec.  A decoded packet owns its
 * json_object, which callers borrow until sio_packet_clear(); encoding
 * appends to a caller-owned buf.  JSON is read by a strict parser of our
 * own (RFC 8259, as JSON.parse) that builds json-c objects, and written
 * in json-c's format by json_write.c.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "json_write.h"
#include "log.h"
#include "sio_packet.h"
#include "text.h"
#include "xmalloc.h"

/*
 * The largest placeholder number we read.  Attachments are at most
 * SIO_ATTACHMENTS_CAP, so this only keeps the conversion to size_t exact.
 */
#define SIO_PLACEHOLDER_MAX	INT32_MAX

/* The limits: written once at start-up, before any thread, then read. */
static int	sio_json_depth_limit = SIO_JSON_DEPTH;
static size_t	sio_attachments_limit = SIO_MAX_ATTACHMENTS;

/* Socket.IO v5: event names an application may not use (socket.ts). */
static const char *const sio_reserved_events[] = {
	"connect",
	"connect_error",
	"disconnect",
	"disconnecting",
	"newListener",
	"removeListener",
};

/*
 * Our own JSON parser, because json_tokener is too lenient: even with
 * JSON_TOKENER_STRICT, json-c 0.16 accepts NaN, Infinity, -01, 1.,
 * single-quoted keys and raw control characters in strings, all of which
 * JSON.parse refuses, and it saturates integers beyond 64 bits (a client's
 * 1e23 written as 99999999999999999999999 would come back as
 * 18446744073709551615).  This one takes exactly RFC 8259 JSON text,
 * nesting at most sio_json_depth_limit arrays and objects.
 */
struct sio_json_parser {
	const char	*p;
	const char	*end;
	struct buf	 tmp;		/* the string or number read */
	const char	*cause;		/* the first error */
};

/* json-c returns NULL when memory runs out; die, as the x* wrappers do. */
static struct json_object *
sio_json_alloced(struct json_object *obj)
{
	if (obj == NULL)
		fatalx("json-c: out of memory");
	return (obj);
}

static int
sio_json_fail(struct sio_json_parser *jp, const char *cause)
{
	if (jp->cause == NULL)
		jp->cause = cause;
	return (-EPROTO);
}

static bool
sio_json_is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/* RFC 8259: ws = space, tab, LF, CR, nothing else. */
static void
sio_json_skip_ws(struct sio_json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
	    *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

/* Skip a literal (true, false, null); false if the text differs. */
static bool
sio_json_skip_word(struct sio_json_parser *jp, const char *word)
{
	size_t	len = strlen(word);

	if ((size_t)(jp->end - jp->p) < len || memcmp(jp->p, word, len) != 0)
		return (false);
	jp->p += len;
	return (true);
}

/* Skip one or more digits; false if there is none. */
static bool
sio_json_skip_digits(struct sio_json_parser *jp)
{
	const char	*start = jp->p;

	while (jp->p < jp->end && sio_json_is_digit(*jp->p))
		jp->p++;
	return (jp->p != start);
}

/* Read the 4 hex digits at s (end bounds the read) into *cp. */
static bool
sio_json_hex4(const char *s, const char *end, unsigned int *cp)
{
	unsigned int	v = 0;
	int		i;
	char		c;

	if (end - s < 4)
		return (false);
	for (i = 0; i < 4; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned int)(c - 'A' + 10);
		else
			return (false);
	}
	*cp = v;
	return (true);
}

/* Append code point cp (not a surrogate, at most U+10FFFF) as UTF-8. */
static void
sio_json_put_utf8(struct buf *out, unsigned int cp)
{
	char	u[4];
	size_t	n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(out, u, n);
}

/* Read the \u escape at jp->p (just after the "\") into jp->tmp. */
static int
sio_json_unicode_escape(struct sio_json_parser *jp)
{
	unsigned int	cp, lo;

	if (!sio_json_hex4(jp->p + 1, jp->end, &cp))
		return (sio_json_fail(jp, "bad \\u escape in JSON string"));
	jp->p += 5;
	if (cp >= 0xd800 && cp <= 0xdbff && jp->end - jp->p >= 2 &&
	    jp->p[0] == '\\' && jp->p[1] == 'u' &&
	    sio_json_hex4(jp->p + 2, jp->end, &lo) &&
	    lo >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		jp->p += 6;
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		/*
		 * JSON.parse keeps a lone surrogate, but UTF-8 cannot hold one:
		 * write U+FFFD, as json-c does.
		 */
		cp = 0xfffd;
	}
	sio_json_put_utf8(&jp->tmp, cp);
	return (0);
}

/* Read the string at jp->p (its opening quote) into jp->tmp, unescaped. */
static int
sio_json_string(struct sio_json_parser *jp)
{
	const char	*run;
	unsigned char	 c;

	buf_reset(&jp->tmp);
	run = ++jp->p;
	for (;;) {
		if (jp->p == jp->end)
			return (sio_json_fail(jp, "unterminated JSON string"));
		c = (unsigned char)*jp->p;
		if (c == '"')
			break;
		if (c < 0x20) {
			return (sio_json_fail(jp,
			    "control character in JSON string"));
		}
		if (c != '\\') {
			jp->p++;
			continue;
		}
		buf_append(&jp->tmp, run, (size_t)(jp->p - run));
		if (++jp->p == jp->end)
			return (sio_json_fail(jp, "unterminated JSON string"));
		switch (*jp->p) {
		case '"':
		case '\\':
		case '/':
			buf_append_char(&jp->tmp, *jp->p++);
			break;
		case 'b':
			buf_append_char(&jp->tmp, '\b');
			jp->p++;
			break;
		case 'f':
			buf_append_char(&jp->tmp, '\f');
			jp->p++;
			break;
		case 'n':
			buf_append_char(&jp->tmp, '\n');
			jp->p++;
			break;
		case 'r':
			buf_append_char(&jp->tmp, '\r');
			jp->p++;
			break;
		case 't':
			buf_append_char(&jp->tmp, '\t');
			jp->p++;
			break;
		case 'u':
			if (sio_json_unicode_escape(jp) != 0)
				return (-EPROTO);
			break;
		default:
			return (sio_json_fail(jp, "bad escape in JSON string"));
		}
		run = jp->p;
	}
	buf_append(&jp->tmp, run, (size_t)(jp->p - run));
	jp->p++;
	return (0);
}

/* Read the number at jp->p into *out. */
static int
sio_json_number(struct sio_json_parser *jp, struct json_object **out)
{
	const char	*start = jp->p;
	bool		 is_int = true;
	long long	 v;
	double		 d;

	/* RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
	if (*jp->p == '-')
		jp->p++;
	if (jp->p < jp->end && *jp->p == '0')
		jp->p++;
	else if (!sio_json_skip_digits(jp))
		return (sio_json_fail(jp, "bad JSON number"));
	if (jp->p < jp->end && *jp->p == '.') {
		jp->p++;
		is_int = false;
		if (!sio_json_skip_digits(jp))
			return (sio_json_fail(jp, "bad JSON number"));
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		is_int = false;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (!sio_json_skip_digits(jp))
			return (sio_json_fail(jp, "bad JSON number"));
	}
	buf_reset(&jp->tmp);
	buf_append(&jp->tmp, start, (size_t)(jp->p - start));

	if (is_int) {
		errno = 0;
		v = strtoll(jp->tmp.data, NULL, 10);
		if (errno == 0) {
			*out = sio_json_alloced(json_object_new_int64(v));
			return (0);
		}
	}
	/*
	 * Anything else is a double, as in JavaScript.  json-c keeps the
	 * text and writes it back as received, so 1e400 stays 1e400 rather
	 * than becoming the invalid "Infinity".  The process never calls
	 * setlocale(3), so strtod() takes "." as the decimal point.
	 */
	d = strtod(jp->tmp.data, NULL);
	*out = sio_json_alloced(json_object_new_double_s(d, jp->tmp.data));
	return (0);
}

static int	sio_json_value(struct sio_json_parser *, int,
		    struct json_object **);

/* Read the array at jp->p, which sits inside level others, into *out. */
static int
sio_json_array(struct sio_json_parser *jp, int level,
    struct json_object **out)
{
	struct json_object	*arr, *v;

	if (level >= sio_json_depth_limit)
		return (sio_json_fail(jp, "JSON nested too deep"));
	jp->p++;
	arr = sio_json_alloced(json_object_new_array());
	sio_json_skip_ws(jp);
	if (jp->p < jp->end && *jp->p == ']')
		goto done;
	for (;;) {
		if (sio_json_value(jp, level + 1, &v) != 0)
			goto fail;
		if (json_object_array_add(arr, v) != 0)
			fatalx("json-c: out of memory");
		sio_json_skip_ws(jp);
		if (jp->p < jp->end && *jp->p == ']')
			break;
		if (jp->p == jp->end || *jp->p != ',') {
			sio_json_fail(jp,
			    "expected \",\" or \"]\" in JSON array");
			goto fail;
		}
		jp->p++;
	}
done:
	jp->p++;
	*out = arr;
	return (0);
fail:
	json_object_put(arr);
	return (-EPROTO);
}

/* Read the object at jp->p, which sits inside level others, into *out. */
static int
sio_json_object(struct sio_json_parser *jp, int level,
    struct json_object **out)
{
	struct json_object	*obj, *v;
	char			*key;

	if (level >= sio_json_depth_limit)
		return (sio_json_fail(jp, "JSON nested too deep"));
	jp->p++;
	obj = sio_json_alloced(json_object_new_object());
	sio_json_skip_ws(jp);
	if (jp->p < jp->end && *jp->p == '}')
		goto done;
	for (;;) {
		sio_json_skip_ws(jp);
		if (jp->p == jp->end || *jp->p != '"') {
			sio_json_fail(jp, "expected a key in JSON object");
			goto fail;
		}
		if (sio_json_string(jp) != 0)
			goto fail;
		/*
		 * json-c keys are C strings: "a\u0000b" would silently become
		 * "a", so refuse it.
		 */
		if (memchr(buf_str(&jp->tmp), '\0', jp->tmp.len) != NULL) {
			sio_json_fail(jp, "NUL character in JSON key");
			goto fail;
		}
		sio_json_skip_ws(jp);
		if (jp->p == jp->end || *jp->p != ':') {
			sio_json_fail(jp, "expected \":\" in JSON object");
			goto fail;
		}
		jp->p++;
		key = xstrdup(buf_str(&jp->tmp));
		if (sio_json_value(jp, level + 1, &v) != 0) {
			free(key);
			goto fail;
		}
		/* A repeated key replaces the first, as in JSON.parse. */
		if (json_object_object_add(obj, key, v) != 0)
			fatalx("json-c: out of memory");
		free(key);
		sio_json_skip_ws(jp);
		if (jp->p < jp->end && *jp->p == '}')
			break;
		if (jp->p == jp->end || *jp->p != ',') {
			sio_json_fail(jp,
			    "expected \",\" or \"}\" in JSON object");
			goto fail;
		}
		jp->p++;
	}
done:
	jp->p++;
	*out = obj;
	return (0);
fail:
	json_object_put(obj);
	return (-EPROTO);
}

/*
 * Read one value, which sits inside level arrays and objects, into *out
 * (NULL for null).  On error *out is NULL.
 */
static int
sio_json_value(struct sio_json_parser *jp, int level, struct json_object **out)
{
	*out = NULL;
	sio_json_skip_ws(jp);
	if (jp->p == jp->end)
		return (sio_json_fail(jp, "JSON value expected"));
	switch (*jp->p) {
	case '{':
		return (sio_json_object(jp, level, out));
	case '[':
		return (sio_json_array(jp, level, out));
	case '"':
		if (sio_json_string(jp) != 0)
			return (-EPROTO);
		*out = sio_json_alloced(json_object_new_string_len(
		    buf_str(&jp->tmp), (int)jp->tmp.len));
		return (0);
	case 't':
		if (!sio_json_skip_word(jp, "true"))
			break;
		*out = sio_json_alloced(json_object_new_boolean(1));
		return (0);
	case 'f':
		if (!sio_json_skip_word(jp, "false"))
			break;
		*out = sio_json_alloced(json_object_new_boolean(0));
		return (0);
	case 'n':
		if (!sio_json_skip_word(jp, "null"))
			break;
		return (0);
	default:
		if (*jp->p == '-' || sio_json_is_digit(*jp->p))
			return (sio_json_number(jp, out));
		break;
	}
	return (sio_json_fail(jp, "unexpected character in JSON"));
}

/*
 * Parse s[0..len), one JSON value with optional white space around it,
 * into *out (NULL for null).  Returns 0, or -EPROTO with *cause set.
 */
static int
sio_json_parse_value(const char *s, size_t len, struct json_object **out,
    const char **cause)
{
	struct sio_json_parser	jp;
	int			rc;

	*out = NULL;
	if (len == 0) {
		*cause = "JSON value expected";
		return (-EPROTO);
	}
	/* json-c takes string lengths as int. */
	if (len > INT_MAX) {
		*cause = "JSON text too long";
		return (-EPROTO);
	}
	/* Outside strings only ASCII is valid, so this checks the strings. */
	if (!text_utf8_is_valid(s, len)) {
		*cause = "JSON text is not valid UTF-8";
		return (-EPROTO);
	}
	jp.p = s;
	jp.end = s + len;
	buf_init(&jp.tmp);
	jp.cause = NULL;
	if ((rc = sio_json_value(&jp, 0, out)) == 0) {
		sio_json_skip_ws(&jp);
		if (jp.p != jp.end) {
			rc = sio_json_fail(&jp,
			    "trailing characters after JSON");
			json_object_put(*out);
			*out = NULL;
		}
	}
	buf_clear(&jp.tmp);
	if (rc != 0)
		*cause = jp.cause;
	return (rc);
}

struct json_object *
sio_json_parse(const char *s, size_t len)
{
	struct json_object	*obj;
	const char		*cause;

	/* The text "null" also gives NULL: json-c's null is NULL. */
	if (sio_json_parse_value(s, len, &obj, &cause) != 0)
		return (NULL);
	return (obj);
}

void
sio_json_encode(struct json_object *obj, struct buf *out)
{
	json_write(obj, out);
}

enum sio_placeholder_kind {
	SIO_PLACEHOLDER_NONE,
	SIO_PLACEHOLDER_VALID,
	SIO_PLACEHOLDER_INVALID,
};

/*
 * Node's reconstructPacket: any object whose "_placeholder" is true is a
 * placeholder, and its "num" must then be a number (here a non-negative
 * integer, which JavaScript may write 1.0).
 */
static enum sio_placeholder_kind
sio_placeholder_kind(struct json_object *obj, size_t *num)
{
	struct json_object	*v;
	int64_t			 i;
	double			 d;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "_placeholder", &v) ||
	    !json_object_is_type(v, json_type_boolean) ||
	    !json_object_get_boolean(v))
		return (SIO_PLACEHOLDER_NONE);
	if (!json_object_object_get_ex(obj, "num", &v))
		return (SIO_PLACEHOLDER_INVALID);
	switch (json_object_get_type(v)) {
	case json_type_int:
		i = json_object_get_int64(v);
		if (i < 0 || i > SIO_PLACEHOLDER_MAX)
			return (SIO_PLACEHOLDER_INVALID);
		*num = (size_t)i;
		return (SIO_PLACEHOLDER_VALID);
	case json_type_double:
		d = json_object_get_double(v);
		if (!(d >= 0 && d <= SIO_PLACEHOLDER_MAX) ||
		    d != (double)(int64_t)d)
			return (SIO_PLACEHOLDER_INVALID);
		*num = (size_t)d;
		return (SIO_PLACEHOLDER_VALID);
	default:
		return (SIO_PLACEHOLDER_INVALID);
	}
}

struct json_object *
sio_placeholder_new(size_t num)
{
	struct json_object	*obj;

	obj = sio_json_alloced(json_object_new_object());
	if (json_object_object_add(obj, "_placeholder",
	    sio_json_alloced(json_object_new_boolean(1))) != 0 ||
	    json_object_object_add(obj, "num",
	    sio_json_alloced(json_object_new_int64((int64_t)num))) != 0)
		fatalx("json-c: out of memory");
	return (obj);
}

bool
sio_placeholder_is(struct json_object *obj, size_t *num)
{
	size_t	n;

	if (sio_placeholder_kind(obj, &n) != SIO_PLACEHOLDER_VALID)
		return (false);
	if (num != NULL)
		*num = n;
	return (true);
}

/*
 * Count into *found the placeholders in obj, which sits inside level
 * arrays and objects.  A placeholder is not searched further, as in Node.
 */
static int
sio_placeholder_walk(struct json_object *obj, size_t count, int level,
    int *found)
{
	struct json_object_iterator	it, end;
	enum json_type			type;
	size_t				i, n, num;

	/* Parsed JSON is never this deep, but built JSON may even loop. */
	type = json_object_get_type(obj);
	if ((type == json_type_array || type == json_type_object) &&
	    level >= sio_json_depth_limit)
		return (-EPROTO);

	switch (sio_placeholder_kind(obj, &num)) {
	case SIO_PLACEHOLDER_VALID:
		if (num >= count || *found == INT_MAX)
			return (-EPROTO);
		(*found)++;
		return (0);
	case SIO_PLACEHOLDER_INVALID:
		return (-EPROTO);
	case SIO_PLACEHOLDER_NONE:
		break;
	}

	switch (type) {
	case json_type_array:
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++) {
			if (sio_placeholder_walk(json_object_array_get_idx(obj,
			    i), count, level + 1, found) != 0)
				return (-EPROTO);
		}
		return (0);
	case json_type_object:
		it = json_object_iter_begin(obj);
		end = json_object_iter_end(obj);
		while (!json_object_iter_equal(&it, &end)) {
			if (sio_placeholder_walk(
			    json_object_iter_peek_value(&it), count, level + 1,
			    found) != 0)
				return (-EPROTO);
			json_object_iter_next(&it);
		}
		return (0);
	default:
		return (0);
	}
}

int
sio_placeholder_check(struct json_object *obj, size_t count)
{
	int	found = 0;

	if (sio_placeholder_walk(obj, count, 0, &found) != 0)
		return (-EPROTO);
	return (found);
}

int
sio_packet_set_limits(int json_depth, size_t attachments)
{
	if (json_depth < 1 || json_depth > SIO_JSON_DEPTH_CAP ||
	    attachments < 1 || attachments > SIO_ATTACHMENTS_CAP)
		return (-EINVAL);
	sio_json_depth_limit = json_depth;
	sio_attachments_limit = attachments;
	return (0);
}

int
sio_packet_json_depth(void)
{
	return (sio_json_depth_limit);
}

size_t
sio_packet_max_attachments(void)
{
	return (sio_attachments_limit);
}

void
sio_packet_init(struct sio_packet *p)
{
	memset(p, 0, sizeof(*p));
	p->type = SIO_PKT_CONNECT;
	p->nsp[0] = '/';
}

void
sio_packet_clear(struct sio_packet *p)
{
	json_object_put(p->data);
	sio_packet_init(p);
}

static bool
sio_packet_is_binary(enum sio_pkt_type type)
{
	return (type == SIO_PKT_BINARY_EVENT || type == SIO_PKT_BINARY_ACK);
}

/* True for a number, or a string that is not a reserved event name. */
static bool
sio_event_name_is_valid(struct json_object *name)
{
	const char	*s;
	size_t		 i, len;

	switch (json_object_get_type(name)) {
	case json_type_int:
	case json_type_double:
		return (true);
	case json_type_string:
		s = json_object_get_string(name);
		len = (size_t)json_object_get_string_len(name);
		for (i = 0; i < nitems(sio_reserved_events); i++) {
			if (strlen(sio_reserved_events[i]) == len &&
			    memcmp(s, sio_reserved_events[i], len) == 0)
				return (false);
		}
		return (true);
	default:
		return (false);
	}
}

/*
 * Check the payload against the type, as Node's isPayloadValid does
 * (PROTOCOL.md 8.1, decoding step 5).  present is false when the packet
 * had no JSON at all.  Returns NULL or the reason.
 */
static const char *
sio_packet_check_payload(const struct sio_packet *p, bool present)
{
	struct json_object	*data = p->data;

	switch (p->type) {
	case SIO_PKT_CONNECT:
		if (present && !json_object_is_type(data, json_type_object))
			return ("CONNECT payload is not an object");
		return (NULL);
	case SIO_PKT_DISCONNECT:
		if (present)
			return ("DISCONNECT with a payload");
		return (NULL);
	case SIO_PKT_EVENT:
	case SIO_PKT_BINARY_EVENT:
		if (!json_object_is_type(data, json_type_array) ||
		    json_object_array_length(data) == 0)
			return ("event payload is not a non-empty array");
		if (!sio_event_name_is_valid(json_object_array_get_idx(data,
		    0)))
			return ("invalid or reserved event name");
		return (NULL);
	case SIO_PKT_ACK:
	case SIO_PKT_BINARY_ACK:
		if (!json_object_is_type(data, json_type_array))
			return ("ACK payload is not an array");
		return (NULL);
	case SIO_PKT_CONNECT_ERROR:
		if (json_object_is_type(data, json_type_object) ||
		    json_object_is_type(data, json_type_string))
			return (NULL);
		return ("CONNECT_ERROR payload is not an object or a string");
	}
	return ("unknown packet type");
}

int
sio_packet_decode(const char *s, size_t len, struct sio_packet *p,
    const char **cause)
{
	const char	*ignored, *why, *comma;
	size_t		 i, n;
	uint64_t	 id;
	unsigned int	 d;
	bool		 present;

	sio_packet_clear(p);
	if (cause == NULL)
		cause = &ignored;

	/* <type>[<attachments>-][<nsp>,][<ack id>][<JSON>], section 8.1. */
	if (len == 0) {
		*cause = "empty packet";
		goto fail;
	}
	if (s[0] < '0' || s[0] > '0' + SIO_PKT_BINARY_ACK) {
		*cause = "unknown packet type";
		goto fail;
	}
	p->type = (enum sio_pkt_type)(s[0] - '0');
	i = 1;

	if (sio_packet_is_binary(p->type)) {
		/* Digits up to "-", from 1 to Node's maxAttachments. */
		n = 0;
		while (i < len && sio_json_is_digit(s[i])) {
			if (n <= SIO_ATTACHMENTS_CAP)	/* no overflow */
				n = n * 10 + (size_t)(s[i] - '0');
			i++;
		}
		if (i == 1) {
			*cause = "attachment count missing";
			goto fail;
		}
		if (i == len || s[i] != '-') {
			*cause = "attachment count without \"-\"";
			goto fail;
		}
		if (n < 1 || n > sio_attachments_limit) {
			*cause = "attachment count out of range";
			goto fail;
		}
		p->attachments = n;
		i++;
	}

	/* A namespace runs from "/" to "," or to the end of the packet. */
	if (i < len && s[i] == '/') {
		comma = memchr(s + i, ',', len - i);
		n = comma != NULL ? (size_t)(comma - (s + i)) : len - i;
		if (n > SIO_NSP_MAX) {
			*cause = "namespace too long";
			goto fail;
		}
		if (memchr(s + i, '\0', n) != NULL) {
			*cause = "NUL byte in namespace";
			goto fail;
		}
		memcpy(p->nsp, s + i, n);
		p->nsp[n] = '\0';
		i += n + (comma != NULL ? 1 : 0);
	}

	/* The ack id: decimal, leading zeros allowed ("007" is 7). */
	if (i < len && sio_json_is_digit(s[i])) {
		id = 0;
		while (i < len && sio_json_is_digit(s[i])) {
			d = (unsigned int)(s[i] - '0');
			if (id > (UINT64_MAX - d) / 10) {
				*cause = "ack id out of range";
				goto fail;
			}
			id = id * 10 + d;
			i++;
		}
		p->has_id = true;
		p->id = id;
	}

	present = i < len;
	if (present &&
	    sio_json_parse_value(s + i, len - i, &p->data, cause) != 0)
		goto fail;
	if ((why = sio_packet_check_payload(p, present)) != NULL) {
		*cause = why;
		goto fail;
	}
	if (sio_packet_is_binary(p->type) &&
	    sio_placeholder_check(p->data, p->attachments) < 0) {
		*cause = "invalid or out of range attachment placeholder";
		goto fail;
	}
	return (0);

fail:
	sio_packet_clear(p);
	return (-EPROTO);
}

void
sio_packet_encode(const struct sio_packet *p, struct buf *out)
{
	assert(p->type >= SIO_PKT_CONNECT && p->type <= SIO_PKT_BINARY_ACK);
	buf_append_char(out, (char)('0' + p->type));
	if (sio_packet_is_binary(p->type))
		buf_printf(out, "%zu-", p->attachments);
	/* Like Node, an empty namespace is "/" too. */
	if (p->nsp[0] != '\0' && strcmp(p->nsp, "/") != 0) {
		buf_append_str(out, p->nsp);
		buf_append_char(out, ',');
	}
	if (p->has_id)
		buf_printf(out, "%" PRIu64, p->id);
	if (p->data != NULL)
		sio_json_encode(p->data, out);
}
