// SPDX-License-Identifier: ISC
/*
 * The router (see router.h): routes heard from each neighbour, the
 * selected one per origin, triggered and periodic updates, and seqno
 * requests. Links and their costs are neighbour.c's.
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

static void select_route(struct router *r, uint32_t o, uint64_t now);

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

static uint16_t interval_cs(uint64_t ns)
{
	uint64_t cs = ns / (10 * NSEC_PER_MSEC);
	return cs > 0xffff ? 0xffff : (uint16_t)cs;
}

/* ---- per-origin state, sized to the origin table as it grows ---- */

static bool ensure_dests(struct router *r)
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

static bool ensure_routes(struct router *r, struct rt_nbr *n, uint32_t o)
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

static bool is_local(const struct router *r, uint32_t o)
{
	return r->dests[o].nh == RT_NBR_LOCAL;
}

/* ---- frames out ---- */

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

static struct rt_nbr *nbr_get(const struct router *r, uint16_t id)
{
	if (id >= r->nnbrs || !r->nbrs[id] || !r->nbrs[id]->used)
		return NULL;
	return r->nbrs[id];
}

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
	t->update.interval_cs = interval_cs(r->p.update_interval);
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
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (n)
			emit_to(r, o, (uint16_t)id, n, triggered, have, seqno, metric);
	}
}

static void send_all(struct router *r)
{
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (n)
			rt_send(r, (uint16_t)id, n);
	}
}

static bool push(uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x)
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

/* o changed in a way neighbours should hear soon; urgent ones are repeated. */
static void trigger(struct router *r, uint32_t o, bool urgent, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];

	if (urgent)
		d->urgent = RT_URGENT_REPEATS;
	if (!(d->flags & D_PENDING)) {
		if (!push(&r->pending, &r->npending, &r->pending_cap, o))
			return; /* the next full table carries it */
		d->flags |= D_PENDING;
	}
	if (!r->flush_at) {
		r->flush_at = now + r->p.flush_delay + rt_random(r) % (r->p.flush_delay + 1);
		rt_deadline(r, r->flush_at);
	}
}

static void flush(struct router *r, uint64_t now)
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
		    push(&r->repeat, &r->nrepeat, &r->repeat_cap, o))
			d->flags |= D_URGENT_QUEUED;
	}
	r->npending = 0;
	send_all(r);
	if (r->nrepeat && !r->repeat_at) {
		r->repeat_at = now + r->p.urgent_retry;
		rt_deadline(r, r->repeat_at);
	}
}

static void repeat_urgent(struct router *r, uint64_t now)
{
	r->repeat_at = 0;
	uint32_t n = r->nrepeat;
	r->nrepeat = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t o = r->repeat[i];
		r->dests[o].flags &= (uint8_t)~D_URGENT_QUEUED;
		if (rt_origins_live(r->origins, o) && !(r->dests[o].flags & D_PENDING) &&
		    push(&r->pending, &r->npending, &r->pending_cap, o))
			r->dests[o].flags |= D_PENDING;
	}
	if (r->npending)
		flush(r, now);
}

/* The whole table to one neighbour. */
static void dump(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	for (uint32_t o = 0; o < r->ndests; o++)
		if (rt_origins_live(r->origins, o))
			emit_origin(r, o, false, id);
	rt_send(r, id, n);
	n->last_dump = now;
	n->next_dump = now + r->p.update_interval - rt_random(r) % (r->p.update_interval / 4 + 1);
	rt_deadline(r, n->next_dump);
}

/* ---- seqno requests ---- */

/* True if a request for o at seqno (or newer) went out less than RT_REQ_RESEND ago. */
static bool recently_requested(struct router *r, uint32_t o, uint16_t seqno, uint64_t now)
{
	struct rt_req *q = &r->reqs[o % RT_REQ_CACHE];

	if (q->origin1 == o + 1 && !rt_seq_newer(seqno, q->seqno) && now - q->sent < RT_REQ_RESEND)
		return true;
	*q = (struct rt_req){.origin1 = o + 1, .seqno = seqno, .sent = now};
	return false;
}

