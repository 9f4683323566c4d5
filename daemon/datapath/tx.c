// SPDX-License-Identifier: ISC
/*
 * The transmit thread: TUN -> session and path lookup -> encrypt -> UDP, a
 * batch at a time. Packets are read straight into buffers that leave room for the
 * transport header, encrypted in place and handed to one sendmmsg()
 * (batch.c, which the receive thread's forwarding shares), so the hot path
 * neither copies nor allocates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/datapath/tx.h"
#include "daemon/base/clock.h"
#include "daemon/base/log.h"
#include "daemon/base/packet.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/batch.h"
#include "daemon/datapath/forward.h"
#include "daemon/datapath/icmp6.h"
#include "daemon/datapath/relay.h"
#include "daemon/platform/offload.h"
#include "daemon/platform/tun.h"
#include "routing/address.h"

#define TX_TID 0

/* Stop reading when fewer slots than a typical 64 KiB super-packet needs are left. */
#define TX_SLOTS_LOW (BATCH_SLOTS - 64)
/* A stuck socket holds TUN reads for this long before the batch is dropped. */
#define TX_WAIT_MS 100
/* At most one warning per this about packets from the TUN with a foreign source. */
#define TUN_FOREIGN_LOG_EVERY (10 * NSEC_PER_SEC)

struct tx_batch {
	struct batch out;
	uint8_t *frame;	  /* one TUN read: vnet header + up to 64 KiB */
	size_t frame_len; /* a frame read but not yet cut (no room left) */
};

/* Answers our own host: no route (mtu 0), or a relayed path's Packet Too Big. */
static void reply(struct device *dev, const uint8_t *pkt, uint32_t len, uint32_t mtu, uint64_t now)
{
	uint8_t out[VNET_HDR_LEN + 1280];
	size_t n;

	if (!icmp6_rate_allow(&dev->icmp_tokens_ns, now))
		return;
	if (mtu)
		n = icmp6_too_big(out + VNET_HDR_LEN, sizeof(out) - VNET_HDR_LEN, pkt, len,
				  device_addr(dev), mtu);
	else
		n = icmp6_unreachable(out + VNET_HDR_LEN, sizeof(out) - VNET_HDR_LEN, pkt, len,
				      device_addr(dev), 0);
	int r = n ? tun_write_plain(dev->tun_fd, out, n) : 0;
	if (r < 0)
		log_debug("tun write (icmp6): %s", strerror(-r));
}

/* The session and hop of the last destination: a stream asks the same one again and again. */
struct tx_cache {
	struct in6_addr dst;
	struct peer *session, *hop;
	bool valid;
};

/*
 * A packet from the TUN with a source not ours: counted and dropped, with a
 * warning now and then (whatever sends them may send many).
 */
static void foreign_source(struct device *dev, const uint8_t *pkt, uint64_t now)
{
	uint64_t n = atomic_fetch_add_explicit(&dev->tun_foreign_source, 1, memory_order_relaxed);
	char src[INET6_ADDRSTRLEN];

	if (dev->tun_foreign_logged && now - dev->tun_foreign_logged < TUN_FOREIGN_LOG_EVERY)
		return;
	dev->tun_foreign_logged = now;
	inet_ntop(AF_INET6, ipv6_src(pkt), src, sizeof(src));
	log_warn("dropped a packet from the TUN from %s, which is not this node's address "
		 "(%llu so far): the mesh carries only what comes from its own",
		 src, (unsigned long long)n + 1);
}

static void lookup(struct device *dev, struct tx_cache *c, const struct in6_addr *dst, uint64_t now)
{
	if (c->valid && in6_equal(&c->dst, dst))
		return;
	c->dst = *dst;
	c->valid = true;
	c->session = device_session_for(dev, dst);
	c->hop = c->session ? peer_path(c->session, now) : NULL;
}

/*
 * Finds each packet's session and the hop its path goes through; drops and
 * answers what cannot go: no way there, or too long for a relayed path (a
 * Packet Too Big for that destination, which the kernel remembers).
 */
static void classify(struct device *dev, struct batch *b, uint64_t now)
{
	const struct in6_addr *self = device_addr(dev);
	uint32_t rmtu = relay_mtu(dev->mtu);
	struct tx_cache c = {0};

	for (unsigned int i = 0; i < b->n; i++) {
		const uint8_t *pkt = b->slot[i];
		const struct in6_addr *dst = ipv6_dst(pkt);

		b->peer[i] = NULL;
		b->frame[i] = false;
		if (!alamesh_in_mesh(dst) || in6_equal(dst, self))
			continue;
		if (!fwd_tun_source_ok(ipv6_src(pkt), self)) {
			foreign_source(dev, pkt, now);
			continue;
		}
		lookup(dev, &c, dst, now);
		if (!c.hop) {
			reply(dev, pkt, b->len[i], 0, now);
			continue;
		}
		if (c.hop != c.session && b->len[i] > rmtu) {
			reply(dev, pkt, b->len[i], rmtu, now);
			continue;
		}
		b->peer[i] = c.session;
		b->hop[i] = c.hop;
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
