// SPDX-License-Identifier: ISC
/*
 * The daemon's logger, read back from its stderr (redirected to a temporary
 * file around each call, and restored before anything is asserted so that
 * cmocka's own reports still reach the terminal): the plain and journal
 * prefixes (the journal's only when JOURNAL_STREAM names stderr itself),
 * debug only when verbose, exactly one line per call, control characters
 * neutralised, long messages truncated to one line, errno kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/base/log.h"

#define CAP_MAX (256 * 1024)

struct capture {
	FILE *file;
	int saved_fd;
	char buf[CAP_MAX + 1];
	size_t len;
};

/* Static: the buffer is large, and the thread test shares it. */
static struct capture cap;

static int setup(void **state)
{
	(void)state;
	cap.file = tmpfile();
	if (!cap.file)
		return -1;
	cap.saved_fd = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (cap.saved_fd >= 0) {
		dup2(cap.saved_fd, STDERR_FILENO);
		close(cap.saved_fd);
		cap.saved_fd = -1;
	}
	fclose(cap.file);
	unsetenv("JOURNAL_STREAM");
	return 0;
}

/* From here to cap_end() everything written to stderr lands in cap.file. */
static void cap_begin(void)
{
	int fd = fileno(cap.file);

	fflush(stderr);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	cap.saved_fd = dup(STDERR_FILENO);
	assert_true(cap.saved_fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr and reads what was written into cap.buf (NUL-terminated). */
static const char *cap_end(void)
{
	int fd = fileno(cap.file);
	ssize_t n;

	dup2(cap.saved_fd, STDERR_FILENO);
	close(cap.saved_fd);
	cap.saved_fd = -1;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	cap.len = 0;
	while (cap.len < CAP_MAX && (n = read(fd, cap.buf + cap.len, CAP_MAX - cap.len)) > 0)
		cap.len += (size_t)n;
	cap.buf[cap.len] = '\0';
	/* A NUL byte in the output would hide the rest from the string checks. */
	assert_int_equal(strlen(cap.buf), cap.len);
	return cap.buf;
}

static void init_plain(bool verbose)
{
	unsetenv("JOURNAL_STREAM");
	log_init(verbose);
}

/* JOURNAL_STREAM as systemd sets it: the device and inode of stderr's file. */
static void set_journal_stream(int fd)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(fd, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

/* log_init() with stderr on the capture file, as systemd hands it over. */
static void init_with_capture(bool verbose)
{
	cap_begin();
	log_init(verbose);
	cap_end();
}

static void init_journal(bool verbose)
{
	set_journal_stream(fileno(cap.file));
	init_with_capture(verbose);
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void test_plain_prefix(void **state)
{
	(void)state;
	init_plain(false);
	cap_begin();
	log_error("error %d", 1);
	log_warn("warn %s", "two");
	log_info("info %u", 3u);
	assert_string_equal(cap_end(), "alameshd: error 1\n"
				       "alameshd: warn two\n"
				       "alameshd: info 3\n");
}

static void test_empty_journal_stream_is_plain(void **state)
{
	(void)state;
	assert_int_equal(setenv("JOURNAL_STREAM", "", 1), 0);
	log_init(false);
	cap_begin();
	log_warn("w");
	assert_string_equal(cap_end(), "alameshd: w\n");
}

static void test_journal_priorities(void **state)
{
	(void)state;
	init_journal(true);
	cap_begin();
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	assert_string_equal(cap_end(), "<3>e\n<4>w\n<6>i\n<7>d\n");
}

/*
 * A JOURNAL_STREAM inherited by a process whose stderr went elsewhere (a
 * shell started from a unit, `alameshd 2>file`) is not the journal; nor is a
 * value that is not exactly "DEVICE:INODE" in decimal.
 */
static void test_journal_stream_must_be_stderr(void **state)
{
	(void)state;
	FILE *other = tmpfile();
	const char *const bad[] = {
	    "8:12345", "garbage", ":",	   "1:",   ":1",
	    " 1:2",    "+1:2",	  "1:2:3", "1:-2", "99999999999999999999999:1"};
	struct stat st;
	char v[80];

	assert_non_null(other);
	set_journal_stream(fileno(other));
	init_with_capture(false);
	cap_begin();
	log_warn("w");
	assert_string_equal(cap_end(), "alameshd: w\n");
	fclose(other);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setenv("JOURNAL_STREAM", bad[i], 1), 0);
		init_with_capture(false);
		cap_begin();
		log_warn("w");
		assert_string_equal(cap_end(), "alameshd: w\n");
	}
	/* Trailing bytes after a matching pair do not count either. */
	assert_int_equal(fstat(fileno(cap.file), &st), 0);
	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
	init_with_capture(false);
	cap_begin();
	log_warn("w");
	assert_string_equal(cap_end(), "alameshd: w\n");
}

/* log_init() reads the environment; a change after it is not seen. */
static void test_journal_read_at_init(void **state)
{
	(void)state;
	init_plain(false);
	set_journal_stream(fileno(cap.file));
	cap_begin();
	log_info("before");
	const char *out = cap_end();
	assert_string_equal(out, "alameshd: before\n");
	init_with_capture(false);
	cap_begin();
	log_info("after");
	assert_string_equal(cap_end(), "<6>after\n");
}

static void test_debug_needs_verbose(void **state)
{
	(void)state;
	init_plain(false);
	cap_begin();
	log_debug("hidden %d", 1);
	assert_string_equal(cap_end(), "");

	init_journal(false);
	cap_begin();
	log_debug("hidden %d", 2);
	log_info("shown");
	assert_string_equal(cap_end(), "<6>shown\n");

	init_plain(true);
	cap_begin();
	log_debug("shown %d", 3);
	assert_string_equal(cap_end(), "alameshd: shown 3\n");
}

static void test_one_line_per_call(void **state)
{
	(void)state;
	init_plain(false);
	cap_begin();
	for (int i = 0; i < 50; i++)
		log_info("line %d\nnot a line\r\n", i);
	const char *out = cap_end();
	assert_int_equal(count_char(out, '\n'), 50);
	assert_int_equal(cap.buf[cap.len - 1], '\n');
	assert_non_null(strstr(out, "alameshd: line 0?not a line??\n"));
	assert_non_null(strstr(out, "alameshd: line 49?not a line??\n"));
}

static void test_empty_message(void **state)
{
	(void)state;
	init_plain(false);
	cap_begin();
	log_info("%s", "");
	assert_string_equal(cap_end(), "alameshd: \n");
}

/* Every byte below 0x20 and DEL becomes '?'; the rest, UTF-8 included, stays. */
static void test_control_characters(void **state)
{
	(void)state;
	char all[40];
	size_t n = 0;

	for (int c = 1; c < 0x20; c++)
		all[n++] = (char)c;
	all[n++] = 0x7f;
	all[n] = '\0';

	init_plain(false);
	cap_begin();
	log_warn("[%s]", all);
	const char *out = cap_end();
	char want[64];
	snprintf(want, sizeof(want), "alameshd: [%.*s]\n", (int)n,
		 "????????????????????????????????");
	assert_string_equal(out, want);

	cap_begin();
	log_info("tab\there esc\x1b[31mred caf\xc3\xa9 ~");
	assert_string_equal(cap_end(), "alameshd: tab?here esc?[31mred caf\xc3\xa9 ~\n");
}

/* A name from the network cannot forge a second line, in either mode. */
static void test_forged_line(void **state)
{
	(void)state;
	const char *evil = "x\nalameshd: peer y: handshake complete";

	init_plain(false);
	cap_begin();
	log_info("peer %s: bad packet", evil);
	assert_string_equal(cap_end(),
			    "alameshd: peer x?alameshd: peer y: handshake complete: bad packet\n");

	init_journal(false);
	cap_begin();
	log_error("peer %s", "z\n<3>forged");
	assert_string_equal(cap_end(), "<3>peer z?<3>forged\n");
}

static void test_long_message_truncated(void **state)
{
	(void)state;
	static char big[8192];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int journal = 0; journal < 2; journal++) {
		const char *prefix = journal ? "<6>" : "alameshd: ";
		size_t plen = strlen(prefix);

		if (journal)
			init_journal(false);
		else
			init_plain(false);
		cap_begin();
		log_info("%s%s", big, big);
		const char *out = cap_end();
		assert_int_equal(count_char(out, '\n'), 1);
		assert_int_equal(out[cap.len - 1], '\n');
		assert_memory_equal(out, prefix, plen);
		/* Cut, but to a sensible line: a few hundred bytes at least. */
		assert_true(cap.len <= 1024);
		assert_true(cap.len > plen + 512);
		for (size_t i = plen; i < cap.len - 1; i++)
			assert_int_equal(out[i], 'A');
	}
}

static void test_errno_kept(void **state)
{
	(void)state;
	int after_error, after_debug;

	init_plain(true);
	cap_begin();
	errno = EAGAIN;
	log_error("e");
	after_error = errno;
	errno = ENOENT;
	log_debug("d");
	after_debug = errno;
	assert_string_equal(cap_end(), "alameshd: e\nalameshd: d\n");
	assert_int_equal(after_error, EAGAIN);
	assert_int_equal(after_debug, ENOENT);
}

/* Not even a failing write(2) (stderr open read-only: EBADF) changes errno. */
static void test_errno_kept_on_write_error(void **state)
{
	(void)state;
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int saved = dup(STDERR_FILENO);
	int after, moved;

	assert_true(ro >= 0);
	assert_true(saved >= 0);
	init_plain(false);
	moved = dup2(ro, STDERR_FILENO);
	errno = EAGAIN;
	log_error("lost");
	after = errno;
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(ro);
	assert_int_equal(moved, STDERR_FILENO);
	assert_int_equal(after, EAGAIN);
}

/* Concurrent callers: every line arrives whole (one write per line). */
#define THREADS	   4
#define PER_THREAD 200

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < PER_THREAD; i++)
		log_info("thread %d message %03d %s", id, i, "0123456789abcdef0123456789abcdef");
	return NULL;
}

static void test_threads_lines_whole(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	int seen[THREADS] = {0};

	int started = 0, joined = 0;

	init_plain(false);
	cap_begin();
	for (int t = 0; t < THREADS; t++)
		started += pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t) == 0;
	for (int t = 0; t < started; t++)
		joined += pthread_join(th[t], NULL) == 0;
	cap_end();
	assert_int_equal(started, THREADS);
	assert_int_equal(joined, THREADS);

	size_t lines = 0;
	for (char *line = cap.buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		int id, i, used = 0;

		*nl = '\0';
		assert_int_equal(sscanf(line,
					"alameshd: thread %d message %d "
					"0123456789abcdef0123456789abcdef%n",
					&id, &i, &used),
				 2);
		assert_int_equal((size_t)used, strlen(line));
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, seen[id]); /* each thread's own lines in order */
		seen[id]++;
		lines++;
	}
	assert_int_equal(lines, THREADS * PER_THREAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_journal_stream_is_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_priorities, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_stream_must_be_stderr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_read_at_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_debug_needs_verbose, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_line_per_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_characters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_message_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errno_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errno_kept_on_write_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_lines_whole, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
