// SPDX-License-Identifier: ISC
/*
 * Link-cut trees without evert (see forest.h). access(x) makes the path
 * from x's root to x the preferred path, held in one splay tree ordered by
 * depth with x at its top: the root of x's tree is then its leftmost node.
 */
#include <stdlib.h>

#include "tests/sim/forest.h"

static struct lc_node *tree_of(struct forest *f, uint32_t tree)
{
	return f->v + (size_t)tree * (f->n + 1);
}

bool forest_init(struct forest *f, uint32_t n, uint32_t trees)
{
	f->n = n;
	f->trees = trees;
	f->v = NULL;
	if (n > FOREST_MAX_NODES)
		return false;
	/* calloc: the kernel's zero pages, touched only as trees grow. */
	f->v = calloc((size_t)trees * (n + 1), sizeof(*f->v));
	return f->v != NULL;
}

void forest_free(struct forest *f)
{
	free(f->v);
	f->v = NULL;
}

static bool is_splay_root(const struct lc_node *t, uint16_t x)
{
	uint16_t p = t[x].p;

	return !p || (t[p].l != x && t[p].r != x);
}

static void rotate(struct lc_node *t, uint16_t x)
{
	uint16_t y = t[x].p, z = t[y].p;
	bool y_root = is_splay_root(t, y);

	if (t[y].l == x) {
		t[y].l = t[x].r;
		if (t[x].r)
			t[t[x].r].p = y;
		t[x].r = y;
	} else {
		t[y].r = t[x].l;
		if (t[x].l)
			t[t[x].l].p = y;
		t[x].l = y;
	}
	t[y].p = x;
	t[x].p = z;
	if (!y_root) {
		if (t[z].l == y)
			t[z].l = x;
		else
			t[z].r = x;
	}
}

static void splay(struct lc_node *t, uint16_t x)
{
	while (!is_splay_root(t, x)) {
		uint16_t y = t[x].p;
		if (!is_splay_root(t, y)) {
			uint16_t z = t[y].p;
			rotate(t, (t[z].l == y) == (t[y].l == x) ? y : x);
		}
		rotate(t, x);
	}
}

static void access(struct lc_node *t, uint16_t x)
{
	uint16_t last = 0;

	for (uint16_t y = x; y; y = t[y].p) {
		splay(t, y);
		t[y].r = last;
		last = y;
	}
	splay(t, x);
}

static uint16_t find_root(struct lc_node *t, uint16_t x)
{
	access(t, x);
	while (t[x].l)
		x = t[x].l;
	splay(t, x); /* keeps the amortized bound */
	return x;
}

void forest_cut(struct forest *f, uint32_t tree, uint32_t u)
{
	struct lc_node *t = tree_of(f, tree);
	uint16_t x = (uint16_t)(u + 1);

	access(t, x);
	if (t[x].l) {
		t[t[x].l].p = 0;
		t[x].l = 0;
	}
}

bool forest_link(struct forest *f, uint32_t tree, uint32_t u, uint32_t v)
{
	struct lc_node *t = tree_of(f, tree);
	uint16_t x = (uint16_t)(u + 1), y = (uint16_t)(v + 1);

	if (find_root(t, y) == x)
		return false;
	/*
	 * x is the root of its tree, so once it tops its splay tree nothing is
	 * left of it; with no parent at all it already does, and the search
	 * above did not touch it (it searched another tree).
	 */
	if (t[x].p)
		access(t, x);
	t[x].p = y;
	return true;
}

uint32_t forest_root(struct forest *f, uint32_t tree, uint32_t u)
{
	return (uint32_t)find_root(tree_of(f, tree), (uint16_t)(u + 1)) - 1;
}
