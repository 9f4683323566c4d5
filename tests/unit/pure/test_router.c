// SPDX-License-Identifier: ISC
/*
 * The router on small networks driven by hand: a few nodes, links with a
 * fixed delay, frames queued between them in order. Each case checks what
 * a user would see: routes appear, follow the best path, move when a link
 * fails, never loop; starvation ends with a seqno request; origins that
 * fail validation and malformed frames change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "routing/frame.h"
#include "routing/router.h"

#define MAXN	 8
#define MAXQ	 4096
#define DELAY	 (5 * NSEC_PER_MSEC)
#define NOORIGIN RT_ORIGIN_NONE

struct frame {
	int to;
	uint16_t nbr; /* the sender, as the receiver knows it */
	uint64_t at;
	size_t len;
	uint8_t data[RT_FRAME_MAX];
};

struct node {
	int idx;
	struct net *net;
	struct router *r;
	uint32_t origin;
	int peer_of[MAXN];     /* neighbour id -> node index, -1 = none */
	uint16_t nbr_to[MAXN]; /* node index -> our neighbour id for it */
	bool link_up[MAXN];    /* frames to that node are delivered */
	uint64_t delay[MAXN];  /* one way to that node, 0 = DELAY */
	unsigned loss[MAXN];   /* percent of frames to that node lost */
	uint16_t nh[64];       /* origin -> next hop, as ops->route reported it */
};

struct net {
	struct rt_origins origins;
	struct node nodes[MAXN];
	int n;
	struct frame *q;
	size_t nq;
	uint64_t now;
	size_t sent;
	uint64_t rng; /* for losses: the same every run */
};

static unsigned percent(struct net *net)
{
	net->rng ^= net->rng << 13;
	net->rng ^= net->rng >> 7;
	net->rng ^= net->rng << 17;
	return (unsigned)(net->rng % 100);
}

static void op_send(void *ctx, uint16_t nbr, const uint8_t *frame, size_t len)
{
	struct node *a = ctx;
	struct net *net = a->net;
	int b = a->peer_of[nbr];

	net->sent++;
	if (b < 0 || !a->link_up[b] || net->nq == MAXQ)
		return;
	if (a->loss[b] && percent(net) < a->loss[b])
		return;
	struct frame *f = &net->q[net->nq++];
	f->to = b;
	f->nbr = net->nodes[b].nbr_to[a->idx];
	f->at = net->now + (a->delay[b] ? a->delay[b] : DELAY);
	f->len = len;
	memcpy(f->data, frame, len);
}

static void op_route(void *ctx, uint32_t origin, uint16_t nbr)
{
	struct node *a = ctx;

	assert_true(origin < 64);
	a->nh[origin] = nbr;
}

static const struct rt_ops ops = {.send = op_send, .route = op_route};

static struct net *net_new(int n)
{
	struct net *net = calloc(1, sizeof(*net));
	uint8_t seed[16] = {1};

	assert_non_null(net);
	net->q = calloc(MAXQ, sizeof(*net->q));
	assert_non_null(net->q);
	net->rng = 0x9e3779b97f4a7c15ull;
	assert_true(rt_origins_init(&net->origins, seed));
	net->n = n;
	for (int i = 0; i < n; i++) {
		uint8_t key[WG_KEY_LEN];
		memset(key, 0x10 + i, sizeof(key));
		net->nodes[i].origin = rt_origins_add(&net->origins, key);
	}
	for (int i = 0; i < n; i++) {
		struct node *a = &net->nodes[i];
		struct rt_params p;
		rt_params_default(&p);
		a->idx = i;
		a->net = net;
		for (int j = 0; j < MAXN; j++) {
			a->peer_of[j] = -1;
			a->nbr_to[j] = RT_NBR_NONE;
		}
		for (int j = 0; j < 64; j++)
			a->nh[j] = RT_NBR_NONE;
		a->r = router_new(&p, &ops, a, &net->origins, a->origin, (uint64_t)i + 1, 0);
		assert_non_null(a->r);
	}
	return net;
}

static void net_free(struct net *net)
{
	for (int i = 0; i < net->n; i++)
		router_free(net->nodes[i].r);
	rt_origins_free(&net->origins);
	free(net->q);
	free(net);
}

