/*
 * sio-fcgi: unit tests for sio_packet, the Socket.IO v5 packet codec.
 *
 * Vectors are Socket.IO packets without the Engine.IO "4" that carries
 * them: PROTOCOL.md's wire form 42["foo"] is the packet 2["foo"] here.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "buf.h"
#include "sio_packet.h"
#include "testutil.h"

/* A byte string with its length, so vectors may hold NUL bytes. */
struct bytes {
	const char	*s;
	size_t		 len;
};
#define B(lit)	{ (lit), sizeof(lit) - 1 }

#define EMOJI	"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"	/* é€😀 */
#define PH(n)	"{\"_placeholder\":true,\"num\":" #n "}"

/* Fail unless the compact JSON of obj is want ("null" for NULL). */
static void
check_json(struct json_object *obj, const char *want)
{
	struct buf	out;

	buf_init(&out);
	sio_json_encode(obj, &out);
	ck_assert_str_eq(buf_str(&out), want);
	ck_assert_uint_eq(out.len, strlen(want));
	buf_clear(&out);
}

/* Fail unless p is the initialised packet. */
static void
check_empty_packet(const struct sio_packet *p)
{
	ck_assert_int_eq(p->type, SIO_PKT_CONNECT);
	ck_assert_str_eq(p->nsp, "/");
	ck_assert(!p->has_id);
	ck_assert_uint_eq(p->attachments, 0);
	ck_assert_ptr_null(p->data);
}

/* Decode text, which must succeed, into p (initialised by the caller). */
static void
decode_ok(const char *s, size_t len, struct sio_packet *p)
{
	const char	*cause = NULL;
	int		 rc;

	rc = sio_packet_decode(s, len, p, &cause);
	ck_assert_msg(rc == 0, "%.*s: refused (%s)", (int)len, s,
	    cause != NULL ? cause : "no cause");
}

/* Text made of n copies of open, then middle, then n copies of close. */
static void
nest(struct buf *out, const char *prefix, const char *open,
    const char *middle, const char *close, int n)
{
	int	i;

	buf_append_str(out, prefix);
	for (i = 0; i < n; i++)
		buf_append_str(out, open);
	buf_append_str(out, middle);
	for (i = 0; i < n; i++)
		buf_append_str(out, close);
}

/*
 * Packets that decode.  json is the compact JSON of the data (NULL for
 * none), canon the encoding of the decoded packet (NULL: the input).
 */
static const struct {
	struct bytes		 in;
	enum sio_pkt_type	 type;
	const char		*nsp;
	bool			 has_id;
	uint64_t		 id;
	size_t			 attachments;
	const char		*json;
	const char		*canon;
} good_vectors[] = {
	/* PROTOCOL.md 8.2: 40, 40{"token":"123"}, 40/admin,, ... */
	{ B("0"), SIO_PKT_CONNECT, "/", false, 0, 0, NULL, NULL },
	{ B("0{\"token\":\"123\"}"), SIO_PKT_CONNECT, "/", false, 0, 0,
	    "{\"token\":\"123\"}", NULL },
	{ B("0/admin,"), SIO_PKT_CONNECT, "/admin", false, 0, 0, NULL, NULL },
	{ B("0/admin,{\"token\":\"abc\"}"), SIO_PKT_CONNECT, "/admin", false,
	    0, 0, "{\"token\":\"abc\"}", NULL },
	/* [observed] 40/custom without a comma; the reply has one. */
	{ B("0/custom"), SIO_PKT_CONNECT, "/custom", false, 0, 0, NULL,
	    "0/custom," },
	{ B("0{}"), SIO_PKT_CONNECT, "/", false, 0, 0, "{}", NULL },
	{ B("0/a/b,{}"), SIO_PKT_CONNECT, "/a/b", false, 0, 0, "{}", NULL },
	{ B("0/,"), SIO_PKT_CONNECT, "/", false, 0, 0, NULL, "0" },
	{ B("0/"), SIO_PKT_CONNECT, "/", false, 0, 0, NULL, "0" },
	/* PROTOCOL.md 8.3: 41, 41/nsp, */
	{ B("1"), SIO_PKT_DISCONNECT, "/", false, 0, 0, NULL, NULL },
	{ B("1/nsp,"), SIO_PKT_DISCONNECT, "/nsp", false, 0, 0, NULL, NULL },
	{ B("2[\"foo\"]"), SIO_PKT_EVENT, "/", false, 0, 0, "[\"foo\"]",
	    NULL },
	/* PROTOCOL.md 8.1: the ack id sits right before the JSON. */
	{ B("212[\"foo\"]"), SIO_PKT_EVENT, "/", true, 12, 0, "[\"foo\"]",
	    NULL },
	{ B("3/admin,13[\"bar\"]"), SIO_PKT_ACK, "/admin", true, 13, 0,
	    "[\"bar\"]", NULL },
	/* [observed] 42007["x"]: leading zeros, id 7, reply 437[...]. */
	{ B("2007[\"x\"]"), SIO_PKT_EVENT, "/", true, 7, 0, "[\"x\"]",
	    "27[\"x\"]" },
	{ B("20[\"server-ack-request\",\"x\"]"), SIO_PKT_EVENT, "/", true, 0,
	    0, "[\"server-ack-request\",\"x\"]", NULL },
	/* PROTOCOL.md 8.4 transcript. */
	{ B("2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]"),
	    SIO_PKT_EVENT, "/", true, 456, 0,
	    "[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", NULL },
	{ B("218446744073709551615[\"a\"]"), SIO_PKT_EVENT, "/", true,
	    UINT64_MAX, 0, "[\"a\"]", NULL },
	/* [observed] 42[1,"x"]: numeric event names. */
	{ B("2[1,\"x\"]"), SIO_PKT_EVENT, "/", false, 0, 0, "[1,\"x\"]",
	    NULL },
	{ B("2[-1.5]"), SIO_PKT_EVENT, "/", false, 0, 0, "[-1.5]", NULL },
	{ B("2/admin,[\"foo\",{\"a\":null},[]]"), SIO_PKT_EVENT, "/admin",
	    false, 0, 0, "[\"foo\",{\"a\":null},[]]", NULL },
	{ B("2[\"Connect\"]"), SIO_PKT_EVENT, "/", false, 0, 0,
	    "[\"Connect\"]", NULL },
	{ B("2[\"connect \"]"), SIO_PKT_EVENT, "/", false, 0, 0,
	    "[\"connect \"]", NULL },
	{ B("2[\"connect\\u0000\"]"), SIO_PKT_EVENT, "/", false, 0, 0,
	    "[\"connect\\u0000\"]", NULL },
	{ B("2[\"\"]"), SIO_PKT_EVENT, "/", false, 0, 0, "[\"\"]", NULL },
	{ B("2[\"" EMOJI "\"]"), SIO_PKT_EVENT, "/", false, 0, 0,
	    "[\"" EMOJI "\"]", NULL },
	/* JSON.parse allows white space around the value. */
	{ B("2[ \"foo\" , 1 ] \t\r\n"), SIO_PKT_EVENT, "/", false, 0, 0,
	    "[\"foo\",1]", "2[\"foo\",1]" },
	/* Placeholders are only checked in binary packets. */
	{ B("2[\"a\"," PH(5) "]"), SIO_PKT_EVENT, "/", false, 0, 0,
	    "[\"a\"," PH(5) "]", NULL },
	/* ACK: any array, even empty ([observed] 431[]). */
	{ B("3[]"), SIO_PKT_ACK, "/", false, 0, 0, "[]", NULL },
	{ B("31[]"), SIO_PKT_ACK, "/", true, 1, 0, "[]", NULL },
	{ B("3/admin,1[null,2]"), SIO_PKT_ACK, "/admin", true, 1, 0,
	    "[null,2]", NULL },
	/* CONNECT_ERROR: an object or a string. */
	{ B("4{\"message\":\"Invalid namespace\"}"), SIO_PKT_CONNECT_ERROR,
	    "/", false, 0, 0, "{\"message\":\"Invalid namespace\"}", NULL },
	{ B("4/random,{\"message\":\"Invalid namespace\"}"),
	    SIO_PKT_CONNECT_ERROR, "/random", false, 0, 0,
	    "{\"message\":\"Invalid namespace\"}", NULL },
	{ B("4\"boom\""), SIO_PKT_CONNECT_ERROR, "/", false, 0, 0,
	    "\"boom\"", NULL },
	/* [observed] 451-[...], 452-[...] as in the transcript. */
	{ B("51-[\"message\"," PH(0) "]"), SIO_PKT_BINARY_EVENT, "/", false,
	    0, 1, "[\"message\"," PH(0) "]", NULL },
	{ B("52-[\"message\"," PH(0) "," PH(1) "]"), SIO_PKT_BINARY_EVENT,
	    "/", false, 0, 2, "[\"message\"," PH(0) "," PH(1) "]", NULL },
	/* [observed] 462-789[...]: count, then id. */
	{ B("62-789[" PH(1) "]"), SIO_PKT_BINARY_ACK, "/", true, 789, 2,
	    "[" PH(1) "]", NULL },
	{ B("63-[]"), SIO_PKT_BINARY_ACK, "/", false, 0, 3, "[]", NULL },
	/* [observed] 10 attachments is the most. */
	{ B("510-[\"a\"," PH(9) "]"), SIO_PKT_BINARY_EVENT, "/", false, 0,
	    10, "[\"a\"," PH(9) "]", NULL },
	{ B("501-[\"a\"]"), SIO_PKT_BINARY_EVENT, "/", false, 0, 1,
	    "[\"a\"]", "51-[\"a\"]" },
	{ B("51-[7," PH(0) "," PH(0) "]"), SIO_PKT_BINARY_EVENT, "/", false,
	    0, 1, "[7," PH(0) "," PH(0) "]", NULL },
	/* [observed] placeholders anywhere, nested too. */
	{ B("51-/admin,7[\"a\",{\"x\":[{\"y\":" PH(0) "}]}]"),
	    SIO_PKT_BINARY_EVENT, "/admin", true, 7, 1,
	    "[\"a\",{\"x\":[{\"y\":" PH(0) "}]}]", NULL },
	/* JavaScript has no integer type: num 0.0 is 0. */
	{ B("51-[\"a\",{\"_placeholder\":true,\"num\":0.0}]"),
	    SIO_PKT_BINARY_EVENT, "/", false, 0, 1,
	    "[\"a\",{\"_placeholder\":true,\"num\":0.0}]", NULL },
};

