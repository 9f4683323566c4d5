// SPDX-License-Identifier: ISC
/*
 * The graphs the simulator runs on, all connected: a line, a ring, a 2-D
 * grid, a random geometric graph (nodes in the unit square, a link between
 * any two closer than r, r chosen for an average degree of about 6, the
 * delay proportional to the distance, components joined by their closest
 * pairs) and a scale-free graph (Barabasi-Albert, two links per new node).
 * Links of the non-geometric graphs get delays uniform in 1-30 ms.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

static const char *const names[TOPO_COUNT] = {
    [TOPO_LINE] = "line",	    [TOPO_RING] = "ring",	    [TOPO_GRID] = "grid",
    [TOPO_GEOMETRIC] = "geometric", [TOPO_SCALEFREE] = "scalefree",
};

const char *topo_name(enum sim_topology t)
{
	return t < TOPO_COUNT ? names[t] : "?";
}

enum sim_topology topo_parse(const char *s)
{
	for (int i = 0; i < TOPO_COUNT; i++)
		if (!strcmp(s, names[i]))
			return (enum sim_topology)i;
	return TOPO_COUNT;
}

static bool add_edge(struct sim_topo *t, uint32_t a, uint32_t b, uint64_t delay)
{
	if (t->nedges == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct sim_edge *e = realloc(t->e, cap * sizeof(*e));
		if (!e)
			return false;
		t->e = e;
		t->cap = cap;
	}
	t->e[t->nedges++] = (struct sim_edge){.a = a, .b = b, .delay = delay};
	return true;
}

static uint64_t any_delay(struct sim_rng *rng)
{
	return sim_rng_range(rng, 1 * SIM_MSEC, 30 * SIM_MSEC);
}

static bool build_line(struct sim_topo *t, struct sim_rng *rng, bool ring)
{
	for (uint32_t i = 0; i + 1 < t->n; i++)
		if (!add_edge(t, i, i + 1, any_delay(rng)))
			return false;
	return !ring || t->n < 3 || add_edge(t, t->n - 1, 0, any_delay(rng));
}

static bool build_grid(struct sim_topo *t, struct sim_rng *rng)
{
	uint32_t cols = (uint32_t)ceil(sqrt((double)t->n));

	for (uint32_t i = 0; i < t->n; i++) {
		if ((i + 1) % cols && i + 1 < t->n && !add_edge(t, i, i + 1, any_delay(rng)))
			return false;
		if (i + cols < t->n && !add_edge(t, i, i + cols, any_delay(rng)))
			return false;
	}
	return true;
}

static uint32_t uf_find(uint32_t *up, uint32_t x)
{
	while (up[x] != x)
		x = up[x] = up[up[x]];
	return x;
}

struct geo {
	double *x, *y, r;
};

static uint64_t geo_delay(const struct geo *g, double dist)
{
	double ms = 1 + 39 * dist / g->r;

	return (uint64_t)((ms < 100 ? ms : 100) * (double)SIM_MSEC);
}

static double geo_dist(const struct geo *g, uint32_t i, uint32_t j)
{
	return hypot(g->x[i] - g->x[j], g->y[i] - g->y[j]);
}

/* Links all pairs closer than r, finding them through a grid of r-sized cells. */
static bool geo_link_close(struct sim_topo *t, struct geo *g, uint32_t *up)
{
	uint32_t side = (uint32_t)(1 / g->r) + 1, n = t->n;
	uint32_t *head = malloc((size_t)side * side * sizeof(*head));
	uint32_t *next = malloc((size_t)n * sizeof(*next));
	bool ok = head && next;

	for (uint32_t c = 0; ok && c < side * side; c++)
		head[c] = UINT32_MAX;
	for (uint32_t i = 0; ok && i < n; i++) {
		uint32_t c = (uint32_t)(g->y[i] / g->r) * side + (uint32_t)(g->x[i] / g->r);
		next[i] = head[c];
		head[c] = i;
	}
	for (uint32_t i = 0; ok && i < n; i++) {
		int cx = (int)(g->x[i] / g->r), cy = (int)(g->y[i] / g->r);
		for (int dy = -1; ok && dy <= 1; dy++)
			for (int dx = -1; ok && dx <= 1; dx++) {
				int x = cx + dx, y = cy + dy;
				if (x < 0 || y < 0 || x >= (int)side || y >= (int)side)
					continue;
				for (uint32_t j = head[y * side + x]; ok && j != UINT32_MAX;
				     j = next[j]) {
					double d = geo_dist(g, i, j);
					if (j <= i || d > g->r)
						continue;
					ok = add_edge(t, i, j, geo_delay(g, d));
					up[uf_find(up, i)] = uf_find(up, j);
				}
			}
	}
	free(head);
	free(next);
	return ok;
}

