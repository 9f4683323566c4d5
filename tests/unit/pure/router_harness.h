// SPDX-License-Identifier: ISC
/*
 * The harness of test_router*.c: the router on small networks driven by
 * hand. A few nodes, links with a fixed delay, frames queued between them
 * in order; run() checks for loops after every event. Included by each
 * test file, once; every function is static.
 */
#ifndef ALAMESH_UNIT_ROUTER_HARNESS_H
#define ALAMESH_UNIT_ROUTER_HARNESS_H

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

static int next_node(struct net *net, int a, int d)
{
	return net->nodes[a].peer_of[router_next_hop(net->nodes[a].r, net->nodes[d].origin)];
}

#endif
