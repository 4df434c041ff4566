/*
 * sio-fcgi: unit tests for http: percent-decoding, the query string, the
 * request path, status texts, header values, CORS and the response head.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "http.h"
#include "testutil.h"

#define ACAO_STAR	"Access-Control-Allow-Origin: *\r\n"
#define ACAC		"Access-Control-Allow-Credentials: true\r\n"
#define ACAM		"Access-Control-Allow-Methods: " \
			    "GET,HEAD,PUT,PATCH,POST,DELETE\r\n"
#define VARY_ORIGIN	"Vary: Origin\r\n"
#define VARY_ACRH	"Vary: Access-Control-Request-Headers\r\n"
#define VARY_BOTH	"Vary: Origin, Access-Control-Request-Headers\r\n"

#define ORIGIN_A	"https://a.example"
#define ORIGIN_B	"http://localhost:8080"

/* A byte string with its length, so vectors may hold NUL bytes. */
struct bytes {
	const char	*s;
	size_t		 len;
};
#define B(lit)	{ (lit), sizeof(lit) - 1 }

static const struct {
	const char	*in;
	struct bytes	 out;
} percent_vectors[] = {
	{ "", B("") },
	{ "abc", B("abc") },
	{ "a%20b", B("a b") },
	{ "a+b", B("a b") },
	{ "%2B", B("+") },
	{ "%2b%2F%3d", B("+/=") },
	{ "%41%42c", B("ABc") },
	{ "100%25", B("100%") },
	{ "%00", B("\0") },
	{ "%C3%A9%e2%82%ac", B("\xc3\xa9\xe2\x82\xac") },
	{ "%ff", B("\xff") },
	{ "\xc3\xa9", B("\xc3\xa9") },
	{ "a=b&c", B("a=b&c") },
};

START_TEST(test_percent_decode_matches_known_vectors)
{
	const char	*in = percent_vectors[_i].in;
	struct buf	 out;

	buf_init(&out);
	ck_assert_int_eq(http_percent_decode(in, strlen(in), &out), 0);
	ck_assert_uint_eq(out.len, percent_vectors[_i].out.len);
	if (out.len > 0)
		ck_assert_mem_eq(out.data, percent_vectors[_i].out.s, out.len);
	buf_clear(&out);
}
END_TEST

static const char *percent_bad[] = {
	"%",
	"%2",
	"a%",
	"abc%2",
	"%g0",
	"%0g",
	"%%",
	"%%25",
	"% 20",
	"%+1",
	"%-1",
	"%\xc3\xa9",
};

START_TEST(test_percent_decode_rejects_bad_escapes)
{
	const char	*in = percent_bad[_i];
	struct buf	 out;

	buf_init(&out);
	ck_assert_msg(http_percent_decode(in, strlen(in), &out) == -EPROTO,
	    "accepted \"%s\"", in);
	buf_clear(&out);
}
END_TEST

START_TEST(test_percent_decode_stops_at_len)
{
	struct buf	out;

	buf_init(&out);
	ck_assert_int_eq(http_percent_decode("%41%42", 3, &out), 0);
	ck_assert_str_eq(buf_str(&out), "A");
	buf_reset(&out);
	/* An escape that len cuts short is incomplete. */
	ck_assert_int_eq(http_percent_decode("a%41", 3, &out), -EPROTO);
	buf_clear(&out);
}
END_TEST

START_TEST(test_percent_decode_appends_to_existing_contents)
{
	struct buf	out;

	buf_init(&out);
	buf_append_str(&out, "x");
	ck_assert_int_eq(http_percent_decode("%79z", 4, &out), 0);
	ck_assert_str_eq(buf_str(&out), "xyz");
	buf_clear(&out);
}
END_TEST

#define HANDSHAKE_QS	"EIO=4&transport=polling&t=PZ1a2b3"

