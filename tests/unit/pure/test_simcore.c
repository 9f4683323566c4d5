// SPDX-License-Identifier: ISC
/*
 * The simulator's own pieces (tests/sim): the event heap's order, the
 * link-cut forest against a plain walk over random edge changes, and both
 * loop checks: their "after the event" semantics over a ring with no
 * routers, and their verdicts against a brute-force search on a grid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sim/sim.h"

static void test_heap_order(void **state)
{
	struct sim_heap h;
	struct sim_rng rng;
	struct sim_event ev, prev = {0};

	(void)state;
	heap_init(&h);
	sim_rng_seed(&rng, 7);
	for (uint32_t i = 0; i < 5000; i++)
		assert_true(
		    heap_push(&h, (struct sim_event){.at = sim_rng_below(&rng, 100), .a = i}));
	assert_int_equal(h.n, 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		assert_true(heap_pop(&h, &ev));
		if (i) {
			/* By time, then in the order pushed (a and seq both count pushes). */
			assert_true(ev.at > prev.at || (ev.at == prev.at && ev.a > prev.a));
			assert_true(ev.at > prev.at || ev.seq > prev.seq);
		}
		prev = ev;
	}
	assert_false(heap_pop(&h, &ev));
	assert_int_equal(heap_next_at(&h), UINT64_MAX);
	heap_free(&h);
}

#define FN 40

/* The end of u's path in a graph of at most one edge per node (next[u] = FN: none). */
static uint32_t walk_root(const uint32_t *next, uint32_t u)
{
	for (uint32_t steps = 0; next[u] != FN; steps++) {
		assert_true(steps <= FN);
		u = next[u];
	}
	return u;
}

static void test_forest_random(void **state)
{
	struct forest f;
	struct sim_rng rng;
	uint32_t next[FN];
	unsigned cycles = 0;

	(void)state;
	assert_true(forest_init(&f, FN, 2));
	sim_rng_seed(&rng, 11);
	for (uint32_t i = 0; i < FN; i++)
		next[i] = FN;
	for (int step = 0; step < 200000; step++) {
		uint32_t tree = step & 1, u = (uint32_t)sim_rng_below(&rng, FN);
		uint32_t v = (uint32_t)sim_rng_below(&rng, FN + 8); /* >= FN: no route */
		if (tree) { /* tree 1 stays empty: trees do not share nodes */
			assert_int_equal(forest_root(&f, 1, u), u);
			continue;
		}
		forest_cut(&f, 0, u);
		next[u] = FN;
		if (v >= FN)
			continue;
		bool closes = walk_root(next, v) == u;
		assert_int_equal(forest_link(&f, 0, u, v), !closes);
		if (closes)
			cycles++;
		else
			next[u] = v;
		uint32_t w = (uint32_t)sim_rng_below(&rng, FN);
		assert_int_equal(forest_root(&f, 0, w), walk_root(next, w));
	}
	assert_true(cycles > 1000); /* the test did exercise the cycle case */
	forest_free(&f);
}

/* A network of n nodes with no routers, checking loops one way. */
static struct sim *new_sim(enum sim_topology topo, uint32_t n, enum sim_checker checker)
{
	struct sim_opts *o = calloc(1, sizeof(*o));
	struct sim *s = calloc(1, sizeof(*s));
	struct sim_topo t;

	assert_non_null(o);
	assert_non_null(s);
	assert_true(topo_build(&t, topo, n, 1));
	o->nodes = n;
	o->topology = topo;
	o->checker = checker;
	bool ok = sim_init(s, o, &t);
	topo_free(&t);
	assert_true(ok);
	assert_int_equal(s->checker, checker);
	return s;
}

static void free_sim(struct sim *s)
{
	const struct sim_opts *o = s->opt;

	sim_destroy(s);
	free(s);
	free((void *)o);
}

static int ring_forest(void **state)
{
	*state = new_sim(TOPO_RING, 6, CHECK_FOREST);
	return 0;
}

static int ring_walk(void **state)
{
	*state = new_sim(TOPO_RING, 6, CHECK_WALK);
	return 0;
}

static int ring_teardown(void **state)
{
	free_sim(*state);
	return 0;
}

/* Points u's route towards d at its neighbour v. */
static void route(struct sim *s, uint32_t u, uint32_t d, uint32_t v)
{
	for (uint16_t p = 0; p < s->nodes[u].nports; p++)
		if (sim_peer(s, u, p) == v) {
			sim_set_route(s, u, d, (uint16_t)(p + 1));
			return;
		}
	fail_msg("%u and %u are not neighbours", u, v);
}

