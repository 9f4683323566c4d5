// SPDX-License-Identifier: ISC
/*
 * Applying a parsed set=1 request to the running device, whole or not at
 * all. The request is first folded into one outcome per public key, in
 * order, as wg(8) means it (remove, update_only, replace_peers, a key named
 * twice). Then everything that can fail is done in a reversible way: the
 * new UDP socket is bound, the fwmark set, the new address added, new peers
 * allocated and routed. Only when all of that worked are the changes that
 * cannot fail committed. Runs on the control thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/platform/netlink.h"
#include "daemon/uapi/apply.h"
#include "daemon/platform/udp.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"
#include "daemon/core/keys.h"
#include "daemon/datapath/send.h"
#include "daemon/control/handshake.h"

/* The outcome for one public key named in the request. */
struct outcome {
	uint8_t key[WG_KEY_LEN];
	struct peer *existing; /* the peer of that key before the request */
	bool exists;	       /* there is a peer of that key after it */
	bool fresh;	       /* ... and it is a new one (new key, or removed and named again) */
	bool has_psk, has_endpoint, has_keepalive;
	uint8_t psk[WG_KEY_LEN];
	struct sockaddr_in6 endpoint;
	uint16_t keepalive;
	struct peer *created; /* fresh peers: made in the prepare phase */
};

struct plan {
	struct outcome *out;
	size_t nout;
	uint32_t *slots; /* open addressing over out[], by key */
	size_t nslots;
	bool new_identity;
	struct wg_identity identity;
	struct in6_addr new_addr;
	bool addr_added;
	int new_udp_fd;
	uint16_t new_port;
	bool mark_changed;
	bool replace_peers;
	struct peer **gone; /* unlinked at commit, freed after the data threads' batches */
};

static int apply_fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int apply_fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -e;
}

