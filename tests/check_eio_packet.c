/*
 * sio-fcgi: unit tests for eio_packet, the Engine.IO v4 polling codec.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "eio_packet.h"
#include "testutil.h"

/* A byte string with its length, so vectors may hold NUL bytes. */
struct bytes {
	const char	*s;
	size_t		 len;
};
#define B(lit)	{ (lit), sizeof(lit) - 1 }

#define RS	"\x1e"
#define EMOJI	"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"	/* é€😀 */

/* Fail unless pkt is the text packet (type, data). */
static void
check_text_packet(const struct eio_packet *pkt, enum eio_pkt_type type,
    const char *data, size_t len)
{
	ck_assert_int_eq(pkt->type, type);
	ck_assert(!pkt->binary);
	ck_assert_uint_eq(pkt->len, len);
	if (len > 0)
		ck_assert_mem_eq(pkt->data, data, len);
}

/* Fail unless pkt is a binary message holding data. */
static void
check_binary_packet(const struct eio_packet *pkt, const struct buf *bin,
    const char *data, size_t len)
{
	ck_assert_int_eq(pkt->type, EIO_PKT_MESSAGE);
	ck_assert(pkt->binary);
	ck_assert_uint_eq(pkt->len, len);
	ck_assert_uint_eq(bin->len, len);
	if (len > 0) {
		ck_assert_ptr_eq(pkt->data, bin->data);
		ck_assert_mem_eq(pkt->data, data, len);
	}
}

static const struct {
	struct bytes		 payload;
	enum eio_pkt_type	 type;
	struct bytes		 data;
} single_vectors[] = {
	{ B("0{\"sid\":\"abc\"}"), EIO_PKT_OPEN, B("{\"sid\":\"abc\"}") },
	{ B("1"), EIO_PKT_CLOSE, B("") },
	{ B("2"), EIO_PKT_PING, B("") },
	{ B("2probe"), EIO_PKT_PING, B("probe") },
	{ B("3"), EIO_PKT_PONG, B("") },
	{ B("3xyz"), EIO_PKT_PONG, B("xyz") },
	{ B("4hello"), EIO_PKT_MESSAGE, B("hello") },
	{ B("4"), EIO_PKT_MESSAGE, B("") },
	{ B("4" EMOJI), EIO_PKT_MESSAGE, B(EMOJI) },
	{ B("4a\0b"), EIO_PKT_MESSAGE, B("a\0b") },
	{ B("42[\"chat\",\"b\"]"), EIO_PKT_MESSAGE, B("2[\"chat\",\"b\"]") },
	{ B("5"), EIO_PKT_UPGRADE, B("") },
	{ B("6"), EIO_PKT_NOOP, B("") },
};

START_TEST(test_payload_with_one_text_packet_decodes_it)
{
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, single_vectors[_i].payload.s,
	    single_vectors[_i].payload.len);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, single_vectors[_i].type,
	    single_vectors[_i].data.s, single_vectors[_i].data.len);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_text_packet_data_borrows_the_payload)
{
	static const char	payload[] = "4hello" RS "4world";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;

	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), 1);
	ck_assert_ptr_eq(pkt.data, payload + 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), 1);
	ck_assert_ptr_eq(pkt.data, payload + 8);
}
END_TEST

