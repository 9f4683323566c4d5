/* SPDX-License-Identifier: ISC */
/*
 * Quiescent-state based reclamation. The data threads hold bare pointers to
 * peers between a lookup and the end of a batch; the control thread unlinks a
 * peer and then waits, with qsbr_synchronize(), until every data thread has
 * finished the batch it was in before freeing it. Data threads pay one
 * atomic store per batch.
 */
#ifndef ALAMESH_QSBR_H
#define ALAMESH_QSBR_H

#include <stdatomic.h>
#include <stdint.h>

#define QSBR_MAX_THREADS 4

struct qsbr {
	/* Per thread: odd while inside a batch, even while idle; bumped at each change. */
	_Atomic uint64_t state[QSBR_MAX_THREADS];
	int nthreads;
};

void qsbr_init(struct qsbr *q, int nthreads);
static inline void qsbr_enter(struct qsbr *q, int tid)
{
	atomic_fetch_add_explicit(&q->state[tid], 1, memory_order_seq_cst);
}
static inline void qsbr_leave(struct qsbr *q, int tid)
{
	atomic_fetch_add_explicit(&q->state[tid], 1, memory_order_release);
}
/* Returns once every thread that was inside a batch has left it. */
void qsbr_synchronize(struct qsbr *q);

#endif
