/* SPDX-License-Identifier: ISC */
/*
 * The receive thread's gate for handshake messages, in kernel WireGuard's
 * order: what is cheap to check is checked before anything is counted or
 * queued, so a datagram from someone who does not know our public key
 * costs one keyed hash and leaves no state behind. Only what passes takes
 * a slot in the control thread's queue, where the Diffie-Hellman is done.
 *
 *   Initiations and responses need a right mac1. Under load (the queue was
 *   HS_UNDER_LOAD deep less than HS_LOAD_HOLD ago) they need a right mac2
 *   as well: one without is answered here with a cookie reply and goes no
 *   further; one with it counts against its source in the rate limiter,
 *   so every source counted receives at its address. A message relayed by
 *   a member is asked no cookie (the reply would reach the relay), and
 *   under load counts against the relay's address.
 *
 *   A cookie reply is queued only when its receiver index is a handshake
 *   of ours that still waits for an answer: an initiation we sent, or a
 *   response whose keypair the initiator has not yet confirmed.
 */
#ifndef ALAMESH_HS_GATE_H
#define ALAMESH_HS_GATE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct device;
struct peer;

enum hs_verdict {
	HS_QUEUED,	/* for the control thread */
	HS_COOKIE_SENT, /* under load without a right mac2: answered with a cookie reply */
	HS_BAD_MAC1,	/* not a handshake message for our key: dropped */
	HS_UNMATCHED,	/* a cookie reply to no handshake of ours: dropped */
	HS_REFUSED,	/* over its source's rate, or the queue is full: dropped */
};

/*
 * Takes one handshake message (an initiation, response or cookie reply, as
 * wg_msg_type() typed it) of len bytes from src; via: the member it came
 * relayed through, NULL when it came straight over UDP. Counts what it
 * drops and the cookie replies it sends in the device's get=stats
 * counters. Receive thread only.
 */
enum hs_verdict hs_gate(struct device *dev, const uint8_t *buf, size_t len,
			const struct sockaddr_in6 *src, const struct peer *via, uint64_t now);

#endif