START_TEST(test_payload_splits_on_record_separator)
{
	static const char	payload[] = "4hello" RS "2" RS "4world";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, "hello", 5);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_PING, "", 0);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, "world", 5);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	/* The end stays the end. */
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_payload_of_official_suite_gives_three_messages)
{
	static const char	payload[] = "4test1" RS "4test2" RS "4test3";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;
	char			want[6];
	int			n;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	for (n = 1; n <= 3; n++) {
		ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
		memcpy(want, "test", 4);
		want[4] = '0' + n;
		check_text_packet(&pkt, EIO_PKT_MESSAGE, want, 5);
	}
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_payload_keeps_multibyte_utf8_intact)
{
	static const char	payload[] = "4" EMOJI RS "4" EMOJI EMOJI;
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, EMOJI, 9);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, EMOJI EMOJI, 18);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_payload_mixes_text_and_binary_messages)
{
	static const char	payload[] = "4hello" RS "bAQIDBA==";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, "hello", 5);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, "\x01\x02\x03\x04", 4);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_binary_packet_replaces_previous_bin_contents)
{
	static const char	payload[] = "bAQID" RS "bBAUG";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	buf_append_str(&bin, "stale bytes");
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, "\x01\x02\x03", 3);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, "\x04\x05\x06", 3);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_binary_packet_without_padding_is_accepted)
{
	static const char	payload[] = "bAQIDBA";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, "\x01\x02\x03\x04", 4);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_binary_packet_with_no_bytes_is_an_empty_message)
{
	static const char	payload[] = "4a" RS "b";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	buf_append_str(&bin, "stale");
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, "a", 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, "", 0);
	ck_assert_ptr_nonnull(pkt.data);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_binary_packet_may_hold_separator_and_nul_bytes)
{
	/* 0x1e and NUL are fine once base64 hides them: "\x1e\0\xff". */
	static const char	payload[] = "bHgD/" RS "6";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, "\x1e\0\xff", 3);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_NOOP, "", 0);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_binary_packet_without_bin_buffer_is_refused)
{
	static const char	payload[] = "bAQID";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;

	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), -EPROTO);
}
END_TEST

/* Payloads that decode ngood packets and then fail. */
static const struct {
	struct bytes	 payload;
	int		 ngood;
	const char	*why;
} bad_vectors[] = {
	{ B(""), 0, "empty payload" },
	{ B(RS), 0, "two empty packets" },
	{ B(RS "4a"), 0, "leading separator" },
	{ B("4a" RS), 1, "trailing separator" },
	{ B("4" RS), 1, "trailing separator after an empty message" },
	{ B("4a" RS RS "4b"), 1, "empty packet in the middle" },
	{ B("abc"), 0, "unknown type character" },
	{ B("4ok" RS "abc"), 1, "unknown type after a good packet" },
	{ B("7"), 0, "type 7" },
	{ B("9x"), 0, "type 9" },
	{ B("/"), 0, "type just below 0" },
	{ B(" 4a"), 0, "leading space" },
	{ B("\0" "4a"), 0, "NUL type" },
	{ B("B" "AQID"), 0, "upper-case B" },
	{ B("\xc3\xa9"), 0, "multi-byte type" },
	{ B("b!!!!"), 0, "b with invalid base64" },
	{ B("bAQIDBA="), 0, "b with bad padding" },
	{ B("bA"), 0, "b with one base64 character" },
	{ B("bAQ ID"), 0, "b with a space" },
	{ B("b4hello"), 0, "b with text after it" },
	{ B("4\xff"), 0, "invalid UTF-8 byte" },
	{ B("4\xc0\x80"), 0, "overlong UTF-8" },
	{ B("4\xed\xa0\x80"), 0, "UTF-8 surrogate" },
	{ B("4\xf4\x90\x80\x80"), 0, "UTF-8 above U+10FFFF" },
	{ B("4\xe2\x82" RS "4a"), 0, "UTF-8 cut by a separator" },
	{ B("4a" RS "4\x80"), 1, "stray continuation byte" },
};

START_TEST(test_payload_rejects_malformed_packets)
{
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;
	int			n;

	buf_init(&bin);
	eio_payload_iter_init(&it, bad_vectors[_i].payload.s,
	    bad_vectors[_i].payload.len);
	for (n = 0; n < bad_vectors[_i].ngood; n++) {
		ck_assert_msg(eio_payload_next(&it, &pkt, &bin) == 1,
		    "%s: packet %d refused", bad_vectors[_i].why, n);
	}
	ck_assert_msg(eio_payload_next(&it, &pkt, &bin) == -EPROTO,
	    "%s: accepted", bad_vectors[_i].why);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_trailing_separator_is_refused_without_reading_past_end)
{
	struct eio_payload_iter	 it;
	struct eio_packet	 pkt;
	char			*payload;

	/* Exactly sized, so ASan and valgrind see any read past the end. */
	payload = malloc(3);
	ck_assert_ptr_nonnull(payload);
	memcpy(payload, "4a" RS, 3);
	eio_payload_iter_init(&it, payload, 3);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, "a", 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), -EPROTO);
	free(payload);
}
END_TEST

