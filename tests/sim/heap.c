// SPDX-License-Identifier: ISC
/* The event queue (see heap.h). */
#include <stdlib.h>

#include "tests/sim/heap.h"

static bool before(const struct sim_event *x, const struct sim_event *y)
{
	return x->at < y->at || (x->at == y->at && x->seq < y->seq);
}

void heap_init(struct sim_heap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->next_seq = 0;
}

void heap_free(struct sim_heap *h)
{
	free(h->v);
	heap_init(h);
}

bool heap_push(struct sim_heap *h, struct sim_event ev)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct sim_event *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return false;
		h->v = v;
		h->cap = cap;
	}
	ev.seq = h->next_seq++;
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&ev, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = ev;
	return true;
}

bool heap_pop(struct sim_heap *h, struct sim_event *out)
{
	if (!h->n)
		return false;
	*out = h->v[0];
	struct sim_event last = h->v[--h->n];
	size_t i = 0, n = h->n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (n)
		h->v[i] = last;
	return true;
}
