/*
 * sio-fcgi: unit tests for buf, the growable NUL-terminated byte buffer.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "testutil.h"

START_TEST(test_init_leaves_buffer_empty)
{
	struct buf	b;

	memset(&b, 0xa5, sizeof(b));
	buf_init(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.size, 0);
	ck_assert_str_eq(buf_str(&b), "");
}
END_TEST

START_TEST(test_append_copies_bytes_and_terminates)
{
	struct buf	b;

	buf_init(&b);
	buf_append(&b, "hello", 5);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_uint_ge(b.size, 6);
	ck_assert_mem_eq(b.data, "hello\0", 6);
	buf_append(&b, " world", 6);
	ck_assert_uint_eq(b.len, 11);
	ck_assert_str_eq(b.data, "hello world");
	buf_clear(&b);
}
END_TEST

START_TEST(test_append_is_binary_safe)
{
	static const char	bytes[] = { 'a', '\0', 'b', '\0', '\xff' };
	struct buf		b;

	buf_init(&b);
	buf_append(&b, bytes, sizeof(bytes));
	ck_assert_uint_eq(b.len, sizeof(bytes));
	ck_assert_mem_eq(b.data, bytes, sizeof(bytes));
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_clear(&b);
}
END_TEST

START_TEST(test_append_of_nothing_still_terminates)
{
	struct buf	b;

	buf_init(&b);
	buf_append(&b, NULL, 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.data[0], '\0');
	buf_clear(&b);
}
END_TEST

START_TEST(test_append_str_and_char_append_text)
{
	struct buf	b;

	buf_init(&b);
	buf_append_str(&b, "ab");
	buf_append_char(&b, 'c');
	buf_append_char(&b, '\0');
	buf_append_str(&b, "");
	buf_append_str(&b, "d");
	ck_assert_uint_eq(b.len, 5);
	ck_assert_mem_eq(b.data, "abc\0d\0", 6);
	buf_clear(&b);
}
END_TEST

START_TEST(test_printf_appends_formatted_text)
{
	struct buf	b;

	buf_init(&b);
	buf_append_char(&b, '>');
	buf_printf(&b, "Status: %d %s\r\n", 400, "Bad Request");
	ck_assert_str_eq(b.data, ">Status: 400 Bad Request\r\n");
	ck_assert_uint_eq(b.len, 26);
	buf_printf(&b, "%s", "");
	ck_assert_uint_eq(b.len, 26);
	buf_printf(&b, "%05d|%zu", -7, (size_t)12);
	ck_assert_str_eq(b.data, ">Status: 400 Bad Request\r\n-0007|12");
	ck_assert_uint_eq(b.len, strlen(b.data));
	buf_clear(&b);
}
END_TEST

START_TEST(test_printf_grows_past_the_first_allocation)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_append_char(&b, 'x');
	buf_printf(&b, "%0500d", 1);
	ck_assert_uint_eq(b.len, 501);
	ck_assert_int_eq(b.data[0], 'x');
	for (i = 1; i < 500; i++)
		ck_assert_int_eq(b.data[i], '0');
	ck_assert_int_eq(b.data[500], '1');
	ck_assert_int_eq(b.data[501], '\0');
	buf_clear(&b);
}
END_TEST

START_TEST(test_reserve_makes_room_without_changing_contents)
{
	struct buf	 b;
	char		*before;

	buf_init(&b);
	buf_append_str(&b, "abc");
	buf_reserve(&b, 1000);
	ck_assert_uint_ge(b.size, 3 + 1000 + 1);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq(b.data, "abc");
	/* The room is really there: appending it must not move the data. */
	before = b.data;
	buf_printf(&b, "%01000d", 0);
	ck_assert_ptr_eq(b.data, before);
	ck_assert_uint_eq(b.len, 1003);
	buf_clear(&b);
}
END_TEST

