// SPDX-License-Identifier: ISC
/*
 * The loop check after each event. Before it the next hops had no loop, so
 * any loop after it runs through a pair (u, d) the event changed. Two
 * exact ways to find it, chosen per run by cost:
 *
 * Walks. From each changed u, follow the next hops towards d as they are
 * after the event, stamping each node with the walk's number; reaching d
 * or a node without a route ends it, reaching a stamped node is a loop.
 * O(path length) per change, in cache-friendly arrays: best when paths are
 * short (grids, geometric and scale-free graphs).
 *
 * Forest. Keep each destination's next hops as link-cut trees (forest.h).
 * Cut every changed pair out first, leaving a subgraph of the state before
 * the event; then put the new edges in one by one, each checked. A forest
 * only ever holds edges of the state after the event, so no loop is found
 * that is not there; and a loop that is there is found when its last edge
 * goes in. O(log n) amortized per change however long the paths (lines
 * and rings of thousands of nodes).
 *
 * Either way the answer is exactly "is there a loop after this event",
 * whatever order the router reported its changes in.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

/* Past this average path length (in hops) walks cost more than the forest. */
#define WALK_MAX_MEAN_HOPS 48

/* The mean hop distance from a few nodes to all others, over every link. */
static double mean_hops(struct sim *s)
{
	uint32_t *dist = malloc(s->n * sizeof(*dist)), *queue = malloc(s->n * sizeof(*queue));
	uint64_t sum = 0, pairs = 0;

	if (!dist || !queue) {
		free(dist);
		free(queue);
		return 0;
	}
	for (uint32_t k = 0; k < 8 && k < s->n; k++) {
		uint32_t src = (uint32_t)((uint64_t)k * s->n / 8), head = 0, tail = 0;
		for (uint32_t u = 0; u < s->n; u++)
			dist[u] = UINT32_MAX;
		dist[src] = 0;
		queue[tail++] = src;
		while (head < tail) {
			uint32_t x = queue[head++];
			sum += dist[x];
			pairs++;
			for (uint32_t i = s->adj_off[x]; i < s->adj_off[x + 1]; i++)
				if (dist[s->adj_peer[i]] == UINT32_MAX) {
					dist[s->adj_peer[i]] = dist[x] + 1;
					queue[tail++] = s->adj_peer[i];
				}
		}
	}
	free(dist);
	free(queue);
	return pairs ? (double)sum / (double)pairs : 0;
}

bool sim_loops_init(struct sim *s)
{
	s->checker = s->opt->checker;
	if (s->checker == CHECK_AUTO)
		s->checker = mean_hops(s) > WALK_MAX_MEAN_HOPS ? CHECK_FOREST : CHECK_WALK;
	if (s->checker == CHECK_FOREST) {
		if (!forest_init(&s->forest, s->n, s->n))
			return false;
		sim_huge_pages(s->forest.v, (size_t)s->n * (s->n + 1) * sizeof(*s->forest.v));
		return true;
	}
	s->stamp = calloc(s->n, sizeof(*s->stamp));
	return s->stamp != NULL;
}

void sim_loops_free(struct sim *s)
{
	forest_free(&s->forest);
	free(s->stamp);
	s->stamp = NULL;
}

/* The loop towards d through x, as text, and the run failed. */
static void report_loop(struct sim *s, uint32_t d, uint32_t changed, uint32_t x)
{
	const uint16_t *col = &s->nh[sim_pair(s, 0, d)];
	char cycle[600];
	size_t len = 0;
	uint32_t y = x, steps = 0;

	cycle[0] = 0;
	do {
		if (len < sizeof(cycle) - 40)
			len += (size_t)snprintf(cycle + len, sizeof(cycle) - len, "%u -> ", y);
		else if (len < sizeof(cycle) - 8)
			len += (size_t)snprintf(cycle + len, sizeof(cycle) - len, "... -> ");
		if (col[y] == NH_NONE || col[y] == NH_LOCAL)
			break; /* cannot happen: y is on a loop */
		y = sim_peer(s, y, (uint16_t)(col[y] - 1));
	} while (y != x && ++steps <= s->n);
	snprintf(cycle + len, sizeof(cycle) - len, "%u", y);
	sim_fail(s,
		 "LOOP: forwarding loop towards destination %u after node %u changed its route: %s",
		 d, changed, cycle);
}

static uint32_t next_walk(struct sim *s)
{
	if (++s->walk == 0) {
		memset(s->stamp, 0, s->n * sizeof(*s->stamp));
		s->walk = 1;
	}
	return s->walk;
}

static void check_walks(struct sim *s)
{
	for (size_t i = 0; i < s->ndirty && !s->failed; i++) {
		uint32_t u = s->dirty[i].u, d = s->dirty[i].d, id = next_walk(s);
		const uint16_t *col = &s->nh[sim_pair(s, 0, d)];
		for (uint32_t x = u; x != d;) {
			uint16_t h = col[x];
			if (h == NH_NONE || h == NH_LOCAL)
				break;
			if (s->stamp[x] == id) {
				report_loop(s, d, u, x);
				break;
			}
			s->stamp[x] = id;
			x = sim_peer(s, x, (uint16_t)(h - 1));
		}
	}
}

static void check_forest(struct sim *s)
{
	/* Only pairs that had an edge at the last check have one to cut. */
	for (size_t i = 0; i < s->ndirty; i++) {
		uint16_t old = s->dirty[i].old;
		if (old != NH_NONE && old != NH_LOCAL)
			forest_cut(&s->forest, s->dirty[i].d, s->dirty[i].u);
	}
	for (size_t i = 0; i < s->ndirty && !s->failed; i++) {
		uint32_t u = s->dirty[i].u, d = s->dirty[i].d;
		uint16_t h = s->nh[sim_pair(s, u, d)];
		if (h != NH_NONE && h != NH_LOCAL &&
		    !forest_link(&s->forest, d, u, sim_peer(s, u, (uint16_t)(h - 1))))
			report_loop(s, d, u, u);
	}
}

void sim_check_loops(struct sim *s)
{
	if (s->checker == CHECK_FOREST)
		check_forest(s);
	else
		check_walks(s);
	for (size_t i = 0; i < s->ndirty; i++) {
		size_t bit = sim_pair(s, s->dirty[i].u, s->dirty[i].d);
		s->dirty_bits[bit / 64] &= ~(1ULL << (bit % 64));
	}
	s->ndirty = 0;
}
