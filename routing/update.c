// SPDX-License-Identifier: ISC
/*
 * Updates: what goes out (triggered for changes, gathered for a few
 * milliseconds; whole tables periodically and when a link comes up; the
 * feasibility distance kept as routes are announced) and what comes in.
 * What changed is queued by rt_trigger() (rt_state.c), below every file
 * that changes a route, and sent from here by rt_flush().
 */
#include <string.h>

#include "routing/request.h"
#include "routing/selection.h"
#include "routing/update.h"

#define RT_FD_GC	(180 * NSEC_PER_SEC) /* feasibility distances of dead routes are forgotten */
#define RT_DUMP_MIN_GAP NSEC_PER_SEC	     /* full tables to one neighbour at most this often */

/* What we advertise for o: its seqno and metric, or false if nothing (no route). */
static bool advertised(const struct router *r, uint32_t o, uint16_t *seqno, uint32_t *metric)
{
	const struct rt_dest *d = &r->dests[o];

	if (d->nh == RT_NBR_NONE || d->metric == RT_METRIC_INF)
		return false;
	*seqno = d->seqno;
	*metric = d->metric;
	return true;
}

/*
 * Before a finite (seqno, metric) goes out, the feasibility distance takes
 * it if it is better: FD is the best we ever advertised, which is what makes
 * every neighbour's route through us strictly worse than ours.
 */
static void note_advertised(struct router *r, uint32_t o, uint16_t seqno, uint32_t metric)
{
	struct rt_dest *d = &r->dests[o];

	if (o == r->self)
		return;
	if (!(d->flags & D_HAS_FD) || rt_seq_newer(seqno, d->fd_seqno) ||
	    (seqno == d->fd_seqno && metric < d->fd_metric)) {
		d->fd_seqno = seqno;
		d->fd_metric = metric;
		d->flags |= D_HAS_FD;
	}
}

static void make_update(struct router *r, uint32_t o, uint16_t seqno, uint32_t metric,
			struct rt_tlv *t)
{
	const struct rt_origin *e = &r->origins->v[o];

	t->type = RT_TLV_UPDATE;
	t->update.interval_cs = rt_interval_cs(r->p.update_interval);
	t->update.seqno = seqno;
	t->update.metric = metric;
	t->update.address = e->addr;
	memcpy(t->update.origin, e->key, WG_KEY_LEN);
}

/*
 * o to one neighbour. With triggered, a lost route goes out as a
 * retraction, and so does a route to the neighbour it runs through (split
 * horizon with poisoned reverse); a full table leaves both out.
 */
static void emit_to(struct router *r, uint32_t o, uint16_t id, struct rt_nbr *n, bool triggered,
		    bool have, uint16_t seqno, uint32_t metric)
{
	struct rt_tlv t;
	bool through = r->dests[o].nh == id;

	if (n->cost == RT_METRIC_INF || (!triggered && (through || !have)))
		return;
	make_update(r, o, seqno, have && !through ? metric : RT_METRIC_INF, &t);
	rt_emit(r, id, n, &t);
}

/* o to every neighbour that is up, or only to one. */
static void emit_origin(struct router *r, uint32_t o, bool triggered, uint16_t only)
{
	uint16_t seqno = 0;
	uint32_t metric = RT_METRIC_INF;
	bool have = advertised(r, o, &seqno, &metric);

	if (!have && !triggered)
		return;
	if (have)
		note_advertised(r, o, seqno, metric);
	else
		seqno = r->dests[o].seqno;
	if (only != RT_NBR_NONE) {
		emit_to(r, o, only, r->nbrs[only], triggered, have, seqno, metric);
		return;
	}
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (n)
			emit_to(r, o, (uint16_t)id, n, triggered, have, seqno, metric);
	}
}

static void send_all(struct router *r)
{
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (n)
			rt_send(r, (uint16_t)id, n);
	}
}

void rt_flush(struct router *r, uint64_t now)
{
	r->flush_at = 0;
	for (uint32_t i = 0; i < r->npending; i++) {
		uint32_t o = r->pending[i];
		struct rt_dest *d = &r->dests[o];
		d->flags &= (uint8_t)~D_PENDING;
		if (!rt_origins_live(r->origins, o))
			continue;
		emit_origin(r, o, true, RT_NBR_NONE);
		if (d->urgent && --d->urgent && !(d->flags & D_URGENT_QUEUED) &&
		    rt_push(&r->repeat, &r->nrepeat, &r->repeat_cap, o))
			d->flags |= D_URGENT_QUEUED;
	}
	r->npending = 0;
	send_all(r);
	if (r->nrepeat && !r->repeat_at) {
		r->repeat_at = now + r->p.urgent_retry;
		rt_deadline(r, r->repeat_at);
	}
}

