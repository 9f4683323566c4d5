// SPDX-License-Identifier: ISC
/*
 * The phases of a run, each printing one line: a cold start (every node
 * starts within the first second) until converged; a steady window with
 * no change, over which the control traffic is measured; the path stretch
 * at its end; then each link failure (declared dead at both ends, or
 * silent: the link just stops carrying frames) and its recovery, and each
 * node's restart (down with its links silent, back as a fresh router),
 * one at a time, each waited on until the network has converged again and
 * then watched for a quiet period; then, if asked, a storm of changes that
 * overlap (storm.c). A loop, a router misbehaving, or a
 * convergence that takes longer than the bound ends the run as a failure.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tests/sim/sim.h"

static double secs(uint64_t ns)
{
	return (double)ns / SIM_NSEC;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct conv {
	uint64_t first, last; /* ns after the change until converged, the first and last time */
	uint64_t settled;     /* ns after the change until the last route change seen */
	uint64_t relapses;
};

static uint64_t since(uint64_t t, uint64_t t0)
{
	return t > t0 ? t - t0 : 0;
}

/*
 * Waits until converged, then watches for the quiet period; if it
 * relapsed and is not converged at the end of it, waits again. last is
 * when it became converged for the last time.
 */
static bool converge(struct sim *s, const char *what, uint64_t t0, struct conv *c)
{
	uint64_t deadline = t0 + s->opt->bound, relapses = s->relapses;
	char why[400];

	for (bool first = true;; first = false) {
		if (!sim_run_until_converged(s, deadline)) {
			if (!s->failed) {
				sim_describe_unconverged(s, why, sizeof(why));
				sim_fail(s, "NOT CONVERGED: %s, %.0f s after the change: %s", what,
					 secs(s->opt->bound), why);
			}
			return false;
		}
		if (first)
			c->first = since(s->converged_at, t0);
		sim_run_until(s, s->now + s->opt->quiet);
		if (s->failed)
			return false;
		if (s->converged)
			break;
	}
	c->last = since(s->converged_at, t0);
	c->settled = since(s->last_change_at, t0);
	c->relapses = s->relapses - relapses;
	return true;
}

static uint32_t pick_working_link(struct sim *s, struct sim_rng *rng)
{
	uint32_t working = 0;

	for (uint32_t i = 0; i < s->nlinks; i++)
		working += s->links[i].working;
	if (!working)
		return UINT32_MAX;
	uint32_t k = (uint32_t)sim_rng_below(rng, working);
	for (uint32_t i = 0; i < s->nlinks; i++)
		if (s->links[i].working && !k--)
			return i;
	return UINT32_MAX;
}

struct tally {
	uint32_t n;
	double down_sum, down_max, up_sum, up_max;
};

static void tally(struct tally *t, const struct conv *down, const struct conv *up)
{
	t->n++;
	t->down_sum += secs(down->last);
	t->up_sum += secs(up->last);
	if (secs(down->last) > t->down_max)
		t->down_max = secs(down->last);
	if (secs(up->last) > t->up_max)
		t->up_max = secs(up->last);
}

static void print_tally(FILE *out, const char *what, const struct tally *t)
{
	if (!t->n)
		return;
	fprintf(out,
		"%s n=%u down_conv_mean_s=%.3f down_conv_max_s=%.3f up_conv_mean_s=%.3f "
		"up_conv_max_s=%.3f\n",
		what, t->n, t->down_sum / t->n, t->down_max, t->up_sum / t->n, t->up_max);
}

static bool cold_start(struct sim *s, struct sim_rng *rng, FILE *out)
{
	struct conv c;

	sim_cold_start(s, rng, SIM_NSEC);
	if (!converge(s, "cold start", 0, &c))
		return false;
	sim_verify_next_hops(s);
	fprintf(out,
		"cold_start converged_s=%.3f first_s=%.3f settled_s=%.3f relapses=%llu "
		"route_changes=%llu frames=%llu\n",
		secs(c.last), secs(c.first), secs(c.settled), (unsigned long long)c.relapses,
		(unsigned long long)s->route_changes, (unsigned long long)s->tx_frames);
	return true;
}

