/* SPDX-License-Identifier: ISC */
/*
 * Origin validation and seqno requests (request.c): a starving node asks
 * its neighbours for a newer seqno, they answer or pass the request on
 * towards the origin, and the origin raises its seqno (RFC 8966, 3.8).
 * Below selection.c, which asks when it starves, and update.c, which
 * validates what it hears; it uses only rt_state.h.
 */
#ifndef ALAMESH_REQUEST_H
#define ALAMESH_REQUEST_H

#include "routing/rt_state.h"

#define RT_REQ_HOPS 0xffff /* how far a seqno request may be forwarded */

/*
 * The origin an update or request names, if its key is an origin here and
 * hashes to addr; else RT_ORIGIN_NONE, counted and reported to ops->rejected.
 */
uint32_t rt_validate(struct router *r, uint16_t id, const uint8_t key[WG_KEY_LEN],
		     const struct in6_addr *addr);
/*
 * A newer seqno than ours for an origin we speak for: outdone if own (our
 * own address), taken as heard if not (one we proxy).
 */
void rt_heard_newer(struct router *r, uint32_t o, uint16_t seqno, bool own, uint64_t now);
/*
 * True if a request for o at seqno (or newer) went out lately; if not, one
 * is noted as going out now.
 */
bool rt_recently_requested(struct router *r, uint32_t o, uint16_t seqno, uint64_t now);
/* Asks neighbour id for seqno of o, if its link is up. */
void rt_send_seqno_request(struct router *r, uint16_t id, uint32_t o, uint16_t seqno,
			   uint16_t hops);
/* Starving for o: ask the neighbours with unfeasible routes to it for a newer seqno. */
void rt_request_seqno(struct router *r, uint32_t o, uint64_t now);
/* A seqno request from neighbour id: answered, forwarded or dropped. */
void rt_on_seqno_request(struct router *r, uint16_t id, const struct rt_tlv *t, uint64_t now);

#endif
