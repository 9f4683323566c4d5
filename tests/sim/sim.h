/* SPDX-License-Identifier: ISC */
/*
 * alamesh-sim: a deterministic discrete-event simulator of the router
 * (routing/router.h) over thousands of nodes.
 *
 * Each node runs the real router, created with router_new(); all share one
 * origin table, which stands for the registry (node i's origin id is i).
 * Time is virtual nanoseconds. One heap holds every future event: frame
 * deliveries (a copy of what ops->send handed over, due after the link's
 * one-way delay, dropped if the link has stopped carrying frames by then),
 * router wake-ups at the deadline router_tick() returned, and the steps of
 * a tunnel coming up (one end adds the neighbour, the other a one-way delay
 * later). Events due at the same nanosecond run in the order they were
 * scheduled, and the only randomness is seeded (rng.h): a seed determines
 * the whole run and everything it prints.
 *
 * After every event, each (node, destination) whose next hop changed is
 * checked (loops.c): a forwarding loop anywhere is found at the event that
 * closes it, by a walk along the new path or, where paths are long, in
 * O(log n) per change in that destination's forest (forest.h).
 * Counters of the pairs that are not yet right (no route to a reachable
 * destination, a route over a link that does not work, a route to an
 * unreachable one) tell at every event whether the network has converged.
 *
 * The files: heap.c (events), forest.c (link-cut trees), topology.c (graphs),
 * net.c (nodes, links, frames, timers), routes.c (next hops, convergence
 * counters), loops.c (the loop check), measure.c (path stretch),
 * scenario.c (the phases of a run), storm.c (overlapping changes),
 * main.c (the command line).
 */
#ifndef ALAMESH_SIM_H
#define ALAMESH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include "routing/origin.h"
#include "routing/router.h"
#include "tests/sim/forest.h"
#include "tests/sim/heap.h"
#include "tests/sim/rng.h"

#define SIM_NSEC      1000000000ULL
#define SIM_MSEC      1000000ULL
#define SIM_NEVER     UINT64_MAX
#define SIM_MAX_NODES FOREST_MAX_NODES

/* A next hop as the simulator keeps it: a port of the node (+1), or one of these. */
#define NH_NONE	 0u
#define NH_LOCAL 0xffffu

enum sim_topology { TOPO_LINE, TOPO_RING, TOPO_GRID, TOPO_GEOMETRIC, TOPO_SCALEFREE, TOPO_COUNT };

struct sim_edge {
	uint32_t a, b;
	uint64_t delay; /* one way, ns */
};

struct sim_topo {
	uint32_t n;
	size_t nedges, cap;
	struct sim_edge *e;
};

const char *topo_name(enum sim_topology t);
/* The topology named s, or TOPO_COUNT. */
enum sim_topology topo_parse(const char *s);
/* A connected graph of n nodes; false if out of memory. */
bool topo_build(struct sim_topo *t, enum sim_topology kind, uint32_t n, uint64_t seed);
void topo_free(struct sim_topo *t);

/* How loops are looked for: both are exact; they differ in cost. */
enum sim_checker {
	CHECK_AUTO,   /* walks if the average path is short, else the forest */
	CHECK_FOREST, /* link-cut trees: O(log n) amortized per change */
	CHECK_WALK,   /* a visited-stamp walk along each new path: O(path) */
};

enum sim_ev_kind {
	EV_DELIVER, /* a frame reaches end `end` of link a */
	EV_TIMER,   /* node a's router is due (gen: its incarnation) */
	EV_START,   /* node a starts (cold start) */
	EV_LINKUP,  /* link a's tunnel is up at end `end`; the other end follows */
	EV_ADD,	    /* end `end` of link a adds the neighbour */
	EV_DEAD,    /* end `end` of link a declares the silent tunnel dead */
};