static const struct {
	const char	*qs;
	const char	*name;
	int		 rc;
	const char	*value;
} query_vectors[] = {
	{ HANDSHAKE_QS, "EIO", 1, "4" },
	{ HANDSHAKE_QS, "transport", 1, "polling" },
	{ HANDSHAKE_QS, "t", 1, "PZ1a2b3" },
	{ HANDSHAKE_QS, "sid", 0, "" },
	{ HANDSHAKE_QS, "eio", 0, "" },		/* names are case-sensitive */
	{ HANDSHAKE_QS, "EI", 0, "" },		/* no prefix match */
	{ HANDSHAKE_QS, "EIO=4", 0, "" },
	{ "sid=first&sid=second", "sid", 1, "first" },
	{ "a&b=2", "a", 1, "" },
	{ "a=&b=2", "a", 1, "" },
	{ "b=2&a", "a", 1, "" },
	{ "a=1&&b=2", "b", 1, "2" },
	{ "&a=1", "a", 1, "1" },
	{ "a=1&", "a", 1, "1" },
	{ "ab=1&a=2", "a", 1, "2" },
	{ "a=1", "ab", 0, "" },
	{ "x=a%20b+c", "x", 1, "a b c" },
	{ "s%69d=xyz", "sid", 1, "xyz" },	/* keys are decoded too */
	{ "s%zzd=xyz&sid=ok", "sid", 1, "ok" },	/* bad key matches nothing */
	{ "a=b=c", "a", 1, "b=c" },
	{ "x=%zz&sid=ok", "sid", 1, "ok" },	/* bad value elsewhere */
	{ "", "a", 0, "" },
	{ "&&&", "a", 0, "" },
	{ "sid=%zz&sid=ok", "sid", -EPROTO, "" },
	{ "sid=abc%", "sid", -EPROTO, "" },
};

START_TEST(test_query_get_matches_known_vectors)
{
	struct buf	out;

	buf_init(&out);
	ck_assert_int_eq(http_query_get(query_vectors[_i].qs,
	    query_vectors[_i].name, &out), query_vectors[_i].rc);
	ck_assert_str_eq(buf_str(&out), query_vectors[_i].value);
	buf_clear(&out);
}
END_TEST

START_TEST(test_query_get_without_query_string_finds_nothing)
{
	struct buf	out;

	buf_init(&out);
	buf_append_str(&out, "stale");
	ck_assert_int_eq(http_query_get(NULL, "sid", &out), 0);
	ck_assert_str_eq(buf_str(&out), "");
	buf_clear(&out);
}
END_TEST

START_TEST(test_query_get_replaces_previous_contents)
{
	struct buf	out;

	buf_init(&out);
	buf_append_str(&out, "stale");
	ck_assert_int_eq(http_query_get("sid=new", "sid", &out), 1);
	ck_assert_str_eq(buf_str(&out), "new");
	ck_assert_int_eq(http_query_get("sid", "sid", &out), 1);
	ck_assert_str_eq(buf_str(&out), "");
	buf_clear(&out);
}
END_TEST

START_TEST(test_query_get_keeps_nul_bytes_in_value)
{
	struct buf	out;

	buf_init(&out);
	ck_assert_int_eq(http_query_get("sid=ab%00cd", "sid", &out), 1);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.data, "ab\0cd", 5);
	buf_clear(&out);
}
END_TEST

static const struct {
	const char	*uri;
	const char	*prefix;
	bool		 match;
} path_vectors[] = {
	{ "/engine.io", "/engine.io", true },
	{ "/engine.io/", "/engine.io", true },
	{ "/engine.io/x?y", "/engine.io", true },
	{ "/engine.io?EIO=4", "/engine.io", true },
	{ "/engine.io/?EIO=4&transport=polling", "/engine.io", true },
	{ "/socket.io/?EIO=4", "/socket.io", true },
	{ "/engine.iox", "/engine.io", false },
	{ "/engine.iox/", "/engine.io", false },
	{ "/engine.i", "/engine.io", false },
	{ "/ENGINE.IO/", "/engine.io", false },
	{ "/socket.io/?EIO=4", "/engine.io", false },
	{ "/x/engine.io/", "/engine.io", false },
	{ "?/engine.io/", "/engine.io", false },
	{ "", "/engine.io", false },
};

START_TEST(test_path_has_prefix_matches_known_vectors)
{
	ck_assert_msg(http_path_has_prefix(path_vectors[_i].uri,
	    path_vectors[_i].prefix) == path_vectors[_i].match,
	    "\"%s\" under \"%s\"", path_vectors[_i].uri,
	    path_vectors[_i].prefix);
}
END_TEST

START_TEST(test_path_has_prefix_without_uri_is_false)
{
	ck_assert(!http_path_has_prefix(NULL, "/engine.io"));
}
END_TEST

