// SPDX-License-Identifier: ISC
/*
 * Route selection (see selection.h).
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
 *
 * A change of next hop, seqno or metric is told to the neighbours through
 * rt_trigger()'s queue (rt_state.c), which update.c sends: this file sits
 * under update.c and must not call it.
 */
#include "routing/selection.h"
#include "routing/request.h"

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