START_TEST(test_reserve_on_unused_buffer_keeps_it_empty_text)
{
	struct buf	b;

	buf_init(&b);
	buf_reserve(&b, 10);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_ge(b.size, 11);
	/* buf_str() promises "" for an empty buffer, allocated or not. */
	ck_assert_str_eq(buf_str(&b), "");
	buf_clear(&b);
}
END_TEST

START_TEST(test_reset_keeps_memory_and_drops_contents)
{
	struct buf	 b;
	char		*before;
	size_t		 size;

	buf_init(&b);
	buf_append_str(&b, "some text");
	before = b.data;
	size = b.size;
	buf_reset(&b);
	ck_assert_ptr_eq(b.data, before);
	ck_assert_uint_eq(b.size, size);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_str(&b), "");
	buf_append_str(&b, "x");
	ck_assert_str_eq(b.data, "x");
	buf_clear(&b);
}
END_TEST

START_TEST(test_reset_of_unused_buffer_is_harmless)
{
	struct buf	b;

	buf_init(&b);
	buf_reset(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_clear_frees_and_leaves_buffer_reusable)
{
	struct buf	b;

	buf_init(&b);
	buf_append_str(&b, "abc");
	buf_clear(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.size, 0);
	buf_clear(&b);
	buf_append_str(&b, "again");
	ck_assert_str_eq(b.data, "again");
	buf_clear(&b);
}
END_TEST

START_TEST(test_take_hands_over_contents_and_resets)
{
	struct buf	 b;
	char		*s;

	buf_init(&b);
	buf_append_str(&b, "owned");
	s = buf_take(&b);
	ck_assert_str_eq(s, "owned");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.size, 0);
	free(s);
}
END_TEST

START_TEST(test_take_of_empty_buffer_returns_empty_string)
{
	struct buf	 b;
	char		*s;

	buf_init(&b);
	s = buf_take(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_many_small_appends_keep_every_byte)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < 100000; i++)
		buf_append_char(&b, 'a' + i % 26);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_uint_gt(b.size, b.len);
	for (i = 0; i < 100000; i++) {
		if (b.data[i] != (char)('a' + i % 26))
			ck_abort_msg("byte %zu is %d", i, b.data[i]);
	}
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_clear(&b);
}
END_TEST

START_TEST(test_reserve_overflow_is_fatal)
{
	struct buf	b;

	buf_init(&b);
	buf_append_char(&b, 'x');
	/* fatalx() exits; reaching the next line is the failure. */
	buf_reserve(&b, SIZE_MAX);
	buf_clear(&b);
}
END_TEST

static Suite *
buf_suite(bool forking)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("buf");

	tc = tcase_create("lifetime");
	tcase_add_test(tc, test_init_leaves_buffer_empty);
	tcase_add_test(tc, test_reset_keeps_memory_and_drops_contents);
	tcase_add_test(tc, test_reset_of_unused_buffer_is_harmless);
	tcase_add_test(tc, test_clear_frees_and_leaves_buffer_reusable);
	tcase_add_test(tc, test_take_hands_over_contents_and_resets);
	tcase_add_test(tc, test_take_of_empty_buffer_returns_empty_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("append");
	tcase_add_test(tc, test_append_copies_bytes_and_terminates);
	tcase_add_test(tc, test_append_is_binary_safe);
	tcase_add_test(tc, test_append_of_nothing_still_terminates);
	tcase_add_test(tc, test_append_str_and_char_append_text);
	tcase_add_test(tc, test_many_small_appends_keep_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("printf");
	tcase_add_test(tc, test_printf_appends_formatted_text);
	tcase_add_test(tc, test_printf_grows_past_the_first_allocation);
	suite_add_tcase(s, tc);

	tc = tcase_create("reserve");
	tcase_add_test(tc, test_reserve_makes_room_without_changing_contents);
	tcase_add_test(tc, test_reserve_on_unused_buffer_keeps_it_empty_text);
	/* An exit test would end the whole run without fork(2). */
	if (forking)
		tcase_add_exit_test(tc, test_reserve_overflow_is_fatal, 1);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (testutil_suite_run(buf_suite(testutil_runner_is_forking())));
}