static void link_ab(struct net *net, int a, int b)
{
	struct node *x = &net->nodes[a], *y = &net->nodes[b];
	uint16_t ia = router_add_neighbour(x->r, y->origin, net->now);
	uint16_t ib = router_add_neighbour(y->r, x->origin, net->now);

	assert_int_not_equal(ia, RT_NBR_NONE);
	assert_int_not_equal(ib, RT_NBR_NONE);
	x->peer_of[ia] = b;
	x->nbr_to[b] = ia;
	y->peer_of[ib] = a;
	y->nbr_to[a] = ib;
	x->link_up[b] = y->link_up[a] = true;
}

/* The link a-b's one-way delay and loss, the same both ways. */
static void shape(struct net *net, int a, int b, uint64_t delay, unsigned loss)
{
	net->nodes[a].delay[b] = net->nodes[b].delay[a] = delay;
	net->nodes[a].loss[b] = net->nodes[b].loss[a] = loss;
}

/* A silent failure: frames stop both ways, the routers find out by themselves. */
static void cut(struct net *net, int a, int b)
{
	net->nodes[a].link_up[b] = net->nodes[b].link_up[a] = false;
}

static int next_frame(struct net *net)
{
	int best = -1;

	for (size_t i = 0; i < net->nq; i++)
		if (best < 0 || net->q[i].at < net->q[best].at)
			best = (int)i;
	return best;
}

/* The node reached from a along installed routes towards origin dst, or -1 on a loop/dead end. */
static int follow(struct net *net, int a, int dst)
{
	for (int hops = 0; hops <= net->n; hops++) {
		if (a == dst)
			return dst;
		uint16_t nh = router_next_hop(net->nodes[a].r, net->nodes[dst].origin);
		if (nh == RT_NBR_NONE || nh == RT_NBR_LOCAL)
			return -1;
		a = net->nodes[a].peer_of[nh];
		if (a < 0)
			return -1;
	}
	fail_msg("forwarding loop towards node %d", dst);
	return -1;
}

static void check_no_loop(struct net *net)
{
	for (int a = 0; a < net->n; a++)
		for (int d = 0; d < net->n; d++)
			follow(net, a, d);
}

/* Runs the network until `until`, checking for loops after every event. */
static void run(struct net *net, uint64_t until)
{
	for (;;) {
		uint64_t t = UINT64_MAX;
		int who = -1;
		for (int i = 0; i < net->n; i++) {
			uint64_t d = router_deadline(net->nodes[i].r);
			if (d < t) {
				t = d;
				who = i;
			}
		}
		int f = next_frame(net);
		if (f >= 0 && net->q[f].at <= t) {
			t = net->q[f].at;
			who = -1;
		}
		if (t > until)
			break;
		if (t > net->now)
			net->now = t;
		if (who >= 0) {
			router_tick(net->nodes[who].r, net->now);
		} else {
			struct frame fr = net->q[f];
			net->q[f] = net->q[--net->nq];
			const char *why = NULL;
			struct node *b = &net->nodes[fr.to];
			if (b->peer_of[fr.nbr] >= 0)
				assert_int_equal(
				    router_receive(b->r, fr.nbr, fr.data, fr.len, net->now, &why),
				    0);
			router_tick(b->r, net->now);
		}
		check_no_loop(net);
	}
	net->now = until;
}

struct find_ctx {
	uint32_t origin;
	uint32_t metric;
	uint16_t seqno;
};

static int find_cb(const struct rt_route_info *ri, void *ctx)
{
	struct find_ctx *c = ctx;

	if (ri->origin == c->origin) {
		c->metric = ri->metric;
		c->seqno = ri->seqno;
	}
	return 0;
}

static uint16_t seqno_at(struct net *net, int a, uint32_t origin)
{
	struct find_ctx c = {.origin = origin, .metric = RT_METRIC_INF};

	router_foreach_route(net->nodes[a].r, net->now, find_cb, &c);
	assert_int_not_equal(c.metric, RT_METRIC_INF);
	return c.seqno;
}

static uint32_t metric_to(struct net *net, int a, int d)
{
	struct find_ctx c = {.origin = net->nodes[d].origin, .metric = RT_METRIC_INF};

	router_foreach_route(net->nodes[a].r, net->now, find_cb, &c);
	return c.metric;
}