static void send_seqno_request(struct router *r, uint16_t id, uint32_t o, uint16_t seqno,
			       uint8_t hops)
{
	struct rt_nbr *n = nbr_get(r, id);
	const struct rt_origin *e = &r->origins->v[o];
	struct rt_tlv t = {.type = RT_TLV_SEQNO_REQ};

	if (!n || n->cost == RT_METRIC_INF)
		return;
	t.seqno_req.seqno = seqno;
	t.seqno_req.hop_count = hops;
	t.seqno_req.address = e->addr;
	memcpy(t.seqno_req.origin, e->key, WG_KEY_LEN);
	rt_emit(r, id, n, &t);
	rt_send(r, id, n);
	r->stats.seqno_requests_tx++;
}

/* Starving for o: ask the neighbours with unfeasible routes to it for a newer seqno. */
static void request_seqno(struct router *r, uint32_t o, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];
	uint16_t want = (uint16_t)(d->fd_seqno + 1);

	if (!(d->flags & D_HAS_FD) || recently_requested(r, o, want, now))
		return;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (n && o < n->routes_cap && n->routes[o].metric != RT_METRIC_INF)
			send_seqno_request(r, (uint16_t)id, o, want, RT_REQ_HOPS);
	}
}

/* ---- selection ---- */

static bool feasible(const struct rt_dest *d, uint16_t seqno, uint32_t metric)
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
		trigger(r, o, nh == RT_NBR_NONE, now);
		return;
	}
	if (seqno != old_seqno) {
		trigger(r, o, true, now);
		return;
	}
	/* Small metric changes wait for the next full table. */
	uint32_t diff = metric > old ? metric - old : old - metric;
	if ((uint64_t)diff * 8 > old)
		trigger(r, o, false, now);
}

static void select_route(struct router *r, uint32_t o, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];
	uint16_t best = RT_NBR_NONE, best_seqno = d->seqno;
	uint32_t best_metric = RT_METRIC_INF, cur_metric = RT_METRIC_INF;
	uint16_t cur_seqno = 0;
	bool starving = false;

	if (d->nh == RT_NBR_LOCAL || o == r->self)
		return;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (!n || o >= n->routes_cap)
			continue;
		const struct rt_nroute *nr = &n->routes[o];
		uint32_t m = rt_metric_add(n->cost, nr->metric);
		if (m == RT_METRIC_INF || !usable(r, n, o))
			continue;
		if (!feasible(d, nr->seqno, nr->metric)) {
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
			request_seqno(r, o, now);
		return;
	}
	set_route(r, o, best, best_metric, best_seqno, now);
}

static void select_all(struct router *r, uint64_t now)
{
	for (uint32_t o = 0; o < r->ndests; o++)
		if (rt_origins_live(r->origins, o))
			select_route(r, o, now);
}

/* ---- neighbours ---- */

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
			select_route(r, o, now);
	}
	n->nroutes = 0;
}

void router_remove_neighbour(struct router *r, uint16_t id, uint64_t now)
{
	struct rt_nbr *n = nbr_get(r, id);

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
			select_route(r, o, now);
}

/* ---- frames in ---- */

static uint32_t validate(struct router *r, uint16_t id, const uint8_t key[WG_KEY_LEN],
			 const struct in6_addr *addr)
{
	uint32_t o = rt_origins_validate(r->origins, key, addr);

	if (o == RT_ORIGIN_NONE || !ensure_dests(r)) {
		r->stats.rejected_updates++;
		if (r->ops.rejected)
			r->ops.rejected(r->ctx, id, key, addr);
		return RT_ORIGIN_NONE;
	}
	return o;
}

/* Someone holds a newer seqno for an origin we speak for (our own former life): outdo it. */
static void outdo(struct router *r, uint32_t o, uint16_t seqno, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];

	if (!rt_seq_newer(seqno, d->seqno))
		return;
	d->seqno = (uint16_t)(seqno + 1);
	trigger(r, o, true, now);
}

