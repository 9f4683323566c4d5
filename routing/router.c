// SPDX-License-Identifier: ISC
/*
 * The router (see router.h): its life, its neighbours, frames in and the
 * timers. The rest of routing/ is in layers, each file calling only the
 * ones below it, so that no call ever comes back up (a file that had to
 * tell a higher one something would take a callback, as the router takes
 * rt_ops from the daemon):
 *
 *   router.c       the public API: life, frames in, timers
 *   neighbour.c    hellos, IHUs, link costs    update.c   updates in and out
 *   selection.c    route selection, feasibility, link changes
 *   request.c      origin validation, seqno requests
 *   rt_state.c     the state, frames out, the deadline, the update queue
 *
 * Each file's header says what it offers; rt_state.h also holds the state.
 */
#include <stdlib.h>
#include <string.h>

#include "routing/neighbour.h"
#include "routing/request.h"
#include "routing/rt_state.h"
#include "routing/selection.h"
#include "routing/update.h"

void rt_params_default(struct rt_params *p)
{
	*p = (struct rt_params){
	    .hello_interval = 2 * NSEC_PER_SEC,
	    .update_interval = 30 * NSEC_PER_SEC,
	    .flush_delay = 20 * NSEC_PER_MSEC,
	    .urgent_retry = 300 * NSEC_PER_MSEC,
	    .hold_time = 6 * NSEC_PER_SEC,
	    .hop_cost = 100,
	    .proxy_cost = 100,
	};
}

uint64_t router_deadline(const struct router *r)
{
	return r->deadline;
}

static void select_all(struct router *r, uint64_t now)
{
	for (uint32_t o = 0; o < r->ndests; o++)
		if (rt_origins_live(r->origins, o))
			rt_select_route(r, o, now);
}

uint16_t router_add_neighbour(struct router *r, uint32_t origin, uint64_t now)
{
	uint32_t id;

	for (id = 0; id < r->nnbrs && r->nbrs[id] && r->nbrs[id]->used; id++)
		;
	if (id >= RT_NBR_MAX)
		return RT_NBR_NONE;
	if (id == r->nbrs_cap) {
		uint32_t cap = r->nbrs_cap ? r->nbrs_cap * 2 : 16;
		struct rt_nbr **v = realloc(r->nbrs, (size_t)cap * sizeof(*v));
		if (!v)
			return RT_NBR_NONE;
		memset(v + r->nbrs_cap, 0, (size_t)(cap - r->nbrs_cap) * sizeof(*v));
		r->nbrs = v;
		r->nbrs_cap = cap;
	}
	if (!r->nbrs[id] && !(r->nbrs[id] = calloc(1, sizeof(*r->nbrs[id]))))
		return RT_NBR_NONE;
	struct rt_nbr *n = r->nbrs[id];
	struct rt_nroute *routes = n->routes;
	uint32_t cap = n->routes_cap;
	*n = (struct rt_nbr){
	    .used = true,
	    .origin = origin,
	    .added = now,
	    .cost = RT_METRIC_INF,
	    .hello_seqno = (uint16_t)rt_random(r),
	    .next_hello = now, /* at once: the other end learns of us sooner */
	    .next_dump = UINT64_MAX,
	    .update_interval = r->p.update_interval,
	    .routes = routes,
	    .routes_cap = cap,
	};
	rt_frame_begin(&n->out, n->buf);
	if (id == r->nnbrs)
		r->nnbrs++;
	rt_deadline(r, now);
	return (uint16_t)id;
}

void router_remove_neighbour(struct router *r, uint16_t id, uint64_t now)
{
	struct rt_nbr *n = rt_nbr_get(r, id);

	if (!n)
		return;
	n->cost = RT_METRIC_INF;
	rt_drop_routes_of(r, id, n, now);
	n->used = false;
}

int router_receive(struct router *r, uint16_t id, const uint8_t *frame, size_t len, uint64_t now,
		   const char **why)
{
	struct rt_nbr *n = rt_nbr_get(r, id);
	struct rt_frame_iter it;
	struct rt_tlv t;

	if (!n) {
		*why = "no such neighbour";
		return -1;
	}
	if (rt_frame_check(frame, len, why) < 0) {
		r->stats.rx_malformed++;
		return -1;
	}
	if (!rt_ensure_dests(r)) {
		*why = "out of memory";
		return -1;
	}
	r->stats.rx_frames++;
	r->stats.rx_bytes += len;
	rt_frame_iter_init(&it, frame);
	while (rt_frame_next(&it, &t)) {
		switch (t.type) {
		case RT_TLV_HELLO:
			rt_nbr_hello(r, id, n, &t, now);
			break;
		case RT_TLV_IHU:
			rt_nbr_ihu(r, id, n, &t, now);
			break;
		case RT_TLV_UPDATE:
			/*
			 * Kept from a neighbour once heard, even before our end
			 * has its IHU: it may see the link up first and send its
			 * table, which would otherwise be lost until the next one
			 * 30 s later. Routes through a link not yet up cost
			 * infinity, so nothing uses them until it is.
			 */
			if (n->has_hello)
				rt_on_update(r, id, n, &t, now);
			break;
		case RT_TLV_ROUTE_REQ:
			rt_on_route_request(r, id, n, now);
			break;
		case RT_TLV_SEQNO_REQ:
			rt_on_seqno_request(r, id, &t, now);
			break;
		case RT_TLV_SEEN:
			if (r->ops.seen)
				r->ops.seen(r->ctx, id, &t.seen.address, t.seen.port);
			break;
		case RT_TLV_PAD:
			break;
		}
	}
	return 0;
}