static void assert_reaches_all(struct net *net)
{
	for (int a = 0; a < net->n; a++)
		for (int d = 0; d < net->n; d++)
			if (follow(net, a, d) != d)
				fail_msg("node %d does not reach node %d", a, d);
}

static struct rt_nbr_info nbr_info(struct net *net, int a, int b)
{
	struct rt_nbr_info ni;

	assert_true(router_neighbour_info(net->nodes[a].r, net->nodes[a].nbr_to[b], &ni));
	return ni;
}

static int next_node(struct net *net, int a, int d)
{
	return net->nodes[a].peer_of[router_next_hop(net->nodes[a].r, net->nodes[d].origin)];
}

static void test_line(void **state)
{
	struct net *net = net_new(3);

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	run(net, 10 * NSEC_PER_SEC);
	assert_reaches_all(net);
	/* A reaches C through B: the next hop is B, the metric two hops. */
	uint16_t nh = router_next_hop(net->nodes[0].r, net->nodes[2].origin);
	assert_int_equal(net->nodes[0].peer_of[nh], 1);
	assert_int_equal(net->nodes[0].nh[net->nodes[2].origin], nh);
	uint32_t m = metric_to(net, 0, 2);
	assert_true(m >= 290 && m <= 310); /* (100 + 5 ms one way) per hop */
	net_free(net);
}

static void test_square_failover(void **state)
{
	struct net *net = net_new(4);

	(void)state;
	/* 0-1-2-3-0: two ways from 0 to 2. */
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	link_ab(net, 2, 3);
	link_ab(net, 3, 0);
	run(net, 10 * NSEC_PER_SEC);
	assert_reaches_all(net);
	int via = next_node(net, 0, 2);
	assert_true(via == 1 || via == 3);
	cut(net, 0, via);
	/* Two lost hellos take the link down: a few seconds. */
	run(net, 20 * NSEC_PER_SEC);
	int now_via = next_node(net, 0, 2);
	assert_int_equal(now_via, via == 1 ? 3 : 1);
	assert_int_equal(follow(net, 0, 2), 2);
	assert_int_equal(follow(net, 0, via), via); /* around the other way */
	net_free(net);
}

/* A ring loses a link: the nodes next to it starve until the origin's seqno rises. */
static void test_ring_starvation(void **state)
{
	struct net *net = net_new(6);

	(void)state;
	for (int i = 0; i < 6; i++)
		link_ab(net, i, (i + 1) % 6);
	run(net, 10 * NSEC_PER_SEC);
	assert_reaches_all(net);
	uint16_t before = router_own_seqno(net->nodes[0].r);
	cut(net, 0, 1);
	run(net, 30 * NSEC_PER_SEC);
	assert_reaches_all(net);
	/* Node 1 reaches 0 the long way now, which took a new seqno from 0. */
	assert_int_equal(next_node(net, 1, 0), 2);
	assert_int_not_equal(router_own_seqno(net->nodes[0].r), before);
	uint64_t reqs = 0;
	for (int i = 0; i < 6; i++)
		reqs += router_stats(net->nodes[i].r)->seqno_requests_tx;
	assert_true(reqs > 0);
	net_free(net);
}

/* Another node's key announced with our address, and a key that is no origin: both dropped. */
static void test_origin_validation(void **state)
{
	struct net *net = net_new(2);
	uint8_t buf[RT_FRAME_MAX];
	struct rt_frame_builder b;
	struct rt_tlv t = {.type = RT_TLV_UPDATE};
	const char *why;

	(void)state;
	link_ab(net, 0, 1);
	run(net, 5 * NSEC_PER_SEC);
	struct router *r = net->nodes[0].r;
	uint16_t nbr = net->nodes[0].nbr_to[1];
	uint64_t rejected = router_stats(r)->rejected_updates;

	/* Node 1's address under a key that is no member. */
	rt_frame_begin(&b, buf);
	t.update.seqno = 7;
	t.update.metric = 0;
	t.update.address = net->origins.v[net->nodes[1].origin].addr;
	memset(t.update.origin, 0x77, WG_KEY_LEN);
	assert_true(rt_frame_add(&b, &t));
	/* A member key with another member's address. */
	memcpy(t.update.origin, net->origins.v[net->nodes[1].origin].key, WG_KEY_LEN);
	t.update.address = net->origins.v[net->nodes[0].origin].addr;
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	assert_int_equal(router_receive(r, nbr, buf, len, net->now, &why), 0);
	assert_int_equal(router_stats(r)->rejected_updates, rejected + 2);
	assert_int_equal(router_next_hop(r, net->nodes[0].origin), RT_NBR_LOCAL);
	net_free(net);
}

