// SPDX-License-Identifier: ISC
/*
 * Neighbours: hellos out every interval, each with an IHU for what we
 * heard; hellos in fill a 16-slot history (a late hello counts as lost),
 * IHUs tell how well the neighbour hears us and, by echoing our hello's
 * timestamp, the round-trip time. The link cost follows from the three:
 *
 *   cost = (hop_cost + one-way latency in units of 100 us) / (rx share * tx share)
 *
 * A link is down when two hello slots in a row went unheard (one lost
 * hello is noise), or when no IHU came for 3.5 intervals. Costs move only
 * on a change of more than an eighth, so RTT jitter does not churn routes.
 */
#include <string.h>

#include "routing/neighbour.h"
#include "routing/selection.h"

#define MISS_GRACE(iv) ((iv) / 2) /* a hello is late this long after its interval */
#define HELLO_REORDER  16	  /* hellos this far behind are late; further, a new count */
#define IHU_HOLD(iv)   ((iv)*7 / 2)
#define RTT_MAX_US     10000000u /* a longer "RTT" is a confused echo */

static uint32_t now_us(uint64_t now)
{
	return (uint32_t)(now / 1000);
}

/* The share (of 256) of the hello slots so far that were heard. */
uint16_t rt_nbr_rx_quality(const struct rt_nbr *n)
{
	if (!n->has_hello || !n->slots)
		return 0;
	uint16_t mask = n->slots >= 16 ? 0xffff : (uint16_t)((1u << n->slots) - 1);
	return (uint16_t)(__builtin_popcount(n->history & mask) * 256u / n->slots);
}

/* Heard lately (the last slot, or two of the last three), and heard by it. */
bool rt_nbr_up(const struct rt_nbr *n)
{
	if (!n->has_hello || !n->tx_quality)
		return false;
	return (n->history & 1) || __builtin_popcount(n->history & 7) >= 2;
}

static uint32_t compute_cost(const struct router *r, const struct rt_nbr *n)
{
	if (!rt_nbr_up(n))
		return RT_METRIC_INF;
	uint64_t base = r->p.hop_cost + (n->has_rtt ? n->srtt_us / 200 : 0);
	uint64_t q = (uint64_t)rt_nbr_rx_quality(n) * n->tx_quality;
	if (!q)
		return RT_METRIC_INF;
	uint64_t c = base * 65536 / q;
	return c >= RT_METRIC_INF ? RT_METRIC_INF - 1 : (uint32_t)(c ? c : 1);
}

static void update_cost(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	uint32_t c = compute_cost(r, n), old = n->cost;

	if (c == old)
		return;
	/* Up, down, or a real change: anything under an eighth is noise. */
	if (c != RT_METRIC_INF && old != RT_METRIC_INF) {
		uint32_t d = c > old ? c - old : old - c;
		if ((uint64_t)d * 8 <= old)
			return;
	}
	n->cost = c;
	rt_link_changed(r, id, n, old, now);
}

static void shift(struct rt_nbr *n, unsigned int bits, bool heard)
{
	n->history = bits >= 16 ? 0 : (uint16_t)(n->history << bits);
	n->slots = (uint8_t)(n->slots + bits > 16 ? 16 : n->slots + bits);
	if (heard)
		n->history |= 1;
}

