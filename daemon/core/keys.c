// SPDX-License-Identifier: ISC
/* A peer's session keys as every thread uses them (keys.h). */
#include "daemon/core/keys.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"

void peer_want_handshake(struct peer *p)
{
	if (!atomic_exchange(&p->handshake_wanted, true))
		device_wake(p->dev);
}

/* peer_begin_send() with p->lock held. */
static struct wg_keypair *begin_locked(struct peer *p, uint64_t now, uint32_t n, bool data,
				       uint64_t *first, struct sockaddr_in6 *dst)
{
	struct wg_keypair *kp = p->keypairs.current;
	bool rekey = false;

	if (!kp || (dst && p->endpoint.sin6_family != AF_INET6) ||
	    !wg_keypair_reserve(kp, now, n, first))
		return NULL;
	wg_keypair_get(kp);
	if (dst)
		*dst = p->endpoint;
	rekey = wg_keypair_needs_rekey_on_send(kp, now);
	wg_timers_any_authenticated_packet_sent(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	if (data)
		wg_timers_data_sent(&p->timers, now, random_jitter());
	peer_timers_changed(p);
	if (rekey)
		peer_want_handshake(p);
	return kp;
}

struct wg_keypair *peer_begin_send(struct peer *p, uint64_t now, uint32_t n, bool data,
				   uint64_t *first, struct sockaddr_in6 *dst)
{
	pthread_mutex_lock(&p->lock);
	struct wg_keypair *kp = begin_locked(p, now, n, data, first, dst);
	pthread_mutex_unlock(&p->lock);
	return kp;
}

void peer_unregister_handshake(struct peer *p)
{
	if (!p->hs_registered)
		return;
	wg_index_remove(&p->dev->index, p->handshake.local_index);
	p->hs_registered = false;
}

void peer_drop_keypairs(struct device *dev, struct wg_keypair *dropped[3])
{
	for (int i = 0; i < 3; i++) {
		if (!dropped[i])
			continue;
		wg_index_remove(&dev->index, dropped[i]->local_index);
		wg_keypair_put(dropped[i]);
	}
}

void peer_clear_keys(struct peer *p)
{
	struct wg_keypair *dropped[3];

	peer_unregister_handshake(p);
	wg_handshake_clear(&p->handshake);
	pthread_mutex_lock(&p->lock);
	wg_keypairs_clear(&p->keypairs, dropped);
	pthread_mutex_unlock(&p->lock);
	peer_drop_keypairs(p->dev, dropped);
}