static void test_malformed_refused_whole(void **state)
{
	struct net *net = net_new(2);
	uint8_t buf[RT_FRAME_MAX];
	struct rt_frame_builder b;
	struct rt_tlv t = {.type = RT_TLV_UPDATE};
	const char *why = NULL;

	(void)state;
	link_ab(net, 0, 1);
	run(net, 5 * NSEC_PER_SEC);
	struct router *r = net->nodes[0].r;
	uint16_t nbr = net->nodes[0].nbr_to[1];
	/* A good retraction of node 1's route, then a record cut short. */
	rt_frame_begin(&b, buf);
	t.update.seqno = router_own_seqno(net->nodes[1].r);
	t.update.metric = RT_METRIC_INF;
	t.update.address = net->origins.v[net->nodes[1].origin].addr;
	memcpy(t.update.origin, net->origins.v[net->nodes[1].origin].key, WG_KEY_LEN);
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	buf[len++] = RT_TLV_HELLO;
	buf[len++] = 14;
	buf[3] = (uint8_t)(buf[3] + 2);
	assert_int_equal(router_receive(r, nbr, buf, len, net->now, &why), -1);
	assert_non_null(why);
	assert_int_equal(router_stats(r)->rx_malformed, 1);
	/* Nothing of it applied: the route to node 1 is still there. */
	assert_int_equal(router_next_hop(r, net->nodes[1].origin), nbr);
	net_free(net);
}

/* A stock peer that node 2 speaks for is reached by everyone, through node 2. */
static void test_proxy(void **state)
{
	struct net *net = net_new(4);

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	/* Node 3 is a phone on node 2: no router there, node 2 announces it. */
	run(net, 8 * NSEC_PER_SEC);
	router_proxy(net->nodes[2].r, net->nodes[3].origin, true, net->now);
	run(net, 12 * NSEC_PER_SEC);
	uint32_t phone = net->nodes[3].origin;
	assert_int_equal(router_next_hop(net->nodes[2].r, phone), RT_NBR_LOCAL);
	assert_int_equal(next_node(net, 0, 3), 1);
	assert_int_equal(next_node(net, 1, 3), 2);
	/* The phone leaves: the route is retracted everywhere. */
	router_proxy(net->nodes[2].r, phone, false, net->now);
	run(net, 16 * NSEC_PER_SEC);
	assert_int_equal(router_next_hop(net->nodes[0].r, phone), RT_NBR_NONE);
	assert_int_equal(router_next_hop(net->nodes[1].r, phone), RT_NBR_NONE);
	net_free(net);
}

/*
 * The link cost comes from the measured RTT and loss: a triangle whose
 * direct side 0-2 is first slow, then fast, then lossy; the way from 0 to
 * 2 goes round through 1 (two fast clean hops, about 220) whenever the
 * direct side costs more.
 */