static bool steady(struct sim *s, struct sim_rng *rng, FILE *out)
{
	uint64_t t0 = s->now, bytes = s->tx_bytes, frames = s->tx_frames;
	uint64_t changes = s->route_changes, relapses = s->relapses;
	uint32_t *before = malloc(2 * (size_t)s->nlinks * sizeof(*before) + 1);
	uint32_t *after = malloc(2 * (size_t)s->nlinks * sizeof(*after) + 1);
	struct sim_stretch st;
	uint32_t changed = 0;
	struct conv c;

	if (!before || !after) {
		free(before);
		free(after);
		sim_fail(s, "out of memory");
		return false;
	}
	sim_link_costs(s, before);
	sim_run_until(s, t0 + s->opt->duration);
	sim_link_costs(s, after);
	for (size_t i = 0; i < 2 * (size_t)s->nlinks; i++)
		changed += before[i] != after[i];
	free(before);
	free(after);
	if (s->failed)
		return false;
	double per = (double)s->n * secs(s->opt->duration);
	/* A window shorter than the update interval misses the full tables. */
	fprintf(out,
		"steady window_s=%.0f update_intervals=%.1f control_bytes_per_node_s=%.1f "
		"frames_per_node_s=%.2f route_changes=%llu relapses=%llu link_costs_changed=%u\n",
		secs(s->opt->duration),
		(double)s->opt->duration / (double)s->params.update_interval,
		(double)(s->tx_bytes - bytes) / per, (double)(s->tx_frames - frames) / per,
		(unsigned long long)(s->route_changes - changes),
		(unsigned long long)(s->relapses - relapses), changed);
	if (!s->converged && !converge(s, "steady state relapse", s->now, &c))
		return false;
	if (!sim_measure_stretch(s, s->opt->samples, rng, &st)) {
		sim_fail(s, "out of memory");
		return false;
	}
	fprintf(out,
		"stretch pairs=%llu unreached=%llu metric_mean=%.4f metric_p99=%.4f "
		"metric_max=%.4f metric_optimal=%.4f hops_mean=%.4f hops_p99=%.4f hops_max=%.4f\n",
		(unsigned long long)st.pairs, (unsigned long long)st.unreached, st.metric.mean,
		st.metric.p99, st.metric.max, st.metric.optimal, st.hops.mean, st.hops.p99,
		st.hops.max);
	if (st.unreached)
		sim_fail(s, "%llu pairs converged but their paths do not arrive",
			 (unsigned long long)st.unreached);
	return !s->failed;
}

static bool failures(struct sim *s, struct sim_rng *rng, FILE *out)
{
	struct tally kinds[2] = {{0}};

	for (uint32_t i = 0; i < s->opt->failures; i++) {
		uint32_t l = pick_working_link(s, rng);
		bool declared = i % 2 == 0;
		struct conv down, up;
		if (l == UINT32_MAX)
			break;
		sim_link_fail(s, l, declared);
		if (!converge(s, declared ? "declared link failure" : "silent link failure", s->now,
			      &down))
			return false;
		sim_link_recover(s, l, declared, rng);
		if (!converge(s, "link recovery", s->now, &up))
			return false;
		fprintf(out,
			"failure i=%u kind=%s link=%u-%u down_conv_s=%.3f down_settled_s=%.3f "
			"up_conv_s=%.3f up_settled_s=%.3f relapses=%llu\n",
			i + 1, declared ? "declared" : "silent", s->links[l].end[0],
			s->links[l].end[1], secs(down.last), secs(down.settled), secs(up.last),
			secs(up.settled), (unsigned long long)(down.relapses + up.relapses));
		tally(&kinds[declared], &down, &up);
	}
	print_tally(out, "failures kind=declared", &kinds[1]);
	print_tally(out, "failures kind=silent", &kinds[0]);
	return true;
}

