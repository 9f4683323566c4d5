/* SPDX-License-Identifier: ISC */
/*
 * alamesh show's words for durations and byte counts, which must be wg(8)'s;
 * and its lines for the daemon's own views (members, registry, routes), fed
 * canned answers of the control socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cli/format.h"
#include "daemon/cli/show_print.h"
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

/*
 * What show_view_reply writes to stdout for the answer text (which it
 * modifies, so a copy), through a temporary file put in place of fd 1.
 */
static const char *view_output(const char *view, bool dump, bool with_interface, const char *answer,
			       int *rc)
{
	static char out[4096];
	char *copy = strdup(answer);
	FILE *f = tmpfile();

	assert_non_null(copy);
	assert_non_null(f);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(f), STDOUT_FILENO), STDOUT_FILENO);
	*rc = show_view_reply("mesh0", view, dump, with_interface, copy, strlen(copy));
	fflush(stdout);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	free(copy);
	return out;
}

#define KEY_A  "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define KEY_B  "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define ADDR_A "fc3b:5bd6:826c:3e9c:d662:b3e0:d37e:6fe"
#define ADDR_B "fcb6:c89d:4f1f:4a2a:2972:73a0:5a38:53f1"

static const char members_answer[] =
    "member=alice\npublic_key=" KEY_A "\naddress=" ADDR_A
    "\nendpoint=192.0.2.1:51820\nendpoint=[2001:db8::1]:51820\n"
    "session=self\npath=self\n"
    "member=bob\npublic_key=" KEY_B "\naddress=" ADDR_B "\nsession=down\npath=via carol\n"
    "member=dan\npublic_key=" KEY_B "\naddress=" ADDR_B "\nsession=down\n"
    "errno=0\n\n";

static void test_view_members(void **state)
{
	int rc;

	(void)state;
	assert_string_equal(view_output("members", false, false, members_answer, &rc),
			    "alice\t" KEY_A "\t" ADDR_A
			    "\t192.0.2.1:51820,[2001:db8::1]:51820\tself\tself\n"
			    "bob\t" KEY_B "\t" ADDR_B "\t(none)\tdown\tvia carol\n"
			    "dan\t" KEY_B "\t" ADDR_B "\t(none)\tdown\t(none)\n");
	assert_int_equal(rc, 0);
	/* show all members: every line starts with the interface, as wg show all FIELD. */
	assert_string_equal(view_output("members", false, true, members_answer, &rc),
			    "mesh0\talice\t" KEY_A "\t" ADDR_A
			    "\t192.0.2.1:51820,[2001:db8::1]:51820\tself\tself\n"
			    "mesh0\tbob\t" KEY_B "\t" ADDR_B "\t(none)\tdown\tvia carol\n"
			    "mesh0\tdan\t" KEY_B "\t" ADDR_B "\t(none)\tdown\t(none)\n");
	assert_int_equal(rc, 0);
}

static const char registry_answer[] = "url=https://git.example.org/r.git\nbranch=main\n"
				      "commit=3b4b194f1bee\napplied_time=1700000000\n"
				      "last_error=(none)\naccepted=2\nrejected=0\n"
				      "problem=members/x.conf: warning: not a .conf file\n"
				      "errno=0\n\n";

static void test_view_registry(void **state)
{
	int rc;

	(void)state;
	assert_string_equal(view_output("registry", false, false, registry_answer, &rc),
			    "url: https://git.example.org/r.git\nbranch: main\n"
			    "commit: 3b4b194f1bee\napplied_time: 1700000000\n"
			    "last_error: (none)\naccepted: 2\nrejected: 0\n"
			    "problem: members/x.conf: warning: not a .conf file\n");
	assert_int_equal(rc, 0);
	assert_string_equal(view_output("registry", false, true, registry_answer, &rc),
			    "mesh0\turl: https://git.example.org/r.git\nmesh0\tbranch: main\n"
			    "mesh0\tcommit: 3b4b194f1bee\nmesh0\tapplied_time: 1700000000\n"
			    "mesh0\tlast_error: (none)\nmesh0\taccepted: 2\nmesh0\trejected: 0\n"
			    "mesh0\tproblem: members/x.conf: warning: not a .conf file\n");
	assert_int_equal(rc, 0);
}

static void test_view_routes_dump(void **state)
{
	static const char answer[] = "route=" ADDR_A "\norigin=" KEY_A "\nmember=alice\n"
				     "next_hop=self\nmetric=0\nseqno=7\nage=0\n"
				     "errno=0\n\n";
	int rc;

	(void)state;
	assert_string_equal(view_output("routes", true, true, answer, &rc),
			    "mesh0\t" ADDR_A "\talice\tself\t(none)\t0\t7\t0\n");
	assert_int_equal(rc, 0);
}

/* Without a [Registry]: one line, the interface named even without `all`; not an error. */
static void test_view_not_configured(void **state)
{
	int rc;

	(void)state;
	assert_string_equal(view_output("members", false, true, "errno=95\n\n", &rc),
			    "mesh0: members: not configured\n");
	assert_int_equal(rc, 0);
	assert_string_equal(view_output("registry", false, false, "errno=95\n\n", &rc),
			    "mesh0: registry: not configured\n");
	assert_int_equal(rc, 0);
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
	    cmocka_unit_test(test_view_members),
	    cmocka_unit_test(test_view_registry),
	    cmocka_unit_test(test_view_routes_dump),
	    cmocka_unit_test(test_view_not_configured),
	};

	/* Plain text whatever the terminal: the views' bytes are compared. */
	setenv("ALAMESH_COLOR_MODE", "never", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
