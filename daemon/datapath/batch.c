// SPDX-License-Identifier: ISC
/*
 * The sealing and sending half of both data threads (batch.h): a batch of
 * plaintext packets, each with its next-hop peer, becomes the fewest
 * sendmmsg() messages the kernel takes.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>

#include "daemon/datapath/batch.h"
#include "daemon/base/log.h"
#include "wgproto/transport.h"
#include "daemon/core/peer.h"
#include "daemon/core/keys.h"
#include "daemon/core/stage.h"
#include "daemon/datapath/relay.h"

bool batch_init(struct batch *b, int wait_ms)
{
	*b = (struct batch){.wait_ms = wait_ms};
	b->buf = aligned_alloc(64, sizeof(*b->buf) * BATCH_SLOTS);
	if (!b->buf)
		return false;
	for (unsigned int i = 0; i < BATCH_SLOTS; i++)
		b->slot[i] = b->buf[i] + PACKET_HEADROOM;
	return true;
}

void batch_destroy(struct batch *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* A run of slots [from, to) that go the same way. */
struct run {
	struct peer *p, *hop; /* hop == p: direct */
	bool frame;	      /* relayed messages passed on, sealed for hop only */
	unsigned int from, to;
};

/* Without a session: the run waits for a handshake, if one can start. */
static void stage_run(struct device *dev, struct batch *b, const struct run *r)
{
	struct peer *p = r->p;

	pthread_mutex_lock(&p->lock);
	/* Direct without an endpoint no handshake can start: nothing to wait for. */
	bool may = !r->frame && (r->hop != p || p->endpoint.sin6_family == AF_INET6);
	for (unsigned int i = r->from; i < r->to && may; i++)
		stage_packet(dev, p, b->slot[i], b->len[i]);
	pthread_mutex_unlock(&p->lock);
	peer_want_handshake(p);
}

/*
 * A packet in slot i, sealed in kp's session as a relayed message to p
 * (hop limit from its IPv6 header), then in the hop's session: the
 * end-to-end message's length goes to *inner, the datagram's is returned.
 */
static size_t seal_relayed(struct device *dev, struct batch *b, unsigned int i,
			   const struct peer *p, const struct wg_keypair *kp, uint64_t counter,
			   const struct wg_keypair *hkp, uint64_t hcounter, size_t *inner)
{
	uint8_t *msg = b->slot[i] - sizeof(struct wg_msg_data);
	uint8_t hl = b->len[i] >= 8 && (b->slot[i][0] >> 4) == 6 ? b->slot[i][7] : RELAY_HOP_LIMIT;
	size_t m = wg_transport_seal(msg, b->len[i], relay_mtu(dev->mtu), kp, counter);

	relay_write_hdr(batch_frame(b, i), RELAY_MAGIC_MESSAGE, hl, &p->addr, device_addr(dev), m);
	*inner = m;
	return wg_transport_seal(b->buf[i], (uint32_t)(RELAY_HDR_LEN + m), dev->mtu, hkp, hcounter);
}

/* Encrypts the run's packets, queueing them for sendmmsg. */
static void seal_run(struct device *dev, struct batch *b, const struct run *r, uint64_t now)
{
	unsigned int n = r->to - r->from;
	bool relayed = !r->frame && r->hop != r->p;
	struct sockaddr_in6 dst;
	struct wg_keypair *kp, *hkp = NULL;
	uint64_t counter, hcounter = 0, bytes = 0, inner = 0;

	kp = peer_begin_send(r->p, now, n, true, &counter, relayed ? NULL : &dst);
	if (!kp) {
		stage_run(dev, b, r);
		return;
	}
	if (relayed && !(hkp = peer_begin_send(r->hop, now, n, true, &hcounter, &dst))) {
		/* The relay's own session is down: these are lost, as on any dead link. */
		wg_keypair_put(kp);
		peer_want_handshake(r->hop);
		return;
	}

	struct sockaddr_in6 *d = &b->dst[b->ndst++];
	*d = dst;
	for (unsigned int i = r->from; i < r->to; i++) {
		unsigned int o = b->nout++;
		uint8_t *start = b->slot[i] - sizeof(struct wg_msg_data);
		size_t len, m = 0;

		if (r->frame) {
			start = b->buf[i]; /* the hop's header, before batch_frame() */
			len = wg_transport_seal(start, b->len[i], dev->mtu, kp, counter++);
		} else if (relayed) {
			start = b->buf[i];
			len = seal_relayed(dev, b, i, r->p, kp, counter++, hkp, hcounter++, &m);
		} else {
			len = wg_transport_seal(start, b->len[i], dev->mtu, kp, counter++);
		}
		b->iov[o].iov_base = start;
		b->iov[o].iov_len = len;
		b->to[o] = d;
		bytes += len;
		inner += m;
	}
	wg_keypair_put(kp);
	if (hkp) {
		wg_keypair_put(hkp);
		atomic_fetch_add(&r->hop->tx_bytes, bytes);
		bytes = inner;
	}
	atomic_fetch_add(&r->p->tx_bytes, bytes);
}