static void on_update(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		      uint64_t now)
{
	uint16_t seqno = t->update.seqno;
	uint32_t metric = t->update.metric;
	uint32_t o = validate(r, id, t->update.origin, &t->update.address);

	if (o == RT_ORIGIN_NONE)
		return;
	if (t->update.interval_cs)
		n->update_interval = (uint64_t)t->update.interval_cs * 10 * NSEC_PER_MSEC;
	if (o == r->self) {
		if (metric != RT_METRIC_INF)
			outdo(r, o, seqno, now);
		return;
	}
	if (is_local(r, o) && metric != RT_METRIC_INF)
		outdo(r, o, seqno, now);
	if (!ensure_routes(r, n, o))
		return;
	struct rt_dest *d = &r->dests[o];
	struct rt_nroute *nr = &n->routes[o];
	bool was = nr->metric != RT_METRIC_INF;
	bool ok = feasible(d, seqno, metric);
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
	select_route(r, o, now);
	/*
	 * An unfeasible route that would beat what we have: ask its sender for
	 * a newer seqno, which would make it feasible (RFC 8966, 3.8.2.2).
	 */
	if (!ok && metric != RT_METRIC_INF && !is_local(r, o) &&
	    rt_metric_add(n->cost, metric) < d->metric &&
	    !recently_requested(r, o, (uint16_t)(d->fd_seqno + 1), now))
		send_seqno_request(r, id, o, (uint16_t)(d->fd_seqno + 1), RT_REQ_HOPS);
}

static void on_route_request(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
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

/* The best route to o not through nbr, feasible or not: where a request goes on. */
static uint16_t forward_target(const struct router *r, uint32_t o, uint16_t from)
{
	const struct rt_dest *d = &r->dests[o];
	uint16_t best = RT_NBR_NONE;
	uint32_t best_metric = RT_METRIC_INF;

	if (d->nh != RT_NBR_NONE && d->nh != RT_NBR_LOCAL && d->nh != from)
		return d->nh;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		const struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (!n || id == from || o >= n->routes_cap)
			continue;
		uint32_t m = rt_metric_add(n->cost, n->routes[o].metric);
		if (m < best_metric) {
			best = (uint16_t)id;
			best_metric = m;
		}
	}
	return best;
}

static void on_seqno_request(struct router *r, uint16_t id, const struct rt_tlv *t, uint64_t now)
{
	uint16_t seqno = t->seqno_req.seqno;
	uint32_t o = validate(r, id, t->seqno_req.origin, &t->seqno_req.address);

	if (o == RT_ORIGIN_NONE)
		return;
	struct rt_dest *d = &r->dests[o];
	if (o == r->self || is_local(r, o)) {
		/* Ours: raise the seqno to what was asked for, and say so. */
		if (rt_seq_newer(seqno, d->seqno))
			d->seqno = seqno;
		trigger(r, o, true, now);
		return;
	}
	if (d->nh != RT_NBR_NONE && !rt_seq_newer(seqno, d->seqno)) {
		/* Our route is new enough already: the asker just has not heard it. */
		trigger(r, o, false, now);
		return;
	}
	if (t->seqno_req.hop_count < 2)
		return;
	uint16_t to = forward_target(r, o, id);
	if (to != RT_NBR_NONE && !recently_requested(r, o, seqno, now))
		send_seqno_request(r, to, o, seqno, (uint8_t)(t->seqno_req.hop_count - 1));
}

int router_receive(struct router *r, uint16_t id, const uint8_t *frame, size_t len, uint64_t now,
		   const char **why)
{
	struct rt_nbr *n = nbr_get(r, id);
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
	if (!ensure_dests(r)) {
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
			/* Routes only from a link that works both ways. */
			if (n->cost != RT_METRIC_INF)
				on_update(r, id, n, &t, now);
			break;
		case RT_TLV_ROUTE_REQ:
			on_route_request(r, id, n, now);
			break;
		case RT_TLV_SEQNO_REQ:
			on_seqno_request(r, id, &t, now);
			break;
		case RT_TLV_PAD:
			break;
		}
	}
	return 0;
}

/* ---- timers ---- */

