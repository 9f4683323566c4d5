// SPDX-License-Identifier: ISC
/*
 * The receive thread: UDP -> decrypt -> replay check -> TUN, a batch at a
 * time with recvmmsg(). Transport messages are decrypted in place here;
 * handshake messages are copied to the control thread's queue, where mac1 is
 * checked before any Diffie-Hellman. A packet for another member is
 * forwarded (forward.h decides): copied into a batch of its own, sealed to
 * its next hop and sent once the batch's packets for us are in the TUN.
 */
#include <errno.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon/datapath/rx.h"
#include "daemon/datapath/batch.h"
#include "daemon/core/device.h"
#include "daemon/datapath/forward.h"
#include "daemon/base/log.h"
#include "daemon/platform/offload.h"
#include "daemon/base/packet.h"
#include "daemon/platform/udp.h"
#include "wgproto/crypto.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/icmp6.h"

#define RX_TID 1

/*
 * With UDP GRO one receive slot holds a whole train of datagrams from one
 * source, all of one size but the last: up to 64 KiB.
 */
#define RX_SLOTS    32
#define RX_BUF_SIZE 65536
/*
 * A full socket buffer holds forwarding this long before the rest of the
 * batch is dropped: the receive thread has its own queue to drain.
 */
#define RX_FORWARD_WAIT_MS 10
/* Addresses looked up per batch and kept: a train of one flow asks the same few. */
#define RX_ROUTE_CACHE 4

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

/*
 * The route lookups of one receive batch. Each lookup takes the table's read
 * lock, and the packets of a train mostly ask for the same addresses. A
 * route changed meanwhile applies from the next batch; the peers found stay
 * allocated until the batch ends (qsbr), so the answers stay safe to use.
 */
struct rx_routes {
	struct route_table *table;
	struct in6_addr addr[RX_ROUTE_CACHE];
	void *peer[RX_ROUTE_CACHE];
	unsigned int n, next;
};

/* Forwarding state of the receive thread. */
struct rx_forward {
	struct batch out; /* forwarded packets and ICMPv6 errors */
	struct rx_routes routes;
	struct fwd_env env;
	uint64_t icmp_tokens_ns; /* icmp6_rate_allow() */
	uint64_t drops;		 /* since drop_log_ns */
	uint64_t drop_log_ns;
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

static void *rx_lookup(void *ctx, const struct in6_addr *a)
{
	struct rx_routes *r = ctx;
	void *p;

	for (unsigned int i = 0; i < r->n; i++)
		if (in6_equal(&r->addr[i], a))
			return r->peer[i];
	p = route_table_lookup(r->table, a);
	r->addr[r->next] = *a;
	r->peer[r->next] = p;
	r->next = (r->next + 1) % RX_ROUTE_CACHE;
	if (r->n < RX_ROUTE_CACHE)
		r->n++;
	return p;
}

/*
 * Drops are counted, and logged (when debugging) at most once a second:
 * a peer that sends what we refuse must not fill the log or slow the thread.
 */
static void rx_drop(struct rx_forward *f, const struct peer *p, const char *why, uint64_t now)
{
	f->drops++;
	if (now - f->drop_log_ns < NSEC_PER_SEC)
		return;
	char name[WG_KEY_B64_LEN + 1];
	peer_name(p, name);
	log_debug("dropped %llu packet(s) from tunnels; the last from peer %s: %s",
		  (unsigned long long)f->drops, name, why);
	f->drops = 0;
	f->drop_log_ns = now;
}

static unsigned int rx_slot(struct device *dev, struct rx_forward *f, uint64_t now)
{
	if (batch_full(&f->out))
		batch_send(dev, &f->out, now);
	return f->out.n;
}

/* The packet goes on to next, one hop further. */
static void rx_forward_packet(struct device *dev, struct rx_forward *f, struct peer *next,
			      const uint8_t *pkt, size_t len, uint64_t now)
{
	struct batch *b = &f->out;
	unsigned int i = rx_slot(dev, f, now);

	/* forward.h saw len within our MTU, so within a slot. */
	memcpy(b->slot[i], pkt, len);
	b->slot[i][7]--; /* the hop limit (RFC 8200 3) */
	b->len[i] = (uint32_t)len;
	b->peer[i] = next;
	b->n++;
}

/* An ICMPv6 error about the packet, from our address, to back (its source's next hop). */
static void rx_answer(struct device *dev, struct rx_forward *f, struct peer *back,
		      enum fwd_verdict v, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct batch *b = &f->out;
	uint8_t type = ICMP6_DST_UNREACH, code = ICMP6_DST_UNREACH_NOROUTE;
	uint32_t param = 0;

	if (!icmp6_rate_allow(&f->icmp_tokens_ns, now))
		return;
	if (v == FWD_TIME_EXCEEDED) {
		type = ICMP6_TIME_EXCEEDED;
		code = ICMP6_TIME_EXCEED_TRANSIT;
	} else if (v == FWD_TOO_BIG) {
		type = ICMP6_PACKET_TOO_BIG;
		code = 0;
		param = dev->mtu;
	}
	unsigned int i = rx_slot(dev, f, now);
	size_t n =
	    icmp6_error(b->slot[i], BATCH_SLOT_CAP, pkt, len, device_addr(dev), type, code, param);
	if (!n)
		return;
	b->len[i] = (uint32_t)n;
	b->peer[i] = back;
	b->n++;
}

/* Decrypts one transport message in place and delivers, forwards or answers its packet. */
static void receive_data(struct device *dev, uint8_t *buf, size_t len,
			 const struct sockaddr_in6 *src, struct rx_run *run, struct gro *gro,
			 struct rx_forward *f, uint64_t now)
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

