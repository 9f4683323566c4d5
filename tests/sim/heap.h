/* SPDX-License-Identifier: ISC */
/*
 * The event queue: a binary min-heap ordered by (time, sequence number).
 * Every push takes the next sequence number, so events due at the same
 * nanosecond come out in the order they were scheduled and a run never
 * depends on how the heap happens to break ties.
 */
#ifndef ALAMESH_SIM_HEAP_H
#define ALAMESH_SIM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_event {
	uint64_t at;  /* virtual ns */
	uint64_t seq; /* set by heap_push */
	uint8_t kind;
	uint8_t end;
	uint16_t len;
	uint32_t a, gen;
	uint8_t *data;
};

struct sim_heap {
	struct sim_event *v;
	size_t n, cap;
	uint64_t next_seq;
};

void heap_init(struct sim_heap *h);
void heap_free(struct sim_heap *h);
/* False if out of memory. */
bool heap_push(struct sim_heap *h, struct sim_event ev);
/* The earliest event, removed; false if the heap is empty. */
bool heap_pop(struct sim_heap *h, struct sim_event *out);
/* The time of the earliest event, UINT64_MAX if none. */
static inline uint64_t heap_next_at(const struct sim_heap *h)
{
	return h->n ? h->v[0].at : UINT64_MAX;
}

#endif