static void test_loop_after_event(void **state)
{
	struct sim *s = *state;

	/* Towards 0: 1 -> 0, 2 -> 1, 3 -> 2, 4 -> 5, 5 -> 0. */
	route(s, 1, 0, 0);
	route(s, 2, 0, 1);
	route(s, 3, 0, 2);
	route(s, 4, 0, 5);
	route(s, 5, 0, 0);
	sim_after_event(s, false);
	assert_false(s->failed);
	/*
	 * One event turns 2 towards 3 and 3 towards 4. Half done, 2 <-> 3 would
	 * loop; done, it does not: no loop may be reported, in either order.
	 */
	route(s, 2, 0, 3);
	route(s, 3, 0, 4);
	sim_after_event(s, false);
	assert_false(s->failed);
	route(s, 3, 0, 2);
	route(s, 2, 0, 1);
	sim_after_event(s, false);
	assert_false(s->failed);
	/* A route towards 0 from 0 itself is not an edge: the packet has arrived. */
	route(s, 0, 0, 1);
	sim_after_event(s, false);
	assert_false(s->failed);
	/* 1 -> 2 -> 1 closes a loop: found, and named. */
	route(s, 1, 0, 2);
	sim_after_event(s, false);
	assert_true(s->failed);
	assert_non_null(strstr(s->error, "LOOP"));
	assert_non_null(strstr(s->error, "destination 0"));
}

static void test_loop_of_two_changes(void **state)
{
	struct sim *s = *state;

	/* Towards 3: 4 -> 5 -> 0 -> 1 -> 2 -> 3, and 3's own route, which is no edge. */
	for (uint32_t u = 4; u != 3; u = (u + 1) % 6)
		route(s, u, 3, (u + 1) % 6);
	sim_set_route(s, 3, 3, NH_LOCAL);
	sim_after_event(s, false);
	assert_false(s->failed);
	if (s->checker == CHECK_FOREST)
		assert_int_equal(forest_root(&s->forest, 3, 4), 3);
	/* One event turns both 0 and 1 towards each other: the loop has two new edges. */
	route(s, 1, 3, 0);
	route(s, 0, 3, 1);
	sim_after_event(s, false);
	assert_true(s->failed);
	assert_true(strstr(s->error, "0 -> 1 -> 0") || strstr(s->error, "1 -> 0 -> 1"));
}

#define GN 16 /* a 4 x 4 grid */

/* Whether the next hops in h (by sim_pair) hold a loop, by walking from every node. */
static bool brute_force_loop(const struct sim *s, const uint16_t *h)
{
	for (uint32_t d = 0; d < GN; d++)
		for (uint32_t u = 0; u < GN; u++) {
			uint32_t x = u, steps = 0;
			while (x != d && h[sim_pair(s, x, d)] != NH_NONE && steps++ <= GN)
				x = sim_peer(s, x, (uint16_t)(h[sim_pair(s, x, d)] - 1));
			if (steps > GN)
				return true;
		}
	return false;
}

/* Sets every route of h in one event. */
static void replay(struct sim *s, const uint16_t *h)
{
	for (uint32_t d = 0; d < GN; d++)
		for (uint32_t u = 0; u < GN; u++)
			if (u != d)
				sim_set_route(s, u, d, h[sim_pair(s, u, d)]);
	sim_after_event(s, false);
}

/*
 * Events of one to four random route changes. Whenever the brute force
 * says the event leaves a loop, the check must have failed the run, which
 * then starts over from the state before; otherwise it must not have.
 */
static void cross_check(enum sim_checker checker)
{
	struct sim *s = new_sim(TOPO_GRID, GN, checker);
	struct sim_rng rng;
	uint16_t h[GN * GN] = {0}, next[GN * GN];
	unsigned loops = 0;

	sim_rng_seed(&rng, 3);
	for (int event = 0; event < 20000; event++) {
		memcpy(next, h, sizeof(h));
		for (uint64_t k = sim_rng_range(&rng, 1, 4); k; k--) {
			uint32_t u = (uint32_t)sim_rng_below(&rng, GN);
			uint32_t d = (uint32_t)sim_rng_below(&rng, GN);
			uint64_t p = sim_rng_below(&rng, s->nodes[u].nports + 2u);
			if (u != d)
				next[sim_pair(s, u, d)] =
				    p >= s->nodes[u].nports ? NH_NONE : (uint16_t)(p + 1);
		}
		for (uint32_t d = 0; d < GN; d++)
			for (uint32_t u = 0; u < GN; u++)
				if (u != d)
					sim_set_route(s, u, d, next[sim_pair(s, u, d)]);
		sim_after_event(s, false);
		bool loop = brute_force_loop(s, next);
		assert_int_equal(s->failed, loop);
		if (!loop) {
			memcpy(h, next, sizeof(h));
			continue;
		}
		loops++;
		free_sim(s);
		s = new_sim(TOPO_GRID, GN, checker);
		replay(s, h);
		assert_false(s->failed);
	}
	assert_true(loops > 100);
	free_sim(s);
}

static void test_cross_check_forest(void **state)
{
	(void)state;
	cross_check(CHECK_FOREST);
}

static void test_cross_check_walk(void **state)
{
	(void)state;
	cross_check(CHECK_WALK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heap_order),
	    cmocka_unit_test(test_forest_random),
	    {"test_loop_after_event_forest", test_loop_after_event, ring_forest, ring_teardown,
	     NULL},
	    {"test_loop_after_event_walk", test_loop_after_event, ring_walk, ring_teardown, NULL},
	    {"test_loop_of_two_changes_forest", test_loop_of_two_changes, ring_forest,
	     ring_teardown, NULL},
	    {"test_loop_of_two_changes_walk", test_loop_of_two_changes, ring_walk, ring_teardown,
	     NULL},
	    cmocka_unit_test(test_cross_check_forest),
	    cmocka_unit_test(test_cross_check_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
