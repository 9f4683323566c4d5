// SPDX-License-Identifier: ISC
/*
 * A run's failure and its trace: the bottom of the simulator, called from
 * every layer above and calling none of them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tests/sim/sim.h"

void sim_fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	int n = snprintf(s->error, sizeof(s->error), "t=%.6fs: ", (double)s->now / SIM_NSEC);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->error + n, sizeof(s->error) - (size_t)n, fmt, ap);
	va_end(ap);
}

void sim_trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->opt->trace)
		return;
	fprintf(stderr, "%12.6f ", (double)s->now / SIM_NSEC);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
