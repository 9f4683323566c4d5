/* SPDX-License-Identifier: ISC */
/*
 * Per-source token buckets for handshake messages under load. A cookie
 * proves a source address, not good intent: without this, one host holding
 * a valid cookie could still make us do a Diffie-Hellman per packet. Sources
 * are IPv4 addresses (v4-mapped) or IPv6 /64s, as one host usually holds a
 * whole /64. One thread only; the clock is passed in.
 *
 * What reaches it is the caller's choice, and the daemon's is kernel
 * WireGuard's (datapath/hs_gate.h): only messages with a right mac1 and,
 * under load, a right mac2, so every source counted knows our public key
 * and receives at its address. Spoofed sources never take a slot. A full
 * table refuses new sources until tracked ones fall idle for
 * WG_RL_IDLE_NS, as the kernel's does: evicting instead would give every
 * source beyond the table a fresh bucket at each message, so sources
 * enough would get Diffie-Hellman work without any limit.
 */
#ifndef ALAMESH_RATELIMITER_H
#define ALAMESH_RATELIMITER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "constants.h"

#define WG_RL_PACKETS_PER_SECOND 20
#define WG_RL_BURST		 5
#define WG_RL_IDLE_NS		 NSEC_PER_SEC /* a bucket idle this long is full again: forget it */

struct wg_rl_entry {
	uint8_t key[16];
	uint64_t last_ns; /* 0 = empty slot */
	uint64_t tokens;  /* in nanoseconds of credit */
};

struct wg_ratelimiter {
	struct wg_rl_entry *slots; /* open addressing, power-of-two size */
	size_t size, used, max;
	uint8_t hash_key[16]; /* random, so nobody can aim at one probe chain */
	uint64_t last_gc;
};

/* max: the most sources tracked at once; beyond that new sources are refused. */
bool wg_ratelimiter_init(struct wg_ratelimiter *rl, size_t max);
void wg_ratelimiter_destroy(struct wg_ratelimiter *rl);
/*
 * May a handshake message from src be processed now? A refusal changes
 * nothing: a source idle for WG_RL_IDLE_NS since its last allowed message
 * is forgotten however much it sent meanwhile.
 */
bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const struct in6_addr *src, uint64_t now_ns);

#endif
