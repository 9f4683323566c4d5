/* SPDX-License-Identifier: ISC */
#include "daemon/base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Syslog priorities, as sd-daemon(3) expects them in a "<N>" prefix. */
enum { PRIO_ERR = 3, PRIO_WARNING = 4, PRIO_INFO = 6, PRIO_DEBUG = 7 };

/* Written once by log_init() before any thread exists, read-only after. */
static bool log_verbose;
static bool log_journal;

/* A decimal number ending at *end, which must be the character stop. */
static bool parse_ull(const char *s, char stop, const char **end, unsigned long long *v)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false; /* strtoull would take blanks and a sign */
	errno = 0;
	*v = strtoull(s, &e, 10);
	*end = e;
	return errno == 0 && *e == stop;
}

/*
 * JOURNAL_STREAM is "DEVICE:INODE" of the journal's stream when systemd
 * started us, but children and shells inherit it: systemd.exec(5) says to
 * trust it only if stderr is that very stream, or an `alameshd -v 2>file`
 * run from a unit's shell would write "<N>" prefixes to the file.
 */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM"), *p;
	unsigned long long dev, ino;
	struct stat st;

	if (!js || !parse_ull(js, ':', &p, &dev) || !parse_ull(p + 1, '\0', &p, &ino))
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(bool verbose)
{
	int saved_errno = errno;

	log_verbose = verbose;
	log_journal = stderr_is_journal();
	errno = saved_errno;
}

/*
 * Messages may carry names from files or the network: control characters
 * are replaced so that one call can never forge a second log line.
 */
static void sanitize(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			s[i] = '?';
	}
}

static void log_line(int prio, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;
	int pre, n;
	size_t len;

	if (log_journal)
		pre = snprintf(line, sizeof(line), "<%d>", prio);
	else
		pre = snprintf(line, sizeof(line), "alameshd: ");
	if (pre < 0)
		return;
	n = vsnprintf(line + pre, sizeof(line) - (size_t)pre - 1, fmt, ap);
	if (n < 0)
		n = 0;
	len = (size_t)pre + (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2; /* truncated: keep room for the newline */
	sanitize(line + pre, len - (size_t)pre);
	line[len++] = '\n';
	/* One write(2) per line keeps lines from concurrent threads whole. */
	if (write(STDERR_FILENO, line, len) < 0) {
		/* Nowhere left to report it. */
	}
	errno = saved_errno;
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(PRIO_ERR, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(PRIO_WARNING, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(PRIO_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_line(PRIO_DEBUG, fmt, ap);
	va_end(ap);
}
