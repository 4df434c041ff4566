/*
 * sio-fcgi: unit tests for json_write, which must write what json-c
 * writes with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE.
 * Every test compares the two on the same tree, byte for byte.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "buf.h"
#include "json_write.h"
#include "sio_packet.h"
#include "testutil.h"

#define JSONC_FLAGS \
	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* json_write's text of obj equals json-c's; obj is put. */
static void
same_as_jsonc(struct json_object *obj)
{
	struct buf	 out;
	const char	*want;
	size_t		 wlen;

	buf_init(&out);
	buf_append(&out, "<", 1);	/* appends, does not overwrite */
	json_write(obj, &out);
	want = json_object_to_json_string_length(obj, JSONC_FLAGS, &wlen);
	ck_assert_ptr_nonnull(want);
	ck_assert_uint_eq(out.len, wlen + 1);
	ck_assert_mem_eq(out.data, "<", 1);
	ck_assert_mem_eq(out.data + 1, want, wlen);
	ck_assert_int_eq(out.data[out.len], '\0');
	buf_clear(&out);
	json_object_put(obj);
}

START_TEST(test_scalars)
{
	same_as_jsonc(NULL);
	same_as_jsonc(json_object_new_boolean(1));
	same_as_jsonc(json_object_new_boolean(0));
	same_as_jsonc(json_object_new_int64(0));
	same_as_jsonc(json_object_new_int64(-1));
	same_as_jsonc(json_object_new_int64(INT64_MAX));
	same_as_jsonc(json_object_new_int64(INT64_MIN));
	same_as_jsonc(json_object_new_uint64(UINT64_MAX));
	same_as_jsonc(json_object_new_uint64((uint64_t)INT64_MAX + 1));
	same_as_jsonc(json_object_new_double(0.1));
	same_as_jsonc(json_object_new_double(1.0));
	same_as_jsonc(json_object_new_double(-2.5e300));
	same_as_jsonc(json_object_new_double_s(HUGE_VAL, "1e400"));
	same_as_jsonc(json_object_new_string(""));
	same_as_jsonc(json_object_new_string("plain text"));
}
END_TEST

/* Every byte value alone in a string, and all of them in one. */
START_TEST(test_every_byte_of_a_string)
{
	char	all[256], one[1];
	int	c;

	for (c = 0; c < 256; c++) {
		one[0] = (char)c;
		same_as_jsonc(json_object_new_string_len(one, 1));
		all[c] = (char)c;
	}
	same_as_jsonc(json_object_new_string_len(all, sizeof(all)));
	/* Runs to copy between the escapes, at both ends. */
	same_as_jsonc(json_object_new_string("\"a/b\\c\"\n\x01z\x7f\xc3\xa9\t"));
}
END_TEST

START_TEST(test_containers)
{
	struct json_object	*o, *a, *k;

	same_as_jsonc(json_object_new_object());
	same_as_jsonc(json_object_new_array());

	o = json_object_new_object();
	json_object_object_add(o, "content", json_object_new_string("hi"));
	json_object_object_add(o, "from", json_object_new_string("a1"));
	json_object_object_add(o, "to", NULL);
	json_object_object_add(o, "q\"\n/\x01", json_object_new_int64(7));
	a = json_object_new_array();
	json_object_array_add(a, NULL);
	json_object_array_add(a, json_object_new_object());
	json_object_array_add(a, json_object_new_array());
	json_object_array_add(a, json_object_new_boolean(1));
	json_object_object_add(o, "list", a);
	same_as_jsonc(o);

	/* A key with a NUL: json-c writes it up to the NUL. */
	o = json_object_new_object();
	k = json_object_new_string_len("ab\0cd", 5);
	json_object_object_add(o, json_object_get_string(k),
	    json_object_new_string_len("x\0y", 3));
	json_object_put(k);
	same_as_jsonc(o);

	/* Members replaced keep their place, as json-c writes them. */
	o = json_object_new_object();
	json_object_object_add(o, "a", json_object_new_int64(1));
	json_object_object_add(o, "b", json_object_new_int64(2));
	json_object_object_add(o, "a", json_object_new_int64(3));
	json_object_object_del(o, "b");
	json_object_object_add(o, "c", json_object_new_int64(4));
	same_as_jsonc(o);
}
END_TEST

