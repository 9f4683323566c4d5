/* SPDX-License-Identifier: ISC */
/*
 * Direct paths for relayed sessions, through NATs, with no server of our
 * own (alamesh-protocol(7), "Direct paths"). While a member's session is
 * relayed and carries traffic, both ends tell each other their candidates
 * (candidates.h) over that session: their confirmed public endpoint (nat.h)
 * and their interface addresses, at their port; each adds the other's
 * registry endpoints. Both then send authenticated probes (keepalives of
 * the session) to every candidate at once, so that each NAT sees the other
 * side answered. The first probe that arrives makes the path direct
 * (peer_path()), and keepalives keep it so while traffic flows; when
 * nothing comes straight for PEER_DIRECT_ALIVE, the session is back on its
 * relay. While relayed, it tries again every PUNCH_RETRY.
 */
#ifndef ALAMESH_PUNCH_H
#define ALAMESH_PUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define PUNCH_RETRY	  (60 * NSEC_PER_SEC)	/* while relayed and in use, candidates again */
#define PUNCH_HEARD_MIN	  (10 * NSEC_PER_SEC)	/* a member's candidates taken at most this often */
#define PUNCH_WINDOW	  (5 * NSEC_PER_SEC)	/* probes to its candidates for this long */
#define PUNCH_PROBE_EVERY (500 * NSEC_PER_MSEC) /* a round of probes, this often */
#define PUNCH_KEEPALIVE	  (1 * NSEC_PER_SEC)	/* on a direct path the routes do not know */
#define PUNCH_ACTIVE	  (10 * NSEC_PER_SEC)	/* traffic this recent: the session is in use */
#define PUNCH_MAX_TARGETS 16			/* its candidates and its registry endpoints */

struct device;
struct peer;

/* What p's session needs now: candidates told, probes, keepalives (mesh scan). */
void punch_tick(struct device *dev, struct peer *p, uint64_t now);
/* A candidates message from p's session (the receive thread queued it). */
void punch_receive(struct device *dev, struct peer *p, const uint8_t *msg, size_t len,
		   uint64_t now);

#endif
