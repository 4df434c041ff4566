/*
 * sio-fcgi: libFuzzer target for the pure HTTP helpers.
 *
 * The input is up to five NUL-separated strings: a query string, a
 * --cors-origin list, an Origin header, an Access-Control-Request-Headers
 * header and a parameter name.  Checked: http_query_get() against a
 * naive reference for several names; http_percent_decode() on the raw
 * input (length arithmetic, and a round trip through our own encoding);
 * http_header_value_is_valid() against its definition; http_cors_parse()
 * keeps only visible-ASCII origins; and the CORS header lines never hold
 * a CR, LF or NUL of their own (no header injection) and echo an Origin
 * only when the list holds it exactly.
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
#include "http.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_FIELDS	5

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_http: check failed: %s (%s:%d)\n",	\
		    #cond, __FILE__, __LINE__);					\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_http", LOG_LEVEL_ERROR);
	return (0);
}

static int
fuzz_hex(int c)
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
 * The reference decoder: form-urlencoded s[0..len) into a new NUL-ended
 * string of *outlen bytes, or NULL for a bad escape.
 */
static char *
fuzz_ref_decode(const char *s, size_t len, size_t *outlen)
{
	char	*out = malloc(len + 1);
	size_t	 i, n = 0;

	FUZZ_CHECK(out != NULL);
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] != '%')
			out[n++] = s[i];
		else if (len - i >= 3 && fuzz_hex((unsigned char)s[i + 1]) >= 0 &&
		    fuzz_hex((unsigned char)s[i + 2]) >= 0) {
			out[n++] = (char)(fuzz_hex((unsigned char)s[i + 1]) << 4 |
			    fuzz_hex((unsigned char)s[i + 2]));
			i += 2;
		} else {
			free(out);
			return (NULL);
		}
	}
	out[n] = '\0';
	*outlen = n;
	return (out);
}

/*
 * The reference query lookup (http.h): parameters split on "&", empty
 * ones skipped, key and value split on the first "=", keys compared
 * decoded (a badly encoded key matches nothing), the first match wins.
 */
static int
fuzz_ref_query_get(const char *qs, const char *name, char **value,
    size_t *vlen)
{
	const char	*p = qs, *amp, *eq, *end = qs + strlen(qs);
	char		*key;
	size_t		 klen, dlen;
	bool		 match;

	*value = NULL;
	*vlen = 0;
	for (; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq != NULL ? eq : amp) - p);
		key = fuzz_ref_decode(p, klen, &dlen);
		match = key != NULL && dlen == strlen(name) &&
		    memcmp(key, name, dlen) == 0;
		free(key);
		if (!match)
			continue;
		if (eq == NULL)
			return (1);
		*value = fuzz_ref_decode(eq + 1, (size_t)(amp - eq - 1), vlen);
		return (*value != NULL ? 1 : -EPROTO);
	}
	return (0);
}

static void
fuzz_query(const char *qs, const char *name)
{
	struct buf	 out;
	char		*ref;
	size_t		 rlen;
	int		 rc, want;

	buf_init(&out);
	buf_append_str(&out, "stale");
	rc = http_query_get(qs, name, &out);
	want = fuzz_ref_query_get(qs, name, &ref, &rlen);
	if (rc != want)
		fprintf(stderr,
		    "fuzz_http: http_query_get(\"%s\", \"%s\") = %d, expected %d\n",
		    qs, name, rc, want);
	FUZZ_CHECK(rc == want);
	if (rc == 1 && ref != NULL) {
		FUZZ_CHECK(out.len == rlen);
		FUZZ_CHECK(memcmp(buf_str(&out), ref, rlen) == 0);
	} else
		FUZZ_CHECK(out.len == 0);
	free(ref);
	buf_clear(&out);
}