static const struct {
	const char	*path;
	bool		 ok;
} endpoint_vectors[] = {
	{ "/socket.io", true },
	{ "/engine.io", true },
	{ "/chat/socket.io", true },
	{ "/~alice/socket.io", true },
	{ "/a-b_c.d~e", true },
	{ "/x", true },
	{ NULL, false },
	{ "", false },
	{ "/", false },
	{ "socket.io", false },
	{ "/socket.io/", false },
	{ "//socket.io", false },
	{ "/chat//socket.io", false },
	{ "/./socket.io", false },
	{ "/chat/../socket.io", false },
	{ "/..", false },
	{ "/socket.io?x=1", false },
	{ "/socket.io#x", false },
	{ "/sock%20et", false },
	{ "/sock et", false },
	{ "/sock\tet", false },
	{ "/caf\xc3\xa9", false },
};

START_TEST(test_path_is_endpoint_matches_known_vectors)
{
	ck_assert_msg(http_path_is_endpoint(endpoint_vectors[_i].path) ==
	    endpoint_vectors[_i].ok, "\"%s\"",
	    endpoint_vectors[_i].path != NULL ? endpoint_vectors[_i].path :
	    "(null)");
}
END_TEST

static const struct {
	int		 status;
	const char	*text;
} status_vectors[] = {
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 408, "Request Timeout" },
	{ 413, "Payload Too Large" },
	{ 500, "Internal Server Error" },
	{ 299, "" },
	{ 0, "" },
	{ -1, "" },
	{ 1000, "" },
};

START_TEST(test_status_text_matches_known_codes)
{
	ck_assert_str_eq(http_status_text(status_vectors[_i].status),
	    status_vectors[_i].text);
}
END_TEST

static const char *header_good[] = {
	"",
	ORIGIN_A,
	"null",
	"tab\there",
	" ~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}",
	"\x80\xff",
	"https://\xc3\xa9.example",
};

static const char *header_bad[] = {
	"a\r\nSet-Cookie: x=y",
	"\r",
	"\n",
	"\x01",
	"a\037b",
	"\x7f",
	"https://a.example\x0b",
};

START_TEST(test_header_value_accepts_legal_characters)
{
	ck_assert(http_header_value_is_valid(header_good[_i]));
}
END_TEST

START_TEST(test_header_value_rejects_control_characters)
{
	ck_assert(!http_header_value_is_valid(header_bad[_i]));
}
END_TEST

START_TEST(test_header_value_absent_is_valid)
{
	ck_assert(http_header_value_is_valid(NULL));
}
END_TEST