/* A deterministic generator, so that a failure repeats. */
static uint64_t	rng_state;

static uint32_t
rng(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((uint32_t)(rng_state >> 33));
}

static struct json_object *
random_string(void)
{
	char	s[24];
	size_t	n = rng() % sizeof(s), i;

	for (i = 0; i < n; i++) {
		/* Mostly printable, some escapes, some high bytes. */
		switch (rng() % 8) {
		case 0:
			s[i] = (char)(rng() % 0x20);
			break;
		case 1:
			s[i] = "\"\\/"[rng() % 3];
			break;
		case 2:
			s[i] = (char)(0x80 + rng() % 0x80);
			break;
		default:
			s[i] = (char)(0x20 + rng() % 0x5f);
			break;
		}
	}
	return (json_object_new_string_len(s, (int)n));
}

static struct json_object *
random_value(int depth)
{
	struct json_object	*v, *k;
	int			 i, n;

	switch (rng() % (depth > 5 ? 6 : 8)) {
	case 0:
		return (NULL);
	case 1:
		return (json_object_new_boolean((int)(rng() % 2)));
	case 2:
		return (json_object_new_int64((int64_t)(((uint64_t)rng() <<
		    32) | rng()) >> (rng() % 64)));
	case 3:
		return (json_object_new_double((double)(int32_t)rng() /
		    (double)(1 + rng() % 1000)));
	case 4:
	case 5:
		return (random_string());
	case 6:
		v = json_object_new_array();
		n = (int)(rng() % 5);
		for (i = 0; i < n; i++)
			json_object_array_add(v, random_value(depth + 1));
		return (v);
	default:
		v = json_object_new_object();
		n = (int)(rng() % 5);
		for (i = 0; i < n; i++) {
			k = random_string();
			json_object_object_add(v, json_object_get_string(k),
			    random_value(depth + 1));
			json_object_put(k);
		}
		return (v);
	}
}

START_TEST(test_random_trees)
{
	int	i;

	rng_state = 0x5eed0000u + (uint64_t)_i;
	for (i = 0; i < 2000; i++)
		same_as_jsonc(random_value(0));
}
END_TEST

/*
 * What the parser builds is written as json-c writes it; doubles keep the
 * text they were read from.
 */
START_TEST(test_parsed_values)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "2[\"private message\",{\"content\":\"h\xc3\xa9 \\u0001\\n/\","
		    "\"from\":\"5f1c\",\"to\":\"9a0b\"}]",
		  "[\"private message\",{\"content\":\"h\xc3\xa9 \\u0001\\n/\","
		    "\"from\":\"5f1c\",\"to\":\"9a0b\"}]" },
		{ "2[\"n\",1,-0,1.50,1e400,-1E-7,9223372036854775807,"
		    "-9223372036854775808,12345678901234567890]",
		  "[\"n\",1,0,1.50,1e400,-1E-7,9223372036854775807,"
		    "-9223372036854775808,12345678901234567890]" },
		{ "2[\"e\",{\"a\":{\"b\":[true,false,null,{}]},\"\":\"\\\"\\\\\\/\"}]",
		  "[\"e\",{\"a\":{\"b\":[true,false,null,{}]},\"\":\"\\\"\\\\/\"}]" },
	};
	struct sio_packet	 p;
	struct buf		 out;
	const char		*cause;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&out);
		sio_packet_init(&p);
		ck_assert_msg(sio_packet_decode(cases[i].in,
		    strlen(cases[i].in), &p, &cause) == 0, "%zu: %s", i, cause);
		json_write(p.data, &out);
		ck_assert_str_eq(buf_str(&out), cases[i].out);
		same_as_jsonc(json_object_get(p.data));
		sio_packet_clear(&p);
		buf_clear(&out);
	}
}
END_TEST

static Suite *
json_write_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("json_write");
	tc = tcase_create("as json-c");
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_every_byte_of_a_string);
	tcase_add_test(tc, test_containers);
	tcase_add_loop_test(tc, test_random_trees, 0, 4);
	tcase_add_test(tc, test_parsed_values);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (testutil_suite_run(json_write_suite()));
}
