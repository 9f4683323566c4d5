/* SPDX-License-Identifier: ISC */
/*
 * The distance-vector router (alamesh-protocol(7)), in the spirit of Babel
 * (RFC 8966): hellos and IHUs measure each link (loss both ways, RTT);
 * every node originates a route to its own address, with a sequence
 * number only it raises; updates carry (origin key, address, seqno,
 * metric); the feasibility condition keeps routes loop-free at every
 * instant; seqno requests end the starvation a failure can leave behind.
 *
 * Pure logic: no I/O, no clock, no allocation per frame. Time comes in as
 * `now` (nanoseconds, any monotonic origin); frames go out through
 * ops->send and the chosen next hops through ops->route, which must not
 * call back into the router. The daemon drives
 * one router; the simulator (tests/sim) drives thousands with the same code.
 */
#ifndef ALAMESH_ROUTER_H
#define ALAMESH_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routing/origin.h"

#define RT_NBR_NONE   0xffffu /* no route */
#define RT_NBR_LOCAL  0xfffeu /* originated here: ourselves, or a stock peer we speak for */
#define RT_NBR_MAX    0xfff0u /* neighbours at once */
#define RT_METRIC_INF UINT32_MAX

/* Timers and costs; rt_params_default() gives the protocol's. */
struct rt_params {
	uint64_t hello_interval;  /* ns between hellos (and IHUs) to each neighbour */
	uint64_t update_interval; /* ns between full table updates to each neighbour */
	uint64_t flush_delay;	  /* ns a triggered update waits to gather others (plus jitter) */
	uint64_t urgent_retry;	  /* ns between the repeats of a retraction or seqno change */
	uint64_t hold_time;	  /* ns after start during which only direct routes are used */
	uint32_t hop_cost;	  /* metric of a perfect, zero-latency link */
	uint32_t proxy_cost;	  /* metric announced for a stock WireGuard peer we speak for */
	/*
	 * The wall clock in seconds when the router starts: its first seqno.
	 * Each start of a node must announce a newer seqno than the last did,
	 * or the routes its former selves left behind (newer in the modular
	 * order than a random new one, older than a third) can order the
	 * seqnos in a circle, and loop. A clock makes them rise across starts
	 * for 9 hours of uptime, far longer than any route outlives its node.
	 */
	uint32_t start_clock;
};

void rt_params_default(struct rt_params *p);

struct rt_ops {
	/* Sends a frame to a neighbour, inside its tunnel. */
	void (*send)(void *ctx, uint16_t nbr, const uint8_t *frame, size_t len);
	/* The next hop towards origin is now nbr (RT_NBR_NONE, RT_NBR_LOCAL or a neighbour). */
	void (*route)(void *ctx, uint32_t origin, uint16_t nbr);
	/*
	 * Optional: a neighbour announced an address whose key is not an
	 * origin here, or does not hash to it. The update was dropped.
	 */
	void (*rejected)(void *ctx, uint16_t nbr, const uint8_t key[WG_KEY_LEN],
			 const struct in6_addr *addr);
	/*
	 * Optional: the underlay endpoint nbr's datagrams come from, told to
	 * it with each hello (a Seen record). False: nothing to tell.
	 */
	bool (*endpoint_of)(void *ctx, uint16_t nbr, struct in6_addr *addr, uint16_t *port);
	/* Optional: nbr says our datagrams reach it from addr, port. */
	void (*seen)(void *ctx, uint16_t nbr, const struct in6_addr *addr, uint16_t port);
};

struct router;

/*
 * A router for the node whose own origin is self (in origins, which the
 * caller keeps and may grow; the router reads it). seed makes every random
 * choice (jitter, the first seqno, the instance) reproducible.
 */
struct router *router_new(const struct rt_params *params, const struct rt_ops *ops, void *ctx,
			  const struct rt_origins *origins, uint32_t self, uint64_t seed,
			  uint64_t now);
void router_free(struct router *r);

/* The node's key changed: the old address is retracted, the new one originated. */
void router_set_self(struct router *r, uint32_t self, uint64_t now);
/*
 * An origin leaves (a member removed from the registry): every route to it
 * is dropped at once, and its id may be reused. Call before rt_origins_put().
 */
void router_forget_origin(struct router *r, uint32_t origin, uint64_t now);
/*
 * New origins are valid here (members the registry just added): ask every
 * neighbour for its whole table, since what it said of them before was
 * refused. Requests made in a burst go out once.
 */
void router_request_tables(struct router *r, uint64_t now);
/* Originates (on) or stops originating a route for a stock peer we speak for. */
void router_proxy(struct router *r, uint32_t origin, bool on, uint64_t now);

/*
 * A tunnel to a possible neighbour is up: hellos start. origin is the
 * neighbour's own (RT_ORIGIN_NONE if it is none): right after a start,
 * only routes to a neighbour through that neighbour are used (see
 * hold_time). Returns its id, or RT_NBR_NONE.
 */
uint16_t router_add_neighbour(struct router *r, uint32_t origin, uint64_t now);
/* The tunnel is gone: its routes are dropped and the id freed. */
void router_remove_neighbour(struct router *r, uint16_t nbr, uint64_t now);

/*
 * A frame from a neighbour. Returns 0, or -1 if the frame was malformed
 * (refused whole; *why says how). Updates for origins that fail validation
 * are dropped one by one and counted in the stats.
 */
int router_receive(struct router *r, uint16_t nbr, const uint8_t *frame, size_t len, uint64_t now,
		   const char **why);

/* Runs what is due; returns when it next needs to run. */
uint64_t router_tick(struct router *r, uint64_t now);
/* When router_tick() next needs to run, after whatever was called last. */
uint64_t router_deadline(const struct router *r);

/* The installed next hop towards origin. */
uint16_t router_next_hop(const struct router *r, uint32_t origin);

struct rt_route_info {
	uint32_t origin;
	uint16_t nbr; /* RT_NBR_LOCAL for our own and proxied origins */
	uint16_t seqno;
	uint32_t metric;
	uint64_t age; /* ns since the route was last refreshed */
};

/* Calls fn for every origin with a route; a nonzero return stops the walk and is returned. */
int router_foreach_route(const struct router *r, uint64_t now,
			 int (*fn)(const struct rt_route_info *ri, void *ctx), void *ctx);

struct rt_nbr_info {
	uint16_t nbr;
	bool heard;			 /* a frame has come from it */
	bool up;			 /* usable both ways */
	uint32_t cost;			 /* link metric, RT_METRIC_INF when down */
	uint32_t rtt_us;		 /* smoothed; 0 until measured */
	uint16_t rx_quality, tx_quality; /* share of recent hellos heard each way, of 256 */
	uint64_t added;			 /* when router_add_neighbour() ran */
};

bool router_neighbour_info(const struct router *r, uint16_t nbr, struct rt_nbr_info *out);

struct rt_stats {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t rx_malformed;	    /* frames refused whole */
	uint64_t rejected_updates;  /* origin not a member, or key and address disagree */
	uint64_t unfeasible;	    /* updates kept out of selection by the feasibility condition */
	uint64_t seqno_requests_tx; /* sent or forwarded */
	uint64_t route_changes;	    /* next-hop changes reported through ops->route */
};

const struct rt_stats *router_stats(const struct router *r);
/* The seqno this node now originates its own address with. */
uint16_t router_own_seqno(const struct router *r);

#endif