static uint32_t *slot_for(struct plan *pl, const uint8_t key[WG_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	for (size_t i = h & (pl->nslots - 1);; i = (i + 1) & (pl->nslots - 1)) {
		uint32_t *s = &pl->slots[i];
		if (!*s || !memcmp(pl->out[*s - 1].key, key, WG_KEY_LEN))
			return s;
	}
}

/* Folds the peer blocks in order into one outcome per key. */
static int fold(struct device *dev, const struct uapi_set *set, struct plan *pl)
{
	const uint8_t *own = pl->new_identity ? pl->identity.public_key : dev->identity.public_key;

	pl->nslots = 16;
	while (pl->nslots < set->npeers * 2)
		pl->nslots *= 2;
	pl->slots = calloc(pl->nslots, sizeof(*pl->slots));
	pl->out = calloc(set->npeers ? set->npeers : 1, sizeof(*pl->out));
	if (!pl->slots || !pl->out)
		return -ENOMEM;
	for (size_t i = 0; i < set->npeers; i++) {
		const struct uapi_peer *u = &set->peers[i];
		/* As in wg: our own key is skipped silently, so one script serves every node. */
		if (!memcmp(u->public_key, own, WG_KEY_LEN))
			continue;
		uint32_t *slot = slot_for(pl, u->public_key);
		if (!*slot) {
			struct outcome *o = &pl->out[pl->nout];
			memcpy(o->key, u->public_key, WG_KEY_LEN);
			o->existing = device_find_peer(dev, u->public_key);
			o->exists = o->existing && !set->replace_peers;
			*slot = (uint32_t)++pl->nout;
		}
		struct outcome *o = &pl->out[*slot - 1];
		if (u->remove) {
			o->exists = o->fresh = false;
			continue;
		}
		if (u->update_only && !o->exists)
			continue;
		if (!o->exists) {
			o->exists = o->fresh = true;
			o->has_psk = o->has_endpoint = o->has_keepalive = false;
		}
		if (u->has_psk) {
			o->has_psk = true;
			memcpy(o->psk, u->psk, WG_KEY_LEN);
		}
		if (u->has_endpoint) {
			o->has_endpoint = true;
			o->endpoint = u->endpoint;
		}
		if (u->has_keepalive) {
			o->has_keepalive = true;
			o->keepalive = u->keepalive;
		}
	}
	return 0;
}

static int set_mark(int fd, uint32_t mark)
{
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ? -errno : 0;
}

static void rollback(struct device *dev, struct plan *pl)
{
	for (size_t i = 0; i < pl->nout; i++) {
		struct peer *p = pl->out[i].created;
		if (!p)
			continue;
		if (route_table_lookup(&dev->routes, &p->addr) == p)
			route_table_remove(&dev->routes, &p->addr);
	}
	if (dev->threads_running)
		qsbr_synchronize(&dev->qsbr);
	for (size_t i = 0; i < pl->nout; i++)
		if (pl->out[i].created)
			peer_destroy(pl->out[i].created);
	if (pl->addr_added)
		(void)nl_addr_del6(dev->ifindex, &pl->new_addr, 128);
	if (pl->mark_changed && pl->new_udp_fd < 0)
		(void)set_mark(dev->udp_fd, dev->fwmark);
	if (pl->new_udp_fd >= 0)
		close(pl->new_udp_fd);
}

/* Everything that can fail, each step undone by rollback(). */
static int prepare(struct device *dev, const struct uapi_set *set, struct plan *pl, char *err,
		   size_t errlen)
{
	uint32_t mark = set->has_fwmark ? set->fwmark : dev->fwmark;
	size_t nfresh = 0;
	int r;

	if (set->has_listen_port && (set->listen_port != dev->listen_port || !set->listen_port)) {
		pl->new_port = set->listen_port;
		if ((r = udp_open(&pl->new_port)) < 0)
			return apply_fail(err, errlen, -r, "listen_port=%u: %s", set->listen_port,
					  strerror(-r));
		pl->new_udp_fd = r;
		if (mark && (r = set_mark(pl->new_udp_fd, mark)) < 0)
			return apply_fail(err, errlen, -r, "fwmark=%u: %s", mark, strerror(-r));
	} else if (set->has_fwmark && set->fwmark != dev->fwmark) {
		if ((r = set_mark(dev->udp_fd, set->fwmark)) < 0)
			return apply_fail(err, errlen, -r, "fwmark=%u: %s", set->fwmark,
					  strerror(-r));
		pl->mark_changed = true;
	}
	if (pl->new_identity) {
		if ((r = nl_addr_add6(dev->ifindex, &pl->new_addr, 128)) < 0)
			return apply_fail(err, errlen, -r, "private_key: cannot add address: %s",
					  strerror(-r));
		pl->addr_added = true;
	}
	for (size_t i = 0; i < pl->nout; i++) {
		struct outcome *o = &pl->out[i];
		if (!o->exists || !o->fresh)
			continue;
		o->created = peer_create(dev, o->key, o->has_psk ? o->psk : NULL,
					 o->has_endpoint ? &o->endpoint : NULL,
					 o->has_keepalive ? o->keepalive : 0);
		if (!o->created)
			return apply_fail(err, errlen, ENOMEM, "out of memory");
		nfresh++;
		/* A new key's route now; a replaced peer's route is swapped at commit. */
		if (!o->existing && !route_table_lookup(&dev->routes, &o->created->addr) &&
		    !route_table_add(&dev->routes, &o->created->addr, o->created))
			return apply_fail(err, errlen, ENOMEM, "out of memory");
	}
	if (!device_reserve_peers(dev, nfresh))
		return apply_fail(err, errlen, ENOMEM, "out of memory");
	if (!(pl->gone = calloc(dev->npeers + 1, sizeof(*pl->gone))))
		return apply_fail(err, errlen, ENOMEM, "out of memory");
	return 0;
}

static void update_peer(struct peer *p, const struct outcome *o, uint64_t now)
{
	bool keepalive_on = false;

	if (o->has_psk)
		memcpy(p->handshake.preshared_key, o->psk, WG_KEY_LEN);
	pthread_mutex_lock(&p->lock);
	if (o->has_endpoint)
		p->endpoint = o->endpoint;
	if (o->has_keepalive) {
		keepalive_on = o->keepalive && !p->timers.persistent_keepalive_interval;
		p->timers.persistent_keepalive_interval = o->keepalive;
		peer_timers_changed(p);
	}
	pthread_mutex_unlock(&p->lock);
	/* As wg does: turning a keepalive on sends one at once. */
	if (keepalive_on)
		send_keepalive(p, now);
}

/* The new private key: a new address and identity, and every session restarts. */
static void commit_identity(struct device *dev, struct plan *pl)
{
	struct in6_addr old = *device_addr(dev);
	unsigned int cur = atomic_load(&dev->addr_cur) & 1;

	wg_identity_set(&dev->identity, pl->identity.private_key);
	pthread_mutex_lock(&dev->cookie_lock); /* the receive thread checks macs with it */
	wg_cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	pthread_mutex_unlock(&dev->cookie_lock);
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		wg_handshake_rekey_identity(&p->handshake, &dev->identity);
		peer_clear_keys(p);
	}
	dev->addr_slot[!cur] = pl->new_addr;
	atomic_store_explicit(&dev->addr_cur, !cur, memory_order_release);
	if (dev->router)
		mesh_self_changed(dev);
	int r = nl_addr_del6(dev->ifindex, &old, 128);
	if (r < 0)
		log_warn("%s: cannot remove the old address: %s", dev->ifname, strerror(-r));
}