START_TEST(test_decode_accepts_valid_packet)
{
	struct sio_packet	p;

	sio_packet_init(&p);
	decode_ok(good_vectors[_i].in.s, good_vectors[_i].in.len, &p);
	ck_assert_int_eq(p.type, good_vectors[_i].type);
	ck_assert_str_eq(p.nsp, good_vectors[_i].nsp);
	ck_assert_int_eq(p.has_id, good_vectors[_i].has_id);
	if (p.has_id)
		ck_assert_uint_eq(p.id, good_vectors[_i].id);
	ck_assert_uint_eq(p.attachments, good_vectors[_i].attachments);
	if (good_vectors[_i].json == NULL)
		ck_assert_ptr_null(p.data);
	else {
		ck_assert_ptr_nonnull(p.data);
		check_json(p.data, good_vectors[_i].json);
	}
	sio_packet_clear(&p);
}
END_TEST

START_TEST(test_decoded_packet_encodes_to_its_canonical_text)
{
	struct sio_packet	 p;
	struct buf		 out;
	const char		*want;

	sio_packet_init(&p);
	buf_init(&out);
	decode_ok(good_vectors[_i].in.s, good_vectors[_i].in.len, &p);
	sio_packet_encode(&p, &out);
	want = good_vectors[_i].canon != NULL ? good_vectors[_i].canon :
	    good_vectors[_i].in.s;
	ck_assert_str_eq(buf_str(&out), want);
	sio_packet_clear(&p);
	buf_clear(&out);
}
END_TEST

START_TEST(test_decode_accepts_namespace_of_max_length)
{
	struct sio_packet	p;
	struct buf		in;
	char			nsp[SIO_NSP_MAX + 1];

	memset(nsp, 'x', SIO_NSP_MAX);
	nsp[0] = '/';
	nsp[SIO_NSP_MAX] = '\0';
	sio_packet_init(&p);
	buf_init(&in);

	buf_printf(&in, "0%s,{}", nsp);
	decode_ok(in.data, in.len, &p);
	ck_assert_str_eq(p.nsp, nsp);
	ck_assert_ptr_nonnull(p.data);

	/* Without a comma the namespace runs to the end. */
	buf_reset(&in);
	buf_printf(&in, "1%s", nsp);
	decode_ok(in.data, in.len, &p);
	ck_assert_int_eq(p.type, SIO_PKT_DISCONNECT);
	ck_assert_str_eq(p.nsp, nsp);
	ck_assert_ptr_null(p.data);

	sio_packet_clear(&p);
	buf_clear(&in);
}
END_TEST

START_TEST(test_decode_accepts_json_nested_to_the_limit)
{
	struct sio_packet	p;
	struct buf		in;

	sio_packet_init(&p);
	buf_init(&in);
	/* The event array is one level; 31 more inside it. */
	nest(&in, "2[\"a\",", "[", "", "]", SIO_JSON_DEPTH - 1);
	buf_append_char(&in, ']');
	decode_ok(in.data, in.len, &p);
	ck_assert_int_eq(p.type, SIO_PKT_EVENT);

	buf_reset(&in);
	nest(&in, "0", "{\"a\":", "{}", "}", SIO_JSON_DEPTH - 1);
	decode_ok(in.data, in.len, &p);
	ck_assert_int_eq(p.type, SIO_PKT_CONNECT);

	sio_packet_clear(&p);
	buf_clear(&in);
}
END_TEST

START_TEST(test_decode_reads_only_len_bytes)
{
	static const char	 text[] = "2[\"a\"]";
	struct sio_packet	 p;
	char			*s;

	/* Exactly sized, so ASan and valgrind see any read past the end. */
	s = malloc(sizeof(text) - 1);
	ck_assert_ptr_nonnull(s);
	memcpy(s, text, sizeof(text) - 1);
	sio_packet_init(&p);
	decode_ok(s, sizeof(text) - 1, &p);
	check_json(p.data, "[\"a\"]");
	sio_packet_clear(&p);

	/* An id at the very end has nothing after it to stop it. */
	memcpy(s, "112345", 6);
	decode_ok(s, 6, &p);
	ck_assert(p.has_id);
	ck_assert_uint_eq(p.id, 12345);
	sio_packet_clear(&p);
	free(s);

	decode_ok("2[\"a\"]garbage", 6, &p);
	check_json(p.data, "[\"a\"]");
	sio_packet_clear(&p);
}
END_TEST