static void test_link_cost(void **state)
{
	struct net *net = net_new(3);
	struct rt_nbr_info ni;

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	link_ab(net, 0, 2);
	shape(net, 0, 1, NSEC_PER_MSEC, 0);
	shape(net, 1, 2, NSEC_PER_MSEC, 0);
	/* 60 ms of round trip: 100 + 300. */
	shape(net, 0, 2, 30 * NSEC_PER_MSEC, 0);
	run(net, 20 * NSEC_PER_SEC);
	ni = nbr_info(net, 0, 2);
	print_message("slow: rtt %u us, cost %u; via 1: %u\n", ni.rtt_us, ni.cost,
		      nbr_info(net, 0, 1).cost);
	assert_in_range(ni.rtt_us, 55000, 70000);
	assert_in_range(ni.cost, 350, 450);
	assert_int_equal(next_node(net, 0, 2), 1);
	assert_int_equal(next_node(net, 2, 0), 1);

	/* Fast: 110, direct. */
	shape(net, 0, 2, NSEC_PER_MSEC, 0);
	run(net, 60 * NSEC_PER_SEC);
	ni = nbr_info(net, 0, 2);
	print_message("fast: rtt %u us, cost %u\n", ni.rtt_us, ni.cost);
	assert_in_range(ni.cost, 100, 150); /* the smoothed RTT still falling */
	assert_int_equal(next_node(net, 0, 2), 2);

	/* Half the frames lost each way: about four times the cost, or down. */
	shape(net, 0, 2, NSEC_PER_MSEC, 50);
	unsigned via1 = 0, checks = 0, lossy_costs = 0;
	uint64_t cost_sum = 0;
	for (uint64_t t = 90; t <= 150; t += 2, checks++) {
		run(net, t * NSEC_PER_SEC);
		ni = nbr_info(net, 0, 2);
		via1 += next_node(net, 0, 2) == 1;
		if (ni.up) {
			cost_sum += ni.cost;
			lossy_costs++;
		}
	}
	print_message("lossy: through 1 at %u of %u looks; rx %u/256; mean cost when up %llu\n",
		      via1, checks, ni.rx_quality,
		      (unsigned long long)(lossy_costs ? cost_sum / lossy_costs : 0));
	assert_true(ni.rx_quality < 200);
	assert_true(!lossy_costs || cost_sum / lossy_costs > 2 * 110);
	assert_true(via1 >= checks - 1);
	net_free(net);
}

/*
 * Node 0 drops node 1 and takes it back (its session lost and made again,
 * or the member removed and re-added) while node 1 keeps it: node 0's
 * hellos then count from a new random seqno, behind the old one as often
 * as not, and node 1 must take them at once, not wait for the count to
 * catch up.
 */
static void test_neighbour_readded(void **state)
{
	struct net *net = net_new(2);
	struct node *a = &net->nodes[0];

	(void)state;
	link_ab(net, 0, 1);
	run(net, 10 * NSEC_PER_SEC);
	for (int round = 0; round < 8; round++) {
		router_remove_neighbour(a->r, a->nbr_to[1], net->now);
		a->peer_of[a->nbr_to[1]] = -1;
		a->link_up[1] = false;
		run(net, net->now + 8 * NSEC_PER_SEC);
		assert_false(nbr_info(net, 1, 0).up);
		uint16_t id = router_add_neighbour(a->r, net->nodes[1].origin, net->now);
		assert_int_not_equal(id, RT_NBR_NONE);
		a->peer_of[id] = 1;
		a->nbr_to[1] = id;
		a->link_up[1] = true;
		run(net, net->now + 8 * NSEC_PER_SEC);
		if (!nbr_info(net, 1, 0).up)
			fail_msg("round %d: node 1 does not take node 0's hellos again", round);
		assert_int_equal(next_node(net, 1, 0), 0);
		assert_int_equal(next_node(net, 0, 1), 1);
	}
	net_free(net);
}

/*
 * A phone with sessions to two members, both announcing it: each takes the
 * other's seqno when it is newer, but never goes past it, or the two would
 * outdo each other without end (frames and seqnos rising for ever).
 */
static void test_two_proxies(void **state)
{
	struct net *net = net_new(4);
	uint32_t phone = net->nodes[3].origin;

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	link_ab(net, 0, 2);
	run(net, 8 * NSEC_PER_SEC);
	router_proxy(net->nodes[0].r, phone, true, net->now);
	run(net, 10 * NSEC_PER_SEC);
	router_proxy(net->nodes[2].r, phone, true, net->now);
	run(net, 14 * NSEC_PER_SEC);
	uint16_t s0 = seqno_at(net, 1, phone);
	size_t sent = net->sent;
	run(net, 74 * NSEC_PER_SEC);
	uint16_t grew = (uint16_t)(seqno_at(net, 1, phone) - s0);
	/* Hellos and IHUs every 2 s and full tables every 30 s: about 2 frames/s per node. */
	double per_s = (double)(net->sent - sent) / 60;
	print_message("two proxies: the seqno rose by %u in 60 s, %.1f frames/s in all\n", grew,
		      per_s);
	assert_true(grew <= 2);
	assert_true(per_s < 4 * 4);
	int nh = next_node(net, 1, 3);
	assert_true(nh == 0 || nh == 2);
	/* The phone leaves node 0: node 1 still reaches it, through node 2. */
	router_proxy(net->nodes[0].r, phone, false, net->now);
	run(net, 80 * NSEC_PER_SEC);
	assert_int_equal(next_node(net, 1, 3), 2);
	assert_int_equal(next_node(net, 0, 3), 2);
	net_free(net);
}

