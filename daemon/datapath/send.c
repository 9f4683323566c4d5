// SPDX-License-Identifier: ISC
/*
 * Sending from the control thread (send.h): a datagram as it is, a
 * keepalive, a routing frame, and what was staged while a handshake ran.
 * These go one by one through a buffer of their own; the data threads'
 * batches go through batch.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/datapath/send.h"
#include "daemon/core/keys.h"
#include "daemon/core/peer.h"
#include "routing/frame.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"
#include "daemon/core/stage.h"

int send_datagram(struct device *dev, const struct sockaddr_in6 *dst, const void *buf, size_t len)
{
	ssize_t r;

	if (dst->sin6_family != AF_INET6)
		return -EDESTADDRREQ;
	do
		r = sendto(dev->udp_fd, buf, len, 0, (const struct sockaddr *)dst, sizeof(*dst));
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/*
 * One message through p's tunnel, now: a keepalive (len 0), or a payload
 * that is not an IP packet (a routing frame, which counts as data for the
 * timers). Without a usable session it asks for one; the message is lost,
 * as neither waits: a keepalive is moot then, and routing repeats itself.
 */
static bool send_one(struct peer *p, const uint8_t *payload, size_t len, bool data, uint64_t now)
{
	uint8_t
	    buf[sizeof(struct wg_msg_data) + RT_FRAME_MAX + WG_PADDING_MULTIPLE + WG_AEAD_TAG_LEN];
	struct sockaddr_in6 dst;
	struct wg_keypair *kp;
	uint64_t counter;

	pthread_mutex_lock(&p->lock);
	kp = peer_begin_send(p, now, 1, data, &counter, &dst);
	pthread_mutex_unlock(&p->lock);
	if (!kp) {
		peer_want_handshake(p);
		return false;
	}
	if (len)
		memcpy(buf + sizeof(struct wg_msg_data), payload, len);
	size_t n = wg_transport_seal(buf, (uint32_t)len, p->dev->mtu, kp, counter);
	wg_keypair_put(kp);
	if (send_datagram(p->dev, &dst, buf, n) != 0)
		return false;
	atomic_fetch_add(&p->tx_bytes, n);
	return true;
}

void send_keepalive(struct peer *p, uint64_t now)
{
	send_one(p, NULL, 0, false, now);
}

bool send_payload(struct peer *p, const uint8_t *payload, size_t len, uint64_t now)
{
	return len <= RT_FRAME_MAX && send_one(p, payload, len, true, now);
}

/* After a handshake: what waited for it goes out, or a keepalive confirms the session. */
void send_staged(struct peer *p, uint64_t now, bool keepalive_if_none)
{
	static uint8_t buf[PACKET_BUF_SIZE]; /* control thread only */
	struct sockaddr_in6 dst;
	struct wg_keypair *kp;
	struct stage_buf *list, *s;
	uint64_t counter;

	pthread_mutex_lock(&p->lock);
	if (!p->staged_head) {
		pthread_mutex_unlock(&p->lock);
		if (keepalive_if_none)
			send_keepalive(p, now);
		return;
	}
	kp = peer_begin_send(p, now, p->nstaged, true, &counter, &dst);
	list = kp ? stage_take_all(p) : NULL;
	pthread_mutex_unlock(&p->lock);
	if (!kp)
		return;
	for (s = list; s; s = s->next) {
		memcpy(buf + sizeof(struct wg_msg_data), s->data, s->len);
		size_t len = wg_transport_seal(buf, s->len, p->dev->mtu, kp, counter++);
		if (send_datagram(p->dev, &dst, buf, len) == 0)
			atomic_fetch_add(&p->tx_bytes, len);
	}
	wg_keypair_put(kp);
	stage_release(p->dev, list);
}
