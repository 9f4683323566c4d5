// SPDX-License-Identifier: ISC
/*
 * The receive thread: UDP -> decrypt -> replay check -> TUN, a batch at a
 * time with recvmmsg(). Transport messages are decrypted in place here;
 * handshake messages are copied to the control thread's queue, where mac1 is
 * checked before any Diffie-Hellman.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon/device.h"
#include "daemon/log.h"
#include "daemon/offload.h"
#include "daemon/packet.h"
#include "daemon/udp.h"
#include "wgproto/crypto.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"

#define RX_TID 1

/*
 * With UDP GRO one receive slot holds a whole train of datagrams from one
 * source, all of one size but the last: up to 64 KiB.
 */
#define RX_SLOTS    32
#define RX_BUF_SIZE 65536

struct rx_batch {
	uint8_t (*buf)[RX_BUF_SIZE];
	struct mmsghdr msg[RX_SLOTS];
	struct iovec iov[RX_SLOTS];
	struct sockaddr_in6 src[RX_SLOTS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsg[RX_SLOTS];
};

/* What one run of packets from the same peer did, applied under its lock once. */
struct rx_run {
	struct peer *peer;
	struct wg_keypair *kp; /* the keypair of the last packet, referenced */
	struct sockaddr_in6 src;
	uint64_t bytes;
	bool data;
};

/*
 * The receive thread decides what counts as load, since it sees the queue
 * fill: the queue is deep, or was less than HS_LOAD_HOLD ago (the cheap
 * answers under load drain it fast, and the flood goes on). Under load every
 * source gets its share of the queue, cookie or not, so one flooding host
 * cannot crowd out everyone else's handshakes; the limit applies before
 * queueing, where a flood would otherwise win.
 */
static bool under_load(struct device *dev, uint32_t depth, uint64_t now)
{
	if (depth >= HS_UNDER_LOAD)
		dev->rx_last_deep = now;
	return dev->rx_last_deep && now - dev->rx_last_deep < HS_LOAD_HOLD;
}

static void enqueue_handshake(struct device *dev, const uint8_t *buf, size_t len,
			      const struct sockaddr_in6 *src, uint64_t now)
{
	uint32_t tail = atomic_load_explicit(&dev->hs_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&dev->hs_head, memory_order_acquire);
	bool load = under_load(dev, tail - head, now);
	struct hs_item *it;

	/* Cookie replies answer our own initiations: never limited. */
	if (load && wg_msg_type(buf, len) != WG_MSG_COOKIE &&
	    !wg_ratelimiter_allow(&dev->ratelimiter, &src->sin6_addr, now))
		return;
	if (tail - head >= HS_QUEUE_SIZE)
		return; /* full: under attack or overload, drop */
	it = &dev->hs_queue[tail % HS_QUEUE_SIZE];
	memcpy(it->data, buf, len);
	it->len = (uint32_t)len;
	it->src = *src;
	it->under_load = load;
	atomic_store_explicit(&dev->hs_tail, tail + 1, memory_order_release);
	device_wake(dev);
}

/*
 * A routing frame goes to the control thread, which runs the router. A
 * full queue drops it: routing repeats itself, packets must not wait.
 */
static void enqueue_routing(struct device *dev, const struct peer *p, const uint8_t *frame,
			    size_t len)
{
	uint32_t tail = atomic_load_explicit(&dev->rt_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&dev->rt_head, memory_order_acquire);
	struct rt_item *it;

	if (tail - head >= RT_QUEUE_SIZE || !dev->rt_queue)
		return;
	it = &dev->rt_queue[tail % RT_QUEUE_SIZE];
	if (len > sizeof(it->data))
		len = sizeof(it->data); /* rt_frame_check() refuses what this cuts */
	/* The one field of the handshake no thread ever changes: the peer's identity. */
	memcpy(it->key, p->handshake.remote_static, WG_KEY_LEN);
	memcpy(it->data, frame, len);
	it->len = (uint32_t)len;
	atomic_store_explicit(&dev->rt_tail, tail + 1, memory_order_release);
	dev->rx_rt_queued = true;
}

static void run_flush(struct rx_run *run, uint64_t now)
{
	struct peer *p = run->peer;
	bool rekey;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	wg_timers_any_authenticated_packet_received(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	if (run->data)
		wg_timers_data_received(&p->timers, now);
	peer_timers_changed(p);
	/* Roaming: the endpoint follows the latest authenticated packet. */
	if (!udp_same(&p->endpoint, &run->src))
		p->endpoint = run->src;
	rekey = p->keypairs.current == run->kp && wg_keypair_needs_rekey_on_receive(run->kp, now) &&
		wg_timers_lastminute_handshake(&p->timers);
	pthread_mutex_unlock(&p->lock);

	if (rekey && !atomic_exchange(&p->handshake_wanted, true))
		device_wake(p->dev);
	atomic_fetch_add(&p->rx_bytes, run->bytes);
	wg_keypair_put(run->kp);
	*run = (struct rx_run){0};
}

/*
 * The first packet on a responder's next keypair confirms the session: it
 * becomes current before the packet reaches the TUN, so that an immediate
 * answer (an echo reply) already finds it.
 */
static void run_begin(struct rx_run *run, struct peer *p, struct wg_keypair *kp, uint64_t now)
{
	struct wg_keypair *dropped = NULL;
	bool confirmed, staged;

	run->peer = p;
	run->kp = kp;
	pthread_mutex_lock(&p->lock);
	confirmed = wg_keypairs_received_with(&p->keypairs, kp, &dropped);
	staged = confirmed && p->nstaged;
	if (confirmed) {
		wg_timers_handshake_complete(&p->timers, now);
		peer_timers_changed(p);
	}
	pthread_mutex_unlock(&p->lock);
	if (confirmed) {
		char name[WG_KEY_B64_LEN + 1];
		/* What waited for this session goes out from the control thread. */
		if (staged && !atomic_exchange(&p->staged_wanted, true))
			device_wake(p->dev);
		atomic_store(&p->last_handshake_ns, now_wall());
		peer_name(p, name);
		log_info("peer %s: handshake complete (responder), first data received", name);
	}
	if (dropped) {
		wg_index_remove(&p->dev->index, dropped->local_index);
		wg_keypair_put(dropped);
	}
}

/* Decrypts one transport message in place and delivers its packet. */
static void receive_data(struct device *dev, uint8_t *buf, size_t len,
			 const struct sockaddr_in6 *src, struct rx_run *run, struct gro *gro,
			 uint64_t now)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;
	struct wg_keypair *kp;
	size_t plen;

	kp = wg_index_get_keypair(&dev->index, wg_le32(hdr->receiver));
	if (!kp)
		return;
	if (wg_transport_open(kp, buf, len, now, &plen) != WG_OPEN_OK) {
		wg_keypair_put(kp);
		return;
	}
	struct peer *p = kp->peer;
	if (run->peer != p || run->kp != kp)
		run_flush(run, now);
	if (!run->peer) {
		run_begin(run, p, kp, now);
	} else {
		wg_keypair_put(kp); /* the run already holds this keypair */
	}
	run->src = *src;
	run->bytes += len;
	if (plen == 0)
		return; /* keepalive */
	run->data = true;

	const uint8_t *pkt = hdr->encrypted;
	if (rt_frame_is(pkt, plen)) {
		enqueue_routing(dev, p, pkt, plen);
		return;
	}
	size_t pktlen = ipv6_packet_len(pkt, plen);
	/*
	 * Only the peer's own address may appear as the source of what it
	 * sends, and only ours as the destination: a member is no gateway.
	 */
	if (!pktlen || !in6_equal(ipv6_src(pkt), &p->addr) ||
	    !in6_equal(ipv6_dst(pkt), device_addr(dev))) {
		log_debug("dropping packet from peer %s: bad source or not IPv6",
			  udp_format(src, (char[64]){0}, 64));
		return;
	}
	gro_add(gro, (uint8_t *)pkt, pktlen);
}

static int tun_emit(void *ctx, const struct iovec *iov, int n)
{
	struct device *dev = ctx;
	ssize_t r = writev(dev->tun_fd, iov, n);

	if (r < 0 && errno != EAGAIN)
		log_debug("tun write: %s", strerror(errno));
	return r < 0 ? -errno : 0;
}

static void receive_one(struct device *dev, uint8_t *buf, size_t len,
			const struct sockaddr_in6 *src, struct rx_run *run, struct gro *gro,
			uint64_t now)
{
	switch (wg_msg_type(buf, len)) {
	case WG_MSG_DATA:
		receive_data(dev, buf, len, src, run, gro, now);
		break;
	case WG_MSG_INITIATION:
	case WG_MSG_RESPONSE:
	case WG_MSG_COOKIE:
		enqueue_handshake(dev, buf, len, src, now);
		break;
	default:
		break;
	}
}

/* The datagram size of a UDP GRO train, or the whole length for one datagram. */
static size_t segment_size(struct msghdr *m, size_t len)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		int size;
		if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO ||
		    c->cmsg_len < CMSG_LEN(sizeof(size)))
			continue;
		memcpy(&size, CMSG_DATA(c), sizeof(size));
		if (size > 0 && (size_t)size < len)
			return (size_t)size;
	}
	return len;
}

