// SPDX-License-Identifier: ISC
/*
 * The transmit thread: TUN -> route lookup -> encrypt -> UDP, a batch at a
 * time. Packets are read straight into buffers that leave room for the
 * transport header, encrypted in place and handed to one sendmmsg(), so the
 * hot path neither copies nor allocates.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/device.h"
#include "daemon/log.h"
#include "daemon/offload.h"
#include "daemon/packet.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"

#define TX_TID	     0
#define ICMP_COST_NS (NSEC_PER_SEC / 100) /* 100 errors a second */
#define ICMP_BURST   10

/* Room for a batch of super-packets cut into MTU-sized pieces. */
#define TX_SLOTS 256
/* Stop reading when fewer slots than a typical 64 KiB super-packet needs are left. */
#define TX_SLOTS_LOW (TX_SLOTS - 64)

struct tx_batch {
	uint8_t *frame; /* one TUN read: vnet header + up to 64 KiB */
	uint8_t (*buf)[PACKET_BUF_SIZE];
	uint8_t *slot[TX_SLOTS]; /* buf[i] past the transport header: the plaintext */
	uint32_t len[TX_SLOTS];
	struct peer *peer[TX_SLOTS];
	/* Sealed datagrams, in order; runs to one destination share a dst entry. */
	struct iovec iov[TX_SLOTS];
	struct sockaddr_in6 *to[TX_SLOTS];
	struct sockaddr_in6 dst[TX_SLOTS];
	/* The messages of one sendmmsg(): single datagrams or UDP GSO trains. */
	struct mmsghdr msg[TX_SLOTS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cmsg[TX_SLOTS];
	size_t frame_len; /* a frame read but not yet cut (no room left) */
	unsigned int n, nout, ndst;
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

static void want_handshake(struct peer *p)
{
	if (!atomic_exchange(&p->handshake_wanted, true))
		device_wake(p->dev);
}

/*
 * Takes the current keypair and n counters for a run of packets to p, and
 * records the send with the timers. Returns the keypair with a reference,
 * or NULL when there is no usable session (the caller stages the packets).
 */
static struct wg_keypair *peer_begin_send(struct peer *p, uint64_t now, uint32_t n, bool data,
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
		want_handshake(p);
	return kp;
}

void send_keepalive(struct peer *p, uint64_t now)
{
	uint8_t buf[WG_KEEPALIVE_SIZE];
	struct sockaddr_in6 dst;
	struct wg_keypair *kp;
	uint64_t counter;

	pthread_mutex_lock(&p->lock);
	kp = peer_begin_send(p, now, 1, false, &counter, &dst);
	pthread_mutex_unlock(&p->lock);
	if (!kp) {
		want_handshake(p);
		return;
	}
	size_t len = wg_transport_seal(buf, 0, p->dev->mtu, kp, counter);
	wg_keypair_put(kp);
	if (send_datagram(p->dev, &dst, buf, len) == 0)
		atomic_fetch_add(&p->tx_bytes, len);
}

bool send_payload(struct peer *p, const uint8_t *payload, size_t len, uint64_t now)
{
	static uint8_t buf[sizeof(struct wg_msg_data) + RT_FRAME_MAX + WG_PADDING_MULTIPLE +
			   WG_AEAD_TAG_LEN]; /* control thread only */
	struct sockaddr_in6 dst;
	struct wg_keypair *kp;
	uint64_t counter;

	if (len > RT_FRAME_MAX)
		return false;
	pthread_mutex_lock(&p->lock);
	kp = peer_begin_send(p, now, 1, true, &counter, &dst);
	pthread_mutex_unlock(&p->lock);
	if (!kp) {
		/* Like data: no usable session asks for one; this frame is lost (routing repeats).
		 */
		want_handshake(p);
		return false;
	}
	memcpy(buf + sizeof(struct wg_msg_data), payload, len);
	size_t n = wg_transport_seal(buf, (uint32_t)len, p->dev->mtu, kp, counter);
	wg_keypair_put(kp);
	if (send_datagram(p->dev, &dst, buf, n) != 0)
		return false;
	atomic_fetch_add(&p->tx_bytes, n);
	return true;
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

static bool icmp_allowed(struct device *dev, uint64_t now)
{
	uint64_t floor = now - ICMP_BURST * ICMP_COST_NS;

	if (dev->icmp_tokens_ns < floor)
		dev->icmp_tokens_ns = floor;
	if (dev->icmp_tokens_ns + ICMP_COST_NS > now)
		return false;
	dev->icmp_tokens_ns += ICMP_COST_NS;
	return true;
}

static void reply_unreachable(struct device *dev, const uint8_t *pkt, uint32_t len, uint64_t now)
{
	uint8_t out[VNET_HDR_LEN + 1280] = {0}; /* a zero vnet header: a plain packet */
	size_t n;

	if (!icmp_allowed(dev, now))
		return;
	n = icmp6_unreachable(out + VNET_HDR_LEN, sizeof(out) - VNET_HDR_LEN, pkt, len,
			      device_addr(dev), 0);
	if (n && write(dev->tun_fd, out, VNET_HDR_LEN + n) < 0)
		log_debug("tun write (icmp6): %s", strerror(errno));
}

/* Looks up the next hop of each packet; drops and answers what cannot go. */
static void classify(struct device *dev, struct tx_batch *b, uint64_t now)
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

/* Encrypts the packets [from, to) that all go to p, queueing them for sendmmsg. */
static void seal_run(struct device *dev, struct tx_batch *b, struct peer *p, unsigned int from,
		     unsigned int to, uint64_t now)
{
	struct sockaddr_in6 dst;
	struct wg_keypair *kp;
	uint64_t counter;
	uint64_t bytes = 0;

	pthread_mutex_lock(&p->lock);
	kp = peer_begin_send(p, now, to - from, true, &counter, &dst);
	if (!kp) {
		/* Without an endpoint no handshake can start: nothing to wait for. */
		for (unsigned int i = from; i < to && p->endpoint.sin6_family == AF_INET6; i++)
			stage_packet(dev, p, b->slot[i], b->len[i]);
		pthread_mutex_unlock(&p->lock);
		want_handshake(p);
		return;
	}
	pthread_mutex_unlock(&p->lock);

	struct sockaddr_in6 *d = &b->dst[b->ndst++];
	*d = dst;
	for (unsigned int i = from; i < to; i++) {
		unsigned int o = b->nout++;
		size_t len = wg_transport_seal(b->buf[i], b->len[i], dev->mtu, kp, counter++);
		b->iov[o].iov_base = b->buf[i];
		b->iov[o].iov_len = len;
		b->to[o] = d;
		bytes += len;
	}
	wg_keypair_put(kp);
	atomic_fetch_add(&p->tx_bytes, bytes);
}

/*
 * How many datagrams from first on can go as one UDP GSO train: same
 * destination, all as long as the first but the last, which may be shorter,
 * and within the kernel's segment count and 64 KiB.
 */
static unsigned int gso_run(const struct tx_batch *b, unsigned int first)
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
static unsigned int build_messages(struct device *dev, struct tx_batch *b, unsigned int first,
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

static void flush(struct device *dev, struct tx_batch *b)
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
			int w = poll(&pfd, 1, 100);
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

/*
 * Reads TUN frames, cutting each into packets, until the slots run low or
 * the TUN is empty. A frame that does not fit the slots left is read again
 * after the batch so far is sent.
 */
static bool tun_read_batch(struct device *dev, struct tx_batch *b)
{
	while (b->n < TX_SLOTS_LOW) {
		ssize_t r = read(dev->tun_fd, b->frame, OFFLOAD_MAX_FRAME);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		int k =
		    offload_split(b->frame, (size_t)r, dev->mtu, &b->slot[b->n], &b->len[b->n],
				  TX_SLOTS - b->n, PACKET_BUF_SIZE - sizeof(struct wg_msg_data));
		if (k < 0) {
			b->frame_len = (size_t)r;
			return true; /* caller sends, then cuts b->frame again */
		}
		b->n += (unsigned int)k;
	}
	return false;
}

static void tx_process(struct device *dev, struct tx_batch *b)
{
	uint64_t now = now_mono();

	classify(dev, b, now);
	for (unsigned int i = 0; i < b->n;) {
		unsigned int j = i + 1;
		if (!b->peer[i]) {
			i = j;
			continue;
		}
		while (j < b->n && b->peer[j] == b->peer[i])
			j++;
		seal_run(dev, b, b->peer[i], i, j, now);
		i = j;
	}
	flush(dev, b);
	b->n = 0;
}

static bool tx_alloc(struct tx_batch *b)
{
	b->frame = malloc(OFFLOAD_MAX_FRAME);
	b->buf = aligned_alloc(64, sizeof(*b->buf) * TX_SLOTS);
	if (!b->frame || !b->buf)
		return false;
	for (unsigned int i = 0; i < TX_SLOTS; i++)
		b->slot[i] = b->buf[i] + sizeof(struct wg_msg_data);
	return true;
}

void *tx_thread_main(void *arg)
{
	struct device *dev = arg;
	struct tx_batch b = {0};
	struct pollfd pfd[2] = {
	    {.fd = dev->tun_fd, .events = POLLIN},
	    {.fd = dev->stop_fd, .events = POLLIN},
	};

	if (!tx_alloc(&b)) {
		device_fail(dev, "transmit thread: out of memory");
		goto out;
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		qsbr_enter(&dev->qsbr, TX_TID);
		bool pending = tun_read_batch(dev, &b);
		tx_process(dev, &b);
		if (pending) {
			/* More pieces than slots at all (a tiny MSS) are dropped. */
			int k =
			    offload_split(b.frame, b.frame_len, dev->mtu, b.slot, b.len, TX_SLOTS,
					  PACKET_BUF_SIZE - sizeof(struct wg_msg_data));
			b.n = k > 0 ? (unsigned int)k : 0;
			tx_process(dev, &b);
		}
		qsbr_leave(&dev->qsbr, TX_TID);
	}
out:
	free(b.frame);
	free(b.buf);
	return NULL;
}