static void commit(struct device *dev, const struct uapi_set *set, struct plan *pl)
{
	uint64_t now = now_mono();
	size_t ngone = 0;

	if (pl->new_udp_fd >= 0) {
		/* Same descriptor number, new socket: the data threads never see a closed fd. */
		if (dup2(pl->new_udp_fd, dev->udp_fd) < 0) {
			log_error("%s: cannot switch UDP socket: %s", dev->ifname, strerror(errno));
		} else {
			uint64_t one = 1;
			dev->listen_port = pl->new_port;
			if (write(dev->rx_kick_fd, &one, sizeof(one)) < 0)
				log_warn("rx kick: %s", strerror(errno));
		}
		close(pl->new_udp_fd);
		pl->new_udp_fd = -1;
	}
	if (set->has_fwmark)
		dev->fwmark = set->fwmark;

	/* Peers that go: not named under replace_peers, removed, or replaced by a fresh one. */
	for (size_t i = dev->npeers; i-- > 0;) {
		struct peer *p = dev->peers[i];
		uint32_t *slot = slot_for(pl, p->handshake.remote_static);
		struct outcome *o = *slot ? &pl->out[*slot - 1] : NULL;
		bool drop = o ? (!o->exists || o->fresh) : set->replace_peers;
		if (pl->new_identity &&
		    !memcmp(p->handshake.remote_static, pl->identity.public_key, WG_KEY_LEN))
			drop = true; /* our new key was a peer's: wg drops that peer */
		if (!drop)
			continue;
		if (o && o->created)
			route_table_replace(&dev->routes, &p->addr, o->created, NULL);
		device_unlink_peer(dev, p);
		pl->gone[ngone++] = p;
	}
	for (size_t i = 0; i < pl->nout; i++)
		if (pl->out[i].created)
			device_append_peer(dev, pl->out[i].created);
	/* After the appends, so the new peers' static-static DH uses the new key too. */
	if (pl->new_identity)
		commit_identity(dev, pl);
	for (size_t i = 0; i < pl->nout; i++) {
		struct outcome *o = &pl->out[i];
		struct peer *p = o->created;
		if (p) {
			/* A new peer with a keepalive is dialled at once, as at start-up. */
			if (p->timers.persistent_keepalive_interval && p->endpoint.sin6_family)
				handshake_send_initiation(p, false);
			o->created = NULL;
		} else if (o->exists && o->existing) {
			update_peer(o->existing, o, now);
		}
	}
	if (dev->threads_running)
		qsbr_synchronize(&dev->qsbr);
	for (size_t i = 0; i < ngone; i++)
		peer_destroy(pl->gone[i]);
}

int uapi_apply(struct device *dev, const struct uapi_set *set, char *err, size_t errlen)
{
	struct plan pl = {.new_udp_fd = -1};
	int r;

	err[0] = '\0';
	if (set->has_private_key) {
		if (!wg_identity_set(&pl.identity, set->private_key)) {
			r = apply_fail(err, errlen, EINVAL, "private_key: not a usable key");
			goto out;
		}
		pl.new_identity = sodium_memcmp(pl.identity.public_key, dev->identity.public_key,
						WG_KEY_LEN) != 0;
		alamesh_addr(&pl.new_addr, pl.identity.public_key);
	}
	pl.replace_peers = set->replace_peers;
	if ((r = fold(dev, set, &pl)) < 0) {
		apply_fail(err, errlen, -r, "out of memory");
		goto out;
	}
	if ((r = prepare(dev, set, &pl, err, errlen)) < 0) {
		rollback(dev, &pl);
		goto out;
	}
	commit(dev, set, &pl);
	r = 0;
out:
	if (pl.out)
		sodium_memzero(pl.out, set->npeers * sizeof(*pl.out));
	free(pl.out);
	free(pl.slots);
	free(pl.gone);
	wg_identity_clear(&pl.identity);
	return r;
}
