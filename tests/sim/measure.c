// SPDX-License-Identifier: ISC
/*
 * Path stretch: for each sampled destination d and every node u that can
 * reach it, the cost of u's installed path to d over the cost of the
 * cheapest path (Dijkstra, with each link's cost as the router at the
 * sending end sees it: router_neighbour_info()), and the same in hops
 * against breadth-first search. The installed paths of one destination are
 * a tree, so each node's path cost is found once, from its next hop's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

#define INF UINT64_MAX

void sim_link_costs(struct sim *s, uint32_t *costs)
{
	for (uint32_t i = 0; i < s->nlinks; i++)
		for (int e = 0; e < 2; e++) {
			const struct sim_link *l = &s->links[i];
			struct rt_nbr_info info;
			costs[2 * i + e] = RT_METRIC_INF;
			if (l->working &&
			    router_neighbour_info(s->nodes[l->end[e]].r, l->nbr[e], &info))
				costs[2 * i + e] = info.cost;
		}
}

struct qent {
	uint64_t dist;
	uint32_t node;
};

struct pq {
	struct qent *v;
	size_t n;
};

static void pq_push(struct pq *q, uint64_t dist, uint32_t node)
{
	size_t i = q->n++;

	while (i > 0 && q->v[(i - 1) / 2].dist > dist) {
		q->v[i] = q->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->v[i] = (struct qent){dist, node};
}

static struct qent pq_pop(struct pq *q)
{
	struct qent top = q->v[0], last = q->v[--q->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && q->v[c + 1].dist < q->v[c].dist)
			c++;
		if (q->v[c].dist >= last.dist)
			break;
		q->v[i] = q->v[c];
		i = c;
	}
	if (q->n)
		q->v[i] = last;
	return top;
}

struct work {
	uint32_t *costs;
	uint64_t *dist, *hops, *path_cost, *path_hops;
	uint32_t *stack;
	uint8_t *state; /* of the installed path: 0 unknown, 1 known, 2 none, 3 being walked */
	struct pq q;
};

/* Cheapest cost from every node to d: relaxes u -> v at the cost u's end sees. */
static void shortest(struct sim *s, struct work *w, uint32_t d)
{
	for (uint32_t u = 0; u < s->n; u++)
		w->dist[u] = w->hops[u] = INF;
	w->dist[d] = 0;
	w->q.n = 0;
	pq_push(&w->q, 0, d);
	while (w->q.n) {
		struct qent e = pq_pop(&w->q);
		if (e.dist != w->dist[e.node])
			continue;
		const struct sim_node *v = &s->nodes[e.node];
		for (uint16_t p = 0; p < v->nports; p++) {
			const struct sim_link *l = &s->links[v->links[p]];
			uint32_t u = sim_peer(s, e.node, p);
			uint32_t c = w->costs[2 * v->links[p] + sim_end_of(l, u)];
			if (c != RT_METRIC_INF && e.dist + c < w->dist[u]) {
				w->dist[u] = e.dist + c;
				pq_push(&w->q, w->dist[u], u);
			}
		}
	}
	uint32_t head = 0, tail = 0;
	w->hops[d] = 0;
	w->stack[tail++] = d;
	while (head < tail) {
		uint32_t v = w->stack[head++];
		for (uint16_t p = 0; p < s->nodes[v].nports; p++) {
			uint32_t u = sim_peer(s, v, p);
			if (s->links[s->nodes[v].links[p]].working && w->hops[u] == INF) {
				w->hops[u] = w->hops[v] + 1;
				w->stack[tail++] = u;
			}
		}
	}
}

