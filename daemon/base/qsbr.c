// SPDX-License-Identifier: ISC
#include <sched.h>
#include <time.h>

#include "daemon/base/qsbr.h"

void qsbr_init(struct qsbr *q, int nthreads)
{
	q->nthreads = nthreads;
	for (int i = 0; i < QSBR_MAX_THREADS; i++)
		atomic_init(&q->state[i], 0);
}

void qsbr_synchronize(struct qsbr *q)
{
	uint64_t seen[QSBR_MAX_THREADS];

	for (int i = 0; i < q->nthreads; i++)
		seen[i] = atomic_load_explicit(&q->state[i], memory_order_seq_cst);
	for (int i = 0; i < q->nthreads; i++) {
		/* Idle (even) threads hold nothing; busy ones must move on. */
		if (!(seen[i] & 1))
			continue;
		while (atomic_load_explicit(&q->state[i], memory_order_acquire) == seen[i]) {
			struct timespec ts = {.tv_nsec = 100000};
			nanosleep(&ts, NULL);
		}
	}
}