START_TEST(test_response_init_is_empty_200)
{
	struct http_response	r;

	memset(&r, 0xa5, sizeof(r));
	http_response_init(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(r.content_type);
	ck_assert_uint_eq(r.headers.len, 0);
	ck_assert_uint_eq(r.body.len, 0);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_response_head_lists_status_type_length_and_headers)
{
	struct http_response	r;
	struct buf		out;

	http_response_init(&r);
	buf_init(&out);
	r.content_type = "text/html";
	buf_append_str(&r.headers, "Cache-Control: no-store\r\n");
	buf_append_str(&r.body, "ok");
	http_response_head(&r, &out);
	ck_assert_str_eq(buf_str(&out),
	    "Status: 200 OK\r\n"
	    "Content-Type: text/html\r\n"
	    "Content-Length: 2\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n");
	buf_clear(&out);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_response_head_without_type_or_body)
{
	struct http_response	r;
	struct buf		out;

	http_response_init(&r);
	buf_init(&out);
	r.status = 400;
	http_response_head(&r, &out);
	ck_assert_str_eq(buf_str(&out),
	    "Status: 400 Bad Request\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n");
	buf_clear(&out);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_response_head_of_unknown_status_has_no_reason)
{
	struct http_response	r;
	struct buf		out;

	http_response_init(&r);
	buf_init(&out);
	r.status = 299;
	http_response_head(&r, &out);
	ck_assert_str_eq(buf_str(&out),
	    "Status: 299\r\nContent-Length: 0\r\n\r\n");
	buf_clear(&out);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_response_head_counts_body_bytes_not_characters)
{
	struct http_response	r;
	struct buf		out;

	http_response_init(&r);
	buf_init(&out);
	r.content_type = "text/plain; charset=UTF-8";
	buf_append(&r.body, "4\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0", 11);
	buf_append_str(&out, "prefix|");
	http_response_head(&r, &out);
	ck_assert_str_eq(buf_str(&out),
	    "prefix|Status: 200 OK\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Length: 11\r\n"
	    "\r\n");
	buf_clear(&out);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_response_reset_keeps_memory_and_restores_defaults)
{
	struct http_response	 r;
	char			*headers, *body;

	http_response_init(&r);
	r.status = 413;
	r.content_type = "application/json";
	buf_append_str(&r.headers, "Vary: Origin\r\n");
	buf_append_str(&r.body, "{}");
	headers = r.headers.data;
	body = r.body.data;
	http_response_reset(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(r.content_type);
	ck_assert_uint_eq(r.headers.len, 0);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_str_eq(buf_str(&r.body), "");
	ck_assert_ptr_eq(r.headers.data, headers);
	ck_assert_ptr_eq(r.body.data, body);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_response_clear_frees_and_leaves_it_reusable)
{
	struct http_response	r;

	http_response_init(&r);
	r.status = 500;
	buf_append_str(&r.body, "x");
	http_response_clear(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(r.body.data);
	ck_assert_ptr_null(r.headers.data);
	buf_append_str(&r.body, "y");
	http_response_clear(&r);
}
END_TEST

static const char *cors_off[] = { "", " ", "\t \t" };

START_TEST(test_cors_parse_of_empty_list_disables_cors)
{
	struct http_cors	cors;

	ck_assert_int_eq(http_cors_parse(cors_off[_i], &cors), 0);
	ck_assert(!cors.any);
	ck_assert_uint_eq(cors.norigins, 0);
	ck_assert_ptr_null(cors.origins);
	ck_assert(!http_cors_is_enabled(&cors));
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_parse_of_null_disables_cors)
{
	struct http_cors	cors;

	ck_assert_int_eq(http_cors_parse(NULL, &cors), 0);
	ck_assert(!http_cors_is_enabled(&cors));
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_parse_of_star_allows_any_origin)
{
	struct http_cors	cors;

	ck_assert_int_eq(http_cors_parse(" * ", &cors), 0);
	ck_assert(cors.any);
	ck_assert_uint_eq(cors.norigins, 0);
	ck_assert(http_cors_is_enabled(&cors));
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_parse_splits_list_on_commas_and_trims)
{
	struct http_cors	cors;

	ck_assert_int_eq(http_cors_parse(" " ORIGIN_A " ,\t" ORIGIN_B,
	    &cors), 0);
	ck_assert(!cors.any);
	ck_assert_uint_eq(cors.norigins, 2);
	ck_assert_str_eq(cors.origins[0], ORIGIN_A);
	ck_assert_str_eq(cors.origins[1], ORIGIN_B);
	ck_assert_ptr_null(cors.origins[2]);
	ck_assert(http_cors_is_enabled(&cors));
	http_cors_clear(&cors);
	ck_assert_ptr_null(cors.origins);
	ck_assert_uint_eq(cors.norigins, 0);
}
END_TEST

START_TEST(test_cors_parse_accepts_a_single_origin)
{
	struct http_cors	cors;

	ck_assert_int_eq(http_cors_parse(ORIGIN_A, &cors), 0);
	ck_assert_uint_eq(cors.norigins, 1);
	ck_assert_str_eq(cors.origins[0], ORIGIN_A);
	ck_assert_ptr_null(cors.origins[1]);
	http_cors_clear(&cors);
}
END_TEST

static const char *cors_bad[] = {
	",",
	ORIGIN_A ",",
	"," ORIGIN_A,
	ORIGIN_A ",," ORIGIN_B,
	ORIGIN_A ", ," ORIGIN_B,
	"*," ORIGIN_A,
	ORIGIN_A ",*",
	"**",
	"https://a example",
	ORIGIN_A "\r\nSet-Cookie: x=y",
	ORIGIN_A "," ORIGIN_B "\x01",
	"https://\xc3\xa9.example",
};

START_TEST(test_cors_parse_rejects_malformed_lists)
{
	struct http_cors	cors;

	ck_assert_msg(http_cors_parse(cors_bad[_i], &cors) == -EINVAL,
	    "accepted \"%s\"", cors_bad[_i]);
	/* Whatever parse left behind is safe to clear. */
	ck_assert(!http_cors_is_enabled(&cors));
	http_cors_clear(&cors);
}
END_TEST

/* Parse list into cors and fail the test if that does not work. */
static void
cors_setup(const char *list, struct http_cors *cors)
{
	ck_assert_int_eq(http_cors_parse(list, cors), 0);
}

START_TEST(test_cors_disabled_adds_no_headers)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup(NULL, &cors);
	buf_init(&hdrs);
	http_cors_headers(&cors, ORIGIN_A, &hdrs);
	http_cors_preflight_headers(&cors, ORIGIN_A, "x-token", &hdrs);
	ck_assert_uint_eq(hdrs.len, 0);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_star_allows_every_origin_without_credentials)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup("*", &cors);
	buf_init(&hdrs);
	http_cors_headers(&cors, ORIGIN_A, &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), ACAO_STAR);
	buf_reset(&hdrs);
	http_cors_headers(&cors, NULL, &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), ACAO_STAR);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_list_echoes_listed_origin_with_credentials)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup(ORIGIN_A "," ORIGIN_B, &cors);
	buf_init(&hdrs);
	http_cors_headers(&cors, ORIGIN_B, &hdrs);
	ck_assert_str_eq(buf_str(&hdrs),
	    "Access-Control-Allow-Origin: " ORIGIN_B "\r\n" ACAC VARY_ORIGIN);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

