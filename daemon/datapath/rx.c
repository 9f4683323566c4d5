// SPDX-License-Identifier: ISC
/*
 * The receive thread: UDP -> decrypt -> replay check -> TUN, a batch at a
 * time with recvmmsg(). Transport messages are decrypted in place here;
 * handshake messages are checked (mac1 first, hs_gate.h) and what passes is
 * copied to the control thread's queue. A relayed message (relay.h) for us is
 * taken like a datagram of its own; one for another member is passed on to
 * the next hop unopened, and one that cannot go on is answered with a
 * notice to its sender. A packet a stock device we connect sends on
 * (forward.h decides) is copied into a batch of its own, sealed in the
 * destination's session and sent once the batch's packets for us are in
 * the TUN.
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
#include "daemon/datapath/hs_gate.h"
#include "daemon/base/log.h"
#include "daemon/platform/offload.h"
#include "daemon/platform/tun.h"
#include "daemon/base/packet.h"
#include "daemon/platform/udp.h"
#include "wgproto/crypto.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/icmp6.h"
#include "daemon/datapath/relay.h"
#ifdef ALAMESH_TEST_TAMPER
#include "daemon/datapath/tamper.h"
#endif

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
/* Where take_notice() opens a notice's message in its scratch buffer: past the error it builds. */
#define RX_NOTICE_MSG 2048
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
 * The session and path lookups of one receive batch. Each lookup takes the
 * tables' read locks, and the packets of a train mostly ask for the same
 * addresses. A route changed meanwhile applies from the next batch; the
 * peers found stay allocated until the batch ends (qsbr), so the answers
 * stay safe to use.
 */
struct rx_routes {
	struct device *dev;
	uint64_t now; /* the batch's */
	struct in6_addr addr[RX_ROUTE_CACHE];
	struct peer *session[RX_ROUTE_CACHE], *hop[RX_ROUTE_CACHE];
	unsigned int n, next;
};

/* Forwarding state of the receive thread. */
struct rx_forward {
	struct batch out; /* forwarded packets, relayed messages, notices and ICMPv6 errors */
	/* A notice's message, opened, then the error about it: aligned, as IPv6 is read. */
	_Alignas(16) uint8_t scratch[RX_NOTICE_MSG + PACKET_BUF_SIZE];
	struct rx_routes routes;
	struct fwd_env env;
	uint64_t icmp_tokens_ns; /* icmp6_rate_allow() */
	uint64_t drops;		 /* since drop_log_ns */
	uint64_t drop_log_ns;
};

/*
 * What one run of packets from the same peer did, applied under its lock
 * once. Relayed messages have a run of their own, so that a train through
 * one relay does not flush the relay's run at every packet.
 */
struct rx_run {
	struct peer *peer;
	struct wg_keypair *kp; /* the keypair of the last packet, referenced */
	struct sockaddr_in6 src;
	uint64_t bytes;
	bool data;
	bool relayed; /* src is the relay's: the endpoint stays */
};

struct rx_runs {
	struct rx_run direct, relayed;
};

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
	/* Roaming: the endpoint follows the latest authenticated datagram from it. */
	if (!run->relayed && !udp_same(&p->endpoint, &run->src))
		p->endpoint = run->src;
	rekey = p->keypairs.current == run->kp && wg_keypair_needs_rekey_on_receive(run->kp, now) &&
		wg_timers_lastminute_handshake(&p->timers);
	pthread_mutex_unlock(&p->lock);

	if (rekey && !atomic_exchange(&p->handshake_wanted, true))
		device_wake(p->dev);
	if (!run->relayed)
		atomic_store_explicit(&p->direct_rx_ns, now, memory_order_relaxed);
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

/* The cache entry of a: its session and hop (the session NULL when it has no path). */
static unsigned int rx_find(struct rx_routes *r, const struct in6_addr *a)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (in6_equal(&r->addr[i], a))
			return i;
	i = r->next;
	r->addr[i] = *a;
	r->session[i] = device_session_for(r->dev, a);
	r->hop[i] = r->session[i] ? peer_path(r->session[i], r->now) : NULL;
	if (!r->hop[i])
		r->session[i] = NULL;
	r->next = (r->next + 1) % RX_ROUTE_CACHE;
	if (r->n < RX_ROUTE_CACHE)
		r->n++;
	return i;
}

static void *rx_lookup(void *ctx, const struct in6_addr *a, uint32_t *mtu)
{
	struct rx_routes *r = ctx;
	unsigned int i = rx_find(r, a);

	*mtu = r->hop[i] == r->session[i] ? r->dev->mtu : relay_mtu(r->dev->mtu);
	return r->session[i];
}

