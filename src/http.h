/*
 * sio-fcgi: pure HTTP helpers: the query string, percent-decoding, the
 * request path, status texts, Origin checks and CORS headers.  No I/O and
 * no hidden allocation: results go to caller-supplied bufs.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_OPTIONS,
	HTTP_OTHER,
};

/*
 * One request as the front hands it to the layers above.  Strings are
 * borrowed from the front for the request's lifetime; any may be NULL.
 */
struct http_request {
	enum http_method	 method;
	const char		*method_name;
	const char		*uri;		/* REQUEST_URI, path + query */
	const char		*query;		/* QUERY_STRING */
	const char		*origin;	/* Origin header */
	const char		*content_type;
	const char		*acrh;	/* Access-Control-Request-Headers */
	long long		 content_length; /* -1 when not given */
	/*
	 * Read the whole body into body (replacing its contents), at most
	 * max bytes.  Returns 0, -EMSGSIZE when the body is longer than max
	 * (the rest is drained), or -EIO.
	 */
	int			(*read_body)(struct http_request *, size_t max,
				    struct buf *body);
	/*
	 * Optional (NULL: never at hand).  Read the whole body into body
	 * (replacing its contents) only if all of it has already reached
	 * us, as when the web server buffered it before starting the
	 * request (lighttpd, mod_fcgid): never wait for the client.
	 * Returns 1 with the body read, 0 when some of it is still to come
	 * (what was read is kept: read_body() returns it with the rest), or
	 * what read_body() would return on an error (-EMSGSIZE, -EIO).
	 */
	int			(*read_body_ready)(struct http_request *,
				    size_t max, struct buf *body);
	void			*ctx;		/* the front's */
};

/* One answer: status, Content-Type (static string), header lines, body. */
struct http_response {
	int		 status;
	const char	*content_type;	/* NULL: no Content-Type header */
	struct buf	 headers;	/* extra "Name: value\r\n" lines */
	struct buf	 body;
};

void	http_response_init(struct http_response *);
void	http_response_clear(struct http_response *);
/* Back to status 200, no type, no headers, empty body; memory kept. */
void	http_response_reset(struct http_response *);
/*
 * Append the CGI response head to out: "Status: 200 OK\r\n", then
 * Content-Type when set, "Content-Length: <body bytes>\r\n", the extra
 * header lines and the blank line.  The body is not appended.
 */
void	http_response_head(const struct http_response *, struct buf *out);

/*
 * Percent-decode s[0..len) into out ("+" becomes a space, as in
 * application/x-www-form-urlencoded).  Returns 0, or -EPROTO for a "%" not
 * followed by two hex digits.
 */
int	http_percent_decode(const char *s, size_t len, struct buf *out);

/*
 * Find parameter name in the query string qs (without the leading "?";
 * qs may be NULL) and put its percent-decoded value in out, replacing what
 * out held.  The first occurrence wins; "a" and "a=" both give "".
 * Returns 1 when found, 0 when absent, -EPROTO when the value is badly
 * encoded.
 */
int	http_query_get(const char *qs, const char *name, struct buf *out);

/*
 * True when the path of request_uri (everything before "?") is prefix, or
 * prefix followed by "/" and anything.  prefix has no trailing slash:
 * "/engine.io" matches "/engine.io", "/engine.io/" and "/engine.io/x?y",
 * not "/engine.iox".
 */
bool	http_path_has_prefix(const char *request_uri, const char *prefix);

/*
 * True when path can be an endpoint's path, the prefix of
 * http_path_has_prefix(): "/" and one or more segments of characters
 * that need no escaping in a URL path, no trailing slash, no "." or ".."
 * segment, no empty one ("/socket.io", "/~user/chat/socket.io").
 */
bool	http_path_is_endpoint(const char *path);

/* The reason phrase of an HTTP status ("Bad Request"), "" if unknown. */
const char *http_status_text(int status);

/*
 * True when an Origin header value holds only characters a header value
 * may hold: tab, 0x20-0x7e and bytes 0x80-0xff (Node's
 * checkInvalidHeaderChar).  NULL is valid (no header).
 */
bool	http_header_value_is_valid(const char *value);

/*
 * CORS policy, parsed from the --cors-origin list: empty or NULL = no
 * CORS headers at all; "*" = "Access-Control-Allow-Origin: *" on every
 * answer; otherwise a comma-separated list of exact origins
 * ("https://a.example,http://localhost:8080"): a request whose Origin is
 * in the list gets that origin echoed with
 * "Access-Control-Allow-Credentials: true" (never "*", which browsers
 * refuse with credentials), and every answer gets "Vary: Origin".
 */
struct http_cors {
	bool	  any;		/* "*" */
	char	**origins;	/* owned, NULL-terminated; NULL when none */
	size_t	  norigins;
};

/* Parse list into cors (which the caller clears). Returns 0 or -EINVAL. */
int	http_cors_parse(const char *list, struct http_cors *cors);
void	http_cors_clear(struct http_cors *);
/*
 * True when the policy sends any CORS header at all ("*" or a list; a list
 * always adds "Vary: Origin", whatever the request's Origin).
 */
bool	http_cors_is_enabled(const struct http_cors *);
/*
 * Append the CORS header lines ("Name: value\r\n") for an ordinary answer
 * to a request with this Origin (may be NULL) to hdrs.
 */
void	http_cors_headers(const struct http_cors *, const char *origin,
	    struct buf *hdrs);
/*
 * Append the header lines of the answer to a preflight OPTIONS request:
 * the headers of http_cors_headers() plus
 * "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE", the
 * requested headers (acrh, may be NULL) echoed in
 * "Access-Control-Allow-Headers", and
 * "Vary: Access-Control-Request-Headers" (merged with "Origin" into one
 * Vary line when both apply).
 */
void	http_cors_preflight_headers(const struct http_cors *,
	    const char *origin, const char *acrh, struct buf *hdrs);

#endif
