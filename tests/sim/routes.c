// SPDX-License-Identifier: ISC
/*
 * The installed next hops, as the routers report them through ops->route,
 * and the counters that say whether the network has converged. The pairs
 * each event changes are handed to the loop check (loops.c).
 *
 * Convergence. Each pair (u, d), u != d, is in the wrong if u has no route
 * though d is reachable (missing), if u's route uses a link that does not
 * work (broken), if u has a route though d is unreachable (stale), or if u
 * claims d's address as its own (bogus). With no loop and none of these,
 * every path ends at its destination: it only crosses working links, so it
 * stays in d's component, where every node has a route. Reachability is by
 * component over the working links, recomputed only when one changed and
 * someone asks; the counters are recounted in full only if the components
 * did change (a partition or a merge).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

enum { W_MISSING = 1, W_BROKEN = 2, W_STALE = 4, W_BOGUS = 8 };

bool sim_routes_init(struct sim *s)
{
	size_t pairs = (size_t)s->n * s->n;

	s->nh = calloc(pairs, sizeof(*s->nh));
	s->dirty_bits = calloc((pairs + 63) / 64, sizeof(*s->dirty_bits));
	s->comp = malloc(s->n * sizeof(*s->comp));
	s->comp_next = malloc(s->n * sizeof(*s->comp_next));
	s->queue = malloc(s->n * sizeof(*s->queue));
	sim_huge_pages(s->nh, pairs * sizeof(*s->nh));
	sim_huge_pages(s->dirty_bits, (pairs + 63) / 64 * sizeof(*s->dirty_bits));
	if (!s->nh || !s->dirty_bits || !s->comp || !s->comp_next || !s->queue ||
	    !sim_loops_init(s))
		return false;
	for (uint32_t u = 0; u < s->n; u++)
		s->comp[u] = u; /* nothing works yet: every node alone */
	return true;
}

void sim_routes_free(struct sim *s)
{
	free(s->nh);
	free(s->dirty_bits);
	free(s->dirty);
	free(s->comp);
	free(s->comp_next);
	free(s->queue);
	sim_loops_free(s);
}

static unsigned wrongs(const struct sim *s, uint32_t u, uint32_t d, uint16_t h)
{
	if (u == d)
		return 0;
	if (h == NH_LOCAL)
		return W_BOGUS;
	bool reach = s->comp[u] == s->comp[d];
	if (h == NH_NONE)
		return reach ? W_MISSING : 0;
	unsigned w = reach ? 0 : W_STALE;
	if (!s->links[s->nodes[u].links[h - 1]].working)
		w |= W_BROKEN;
	return w;
}

static void count(struct sim *s, unsigned w, int64_t by)
{
	if (w & W_MISSING)
		s->missing += (uint64_t)by;
	if (w & W_BROKEN)
		s->broken += (uint64_t)by;
	if (w & W_STALE)
		s->stale += (uint64_t)by;
	if (w & W_BOGUS)
		s->bogus += (uint64_t)by;
}

/* The first change of (u, d) in this event: old is what the loop check last saw. */
static void mark_dirty(struct sim *s, uint32_t u, uint32_t d, uint16_t old)
{
	size_t bit = sim_pair(s, u, d);

	if (s->dirty_bits[bit / 64] & (1ULL << (bit % 64)))
		return;
	if (s->ndirty == s->dirty_cap) {
		size_t cap = s->dirty_cap ? s->dirty_cap * 2 : 4096;
		struct sim_dirty *v = realloc(s->dirty, cap * sizeof(*v));
		if (!v) {
			sim_fail(s, "out of memory");
			return;
		}
		s->dirty = v;
		s->dirty_cap = cap;
	}
	s->dirty_bits[bit / 64] |= 1ULL << (bit % 64);
	s->dirty[s->ndirty++] = (struct sim_dirty){(uint16_t)u, (uint16_t)d, old};
}

