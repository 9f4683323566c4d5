// SPDX-License-Identifier: ISC
/* The control thread's peer table (peer.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/core/peer.h"
#include "daemon/base/log.h"
#include "daemon/core/keys.h"
#include "daemon/core/stage.h"
#include "routing/address.h"
#include "routing/origin.h"
#include "routing/router.h"
#include "wgproto/encoding.h"

static void free_peer(struct peer *p)
{
	if (p->dev->hooks.freed)
		p->dev->hooks.freed(p->dev, p);
	peer_clear_keys(p);
	stage_drop_all(p->dev, p);
	pthread_mutex_destroy(&p->lock);
	sodium_memzero(p, sizeof(*p)); /* preshared key, static-static DH, cookies */
	free(p);
}

void peer_name(const struct peer *p, char out[WG_KEY_B64_LEN + 1])
{
	/* The public key only: it names the peer and is no secret. */
	key_to_base64(out, p->handshake.remote_static);
}

/*
 * Peers by public key: open addressing with linear probing, at most half
 * full (device_reserve_peers() grows it with the array, so an insert never
 * fails), removal by backward shift so no tombstones pile up. Keys are
 * uniformly random, so their first bytes are the hash.
 */
static size_t key_slot(const uint8_t key[WG_KEY_LEN], size_t size)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & (size - 1);
}

static void keymap_insert(struct peer **map, size_t size, struct peer *p)
{
	for (size_t i = key_slot(p->handshake.remote_static, size);; i = (i + 1) & (size - 1))
		if (!map[i]) {
			map[i] = p;
			return;
		}
}

static void keymap_remove(struct device *dev, struct peer *p)
{
	size_t m = dev->keymap_size - 1, i = key_slot(p->handshake.remote_static, dev->keymap_size);

	while (dev->keymap[i] != p) {
		if (!dev->keymap[i])
			return;
		i = (i + 1) & m;
	}
	/* Pull back every later entry of the run that may sit at or before the hole. */
	for (size_t j = i;;) {
		dev->keymap[i] = NULL;
		for (;;) {
			j = (j + 1) & m;
			if (!dev->keymap[j])
				return;
			size_t k =
			    key_slot(dev->keymap[j]->handshake.remote_static, dev->keymap_size);
			bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
			if (!stays)
				break;
		}
		dev->keymap[i] = dev->keymap[j];
		i = j;
	}
}

struct peer *device_find_peer(struct device *dev, const uint8_t public_key[WG_KEY_LEN])
{
	if (!dev->keymap)
		return NULL;
	size_t m = dev->keymap_size - 1;
	for (size_t i = key_slot(public_key, dev->keymap_size); dev->keymap[i]; i = (i + 1) & m)
		if (sodium_memcmp(dev->keymap[i]->handshake.remote_static, public_key,
				  WG_KEY_LEN) == 0)
			return dev->keymap[i];
	return NULL;
}

struct peer *peer_create(struct device *dev, const uint8_t public_key[WG_KEY_LEN],
			 const uint8_t *psk, const struct sockaddr_in6 *endpoint,
			 uint16_t persistent_keepalive)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->lock, NULL)) {
		free(p);
		return NULL;
	}
	p->dev = dev;
	p->origin = RT_ORIGIN_NONE; /* references are taken when it is linked */
	p->nbr = RT_NBR_NONE;
	alamesh_addr(&p->addr, public_key);
	wg_handshake_init(&p->handshake, &dev->identity, public_key, psk);
	p->handshake.peer = p;
	wg_cookie_init(&p->cookie, public_key);
	wg_timers_init(&p->timers, persistent_keepalive);
	if (endpoint)
		p->endpoint = *endpoint;
	peer_update_carry(p); /* no member until a registry sync says so */
	return p;
}

void peer_destroy(struct peer *p)
{
	free_peer(p);
}