struct sim_link {
	uint32_t end[2];   /* node ids */
	uint16_t port[2];  /* the link's index in each end's port list */
	uint16_t nbr[2];   /* each end's neighbour id for it; RT_NBR_NONE until added */
	uint32_t usage[2]; /* routes installed at each end through the link */
	uint64_t delay;
	uint32_t gen; /* bumped whenever the link starts or stops carrying frames */
	bool up;      /* carries frames */
	bool working; /* up, and a neighbour at both ends: what reachability counts */
};

struct sim_dirty {
	uint16_t u, d, old;
};

struct sim_node {
	struct sim *sim;
	uint32_t id;
	struct router *r; /* NULL while down or not yet started */
	uint32_t incarnation;
	uint64_t wake;	 /* the router's deadline, with a timer event at it */
	uint32_t *links; /* port -> link id */
	uint16_t nports;
	uint16_t *nbr_port; /* router's neighbour id -> port + 1; 0: none */
	uint32_t nbr_cap;
};

struct sim_opts {
	enum sim_topology topology;
	uint32_t nodes;
	uint64_t seed;
	uint32_t failures, churn;
	uint32_t storm;	    /* overlapping random changes, after the failures and churn */
	uint64_t storm_gap; /* ns: their mean spacing */
	uint64_t duration;  /* ns: the steady-state window */
	uint64_t bound;	    /* ns: how long any convergence may take */
	uint64_t quiet;	    /* ns to watch a converged network before the next change */
	double loss;	    /* each frame's chance of being lost on any link */
	enum sim_checker checker;
	uint32_t samples; /* destinations the stretch is measured to */
	bool timing;
	bool verbose; /* progress on stderr every 10 simulated seconds */
	bool trace;   /* every route change and tunnel event, on stderr */
};

struct sim {
	const struct sim_opts *opt;
	uint32_t n, nlinks;
	struct sim_node *nodes;
	struct sim_link *links;
	struct rt_origins origins;
	struct rt_params params;
	struct rt_ops ops;
	struct sim_heap heap;
	struct sim_rng loss_rng;
	uint64_t now;

	uint32_t *adj_off;  /* n + 1: node u's ports are adj_off[u] .. adj_off[u + 1] - 1 */
	uint32_t *adj_peer; /* the node at the other end of each port */

	uint16_t *nh;		 /* n * n, by sim_pair(): u's next hop towards d */
	uint64_t *dirty_bits;	 /* n * n bits, by sim_pair(): (u, d) changed during this event */
	struct sim_dirty *dirty; /* those pairs, with the next hop the last check saw */
	size_t ndirty, dirty_cap;
	enum sim_checker checker; /* the one in use: CHECK_FOREST or CHECK_WALK */
	struct forest forest;	  /* CHECK_FOREST: one tree per destination */
	uint32_t *stamp;	  /* CHECK_WALK: the last walk that visited each node */
	uint32_t walk;

	/* Convergence: the pairs not yet right, against the components in comp. */
	uint32_t *comp;		 /* smallest node id of each node's working component */
	uint32_t *comp_next;	 /* scratch: the labels being recomputed */
	uint32_t *queue;	 /* scratch: breadth-first search */
	bool comps_stale;	 /* a link's working state changed since comp was computed */
	uint64_t missing;	 /* no route, destination reachable */
	uint64_t broken;	 /* route over a link that is not working */
	uint64_t stale;		 /* route, destination unreachable */
	uint64_t bogus;		 /* RT_NBR_LOCAL for someone else's address */
	uint32_t pending;	 /* starts and tunnel set-ups scheduled, not yet done */
	bool converged;		 /* every counter 0 and nothing pending */
	uint64_t converged_at;	 /* when it last became so */
	uint64_t relapses;	 /* converged -> not, with no change of the network */
	uint64_t last_change_at; /* when a next hop last changed */

	/* Totals. */
	uint64_t events, tx_frames, tx_bytes, dropped, route_changes, recounts;
	uint64_t tick_spins; /* router_tick() returned a deadline not after now */
	uint64_t next_progress;

	uint8_t **pool; /* free frame buffers of RT_FRAME_MAX bytes */
	size_t npool, pool_cap;

	bool failed;
	char error[1024];
};

