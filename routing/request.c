// SPDX-License-Identifier: ISC
/*
 * Origin validation and seqno requests: a starving node asks its
 * neighbours for a newer seqno, they answer or pass the request on
 * towards the origin, and the origin raises its seqno (RFC 8966, 3.8).
 * Only rt_state.h is below: the seqno raised, it goes out through
 * rt_trigger()'s queue, which update.c (above) sends.
 */
#include <string.h>

#include "routing/request.h"

#define RT_REQ_RESEND NSEC_PER_SEC /* the same request goes again after this */

/* True if a request for o at seqno (or newer) went out less than RT_REQ_RESEND ago. */
bool rt_recently_requested(struct router *r, uint32_t o, uint16_t seqno, uint64_t now)
{
	struct rt_req *q = &r->reqs[o % RT_REQ_CACHE];

	if (q->origin1 == o + 1 && !rt_seq_newer(seqno, q->seqno) && now - q->sent < RT_REQ_RESEND)
		return true;
	*q = (struct rt_req){.origin1 = o + 1, .seqno = seqno, .sent = now};
	return false;
}

void rt_send_seqno_request(struct router *r, uint16_t id, uint32_t o, uint16_t seqno, uint16_t hops)
{
	struct rt_nbr *n = rt_nbr_get(r, id);
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
void rt_request_seqno(struct router *r, uint32_t o, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];
	uint16_t want = (uint16_t)(d->fd_seqno + 1);

	if (!(d->flags & D_HAS_FD) || rt_recently_requested(r, o, want, now))
		return;
	for (uint32_t id = 0; id < r->nnbrs; id++) {
		struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
		if (n && o < n->routes_cap && n->routes[o].metric != RT_METRIC_INF)
			rt_send_seqno_request(r, (uint16_t)id, o, want, RT_REQ_HOPS);
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
		const struct rt_nbr *n = rt_nbr_get(r, (uint16_t)id);
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

void rt_on_seqno_request(struct router *r, uint16_t id, const struct rt_tlv *t, uint64_t now)
{
	uint16_t seqno = t->seqno_req.seqno;
	uint32_t o = rt_validate(r, id, t->seqno_req.origin, &t->seqno_req.address);

	if (o == RT_ORIGIN_NONE)
		return;
	struct rt_dest *d = &r->dests[o];
	if (o == r->self || rt_is_local(r, o)) {
		/* Ours: raise the seqno to what was asked for, and say so. */
		if (rt_seq_newer(seqno, d->seqno))
			d->seqno = seqno;
		rt_trigger(r, o, true, now);
		return;
	}
	if (d->nh != RT_NBR_NONE && !rt_seq_newer(seqno, d->seqno)) {
		/* Our route is new enough already: the asker just has not heard it. */
		rt_trigger(r, o, false, now);
		return;
	}
	if (t->seqno_req.hop_count < 2)
		return;
	uint16_t to = forward_target(r, o, id);
	if (to != RT_NBR_NONE && !rt_recently_requested(r, o, seqno, now))
		rt_send_seqno_request(r, to, o, seqno, (uint16_t)(t->seqno_req.hop_count - 1));
}

/*
 * A newer seqno than ours for an origin we speak for. Our own address (our
 * former life announced it): outdo it. One we proxy, that another member
 * announces too (a stock WireGuard peer with sessions to both of us): take
 * it and go no further, since two members outdoing each other would raise
 * it in turn without end; equal, each route competes on its metric.
 */
void rt_heard_newer(struct router *r, uint32_t o, uint16_t seqno, bool own, uint64_t now)
{
	struct rt_dest *d = &r->dests[o];

	if (!rt_seq_newer(seqno, d->seqno))
		return;
	d->seqno = (uint16_t)(seqno + own);
	rt_trigger(r, o, true, now);
}

uint32_t rt_validate(struct router *r, uint16_t id, const uint8_t key[WG_KEY_LEN],
		     const struct in6_addr *addr)
{
	uint32_t o = rt_origins_validate(r->origins, key, addr);

	if (o == RT_ORIGIN_NONE || !rt_ensure_dests(r)) {
		r->stats.rejected_updates++;
		if (r->ops.rejected)
			r->ops.rejected(r->ctx, id, key, addr);
		return RT_ORIGIN_NONE;
	}
	return o;
}