/* A member leaves the registry: its routes go at once, and it cannot come back by update. */
static void test_forget_origin(void **state)
{
	struct net *net = net_new(3);
	uint8_t buf[RT_FRAME_MAX], key[WG_KEY_LEN];
	struct rt_frame_builder b;
	struct rt_tlv t = {.type = RT_TLV_UPDATE};
	const char *why;

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	run(net, 10 * NSEC_PER_SEC);
	uint32_t gone = net->nodes[2].origin;
	assert_int_not_equal(router_next_hop(net->nodes[0].r, gone), RT_NBR_NONE);
	memcpy(key, net->origins.v[gone].key, WG_KEY_LEN);
	struct in6_addr addr = net->origins.v[gone].addr;
	/* The shared table stands for every node's registry: the member is gone for all. */
	for (int i = 0; i < 3; i++)
		router_forget_origin(net->nodes[i].r, gone, net->now);
	assert_true(rt_origins_put(&net->origins, gone));
	assert_int_equal(net->nodes[0].nh[gone], RT_NBR_NONE);
	/* A node that has not synced yet still announces it: refused. */
	rt_frame_begin(&b, buf);
	t.update.seqno = 1000;
	t.update.metric = 0;
	t.update.address = addr;
	memcpy(t.update.origin, key, WG_KEY_LEN);
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	uint64_t rejected = router_stats(net->nodes[0].r)->rejected_updates;
	assert_int_equal(
	    router_receive(net->nodes[0].r, net->nodes[0].nbr_to[1], buf, len, net->now, &why), 0);
	assert_int_equal(router_stats(net->nodes[0].r)->rejected_updates, rejected + 1);
	run(net, 45 * NSEC_PER_SEC); /* past a full table from node 1 */
	for (int i = 0; i < 2; i++)
		assert_int_equal(router_next_hop(net->nodes[i].r, gone), RT_NBR_NONE);
	net_free(net);
}

/*
 * An origin that becomes valid later (a member the registry just added):
 * the neighbours' tables are asked for again, and its route comes at once
 * instead of with the next full table, 30 s later.
 */
static void test_late_origin(void **state)
{
	struct net *net = net_new(3);
	uint8_t key[WG_KEY_LEN];

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	run(net, 10 * NSEC_PER_SEC);
	uint32_t o = net->nodes[2].origin;
	memcpy(key, net->origins.v[o].key, WG_KEY_LEN);
	for (int i = 0; i < 2; i++)
		router_forget_origin(net->nodes[i].r, o, net->now);
	net->origins.v[o].refs = 1;
	assert_true(rt_origins_put(&net->origins, o));
	run(net, 12 * NSEC_PER_SEC); /* what node 2 says of itself now is refused */
	assert_int_equal(router_next_hop(net->nodes[0].r, o), RT_NBR_NONE);
	assert_int_equal(rt_origins_add(&net->origins, key), o); /* the freed id again */
	for (int i = 0; i < 2; i++)
		router_request_tables(net->nodes[i].r, net->now);
	run(net, 14 * NSEC_PER_SEC);
	assert_int_equal(next_node(net, 1, 2), 2);
	assert_int_equal(follow(net, 0, 2), 2);
	net_free(net);
}

/* Node a starts afresh (a new instance) with tunnels to the nodes in peers[]. */
static void restart_node(struct net *net, int a, uint64_t seed, const bool peers[MAXN])
{
	struct node *x = &net->nodes[a];
	struct rt_params p;

	rt_params_default(&p);
	p.start_clock = (uint32_t)(net->now / NSEC_PER_SEC);
	router_free(x->r);
	x->r = router_new(&p, &ops, x, &net->origins, x->origin, seed, net->now);
	assert_non_null(x->r);
	for (int j = 0; j < MAXN; j++) {
		x->peer_of[j] = -1;
		x->nbr_to[j] = RT_NBR_NONE;
	}
	for (int j = 0; j < 64; j++)
		x->nh[j] = RT_NBR_NONE;
	/* Frames in flight to its former self are lost with it. */
	for (size_t i = 0; i < net->nq;)
		if (net->q[i].to == a)
			net->q[i] = net->q[--net->nq];
		else
			i++;
	for (int b = 0; b < net->n; b++) {
		if (!peers[b])
			continue;
		uint16_t id = router_add_neighbour(x->r, net->nodes[b].origin, net->now);
		x->peer_of[id] = b;
		x->nbr_to[b] = id;
	}
}