void sim_set_route(struct sim *s, uint32_t u, uint32_t d, uint16_t h)
{
	uint16_t *slot = &s->nh[sim_pair(s, u, d)];
	uint16_t old = *slot;

	if (old == h)
		return;
	s->route_changes++;
	s->last_change_at = s->now;
	count(s, wrongs(s, u, d, old), -1);
	if (old != NH_NONE && old != NH_LOCAL) {
		struct sim_link *l = &s->links[s->nodes[u].links[old - 1]];
		l->usage[sim_end_of(l, u)]--;
	}
	*slot = h;
	if (h != NH_NONE && h != NH_LOCAL) {
		struct sim_link *l = &s->links[s->nodes[u].links[h - 1]];
		l->usage[sim_end_of(l, u)]++;
	}
	count(s, wrongs(s, u, d, h), 1);
	if (s->opt->trace) {
		if (h == NH_NONE || h == NH_LOCAL)
			sim_trace(s, "node %u: route to %u %s", u, d, h ? "local" : "none");
		else
			sim_trace(s, "node %u: route to %u via %u", u, d,
				  sim_peer(s, u, (uint16_t)(h - 1)));
	}
	if (u != d)
		mark_dirty(s, u, d, old);
}

void sim_update_working(struct sim *s, uint32_t id)
{
	struct sim_link *l = &s->links[id];
	bool w = l->up && l->nbr[0] != RT_NBR_NONE && l->nbr[1] != RT_NBR_NONE &&
		 s->nodes[l->end[0]].r && s->nodes[l->end[1]].r;

	if (w == l->working)
		return;
	l->working = w;
	uint64_t through = (uint64_t)l->usage[0] + l->usage[1];
	if (w)
		s->broken -= through;
	else
		s->broken += through;
	s->comps_stale = true;
}

/* Labels each node with the smallest id of its component over working links. */
static void components(struct sim *s, uint32_t *comp, uint32_t *queue)
{
	for (uint32_t u = 0; u < s->n; u++)
		comp[u] = UINT32_MAX;
	for (uint32_t u = 0; u < s->n; u++) {
		if (comp[u] != UINT32_MAX)
			continue;
		uint32_t head = 0, tail = 0;
		comp[u] = u;
		queue[tail++] = u;
		while (head < tail) {
			const struct sim_node *x = &s->nodes[queue[head++]];
			for (uint16_t p = 0; p < x->nports; p++) {
				uint32_t v = sim_peer(s, x->id, p);
				if (s->links[x->links[p]].working && comp[v] == UINT32_MAX) {
					comp[v] = u;
					queue[tail++] = v;
				}
			}
		}
	}
}

static void recount(struct sim *s)
{
	s->missing = s->broken = s->stale = s->bogus = 0;
	for (uint32_t d = 0; d < s->n; d++) {
		const uint16_t *col = &s->nh[sim_pair(s, 0, d)];
		for (uint32_t u = 0; u < s->n; u++)
			count(s, wrongs(s, u, d, col[u]), 1);
	}
	s->recounts++;
}

static void refresh_components(struct sim *s)
{
	components(s, s->comp_next, s->queue);
	s->comps_stale = false;
	if (memcmp(s->comp_next, s->comp, s->n * sizeof(*s->comp))) {
		uint32_t *t = s->comp;
		s->comp = s->comp_next;
		s->comp_next = t;
		recount(s);
	}
}

void sim_after_event(struct sim *s, bool count_relapse)
{
	if (s->ndirty)
		sim_check_loops(s);
	bool conv = false;
	if (!s->pending) {
		if (s->comps_stale)
			refresh_components(s);
		conv = !s->missing && !s->broken && !s->stale && !s->bogus;
	}
	if (conv && !s->converged)
		s->converged_at = s->now;
	if (!conv && s->converged && count_relapse)
		s->relapses++;
	s->converged = conv;
}

void sim_describe_unconverged(struct sim *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, "missing=%llu broken=%llu stale=%llu bogus=%llu pending=%u",
			 (unsigned long long)s->missing, (unsigned long long)s->broken,
			 (unsigned long long)s->stale, (unsigned long long)s->bogus, s->pending);
	if (n < 0 || (size_t)n >= len)
		return;
	buf += n;
	len -= (size_t)n;
	for (uint32_t u = 0; u < s->n; u++)
		for (uint32_t d = 0; d < s->n; d++) {
			uint16_t h = s->nh[sim_pair(s, u, d)];
			unsigned w = wrongs(s, u, d, h);
			if (!w)
				continue;
			if (w & W_MISSING)
				snprintf(buf, len, "; e.g. node %u has no route to %u", u, d);
			else if (w & W_BOGUS)
				snprintf(buf, len, "; e.g. node %u claims %u's address", u, d);
			else
				snprintf(buf, len, "; e.g. node %u routes to %u via %u over %s", u,
					 d, sim_peer(s, u, (uint16_t)(h - 1)),
					 w & W_BROKEN ? "a link that does not work"
						      : "a link, but it is unreachable");
			return;
		}
}