void rt_nbr_hello(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		  uint64_t now)
{
	uint64_t iv = (uint64_t)t->hello.interval_cs * 10 * NSEC_PER_MSEC;

	if (!iv)
		iv = r->p.hello_interval;
	if (n->has_hello && t->hello.instance != n->instance) {
		/*
		 * It restarted: what it told us before is void, and must be gone
		 * before it learns anything from us, or it could pick a route
		 * that still runs through its former self.
		 */
		rt_drop_routes_of(r, id, n, now);
		n->has_hello = false;
		n->tx_quality = 0;
		n->has_rtt = false;
	}
	int16_t gap = (int16_t)(uint16_t)(t->hello.seqno - n->expected);
	/*
	 * Far behind: not a reordered hello but a new count, from a neighbour
	 * that dropped us and took us back (a session lost and made again, or
	 * we were removed and re-added) and so started from a new random
	 * seqno. Waiting for it to catch up could take hours (RFC 8966, A.1).
	 */
	if (n->has_hello && gap < -HELLO_REORDER)
		n->has_hello = false;
	if (!n->has_hello) {
		n->has_hello = true;
		n->instance = t->hello.instance;
		n->history = 0;
		n->slots = 0;
		shift(n, 1, true);
		/* Answer at once: our IHU is what brings the link up at its end. */
		n->next_hello = now;
	} else {
		if (gap < 0)
			return; /* reordered: already counted */
		/* The timer already counted some of the lost ones. */
		unsigned int lost =
		    (unsigned int)gap > n->missed ? (unsigned int)gap - n->missed : 0;
		shift(n, lost, false);
		shift(n, 1, true);
	}
	n->expected = (uint16_t)(t->hello.seqno + 1);
	n->missed = 0;
	n->hello_interval = iv;
	n->next_miss = now + iv + MISS_GRACE(iv);
	n->last_ts = t->hello.timestamp;
	n->last_hello_at = now;
	rt_deadline(r, n->next_hello < n->next_miss ? n->next_hello : n->next_miss);
	update_cost(r, id, n, now);
}

void rt_nbr_ihu(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		uint64_t now)
{
	uint64_t iv = (uint64_t)t->ihu.interval_cs * 10 * NSEC_PER_MSEC;

	if (!iv)
		iv = r->p.hello_interval;
	n->tx_quality = t->ihu.rx_quality > 256 ? 256 : t->ihu.rx_quality;
	n->ihu_deadline = now + IHU_HOLD(iv);
	rt_deadline(r, n->ihu_deadline);
	/* Our clock, both ends: now - echo is the round trip plus its time holding the hello. */
	uint32_t rtt = now_us(now) - t->ihu.echo - t->ihu.delay;
	if (t->ihu.echo && rtt < RTT_MAX_US) {
		n->srtt_us = n->has_rtt ? (n->srtt_us * 7 + rtt) / 8 : rtt;
		n->has_rtt = true;
	}
	update_cost(r, id, n, now);
}

static void send_hello(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	struct rt_tlv t = {.type = RT_TLV_HELLO};

	t.hello.seqno = n->hello_seqno++;
	t.hello.interval_cs = rt_interval_cs(r->p.hello_interval);
	/* 0 means "no echo" in an IHU: never stamp a hello with it. */
	t.hello.timestamp = now_us(now) ? now_us(now) : 1;
	t.hello.instance = r->instance;
	rt_emit(r, id, n, &t);
	if (n->has_hello) {
		struct rt_tlv i = {.type = RT_TLV_IHU};
		i.ihu.rx_quality = rt_nbr_rx_quality(n);
		i.ihu.interval_cs = rt_interval_cs(r->p.hello_interval);
		i.ihu.echo = n->last_ts;
		i.ihu.delay = now_us(now - n->last_hello_at);
		rt_emit(r, id, n, &i);
	}
	struct rt_tlv s = {.type = RT_TLV_SEEN};
	if (r->ops.endpoint_of && r->ops.endpoint_of(r->ctx, id, &s.seen.address, &s.seen.port))
		rt_emit(r, id, n, &s);
	rt_send(r, id, n);
}

void rt_nbr_tick(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now)
{
	if (now >= n->next_hello) {
		send_hello(r, id, n, now);
		/* A little early, never late: the other end counts a late hello as lost. */
		uint64_t iv = r->p.hello_interval;
		n->next_hello = now + iv - rt_random(r) % (iv / 8 + 1);
	}
	bool changed = false;
	while (n->has_hello && now >= n->next_miss) {
		shift(n, 1, false);
		n->missed++;
		n->next_miss += n->hello_interval;
		changed = true;
		if (n->missed > 16) {
			/* Long gone: stop counting, the history is all zeros anyway. */
			n->next_miss = UINT64_MAX;
			break;
		}
	}
	if (n->tx_quality && now >= n->ihu_deadline) {
		n->tx_quality = 0;
		changed = true;
	}
	if (changed)
		update_cost(r, id, n, now);
}

uint64_t rt_nbr_deadline(const struct rt_nbr *n)
{
	uint64_t d = n->next_hello;

	if (n->has_hello && n->next_miss < d)
		d = n->next_miss;
	if (n->tx_quality && n->ihu_deadline < d)
		d = n->ihu_deadline;
	return d;
}
