/* SPDX-License-Identifier: ISC */
/*
 * The loop checker. For one destination the installed next hops form a
 * graph in which every node has at most one outgoing edge; it has no
 * forwarding loop exactly when it is a forest, rooted at the destination
 * and at the nodes without a route. One such forest per destination is
 * kept as link-cut trees (Sleator and Tarjan; rooted, so without evert):
 * replacing u's edge costs O(log n) amortized, and a new edge u -> v
 * closes a cycle exactly when, u's old edge cut, u is the root of v's tree.
 *
 * Nodes are 0 .. n-1 (n <= FOREST_MAX_NODES); the arrays index them from 1
 * so that 0 is nil and a fresh, zeroed forest is all roots.
 */
#ifndef ALAMESH_SIM_FOREST_H
#define ALAMESH_SIM_FOREST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FOREST_MAX_NODES 0xfff0u

/* p is the splay-tree parent, or the path-parent when x is not its child. */
struct lc_node {
	uint16_t p, l, r;
};

struct forest {
	uint32_t n, trees;
	struct lc_node *v; /* trees * (n + 1) */
};

/* False if out of memory or n is too large. */
bool forest_init(struct forest *f, uint32_t n, uint32_t trees);
void forest_free(struct forest *f);

/* Removes u's outgoing edge in tree, if it has one. */
void forest_cut(struct forest *f, uint32_t tree, uint32_t u);
/*
 * Adds the edge u -> v; u must have no outgoing edge. Returns false, and
 * adds nothing, if the edge would close a cycle (v's path leads to u).
 */
bool forest_link(struct forest *f, uint32_t tree, uint32_t u, uint32_t v);
/* The end of u's path: the node reached by following edges until there is none. */
uint32_t forest_root(struct forest *f, uint32_t tree, uint32_t u);

#endif