/* A node restarts (a new instance): no loop while the others forget its former self. */
static void test_restart(void **state)
{
	struct net *net = net_new(4);
	bool peers[MAXN] = {false, true, false, true};

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	link_ab(net, 2, 3);
	link_ab(net, 3, 0);
	run(net, 10 * NSEC_PER_SEC);
	restart_node(net, 0, 99, peers);
	run(net, 30 * NSEC_PER_SEC);
	assert_reaches_all(net);
	net_free(net);
}

/*
 * Links of a dense graph fail and come back, and nodes restart, at random;
 * run() checks for loops after every event.
 */
static void random_failures(uint64_t rng)
{
	struct net *net = net_new(MAXN);
	bool linked[MAXN][MAXN] = {{false}};

	for (int a = 0; a < MAXN; a++)
		for (int b = a + 1; b < MAXN; b++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			if ((rng >> 33) % 3 == 0 || b == a + 1) {
				link_ab(net, a, b);
				linked[a][b] = true;
			}
		}
	run(net, 10 * NSEC_PER_SEC);
	assert_reaches_all(net);
	for (int round = 0; round < 150; round++) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		int a = (int)((rng >> 33) % MAXN), b = (int)((rng >> 40) % MAXN);
		if (a > b) {
			int x = a;
			a = b;
			b = x;
		}
		if (round % 10 == 9) {
			bool peers[MAXN];
			for (int j = 0; j < MAXN; j++)
				peers[j] = linked[a][j] || linked[j][a];
			restart_node(net, a, rng, peers);
		} else if (a != b && linked[a][b] && b != a + 1) {
			bool up = net->nodes[a].link_up[b];
			net->nodes[a].link_up[b] = net->nodes[b].link_up[a] = !up;
		}
		run(net, net->now + (rng >> 24) % (4 * NSEC_PER_SEC));
	}
	/* The line 0-1-...-7 never failed: once quiet, everyone reaches everyone. */
	run(net, net->now + 40 * NSEC_PER_SEC);
	assert_reaches_all(net);
	net_free(net);
}

static void test_random_failures(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 30; seed++)
		random_failures(seed * 0x9e3779b97f4a7c15ULL);
}

static void test_frame_roundtrip(void **state)
{
	uint8_t buf[RT_FRAME_MAX];
	struct rt_frame_builder b;
	struct rt_tlv in[3] = {
	    {.type = RT_TLV_HELLO}, {.type = RT_TLV_IHU}, {.type = RT_TLV_SEQNO_REQ}};
	struct rt_tlv out;
	struct rt_frame_iter it;
	const char *why;

	(void)state;
	in[0].hello.seqno = 0xbeef;
	in[0].hello.interval_cs = 200;
	in[0].hello.timestamp = 0x01020304;
	in[0].hello.instance = 0xa5a5a5a5;
	in[1].ihu.rx_quality = 256;
	in[1].ihu.echo = 42;
	in[1].ihu.delay = 7;
	in[2].seqno_req.seqno = 9;
	in[2].seqno_req.hop_count = 300;
	memset(in[2].seqno_req.origin, 3, WG_KEY_LEN);
	rt_frame_begin(&b, buf);
	for (int i = 0; i < 3; i++)
		assert_true(rt_frame_add(&b, &in[i]));
	size_t len = rt_frame_end(&b);
	assert_int_equal(len, RT_FRAME_HDR_LEN + 16 + 14 + 54);
	assert_int_equal(buf[0], RT_FRAME_MAGIC);
	assert_int_not_equal(buf[0] >> 4, 4);
	assert_int_not_equal(buf[0] >> 4, 6);
	/* The tunnel pads with zeros: still the same frame. */
	memset(buf + len, 0, 12);
	assert_int_equal(rt_frame_check(buf, len + 12, &why), (int)len - RT_FRAME_HDR_LEN);
	rt_frame_iter_init(&it, buf);
	assert_true(rt_frame_next(&it, &out));
	assert_int_equal(out.hello.seqno, 0xbeef);
	assert_int_equal(out.hello.timestamp, 0x01020304);
	assert_int_equal(out.hello.instance, 0xa5a5a5a5);
	assert_true(rt_frame_next(&it, &out));
	assert_int_equal(out.ihu.rx_quality, 256);
	assert_int_equal(out.ihu.delay, 7);
	assert_true(rt_frame_next(&it, &out));
	assert_int_equal(out.type, RT_TLV_SEQNO_REQ);
	assert_int_equal(out.seqno_req.hop_count, 300);
	assert_memory_equal(out.seqno_req.origin, in[2].seqno_req.origin, WG_KEY_LEN);
	assert_false(rt_frame_next(&it, &out));
	/* A frame fills up at RT_FRAME_MAX. */
	rt_frame_begin(&b, buf);
	struct rt_tlv u = {.type = RT_TLV_UPDATE};
	int n = 0;
	while (rt_frame_add(&b, &u))
		n++;
	assert_int_equal(n, (RT_FRAME_MAX - RT_FRAME_HDR_LEN) / 60);
}

