// SPDX-License-Identifier: ISC
/*
 * The router's state (see rt_state.h): randomness, the deadline, the
 * per-origin and per-neighbour arrays, frames out, and the queue of
 * triggered updates. The bottom of routing/: it calls no other file of the
 * router, so every layer above may call it.
 */
#include <stdlib.h>

#include "routing/rt_state.h"

uint64_t rt_random(struct router *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dULL;
}

void rt_deadline(struct router *r, uint64_t when)
{
	if (when < r->deadline)
		r->deadline = when;
}

uint16_t rt_interval_cs(uint64_t ns)
{
	uint64_t cs = ns / (10 * NSEC_PER_MSEC);
	return cs > 0xffff ? 0xffff : (uint16_t)cs;
}

bool rt_ensure_dests(struct router *r)
{
	uint32_t n = r->origins->n;

	if (n <= r->ndests)
		return true;
	struct rt_dest *d = realloc(r->dests, (size_t)n * sizeof(*d));
	if (!d)
		return false;
	for (uint32_t i = r->ndests; i < n; i++)
		d[i] = (struct rt_dest){.metric = RT_METRIC_INF, .nh = RT_NBR_NONE};
	r->dests = d;
	r->ndests = n;
	return true;
}

bool rt_ensure_routes(struct router *r, struct rt_nbr *n, uint32_t o)
{
	if (o < n->routes_cap)
		return true;
	uint32_t cap = r->origins->cap > o ? r->origins->cap : o + 1;
	struct rt_nroute *v = realloc(n->routes, (size_t)cap * sizeof(*v));
	if (!v)
		return false;
	for (uint32_t i = n->routes_cap; i < cap; i++)
		v[i] = (struct rt_nroute){.metric = RT_METRIC_INF};
	n->routes = v;
	n->routes_cap = cap;
	return true;
}

bool rt_is_local(const struct router *r, uint32_t o)
{
	return r->dests[o].nh == RT_NBR_LOCAL;
}

struct rt_nbr *rt_nbr_get(const struct router *r, uint16_t id)
{
	if (id >= r->nnbrs || !r->nbrs[id] || !r->nbrs[id]->used)
		return NULL;
	return r->nbrs[id];
}

void rt_send(struct router *r, uint16_t id, struct rt_nbr *n)
{
	size_t len = rt_frame_end(&n->out);

	if (len) {
		r->ops.send(r->ctx, id, n->buf, len);
		r->stats.tx_frames++;
		r->stats.tx_bytes += len;
	}
	rt_frame_begin(&n->out, n->buf);
}

void rt_emit(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t)
{
	if (rt_frame_add(&n->out, t))
		return;
	rt_send(r, id, n);
	rt_frame_add(&n->out, t);
}

bool rt_push(uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 64;
		uint32_t *nv = realloc(*v, (size_t)c * sizeof(*nv));
		if (!nv)
			return false;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return true;
}

void rt_trigger(struct router *r, uint32_t o, bool urgent, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];

	if (urgent)
		d->urgent = RT_URGENT_REPEATS;
	if (!(d->flags & D_PENDING)) {
		if (!rt_push(&r->pending, &r->npending, &r->pending_cap, o))
			return; /* the next full table carries it */
		d->flags |= D_PENDING;
	}
	if (!r->flush_at) {
		r->flush_at = now + r->p.flush_delay + rt_random(r) % (r->p.flush_delay + 1);
		rt_deadline(r, r->flush_at);
	}
}
