// SPDX-License-Identifier: ISC
/*
 * alamesh-sim: runs the router over a simulated network (see sim.h) and
 * prints one line per measurement. Exit status 0 if every check held, 1 on
 * a loop, a misbehaving router or a convergence slower than --bound, 2 on
 * a bad command line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: alamesh-sim [--topology line|ring|grid|geometric|scalefree] [--nodes N]\n"
		"                   [--seed S] [--failures N] [--churn N] [--duration SECONDS]\n"
		"                   [--bound SECONDS] [--quiet SECONDS] [--loss FRACTION]\n"
		"                   [--samples N] [--checker auto|walk|forest] [--timing]\n"
		"                   [--verbose] [--trace]\n");
}

static bool number(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"topology", required_argument, NULL, 't'}, {"nodes", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 's'},	{"failures", required_argument, NULL, 'f'},
	    {"churn", required_argument, NULL, 'c'},	{"duration", required_argument, NULL, 'd'},
	    {"bound", required_argument, NULL, 'b'},	{"quiet", required_argument, NULL, 'q'},
	    {"loss", required_argument, NULL, 'l'},	{"samples", required_argument, NULL, 'm'},
	    {"timing", no_argument, NULL, 'T'},		{"verbose", no_argument, NULL, 'v'},
	    {"trace", no_argument, NULL, 'R'},		{"checker", required_argument, NULL, 'C'},
	    {"storm", required_argument, NULL, 'S'},	{"storm-gap", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	struct sim_opts o = {
	    .topology = TOPO_RING,
	    .nodes = 100,
	    .seed = 1,
	    .duration = 60 * SIM_NSEC,
	    .bound = 600 * SIM_NSEC,
	    .quiet = 10 * SIM_NSEC,
	    .samples = 64,
	    .storm_gap = 2 * SIM_NSEC,
	};
	double v;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 't':
			ok = (o.topology = topo_parse(optarg)) != TOPO_COUNT;
			break;
		case 'n':
			if ((ok = number(optarg, 1, SIM_MAX_NODES, &v)))
				o.nodes = (uint32_t)v;
			break;
		case 's':
			if ((ok = number(optarg, 0, 1e18, &v)))
				o.seed = strtoull(optarg, NULL, 10);
			break;
		case 'f':
		case 'c':
		case 'm':
			if ((ok = number(optarg, c == 'm', 1e9, &v)))
				*(c == 'f'   ? &o.failures
				  : c == 'c' ? &o.churn
					     : &o.samples) = (uint32_t)v;
			break;
		case 'd':
		case 'b':
		case 'q':
			if ((ok = number(optarg, c == 'q' ? 0 : 0.001, 1e6, &v)))
				*(c == 'd'   ? &o.duration
				  : c == 'b' ? &o.bound
					     : &o.quiet) = (uint64_t)(v * SIM_NSEC);
			break;
		case 'l':
			ok = number(optarg, 0, 1, &o.loss);
			break;
		case 'S':
			if ((ok = number(optarg, 0, 1e9, &v)))
				o.storm = (uint32_t)v;
			break;
		case 'G':
			if ((ok = number(optarg, 0.001, 1e6, &v)))
				o.storm_gap = (uint64_t)(v * SIM_NSEC);
			break;
		case 'T':
			o.timing = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'R':
			o.trace = true;
			break;
		case 'C':
			o.checker = !strcmp(optarg, "walk")	? CHECK_WALK
				    : !strcmp(optarg, "forest") ? CHECK_FOREST
								: CHECK_AUTO;
			ok = o.checker != CHECK_AUTO || !strcmp(optarg, "auto");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			ok = false;
		}
		if (!ok) {
			if (c != '?')
				fprintf(stderr, "alamesh-sim: bad value: %s\n", optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return sim_scenario(&o, stdout);
}
