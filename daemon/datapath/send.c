// SPDX-License-Identifier: ISC
/*
 * The transmit thread: TUN -> route lookup -> encrypt -> UDP, a batch at a
 * time. Packets are read straight into buffers that leave room for the
 * transport header, encrypted in place and handed to one sendmmsg()
 * (batch.c, which the receive thread's forwarding shares), so the hot path
 * neither copies nor allocates.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/datapath/batch.h"
#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/platform/offload.h"
#include "daemon/base/packet.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"

#define TX_TID 0

/* Stop reading when fewer slots than a typical 64 KiB super-packet needs are left. */
#define TX_SLOTS_LOW (BATCH_SLOTS - 64)
/* A stuck socket holds TUN reads for this long before the batch is dropped. */
#define TX_WAIT_MS 100

struct tx_batch {
	struct batch out;
	uint8_t *frame;	  /* one TUN read: vnet header + up to 64 KiB */
	size_t frame_len; /* a frame read but not yet cut (no room left) */
};

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

bool stage_packet(struct device *dev, struct peer *p, const uint8_t *pkt, uint32_t len)
{
	struct stage_buf *s;

	if (len > sizeof(s->data))
		return false;
	pthread_mutex_lock(&dev->stage_lock);
	s = dev->stage_free;
	if (s)
		dev->stage_free = s->next;
	pthread_mutex_unlock(&dev->stage_lock);
	if (!s)
		return false;
	memcpy(s->data, pkt, len);
	s->len = len;
	s->next = NULL;
	/* Caller holds p->lock. When the queue is full the oldest packet goes. */
	if (p->nstaged >= PEER_STAGED_MAX) {
		struct stage_buf *old = p->staged_head;
		p->staged_head = old->next;
		p->nstaged--;
		pthread_mutex_lock(&dev->stage_lock);
		old->next = dev->stage_free;
		dev->stage_free = old;
		pthread_mutex_unlock(&dev->stage_lock);
	}
	if (p->staged_tail && p->staged_head)
		p->staged_tail->next = s;
	else
		p->staged_head = s;
	p->staged_tail = s;
	p->nstaged++;
	return true;
}

static struct stage_buf *stage_take_all(struct peer *p)
{
	struct stage_buf *list = p->staged_head;

	p->staged_head = p->staged_tail = NULL;
	p->nstaged = 0;
	return list;
}

static void stage_release(struct device *dev, struct stage_buf *list)
{
	pthread_mutex_lock(&dev->stage_lock);
	while (list) {
		struct stage_buf *next = list->next;
		list->next = dev->stage_free;
		dev->stage_free = list;
		list = next;
	}
	pthread_mutex_unlock(&dev->stage_lock);
}

void stage_drop_all(struct device *dev, struct peer *p)
{
	pthread_mutex_lock(&p->lock);
	struct stage_buf *list = stage_take_all(p);
	pthread_mutex_unlock(&p->lock);
	stage_release(dev, list);
}

void peer_want_handshake(struct peer *p)
{
	if (!atomic_exchange(&p->handshake_wanted, true))
		device_wake(p->dev);
}

struct wg_keypair *peer_begin_send(struct peer *p, uint64_t now, uint32_t n, bool data,
				   uint64_t *first, struct sockaddr_in6 *dst)
{
	struct wg_keypair *kp = p->keypairs.current;
	bool rekey = false;

	if (!kp || p->endpoint.sin6_family != AF_INET6 || !wg_keypair_reserve(kp, now, n, first))
		return NULL;
	wg_keypair_get(kp);
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

static void reply_unreachable(struct device *dev, const uint8_t *pkt, uint32_t len, uint64_t now)
{
	uint8_t out[VNET_HDR_LEN + 1280] = {0}; /* a zero vnet header: a plain packet */
	size_t n;

	if (!icmp6_rate_allow(&dev->icmp_tokens_ns, now))
		return;
	n = icmp6_unreachable(out + VNET_HDR_LEN, sizeof(out) - VNET_HDR_LEN, pkt, len,
			      device_addr(dev), 0);
	if (n && write(dev->tun_fd, out, VNET_HDR_LEN + n) < 0)
		log_debug("tun write (icmp6): %s", strerror(errno));
}

/* Looks up the next hop of each packet; drops and answers what cannot go. */
static void classify(struct device *dev, struct batch *b, uint64_t now)
{
	for (unsigned int i = 0; i < b->n; i++) {
		const uint8_t *pkt = b->slot[i];
		const struct in6_addr *dst = ipv6_dst(pkt);

		b->peer[i] = NULL;
		if (!alamesh_in_mesh(dst))
			continue;
		b->peer[i] = route_table_lookup(&dev->routes, dst);
		if (!b->peer[i] && !in6_equal(dst, device_addr(dev)))
			reply_unreachable(dev, pkt, b->len[i], now);
	}
}

/*
 * Reads TUN frames, cutting each into packets, until the slots run low or
 * the TUN is empty. A frame that does not fit the slots left is read again
 * after the batch so far is sent.
 */
static bool tun_read_batch(struct device *dev, struct tx_batch *t)
{
	struct batch *b = &t->out;

	while (b->n < TX_SLOTS_LOW) {
		ssize_t r = read(dev->tun_fd, t->frame, OFFLOAD_MAX_FRAME);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		int k = offload_split(t->frame, (size_t)r, dev->mtu, &b->slot[b->n], &b->len[b->n],
				      BATCH_SLOTS - b->n, BATCH_SLOT_CAP);
		if (k < 0) {
			t->frame_len = (size_t)r;
			return true; /* caller sends, then cuts t->frame again */
		}
		b->n += (unsigned int)k;
	}
	return false;
}

static void tx_process(struct device *dev, struct batch *b)
{
	uint64_t now = now_mono();

	classify(dev, b, now);
	batch_send(dev, b, now);
}

void *tx_thread_main(void *arg)
{
	struct device *dev = arg;
	struct tx_batch t = {0};
	struct batch *b = &t.out;
	struct pollfd pfd[2] = {
	    {.fd = dev->tun_fd, .events = POLLIN},
	    {.fd = dev->stop_fd, .events = POLLIN},
	};

	t.frame = malloc(OFFLOAD_MAX_FRAME);
	if (!batch_init(b, TX_WAIT_MS) || !t.frame) {
		device_fail(dev, "transmit thread: out of memory");
		goto out;
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		qsbr_enter(&dev->qsbr, TX_TID);
		bool pending = tun_read_batch(dev, &t);
		tx_process(dev, b);
		if (pending) {
			/* More pieces than slots at all (a tiny MSS) are dropped. */
			int k = offload_split(t.frame, t.frame_len, dev->mtu, b->slot, b->len,
					      BATCH_SLOTS, BATCH_SLOT_CAP);
			b->n = k > 0 ? (unsigned int)k : 0;
			tx_process(dev, b);
		}
		qsbr_leave(&dev->qsbr, TX_TID);
	}
out:
	free(t.frame);
	batch_destroy(b);
	return NULL;
}