START_TEST(test_payload_error_repeats_on_the_next_call)
{
	static const char	payload[] = "4a" RS "abc" RS "4b";
	struct eio_payload_iter	it;
	struct eio_packet	pkt;
	struct buf		bin;

	buf_init(&bin);
	eio_payload_iter_init(&it, payload, sizeof(payload) - 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), -EPROTO);
	/* A careless caller must not skip the bad packet and go on. */
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), -EPROTO);
	buf_clear(&bin);
}
END_TEST

START_TEST(test_payload_decodes_only_len_bytes)
{
	struct eio_payload_iter	it;
	struct eio_packet	pkt;

	/* "4ab" of "4ab\x1e" + garbage: len ends before the separator. */
	eio_payload_iter_init(&it, "4ab" RS "zz", 3);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, "ab", 2);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), 0);
}
END_TEST

START_TEST(test_absent_payload_is_an_empty_payload)
{
	struct eio_payload_iter	it;
	struct eio_packet	pkt;

	eio_payload_iter_init(&it, NULL, 0);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, NULL), -EPROTO);
}
END_TEST

static const struct {
	enum eio_pkt_type	 type;
	struct bytes		 data;
	struct bytes		 want;
} encode_vectors[] = {
	{ EIO_PKT_OPEN, B("{\"sid\":\"x\",\"upgrades\":[]}"),
	    B("0{\"sid\":\"x\",\"upgrades\":[]}") },
	{ EIO_PKT_CLOSE, B(""), B("1") },
	{ EIO_PKT_PING, B(""), B("2") },
	{ EIO_PKT_PONG, B("probe"), B("3probe") },
	{ EIO_PKT_MESSAGE, B("hello"), B("4hello") },
	{ EIO_PKT_MESSAGE, B(EMOJI), B("4" EMOJI) },
	{ EIO_PKT_MESSAGE, B("a\0b"), B("4a\0b") },
	{ EIO_PKT_UPGRADE, B(""), B("5") },
	{ EIO_PKT_NOOP, B(""), B("6") },
};

START_TEST(test_encode_writes_type_digit_and_data)
{
	struct buf	out;

	buf_init(&out);
	eio_packet_encode(encode_vectors[_i].type, encode_vectors[_i].data.s,
	    encode_vectors[_i].data.len, &out);
	ck_assert_uint_eq(out.len, encode_vectors[_i].want.len);
	ck_assert_mem_eq(out.data, encode_vectors[_i].want.s, out.len);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encode_of_no_data_accepts_null)
{
	struct buf	out;

	buf_init(&out);
	eio_packet_encode(EIO_PKT_PING, NULL, 0, &out);
	ck_assert_str_eq(buf_str(&out), "2");
	buf_clear(&out);
}
END_TEST

START_TEST(test_encode_appends_to_existing_payload)
{
	struct buf	out;

	buf_init(&out);
	eio_packet_encode(EIO_PKT_MESSAGE, "hello", 5, &out);
	buf_append_char(&out, EIO_RECORD_SEPARATOR);
	eio_packet_encode(EIO_PKT_PING, "", 0, &out);
	buf_append_char(&out, EIO_RECORD_SEPARATOR);
	eio_packet_encode_binary("\x01\x02\x03\x04", 4, &out);
	ck_assert_str_eq(buf_str(&out), "4hello" RS "2" RS "bAQIDBA==");
	buf_clear(&out);
}
END_TEST