START_TEST(test_decode_into_used_packet_replaces_its_data)
{
	static const char	text[] = "51-/admin,7[\"a\"," PH(0) "]";
	struct sio_packet	p;

	sio_packet_init(&p);
	decode_ok(text, sizeof(text) - 1, &p);
	ck_assert_ptr_nonnull(p.data);
	/* The old data is dropped, not leaked, and no field survives. */
	decode_ok("1", 1, &p);
	ck_assert_int_eq(p.type, SIO_PKT_DISCONNECT);
	ck_assert_str_eq(p.nsp, "/");
	ck_assert(!p.has_id);
	ck_assert_uint_eq(p.attachments, 0);
	ck_assert_ptr_null(p.data);
	sio_packet_clear(&p);
}
END_TEST

/* Packets that do not decode, and why. */
static const struct {
	struct bytes	 in;
	const char	*cause;
} bad_vectors[] = {
	/* The type. */
	{ B(""), "empty packet" },
	{ B("7"), "unknown packet type" },
	{ B("7[\"a\"]"), "unknown packet type" },
	{ B("9"), "unknown packet type" },
	{ B("/"), "unknown packet type" },
	{ B("a"), "unknown packet type" },
	/* [observed] 4abc: a parse error that closes the session. */
	{ B("abc"), "unknown packet type" },
	{ B(" 2[\"a\"]"), "unknown packet type" },
	{ B("\0" "2[\"a\"]"), "unknown packet type" },
	{ B("\xc3\xa9"), "unknown packet type" },
	/* The attachment count of types 5 and 6. */
	{ B("5"), "attachment count missing" },
	{ B("5[\"a\"]"), "attachment count missing" },
	{ B("5-[\"a\"]"), "attachment count missing" },
	{ B("6-[]"), "attachment count missing" },
	{ B("5+1-[\"a\"]"), "attachment count missing" },
	{ B("51"), "attachment count without \"-\"" },
	{ B("51[\"a\"]"), "attachment count without \"-\"" },
	{ B("5 1-[\"a\"]"), "attachment count missing" },
	{ B("51 -[\"a\"]"), "attachment count without \"-\"" },
	/* [observed] 450- and 11 attachments close the session. */
	{ B("50-"), "attachment count out of range" },
	{ B("50-[\"a\"]"), "attachment count out of range" },
	{ B("60-[]"), "attachment count out of range" },
	{ B("511-[\"a\"]"), "attachment count out of range" },
	{ B("5100-[\"a\"]"), "attachment count out of range" },
	{ B("599999999999999999999999-[\"a\"]"),
	    "attachment count out of range" },
	/* The namespace. */
	{ B("0/a\0b,"), "NUL byte in namespace" },
	/* The ack id: 64 bits at most. */
	{ B("299999999999999999999[\"a\"]"), "ack id out of range" },
	{ B("218446744073709551616[\"a\"]"), "ack id out of range" },
	{ B("3/admin,123456789012345678901234567890[]"),
	    "ack id out of range" },
	/* [observed] 42{}, 42abc[...], 42[], 41"x". */
	{ B("2{}"), "event payload is not a non-empty array" },
	{ B("2abc[\"a\"]"), "unexpected character in JSON" },
	{ B("2[]"), "event payload is not a non-empty array" },
	{ B("1\"x\""), "DISCONNECT with a payload" },
	/* CONNECT: an object or nothing. */
	{ B("0[]"), "CONNECT payload is not an object" },
	{ B("0/admin,[]"), "CONNECT payload is not an object" },
	{ B("0\"x\""), "CONNECT payload is not an object" },
	{ B("0null"), "CONNECT payload is not an object" },
	{ B("0true"), "CONNECT payload is not an object" },
	/* DISCONNECT: nothing. */
	{ B("1{}"), "DISCONNECT with a payload" },
	{ B("1[]"), "DISCONNECT with a payload" },
	{ B("1null"), "DISCONNECT with a payload" },
	{ B("1/nsp,{}"), "DISCONNECT with a payload" },
	/* EVENT: an array starting with a number or a free name. */
	{ B("2"), "event payload is not a non-empty array" },
	{ B("21"), "event payload is not a non-empty array" },
	{ B("2/admin,"), "event payload is not a non-empty array" },
	{ B("2\"foo\""), "event payload is not a non-empty array" },
	{ B("2null"), "event payload is not a non-empty array" },
	{ B("2[null]"), "invalid or reserved event name" },
	{ B("2[true]"), "invalid or reserved event name" },
	{ B("2[{}]"), "invalid or reserved event name" },
	{ B("2[[\"a\"]]"), "invalid or reserved event name" },
	{ B("2[null,\"a\"]"), "invalid or reserved event name" },
	/* ACK: an array. */
	{ B("3"), "ACK payload is not an array" },
	{ B("31"), "ACK payload is not an array" },
	{ B("3{}"), "ACK payload is not an array" },
	{ B("3\"x\""), "ACK payload is not an array" },
	{ B("31null"), "ACK payload is not an array" },
	/* CONNECT_ERROR: an object or a string. */
	{ B("4"), "CONNECT_ERROR payload is not an object or a string" },
	{ B("41"), "CONNECT_ERROR payload is not an object or a string" },
	{ B("4[]"), "CONNECT_ERROR payload is not an object or a string" },
	{ B("4null"), "CONNECT_ERROR payload is not an object or a string" },
	{ B("4true"), "CONNECT_ERROR payload is not an object or a string" },
	{ B("4abc"), "unexpected character in JSON" },
	/* BINARY_EVENT and BINARY_ACK, as EVENT and ACK. */
	{ B("51-"), "event payload is not a non-empty array" },
	{ B("51-{}"), "event payload is not a non-empty array" },
	{ B("51-[]"), "event payload is not a non-empty array" },
	{ B("51-[\"connect\"," PH(0) "]"), "invalid or reserved event name" },
	{ B("61-"), "ACK payload is not an array" },
	{ B("61-{}"), "ACK payload is not an array" },
	/* [observed] a placeholder number out of range; and bad ones. */
	{ B("51-[\"a\"," PH(1) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("52-[\"a\"," PH(0) "," PH(2) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("61-[" PH(1) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("510-[\"a\"," PH(10) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\"," PH(-1) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\"," PH(0.5) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\"," PH(1e400) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\"," PH("0") "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\"," PH(null) "]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\",{\"_placeholder\":true}]"),
	    "invalid or out of range attachment placeholder" },
	{ B("51-[\"a\",{\"x\":[{\"y\":" PH(1) "}]}]"),
	    "invalid or out of range attachment placeholder" },
	/* Trailing garbage after the JSON. */
	{ B("2[\"a\"]x"), "trailing characters after JSON" },
	{ B("2[\"a\"][\"b\"]"), "trailing characters after JSON" },
	{ B("2[\"a\"],"), "trailing characters after JSON" },
	{ B("2[\"a\"]\0"), "trailing characters after JSON" },
	{ B("2[\"a\"]\v"), "trailing characters after JSON" },
	{ B("2[\"a\"]\xc2\xa0"), "trailing characters after JSON" },
	{ B("0{}}"), "trailing characters after JSON" },
	/* JSON that JSON.parse refuses, json-c extensions included. */
	{ B("0 "), "JSON value expected" },
	{ B("2[\"a\""), "expected \",\" or \"]\" in JSON array" },
	{ B("2[\"a\","), "JSON value expected" },
	{ B("2[\"a\",]"), "unexpected character in JSON" },
	{ B("2[\"a\" 1]"), "expected \",\" or \"]\" in JSON array" },
	{ B("2[,\"a\"]"), "unexpected character in JSON" },
	{ B("2[\"a\",,1]"), "unexpected character in JSON" },
	{ B("2['a']"), "unexpected character in JSON" },
	{ B("0{'a':1}"), "expected a key in JSON object" },
	{ B("0{a:1}"), "expected a key in JSON object" },
	{ B("0{1:1}"), "expected a key in JSON object" },
	{ B("0{\"a\" 1}"), "expected \":\" in JSON object" },
	{ B("0{\"a\"}"), "expected \":\" in JSON object" },
	{ B("0{\"a\":1,}"), "expected a key in JSON object" },
	{ B("0{\"a\":1 \"b\":2}"), "expected \",\" or \"}\" in JSON object" },
	{ B("0{,}"), "expected a key in JSON object" },
	{ B("0{\"a\\u0000b\":1}"), "NUL character in JSON key" },
	{ B("2[\"a\",NaN]"), "unexpected character in JSON" },
	{ B("2[\"a\",Infinity]"), "unexpected character in JSON" },
	{ B("2[\"a\",-Infinity]"), "bad JSON number" },
	{ B("2[\"a\",01]"), "expected \",\" or \"]\" in JSON array" },
	{ B("2[\"a\",-01]"), "expected \",\" or \"]\" in JSON array" },
	{ B("2[\"a\",1.]"), "bad JSON number" },
	{ B("2[\"a\",.5]"), "unexpected character in JSON" },
	{ B("2[\"a\",+1]"), "unexpected character in JSON" },
	{ B("2[\"a\",1e]"), "bad JSON number" },
	{ B("2[\"a\",1e+]"), "bad JSON number" },
	{ B("2[\"a\",-]"), "bad JSON number" },
	{ B("2[\"a\",0x10]"), "expected \",\" or \"]\" in JSON array" },
	{ B("2[\"a\",True]"), "unexpected character in JSON" },
	{ B("2[\"a\",nul]"), "unexpected character in JSON" },
	{ B("2[\"a\",nulls]"), "expected \",\" or \"]\" in JSON array" },
	{ B("2[\"a\"/*c*/]"), "expected \",\" or \"]\" in JSON array" },
	{ B("2[\"a\"]//c"), "trailing characters after JSON" },
	{ B("2[\"a\",\f1]"), "unexpected character in JSON" },
	{ B("2[\"a\tb\"]"), "control character in JSON string" },
	{ B("2[\"a\nb\"]"), "control character in JSON string" },
	{ B("2[\"a\x1e" "b\"]"), "control character in JSON string" },
	{ B("2[\"a\0b\"]"), "control character in JSON string" },
	{ B("2[\"\\x41\"]"), "bad escape in JSON string" },
	{ B("2[\"\\'\"]"), "bad escape in JSON string" },
	{ B("2[\"\\U0041\"]"), "bad escape in JSON string" },
	{ B("2[\"\\u12\"]"), "bad \\u escape in JSON string" },
	{ B("2[\"\\u12G4\"]"), "bad \\u escape in JSON string" },
	{ B("2[\"\\ud83d\\u12\"]"), "bad \\u escape in JSON string" },
	{ B("2[\"\\u"), "bad \\u escape in JSON string" },
	{ B("2[\"\\"), "unterminated JSON string" },
	{ B("2[\"abc"), "unterminated JSON string" },
	{ B("2[\"\xff\"]"), "JSON text is not valid UTF-8" },
	{ B("2[\"\xc3\"]"), "JSON text is not valid UTF-8" },
	{ B("2[\"\xed\xa0\x80\"]"), "JSON text is not valid UTF-8" },
};

START_TEST(test_decode_rejects_invalid_packet)
{
	struct sio_packet	 p;
	const char		*cause = NULL;
	int			 rc;

	sio_packet_init(&p);
	rc = sio_packet_decode(bad_vectors[_i].in.s, bad_vectors[_i].in.len,
	    &p, &cause);
	ck_assert_msg(rc == -EPROTO, "%.*s: accepted",
	    (int)bad_vectors[_i].in.len, bad_vectors[_i].in.s);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, bad_vectors[_i].cause);
	check_empty_packet(&p);
	sio_packet_clear(&p);
}
END_TEST

static const char *const reserved_names[] = {
	"connect",
	"connect_error",
	"disconnect",
	"disconnecting",
	"newListener",
	"removeListener",
};

START_TEST(test_decode_rejects_reserved_event_name)
{
	struct sio_packet	 p;
	struct buf		 in;
	const char		*cause;

	sio_packet_init(&p);
	buf_init(&in);
	buf_printf(&in, "2[\"%s\",1]", reserved_names[_i]);
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "invalid or reserved event name");

	buf_reset(&in);
	buf_printf(&in, "51-/admin,3[\"%s\"," PH(0) "]", reserved_names[_i]);
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "invalid or reserved event name");
	check_empty_packet(&p);

	/* An ACK may carry any value. */
	buf_reset(&in);
	buf_printf(&in, "31[\"%s\"]", reserved_names[_i]);
	decode_ok(in.data, in.len, &p);
	sio_packet_clear(&p);
	buf_clear(&in);
}
END_TEST

