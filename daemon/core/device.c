// SPDX-License-Identifier: ISC
/* Bringing the interface up and down, and the peer list of the control thread. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/platform/netlink.h"
#include "routing/router.h"
#include "daemon/platform/tun.h"
#include "daemon/platform/udp.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

uint64_t now_mono(void)
{
	struct timespec ts;

	/* Boot time counts suspended time too, so key ages stay true across a suspend. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Timer jitter needs no cryptographic strength, and the data threads ask for
 * it per batch: a per-thread xorshift seeded once from libsodium avoids a
 * getrandom() call each time.
 */
uint64_t random_jitter(void)
{
	static _Thread_local uint64_t state;

	while (!state)
		randombytes_buf(&state, sizeof(state));
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state % WG_REKEY_TIMEOUT_JITTER;
}

void device_wake(struct device *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("wake: %s", strerror(errno));
}

void device_fail(struct device *dev, const char *why)
{
	log_error("%s", why);
	atomic_store(&dev->failed, true);
	device_wake(dev);
}

static int setup_interface(struct device *dev)
{
	int r;

	dev->ifindex = if_nametoindex(dev->ifname);
	if (!dev->ifindex)
		return -errno;
	if ((r = nl_link_set_mtu(dev->ifindex, dev->mtu)) < 0)
		return r;
	if ((r = nl_link_set_up(dev->ifindex, 1)) < 0)
		return r;
	if ((r = nl_addr_add6(dev->ifindex, device_addr(dev), 128)) < 0)
		return r;
	struct in6_addr mesh = {.s6_addr = {ALAMESH_ADDR_PREFIX & 0xfe}};
	return nl_route_add6(dev->ifindex, &mesh, 7);
}

static bool stage_pool_init(struct device *dev)
{
	dev->stage_pool = calloc(STAGE_POOL_SIZE, sizeof(*dev->stage_pool));
	if (!dev->stage_pool)
		return false;
	for (size_t i = 0; i < STAGE_POOL_SIZE; i++) {
		dev->stage_pool[i].next = dev->stage_free;
		dev->stage_free = &dev->stage_pool[i];
	}
	return pthread_mutex_init(&dev->stage_lock, NULL) == 0;
}

int device_up(struct device *dev, const char *ifname, uint32_t mtu, uint16_t port,
	      const uint8_t private_key[WG_KEY_LEN])
{
	int r;

	*dev = (struct device){
	    .tun_fd = -1, .udp_fd = -1, .wake_fd = -1, .stop_fd = -1, .rx_kick_fd = -1};
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
	dev->mtu = mtu;
	if (!wg_identity_set(&dev->identity, private_key))
		return -EINVAL;
	alamesh_addr(&dev->addr_slot[0], dev->identity.public_key);
	wg_cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	qsbr_init(&dev->qsbr, 2);
	if (!wg_index_init(&dev->index) || !route_table_init(&dev->routes) ||
	    !wg_ratelimiter_init(&dev->ratelimiter, RL_MAX_SOURCES) || !stage_pool_init(dev))
		return -ENOMEM;

	if ((r = tun_open(ifname, &dev->tun_fd, 1)) < 0) {
		log_error("cannot create TUN %s: %s", ifname, strerror(-r));
		return r;
	}
	if ((r = tun_enable_offload(dev->tun_fd)) < 0)
		log_warn("%s: no TUN offloads (%s); packets go one by one", ifname, strerror(-r));
	if ((r = setup_interface(dev)) < 0) {
		log_error("cannot configure %s: %s", ifname, strerror(-r));
		return r;
	}
	dev->listen_port = port;
	if ((r = udp_open(&dev->listen_port)) < 0) {
		log_error("cannot listen on UDP port %u: %s", port, strerror(-r));
		return r;
	}
	dev->udp_fd = r;
	dev->udp_gso = true; /* until the kernel refuses a train */
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->rx_kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->wake_fd < 0 || dev->stop_fd < 0 || dev->rx_kick_fd < 0)
		return -errno;
	return 0;
}

int device_start(struct device *dev)
{
	int r = pthread_create(&dev->tx_thread, NULL, tx_thread_main, dev);

	if (r)
		return -r;
	r = pthread_create(&dev->rx_thread, NULL, rx_thread_main, dev);
	if (r) {
		uint64_t one = 1;
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			log_error("stop: %s", strerror(errno));
		pthread_join(dev->tx_thread, NULL);
		return -r;
	}
	dev->threads_running = true;
	return 0;
}

static void free_peer(struct peer *p)
{
	mesh_peer_freed(p->dev, p);
	peer_clear_keys(p);
	stage_drop_all(p->dev, p);
	pthread_mutex_destroy(&p->lock);
	sodium_memzero(p, sizeof(*p)); /* preshared key, static-static DH, cookies */
	free(p);
}

void device_down(struct device *dev)
{
	if (dev->threads_running) {
		uint64_t one = 1;
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			log_error("stop: %s", strerror(errno));
		pthread_join(dev->tx_thread, NULL);
		pthread_join(dev->rx_thread, NULL);
		dev->threads_running = false;
	}
	while (dev->npeers)
		device_remove_peer(dev, dev->peers[dev->npeers - 1]);
	free(dev->peers);
	dev->peers = NULL;
	free(dev->keymap);
	dev->keymap = NULL;
	dev->keymap_size = 0;
	/* Closing the TUN removes the (non-persistent) interface. */
	if (dev->tun_fd >= 0)
		close(dev->tun_fd);
	if (dev->udp_fd >= 0)
		close(dev->udp_fd);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	if (dev->stop_fd >= 0)
		close(dev->stop_fd);
	if (dev->rx_kick_fd >= 0)
		close(dev->rx_kick_fd);
	dev->tun_fd = dev->udp_fd = dev->wake_fd = dev->stop_fd = dev->rx_kick_fd = -1;
	if (dev->stage_pool) {
		sodium_memzero(dev->stage_pool, STAGE_POOL_SIZE * sizeof(*dev->stage_pool));
		free(dev->stage_pool);
		pthread_mutex_destroy(&dev->stage_lock);
		dev->stage_pool = NULL;
	}
	mesh_free(dev);
	route_table_destroy(&dev->routes);
	wg_index_destroy(&dev->index);
	wg_ratelimiter_destroy(&dev->ratelimiter);
	wg_identity_clear(&dev->identity);
	sodium_memzero(&dev->cookie_checker, sizeof(dev->cookie_checker));
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
	if (dev->router)
		mesh_peer_linked(dev, p);
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
	/* Routes through it move elsewhere (or go) before the caller frees it. */
	if (dev->router)
		mesh_peer_unlinked(dev, p);
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
