/*
 * sio-fcgi: pure HTTP helpers: query string, percent-decoding, request
 * path, status texts, header-value checks, CORS and the CGI response head.
 * No I/O; results go to caller-supplied bufs.  Only the CORS policy, which
 * comes from the configuration, owns memory.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "xmalloc.h"

/* Preflight answer, as the cors middleware used by Node sends it. */
#define HTTP_CORS_METHODS	"GET,HEAD,PUT,PATCH,POST,DELETE"

static const struct {
	int		 status;
	const char	*text;
} http_status_texts[] = {
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 411, "Length Required" },
	{ 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
	{ 507, "Insufficient Storage" },
};

void
http_response_init(struct http_response *r)
{
	r->status = 200;
	r->content_type = NULL;
	buf_init(&r->headers);
	buf_init(&r->body);
}

void
http_response_clear(struct http_response *r)
{
	buf_clear(&r->headers);
	buf_clear(&r->body);
	http_response_init(r);
}

void
http_response_reset(struct http_response *r)
{
	r->status = 200;
	r->content_type = NULL;
	buf_reset(&r->headers);
	buf_reset(&r->body);
}

void
http_response_head(const struct http_response *r, struct buf *out)
{
	const char	*text = http_status_text(r->status);

	/* CGI (RFC 3875 section 6.3.3): the reason phrase may be empty. */
	if (*text != '\0')
		buf_printf(out, "Status: %d %s\r\n", r->status, text);
	else
		buf_printf(out, "Status: %d\r\n", r->status);
	if (r->content_type != NULL)
		buf_printf(out, "Content-Type: %s\r\n", r->content_type);
	buf_printf(out, "Content-Length: %zu\r\n", r->body.len);
	buf_append(out, r->headers.data, r->headers.len);
	buf_append(out, "\r\n", 2);
}

const char *
http_status_text(int status)
{
	size_t	i;

	for (i = 0; i < nitems(http_status_texts); i++) {
		if (http_status_texts[i].status == status)
			return (http_status_texts[i].text);
	}
	return ("");
}

/* The value of a hex digit, or -1. */
static int
http_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decode one character of s[*i..len) (form-urlencoded) into *c and advance
 * *i.  Returns 0 or -EPROTO for a bad "%" escape.
 */
static int
http_percent_next(const char *s, size_t len, size_t *i, char *c)
{
	int	hi, lo;

	if (s[*i] == '+') {
		*c = ' ';
		(*i)++;
		return (0);
	}
	if (s[*i] != '%') {
		*c = s[*i];
		(*i)++;
		return (0);
	}
	if (len - *i < 3)
		return (-EPROTO);
	if ((hi = http_hex_value(s[*i + 1])) == -1 ||
	    (lo = http_hex_value(s[*i + 2])) == -1)
		return (-EPROTO);
	*c = (char)(hi << 4 | lo);
	*i += 3;
	return (0);
}

int
http_percent_decode(const char *s, size_t len, struct buf *out)
{
	size_t	i;
	char	c;
	int	rc;

	i = 0;
	while (i < len) {
		if ((rc = http_percent_next(s, len, &i, &c)) != 0)
			return (rc);
		buf_append_char(out, c);
	}
	return (0);
}

/*
 * True when the percent-decoded key s[0..len) is name.  Keys are compared
 * decoded, as Node's querystring does, without allocating; a badly encoded
 * key matches nothing.
 */
static bool
http_query_key_is(const char *s, size_t len, const char *name)
{
	size_t	i;
	char	c;

	i = 0;
	while (i < len) {
		if (http_percent_next(s, len, &i, &c) != 0)
			return (false);
		if (*name == '\0' || c != *name)
			return (false);
		name++;
	}
	return (*name == '\0');
}

int
http_query_get(const char *qs, const char *name, struct buf *out)
{
	const char	*p, *amp, *eq, *end;
	size_t		 klen;

	buf_reset(out);
	if (qs == NULL)
		return (0);
	end = qs + strlen(qs);
	for (p = qs; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if (amp == p)
			continue;	/* "a=1&&b=2" */
		if ((eq = memchr(p, '=', amp - p)) == NULL)
			klen = amp - p;
		else
			klen = eq - p;
		if (!http_query_key_is(p, klen, name))
			continue;
		if (eq == NULL)
			return (1);
		if (http_percent_decode(eq + 1, amp - eq - 1, out) != 0) {
			buf_reset(out);
			return (-EPROTO);
		}
		return (1);
	}
	return (0);
}

bool
http_path_has_prefix(const char *request_uri, const char *prefix)
{
	size_t	n;

	if (request_uri == NULL || prefix == NULL)
		return (false);
	n = strlen(prefix);
	if (strncmp(request_uri, prefix, n) != 0)
		return (false);
	return (request_uri[n] == '\0' || request_uri[n] == '?' ||
	    request_uri[n] == '/');
}

