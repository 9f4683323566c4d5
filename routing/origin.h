/* SPDX-License-Identifier: ISC */
/*
 * The origins a node accepts routes for: the registry's members, the
 * node's static peers and itself. Each has a small id that indexes the
 * router's per-destination arrays, and its key's derived address. This is
 * the origin validation of DESIGN.md: an update names an address and a key,
 * and is taken only if the key is here and hashes to that address.
 *
 * A key may be here for several reasons at once (a member that is also a
 * static peer): each add takes a reference, each remove drops one, and the
 * id goes when the last does.
 */
#ifndef ALAMESH_ORIGIN_H
#define ALAMESH_ORIGIN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define RT_ORIGIN_NONE UINT32_MAX

struct rt_origin {
	uint8_t key[WG_KEY_LEN];
	struct in6_addr addr;
	uint32_t refs; /* 0: a free id */
	uint32_t next_free;
};

struct rt_origins {
	struct rt_origin *v;
	uint32_t n;	    /* ids below n have been handed out */
	uint32_t cap;	    /* of v */
	uint32_t live;	    /* ids with refs > 0 */
	uint32_t free_head; /* RT_ORIGIN_NONE: none */
	uint32_t *map;	    /* key hash -> id + 1, open addressing, at most half full */
	uint32_t map_size;
	uint8_t hash_key[16]; /* SipHash key: member keys cannot be ground into collisions */
};

/* seed keys the hash; any 16 bytes (the daemon's are random). */
bool rt_origins_init(struct rt_origins *o, const uint8_t seed[16]);
void rt_origins_free(struct rt_origins *o);

/* Takes a reference on key's id, adding it if new. RT_ORIGIN_NONE if out of memory. */
uint32_t rt_origins_add(struct rt_origins *o, const uint8_t key[WG_KEY_LEN]);
/*
 * Drops a reference; returns true if that was the last and the id is now
 * free (the caller has told the routers to forget it first).
 */
bool rt_origins_put(struct rt_origins *o, uint32_t id);
/* The id of key, or RT_ORIGIN_NONE. */
uint32_t rt_origins_find(const struct rt_origins *o, const uint8_t key[WG_KEY_LEN]);
/*
 * Origin validation: the id of key if it is here and its address is addr,
 * else RT_ORIGIN_NONE.
 */
uint32_t rt_origins_validate(const struct rt_origins *o, const uint8_t key[WG_KEY_LEN],
			     const struct in6_addr *addr);

static inline bool rt_origins_live(const struct rt_origins *o, uint32_t id)
{
	return id < o->n && o->v[id].refs > 0;
}

#endif