START_TEST(test_decode_rejects_namespace_over_max_length)
{
	struct sio_packet	 p;
	struct buf		 in;
	const char		*cause;
	char			 nsp[SIO_NSP_MAX + 2];

	memset(nsp, 'x', SIO_NSP_MAX + 1);
	nsp[0] = '/';
	nsp[SIO_NSP_MAX + 1] = '\0';
	sio_packet_init(&p);
	buf_init(&in);

	buf_printf(&in, "0%s,{}", nsp);
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "namespace too long");

	buf_reset(&in);
	buf_printf(&in, "0%s", nsp);
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "namespace too long");
	check_empty_packet(&p);

	sio_packet_clear(&p);
	buf_clear(&in);
}
END_TEST

START_TEST(test_decode_rejects_json_nested_over_the_limit)
{
	struct sio_packet	 p;
	struct buf		 in;
	const char		*cause;

	sio_packet_init(&p);
	buf_init(&in);
	nest(&in, "2[\"a\",", "[", "", "]", SIO_JSON_DEPTH);
	buf_append_char(&in, ']');
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "JSON nested too deep");

	buf_reset(&in);
	nest(&in, "0", "{\"a\":", "{}", "}", SIO_JSON_DEPTH);
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "JSON nested too deep");

	/* Far deeper: refused before the stack could grow with it. */
	buf_reset(&in);
	nest(&in, "2", "[", "", "]", 100000);
	cause = NULL;
	ck_assert_int_eq(sio_packet_decode(in.data, in.len, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "JSON nested too deep");
	check_empty_packet(&p);

	sio_packet_clear(&p);
	buf_clear(&in);
}
END_TEST