static void receive_batch(struct device *dev, struct rx_batch *b, unsigned int n)
{
	struct rx_run run = {0};
	struct gro gro;
	uint64_t now = now_mono();

	gro_init(&gro, tun_emit, dev);
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *m = &b->msg[i].msg_hdr;
		size_t len = b->msg[i].msg_len;

		if (m->msg_flags & MSG_TRUNC)
			continue;
		size_t seg = segment_size(m, len);
		for (size_t off = 0; off < len; off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			receive_one(dev, b->buf[i] + off, l, &b->src[i], &run, &gro, now);
		}
	}
	gro_flush(&gro);
	run_flush(&run, now);
	if (dev->rx_rt_queued) {
		dev->rx_rt_queued = false;
		device_wake(dev);
	}
}

static void rx_prepare(struct rx_batch *b)
{
	for (unsigned int i = 0; i < RX_SLOTS; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = RX_BUF_SIZE;
		b->msg[i].msg_hdr = (struct msghdr){
		    .msg_name = &b->src[i],
		    .msg_namelen = sizeof(b->src[i]),
		    .msg_iov = &b->iov[i],
		    .msg_iovlen = 1,
		    .msg_control = b->cmsg[i].buf,
		    .msg_controllen = sizeof(b->cmsg[i].buf),
		};
	}
}