bool device_reserve_peers(struct device *dev, size_t more)
{
	size_t cap = dev->peers_cap ? dev->peers_cap : 16;

	if (dev->npeers + more <= dev->peers_cap)
		return true;
	while (cap < dev->npeers + more)
		cap *= 2;
	size_t mapsize = dev->keymap_size ? dev->keymap_size : 32;
	while (mapsize < 2 * cap)
		mapsize *= 2;
	struct peer **map = NULL;
	if (mapsize != dev->keymap_size && !(map = calloc(mapsize, sizeof(*map))))
		return false;
	struct peer **n = realloc(dev->peers, cap * sizeof(*n));
	if (!n) {
		free(map);
		return false;
	}
	dev->peers = n;
	dev->peers_cap = cap;
	if (map) {
		for (size_t i = 0; i < dev->npeers; i++)
			keymap_insert(map, mapsize, dev->peers[i]);
		free(dev->keymap);
		dev->keymap = map;
		dev->keymap_size = mapsize;
	}
	return true;
}

void device_append_peer(struct device *dev, struct peer *p)
{
	p->index = dev->npeers;
	dev->peers[dev->npeers++] = p;
	keymap_insert(dev->keymap, dev->keymap_size, p);
	/* A replacement (uapi/apply.c) takes the address over from the peer it replaces. */
	if (!route_table_replace(&dev->sessions, &p->addr, p, NULL))
		log_error("out of memory: packets to a new peer's address will be refused");
	if (dev->hooks.linked)
		dev->hooks.linked(dev, p);
}

struct peer *device_add_peer(struct device *dev, const uint8_t public_key[WG_KEY_LEN],
			     const uint8_t *psk, const struct sockaddr_in6 *endpoint,
			     uint16_t persistent_keepalive)
{
	struct peer *p;

	if (!device_reserve_peers(dev, 1))
		return NULL;
	p = peer_create(dev, public_key, psk, endpoint, persistent_keepalive);
	if (!p)
		return NULL;
	/* Its own address goes to it directly, unless the router already knows a way there. */
	if (!route_table_lookup(&dev->routes, &p->addr) &&
	    !route_table_add(&dev->routes, &p->addr, p)) {
		free_peer(p);
		return NULL;
	}
	device_append_peer(dev, p);
	return p;
}

bool device_unlink_peer(struct device *dev, struct peer *p)
{
	size_t i = p->index;

	if (i >= dev->npeers || dev->peers[i] != p)
		return false;
	dev->peers[i] = dev->peers[--dev->npeers];
	dev->peers[i]->index = i;
	keymap_remove(dev, p);
	/* A replacement may already own the route: only remove p's own. */
	if (route_table_lookup(&dev->routes, &p->addr) == p)
		route_table_remove(&dev->routes, &p->addr);
	if (route_table_lookup(&dev->sessions, &p->addr) == p)
		route_table_remove(&dev->sessions, &p->addr);
	/* Routes through it move elsewhere (or go) before the caller frees it. */
	if (dev->hooks.unlinked)
		dev->hooks.unlinked(dev, p);
	/* Unlink the keys from the index; the caller waits out the batches before freeing. */
	peer_clear_keys(p);
	return true;
}

void device_remove_peer(struct device *dev, struct peer *p)
{
	if (!device_unlink_peer(dev, p))
		return;
	if (dev->threads_running)
		qsbr_synchronize(&dev->qsbr);
	free_peer(p);
}

void device_remove_all_peers(struct device *dev)
{
	while (dev->npeers)
		device_remove_peer(dev, dev->peers[dev->npeers - 1]);
	free(dev->peers);
	dev->peers = NULL;
	free(dev->keymap);
	dev->keymap = NULL;
	dev->keymap_size = 0;
}

struct peer *device_session_for(struct device *dev, const struct in6_addr *a)
{
	struct peer *p = route_table_lookup(&dev->sessions, a);
	struct peer *c;

	if (!p || !atomic_load_explicit(&p->remote_device, memory_order_relaxed))
		return p;
	/* Connected to us after all (its Via names another): our own packets go to it directly. */
	if (peer_hop(p) == p)
		return p;
	c = atomic_load_explicit(&p->carrier, memory_order_acquire);
	return c;
}

bool peer_carries(struct peer *p, const struct in6_addr *src)
{
	struct peer *d = route_table_lookup(&p->dev->sessions, src);
	bool yes = false;

	if (!d || d == p)
		return d == p;
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nvia_addr && !yes; i++)
		yes = memcmp(&d->via_addr[i], &p->addr, sizeof(p->addr)) == 0;
	pthread_mutex_unlock(&d->lock);
	return yes;
}