START_TEST(test_decode_error_drops_data_of_used_packet)
{
	struct sio_packet	p;

	sio_packet_init(&p);
	decode_ok("2[\"a\"]", 6, &p);
	ck_assert_ptr_nonnull(p.data);
	ck_assert_int_eq(sio_packet_decode("2[]", 3, &p, NULL), -EPROTO);
	check_empty_packet(&p);
	sio_packet_clear(&p);
}
END_TEST

START_TEST(test_decode_accepts_null_cause_pointer)
{
	struct sio_packet	p;

	sio_packet_init(&p);
	ck_assert_int_eq(sio_packet_decode("9", 1, &p, NULL), -EPROTO);
	ck_assert_int_eq(sio_packet_decode("2[\"a\"]", 6, &p, NULL), 0);
	sio_packet_clear(&p);
}
END_TEST

/* Packets to encode: data is JSON text, NULL for none. */
static const struct {
	enum sio_pkt_type	 type;
	const char		*nsp;
	bool			 has_id;
	uint64_t		 id;
	size_t			 attachments;
	const char		*data;
	const char		*want;
} encode_vectors[] = {
	{ SIO_PKT_CONNECT, "/", false, 0, 0, NULL, "0" },
	{ SIO_PKT_CONNECT, "/admin", false, 0, 0, NULL, "0/admin," },
	/* PROTOCOL.md 8.2: the CONNECT reply. */
	{ SIO_PKT_CONNECT, "/", false, 0, 0, "{\"sid\":\"O_3e\"}",
	    "0{\"sid\":\"O_3e\"}" },
	{ SIO_PKT_CONNECT, "/admin", false, 0, 0, "{\"sid\":\"x\"}",
	    "0/admin,{\"sid\":\"x\"}" },
	/* PROTOCOL.md 8.1: the comma even with nothing after (41/admin,). */
	{ SIO_PKT_DISCONNECT, "/", false, 0, 0, NULL, "1" },
	{ SIO_PKT_DISCONNECT, "/admin", false, 0, 0, NULL, "1/admin," },
	{ SIO_PKT_EVENT, "/", false, 0, 0, "[\"auth\",{}]",
	    "2[\"auth\",{}]" },
	{ SIO_PKT_EVENT, "/", true, 0, 0, "[\"server-ack-request\",\"x\"]",
	    "20[\"server-ack-request\",\"x\"]" },
	{ SIO_PKT_EVENT, "/admin", true, 12, 0, "[\"foo\"]",
	    "2/admin,12[\"foo\"]" },
	{ SIO_PKT_EVENT, "/", true, UINT64_MAX, 0, "[1]",
	    "218446744073709551615[1]" },
	{ SIO_PKT_EVENT, "/", false, 0, 0, "[\"a/b\",\"</script>\"]",
	    "2[\"a/b\",\"</script>\"]" },
	/* [observed] 431[] and the 8.4 transcript. */
	{ SIO_PKT_ACK, "/", true, 1, 0, "[]", "31[]" },
	{ SIO_PKT_ACK, "/", true, 456, 0, "[1,\"2\",{\"3\":[false]}]",
	    "3456[1,\"2\",{\"3\":[false]}]" },
	{ SIO_PKT_ACK, "/admin", true, 13, 0, "[\"bar\"]",
	    "3/admin,13[\"bar\"]" },
	/* [observed] 44/random,{"message":"Invalid namespace"}. */
	{ SIO_PKT_CONNECT_ERROR, "/random", false, 0, 0,
	    "{\"message\":\"Invalid namespace\"}",
	    "4/random,{\"message\":\"Invalid namespace\"}" },
	{ SIO_PKT_CONNECT_ERROR, "/", false, 0, 0,
	    "{\"message\":\"no\",\"data\":{\"code\":42}}",
	    "4{\"message\":\"no\",\"data\":{\"code\":42}}" },
	{ SIO_PKT_CONNECT_ERROR, "/", false, 0, 0, "\"boom\"", "4\"boom\"" },
	/* [observed] 452-["message-back",...]. */
	{ SIO_PKT_BINARY_EVENT, "/", false, 0, 2,
	    "[\"message-back\"," PH(0) "," PH(1) "]",
	    "52-[\"message-back\"," PH(0) "," PH(1) "]" },
	{ SIO_PKT_BINARY_ACK, "/", true, 789, 2, "[" PH(1) "," PH(0) "]",
	    "62-789[" PH(1) "," PH(0) "]" },
	{ SIO_PKT_BINARY_ACK, "/admin", true, 7, 1, "[" PH(0) "]",
	    "61-/admin,7[" PH(0) "]" },
	{ SIO_PKT_BINARY_EVENT, "/x", false, 0, 10, "[\"a\"," PH(9) "]",
	    "510-/x,[\"a\"," PH(9) "]" },
};

/* Fill p from encode_vectors[i]; the caller clears it. */
static void
encode_vector_packet(size_t i, struct sio_packet *p)
{
	const char	*data = encode_vectors[i].data;

	sio_packet_init(p);
	p->type = encode_vectors[i].type;
	snprintf(p->nsp, sizeof(p->nsp), "%s", encode_vectors[i].nsp);
	p->has_id = encode_vectors[i].has_id;
	p->id = encode_vectors[i].id;
	p->attachments = encode_vectors[i].attachments;
	if (data != NULL) {
		p->data = sio_json_parse(data, strlen(data));
		ck_assert_ptr_nonnull(p->data);
	}
}

START_TEST(test_encode_writes_packet_text)
{
	struct sio_packet	p;
	struct buf		out;

	encode_vector_packet(_i, &p);
	buf_init(&out);
	sio_packet_encode(&p, &out);
	ck_assert_str_eq(buf_str(&out), encode_vectors[_i].want);
	sio_packet_clear(&p);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encoded_packet_decodes_to_the_same_packet)
{
	struct sio_packet	p, q;
	struct buf		out;

	encode_vector_packet(_i, &p);
	sio_packet_init(&q);
	buf_init(&out);
	sio_packet_encode(&p, &out);
	decode_ok(out.data, out.len, &q);
	ck_assert_int_eq(q.type, p.type);
	ck_assert_str_eq(q.nsp, p.nsp);
	ck_assert_int_eq(q.has_id, p.has_id);
	ck_assert_uint_eq(q.id, p.id);
	ck_assert_uint_eq(q.attachments, p.attachments);
	if (p.data == NULL)
		ck_assert_ptr_null(q.data);
	else
		ck_assert(json_object_equal(p.data, q.data));
	sio_packet_clear(&p);
	sio_packet_clear(&q);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encode_builds_binary_event_with_placeholders)
{
	struct sio_packet	p;
	struct buf		out;

	/* As sio does for an emit with two buffers. */
	sio_packet_init(&p);
	p.type = SIO_PKT_BINARY_EVENT;
	p.attachments = 2;
	p.data = json_object_new_array();
	json_object_array_add(p.data, json_object_new_string("message-back"));
	json_object_array_add(p.data, sio_placeholder_new(0));
	json_object_array_add(p.data, sio_placeholder_new(1));
	buf_init(&out);
	sio_packet_encode(&p, &out);
	ck_assert_str_eq(buf_str(&out),
	    "52-[\"message-back\"," PH(0) "," PH(1) "]");
	sio_packet_clear(&p);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encode_appends_to_the_buffer)
{
	struct sio_packet	p;
	struct buf		out;

	sio_packet_init(&p);
	buf_init(&out);
	buf_append_str(&out, "4");
	p.type = SIO_PKT_DISCONNECT;
	snprintf(p.nsp, sizeof(p.nsp), "/admin");
	sio_packet_encode(&p, &out);
	buf_append_char(&out, '\x1e');
	buf_append_str(&out, "4");
	snprintf(p.nsp, sizeof(p.nsp), "/");
	sio_packet_encode(&p, &out);
	ck_assert_str_eq(buf_str(&out), "41/admin,\x1e" "41");
	sio_packet_clear(&p);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encode_of_empty_namespace_writes_none)
{
	struct sio_packet	p;
	struct buf		out;

	/* Node writes no namespace when it is falsy. */
	sio_packet_init(&p);
	p.type = SIO_PKT_EVENT;
	p.nsp[0] = '\0';
	p.has_id = true;
	p.id = 3;
	p.data = sio_json_parse("[\"a\"]", 5);
	buf_init(&out);
	sio_packet_encode(&p, &out);
	ck_assert_str_eq(buf_str(&out), "23[\"a\"]");
	sio_packet_clear(&p);
	buf_clear(&out);
}
END_TEST

