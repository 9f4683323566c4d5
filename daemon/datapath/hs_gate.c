// SPDX-License-Identifier: ISC
/* The receive thread's checks on handshake messages before they are queued (hs_gate.h). */
#include <string.h>

#include "daemon/datapath/hs_gate.h"
#include "daemon/core/device.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/send.h"
#include "daemon/platform/udp.h"
#include "wgproto/cookie.h"
#include "wgproto/index.h"
#include "wgproto/messages.h"

/*
 * The receive thread decides what counts as load, since it sees the queue
 * fill: the queue is deep, or was less than HS_LOAD_HOLD ago (the cheap
 * answers under load drain it fast, and the flood goes on). Only messages
 * with a right mac1 ever fill it, so a stranger's flood never makes load.
 */
static bool under_load(struct device *dev, uint32_t depth, uint64_t now)
{
	if (depth >= HS_UNDER_LOAD)
		dev->rx_last_deep = now;
	return dev->rx_last_deep && now - dev->rx_last_deep < HS_LOAD_HOLD;
}

/*
 * Whether a cookie reply answers a handshake of ours still waiting: an
 * initiation's index (a handshake in the index table), or a response's,
 * which is the responder's keypair from the moment it is derived and waits
 * in next until the initiator's first data confirms it.
 */
static bool awaited(struct device *dev, const struct wg_msg_cookie *msg)
{
	uint32_t idx = wg_le32(msg->receiver);
	struct wg_keypair *kp;
	bool waits = false;

	/* Only tested, never followed: the control thread owns the handshake. */
	if (wg_index_get_handshake(&dev->index, idx))
		return true;
	kp = wg_index_get_keypair(&dev->index, idx);
	if (!kp)
		return false;
	if (!kp->initiator) {
		/* The keypair holds its peer until the batch ends (qsbr). */
		struct peer *p = kp->peer;
		pthread_mutex_lock(&p->lock);
		waits = p->keypairs.next == kp;
		pthread_mutex_unlock(&p->lock);
	}
	wg_keypair_put(kp);
	return waits;
}

/*
 * mac1, and under load mac2, of an initiation or response: HS_QUEUED when
 * it may take a queue slot (the rate limiter still to ask under load).
 * A message without mac2 under load gets its cookie reply here.
 */
static enum hs_verdict check_macs(struct device *dev, const uint8_t *buf, size_t len,
				  const struct sockaddr_in6 *src, bool ask_cookie, uint64_t now)
{
	struct wg_cookie_checker *cc = &dev->cookie_checker;
	struct wg_msg_cookie reply;
	uint8_t s[WG_COOKIE_SRC_MAX];
	size_t slen = udp_cookie_src(src, s);
	enum hs_verdict v = HS_QUEUED;

	pthread_mutex_lock(&dev->cookie_lock);
	if (!wg_cookie_check_mac1(cc, buf, len)) {
		v = HS_BAD_MAC1;
	} else if (ask_cookie && !wg_cookie_check_mac2(cc, buf, len, s, slen, now)) {
		/* The reply carries the message's sender index, and its mac1 as associated data. */
		wg_cookie_reply_create(&reply, cc, buf, len, s, slen, now);
		v = HS_COOKIE_SENT;
	}
	pthread_mutex_unlock(&dev->cookie_lock);
	if (v == HS_COOKIE_SENT && send_datagram(dev, src, &reply, sizeof(reply)) == 0)
		atomic_fetch_add_explicit(&dev->hs_cookies_sent, 1, memory_order_relaxed);
	return v;
}

/* Copies the message into the queue's next slot: false when the queue is full. */
static bool enqueue(struct device *dev, const uint8_t *buf, size_t len,
		    const struct sockaddr_in6 *src, const struct peer *via, uint32_t head,
		    uint32_t tail)
{
	struct hs_item *it;

	if (tail - head >= HS_QUEUE_SIZE || len > sizeof(it->data))
		return false;
	it = &dev->hs_queue[tail % HS_QUEUE_SIZE];
	memcpy(it->data, buf, len);
	it->len = (uint32_t)len;
	it->src = *src;
	it->relayed = via != NULL;
	if (via)
		memcpy(it->via, via->handshake.remote_static, WG_KEY_LEN);
	atomic_store_explicit(&dev->hs_tail, tail + 1, memory_order_release);
	device_wake(dev);
	return true;
}

static void count(struct device *dev, enum hs_verdict v)
{
	_Atomic uint64_t *c = NULL;

	switch (v) {
	case HS_BAD_MAC1:
		c = &dev->hs_bad_mac1;
		break;
	case HS_UNMATCHED:
		c = &dev->hs_cookie_unmatched;
		break;
	case HS_REFUSED:
		c = &dev->hs_refused;
		break;
	case HS_QUEUED:
	case HS_COOKIE_SENT:
		break;
	}
	if (c)
		atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

enum hs_verdict hs_gate(struct device *dev, const uint8_t *buf, size_t len,
			const struct sockaddr_in6 *src, const struct peer *via, uint64_t now)
{
	uint32_t tail = atomic_load_explicit(&dev->hs_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&dev->hs_head, memory_order_acquire);
	bool load = under_load(dev, tail - head, now);
	enum hs_verdict v;

	if (wg_msg_type(buf, len) == WG_MSG_COOKIE) {
		/* Replies to our own messages: never limited, but they must be ours. */
		v = awaited(dev, (const struct wg_msg_cookie *)buf) ? HS_QUEUED : HS_UNMATCHED;
	} else {
		v = check_macs(dev, buf, len, src, load && !via, now);
		/* Past mac1 (and mac2 unless relayed): now, and only now, it counts. */
		if (v == HS_QUEUED && load &&
		    !wg_ratelimiter_allow(&dev->ratelimiter, &src->sin6_addr, now))
			v = HS_REFUSED;
	}
	if (v == HS_QUEUED && !enqueue(dev, buf, len, src, via, head, tail))
		v = HS_REFUSED; /* full: overload, drop */
	count(dev, v);
	return v;
}