void rt_repeat_urgent(struct router *r, uint64_t now)
{
	r->repeat_at = 0;
	uint32_t n = r->nrepeat;
	r->nrepeat = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t o = r->repeat[i];
		r->dests[o].flags &= (uint8_t)~D_URGENT_QUEUED;
		if (rt_origins_live(r->origins, o) && !(r->dests[o].flags & D_PENDING) &&
		    rt_push(&r->pending, &r->npending, &r->pending_cap, o))
			r->dests[o].flags |= D_PENDING;
	}
	if (r->npending)
		rt_flush(r, now);
}

/* The whole table to one neighbour. */
void rt_dump(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	for (uint32_t o = 0; o < r->ndests; o++)
		if (rt_origins_live(r->origins, o))
			emit_origin(r, o, false, id);
	rt_send(r, id, n);
	n->last_dump = now;
	n->next_dump = now + r->p.update_interval - rt_random(r) % (r->p.update_interval / 4 + 1);
	rt_deadline(r, n->next_dump);
}

void rt_on_update(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		  uint64_t now)
{
	uint16_t seqno = t->update.seqno;
	uint32_t metric = t->update.metric;
	uint32_t o = rt_validate(r, id, t->update.origin, &t->update.address);

	if (o == RT_ORIGIN_NONE)
		return;
	if (t->update.interval_cs)
		n->update_interval = (uint64_t)t->update.interval_cs * 10 * NSEC_PER_MSEC;
	if (o == r->self) {
		if (metric != RT_METRIC_INF)
			rt_heard_newer(r, o, seqno, true, now);
		return;
	}
	if (rt_is_local(r, o) && metric != RT_METRIC_INF)
		rt_heard_newer(r, o, seqno, false, now);
	if (!rt_ensure_routes(r, n, o))
		return;
	struct rt_dest *d = &r->dests[o];
	struct rt_nroute *nr = &n->routes[o];
	bool was = nr->metric != RT_METRIC_INF;
	bool ok = rt_feasible(d, seqno, metric);
	if (!was && metric == RT_METRIC_INF)
		return;
	if (!ok)
		r->stats.unfeasible++;
	if (metric == RT_METRIC_INF) {
		nr->metric = RT_METRIC_INF;
		n->nroutes--;
	} else {
		*nr =
		    (struct rt_nroute){.metric = metric, .seqno = seqno, .refreshed = rt_secs(now)};
		if (!was)
			n->nroutes++;
	}
	rt_select_route(r, o, now);
	/*
	 * An unfeasible route that would beat what we have: ask its sender for
	 * a newer seqno, which would make it feasible (RFC 8966, 3.8.2.2).
	 */
	if (!ok && metric != RT_METRIC_INF && !rt_is_local(r, o) &&
	    rt_metric_add(n->cost, metric) < d->metric &&
	    !rt_recently_requested(r, o, (uint16_t)(d->fd_seqno + 1), now))
		rt_send_seqno_request(r, id, o, (uint16_t)(d->fd_seqno + 1), RT_REQ_HOPS);
}

void rt_on_route_request(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	/* A full table at most every RT_DUMP_MIN_GAP, however often it asks. */
	uint64_t at = n->last_dump && now - n->last_dump < RT_DUMP_MIN_GAP
			  ? n->last_dump + RT_DUMP_MIN_GAP
			  : now;
	(void)id;
	if (at < n->next_dump) {
		n->next_dump = at;
		rt_deadline(r, at);
	}
}

/* Routes not refreshed for 3.5 update intervals are gone; so are FDs of long-dead routes. */
void rt_sweep(struct router *r, uint64_t now)
{
	uint16_t s = rt_secs(now);

	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (!n || !n->nroutes)
			continue;
		uint32_t hold = (uint32_t)(n->update_interval * 7 / 2 / NSEC_PER_SEC) + 1;
		for (uint32_t o = 0; o < n->routes_cap && o < r->ndests; o++) {
			struct rt_nroute *nr = &n->routes[o];
			if (nr->metric == RT_METRIC_INF || (uint16_t)(s - nr->refreshed) <= hold)
				continue;
			nr->metric = RT_METRIC_INF;
			n->nroutes--;
			rt_select_route(r, o, now);
		}
	}
	for (uint32_t o = 0; o < r->ndests; o++) {
		struct rt_dest *d = &r->dests[o];
		if (d->nh == RT_NBR_NONE && (d->flags & D_HAS_FD) &&
		    (uint16_t)(s - d->changed) > RT_FD_GC / NSEC_PER_SEC)
			d->flags &= (uint8_t)~D_HAS_FD;
	}
	r->next_sweep = now + r->p.update_interval / 2;
}