/* report.c */
/* With --trace: one line on stderr, stamped with the virtual time. */
void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the run's first failure; later ones are dropped. */
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* net.c */
bool sim_init(struct sim *s, const struct sim_opts *opt, const struct sim_topo *t);
void sim_destroy(struct sim *s);
/* Schedules every node's start at a random time in [now, now + spread). */
void sim_cold_start(struct sim *s, struct sim_rng *rng, uint64_t spread);
/* Runs one event; false if there is none or the run has failed. */
bool sim_step(struct sim *s);
/* Runs every event due up to t, then sets the clock to t. */
void sim_run_until(struct sim *s, uint64_t t);
/* Runs until converged or deadline; true if converged. */
bool sim_run_until_converged(struct sim *s, uint64_t deadline);
void sim_link_fail(struct sim *s, uint32_t l, bool declared);
void sim_link_recover(struct sim *s, uint32_t l, bool declared, struct sim_rng *rng);
/* The node stops; if declare, its neighbours declare its tunnels dead 5-30 s later. */
void sim_node_down(struct sim *s, uint32_t u, bool declare, struct sim_rng *rng);
void sim_node_up(struct sim *s, uint32_t u);
/* Fails the run unless router_next_hop() agrees with ops->route everywhere. */
void sim_verify_next_hops(struct sim *s);

/* routes.c */
bool sim_routes_init(struct sim *s);
void sim_routes_free(struct sim *s);
/* u's next hop towards d is now h (NH_NONE, NH_LOCAL or port + 1). */
void sim_set_route(struct sim *s, uint32_t u, uint32_t d, uint16_t h);
/* A link's working state may have changed. */
void sim_update_working(struct sim *s, uint32_t l);
/* Checks the event's route changes for loops, then updates s->converged. */
void sim_after_event(struct sim *s, bool count_relapse);
/* Describes one pair that keeps the network from having converged. */
void sim_describe_unconverged(struct sim *s, char *buf, size_t len);

/* loops.c */
bool sim_loops_init(struct sim *s);
void sim_loops_free(struct sim *s);
/* Fails the run if the event's changes (s->dirty) left a forwarding loop. */
void sim_check_loops(struct sim *s);

/*
 * Asks for transparent huge pages under a large array: at 10,000 nodes the
 * per-pair arrays are hundreds of MB, touched at random, and TLB misses
 * would cost more than the memory itself. Only a hint.
 */
static inline void sim_huge_pages(void *p, size_t len)
{
	uintptr_t huge = 2u << 20, start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t end = ((uintptr_t)p + len) & ~(huge - 1);

	if (p && end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* The node at the other end of u's port. */
static inline uint32_t sim_peer(const struct sim *s, uint32_t u, uint16_t port)
{
	return s->adj_peer[s->adj_off[u] + port];
}

/* Where (u, d) is in nh and dirty_bits: by destination, so a path's walk stays close. */
static inline size_t sim_pair(const struct sim *s, uint32_t u, uint32_t d)
{
	return (size_t)d * s->n + u;
}

static inline int sim_end_of(const struct sim_link *l, uint32_t u)
{
	return l->end[0] == u ? 0 : 1;
}

/* measure.c */
struct sim_dist {
	uint64_t n;
	double mean, p99, max, optimal; /* optimal: the fraction at exactly 1 */
};

struct sim_stretch {
	uint64_t pairs, unreached;
	struct sim_dist metric, hops;
};

/* The path stretch of the installed routes to `samples` random destinations. */
bool sim_measure_stretch(struct sim *s, uint32_t samples, struct sim_rng *rng,
			 struct sim_stretch *out);
/* Each working link's cost as its ends see it: into costs[2 * l + end]. */
void sim_link_costs(struct sim *s, uint32_t *costs);

/* storm.c: changes that overlap; then all healed, and convergence awaited. */
bool sim_storm(struct sim *s, uint32_t changes, uint64_t mean_gap, struct sim_rng *rng, FILE *out);

/* scenario.c */
int sim_scenario(const struct sim_opts *opt, FILE *out);

#endif
