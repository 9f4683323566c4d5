/* SPDX-License-Identifier: ISC */
/* The growing printf buffer: exact text across many growths, long pieces, and free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/base/textbuf.h"

static void test_appends(void **state)
{
	struct textbuf t = {0};
	char want[64];

	(void)state;
	for (int i = 0; i < 5000; i++)
		textbuf_printf(&t, "line=%d\n", i);
	assert_false(t.failed);
	assert_true(t.len < t.cap);
	assert_int_equal(t.buf[t.len], '\0');
	assert_int_equal(strlen(t.buf), t.len);
	assert_memory_equal(t.buf, "line=0\nline=1\n", 14);
	snprintf(want, sizeof(want), "line=%d\n", 4999);
	assert_string_equal(t.buf + t.len - strlen(want), want);
	textbuf_free(&t);
	assert_null(t.buf);
	assert_int_equal(t.len, 0);
	assert_int_equal(t.cap, 0);
}

static void test_long_piece_and_empty(void **state)
{
	struct textbuf t = {0};
	char *big = malloc(10001);

	(void)state;
	memset(big, 'k', 10000);
	big[10000] = '\0';
	textbuf_printf(&t, "%s", "");
	assert_non_null(t.buf);
	assert_int_equal(t.len, 0);
	assert_string_equal(t.buf, "");
	textbuf_printf(&t, "a=%s\n", big);
	textbuf_printf(&t, "b\n");
	assert_int_equal(t.len, 10005);
	assert_memory_equal(t.buf + 2, big, 10000);
	assert_string_equal(t.buf + 10003, "b\n");
	free(big);
	textbuf_free(&t);
}

/* An answer of the control socket ends with errno=0 and the empty line; a failed buffer is freed.
 */
static void test_answer(void **state)
{
	struct textbuf t = {0};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	textbuf_printf(&t, "nat=cone\n");
	assert_int_equal(textbuf_answer(&t, &out, &len), 0);
	assert_string_equal(out, "nat=cone\nerrno=0\n\n");
	assert_int_equal(len, strlen(out));
	free(out);

	struct textbuf failed = {.failed = true};
	out = NULL;
	assert_int_equal(textbuf_answer(&failed, &out, &len), -ENOMEM);
	assert_null(out);
	assert_null(failed.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_appends),
	    cmocka_unit_test(test_long_piece_and_empty),
	    cmocka_unit_test(test_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
