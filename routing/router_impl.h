/* SPDX-License-Identifier: ISC */
/*
 * The router's state, shared by its files: router.c (life, selection,
 * timers), update.c (updates in and out), request.c (origin validation,
 * seqno requests) and neighbour.c (hellos, IHUs, link costs). Not for users
 * of the router, who see routing/router.h only.
 */
#ifndef ALAMESH_ROUTER_IMPL_H
#define ALAMESH_ROUTER_IMPL_H

#include "routing/frame.h"
#include "routing/router.h"

#define RT_URGENT_REPEATS 3		       /* a retraction or new seqno goes out this often */
#define RT_REQ_CACHE	  1024		       /* seqno requests remembered, direct-mapped */
#define RT_REQ_RESEND	  NSEC_PER_SEC	       /* the same request goes again after this */
#define RT_REQ_HOPS	  0xffff	       /* how far a seqno request may be forwarded */
#define RT_FD_GC	  (180 * NSEC_PER_SEC) /* feasibility distances of dead routes are forgotten */
#define RT_DUMP_MIN_GAP	  NSEC_PER_SEC	       /* full tables to one neighbour at most this often */

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

/* router.c */
uint64_t rt_random(struct router *r);
void rt_deadline(struct router *r, uint64_t when);
uint16_t rt_interval_cs(uint64_t ns);
bool rt_ensure_dests(struct router *r);
bool rt_ensure_routes(struct router *r, struct rt_nbr *n, uint32_t o);
bool rt_is_local(const struct router *r, uint32_t o);
struct rt_nbr *rt_nbr_get(const struct router *r, uint16_t id);
/* Appends a record to n's frame, sending the frame first if it is full; rt_send() sends it. */
void rt_emit(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t);
void rt_send(struct router *r, uint16_t id, struct rt_nbr *n);
bool rt_feasible(const struct rt_dest *d, uint16_t seqno, uint32_t metric);
void rt_select_route(struct router *r, uint32_t o, uint64_t now);
void rt_link_changed(struct router *r, uint16_t id, struct rt_nbr *n, uint32_t old_cost,
		     uint64_t now);
void rt_drop_routes_of(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);

/* update.c */
void rt_trigger(struct router *r, uint32_t o, bool urgent, uint64_t now);
void rt_flush(struct router *r, uint64_t now);
void rt_repeat_urgent(struct router *r, uint64_t now);
void rt_dump(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
void rt_on_update(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		  uint64_t now);
void rt_on_route_request(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
void rt_sweep(struct router *r, uint64_t now);

/* request.c */
uint32_t rt_validate(struct router *r, uint16_t id, const uint8_t key[WG_KEY_LEN],
		     const struct in6_addr *addr);
void rt_heard_newer(struct router *r, uint32_t o, uint16_t seqno, bool own, uint64_t now);
bool rt_recently_requested(struct router *r, uint32_t o, uint16_t seqno, uint64_t now);
void rt_send_seqno_request(struct router *r, uint16_t id, uint32_t o, uint16_t seqno,
			   uint16_t hops);
void rt_request_seqno(struct router *r, uint32_t o, uint64_t now);
void rt_on_seqno_request(struct router *r, uint16_t id, const struct rt_tlv *t, uint64_t now);

/* neighbour.c */
void rt_nbr_hello(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		  uint64_t now);
void rt_nbr_ihu(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		uint64_t now);
/* Hellos due, hellos missed, IHUs timed out. */
void rt_nbr_tick(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
uint64_t rt_nbr_deadline(const struct rt_nbr *n);
bool rt_nbr_up(const struct rt_nbr *n);
uint16_t rt_nbr_rx_quality(const struct rt_nbr *n);

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