/* The cost and length of u's installed path to d, through those already known. */
static void installed(struct sim *s, struct work *w, uint32_t d, uint32_t u)
{
	uint32_t depth = 0, x = u;

	while (x != d && !w->state[x]) {
		uint16_t h = s->nh[sim_pair(s, x, d)];
		w->state[x] = 3;
		w->stack[depth++] = x;
		if (h == NH_NONE || h == NH_LOCAL) {
			x = UINT32_MAX;
			break;
		}
		x = sim_peer(s, x, (uint16_t)(h - 1));
	}
	bool ok = x == d || (x != UINT32_MAX && w->state[x] == 1);
	while (depth--) {
		uint32_t y = w->stack[depth];
		if (ok) {
			uint16_t port = (uint16_t)(s->nh[sim_pair(s, y, d)] - 1);
			uint32_t id = s->nodes[y].links[port], next = sim_peer(s, y, port);
			uint32_t c = w->costs[2 * id + sim_end_of(&s->links[id], y)];
			ok = c != RT_METRIC_INF;
			if (ok) {
				w->path_cost[y] = c + (next == d ? 0 : w->path_cost[next]);
				w->path_hops[y] = 1 + (next == d ? 0 : w->path_hops[next]);
			}
		}
		w->state[y] = ok ? 1 : 2;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarize(double *v, uint64_t n, struct sim_dist *out)
{
	double sum = 0;
	uint64_t one = 0;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	for (uint64_t i = 0; i < n; i++) {
		sum += v[i];
		one += v[i] <= 1 + 1e-12;
	}
	out->mean = sum / (double)n;
	out->p99 = v[(uint64_t)ceil(0.99 * (double)n) - 1];
	out->max = v[n - 1];
	out->optimal = (double)one / (double)n;
}

bool sim_measure_stretch(struct sim *s, uint32_t samples, struct sim_rng *rng,
			 struct sim_stretch *out)
{
	uint32_t n = s->n, *pick = malloc(n * sizeof(*pick));
	struct work w = {
	    .costs = malloc(2 * (size_t)s->nlinks * sizeof(uint32_t) + 1),
	    .dist = malloc(n * sizeof(uint64_t)),
	    .hops = malloc(n * sizeof(uint64_t)),
	    .path_cost = malloc(n * sizeof(uint64_t)),
	    .path_hops = malloc(n * sizeof(uint64_t)),
	    .stack = malloc(n * sizeof(uint32_t)),
	    .state = malloc(n),
	    .q = {.v = malloc((2 * (size_t)s->nlinks + 1) * sizeof(struct qent))},
	};
	if (samples > n)
		samples = n;
	size_t max_pairs = (size_t)samples * n + 1;
	double *ms = malloc(max_pairs * sizeof(double)), *hs = malloc(max_pairs * sizeof(double));
	bool ok = pick && w.costs && w.dist && w.hops && w.path_cost && w.path_hops && w.stack &&
		  w.state && w.q.v && ms && hs;

	memset(out, 0, sizeof(*out));
	if (ok) {
		sim_link_costs(s, w.costs);
		for (uint32_t i = 0; i < n; i++)
			pick[i] = i;
		for (uint32_t i = 0; i < samples; i++) {
			uint32_t j = i + (uint32_t)sim_rng_below(rng, n - i), t = pick[i];
			pick[i] = pick[j];
			pick[j] = t;
		}
	}
	for (uint32_t k = 0; ok && k < samples; k++) {
		uint32_t d = pick[k];
		shortest(s, &w, d);
		memset(w.state, 0, n);
		for (uint32_t u = 0; u < n; u++) {
			if (u == d || w.dist[u] == INF || w.hops[u] == INF)
				continue;
			installed(s, &w, d, u);
			if (w.state[u] != 1) {
				out->unreached++;
				continue;
			}
			ms[out->pairs] = (double)w.path_cost[u] / (double)w.dist[u];
			hs[out->pairs++] = (double)w.path_hops[u] / (double)w.hops[u];
		}
	}
	if (ok) {
		summarize(ms, out->pairs, &out->metric);
		summarize(hs, out->pairs, &out->hops);
	}
	free(pick);
	free(w.costs);
	free(w.dist);
	free(w.hops);
	free(w.path_cost);
	free(w.path_hops);
	free(w.stack);
	free(w.state);
	free(w.q.v);
	free(ms);
	free(hs);
	return ok;
}
