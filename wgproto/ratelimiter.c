// SPDX-License-Identifier: ISC
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimiter.h"

#define PACKET_COST (NSEC_PER_SEC / WG_RL_PACKETS_PER_SECOND)
#define BUCKET_MAX  (PACKET_COST * WG_RL_BURST)

bool wg_ratelimiter_init(struct wg_ratelimiter *rl, size_t max)
{
	size_t size = 16;

	memset(rl, 0, sizeof(*rl));
	while (size < max * 2) /* keep the load at most one half */
		size *= 2;
	rl->slots = calloc(size, sizeof(*rl->slots));
	if (!rl->slots)
		return false;
	rl->size = size;
	rl->max = max;
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	return true;
}

void wg_ratelimiter_destroy(struct wg_ratelimiter *rl)
{
	free(rl->slots);
	memset(rl, 0, sizeof(*rl));
}

/* IPv4 (v4-mapped) sources count per address, IPv6 ones per /64. */
static void source_key(uint8_t key[16], const struct in6_addr *src)
{
	memcpy(key, src->s6_addr, 16);
	if (!IN6_IS_ADDR_V4MAPPED(src))
		memset(key + 8, 0, 8);
}

static size_t slot_of(const struct wg_ratelimiter *rl, const uint8_t key[16])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, key, 16, rl->hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (rl->size - 1);
}

/* Rebuilds the table without the entries idle long enough to be full again. */
static void collect(struct wg_ratelimiter *rl, uint64_t now)
{
	struct wg_rl_entry *old = rl->slots;
	size_t size = rl->size;
	struct wg_rl_entry *slots = calloc(size, sizeof(*slots));

	rl->last_gc = now;
	if (!slots)
		return;
	rl->slots = slots;
	rl->used = 0;
	for (size_t i = 0; i < size; i++) {
		if (!old[i].last_ns || now - old[i].last_ns >= WG_RL_IDLE_NS)
			continue;
		size_t j = slot_of(rl, old[i].key);
		while (rl->slots[j].last_ns)
			j = (j + 1) & (rl->size - 1);
		rl->slots[j] = old[i];
		rl->used++;
	}
	free(old);
}

bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const struct in6_addr *src, uint64_t now_ns)
{
	uint8_t key[16];
	size_t i;

	if (now_ns - rl->last_gc >= WG_RL_IDLE_NS)
		collect(rl, now_ns);
	source_key(key, src);
	for (i = slot_of(rl, key); rl->slots[i].last_ns; i = (i + 1) & (rl->size - 1)) {
		struct wg_rl_entry *e = &rl->slots[i];
		if (memcmp(e->key, key, sizeof(key)))
			continue;
		uint64_t tokens = e->tokens + (now_ns - e->last_ns);
		if (tokens > BUCKET_MAX)
			tokens = BUCKET_MAX;
		/*
		 * Refused: the entry stays as it was. Its balance still counts
		 * from the last packet allowed, and so does its idleness, so a
		 * source that only sends what is refused keeps no slot alive.
		 */
		if (tokens < PACKET_COST)
			return false;
		e->tokens = tokens - PACKET_COST;
		e->last_ns = now_ns;
		return true;
	}
	if (rl->used >= rl->max)
		return false; /* full: new sources wait until others fall idle (ratelimiter.h) */
	rl->slots[i] = (struct wg_rl_entry){.last_ns = now_ns ? now_ns : 1,
					    .tokens = BUCKET_MAX - PACKET_COST};
	memcpy(rl->slots[i].key, key, sizeof(key));
	rl->used++;
	return true;
}