static void ask_tables(struct router *r)
{
	struct rt_tlv t = {.type = RT_TLV_ROUTE_REQ};

	r->tables_at = 0;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (!n || n->cost == RT_METRIC_INF)
			continue;
		rt_emit(r, (uint16_t)id, n, &t);
		rt_send(r, (uint16_t)id, n);
	}
}

void router_request_tables(struct router *r, uint64_t now)
{
	if (r->tables_at)
		return;
	r->tables_at = now + r->p.flush_delay;
	rt_deadline(r, r->tables_at);
}

uint64_t router_tick(struct router *r, uint64_t now)
{
	if (!rt_ensure_dests(r))
		return now + r->p.flush_delay;
	r->deadline = UINT64_MAX;
	if (r->holding && now >= r->started + r->p.hold_time) {
		r->holding = false;
		select_all(r, now);
	}
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (!n)
			continue;
		rt_nbr_tick(r, (uint16_t)id, n, now);
		if (n->used && now >= n->next_dump) {
			if (n->cost != RT_METRIC_INF)
				rt_dump(r, (uint16_t)id, n, now);
			else
				n->next_dump = UINT64_MAX; /* it gets one when the link comes up */
		}
	}
	if (r->tables_at && now >= r->tables_at)
		ask_tables(r);
	if (r->flush_at && now >= r->flush_at)
		rt_flush(r, now);
	if (r->repeat_at && now >= r->repeat_at)
		rt_repeat_urgent(r, now);
	if (now >= r->next_sweep)
		rt_sweep(r, now);

	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (!n)
			continue;
		rt_deadline(r, rt_nbr_deadline(n));
		rt_deadline(r, n->next_dump);
	}
	if (r->flush_at)
		rt_deadline(r, r->flush_at);
	if (r->tables_at)
		rt_deadline(r, r->tables_at);
	if (r->repeat_at)
		rt_deadline(r, r->repeat_at);
	if (r->holding)
		rt_deadline(r, r->started + r->p.hold_time);
	rt_deadline(r, r->next_sweep);
	return r->deadline;
}

static void originate_self(struct router *r, uint64_t now)
{
	struct rt_dest *d = &r->dests[r->self];

	d->nh = RT_NBR_LOCAL;
	d->metric = 0;
	r->ops.route(r->ctx, r->self, RT_NBR_LOCAL);
	rt_trigger(r, r->self, true, now);
}

struct router *router_new(const struct rt_params *params, const struct rt_ops *ops, void *ctx,
			  const struct rt_origins *origins, uint32_t self, uint64_t seed,
			  uint64_t now)
{
	struct router *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->p = *params;
	r->ops = *ops;
	r->ctx = ctx;
	r->origins = origins;
	r->self = self;
	r->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	r->instance = (uint32_t)rt_random(r);
	r->started = now;
	r->holding = r->p.hold_time > 0;
	r->next_sweep = now + r->p.update_interval / 2;
	r->deadline = now;
	if (!rt_ensure_dests(r) || self >= r->ndests) {
		router_free(r);
		return NULL;
	}
	r->dests[self].seqno = (uint16_t)r->p.start_clock;
	originate_self(r, now);
	return r;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nbrs_cap; i++) {
		if (r->nbrs && r->nbrs[i]) {
			free(r->nbrs[i]->routes);
			free(r->nbrs[i]);
		}
	}
	free(r->nbrs);
	free(r->dests);
	free(r->pending);
	free(r->repeat);
	free(r);
}