static bool rx_carries(void *ctx, const void *peer, const struct in6_addr *src)
{
	(void)ctx;
	return peer_carries((struct peer *)peer, src);
}

static bool rx_hosted(void *ctx, const void *peer)
{
	const struct peer *p = peer;

	(void)ctx;
	return atomic_load_explicit(&p->gateway, memory_order_relaxed) &&
	       !atomic_load_explicit(&p->own_only, memory_order_relaxed);
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

/* A slot for a packet in the session of next, along the path the lookup found. */
static void rx_fill(struct rx_forward *f, unsigned int i, struct peer *next, uint32_t len)
{
	struct batch *b = &f->out;
	const struct in6_addr *a = &next->addr;

	b->len[i] = len;
	b->peer[i] = next;
	b->hop[i] = f->routes.hop[rx_find(&f->routes, a)];
	b->frame[i] = false;
	if (!b->hop[i])
		b->peer[i] = NULL; /* the path went in between: not sent */
	b->n++;
}

/* The packet goes on into next's session, one hop further. */
static void rx_forward_packet(struct device *dev, struct rx_forward *f, struct peer *next,
			      const uint8_t *pkt, size_t len, uint64_t now)
{
	struct batch *b = &f->out;
	unsigned int i = rx_slot(dev, f, now);

	/* forward.h saw len within the path's MTU, so within a slot. */
	memcpy(b->slot[i], pkt, len);
	b->slot[i][7]--; /* the hop limit (RFC 8200 3) */
	rx_fill(f, i, next, (uint32_t)len);
}

/* An ICMPv6 error about the packet, from our address, to back (its source's next hop). */
static void rx_answer(struct device *dev, struct rx_forward *f, struct peer *back,
		      enum fwd_verdict v, const uint8_t *pkt, size_t len, uint32_t mtu,
		      uint64_t now)
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
		param = mtu;
	}
	unsigned int i = rx_slot(dev, f, now);
	size_t n =
	    icmp6_error(b->slot[i], BATCH_SLOT_CAP, pkt, len, device_addr(dev), type, code, param);
	if (!n)
		return;
	rx_fill(f, i, back, (uint32_t)n);
}

/* A packet out of p's session: delivered, passed on, answered or dropped (forward.h). */
static void receive_packet(struct device *dev, struct peer *p, uint8_t *pkt, size_t plen,
			   struct gro *gro, struct rx_forward *f, uint64_t now)
{
	size_t pktlen = ipv6_packet_len(pkt, plen);
	if (!pktlen) {
		rx_drop(f, p, "not an IPv6 packet", now);
		return;
	}
	struct fwd_from from = {
	    .peer = p,
	    .addr = &p->addr,
	    .gateway = atomic_load_explicit(&p->gateway, memory_order_relaxed),
	    .own_only = atomic_load_explicit(&p->own_only, memory_order_relaxed),
	};
	const char *why = NULL;
	void *next;
	uint32_t mtu = dev->mtu;
	enum fwd_verdict v = fwd_classify(&f->env, &from, pkt, pktlen, &next, &mtu, &why);
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
		rx_answer(dev, f, next, v, pkt, pktlen, mtu, now);
		break;
	case FWD_DROP:
		if (why == fwd_why_source)
			atomic_fetch_add_explicit(&dev->e2e_source_refused, 1,
						  memory_order_relaxed);
		rx_drop(f, p, why, now);
		break;
	}
}

static void receive_relay(struct device *dev, struct peer *p, uint8_t *frame, size_t len,
			  const struct sockaddr_in6 *src, struct rx_runs *runs, struct gro *gro,
			  struct rx_forward *f, uint64_t now);

/*
 * Decrypts one transport message in place and takes what it carries. via:
 * the neighbour it came relayed from, NULL when it came straight over UDP.
 */
