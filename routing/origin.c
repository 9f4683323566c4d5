// SPDX-License-Identifier: ISC
/*
 * The origin table (see origin.h): ids in an array with a free list, and a
 * map from key to id. The map hashes with SipHash under a secret key: the
 * keys looked up come from the network, and member keys are chosen by
 * members, so neither may steer lookups into one long probe run.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "routing/address.h"
#include "routing/origin.h"

#define MIN_MAP 64u

static uint32_t hash_of(const struct rt_origins *o, const uint8_t key[WG_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, key, WG_KEY_LEN, o->hash_key);
	memcpy(&v, h, sizeof(v));
	return (uint32_t)(v ^ (v >> 32));
}

bool rt_origins_init(struct rt_origins *o, const uint8_t seed[16])
{
	memset(o, 0, sizeof(*o));
	o->free_head = RT_ORIGIN_NONE;
	memcpy(o->hash_key, seed, sizeof(o->hash_key));
	o->map = calloc(MIN_MAP, sizeof(*o->map));
	if (!o->map)
		return false;
	o->map_size = MIN_MAP;
	return true;
}

void rt_origins_free(struct rt_origins *o)
{
	free(o->v);
	free(o->map);
	memset(o, 0, sizeof(*o));
}

static void map_insert(uint32_t *map, uint32_t size, uint32_t hash, uint32_t id)
{
	for (uint32_t i = hash & (size - 1);; i = (i + 1) & (size - 1))
		if (!map[i]) {
			map[i] = id + 1;
			return;
		}
}

static bool map_grow(struct rt_origins *o)
{
	uint32_t size = o->map_size * 2;
	uint32_t *map = calloc(size, sizeof(*map));

	if (!map)
		return false;
	for (uint32_t i = 0; i < o->map_size; i++)
		if (o->map[i])
			map_insert(map, size, hash_of(o, o->v[o->map[i] - 1].key), o->map[i] - 1);
	free(o->map);
	o->map = map;
	o->map_size = size;
	return true;
}

/* Removes id's slot, pulling back the entries after it that belong at or before the hole. */
static void map_remove(struct rt_origins *o, uint32_t id)
{
	uint32_t m = o->map_size - 1, i = hash_of(o, o->v[id].key) & m;

	while (o->map[i] != id + 1) {
		if (!o->map[i])
			return;
		i = (i + 1) & m;
	}
	for (uint32_t j = i;;) {
		o->map[i] = 0;
		for (;;) {
			j = (j + 1) & m;
			if (!o->map[j])
				return;
			uint32_t k = hash_of(o, o->v[o->map[j] - 1].key) & m;
			bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
			if (!stays)
				break;
		}
		o->map[i] = o->map[j];
		i = j;
	}
}

uint32_t rt_origins_find(const struct rt_origins *o, const uint8_t key[WG_KEY_LEN])
{
	uint32_t m = o->map_size - 1;

	for (uint32_t i = hash_of(o, key) & m; o->map[i]; i = (i + 1) & m) {
		const struct rt_origin *e = &o->v[o->map[i] - 1];
		/* Keys are public: memcmp is fine, and faster on the miss path. */
		if (!memcmp(e->key, key, WG_KEY_LEN))
			return o->map[i] - 1;
	}
	return RT_ORIGIN_NONE;
}

uint32_t rt_origins_validate(const struct rt_origins *o, const uint8_t key[WG_KEY_LEN],
			     const struct in6_addr *addr)
{
	uint32_t id = rt_origins_find(o, key);

	if (id == RT_ORIGIN_NONE || memcmp(&o->v[id].addr, addr, sizeof(*addr)))
		return RT_ORIGIN_NONE;
	return id;
}

static uint32_t take_id(struct rt_origins *o)
{
	if (o->free_head != RT_ORIGIN_NONE) {
		uint32_t id = o->free_head;
		o->free_head = o->v[id].next_free;
		return id;
	}
	if (o->n == o->cap) {
		uint32_t cap = o->cap ? o->cap * 2 : 64;
		struct rt_origin *v = realloc(o->v, (size_t)cap * sizeof(*v));
		if (!v)
			return RT_ORIGIN_NONE;
		o->v = v;
		o->cap = cap;
	}
	return o->n++;
}

uint32_t rt_origins_add(struct rt_origins *o, const uint8_t key[WG_KEY_LEN])
{
	uint32_t id = rt_origins_find(o, key);

	if (id != RT_ORIGIN_NONE) {
		o->v[id].refs++;
		return id;
	}
	if (2 * (o->live + 1) > o->map_size && !map_grow(o))
		return RT_ORIGIN_NONE;
	if ((id = take_id(o)) == RT_ORIGIN_NONE)
		return RT_ORIGIN_NONE;
	struct rt_origin *e = &o->v[id];
	memcpy(e->key, key, WG_KEY_LEN);
	alamesh_addr(&e->addr, key);
	e->refs = 1;
	e->next_free = RT_ORIGIN_NONE;
	map_insert(o->map, o->map_size, hash_of(o, key), id);
	o->live++;
	return id;
}

bool rt_origins_put(struct rt_origins *o, uint32_t id)
{
	if (!rt_origins_live(o, id) || --o->v[id].refs > 0)
		return false;
	map_remove(o, id);
	memset(o->v[id].key, 0, WG_KEY_LEN);
	memset(&o->v[id].addr, 0, sizeof(o->v[id].addr));
	o->v[id].next_free = o->free_head;
	o->free_head = id;
	o->live--;
	return true;
}