static const char *origins_unlisted[] = {
	"https://evil.example",
	"https://A.example",
	"https://a.example/",
	"https://a.example.evil",
	"https://a.exampl",
	"http://a.example",
	"*",
	"",
	ORIGIN_A "\r\nSet-Cookie: x=y",
};

START_TEST(test_cors_list_refuses_unlisted_origin_but_varies)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup(ORIGIN_A, &cors);
	buf_init(&hdrs);
	http_cors_headers(&cors, origins_unlisted[_i], &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), VARY_ORIGIN);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_list_without_origin_header_only_varies)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup(ORIGIN_A, &cors);
	buf_init(&hdrs);
	http_cors_headers(&cors, NULL, &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), VARY_ORIGIN);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_cors_headers_append_to_existing_lines)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup("*", &cors);
	buf_init(&hdrs);
	buf_append_str(&hdrs, "Cache-Control: no-store\r\n");
	http_cors_headers(&cors, ORIGIN_A, &hdrs);
	ck_assert_str_eq(buf_str(&hdrs),
	    "Cache-Control: no-store\r\n" ACAO_STAR);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_preflight_star_echoes_requested_headers)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup("*", &cors);
	buf_init(&hdrs);
	http_cors_preflight_headers(&cors, ORIGIN_A, "x-token, content-type",
	    &hdrs);
	ck_assert_str_eq(buf_str(&hdrs),
	    ACAO_STAR ACAM
	    "Access-Control-Allow-Headers: x-token, content-type\r\n"
	    VARY_ACRH);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_preflight_star_without_requested_headers)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup("*", &cors);
	buf_init(&hdrs);
	http_cors_preflight_headers(&cors, ORIGIN_A, NULL, &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), ACAO_STAR ACAM VARY_ACRH);
	buf_reset(&hdrs);
	http_cors_preflight_headers(&cors, NULL, "", &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), ACAO_STAR ACAM VARY_ACRH);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_preflight_list_merges_vary_into_one_line)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup(ORIGIN_A "," ORIGIN_B, &cors);
	buf_init(&hdrs);
	http_cors_preflight_headers(&cors, ORIGIN_A, "x-token", &hdrs);
	ck_assert_str_eq(buf_str(&hdrs),
	    "Access-Control-Allow-Origin: " ORIGIN_A "\r\n" ACAC ACAM
	    "Access-Control-Allow-Headers: x-token\r\n" VARY_BOTH);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_preflight_list_refuses_unlisted_origin)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup(ORIGIN_A, &cors);
	buf_init(&hdrs);
	http_cors_preflight_headers(&cors, "https://evil.example", NULL,
	    &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), ACAM VARY_BOTH);
	ck_assert_ptr_null(strstr(buf_str(&hdrs), "Allow-Origin"));
	ck_assert_ptr_null(strstr(buf_str(&hdrs), "Allow-Credentials"));
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