static bool churn(struct sim *s, struct sim_rng *rng, FILE *out)
{
	struct tally t = {0};

	for (uint32_t i = 0; i < s->opt->churn; i++) {
		uint32_t u = (uint32_t)sim_rng_below(rng, s->n);
		bool declare = sim_rng_below(rng, 2);
		struct conv down, up;
		sim_node_down(s, u, declare, rng);
		if (!converge(s, "node down", s->now, &down))
			return false;
		sim_node_up(s, u);
		if (!converge(s, "node back up", s->now, &up))
			return false;
		fprintf(out,
			"churn i=%u node=%u degree=%u tunnels_declared_dead=%s down_conv_s=%.3f "
			"down_settled_s=%.3f up_conv_s=%.3f up_settled_s=%.3f relapses=%llu\n",
			i + 1, u, s->nodes[u].nports, declare ? "yes" : "no", secs(down.last),
			secs(down.settled), secs(up.last), secs(up.settled),
			(unsigned long long)(down.relapses + up.relapses));
		tally(&t, &down, &up);
	}
	print_tally(out, "churn", &t);
	return true;
}

static void header(const struct sim *s, FILE *out)
{
	uint32_t max = 0;

	for (uint32_t u = 0; u < s->n; u++)
		if (s->nodes[u].nports > max)
			max = s->nodes[u].nports;
	fprintf(out,
		"sim topology=%s nodes=%u links=%u seed=%llu degree_mean=%.2f degree_max=%u "
		"hello_s=%.1f update_s=%.1f hold_s=%.1f loop_check=%s\n",
		topo_name(s->opt->topology), s->n, s->nlinks, (unsigned long long)s->opt->seed,
		s->n ? 2.0 * s->nlinks / s->n : 0, max, secs(s->params.hello_interval),
		secs(s->params.update_interval), secs(s->params.hold_time),
		s->checker == CHECK_FOREST ? "forest" : "walk");
}

int sim_scenario(const struct sim_opts *opt, FILE *out)
{
	struct sim_topo t;
	struct sim *s = calloc(1, sizeof(*s));
	struct sim_rng rng;
	double start = wall();
	bool ok;

	if (!s || !topo_build(&t, opt->topology, opt->nodes, sim_seed_of(opt->seed, 1, 0))) {
		fprintf(out, "result=fail error=\"out of memory building the topology\"\n");
		free(s);
		return 1;
	}
	ok = sim_init(s, opt, &t);
	topo_free(&t);
	if (!ok) {
		fprintf(out, "result=fail error=\"cannot set up the simulation\"\n");
		sim_destroy(s);
		free(s);
		return 1;
	}
	sim_rng_seed(&rng, sim_seed_of(opt->seed, 3, 0));
	header(s, out);
	ok = cold_start(s, &rng, out) && steady(s, &rng, out) && failures(s, &rng, out) &&
	     churn(s, &rng, out) &&
	     (!opt->storm || sim_storm(s, opt->storm, opt->storm_gap, &rng, out));
	if (ok)
		sim_verify_next_hops(s);
	fprintf(out,
		"checks sim_s=%.3f events=%llu route_changes=%llu recounts=%llu "
		"frames_dropped=%llu tick_spins=%llu loops=%s\n",
		secs(s->now), (unsigned long long)s->events, (unsigned long long)s->route_changes,
		(unsigned long long)s->recounts, (unsigned long long)s->dropped,
		(unsigned long long)s->tick_spins, strstr(s->error, "LOOP") ? "FOUND" : "none");
	if (opt->timing) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		fprintf(out, "resources wall_s=%.1f cpu_s=%.1f max_rss_mb=%.0f\n", wall() - start,
			(double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
			    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6,
			(double)ru.ru_maxrss / 1024);
	}
	if (s->failed)
		fprintf(out, "result=fail seed=%llu topology=%s nodes=%u error=\"%s\"\n",
			(unsigned long long)opt->seed, topo_name(opt->topology), opt->nodes,
			s->error);
	else
		fprintf(out, "result=ok\n");
	ok = !s->failed;
	sim_destroy(s);
	free(s);
	return ok ? 0 : 1;
}