static void
fuzz_percent(const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 out, enc, back;
	char			*ref;
	size_t			 rlen, i;
	unsigned char		 c;
	int			 rc;

	buf_init(&out);
	rc = http_percent_decode(s, len, &out);
	ref = fuzz_ref_decode(s, len, &rlen);
	FUZZ_CHECK((rc == 0) == (ref != NULL));
	if (rc != 0) {
		FUZZ_CHECK(rc == -EPROTO);
		buf_clear(&out);
		return;
	}
	FUZZ_CHECK(out.len == rlen && out.len <= len);
	FUZZ_CHECK(out.len == 0 || memcmp(out.data, ref, rlen) == 0);
	free(ref);

	/* Percent-encode every byte and decode again: the same bytes. */
	buf_init(&enc);
	buf_init(&back);
	for (i = 0; i < out.len; i++) {
		c = (unsigned char)out.data[i];
		buf_append_char(&enc, '%');
		buf_append_char(&enc, hex[c >> 4]);
		buf_append_char(&enc, hex[c & 0xf]);
	}
	FUZZ_CHECK(http_percent_decode(enc.data, enc.len, &back) == 0);
	FUZZ_CHECK(back.len == out.len);
	FUZZ_CHECK(out.len == 0 || memcmp(back.data, out.data, out.len) == 0);
	buf_clear(&enc);
	buf_clear(&back);
	buf_clear(&out);
}

static bool
fuzz_ref_header_value_is_valid(const char *v)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (!(*p == '\t' || (*p >= 0x20 && *p <= 0x7e) || *p >= 0x80))
			return (false);
	}
	return (true);
}

/*
 * Header lines: each ends in CRLF, and no CR, LF or NUL occurs anywhere
 * else.  Returns the number of lines.
 */
static size_t
fuzz_check_lines(const struct buf *h)
{
	size_t	i, n = 0;

	for (i = 0; i < h->len; i++) {
		FUZZ_CHECK(h->data[i] != '\0');
		if (h->data[i] == '\n')
			FUZZ_CHECK(i > 0 && h->data[i - 1] == '\r');
		if (h->data[i] == '\r') {
			FUZZ_CHECK(i + 1 < h->len && h->data[i + 1] == '\n');
			n++;
		}
	}
	FUZZ_CHECK(h->len == 0 || (h->len >= 2 &&
	    h->data[h->len - 2] == '\r' && h->data[h->len - 1] == '\n'));
	return (n);
}

/* The value of the header line named name (with ": "), or NULL. */
static const char *
fuzz_header_find(const struct buf *h, const char *name)
{
	const char	*p = buf_str(h);
	size_t		 n = strlen(name);

	for (;;) {
		if (strncmp(p, name, n) == 0)
			return (p + n);
		if ((p = strstr(p, "\r\n")) == NULL)
			return (NULL);
		p += 2;
	}
}