/* Routes not refreshed for 3.5 update intervals are gone; so are FDs of long-dead routes. */
static void sweep(struct router *r, uint64_t now)
{
	uint16_t s = rt_secs(now);

	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (!n || !n->nroutes)
			continue;
		uint32_t hold = (uint32_t)(n->update_interval * 7 / 2 / NSEC_PER_SEC) + 1;
		for (uint32_t o = 0; o < n->routes_cap && o < r->ndests; o++) {
			struct rt_nroute *nr = &n->routes[o];
			if (nr->metric == RT_METRIC_INF || (uint16_t)(s - nr->refreshed) <= hold)
				continue;
			nr->metric = RT_METRIC_INF;
			n->nroutes--;
			select_route(r, o, now);
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

uint64_t router_tick(struct router *r, uint64_t now)
{
	if (!ensure_dests(r))
		return now + r->p.flush_delay;
	r->deadline = UINT64_MAX;
	if (r->holding && now >= r->started + r->p.hold_time) {
		r->holding = false;
		select_all(r, now);
	}
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (!n)
			continue;
		rt_nbr_tick(r, (uint16_t)id, n, now);
		if (n->used && now >= n->next_dump) {
			if (n->cost != RT_METRIC_INF)
				dump(r, (uint16_t)id, n, now);
			else
				n->next_dump = UINT64_MAX; /* it gets one when the link comes up */
		}
	}
	if (r->flush_at && now >= r->flush_at)
		flush(r, now);
	if (r->repeat_at && now >= r->repeat_at)
		repeat_urgent(r, now);
	if (now >= r->next_sweep)
		sweep(r, now);

	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (!n)
			continue;
		rt_deadline(r, rt_nbr_deadline(n));
		rt_deadline(r, n->next_dump);
	}
	if (r->flush_at)
		rt_deadline(r, r->flush_at);
	if (r->repeat_at)
		rt_deadline(r, r->repeat_at);
	if (r->holding)
		rt_deadline(r, r->started + r->p.hold_time);
	rt_deadline(r, r->next_sweep);
	return r->deadline;
}

/* ---- life ---- */

static void originate_self(struct router *r, uint64_t now)
{
	struct rt_dest *d = &r->dests[r->self];

	d->nh = RT_NBR_LOCAL;
	d->metric = 0;
	r->ops.route(r->ctx, r->self, RT_NBR_LOCAL);
	trigger(r, r->self, true, now);
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
	if (!ensure_dests(r) || self >= r->ndests) {
		router_free(r);
		return NULL;
	}
	r->dests[self].seqno = (uint16_t)rt_random(r);
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
	if (!ensure_dests(r) || self >= r->ndests || self == r->self)
		return;
	struct rt_dest *old = &r->dests[r->self];
	/* Whoever still routes our former address to us must not be followed back. */
	old->fd_seqno = old->seqno;
	old->fd_metric = 0;
	old->flags |= D_HAS_FD;
	old->nh = RT_NBR_NONE;
	old->metric = RT_METRIC_INF;
	r->ops.route(r->ctx, r->self, RT_NBR_NONE);
	trigger(r, r->self, true, now);
	uint32_t prev = r->self;
	r->self = self;
	struct rt_dest *d = &r->dests[self];
	uint16_t seqno = (uint16_t)rt_random(r);
	d->seqno = rt_seq_newer(d->seqno, seqno) ? (uint16_t)(d->seqno + 1) : seqno;
	originate_self(r, now);
	select_route(r, prev, now);
}

void router_forget_origin(struct router *r, uint32_t o, uint64_t now)
{
	if (!ensure_dests(r) || o >= r->ndests || o == r->self)
		return;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
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
	if (!ensure_dests(r) || o >= r->ndests || o == r->self)
		return;
	struct rt_dest *d = &r->dests[o];
	if (on == is_local(r, o))
		return;
	if (!on) {
		d->nh = RT_NBR_NONE;
		d->metric = RT_METRIC_INF;
		r->ops.route(r->ctx, o, RT_NBR_NONE);
		trigger(r, o, true, now);
		select_route(r, o, now);
		return;
	}
	/* Newer than anything heard for it, so our announcement wins at once. */
	uint16_t seqno = d->seqno;
	if ((d->flags & D_HAS_FD) && rt_seq_newer(d->fd_seqno, seqno))
		seqno = d->fd_seqno;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = nbr_get(r, (uint16_t)id);
		if (n && o < n->routes_cap && n->routes[o].metric != RT_METRIC_INF &&
		    rt_seq_newer(n->routes[o].seqno, seqno))
			seqno = n->routes[o].seqno;
	}
	d->nh = RT_NBR_LOCAL;
	d->metric = r->p.proxy_cost;
	d->seqno = (uint16_t)(seqno + 1);
	d->changed = rt_secs(now);
	r->ops.route(r->ctx, o, RT_NBR_LOCAL);
	trigger(r, o, true, now);
}

/* ---- queries ---- */

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
		const struct rt_nbr *n = nbr_get(r, d->nh);
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
	const struct rt_nbr *n = nbr_get(r, id);

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
