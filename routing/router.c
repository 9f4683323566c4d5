// SPDX-License-Identifier: ISC
/*
 * The router (see router.h): its life, its neighbours, route selection and
 * the timers. Updates are update.c's, seqno requests request.c's, links and
 * their costs neighbour.c's.
 *
 * Loop freedom is Babel's (RFC 8966, 2.4 and 3.5): for each origin a node
 * keeps a feasibility distance FD = the best (seqno, metric) it has ever
 * advertised, and only selects a route whose advertised (seqno, metric) is
 * strictly better: a newer seqno, or the same and a smaller metric. Along
 * every installed path the FDs then strictly decrease, so no path can come
 * back to where it started, whatever messages are late or lost. The price
 * is starvation: after a failure the only routes left may be unfeasible;
 * a seqno request travels to the origin, which raises its seqno, and the
 * new seqno makes every route feasible again.
 */
#include <stdlib.h>
#include <string.h>

#include "routing/router_impl.h"

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

/* xorshift64*: jitter and the first seqno, reproducible from the seed. */
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

uint64_t router_deadline(const struct router *r)
{
	return r->deadline;
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

struct rt_nbr *rt_nbr_get(const struct router *r, uint16_t id)
{
	if (id >= r->nnbrs || !r->nbrs[id] || !r->nbrs[id]->used)
		return NULL;
	return r->nbrs[id];
}

bool rt_feasible(const struct rt_dest *d, uint16_t seqno, uint32_t metric)
{
	if (metric == RT_METRIC_INF || !(d->flags & D_HAS_FD))
		return true;
	if (rt_seq_newer(seqno, d->fd_seqno))
		return true;
	return seqno == d->fd_seqno && metric < d->fd_metric;
}

/*
 * During the hold after a start only a neighbour's route to itself counts:
 * neighbours drop what they heard from our former self when our first
 * hello arrives, and until all of them have, a longer route they tell us
 * of could still lead back through us.
 */
static bool usable(const struct router *r, const struct rt_nbr *n, uint32_t o)
{
	return !r->holding || n->origin == o;
}

static void set_route(struct router *r, uint32_t o, uint16_t nh, uint32_t metric, uint16_t seqno,
		      uint64_t now)
{
	struct rt_dest *d = &r->dests[o];
	uint16_t old_nh = d->nh, old_seqno = d->seqno;
	uint32_t old = d->metric;

	d->nh = nh;
	d->metric = metric;
	d->seqno = seqno;
	if (nh != old_nh) {
		d->changed = rt_secs(now);
		r->stats.route_changes++;
		r->ops.route(r->ctx, o, nh);
		rt_trigger(r, o, nh == RT_NBR_NONE, now);
		return;
	}
	if (seqno != old_seqno) {
		rt_trigger(r, o, true, now);
		return;
	}
	/* Small metric changes wait for the next full table. */
	uint32_t diff = metric > old ? metric - old : old - metric;
	if ((uint64_t)diff * 8 > old)
		rt_trigger(r, o, false, now);
}

void rt_select_route(struct router *r, uint32_t o, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];
	uint16_t best = RT_NBR_NONE, best_seqno = d->seqno;
	uint32_t best_metric = RT_METRIC_INF, cur_metric = RT_METRIC_INF;
	uint16_t cur_seqno = 0;
	bool starving = false;

	if (d->nh == RT_NBR_LOCAL || o == r->self)
		return;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (!n || o >= n->routes_cap)
			continue;
		const struct rt_nroute *nr = &n->routes[o];
		uint32_t m = rt_metric_add(n->cost, nr->metric);
		if (m == RT_METRIC_INF || !usable(r, n, o))
			continue;
		if (!rt_feasible(d, nr->seqno, nr->metric)) {
			starving = true;
			continue;
		}
		if (id == d->nh) {
			cur_metric = m;
			cur_seqno = nr->seqno;
		}
		if (m < best_metric) {
			best = (uint16_t)id;
			best_metric = m;
			best_seqno = nr->seqno;
		}
	}
	/* Hysteresis: the route in use stays unless another is better by a sixteenth. */
	if (cur_metric != RT_METRIC_INF && best != d->nh &&
	    (uint64_t)best_metric + best_metric / 16 >= cur_metric) {
		best = d->nh;
		best_metric = cur_metric;
		best_seqno = cur_seqno;
	}
	if (best == RT_NBR_NONE) {
		set_route(r, o, RT_NBR_NONE, RT_METRIC_INF, d->seqno, now);
		if (starving)
			rt_request_seqno(r, o, now);
		return;
	}
	set_route(r, o, best, best_metric, best_seqno, now);
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

/* Forgets every route n told us, reselecting where one was in use. */
void rt_drop_routes_of(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	for (uint32_t o = 0; n->nroutes && o < n->routes_cap && o < r->ndests; o++) {
		if (n->routes[o].metric == RT_METRIC_INF)
			continue;
		n->routes[o].metric = RT_METRIC_INF;
		n->nroutes--;
		if (r->dests[o].nh == id)
			rt_select_route(r, o, now);
	}
	n->nroutes = 0;
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

void rt_link_changed(struct router *r, uint16_t id, struct rt_nbr *n, uint32_t old_cost,
		     uint64_t now)
{
	if (n->cost == RT_METRIC_INF) {
		/* Down: what it told us goes with it; it tells us afresh when back. */
		rt_drop_routes_of(r, id, n, now);
		return;
	}
	if (old_cost == RT_METRIC_INF) {
		/*
		 * Up: our table goes to it now. It does the same when it sees the
		 * link up, so neither needs to ask (route requests are answered,
		 * but only other implementations need them).
		 */
		n->next_dump = now;
		rt_deadline(r, now);
	}
	for (uint32_t o = 0; n->nroutes && o < n->routes_cap && o < r->ndests; o++)
		if (n->routes[o].metric != RT_METRIC_INF)
			rt_select_route(r, o, now);
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