	uint8_t *pkt = hdr->encrypted;
	if (rt_frame_is(pkt, plen)) {
		/* Only members route: a stranger's frames cost no queue slot. */
		if (atomic_load_explicit(&p->is_member, memory_order_relaxed)) {
			enqueue_routing(dev, p, pkt, plen);
		} else {
			atomic_fetch_add_explicit(&dev->routing_from_outsider, 1,
						  memory_order_relaxed);
			rx_drop(f, p, "a routing frame from a peer that is no registry member",
				now);
		}
		return;
	}
	size_t pktlen = ipv6_packet_len(pkt, plen);
	if (!pktlen) {
		rx_drop(f, p, "not an IPv6 packet", now);
		return;
	}
	struct fwd_from from = {
	    .peer = p,
	    .addr = &p->addr,
	    .is_router = atomic_load_explicit(&p->is_router, memory_order_relaxed),
	    .own_only = atomic_load_explicit(&p->own_only, memory_order_relaxed),
	};
	const char *why = NULL;
	void *next;
	enum fwd_verdict v = fwd_classify(&f->env, &from, pkt, pktlen, &next, &why);
	switch (v) {
	case FWD_DELIVER:
		gro_add(gro, pkt, pktlen);
		break;
	case FWD_FORWARD:
		rx_forward_packet(dev, f, next, pkt, pktlen, now);
		break;
	case FWD_UNREACHABLE:
	case FWD_TIME_EXCEEDED:
	case FWD_TOO_BIG:
		rx_answer(dev, f, next, v, pkt, pktlen, now);
		break;
	case FWD_DROP:
		rx_drop(f, p, why, now);
		break;
	}
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
			struct rx_forward *f, uint64_t now)
{
	switch (wg_msg_type(buf, len)) {
	case WG_MSG_DATA:
		receive_data(dev, buf, len, src, run, gro, f, now);
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

static void receive_batch(struct device *dev, struct rx_batch *b, unsigned int n,
			  struct rx_forward *f)
{
	struct rx_run run = {0};
	struct gro gro;
	uint64_t now = now_mono();

	gro_init(&gro, tun_emit, dev);
	f->routes.n = f->routes.next = 0;
	f->env.self = device_addr(dev);
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *m = &b->msg[i].msg_hdr;
		size_t len = b->msg[i].msg_len;

		if (m->msg_flags & MSG_TRUNC)
			continue;
		size_t seg = segment_size(m, len);
		for (size_t off = 0; off < len; off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			receive_one(dev, b->buf[i] + off, l, &b->src[i], &run, &gro, f, now);
		}
	}
	/* Ours first: forwarding may wait for room in the socket, the TUN need not. */
	gro_flush(&gro);
	run_flush(&run, now);
	if (f->out.n)
		batch_send(dev, &f->out, now);
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
	struct rx_forward *f = calloc(1, sizeof(*f));
	struct pollfd pfd[3] = {
	    {.fd = dev->udp_fd, .events = POLLIN},
	    {.fd = dev->stop_fd, .events = POLLIN},
	    {.fd = dev->rx_kick_fd, .events = POLLIN},
	};

	b.buf = aligned_alloc(64, sizeof(*b.buf) * RX_SLOTS);
	if (!b.buf || !f || !batch_init(&f->out, RX_FORWARD_WAIT_MS)) {
		device_fail(dev, "receive thread: out of memory");
		goto out;
	}
	f->routes.table = &dev->routes;
	f->env = (struct fwd_env){.mtu = dev->mtu, .lookup = rx_lookup, .ctx = &f->routes};
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
			receive_batch(dev, &b, (unsigned int)n, f);
			qsbr_leave(&dev->qsbr, RX_TID);
			if (n < RX_SLOTS)
				break;
		}
	}
out:
	if (f)
		batch_destroy(&f->out);
	free(f);
	free(b.buf);
	return NULL;
}