static void receive_data(struct device *dev, uint8_t *buf, size_t len,
			 const struct sockaddr_in6 *src, const struct peer *via,
			 struct rx_runs *runs, struct gro *gro, struct rx_forward *f, uint64_t now)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;
	struct rx_run *run = via ? &runs->relayed : &runs->direct;
	struct wg_keypair *kp;
	size_t plen;

	kp = wg_index_get_keypair(&dev->index, wg_le32(hdr->receiver));
	if (kp && wg_transport_open(kp, buf, len, now, &plen) != WG_OPEN_OK) {
		wg_keypair_put(kp);
		kp = NULL;
	}
	if (!kp) {
		/* Through a member's session, a message that does not open was tampered with. */
		if (via)
			atomic_fetch_add_explicit(&dev->relay_refused, 1, memory_order_relaxed);
		return;
	}
	struct peer *p = kp->peer;
	if (run->peer != p || run->kp != kp)
		run_flush(run, now);
	if (!run->peer) {
		run_begin(run, p, kp, now);
		run->relayed = via != NULL;
	} else {
		wg_keypair_put(kp); /* the run already holds this keypair */
	}
	run->src = *src;
	run->bytes += len;
	if (plen == 0)
		return; /* keepalive */
	run->data = true;

	uint8_t *pkt = hdr->encrypted;
	if (rt_frame_is(pkt, plen) && !via) {
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
	if (relay_frame_is(pkt, plen) && !via) {
		receive_relay(dev, p, pkt, plen, src, runs, gro, f, now);
		return;
	}
	if (pkt[0] == PROBE_MAGIC) {
		/* Straight from p, saying it hears us straight: both ways work. */
		if (!via && plen >= PROBE_LEN && pkt[1] == 1)
			atomic_store_explicit(&p->direct_ack_ns, now, memory_order_relaxed);
		return;
	}
	if (pkt[0] == CAND_MAGIC) {
		/* A member's candidates, for the control thread (control/punch.c). */
		if (atomic_load_explicit(&p->is_member, memory_order_relaxed) &&
		    !atomic_load_explicit(&p->stock, memory_order_relaxed) && plen <= RT_FRAME_MAX)
			enqueue_routing(dev, p, pkt, plen);
		return;
	}
	receive_packet(dev, p, pkt, plen, gro, f, now);
}

/*
 * A notice about the relayed message v carries, from this relay to the
 * message's source: the message goes back whole, when it fits a frame.
 */
static void send_notice(struct device *dev, struct rx_forward *f, uint8_t magic,
			const uint8_t *frame, const struct relay_view *v, uint64_t now)
{
	size_t orig = RELAY_HDR_LEN + v->msg_len;

	if (v->magic != RELAY_MAGIC_MESSAGE || v->msg_type != WG_MSG_DATA ||
	    RELAY_HDR_LEN + orig > dev->mtu)
		return;
	struct peer *back = route_table_lookup(&dev->routes, v->src);
	if (!back || !icmp6_rate_allow(&f->icmp_tokens_ns, now))
		return;
	struct batch *b = &f->out;
	unsigned int i = rx_slot(dev, f, now);
	uint8_t *out = batch_frame(b, i);
	relay_write_hdr(out, magic, RELAY_HOP_LIMIT, v->src, device_addr(dev), orig);
	memcpy(out + RELAY_HDR_LEN, frame, orig);
	batch_add_frame(b, i, back, (uint32_t)(RELAY_HDR_LEN + orig));
	atomic_fetch_add_explicit(&dev->relay_notices, 1, memory_order_relaxed);
}

/* A relayed message (or notice) for another member, passed on unopened. */
static void relay_on(struct device *dev, struct peer *from, const uint8_t *frame,
		     const struct relay_view *v, struct rx_forward *f, uint64_t now)
{
	if (v->hop_limit <= 1) {
		send_notice(dev, f, RELAY_MAGIC_EXPIRED, frame, v, now);
		rx_drop(f, from, "a relayed message whose hop limit ran out", now);
		return;
	}
	struct peer *next = route_table_lookup(&dev->routes, v->dst);
	if (!next || next == from) {
		send_notice(dev, f, RELAY_MAGIC_NOROUTE, frame, v, now);
		rx_drop(f, from, "a relayed message with no route on", now);
		return;
	}
	struct batch *b = &f->out;
	unsigned int i = rx_slot(dev, f, now);
	size_t n = RELAY_HDR_LEN + v->msg_len;
	uint8_t *out = batch_frame(b, i);
	memcpy(out, frame, n);
	out[1]--; /* the hop limit */
	batch_add_frame(b, i, next, (uint32_t)n);
	atomic_fetch_add_explicit(&dev->relayed, 1, memory_order_relaxed);
#ifdef ALAMESH_TEST_TAMPER
	tamper_relayed(dev, b, i, next);
#endif
}

/*
 * A notice about a message we sent: it is opened with our own send key, so
 * only a message we made counts, and our host gets the ICMPv6 error the
 * relay named by the notice would have sent as a router.
 */
