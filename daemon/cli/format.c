// SPDX-License-Identifier: ISC
/* Durations and byte counts in wg(8)'s words (see format.h). */
#include <inttypes.h>
#include <stdio.h>

#include "daemon/cli/format.h"
#include "daemon/cli/terminal.h"

size_t format_duration(char *buf, size_t len, uint64_t secs)
{
	static const struct {
		const char *name;
		uint64_t secs;
	} units[] = {{"year", 365 * 24 * 3600ULL},
		     {"day", 24 * 3600ULL},
		     {"hour", 3600},
		     {"minute", 60},
		     {"second", 1}};
	size_t off = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = secs / units[i].secs;
		secs %= units[i].secs;
		if (!n || off + 1 >= len)
			continue;
		int w = snprintf(buf + off, len - off, "%s%" PRIu64 " " TERM_CYAN "%s%s" TERM_RESET,
				 off ? ", " : "", n, units[i].name, n == 1 ? "" : "s");
		if (w > 0)
			off += (size_t)w;
	}
	return off < len ? off : len - 1;
}

void format_ago(char *buf, size_t len, uint64_t then, uint64_t now)
{
	if (now == then) {
		snprintf(buf, len, "Now");
		return;
	}
	if (now < then) {
		snprintf(buf, len,
			 "(" TERM_RED
			 "System clock wound backward; connection problems may ensue." TERM_RESET
			 ")");
		return;
	}
	size_t off = format_duration(buf, len, now - then);
	snprintf(buf + off, len - off, " ago");
}

void format_every(char *buf, size_t len, uint64_t secs)
{
	int n = snprintf(buf, len, "every ");

	if (n > 0 && (size_t)n < len)
		format_duration(buf + n, len - (size_t)n, secs);
}

void format_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%u " TERM_CYAN "B" TERM_RESET, (unsigned int)bytes);
		return;
	}
	/* wg divides by exact powers of 1024; so does this, and stops at TiB. */
	v /= 1024;
	for (uint64_t limit = 1024ULL * 1024; u < 3 && bytes >= limit; limit *= 1024, u++)
		v /= 1024;
	snprintf(buf, len, "%.2f " TERM_CYAN "%s" TERM_RESET, v, units[u]);
}