START_TEST(test_preflight_never_echoes_header_injection)
{
	struct http_cors	cors;
	struct buf		hdrs;

	cors_setup("*", &cors);
	buf_init(&hdrs);
	http_cors_preflight_headers(&cors, ORIGIN_A,
	    "x-token\r\nSet-Cookie: x=y", &hdrs);
	ck_assert_str_eq(buf_str(&hdrs), ACAO_STAR ACAM VARY_ACRH);
	buf_clear(&hdrs);
	http_cors_clear(&cors);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("http");

	tc = tcase_create("percent_decode");
	tcase_add_loop_test(tc, test_percent_decode_matches_known_vectors, 0,
	    nitems(percent_vectors));
	tcase_add_loop_test(tc, test_percent_decode_rejects_bad_escapes, 0,
	    nitems(percent_bad));
	tcase_add_test(tc, test_percent_decode_stops_at_len);
	tcase_add_test(tc, test_percent_decode_appends_to_existing_contents);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_loop_test(tc, test_query_get_matches_known_vectors, 0,
	    nitems(query_vectors));
	tcase_add_test(tc, test_query_get_without_query_string_finds_nothing);
	tcase_add_test(tc, test_query_get_replaces_previous_contents);
	tcase_add_test(tc, test_query_get_keeps_nul_bytes_in_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_loop_test(tc, test_path_has_prefix_matches_known_vectors, 0,
	    nitems(path_vectors));
	tcase_add_test(tc, test_path_has_prefix_without_uri_is_false);
	tcase_add_loop_test(tc, test_path_is_endpoint_matches_known_vectors, 0,
	    nitems(endpoint_vectors));
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_loop_test(tc, test_status_text_matches_known_codes, 0,
	    nitems(status_vectors));
	suite_add_tcase(s, tc);

	tc = tcase_create("header_value");
	tcase_add_loop_test(tc, test_header_value_accepts_legal_characters, 0,
	    nitems(header_good));
	tcase_add_loop_test(tc, test_header_value_rejects_control_characters,
	    0, nitems(header_bad));
	tcase_add_test(tc, test_header_value_absent_is_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_response_init_is_empty_200);
	tcase_add_test(tc,
	    test_response_head_lists_status_type_length_and_headers);
	tcase_add_test(tc, test_response_head_without_type_or_body);
	tcase_add_test(tc, test_response_head_of_unknown_status_has_no_reason);
	tcase_add_test(tc,
	    test_response_head_counts_body_bytes_not_characters);
	tcase_add_test(tc,
	    test_response_reset_keeps_memory_and_restores_defaults);
	tcase_add_test(tc, test_response_clear_frees_and_leaves_it_reusable);
	suite_add_tcase(s, tc);

	tc = tcase_create("cors_parse");
	tcase_add_loop_test(tc, test_cors_parse_of_empty_list_disables_cors,
	    0, nitems(cors_off));
	tcase_add_test(tc, test_cors_parse_of_null_disables_cors);
	tcase_add_test(tc, test_cors_parse_of_star_allows_any_origin);
	tcase_add_test(tc, test_cors_parse_splits_list_on_commas_and_trims);
	tcase_add_test(tc, test_cors_parse_accepts_a_single_origin);
	tcase_add_loop_test(tc, test_cors_parse_rejects_malformed_lists, 0,
	    nitems(cors_bad));
	suite_add_tcase(s, tc);

	tc = tcase_create("cors_headers");
	tcase_add_test(tc, test_cors_disabled_adds_no_headers);
	tcase_add_test(tc,
	    test_cors_star_allows_every_origin_without_credentials);
	tcase_add_test(tc,
	    test_cors_list_echoes_listed_origin_with_credentials);
	tcase_add_loop_test(tc,
	    test_cors_list_refuses_unlisted_origin_but_varies, 0,
	    nitems(origins_unlisted));
	tcase_add_test(tc, test_cors_list_without_origin_header_only_varies);
	tcase_add_test(tc, test_cors_headers_append_to_existing_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("cors_preflight");
	tcase_add_test(tc, test_preflight_star_echoes_requested_headers);
	tcase_add_test(tc, test_preflight_star_without_requested_headers);
	tcase_add_test(tc, test_preflight_list_merges_vary_into_one_line);
	tcase_add_test(tc, test_preflight_list_refuses_unlisted_origin);
	tcase_add_test(tc, test_preflight_never_echoes_header_injection);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run(http_suite()));
}
