/* SPDX-License-Identifier: ISC */
/* alamesh show's words for durations and byte counts, which must be wg(8)'s. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "daemon/cli/format.h"
#include "daemon/cli/terminal.h"

/* The text as a pipe gets it: without the colour escapes. */
static const char *plain(const char *s)
{
	static char out[1024];
	size_t w = 0;

	for (size_t r = 0; s[r] && w + 1 < sizeof(out);) {
		if (s[r] == '\x1b' && s[r + 1] == '[') {
			const char *m = strchr(s + r, 'm');
			assert_non_null(m);
			r = (size_t)(m - s) + 1;
			continue;
		}
		out[w++] = s[r++];
	}
	out[w] = '\0';
	return out;
}

static const char *duration(uint64_t secs)
{
	static char buf[512];

	format_duration(buf, sizeof(buf), secs);
	return plain(buf);
}

static const char *bytes(uint64_t n)
{
	static char buf[64];

	format_bytes(buf, sizeof(buf), n);
	return plain(buf);
}

static void test_duration(void **state)
{
	(void)state;
	assert_string_equal(duration(0), "");
	assert_string_equal(duration(1), "1 second");
	assert_string_equal(duration(2), "2 seconds");
	assert_string_equal(duration(60), "1 minute");
	assert_string_equal(duration(63), "1 minute, 3 seconds");
	assert_string_equal(duration(3600), "1 hour");
	assert_string_equal(duration(3661), "1 hour, 1 minute, 1 second");
	assert_string_equal(duration(90061), "1 day, 1 hour, 1 minute, 1 second");
	assert_string_equal(duration(2 * 86400 + 5), "2 days, 5 seconds");
	assert_string_equal(duration(365 * 86400ULL), "1 year");
	assert_string_equal(duration(2 * 365 * 86400ULL + 86400 + 120),
			    "2 years, 1 day, 2 minutes");
	assert_string_equal(duration(UINT64_MAX),
			    "584942417355 years, 26 days, 7 hours, 15 seconds");
}

static void test_duration_colour(void **state)
{
	char buf[128];

	(void)state;
	format_duration(buf, sizeof(buf), 63);
	assert_string_equal(buf, "1 " TERM_CYAN "minute" TERM_RESET ", 3 " TERM_CYAN
				 "seconds" TERM_RESET);
}

static void test_duration_small_buffer(void **state)
{
	char buf[8];

	(void)state;
	/* Truncated, terminated, no overflow (ASan watches), length within the buffer. */
	for (size_t len = 1; len <= sizeof(buf); len++) {
		memset(buf, 'x', sizeof(buf));
		size_t n = format_duration(buf, len, 90061);
		assert_true(n < len);
		assert_true(memchr(buf, '\0', len) != NULL);
	}
	assert_int_equal(format_duration(buf, 0, 5), 0);
}

static void test_ago(void **state)
{
	char buf[512];

	(void)state;
	format_ago(buf, sizeof(buf), 1000, 1000);
	assert_string_equal(plain(buf), "Now");
	format_ago(buf, sizeof(buf), 1000, 1063);
	assert_string_equal(plain(buf), "1 minute, 3 seconds ago");
	format_ago(buf, sizeof(buf), 1001, 1000);
	assert_string_equal(plain(buf),
			    "(System clock wound backward; connection problems may ensue.)");
	format_ago(buf, 12, 0, 90061);
	assert_true(strlen(buf) < 12);
}

static void test_every(void **state)
{
	char buf[256];

	(void)state;
	format_every(buf, sizeof(buf), 25);
	assert_string_equal(plain(buf), "every 25 seconds");
	format_every(buf, sizeof(buf), 65535);
	assert_string_equal(plain(buf), "every 18 hours, 12 minutes, 15 seconds");
	format_every(buf, sizeof(buf), 1);
	assert_string_equal(plain(buf), "every 1 second");
	format_every(buf, 4, 25);
	assert_string_equal(buf, "eve");
}

static void test_bytes(void **state)
{
	(void)state;
	assert_string_equal(bytes(0), "0 B");
	assert_string_equal(bytes(1023), "1023 B");
	assert_string_equal(bytes(1024), "1.00 KiB");
	assert_string_equal(bytes(1260), "1.23 KiB");
	assert_string_equal(bytes(4669), "4.56 KiB");
	assert_string_equal(bytes(1024 * 1024 - 1), "1024.00 KiB");
	assert_string_equal(bytes(1024 * 1024), "1.00 MiB");
	assert_string_equal(bytes(5 * 1024 * 1024 + 512 * 1024), "5.50 MiB");
	assert_string_equal(bytes(1024ULL * 1024 * 1024), "1.00 GiB");
	assert_string_equal(bytes(3ULL * 1024 * 1024 * 1024 * 1024 / 2), "1.50 TiB");
	assert_string_equal(bytes(1024ULL * 1024 * 1024 * 1024 * 1024), "1024.00 TiB");
	assert_string_equal(bytes(UINT64_MAX), "16777216.00 TiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_duration_colour),
	    cmocka_unit_test(test_duration_small_buffer),
	    cmocka_unit_test(test_ago),
	    cmocka_unit_test(test_every),
	    cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