static void test_frame_rejects(void **state)
{
	const char *why;
	uint8_t f[64] = {RT_FRAME_MAGIC, 0, 0, 2, RT_TLV_ROUTE_REQ, 0};

	(void)state;
	assert_int_equal(rt_frame_check(f, 6, &why), 2);
	f[0] = 0x60; /* an IPv6 packet */
	assert_int_equal(rt_frame_check(f, 6, &why), -1);
	f[0] = RT_FRAME_MAGIC;
	f[3] = 40; /* longer than the datagram */
	assert_int_equal(rt_frame_check(f, 6, &why), -1);
	f[3] = 2;
	f[5] = 3; /* a route request must be empty */
	assert_int_equal(rt_frame_check(f, 64, &why), -1);
	f[5] = 0;
	f[3] = 4;
	f[6] = 99; /* an unknown record is skipped... */
	f[7] = 0;
	assert_int_equal(rt_frame_check(f, 8, &why), 4);
	f[7] = 5; /* ...unless it runs past the end */
	assert_int_equal(rt_frame_check(f, 8, &why), -1);
	f[3] = 1; /* half a record header */
	assert_int_equal(rt_frame_check(f, 8, &why), -1);
}

static void test_origins(void **state)
{
	struct rt_origins o;
	uint8_t seed[16] = {9}, k[WG_KEY_LEN];

	(void)state;
	assert_true(rt_origins_init(&o, seed));
	uint32_t ids[500];
	for (int i = 0; i < 500; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		ids[i] = rt_origins_add(&o, k);
		assert_int_not_equal(ids[i], RT_ORIGIN_NONE);
	}
	memset(k, 0, sizeof(k));
	assert_int_equal(rt_origins_add(&o, k), ids[0]); /* a second reference */
	assert_false(rt_origins_put(&o, ids[0]));
	assert_true(rt_origins_put(&o, ids[0]));
	assert_int_equal(rt_origins_find(&o, k), RT_ORIGIN_NONE);
	for (int i = 1; i < 500; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		assert_int_equal(rt_origins_find(&o, k), ids[i]);
		assert_int_equal(rt_origins_validate(&o, k, &o.v[ids[i]].addr), ids[i]);
		assert_int_equal(rt_origins_validate(&o, k, &o.v[ids[(i + 1) % 500]].addr),
				 RT_ORIGIN_NONE);
	}
	/* The freed id is reused. */
	memset(k, 0xee, sizeof(k));
	assert_int_equal(rt_origins_add(&o, k), ids[0]);
	rt_origins_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_roundtrip),
	    cmocka_unit_test(test_frame_rejects),
	    cmocka_unit_test(test_origins),
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_square_failover),
	    cmocka_unit_test(test_ring_starvation),
	    cmocka_unit_test(test_origin_validation),
	    cmocka_unit_test(test_malformed_refused_whole),
	    cmocka_unit_test(test_proxy),
	    cmocka_unit_test(test_two_proxies),
	    cmocka_unit_test(test_link_cost),
	    cmocka_unit_test(test_neighbour_readded),
	    cmocka_unit_test(test_forget_origin),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_late_origin),
	    cmocka_unit_test(test_random_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