static void
fuzz_cors(const char *list, const char *origin, const char *acrh)
{
	struct http_cors	 cors;
	struct buf		 h;
	const char		*line = "Access-Control-Allow-Origin: ";
	const char		*at;
	size_t			 i, j;
	bool			 listed = false;
	int			 rc;

	memset(&cors, 0xa5, sizeof(cors));	/* parse must set it all */
	rc = http_cors_parse(list, &cors);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		FUZZ_CHECK(cors.origins == NULL && cors.norigins == 0 &&
		    !cors.any);
		return;
	}
	FUZZ_CHECK(!cors.any || cors.norigins == 0);
	FUZZ_CHECK((cors.origins == NULL) == (cors.norigins == 0));
	for (i = 0; i < cors.norigins; i++) {
		FUZZ_CHECK(cors.origins[i][0] != '\0');
		for (j = 0; cors.origins[i][j] != '\0'; j++) {
			FUZZ_CHECK((unsigned char)cors.origins[i][j] > 0x20 &&
			    (unsigned char)cors.origins[i][j] < 0x7f &&
			    cors.origins[i][j] != '*');
		}
		if (origin != NULL && strcmp(origin, cors.origins[i]) == 0)
			listed = true;
	}
	if (cors.norigins > 0)
		FUZZ_CHECK(cors.origins[cors.norigins] == NULL);

	buf_init(&h);
	http_cors_headers(&cors, origin, &h);
	fuzz_check_lines(&h);
	FUZZ_CHECK(http_cors_is_enabled(&cors) || h.len == 0);
	at = fuzz_header_find(&h, line);
	if (cors.any)
		FUZZ_CHECK(at != NULL && strncmp(at, "*\r\n", 3) == 0);
	else if (listed) {
		FUZZ_CHECK(at != NULL);
		FUZZ_CHECK(strncmp(at, origin, strlen(origin)) == 0 &&
		    strncmp(at + strlen(origin), "\r\n", 2) == 0);
	} else
		FUZZ_CHECK(at == NULL);
	if (cors.norigins > 0)
		FUZZ_CHECK(fuzz_header_find(&h, "Vary: Origin\r\n") != NULL);

	buf_reset(&h);
	http_cors_preflight_headers(&cors, origin, acrh, &h);
	fuzz_check_lines(&h);
	FUZZ_CHECK(http_cors_is_enabled(&cors) || h.len == 0);
	if (!listed && !cors.any)
		FUZZ_CHECK(fuzz_header_find(&h, line) == NULL);
	/* The requested headers are echoed only when valid. */
	if (acrh != NULL && !fuzz_ref_header_value_is_valid(acrh))
		FUZZ_CHECK(fuzz_header_find(&h,
		    "Access-Control-Allow-Headers: ") == NULL);
	buf_clear(&h);
	http_cors_clear(&cors);
	FUZZ_CHECK(cors.origins == NULL && cors.norigins == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*names[] = { "transport", "sid", "EIO", "t",
				    "", "a b", "%", "=", "j" };
	const char		*f[FUZZ_FIELDS];
	struct http_response	 resp;
	struct buf		 head;
	char			*copy;
	size_t			 i, nf;
	const char		*p, *end;

	/* Copy with a NUL at the end, then split on the NULs. */
	copy = malloc(size + 1);
	FUZZ_CHECK(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	for (nf = 0; nf < FUZZ_FIELDS; nf++) {
		f[nf] = p <= end ? p : NULL;
		if (p <= end)
			p += strlen(p) + 1;
	}

	fuzz_percent((const char *)data, size);
	for (i = 0; i < nitems(names); i++)
		fuzz_query(f[0], names[i]);
	if (f[4] != NULL)
		fuzz_query(f[0], f[4]);
	FUZZ_CHECK(http_query_get(NULL, "sid", &(struct buf){ 0 }) == 0);

	FUZZ_CHECK(http_header_value_is_valid(f[0]) ==
	    fuzz_ref_header_value_is_valid(f[0]));
	FUZZ_CHECK(http_header_value_is_valid(NULL));
	if (f[2] != NULL)
		FUZZ_CHECK(http_header_value_is_valid(f[2]) ==
		    fuzz_ref_header_value_is_valid(f[2]));

	/* The uri as a request path: never reads past its end. */
	(void)http_path_has_prefix(f[0], "/socket.io");
	(void)http_path_has_prefix(f[0], f[1] != NULL ? f[1] : "");

	fuzz_cors(f[1], f[2], f[3]);
	fuzz_cors(f[0], f[2], f[3]);

	/* The response head ends with an empty line. */
	http_response_init(&resp);
	buf_init(&head);
	resp.status = size > 0 ? data[0] * 3 : 200;
	resp.content_type = f[3];
	http_response_head(&resp, &head);
	FUZZ_CHECK(head.len >= 4 &&
	    memcmp(head.data + head.len - 4, "\r\n\r\n", 4) == 0);
	buf_clear(&head);
	http_response_clear(&resp);

	free(copy);
	return (0);
}
