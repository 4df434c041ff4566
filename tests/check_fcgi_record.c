/*
 * sio-fcgi: unit tests for fcgi_record, the FastCGI records of an answer
 * written without libfcgi's streams.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "fcgi_record.h"
#include "testutil.h"

/* What a front server reads back from a run of records. */
struct decoded {
	struct buf	stdout_data;
	size_t		stdout_records;
	size_t		stdout_ends;	/* empty FCGI_STDOUT */
	size_t		end_requests;
	size_t		largest;	/* the largest content */
	uint32_t	app_status;
	int		protocol_status;
	int		last_type;
};

/*
 * Walk the records of in, as a front server does: every header says
 * version 1 and request id, every record is whole, its padding zeros
 * and a multiple of 8 long with it.
 */
static void
decode(const struct buf *in, uint16_t id, struct decoded *d)
{
	const unsigned char	*p = (const unsigned char *)in->data;
	size_t			 left = in->len, clen, plen, i;

	memset(d, 0, sizeof(*d));
	buf_init(&d->stdout_data);
	d->protocol_status = -1;
	while (left > 0) {
		ck_assert_uint_ge(left, 8);
		ck_assert_int_eq(p[0], 1);
		ck_assert_uint_eq(((unsigned)p[2] << 8) | p[3], id);
		clen = ((size_t)p[4] << 8) | p[5];
		plen = p[6];
		ck_assert_uint_eq((clen + plen) % 8, 0);
		ck_assert_uint_lt(plen, 8);
		ck_assert_uint_ge(left, 8 + clen + plen);
		for (i = 0; i < plen; i++)
			ck_assert_int_eq(p[8 + clen + i], 0);
		/* Nothing follows the end of the request. */
		ck_assert_int_ne(d->last_type, 3);
		if (clen > d->largest)
			d->largest = clen;
		switch (p[1]) {
		case 6:		/* FCGI_STDOUT */
			ck_assert_uint_eq(d->stdout_ends, 0);
			if (clen == 0)
				d->stdout_ends++;
			else {
				d->stdout_records++;
				buf_append(&d->stdout_data, p + 8, clen);
			}
			break;
		case 3:		/* FCGI_END_REQUEST */
			ck_assert_uint_eq(clen, 8);
			d->end_requests++;
			d->app_status = ((uint32_t)p[8] << 24) |
			    ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) |
			    p[11];
			d->protocol_status = p[12];
			break;
		default:
			ck_abort_msg("record type %d", p[1]);
		}
		d->last_type = p[1];
		p += 8 + clen + plen;
		left -= 8 + clen + plen;
	}
}

/* An answer of n bytes, each different from its neighbours. */
static char *
pattern(size_t n)
{
	char	*s = malloc(n + 1);
	size_t	 i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		s[i] = (char)('a' + (i * 7 + i / 251) % 26);
	s[n] = '\0';
	return (s);
}

START_TEST(test_small_answer_is_framed_byte_for_byte)
{
	static const unsigned char	want[] = {
		/* FCGI_STDOUT, id 0x0102, 18 bytes of content, 6 of padding */
		1, 6, 1, 2, 0, 18, 6, 0,
		'S', 't', 'a', 't', 'u', 's', ':', ' ', '2', '0', '0',
		'\r', '\n', '\r', '\n', 'o', 'k', '\n', 0, 0, 0, 0, 0, 0,
		/* the empty FCGI_STDOUT that ends the stream */
		1, 6, 1, 2, 0, 0, 0, 0,
		/* FCGI_END_REQUEST: status 0, FCGI_REQUEST_COMPLETE */
		1, 3, 1, 2, 0, 8, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
	};
	struct buf	out;

	buf_init(&out);
	fcgi_record_stdout(&out, 0x0102, "Status: 200\r\n\r\nok\n", 18);
	fcgi_record_end(&out, 0x0102);
	ck_assert_uint_eq(out.len, sizeof(want));
	ck_assert_mem_eq(out.data, want, sizeof(want));
	buf_clear(&out);
}
END_TEST

START_TEST(test_nothing_to_write_writes_no_record)
{
	struct buf	out;

	buf_init(&out);
	fcgi_record_stdout(&out, 1, "", 0);
	ck_assert_uint_eq(out.len, 0);
	buf_clear(&out);
}
END_TEST

/* Sizes around the record limit, and one of several records. */
static const struct {
	size_t	len;
	size_t	records;
} sizes[] = {
	{ 1, 1 },
	{ 8, 1 },
	{ 65527, 1 },
	{ 65528, 1 },
	{ 65529, 2 },
	{ 65535, 2 },
	{ 65536, 2 },
	{ 200000, 4 },
	{ 1048576, 17 },
};

START_TEST(test_long_answers_are_split_and_arrive_whole)
{
	struct decoded	d;
	struct buf	out;
	char		*s = pattern(sizes[_i].len);

	buf_init(&out);
	fcgi_record_stdout(&out, 7, "Status: 200\r\n\r\n", 15);
	fcgi_record_stdout(&out, 7, s, sizes[_i].len);
	fcgi_record_end(&out, 7);
	decode(&out, 7, &d);
	ck_assert_uint_eq(d.stdout_records, 1 + sizes[_i].records);
	ck_assert_uint_le(d.largest, 65535);
	ck_assert_uint_eq(d.stdout_data.len, 15 + sizes[_i].len);
	ck_assert_mem_eq(d.stdout_data.data, "Status: 200\r\n\r\n", 15);
	ck_assert_mem_eq(d.stdout_data.data + 15, s, sizes[_i].len);
	ck_assert_uint_eq(d.stdout_ends, 1);
	ck_assert_uint_eq(d.end_requests, 1);
	ck_assert_uint_eq(d.app_status, 0);
	ck_assert_int_eq(d.protocol_status, 0);
	buf_clear(&d.stdout_data);
	buf_clear(&out);
	free(s);
}
END_TEST

START_TEST(test_request_ids_are_big_endian_up_to_65535)
{
	struct decoded	d;
	struct buf	out;

	buf_init(&out);
	fcgi_record_stdout(&out, 65535, "x", 1);
	fcgi_record_end(&out, 65535);
	decode(&out, 65535, &d);
	ck_assert_uint_eq(d.stdout_data.len, 1);
	ck_assert_uint_eq(d.end_requests, 1);
	buf_clear(&d.stdout_data);
	buf_clear(&out);
}
END_TEST

static Suite *
fcgi_record_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("fcgi_record");
	tc = tcase_create("framing");
	tcase_add_test(tc, test_small_answer_is_framed_byte_for_byte);
	tcase_add_test(tc, test_nothing_to_write_writes_no_record);
	tcase_add_loop_test(tc, test_long_answers_are_split_and_arrive_whole,
	    0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_request_ids_are_big_endian_up_to_65535);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (testutil_suite_run(fcgi_record_suite()));
}