/* How JSON writes each control character: the short form or \u00xx. */
static const char *
control_escape(int c, char *tmp, size_t size)
{
	switch (c) {
	case '\b':
		return ("\\b");
	case '\t':
		return ("\\t");
	case '\n':
		return ("\\n");
	case '\f':
		return ("\\f");
	case '\r':
		return ("\\r");
	default:
		snprintf(tmp, size, "\\u%04x", c);
		return (tmp);
	}
}

START_TEST(test_encode_escapes_control_character)
{
	struct json_object	*obj, *back;
	struct buf		 out, want;
	char			 c = (char)_i, tmp[8];

	obj = json_object_new_string_len(&c, 1);
	buf_init(&out);
	buf_init(&want);
	sio_json_encode(obj, &out);
	buf_printf(&want, "\"%s\"", control_escape(_i, tmp, sizeof(tmp)));
	ck_assert_str_eq(buf_str(&out), buf_str(&want));
	/* And it reads back as the same byte. */
	back = sio_json_parse(out.data, out.len);
	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(json_object_get_string_len(back), 1);
	ck_assert_int_eq(json_object_get_string(back)[0], c);
	json_object_put(back);
	json_object_put(obj);
	buf_clear(&out);
	buf_clear(&want);
}
END_TEST

START_TEST(test_encode_never_writes_a_raw_control_character)
{
	struct sio_packet	p, q;
	struct buf		out;
	char			all[33];
	size_t			i;

	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	all[32] = 'x';
	sio_packet_init(&p);
	sio_packet_init(&q);
	p.type = SIO_PKT_EVENT;
	p.data = json_object_new_array();
	json_object_array_add(p.data, json_object_new_string("msg"));
	json_object_array_add(p.data, json_object_new_string_len(all, 33));
	buf_init(&out);
	sio_packet_encode(&p, &out);
	/* EIO v4: 0x1e separates packets, so it must never appear. */
	for (i = 0; i < out.len; i++)
		ck_assert_int_ge((unsigned char)out.data[i], 0x20);
	ck_assert_ptr_null(memchr(out.data, '\x1e', out.len));
	decode_ok(out.data, out.len, &q);
	ck_assert(json_object_equal(p.data, q.data));
	sio_packet_clear(&p);
	sio_packet_clear(&q);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encode_passes_utf8_through_unescaped)
{
	struct json_object	*obj;

	obj = json_object_new_string(EMOJI);
	check_json(obj, "\"" EMOJI "\"");
	json_object_put(obj);
	/* And DEL, which JSON does not need escaped either. */
	obj = json_object_new_string("a\x7f" "b");
	check_json(obj, "\"a\x7f" "b\"");
	json_object_put(obj);
}
END_TEST

START_TEST(test_encode_escapes_quote_and_backslash_but_not_slash)
{
	struct json_object	*obj;

	obj = json_object_new_string("\"\\/");
	check_json(obj, "\"\\\"\\\\/\"");
	json_object_put(obj);
}
END_TEST

START_TEST(test_json_encode_of_null_writes_null)
{
	check_json(NULL, "null");
}
END_TEST

START_TEST(test_json_encode_is_compact)
{
	struct json_object	*obj, *arr;

	obj = json_object_new_object();
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_int(1));
	json_object_array_add(arr, NULL);
	json_object_object_add(obj, "a", arr);
	json_object_object_add(obj, "b", json_object_new_object());
	json_object_object_add(obj, "c", NULL);
	json_object_object_add(obj, "d", json_object_new_boolean(1));
	check_json(obj, "{\"a\":[1,null],\"b\":{},\"c\":null,\"d\":true}");
	json_object_put(obj);
}
END_TEST

/* Numbers built by the server. */
static const struct {
	bool		 is_double;
	int64_t		 i;
	double		 d;
	const char	*want;
} number_vectors[] = {
	{ false, 0, 0, "0" },
	{ false, 42, 0, "42" },
	{ false, -7, 0, "-7" },
	{ false, INT64_MAX, 0, "9223372036854775807" },
	{ false, INT64_MIN, 0, "-9223372036854775808" },
	{ true, 0, 1.5, "1.5" },
	{ true, 0, -2.25, "-2.25" },
	{ true, 0, 0.5, "0.5" },
	{ true, 0, 1e100, "1e+100" },
	/* json-c marks a whole double as one; JSON reads it all the same. */
	{ true, 0, 3.0, "3.0" },
	/* json-c writes %.17g, which reads back as the same double. */
	{ true, 0, 0.1, "0.10000000000000001" },
};

START_TEST(test_json_encode_writes_number)
{
	struct json_object	*obj;

	if (number_vectors[_i].is_double)
		obj = json_object_new_double(number_vectors[_i].d);
	else
		obj = json_object_new_int64(number_vectors[_i].i);
	check_json(obj, number_vectors[_i].want);
	json_object_put(obj);
}
END_TEST

