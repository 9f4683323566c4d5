/* SPDX-License-Identifier: ISC */
/*
 * The router's state and the helpers every part of it uses: the bottom
 * layer of routing/, under selection.c, request.c, update.c, neighbour.c
 * and router.c (see router.c for the layers). It calls nothing above it,
 * so any file may use it without a call coming back. Not for users of the
 * router, who see routing/router.h only.
 */
#ifndef ALAMESH_RT_STATE_H
#define ALAMESH_RT_STATE_H

#include "routing/frame.h"
#include "routing/router.h"

#define RT_URGENT_REPEATS 3    /* a retraction or new seqno goes out this often */
#define RT_REQ_CACHE	  1024 /* seqno requests remembered, direct-mapped */

/* A route heard from one neighbour. metric RT_METRIC_INF: none. */
struct rt_nroute {
	uint32_t metric; /* as the neighbour advertised it */
	uint16_t seqno;
	uint16_t refreshed; /* seconds, modulo 2^16 */
};

enum {
	D_HAS_FD = 1,	     /* fd_seqno/fd_metric hold a feasibility distance */
	D_PENDING = 2,	     /* in the triggered-update list */
	D_URGENT_QUEUED = 4, /* in the repeat list */
};

/* Per origin: the selected route and the feasibility distance. */
struct rt_dest {
	uint32_t metric; /* of the selected route; RT_METRIC_INF: none */
	uint32_t fd_metric;
	uint16_t fd_seqno;
	uint16_t seqno;	  /* of the selected route, or the one we originate */
	uint16_t nh;	  /* RT_NBR_NONE, RT_NBR_LOCAL or a neighbour */
	uint16_t changed; /* seconds, modulo 2^16: when nh last changed */
	uint8_t flags;
	uint8_t urgent; /* repeats left */
};

struct rt_nbr {
	bool used;
	uint32_t origin; /* the neighbour's own, or RT_ORIGIN_NONE */
	uint64_t added;

	/* Its hellos, as we hear them. */
	bool has_hello;
	uint32_t instance;
	uint16_t history;  /* bit 0: the latest hello slot; 1 = heard */
	uint8_t slots;	   /* hello slots in history so far, up to 16 */
	uint8_t missed;	   /* slots counted missing by the timer since the last hello */
	uint16_t expected; /* the seqno of its next hello */
	uint64_t hello_interval;
	uint64_t next_miss; /* when the next hello is late */
	uint32_t last_ts;   /* its last hello's timestamp, for our IHU's echo */
	uint64_t last_hello_at;

	/* Its IHUs: how well it hears us, and our RTT to it. */
	uint16_t tx_quality; /* of 256; 0 = it does not hear us (or no IHU lately) */
	uint64_t ihu_deadline;
	uint32_t srtt_us;
	bool has_rtt;
	uint32_t cost; /* the link metric in use; RT_METRIC_INF: down */

	/* What we send it. */
	uint16_t hello_seqno;
	uint64_t next_hello;
	uint64_t next_dump; /* the next full table */
	uint64_t last_dump;
	uint64_t update_interval; /* its updates' announced interval, for expiry */

	struct rt_nroute *routes; /* by origin id; NULL until it announces one */
	uint32_t routes_cap;
	uint32_t nroutes; /* with a finite metric */

	struct rt_frame_builder out;
	uint8_t buf[RT_FRAME_MAX];
};

struct rt_req {
	uint32_t origin1; /* origin + 1; 0 = empty */
	uint16_t seqno;
	uint64_t sent;
};

struct router {
	struct rt_params p;
	struct rt_ops ops;
	void *ctx;
	const struct rt_origins *origins;
	uint32_t self;
	uint32_t instance;
	uint64_t rng;
	uint64_t started;
	bool holding;

	struct rt_dest *dests;
	uint32_t ndests;

	struct rt_nbr **nbrs;
	uint32_t nnbrs; /* slots used or free below this */
	uint32_t nbrs_cap;

	uint32_t *pending, npending, pending_cap;
	uint32_t *repeat, nrepeat, repeat_cap;
	uint64_t flush_at, repeat_at, next_sweep;
	uint64_t tables_at; /* when to ask every neighbour for its table; 0: not wanted */
	uint64_t deadline;

	struct rt_req reqs[RT_REQ_CACHE];
	struct rt_stats stats;
};

/* xorshift64*: jitter and the first seqno, reproducible from the seed. */
uint64_t rt_random(struct router *r);
/* The router must run again by when (router_deadline() is the earliest asked for). */
void rt_deadline(struct router *r, uint64_t when);
/* An interval as the wire carries it: centiseconds, saturated. */
uint16_t rt_interval_cs(uint64_t ns);
/* Grows the per-origin arrays to the origins there are now; false: out of memory. */
bool rt_ensure_dests(struct router *r);
/* Grows n's routes so that origin o has a slot; false: out of memory. */
bool rt_ensure_routes(struct router *r, struct rt_nbr *n, uint32_t o);
/* True if we originate o: our own address, or a stock peer we speak for. */
bool rt_is_local(const struct router *r, uint32_t o);
/* The neighbour with this id, or NULL if there is none. */
struct rt_nbr *rt_nbr_get(const struct router *r, uint16_t id);
/* Appends a record to n's frame, sending the frame first if it is full; rt_send() sends it. */
void rt_emit(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t);
void rt_send(struct router *r, uint16_t id, struct rt_nbr *n);
/* Appends x to a growable list; false (and nothing appended) when out of memory. */
bool rt_push(uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x);
/*
 * o changed in a way neighbours should hear soon; urgent ones are repeated.
 * It is only queued here: update.c's rt_flush() sends the queue when
 * flush_at comes, so that whoever changes a route (selection, requests,
 * the public calls) needs nothing above this file.
 */
void rt_trigger(struct router *r, uint32_t o, bool urgent, uint64_t now);

static inline uint16_t rt_secs(uint64_t now)
{
	return (uint16_t)(now / NSEC_PER_SEC);
}

/* True if seqno a is newer than b (RFC 8966's modular order). */
static inline bool rt_seq_newer(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) > 0;
}

static inline uint32_t rt_metric_add(uint32_t a, uint32_t b)
{
	if (a == RT_METRIC_INF || b == RT_METRIC_INF)
		return RT_METRIC_INF;
	uint64_t s = (uint64_t)a + b;
	return s >= RT_METRIC_INF ? RT_METRIC_INF - 1 : (uint32_t)s;
}

#endif
