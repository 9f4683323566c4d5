// SPDX-License-Identifier: ISC
/*
 * The storm: changes that overlap. Where the failure and churn phases wait
 * for the network to converge after each change, the storm makes one every
 * mean_gap (exponentially distributed), each a random pick of: a working
 * link fails (declared or silent), a failed link recovers, a node goes
 * down, a down node comes back. Routers are caught in every transient state
 * the changes leave, which is where a loop would show; the loop check runs
 * after every event as always. At the end everything is healed and the
 * network must converge within the bound.
 */
#include <math.h>
#include <stdlib.h>

#include "tests/sim/sim.h"

struct storm {
	uint32_t *failed; /* links failed by the storm, still down */
	bool *declared;	  /* how each of them failed */
	uint32_t nfailed;
	uint32_t *down; /* nodes down */
	uint32_t ndown;
	uint32_t counts[4];
};

enum { FAIL, RECOVER, DOWN, UP };

/* A working link both of whose ends are up, or UINT32_MAX. */
static uint32_t pick_link(struct sim *s, struct sim_rng *rng)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t l = (uint32_t)sim_rng_below(rng, s->nlinks);
		if (s->links[l].working)
			return l;
	}
	return UINT32_MAX;
}

static void forget_links_of(struct sim *s, struct storm *st, uint32_t u)
{
	for (uint32_t i = 0; i < st->nfailed;) {
		const struct sim_link *l = &s->links[st->failed[i]];
		if (l->end[0] == u || l->end[1] == u) {
			st->failed[i] = st->failed[--st->nfailed];
			st->declared[i] = st->declared[st->nfailed];
		} else {
			i++;
		}
	}
}

static void one_change(struct sim *s, struct storm *st, struct sim_rng *rng)
{
	int what = (int)sim_rng_below(rng, 4);
	uint32_t k;

	if (what == RECOVER && !st->nfailed)
		what = FAIL;
	if (what == UP && !st->ndown)
		what = DOWN;
	switch (what) {
	case FAIL:
		if ((k = pick_link(s, rng)) == UINT32_MAX)
			return;
		st->declared[st->nfailed] = sim_rng_below(rng, 2);
		sim_link_fail(s, k, st->declared[st->nfailed]);
		st->failed[st->nfailed++] = k;
		break;
	case RECOVER:
		k = (uint32_t)sim_rng_below(rng, st->nfailed);
		sim_link_recover(s, st->failed[k], st->declared[k], rng);
		st->failed[k] = st->failed[--st->nfailed];
		st->declared[k] = st->declared[st->nfailed];
		break;
	case DOWN:
		k = (uint32_t)sim_rng_below(rng, s->n);
		if (!s->nodes[k].r)
			return;
		/* Its failed links come back with it: the storm forgets them. */
		forget_links_of(s, st, k);
		sim_node_down(s, k, sim_rng_below(rng, 2), rng);
		st->down[st->ndown++] = k;
		break;
	case UP:
		k = (uint32_t)sim_rng_below(rng, st->ndown);
		sim_node_up(s, st->down[k]);
		st->down[k] = st->down[--st->ndown];
		break;
	}
	st->counts[what]++;
}

bool sim_storm(struct sim *s, uint32_t changes, uint64_t mean_gap, struct sim_rng *rng, FILE *out)
{
	struct storm st = {
	    .failed = malloc(((size_t)s->nlinks + 1) * sizeof(uint32_t)),
	    .declared = malloc(((size_t)s->nlinks + 1) * sizeof(bool)),
	    .down = malloc(((size_t)s->n + 1) * sizeof(uint32_t)),
	};
	uint64_t t0 = s->now, relapses = s->relapses;
	bool ok = st.failed && st.declared && st.down;

	for (uint32_t i = 0; ok && i < changes && !s->failed; i++) {
		double gap = -log(1 - sim_rng_unit(rng)) * (double)mean_gap;
		sim_run_until(s, s->now + (uint64_t)gap);
		one_change(s, &st, rng);
	}
	/* Heal: every failed link back, every node back. */
	while (ok && !s->failed && st.nfailed) {
		st.nfailed--;
		sim_link_recover(s, st.failed[st.nfailed], st.declared[st.nfailed], rng);
	}
	while (ok && !s->failed && st.ndown)
		sim_node_up(s, st.down[--st.ndown]);
	uint64_t healed = s->now;
	if (ok && !s->failed && !sim_run_until_converged(s, healed + s->opt->bound)) {
		char why[400];
		if (!s->failed) {
			sim_describe_unconverged(s, why, sizeof(why));
			sim_fail(s, "NOT CONVERGED: after the storm, %.0f s after healing: %s",
				 (double)s->opt->bound / SIM_NSEC, why);
		}
	}
	if (!ok)
		sim_fail(s, "out of memory");
	if (!s->failed)
		fprintf(out,
			"storm changes=%u link_failures=%u link_recoveries=%u node_downs=%u "
			"node_ups=%u storm_s=%.3f healed_conv_s=%.3f relapses=%llu\n",
			changes, st.counts[FAIL], st.counts[RECOVER], st.counts[DOWN],
			st.counts[UP], (double)(healed - t0) / SIM_NSEC,
			(double)(s->converged_at > healed ? s->converged_at - healed : 0) /
			    SIM_NSEC,
			(unsigned long long)(s->relapses - relapses));
	free(st.failed);
	free(st.declared);
	free(st.down);
	return !s->failed;
}