bool
http_path_is_endpoint(const char *path)
{
	const char	*seg, *p;
	size_t		 n;

	if (path == NULL || *path != '/')
		return (false);
	for (seg = path + 1;; seg = p + 1) {
		/* RFC 3986 pchar without pct-encoded and ':' '@'. */
		for (p = seg; *p != '\0' && *p != '/'; p++) {
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') ||
			    strchr("-._~!$&'()*+,;=", *p) != NULL))
				return (false);
		}
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return (false);
		if (*p == '\0')
			return (true);
	}
}

bool
http_header_value_is_valid(const char *value)
{
	const unsigned char	*p;

	if (value == NULL)
		return (true);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '\t' || (*p >= 0x20 && *p <= 0x7e) || *p >= 0x80)
			continue;
		return (false);
	}
	return (true);
}

static bool
http_is_space(char c)
{
	return (c == ' ' || c == '\t');
}

/*
 * An allowed origin is echoed in a header line, so it holds only visible
 * ASCII ("https://a.example:8443", "null"); "*" is no wildcard inside a
 * list, so it is refused rather than matched literally.
 */
static bool
http_cors_origin_is_valid(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	if (len == 0)
		return (false);
	for (i = 0; i < len; i++) {
		if (u[i] <= 0x20 || u[i] >= 0x7f || u[i] == '*')
			return (false);
	}
	return (true);
}

int
http_cors_parse(const char *list, struct http_cors *cors)
{
	const char	*p, *end, *comma, *a, *b;
	size_t		 n;

	cors->any = false;
	cors->origins = NULL;
	cors->norigins = 0;
	if (list == NULL)
		return (0);

	p = list;
	end = list + strlen(list);
	while (p < end && http_is_space(*p))
		p++;
	while (end > p && http_is_space(end[-1]))
		end--;
	if (p == end)
		return (0);
	if (end - p == 1 && *p == '*') {
		cors->any = true;
		return (0);
	}

	for (;;) {
		if ((comma = memchr(p, ',', end - p)) == NULL)
			comma = end;
		for (a = p; a < comma && http_is_space(*a); a++)
			/* nothing */;
		for (b = comma; b > a && http_is_space(b[-1]); b--)
			/* nothing */;
		n = b - a;
		if (!http_cors_origin_is_valid(a, n)) {
			http_cors_clear(cors);
			return (-EINVAL);
		}
		cors->origins = xreallocarray(cors->origins,
		    cors->norigins + 2, sizeof(*cors->origins));
		cors->origins[cors->norigins++] = xstrndup(a, n);
		cors->origins[cors->norigins] = NULL;
		if (comma == end)
			break;
		p = comma + 1;
	}
	return (0);
}

void
http_cors_clear(struct http_cors *cors)
{
	size_t	i;

	for (i = 0; i < cors->norigins; i++)
		free(cors->origins[i]);
	free(cors->origins);
	cors->origins = NULL;
	cors->norigins = 0;
	cors->any = false;
}

bool
http_cors_is_enabled(const struct http_cors *cors)
{
	return (cors->any || cors->norigins > 0);
}

static bool
http_cors_origin_is_allowed(const struct http_cors *cors,
    const char *origin)
{
	size_t	i;

	if (origin == NULL)
		return (false);
	for (i = 0; i < cors->norigins; i++) {
		if (strcmp(cors->origins[i], origin) == 0)
			return (true);
	}
	return (false);
}

/*
 * Append Access-Control-Allow-Origin (and -Credentials) without Vary.
 * Returns true when the answer must vary on Origin.
 */
static bool
http_cors_origin_headers(const struct http_cors *cors, const char *origin,
    struct buf *hdrs)
{
	if (cors->any) {
		buf_append_str(hdrs, "Access-Control-Allow-Origin: *\r\n");
		return (false);
	}
	if (cors->norigins == 0)
		return (false);
	/* Echo only a configured string: origin itself is never trusted. */
	if (http_cors_origin_is_allowed(cors, origin)) {
		buf_printf(hdrs, "Access-Control-Allow-Origin: %s\r\n",
		    origin);
		buf_append_str(hdrs,
		    "Access-Control-Allow-Credentials: true\r\n");
	}
	return (true);
}

void
http_cors_headers(const struct http_cors *cors, const char *origin,
    struct buf *hdrs)
{
	if (http_cors_origin_headers(cors, origin, hdrs))
		buf_append_str(hdrs, "Vary: Origin\r\n");
}

void
http_cors_preflight_headers(const struct http_cors *cors, const char *origin,
    const char *acrh, struct buf *hdrs)
{
	bool	vary_origin;

	if (!http_cors_is_enabled(cors))
		return;
	vary_origin = http_cors_origin_headers(cors, origin, hdrs);
	buf_append_str(hdrs,
	    "Access-Control-Allow-Methods: " HTTP_CORS_METHODS "\r\n");
	/*
	 * The requested headers are echoed into our answer, so they must not
	 * be able to end the header line.
	 */
	if (acrh != NULL && *acrh != '\0' && http_header_value_is_valid(acrh))
		buf_printf(hdrs, "Access-Control-Allow-Headers: %s\r\n", acrh);
	if (vary_origin)
		buf_append_str(hdrs,
		    "Vary: Origin, Access-Control-Request-Headers\r\n");
	else
		buf_append_str(hdrs,
		    "Vary: Access-Control-Request-Headers\r\n");
}