static bool build_geometric(struct sim_topo *t, struct sim_rng *rng)
{
	uint32_t n = t->n;
	struct geo g = {.x = malloc(n * sizeof(double)), .y = malloc(n * sizeof(double))};
	uint32_t *up = malloc(n * sizeof(*up));
	bool ok = g.x && g.y && up;

	/* Expected degree n * pi * r^2 away from the edges of the square. */
	g.r = n > 1 ? sqrt(6.0 / (M_PI * (n - 1))) : 1;
	if (g.r > 1)
		g.r = 1;
	for (uint32_t i = 0; ok && i < n; i++) {
		g.x[i] = sim_rng_unit(rng);
		g.y[i] = sim_rng_unit(rng);
		up[i] = i;
	}
	ok = ok && geo_link_close(t, &g, up);
	/* Joins each stray component to the closest node outside it. */
	uint32_t *root = malloc(n * sizeof(*root)), *members = malloc(n * sizeof(*members));
	ok = ok && root && members;
	for (uint32_t i = 0; ok && i < n; i++) {
		if (uf_find(up, i) == uf_find(up, 0))
			continue;
		uint32_t nm = 0, best_a = 0, best_b = 0, ci = uf_find(up, i);
		double best = INFINITY;
		for (uint32_t a = 0; a < n; a++)
			if ((root[a] = uf_find(up, a)) == ci)
				members[nm++] = a;
		for (uint32_t k = 0; k < nm; k++)
			for (uint32_t b = 0; b < n; b++) {
				double d;
				if (root[b] != ci && (d = geo_dist(&g, members[k], b)) < best) {
					best = d;
					best_a = members[k];
					best_b = b;
				}
			}
		ok = add_edge(t, best_a, best_b, geo_delay(&g, best));
		up[ci] = root[best_b];
		i = 0; /* again from the start: the merged component may still be apart */
	}
	free(root);
	free(members);
	free(g.x);
	free(g.y);
	free(up);
	return ok;
}

/* Barabasi-Albert with m = 2: a triangle, then each node links to two others by degree. */
static bool build_scalefree(struct sim_topo *t, struct sim_rng *rng)
{
	uint32_t n = t->n, *ends = malloc(4 * (size_t)n * sizeof(*ends));
	size_t nends = 0;
	bool ok = ends != NULL;

	for (uint32_t i = 1; ok && i < n && i < 3; i++)
		for (uint32_t j = 0; ok && j < i; j++) {
			ok = add_edge(t, j, i, any_delay(rng));
			ends[nends++] = i;
			ends[nends++] = j;
		}
	for (uint32_t i = 3; ok && i < n; i++) {
		uint32_t a = ends[sim_rng_below(rng, nends)], b;
		do
			b = ends[sim_rng_below(rng, nends)];
		while (b == a);
		ok = add_edge(t, a, i, any_delay(rng)) && add_edge(t, b, i, any_delay(rng));
		ends[nends++] = a;
		ends[nends++] = b;
		ends[nends++] = i;
		ends[nends++] = i;
	}
	free(ends);
	return ok;
}

bool topo_build(struct sim_topo *t, enum sim_topology kind, uint32_t n, uint64_t seed)
{
	struct sim_rng rng;
	bool ok = false;

	memset(t, 0, sizeof(*t));
	t->n = n;
	sim_rng_seed(&rng, seed);
	switch (kind) {
	case TOPO_LINE:
	case TOPO_RING:
		ok = build_line(t, &rng, kind == TOPO_RING);
		break;
	case TOPO_GRID:
		ok = build_grid(t, &rng);
		break;
	case TOPO_GEOMETRIC:
		ok = build_geometric(t, &rng);
		break;
	case TOPO_SCALEFREE:
		ok = build_scalefree(t, &rng);
		break;
	case TOPO_COUNT:
		break;
	}
	if (!ok)
		topo_free(t);
	return ok;
}

void topo_free(struct sim_topo *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}