void *rx_thread_main(void *arg)
{
	struct device *dev = arg;
	struct rx_batch b = {0};
	struct pollfd pfd[3] = {
	    {.fd = dev->udp_fd, .events = POLLIN},
	    {.fd = dev->stop_fd, .events = POLLIN},
	    {.fd = dev->rx_kick_fd, .events = POLLIN},
	};

	b.buf = aligned_alloc(64, sizeof(*b.buf) * RX_SLOTS);
	if (!b.buf) {
		device_fail(dev, "receive thread: out of memory");
		return NULL;
	}
	for (;;) {
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (pfd[2].revents) {
			/* udp_fd now names a new socket: drain the kick and poll that one. */
			uint64_t v;
			if (read(dev->rx_kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
			continue;
		}
		/* A bounded run of full batches, then poll again, which sees a stop. */
		for (int k = 0; k < 16; k++) {
			rx_prepare(&b);
			int n = recvmmsg(dev->udp_fd, b.msg, RX_SLOTS, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			qsbr_enter(&dev->qsbr, RX_TID);
			receive_batch(dev, &b, (unsigned int)n);
			qsbr_leave(&dev->qsbr, RX_TID);
			if (n < RX_SLOTS)
				break;
		}
	}
	free(b.buf);
	return NULL;
}