/* JSON text that parses, and its compact encoding. */
static const struct {
	struct bytes	 in;
	const char	*want;
} json_good_vectors[] = {
	{ B("1"), "1" },
	{ B("-0"), "0" },
	{ B("  12 "), "12" },
	{ B("\"s\""), "\"s\"" },
	{ B("true"), "true" },
	{ B("false"), "false" },
	{ B("[]"), "[]" },
	{ B("{}"), "{}" },
	{ B("[ 1 , [ ] , { } ]"), "[1,[],{}]" },
	{ B("{ \"a\" : 1 , \"b\" : [ true , null ] }"),
	    "{\"a\":1,\"b\":[true,null]}" },
	/* A repeated key keeps the last value, as JSON.parse does. */
	{ B("{\"a\":1,\"a\":2}"), "{\"a\":2}" },
	{ B("{\"\":1}"), "{\"\":1}" },
	/* Parsed doubles are written back as received. */
	{ B("[1.50,1e2,1E-2,-0.0,0.1]"), "[1.50,1e2,1E-2,-0.0,0.1]" },
	{ B("[1e400]"), "[1e400]" },
	/* Integers beyond 64 bits are doubles, as in JavaScript. */
	{ B("[9223372036854775807,-9223372036854775808]"),
	    "[9223372036854775807,-9223372036854775808]" },
	{ B("[9223372036854775808,99999999999999999999999]"),
	    "[9223372036854775808,99999999999999999999999]" },
	/* Escapes. */
	{ B("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), "\"\\\"\\\\/\\b\\f\\n\\r\\t\"" },
	{ B("\"\\u0041\\u00e9\\u20AC\""), "\"A\xc3\xa9\xe2\x82\xac\"" },
	{ B("\"\\ud83d\\ude00\""), "\"\xf0\x9f\x98\x80\"" },
	{ B("\"" EMOJI "\""), "\"" EMOJI "\"" },
	/* A lone surrogate has no UTF-8 form: U+FFFD. */
	{ B("\"\\ud800\""), "\"\xef\xbf\xbd\"" },
	{ B("\"\\udc00x\""), "\"\xef\xbf\xbdx\"" },
	{ B("\"\\ud83dx\""), "\"\xef\xbf\xbdx\"" },
	{ B("\"\\ud83d\\u0041\""), "\"\xef\xbf\xbd" "A\"" },
	{ B("\"a\\u0000b\""), "\"a\\u0000b\"" },
};

START_TEST(test_json_parse_accepts_valid_text)
{
	struct json_object	*obj;

	obj = sio_json_parse(json_good_vectors[_i].in.s,
	    json_good_vectors[_i].in.len);
	ck_assert_ptr_nonnull(obj);
	check_json(obj, json_good_vectors[_i].want);
	json_object_put(obj);
}
END_TEST

static const struct bytes json_bad_vectors[] = {
	B(""),
	B(" "),
	B("[1] x"),
	B("[1][2]"),
	B("1 2"),
	B("[1]\0"),
	B("\0[1]"),
	B("nul"),
	B("NaN"),
	B("Infinity"),
	B("'a'"),
	B("[1,]"),
	B("{\"a\":1,}"),
	B("/**/1"),
	B("01"),
	B("1."),
	B("\"\t\""),
	B("\"\xff\""),
};

START_TEST(test_json_parse_refuses_invalid_text)
{
	ck_assert_ptr_null(sio_json_parse(json_bad_vectors[_i].s,
	    json_bad_vectors[_i].len));
}
END_TEST

START_TEST(test_json_parse_of_null_text_gives_null)
{
	/* json-c's null is NULL, so "null" cannot be told from an error. */
	ck_assert_ptr_null(sio_json_parse("null", 4));
}
END_TEST

START_TEST(test_json_parse_depth_limit)
{
	struct json_object	*obj;
	struct buf		 in;

	buf_init(&in);
	nest(&in, "", "[", "1", "]", SIO_JSON_DEPTH);
	obj = sio_json_parse(in.data, in.len);
	ck_assert_ptr_nonnull(obj);
	check_json(obj, in.data);
	json_object_put(obj);

	buf_reset(&in);
	nest(&in, "", "[", "1", "]", SIO_JSON_DEPTH + 1);
	ck_assert_ptr_null(sio_json_parse(in.data, in.len));
	buf_clear(&in);
}
END_TEST

/* The limits set at run time hold at exactly their value, both ways. */
START_TEST(test_limits_set_at_run_time)
{
	struct sio_packet	 p;
	struct json_object	*obj;
	struct buf		 in;
	const char		*cause;

	ck_assert_int_eq(sio_packet_json_depth(), SIO_JSON_DEPTH);
	ck_assert_uint_eq(sio_packet_max_attachments(), SIO_MAX_ATTACHMENTS);
	ck_assert_int_eq(sio_packet_set_limits(0, 10), -EINVAL);
	ck_assert_int_eq(sio_packet_set_limits(SIO_JSON_DEPTH_CAP + 1, 10),
	    -EINVAL);
	ck_assert_int_eq(sio_packet_set_limits(32, 0), -EINVAL);
	ck_assert_int_eq(sio_packet_set_limits(32, SIO_ATTACHMENTS_CAP + 1),
	    -EINVAL);
	ck_assert_int_eq(sio_packet_json_depth(), SIO_JSON_DEPTH);

	ck_assert_int_eq(sio_packet_set_limits(3, 2), 0);
	buf_init(&in);
	nest(&in, "", "[", "1", "]", 3);
	obj = sio_json_parse(in.data, in.len);
	ck_assert_ptr_nonnull(obj);
	json_object_put(obj);
	buf_reset(&in);
	nest(&in, "", "{\"a\":", "1", "}", 4);
	ck_assert_ptr_null(sio_json_parse(in.data, in.len));
	buf_clear(&in);

	sio_packet_init(&p);
	ck_assert_int_eq(sio_packet_decode("52-[\"a\","
	    "{\"_placeholder\":true,\"num\":1}]", 38, &p, &cause), 0);
	ck_assert_uint_eq(p.attachments, 2);
	sio_packet_clear(&p);
	ck_assert_int_eq(sio_packet_decode("53-[\"a\"]", 8, &p, &cause),
	    -EPROTO);
	ck_assert_str_eq(cause, "attachment count out of range");

	/* Up to the caps: 64 attachments, 256 levels. */
	ck_assert_int_eq(sio_packet_set_limits(SIO_JSON_DEPTH_CAP,
	    SIO_ATTACHMENTS_CAP), 0);
	ck_assert_int_eq(sio_packet_decode("564-[\"a\"]", 9, &p, &cause),
	    0);
	sio_packet_clear(&p);
	buf_init(&in);
	nest(&in, "", "[", "1", "]", SIO_JSON_DEPTH_CAP);
	obj = sio_json_parse(in.data, in.len);
	ck_assert_ptr_nonnull(obj);
	json_object_put(obj);
	buf_clear(&in);

	ck_assert_int_eq(sio_packet_set_limits(SIO_JSON_DEPTH,
	    SIO_MAX_ATTACHMENTS), 0);
}
END_TEST

START_TEST(test_placeholder_new_writes_the_node_form)
{
	struct json_object	*obj;
	size_t			 num = 99;

	obj = sio_placeholder_new(3);
	check_json(obj, PH(3));
	ck_assert(sio_placeholder_is(obj, &num));
	ck_assert_uint_eq(num, 3);
	ck_assert(sio_placeholder_is(obj, NULL));
	json_object_put(obj);
}
END_TEST

/* Is the JSON a placeholder, and with which number? */
static const struct {
	const char	*json;
	bool		 is;
	size_t		 num;
} placeholder_vectors[] = {
	{ PH(0), true, 0 },
	{ PH(7), true, 7 },
	{ PH(1.0), true, 1 },
	{ PH(-0.0), true, 0 },
	{ "{\"num\":2,\"_placeholder\":true}", true, 2 },
	{ "{\"_placeholder\":true,\"num\":0,\"x\":1}", true, 0 },
	{ "{\"_placeholder\":\"true\",\"num\":0}", false, 0 },
	{ "{\"_placeholder\":1,\"num\":0}", false, 0 },
	{ "{\"_placeholder\":false,\"num\":0}", false, 0 },
	{ "{\"num\":0}", false, 0 },
	{ "{\"_placeholder\":true}", false, 0 },
	{ PH(-1), false, 0 },
	{ PH(0.5), false, 0 },
	{ PH("0"), false, 0 },
	{ PH(null), false, 0 },
	{ PH(1e400), false, 0 },
	{ PH(99999999999999999999), false, 0 },
	{ "[" PH(0) "]", false, 0 },
	{ "\"x\"", false, 0 },
	{ "null", false, 0 },
};

START_TEST(test_placeholder_is_recognises_placeholder)
{
	struct json_object	*obj;
	size_t			 num = 12345;

	obj = sio_json_parse(placeholder_vectors[_i].json,
	    strlen(placeholder_vectors[_i].json));
	ck_assert_int_eq(sio_placeholder_is(obj, &num),
	    placeholder_vectors[_i].is);
	if (placeholder_vectors[_i].is)
		ck_assert_uint_eq(num, placeholder_vectors[_i].num);
	else
		ck_assert_uint_eq(num, 12345);
	json_object_put(obj);
}
END_TEST

/* Placeholders found in the JSON for count attachments, or -EPROTO. */
static const struct {
	const char	*json;
	size_t		 count;
	int		 want;
} check_vectors[] = {
	{ "[\"a\"]", 1, 0 },
	{ "[\"a\"," PH(0) "]", 1, 1 },
	{ "[\"a\"," PH(0) "," PH(1) "]", 2, 2 },
	{ "[\"a\"," PH(0) "," PH(0) "]", 1, 2 },
	{ "[\"a\"," PH(1) "]", 1, -EPROTO },
	{ "[\"a\"," PH(0) "]", 0, -EPROTO },
	{ "{\"a\":[{\"b\":{\"c\":[" PH(0) "]}}]}", 1, 1 },
	{ "{\"a\":[{\"b\":{\"c\":[" PH(1) "]}}]}", 1, -EPROTO },
	{ PH(0), 1, 1 },
	/* A placeholder is not searched further, as in Node. */
	{ "{\"_placeholder\":true,\"num\":0,\"x\":" PH(9) "}", 1, 1 },
	{ "[{\"_placeholder\":true}]", 1, -EPROTO },
	{ "[" PH(-1) "]", 1, -EPROTO },
	{ "[" PH(0.5) "]", 1, -EPROTO },
	{ "[{\"_placeholder\":\"yes\",\"num\":9}]", 1, 0 },
	{ "null", 1, 0 },
	{ "5", 1, 0 },
};

START_TEST(test_placeholder_check_counts_and_bounds_numbers)
{
	struct json_object	*obj;

	obj = sio_json_parse(check_vectors[_i].json,
	    strlen(check_vectors[_i].json));
	ck_assert_int_eq(sio_placeholder_check(obj, check_vectors[_i].count),
	    check_vectors[_i].want);
	json_object_put(obj);
}
END_TEST

START_TEST(test_placeholder_check_stops_at_the_depth_limit)
{
	struct json_object	*top, *obj, *inner, *ph;
	int			 i;

	/* Built, not parsed: a caller's JSON may be deeper than parsed. */
	top = obj = json_object_new_array();
	for (i = 2; i < SIO_JSON_DEPTH; i++) {
		inner = json_object_new_array();
		json_object_array_add(obj, inner);
		obj = inner;
	}
	/* SIO_JSON_DEPTH - 1 arrays, then the placeholder object. */
	ph = sio_placeholder_new(0);
	json_object_array_add(obj, ph);
	ck_assert_int_eq(sio_placeholder_check(top, 1), 1);

	/* One array more around the placeholder. */
	inner = json_object_new_array();
	json_object_array_add(inner, json_object_get(ph));
	json_object_array_put_idx(obj, 0, inner);
	ck_assert_int_eq(sio_placeholder_check(top, 1), -EPROTO);
	json_object_put(top);
}
END_TEST

static Suite *
sio_packet_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("sio_packet");

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode_accepts_valid_packet, 0,
	    nitems(good_vectors));
	tcase_add_loop_test(tc,
	    test_decoded_packet_encodes_to_its_canonical_text, 0,
	    nitems(good_vectors));
	tcase_add_test(tc, test_decode_accepts_namespace_of_max_length);
	tcase_add_test(tc, test_decode_accepts_json_nested_to_the_limit);
	tcase_add_test(tc, test_decode_reads_only_len_bytes);
	tcase_add_test(tc, test_decode_into_used_packet_replaces_its_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode_errors");
	tcase_add_loop_test(tc, test_decode_rejects_invalid_packet, 0,
	    nitems(bad_vectors));
	tcase_add_loop_test(tc, test_decode_rejects_reserved_event_name, 0,
	    nitems(reserved_names));
	tcase_add_test(tc, test_decode_rejects_namespace_over_max_length);
	tcase_add_test(tc, test_decode_rejects_json_nested_over_the_limit);
	tcase_add_test(tc, test_decode_error_drops_data_of_used_packet);
	tcase_add_test(tc, test_decode_accepts_null_cause_pointer);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, test_encode_writes_packet_text, 0,
	    nitems(encode_vectors));
	tcase_add_loop_test(tc,
	    test_encoded_packet_decodes_to_the_same_packet, 0,
	    nitems(encode_vectors));
	tcase_add_test(tc, test_encode_builds_binary_event_with_placeholders);
	tcase_add_test(tc, test_encode_appends_to_the_buffer);
	tcase_add_test(tc, test_encode_of_empty_namespace_writes_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("json_encode");
	tcase_add_loop_test(tc, test_encode_escapes_control_character, 0,
	    0x20);
	tcase_add_test(tc, test_encode_never_writes_a_raw_control_character);
	tcase_add_test(tc, test_encode_passes_utf8_through_unescaped);
	tcase_add_test(tc,
	    test_encode_escapes_quote_and_backslash_but_not_slash);
	tcase_add_test(tc, test_json_encode_of_null_writes_null);
	tcase_add_test(tc, test_json_encode_is_compact);
	tcase_add_loop_test(tc, test_json_encode_writes_number, 0,
	    nitems(number_vectors));
	suite_add_tcase(s, tc);

	tc = tcase_create("json_parse");
	tcase_add_loop_test(tc, test_json_parse_accepts_valid_text, 0,
	    nitems(json_good_vectors));
	tcase_add_loop_test(tc, test_json_parse_refuses_invalid_text, 0,
	    nitems(json_bad_vectors));
	tcase_add_test(tc, test_json_parse_of_null_text_gives_null);
	tcase_add_test(tc, test_json_parse_depth_limit);
	tcase_add_test(tc, test_limits_set_at_run_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("placeholder");
	tcase_add_test(tc, test_placeholder_new_writes_the_node_form);
	tcase_add_loop_test(tc, test_placeholder_is_recognises_placeholder, 0,
	    nitems(placeholder_vectors));
	tcase_add_loop_test(tc,
	    test_placeholder_check_counts_and_bounds_numbers, 0,
	    nitems(check_vectors));
	tcase_add_test(tc, test_placeholder_check_stops_at_the_depth_limit);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run(sio_packet_suite()));
}
