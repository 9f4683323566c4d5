// SPDX-License-Identifier: ISC
/*
 * Colour for alamesh show: on when stdout is a terminal, unless
 * ALAMESH_COLOR_MODE (or wg's WG_COLOR_MODE) says "never"; "always" forces
 * it. Text is written with the escape sequences in, and they are taken out
 * when colour is off, so each format string says once what it looks like.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cli/terminal.h"

static int colour = -1;

static const char *mode(void)
{
	const char *m = getenv("ALAMESH_COLOR_MODE");

	return m ? m : getenv("WG_COLOR_MODE");
}

bool terminal_colour(void)
{
	if (colour < 0) {
		const char *m = mode();
		if (m && !strcmp(m, "always"))
			colour = 1;
		else if (m && !strcmp(m, "never"))
			colour = 0;
		else
			colour = isatty(STDOUT_FILENO) ? 1 : 0;
	}
	return colour;
}

/* Removes "ESC [ ... m" sequences in place. */
static void strip(char *s)
{
	char *w = s;

	for (char *r = s; *r;) {
		if (r[0] == '\x1b' && r[1] == '[') {
			char *m = strchr(r, 'm');
			if (m) {
				r = m + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

void terminal_printf(const char *fmt, ...)
{
	char small[1024], *buf = small;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		buf = malloc((size_t)n + 1);
		if (!buf)
			return;
		va_start(ap, fmt);
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (!terminal_colour())
		strip(buf);
	fputs(buf, stdout);
	if (buf != small)
		free(buf);
}
