/*
 * sio-fcgi: unit tests for text: base64, base64url and UTF-8 validation.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "text.h"
#include "testutil.h"

/* A byte string with its length, so vectors may hold NUL bytes. */
struct bytes {
	const char	*s;
	size_t		 len;
};
#define B(lit)	{ (lit), sizeof(lit) - 1 }

/* RFC 4648 section 10, plus bytes that exercise "+", "/" and NUL. */
static const struct {
	struct bytes	 raw;
	const char	*b64;
	const char	*b64url;
} base64_vectors[] = {
	{ B(""), "", "" },
	{ B("f"), "Zg==", "Zg" },
	{ B("fo"), "Zm8=", "Zm8" },
	{ B("foo"), "Zm9v", "Zm9v" },
	{ B("foob"), "Zm9vYg==", "Zm9vYg" },
	{ B("fooba"), "Zm9vYmE=", "Zm9vYmE" },
	{ B("foobar"), "Zm9vYmFy", "Zm9vYmFy" },
	{ B("\x01\x02\x03\x04"), "AQIDBA==", "AQIDBA" },
	{ B("\x01\x02\x03"), "AQID", "AQID" },
	{ B("\xfb\xff\xbf"), "+/+/", "-_-_" },
	{ B("\xfb\xff"), "+/8=", "-_8" },
	{ B("\0"), "AA==", "AA" },
	{ B("\0\0\0"), "AAAA", "AAAA" },
	{ B("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "w6nigqzwn5iA",
	    "w6nigqzwn5iA" },
};

START_TEST(test_base64_encode_matches_known_vectors)
{
	struct buf	out;

	buf_init(&out);
	text_base64_encode(base64_vectors[_i].raw.s,
	    base64_vectors[_i].raw.len, &out);
	ck_assert_uint_eq(out.len, strlen(base64_vectors[_i].b64));
	ck_assert_str_eq(buf_str(&out), base64_vectors[_i].b64);
	buf_clear(&out);
}
END_TEST

START_TEST(test_base64_encode_appends_to_existing_contents)
{
	struct buf	out;

	buf_init(&out);
	buf_append_str(&out, "b");
	text_base64_encode("\x01\x02\x03\x04", 4, &out);
	ck_assert_str_eq(buf_str(&out), "bAQIDBA==");
	buf_clear(&out);
}
END_TEST

START_TEST(test_base64_decode_matches_known_vectors)
{
	struct buf	out;

	buf_init(&out);
	ck_assert_int_eq(text_base64_decode(base64_vectors[_i].b64,
	    strlen(base64_vectors[_i].b64), &out), 0);
	ck_assert_uint_eq(out.len, base64_vectors[_i].raw.len);
	if (out.len > 0)
		ck_assert_mem_eq(out.data, base64_vectors[_i].raw.s, out.len);
	buf_clear(&out);
}
END_TEST

/* Padding is optional: the base64url column is base64 without "=". */
START_TEST(test_base64_decode_accepts_missing_padding)
{
	static const struct {
		const char	*b64;
		struct bytes	 raw;
	} v[] = {
		{ "Zg", B("f") },
		{ "Zm8", B("fo") },
		{ "Zm9vYg", B("foob") },
		{ "Zm9vYmE", B("fooba") },
		{ "AQIDBA", B("\x01\x02\x03\x04") },
		{ "+/8", B("\xfb\xff") },
	};
	struct buf	out;
	size_t		i;

	buf_init(&out);
	for (i = 0; i < nitems(v); i++) {
		buf_reset(&out);
		ck_assert_msg(text_base64_decode(v[i].b64, strlen(v[i].b64),
		    &out) == 0, "\"%s\" refused", v[i].b64);
		ck_assert_uint_eq(out.len, v[i].raw.len);
		ck_assert_mem_eq(out.data, v[i].raw.s, out.len);
	}
	buf_clear(&out);
}
END_TEST

static const struct {
	struct bytes	 b64;
	const char	*why;
} base64_bad[] = {
	{ B("Z"), "one character" },
	{ B("Zm9vY"), "one character after a quantum" },
	{ B("Z==="), "three pad characters" },
	{ B("Zg="), "padding to a partial quantum" },
	{ B("Zm9vYmFy="), "padding after a whole quantum" },
	{ B("Zg==="), "too much padding" },
	{ B("="), "padding only" },
	{ B("=="), "padding only" },
	{ B("===="), "padding only" },
	{ B("=Zm9"), "leading padding" },
	{ B("Zm=v"), "padding in the middle" },
	{ B("Zg==Zg=="), "padding then more data" },
	{ B("Zh=="), "non-zero bits after the last byte" },
	{ B("Zm9="), "non-zero bits after the last two bytes" },
	{ B("Zh"), "non-zero bits, unpadded" },
	{ B("-_8="), "base64url alphabet" },
	{ B("Zm9v\n"), "trailing newline" },
	{ B("Zm9v\r\nZm9v"), "line break" },
	{ B(" Zm9v"), "leading space" },
	{ B("Zm 9v"), "inner space" },
	{ B("Zm9v!"), "punctuation" },
	{ B("Zm\0v"), "NUL byte" },
	{ B("Zm\xc3\xa9"), "non-ASCII byte" },
	{ B("\x80\x80\x80\x80"), "high bytes" },
};

START_TEST(test_base64_decode_rejects_malformed_text)
{
	struct buf	out;

	buf_init(&out);
	ck_assert_msg(text_base64_decode(base64_bad[_i].b64.s,
	    base64_bad[_i].b64.len, &out) == -EPROTO, "accepted: %s",
	    base64_bad[_i].why);
	buf_clear(&out);
}
END_TEST

START_TEST(test_base64_decode_reads_only_len_bytes)
{
	struct buf	out;

	buf_init(&out);
	/* "Zm9v" followed by garbage that len excludes. */
	ck_assert_int_eq(text_base64_decode("Zm9v!!!!", 4, &out), 0);
	ck_assert_str_eq(buf_str(&out), "foo");
	buf_clear(&out);
}
END_TEST

START_TEST(test_base64_decode_appends_to_existing_contents)
{
	struct buf	out;

	buf_init(&out);
	buf_append_str(&out, "x");
	ck_assert_int_eq(text_base64_decode("Zm9v", 4, &out), 0);
	ck_assert_str_eq(buf_str(&out), "xfoo");
	buf_clear(&out);
}
END_TEST

START_TEST(test_base64_round_trips_every_byte_value_at_every_length)
{
	unsigned char	raw[256];
	struct buf	enc, dec;
	size_t		i, n;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(255 - i);
	buf_init(&enc);
	buf_init(&dec);
	for (n = 0; n <= sizeof(raw); n++) {
		buf_reset(&enc);
		buf_reset(&dec);
		text_base64_encode(raw, n, &enc);
		ck_assert_uint_eq(enc.len, (n + 2) / 3 * 4);
		ck_assert_int_eq(text_base64_decode(enc.data, enc.len, &dec),
		    0);
		ck_assert_uint_eq(dec.len, n);
		if (n > 0)
			ck_assert_mem_eq(dec.data, raw, n);
	}
	buf_clear(&enc);
	buf_clear(&dec);
}
END_TEST

START_TEST(test_base64url_encode_matches_known_vectors)
{
	struct buf	out;

	buf_init(&out);
	text_base64url_encode(base64_vectors[_i].raw.s,
	    base64_vectors[_i].raw.len, &out);
	ck_assert_uint_eq(out.len, strlen(base64_vectors[_i].b64url));
	ck_assert_str_eq(buf_str(&out), base64_vectors[_i].b64url);
	buf_clear(&out);
}
END_TEST

START_TEST(test_base64url_never_pads_nor_uses_plus_or_slash)
{
	unsigned char	raw[40];
	struct buf	out;
	size_t		n;

	memset(raw, 0xff, sizeof(raw));
	buf_init(&out);
	for (n = 0; n <= sizeof(raw); n++) {
		buf_reset(&out);
		text_base64url_encode(raw, n, &out);
		ck_assert_uint_eq(out.len, (4 * n + 2) / 3);
		ck_assert_ptr_null(memchr(buf_str(&out), '=', out.len));
		ck_assert_ptr_null(memchr(buf_str(&out), '+', out.len));
		ck_assert_ptr_null(memchr(buf_str(&out), '/', out.len));
	}
	buf_clear(&out);
}
END_TEST

static const struct bytes utf8_good[] = {
	B(""),
	B("hello"),
	B("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),	/* é€😀 */
	B("\0"),					/* NUL is valid */
	B("a\0b"),
	B("\x1e"),
	B("\x7f"),					/* U+007F */
	B("\xc2\x80"),					/* U+0080 */
	B("\xdf\xbf"),					/* U+07FF */
	B("\xe0\xa0\x80"),				/* U+0800 */
	B("\xed\x9f\xbf"),				/* U+D7FF */
	B("\xee\x80\x80"),				/* U+E000 */
	B("\xef\xbf\xbd"),				/* U+FFFD */
	B("\xef\xbf\xbf"),				/* U+FFFF */
	B("\xf0\x90\x80\x80"),				/* U+10000 */
	B("\xf3\xbf\xbf\xbf"),				/* U+FFFFF */
	B("\xf4\x8f\xbf\xbf"),				/* U+10FFFF */
	B("\xef\xbb\xbf" "BOM"),
};

START_TEST(test_utf8_accepts_well_formed_text)
{
	ck_assert_msg(text_utf8_is_valid(utf8_good[_i].s, utf8_good[_i].len),
	    "vector %d refused", _i);
}
END_TEST

static const struct bytes utf8_overlong[] = {
	B("\xc0\x80"),			/* NUL in two bytes */
	B("\xc0\xaf"),			/* "/" in two bytes */
	B("\xc1\xbf"),
	B("\xe0\x80\x80"),
	B("\xe0\x80\xaf"),
	B("\xe0\x9f\xbf"),		/* U+07FF in three bytes */
	B("\xf0\x80\x80\x80"),
	B("\xf0\x80\x80\xaf"),
	B("\xf0\x8f\xbf\xbf"),		/* U+FFFF in four bytes */
	B("a\xc0\x80z"),
};

static const struct bytes utf8_surrogate[] = {
	B("\xed\xa0\x80"),		/* U+D800 */
	B("\xed\xad\xbf"),		/* U+DB7F */
	B("\xed\xb0\x80"),		/* U+DC00 */
	B("\xed\xbf\xbf"),		/* U+DFFF */
	B("\xed\xa0\xbd\xed\xb8\x80"),	/* CESU-8 pair for U+1F600 */
	B("ok\xed\xb2\x80"),
};

static const struct bytes utf8_too_big[] = {
	B("\xf4\x90\x80\x80"),		/* U+110000 */
	B("\xf4\xbf\xbf\xbf"),
	B("\xf5\x80\x80\x80"),
	B("\xf7\xbf\xbf\xbf"),		/* U+1FFFFF */
	B("\xf8\x88\x80\x80\x80"),	/* five bytes */
	B("\xfc\x84\x80\x80\x80\x80"),	/* six bytes */
};

static const struct bytes utf8_truncated[] = {
	B("\xc3"),
	B("\xe2\x82"),
	B("\xe2"),
	B("\xf0\x9f\x98"),
	B("\xf0\x9f"),
	B("\xf0"),
	B("abc\xe2\x82"),
	B("\xe2\x82" "a"),		/* continuation cut short by ASCII */
	B("\xf0\x9f\x98" "\xc3\xa9"),	/* by another sequence */
	B("\xc3\x28"),
	B("\xe2\x28\xa1"),
	B("\xf0\x9f\x28\x80"),
};

static const struct bytes utf8_stray[] = {
	B("\x80"),
	B("\xbf"),
	B("a\x80"),
	B("\x80z"),
	B("\xc3\xa9\xa9"),		/* "é" and one byte too many */
	B("\xf0\x9f\x98\x80\x80"),
	B("\x80\x80\x80\x80"),
};

static const struct bytes utf8_never_used[] = {
	B("\xfe"),
	B("\xff"),
	B("\xfe\xff"),
	B("a\xff" "b"),
};

START_TEST(test_utf8_rejects_overlong_forms)
{
	ck_assert(!text_utf8_is_valid(utf8_overlong[_i].s,
	    utf8_overlong[_i].len));
}
END_TEST

START_TEST(test_utf8_rejects_surrogates)
{
	ck_assert(!text_utf8_is_valid(utf8_surrogate[_i].s,
	    utf8_surrogate[_i].len));
}
END_TEST

START_TEST(test_utf8_rejects_code_points_above_10ffff)
{
	ck_assert(!text_utf8_is_valid(utf8_too_big[_i].s,
	    utf8_too_big[_i].len));
}
END_TEST

START_TEST(test_utf8_rejects_truncated_sequences)
{
	ck_assert(!text_utf8_is_valid(utf8_truncated[_i].s,
	    utf8_truncated[_i].len));
}
END_TEST

START_TEST(test_utf8_rejects_stray_continuation_bytes)
{
	ck_assert(!text_utf8_is_valid(utf8_stray[_i].s, utf8_stray[_i].len));
}
END_TEST

START_TEST(test_utf8_rejects_bytes_never_used)
{
	ck_assert(!text_utf8_is_valid(utf8_never_used[_i].s,
	    utf8_never_used[_i].len));
}
END_TEST

START_TEST(test_utf8_checks_len_bytes_not_up_to_nul)
{
	/* len cuts "é" in half. */
	ck_assert(!text_utf8_is_valid("\xc3\xa9", 1));
	/* The bad byte lies past len. */
	ck_assert(text_utf8_is_valid("ab\xff", 2));
	/* A NUL inside len does not end the check. */
	ck_assert(!text_utf8_is_valid("a\0\xff", 3));
	ck_assert(text_utf8_is_valid(NULL, 0));
}
END_TEST

static Suite *
text_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("text");

	tc = tcase_create("base64_encode");
	tcase_add_loop_test(tc, test_base64_encode_matches_known_vectors, 0,
	    nitems(base64_vectors));
	tcase_add_test(tc, test_base64_encode_appends_to_existing_contents);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64_decode");
	tcase_add_loop_test(tc, test_base64_decode_matches_known_vectors, 0,
	    nitems(base64_vectors));
	tcase_add_test(tc, test_base64_decode_accepts_missing_padding);
	tcase_add_loop_test(tc, test_base64_decode_rejects_malformed_text, 0,
	    nitems(base64_bad));
	tcase_add_test(tc, test_base64_decode_reads_only_len_bytes);
	tcase_add_test(tc, test_base64_decode_appends_to_existing_contents);
	tcase_add_test(tc,
	    test_base64_round_trips_every_byte_value_at_every_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64url");
	tcase_add_loop_test(tc, test_base64url_encode_matches_known_vectors,
	    0, nitems(base64_vectors));
	tcase_add_test(tc, test_base64url_never_pads_nor_uses_plus_or_slash);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8_accepts_well_formed_text, 0,
	    nitems(utf8_good));
	tcase_add_loop_test(tc, test_utf8_rejects_overlong_forms, 0,
	    nitems(utf8_overlong));
	tcase_add_loop_test(tc, test_utf8_rejects_surrogates, 0,
	    nitems(utf8_surrogate));
	tcase_add_loop_test(tc, test_utf8_rejects_code_points_above_10ffff, 0,
	    nitems(utf8_too_big));
	tcase_add_loop_test(tc, test_utf8_rejects_truncated_sequences, 0,
	    nitems(utf8_truncated));
	tcase_add_loop_test(tc, test_utf8_rejects_stray_continuation_bytes, 0,
	    nitems(utf8_stray));
	tcase_add_loop_test(tc, test_utf8_rejects_bytes_never_used, 0,
	    nitems(utf8_never_used));
	tcase_add_test(tc, test_utf8_checks_len_bytes_not_up_to_nul);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run(text_suite()));
}