static void take_notice(struct device *dev, struct rx_forward *f, const struct relay_view *v,
			uint64_t now)
{
	struct peer *s = route_table_lookup(&dev->sessions, v->orig_dst);
	struct wg_keypair *kp = NULL;
	uint32_t receiver = wg_le32(((const struct wg_msg_data *)v->msg)->receiver);
	size_t plen;

	if (!s || !icmp6_rate_allow(&f->icmp_tokens_ns, now))
		return;
	pthread_mutex_lock(&s->lock);
	struct wg_keypair *c[3] = {s->keypairs.current, s->keypairs.previous, s->keypairs.next};
	for (int k = 0; k < 3 && !kp; k++)
		if (c[k] && c[k]->remote_index == receiver)
			wg_keypair_get(kp = c[k]);
	pthread_mutex_unlock(&s->lock);
	if (!kp)
		return;
	uint8_t *msg = f->scratch + RX_NOTICE_MSG;
	memcpy(msg, v->msg, v->msg_len);
	bool ours = wg_transport_open_sent(kp, msg, v->msg_len, &plen);
	wg_keypair_put(kp);
	const uint8_t *pkt = msg + sizeof(struct wg_msg_data);
	size_t pktlen = ours ? ipv6_packet_len(pkt, plen) : 0;
	if (!pktlen || !in6_equal(ipv6_src(pkt), device_addr(dev))) {
		atomic_fetch_add_explicit(&dev->relay_refused, 1, memory_order_relaxed);
		return;
	}
	uint8_t *out = f->scratch;
	size_t n = v->magic == RELAY_MAGIC_EXPIRED
		       ? icmp6_time_exceeded(out + VNET_HDR_LEN, 1280, pkt, pktlen, v->src)
		       : icmp6_unreachable(out + VNET_HDR_LEN, 1280, pkt, pktlen, v->src, 0);
	int r = n ? tun_write_plain(dev->tun_fd, out, n) : 0;
	if (r < 0)
		log_debug("tun write (notice): %s", strerror(-r));
}

/* A relay frame refused: counted (get=stats), and dropped as any packet is. */
static void relay_refuse(struct device *dev, struct rx_forward *f, const struct peer *p,
			 const char *why, uint64_t now)
{
	atomic_fetch_add_explicit(&dev->relay_refused, 1, memory_order_relaxed);
	rx_drop(f, p, why, now);
}

/*
 * A relay frame out of the session with neighbour p. Only members that
 * route may relay; what is not for us goes on unopened; a message for us is
 * taken like a datagram that came through p.
 */
static void receive_relay(struct device *dev, struct peer *p, uint8_t *frame, size_t len,
			  const struct sockaddr_in6 *src, struct rx_runs *runs, struct gro *gro,
			  struct rx_forward *f, uint64_t now)
{
	struct relay_view v;
	const char *why;

	if (!atomic_load_explicit(&p->is_member, memory_order_relaxed) ||
	    atomic_load_explicit(&p->stock, memory_order_relaxed)) {
		relay_refuse(dev, f, p, "a relayed message from a peer that relays nothing", now);
		return;
	}
	if (relay_parse(frame, len, &v, &why) < 0) {
		relay_refuse(dev, f, p, why, now);
		return;
	}
	if (!in6_equal(v.dst, device_addr(dev))) {
		relay_on(dev, p, frame, &v, f, now);
		return;
	}
	if (v.magic != RELAY_MAGIC_MESSAGE) {
		take_notice(dev, f, &v, now);
		return;
	}
	if (v.msg_type == WG_MSG_DATA)
		receive_data(dev, (uint8_t *)v.msg, v.msg_len, src, p, runs, gro, f, now);
	else
		hs_gate(dev, v.msg, v.msg_len, src, p, now);
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
			const struct sockaddr_in6 *src, struct rx_runs *runs, struct gro *gro,
			struct rx_forward *f, uint64_t now)
{
	switch (wg_msg_type(buf, len)) {
	case WG_MSG_DATA:
		receive_data(dev, buf, len, src, NULL, runs, gro, f, now);
		break;
	case WG_MSG_INITIATION:
	case WG_MSG_RESPONSE:
	case WG_MSG_COOKIE:
		hs_gate(dev, buf, len, src, NULL, now);
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
	struct rx_runs runs = {0};
	struct gro gro;
	uint64_t now = now_mono();

	gro_init(&gro, tun_emit, dev);
	f->routes.n = f->routes.next = 0;
	f->routes.now = now;
	f->env.self = device_addr(dev);
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *m = &b->msg[i].msg_hdr;
		size_t len = b->msg[i].msg_len;

		if (m->msg_flags & MSG_TRUNC)
			continue;
		size_t seg = segment_size(m, len);
		for (size_t off = 0; off < len; off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			receive_one(dev, b->buf[i] + off, l, &b->src[i], &runs, &gro, f, now);
		}
	}
	/* Ours first: forwarding may wait for room in the socket, the TUN need not. */
	gro_flush(&gro);
	run_flush(&runs.direct, now);
	run_flush(&runs.relayed, now);
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
	f->routes.dev = dev;
	f->env = (struct fwd_env){
	    .lookup = rx_lookup, .carries = rx_carries, .hosted = rx_hosted, .ctx = &f->routes};
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