/*
 * How many datagrams from first on can go as one UDP GSO train: same
 * destination, all as long as the first but the last, which may be shorter,
 * and within the kernel's segment count and 64 KiB.
 */
static unsigned int gso_run(const struct batch *b, unsigned int first)
{
	size_t size = b->iov[first].iov_len, total = size;
	unsigned int n = 1;

	while (first + n < b->nout && n < UDP_GSO_MAX_SEGS && b->to[first + n] == b->to[first]) {
		size_t len = b->iov[first + n].iov_len;
		if (len > size || total + len > UDP_GSO_MAX_BYTES)
			break;
		total += len;
		n++;
		if (len < size)
			break;
	}
	return n;
}

/* Groups the datagrams from first on into messages b->msg[into..]; returns how many. */
static unsigned int build_messages(struct device *dev, struct batch *b, unsigned int first,
				   unsigned int into)
{
	unsigned int nmsg = into;

	for (unsigned int i = first; i < b->nout;) {
		unsigned int n =
		    atomic_load_explicit(&dev->udp_gso, memory_order_relaxed) ? gso_run(b, i) : 1;
		struct msghdr *m = &b->msg[nmsg].msg_hdr;

		*m = (struct msghdr){
		    .msg_name = b->to[i],
		    .msg_namelen = sizeof(*b->to[i]),
		    .msg_iov = &b->iov[i],
		    .msg_iovlen = n,
		};
		if (n > 1) {
			uint16_t size = (uint16_t)b->iov[i].iov_len;
			m->msg_control = b->cmsg[nmsg].buf;
			m->msg_controllen = sizeof(b->cmsg[nmsg].buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(m);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(size));
			memcpy(CMSG_DATA(c), &size, sizeof(size));
		}
		nmsg++;
		i += n;
	}
	return nmsg - into;
}

static void flush(struct device *dev, struct batch *b)
{
	unsigned int nmsg = build_messages(dev, b, 0, 0), done = 0;

	while (done < nmsg) {
		int r = sendmmsg(dev->udp_fd, b->msg + done, nmsg - done, 0);
		if (r > 0) {
			done += (unsigned int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			struct pollfd pfd = {.fd = dev->udp_fd, .events = POLLOUT};
			int w = poll(&pfd, 1, b->wait_ms);
			if (w > 0 || (w < 0 && errno == EINTR))
				continue;
			/*
			 * No room for that long: the underlay is stuck. Waiting
			 * again for each message left would hold the thread for
			 * seconds; what is left of the batch is dropped instead.
			 */
			break;
		}
		if (r < 0 && (errno == EIO || errno == EMSGSIZE || errno == EINVAL) &&
		    b->msg[done].msg_hdr.msg_iovlen > 1) {
			/*
			 * The route cannot take a train (no checksum offload, or a
			 * segment over its MTU, which a lone datagram may still
			 * pass by fragmentation): from now on, one datagram each.
			 * The message says it was a train, not the flag, which
			 * another thread may have cleared since it was built.
			 */
			if (atomic_exchange_explicit(&dev->udp_gso, false, memory_order_relaxed))
				log_warn("UDP segmentation offload refused (%s); sending datagrams "
					 "one by one",
					 strerror(errno));
			unsigned int first = (unsigned int)(b->msg[done].msg_hdr.msg_iov - b->iov);
			nmsg = done + build_messages(dev, b, first, done);
			continue;
		}
		/* The first message failed (unreachable endpoint...): skip it, send the rest. */
		done++;
	}
	b->nout = 0;
	b->ndst = 0;
}

void batch_send(struct device *dev, struct batch *b, uint64_t now)
{
	for (unsigned int i = 0; i < b->n;) {
		unsigned int j = i + 1;
		if (!b->peer[i]) {
			i = j;
			continue;
		}
		while (j < b->n && b->peer[j] == b->peer[i] && b->hop[j] == b->hop[i] &&
		       b->frame[j] == b->frame[i])
			j++;
		struct run r = {
		    .p = b->peer[i], .hop = b->hop[i], .frame = b->frame[i], .from = i, .to = j};
		seal_run(dev, b, &r, now);
		i = j;
	}
	flush(dev, b);
	b->n = 0;
}