void router_set_self(struct router *r, uint32_t self, uint64_t now)
{
	if (!rt_ensure_dests(r) || self >= r->ndests || self == r->self)
		return;
	struct rt_dest *old = &r->dests[r->self];
	/* Whoever still routes our former address to us must not be followed back. */
	old->fd_seqno = old->seqno;
	old->fd_metric = 0;
	old->flags |= D_HAS_FD;
	old->nh = RT_NBR_NONE;
	old->metric = RT_METRIC_INF;
	r->ops.route(r->ctx, r->self, RT_NBR_NONE);
	rt_trigger(r, r->self, true, now);
	uint32_t prev = r->self;
	r->self = self;
	struct rt_dest *d = &r->dests[self];
	/* The clock now, as at a start; newer still if we had heard of this key before. */
	uint16_t seqno = (uint16_t)(r->p.start_clock + (now - r->started) / NSEC_PER_SEC);
	d->seqno = rt_seq_newer(d->seqno, seqno) ? (uint16_t)(d->seqno + 1) : seqno;
	originate_self(r, now);
	rt_select_route(r, prev, now);
}

void router_forget_origin(struct router *r, uint32_t o, uint64_t now)
{
	if (!rt_ensure_dests(r) || o >= r->ndests || o == r->self)
		return;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (n && o < n->routes_cap && n->routes[o].metric != RT_METRIC_INF) {
			n->routes[o].metric = RT_METRIC_INF;
			n->nroutes--;
		}
	}
	struct rt_dest *d = &r->dests[o];
	bool had = d->nh != RT_NBR_NONE;
	uint8_t keep =
	    d->flags & (D_PENDING | D_URGENT_QUEUED); /* still in a list: skipped there */
	*d = (struct rt_dest){.metric = RT_METRIC_INF, .nh = RT_NBR_NONE, .flags = keep};
	if (had) {
		r->stats.route_changes++;
		r->ops.route(r->ctx, o, RT_NBR_NONE);
	}
	(void)now;
}

void router_proxy(struct router *r, uint32_t o, bool on, uint64_t now)
{
	if (!rt_ensure_dests(r) || o >= r->ndests || o == r->self)
		return;
	struct rt_dest *d = &r->dests[o];
	if (on == rt_is_local(r, o))
		return;
	if (!on) {
		d->nh = RT_NBR_NONE;
		d->metric = RT_METRIC_INF;
		r->ops.route(r->ctx, o, RT_NBR_NONE);
		rt_trigger(r, o, true, now);
		rt_select_route(r, o, now);
		return;
	}
	/* Newer than anything heard for it, so our announcement wins at once. */
	uint16_t seqno = d->seqno;
	if ((d->flags & D_HAS_FD) && rt_seq_newer(d->fd_seqno, seqno))
		seqno = d->fd_seqno;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (n && o < n->routes_cap && n->routes[o].metric != RT_METRIC_INF &&
		    rt_seq_newer(n->routes[o].seqno, seqno))
			seqno = n->routes[o].seqno;
	}
	d->nh = RT_NBR_LOCAL;
	d->metric = r->p.proxy_cost;
	d->seqno = (uint16_t)(seqno + 1);
	d->changed = rt_secs(now);
	r->ops.route(r->ctx, o, RT_NBR_LOCAL);
	rt_trigger(r, o, true, now);
}

uint16_t router_next_hop(const struct router *r, uint32_t o)
{
	return o < r->ndests ? r->dests[o].nh : RT_NBR_NONE;
}

int router_foreach_route(const struct router *r, uint64_t now,
			 int (*fn)(const struct rt_route_info *ri, void *ctx), void *ctx)
{
	for (uint32_t o = 0; o < r->ndests; o++) {
		const struct rt_dest *d = &r->dests[o];
		if (!rt_origins_live(r->origins, o) || d->nh == RT_NBR_NONE)
			continue;
		struct rt_route_info ri = {
		    .origin = o, .nbr = d->nh, .seqno = d->seqno, .metric = d->metric};
		const struct rt_nbr *n = rt_nbr_get(r, d->nh);
		if (n && o < n->routes_cap)
			ri.age = (uint64_t)(uint16_t)(rt_secs(now) - n->routes[o].refreshed) *
				 NSEC_PER_SEC;
		int rc = fn(&ri, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

bool router_neighbour_info(const struct router *r, uint16_t id, struct rt_nbr_info *out)
{
	const struct rt_nbr *n = rt_nbr_get(r, id);

	if (!n)
		return false;
	*out = (struct rt_nbr_info){
	    .nbr = id,
	    .heard = n->has_hello,
	    .up = n->cost != RT_METRIC_INF,
	    .cost = n->cost,
	    .rtt_us = n->has_rtt ? n->srtt_us : 0,
	    .rx_quality = rt_nbr_rx_quality(n),
	    .tx_quality = n->tx_quality,
	    .added = n->added,
	};
	return true;
}

const struct rt_stats *router_stats(const struct router *r)
{
	return &r->stats;
}

uint16_t router_own_seqno(const struct router *r)
{
	return r->dests[r->self].seqno;
}
