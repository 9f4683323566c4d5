// SPDX-License-Identifier: ISC
/*
 * The router on small networks driven by hand (router_harness.h): routes
 * appear, follow the best path, move when a link fails or its cost
 * changes, never loop, and survive restarts and random failures;
 * starvation ends with a seqno request.
 */
#include "tests/unit/pure/router_harness.h"

/* A silent failure: frames stop both ways, the routers find out by themselves. */
static void cut(struct net *net, int a, int b)
{
	net->nodes[a].link_up[b] = net->nodes[b].link_up[a] = false;
}

/* The link a-b's one-way delay and loss, the same both ways. */
static void shape(struct net *net, int a, int b, uint64_t delay, unsigned loss)
{
	net->nodes[a].delay[b] = net->nodes[b].delay[a] = delay;
	net->nodes[a].loss[b] = net->nodes[b].loss[a] = loss;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_square_failover),
	    cmocka_unit_test(test_ring_starvation),
	    cmocka_unit_test(test_link_cost),
	    cmocka_unit_test(test_neighbour_readded),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_random_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