static const struct {
	struct bytes	 data;
	const char	*want;
} binary_vectors[] = {
	{ B(""), "b" },
	{ B("\x01\x02\x03"), "bAQID" },
	{ B("\x04\x05\x06"), "bBAUG" },
	{ B("\x01\x02\x03\x04"), "bAQIDBA==" },
	{ B("\xfb\xff"), "b+/8=" },
	{ B("\x1e\0\xff"), "bHgD/" },
};

START_TEST(test_encode_binary_writes_b_and_standard_base64)
{
	struct buf	out;

	buf_init(&out);
	eio_packet_encode_binary(binary_vectors[_i].data.s,
	    binary_vectors[_i].data.len, &out);
	ck_assert_str_eq(buf_str(&out), binary_vectors[_i].want);
	buf_clear(&out);
}
END_TEST

START_TEST(test_encoded_payload_decodes_to_the_same_packets)
{
	unsigned char		 raw[256];
	struct eio_payload_iter	 it;
	struct eio_packet	 pkt;
	struct buf		 out, bin;
	size_t			 i;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)i;
	buf_init(&out);
	buf_init(&bin);
	eio_packet_encode(EIO_PKT_MESSAGE, EMOJI, 9, &out);
	buf_append_char(&out, EIO_RECORD_SEPARATOR);
	eio_packet_encode_binary(raw, sizeof(raw), &out);
	buf_append_char(&out, EIO_RECORD_SEPARATOR);
	eio_packet_encode(EIO_PKT_CLOSE, NULL, 0, &out);

	eio_payload_iter_init(&it, out.data, out.len);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_MESSAGE, EMOJI, 9);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_binary_packet(&pkt, &bin, (const char *)raw, sizeof(raw));
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 1);
	check_text_packet(&pkt, EIO_PKT_CLOSE, "", 0);
	ck_assert_int_eq(eio_payload_next(&it, &pkt, &bin), 0);
	buf_clear(&out);
	buf_clear(&bin);
}
END_TEST

static Suite *
eio_packet_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("eio_packet");

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_payload_with_one_text_packet_decodes_it,
	    0, nitems(single_vectors));
	tcase_add_test(tc, test_text_packet_data_borrows_the_payload);
	tcase_add_test(tc, test_payload_splits_on_record_separator);
	tcase_add_test(tc,
	    test_payload_of_official_suite_gives_three_messages);
	tcase_add_test(tc, test_payload_keeps_multibyte_utf8_intact);
	tcase_add_test(tc, test_payload_decodes_only_len_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode_binary");
	tcase_add_test(tc, test_payload_mixes_text_and_binary_messages);
	tcase_add_test(tc, test_binary_packet_replaces_previous_bin_contents);
	tcase_add_test(tc, test_binary_packet_without_padding_is_accepted);
	tcase_add_test(tc,
	    test_binary_packet_with_no_bytes_is_an_empty_message);
	tcase_add_test(tc,
	    test_binary_packet_may_hold_separator_and_nul_bytes);
	tcase_add_test(tc, test_binary_packet_without_bin_buffer_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode_errors");
	tcase_add_loop_test(tc, test_payload_rejects_malformed_packets, 0,
	    nitems(bad_vectors));
	tcase_add_test(tc,
	    test_trailing_separator_is_refused_without_reading_past_end);
	tcase_add_test(tc, test_payload_error_repeats_on_the_next_call);
	tcase_add_test(tc, test_absent_payload_is_an_empty_payload);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, test_encode_writes_type_digit_and_data, 0,
	    nitems(encode_vectors));
	tcase_add_test(tc, test_encode_of_no_data_accepts_null);
	tcase_add_test(tc, test_encode_appends_to_existing_payload);
	tcase_add_loop_test(tc,
	    test_encode_binary_writes_b_and_standard_base64, 0,
	    nitems(binary_vectors));
	tcase_add_test(tc, test_encoded_payload_decodes_to_the_same_packets);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run(eio_packet_suite()));
}
