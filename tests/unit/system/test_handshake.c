/* SPDX-License-Identifier: ISC */
/*
 * control/handshake.c on two fake devices in one process
 * (tests/unit/fake_device.h): A's initiation really leaves through A's UDP
 * socket, is read from B's, queued on B as the receive thread would
 * (datapath/hs_gate.c) and answered; the same for B's response on A.
 * Covered: a complete handshake and the keypairs it leaves on both sides;
 * what is dropped without an answer (a bad mac1, an unknown key); the
 * cookie reply under load and the cookie round trip it starts; and
 * peer_clear_keys() forgetting the session. Each datagram goes through
 * the receive thread's gate (datapath/hs_gate.h) first, as in the daemon:
 * what it drops (a wrong mac1, cookie replies to nothing of ours) is never
 * queued and never counted against a source, and under a spoofed flood a
 * real initiator still gets its cookie and then its response. No threads,
 * no timing assertions: every step is a call made by the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/base/clock.h"
#include "daemon/base/log.h"
#include "daemon/control/handshake.h"
#include "daemon/control/up.h"
#include "daemon/core/device.h"
#include "daemon/core/keys.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/hs_gate.h"
#include "tests/unit/fake_device.h"
#include "wgproto/cookie.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"
#include "wgproto/index.h"
#include "wgproto/keypair.h"
#include "wgproto/messages.h"

struct node {
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct device dev;
};

/* A datagram as the receive thread saw it: the bytes and where they came from. */
struct dgram {
	uint8_t buf[256];
	size_t len;
	struct sockaddr_in6 src;
};

static void node_up(struct node *n, const char *ifname)
{
	wg_generate_private_key(n->priv);
	wg_public_key(n->pub, n->priv);
	assert_int_equal(fake_device_up(&n->dev, ifname, n->priv), 0);
}

/* Where the other node's socket is reached: loopback, its ephemeral port. */
static struct sockaddr_in6 loopback_to(const struct node *n)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
				  .sin6_port = htons(n->dev.listen_port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	return sa;
}

/*
 * The next datagram on n's socket. A send to loopback is queued on the
 * receiving socket before sendto() returns, so a datagram sent is one
 * already here; the poll only bounds a wait that should never happen.
 */
static void recv_one(struct node *n, struct dgram *d)
{
	struct pollfd pfd = {.fd = n->dev.udp_fd, .events = POLLIN};
	socklen_t sl = sizeof(d->src);
	ssize_t r;

	assert_int_equal(poll(&pfd, 1, 1000), 1);
	r = recvfrom(n->dev.udp_fd, d->buf, sizeof(d->buf), MSG_DONTWAIT,
		     (struct sockaddr *)&d->src, &sl);
	assert_true(r > 0);
	d->len = (size_t)r;
}

/* Nothing was sent to n: the answer to a message dropped is silence. */
static void assert_nothing(struct node *n)
{
	uint8_t buf[256];
	ssize_t r = recv(n->dev.udp_fd, buf, sizeof(buf), MSG_DONTWAIT);

	assert_int_equal(r, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * What the receive thread does with a handshake datagram: the gate
 * (datapath/hs_gate.h), under load (the queue was deep a moment ago) or
 * not. Nothing is processed yet.
 */
static enum hs_verdict gate(struct node *n, const struct dgram *d, bool under_load)
{
	uint64_t now = now_mono();

	n->dev.rx_last_deep = under_load ? now : 0;
	return hs_gate(&n->dev, d->buf, d->len, &d->src, NULL, now);
}

/* Through n's gate, then the control thread's consumer over what it queued. */
static enum hs_verdict deliver(struct node *n, const struct dgram *d, bool under_load)
{
	enum hs_verdict v = gate(n, d, under_load);

	handshake_process_queue(&n->dev);
	/* The queue is drained whatever became of the message. */
	assert_int_equal(atomic_load(&n->dev.hs_head), atomic_load(&n->dev.hs_tail));
	return v;
}

/* Nothing waits in n's queue: the gate kept the message out. */
static void assert_queue_empty(struct node *n)
{
	assert_int_equal(atomic_load(&n->dev.hs_head), atomic_load(&n->dev.hs_tail));
}

/* A with B as its peer at B's port; B with A as a peer but no endpoint for it. */
static void pair_up(struct node *a, struct node *b, struct peer **pa, struct peer **pb)
{
	struct sockaddr_in6 to_b;

	node_up(a, "hsa0");
	node_up(b, "hsb0");
	to_b = loopback_to(b);
	*pa = device_add_peer(&a->dev, b->pub, NULL, &to_b, 0);
	assert_non_null(*pa);
	/* B learns where A is from the initiation itself, as WireGuard roams. */
	*pb = device_add_peer(&b->dev, a->pub, NULL, NULL, 0);
	assert_non_null(*pb);
}

static void send_initiation(struct node *a, struct peer *pa, struct node *b, struct dgram *init)
{
	handshake_send_initiation(pa, false);
	recv_one(b, init);
	assert_int_equal(init->len, sizeof(struct wg_msg_initiation));
	assert_int_equal(init->buf[0], WG_MSG_INITIATION);
	/* It came from A's socket: the source B answers to is A's port. */
	assert_int_equal(ntohs(init->src.sin6_port), a->dev.listen_port);
}

/* A and B paired (pair_up), and A's first initiation as it reached B. */
static void pair_initiated(struct node *a, struct node *b, struct peer **pa, struct peer **pb,
			   struct dgram *init)
{
	pair_up(a, b, pa, pb);
	send_initiation(a, *pa, b, init);
}

static void both_down(struct node *a, struct node *b)
{
	device_down(&a->dev);
	device_down(&b->dev);
}

static void test_handshake_completes(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, resp;

	(void)state;
	pair_initiated(&a, &b, &pa, &pb, &init);
	/* An initiation alone is no session. */
	assert_null(pa->keypairs.current);

	assert_int_equal(deliver(&b, &init, false), HS_QUEUED);
	recv_one(&a, &resp);
	assert_int_equal(resp.len, sizeof(struct wg_msg_response));
	assert_int_equal(resp.buf[0], WG_MSG_RESPONSE);
	assert_int_equal(ntohs(resp.src.sin6_port), b.dev.listen_port);
	/* B took A's endpoint from the initiation's source. */
	assert_int_equal(pb->endpoint.sin6_family, AF_INET6);
	assert_int_equal(ntohs(pb->endpoint.sin6_port), a.dev.listen_port);
	/*
	 * B, the responder, holds its keypair in next: it becomes current
	 * only once A sends data on it (key confirmation, rx.c), which is also
	 * when B's last_handshake_ns is set.
	 */
	struct wg_keypair *kb = pb->keypairs.next;
	assert_non_null(kb);
	assert_null(pb->keypairs.current);
	assert_false(kb->initiator);
	assert_int_equal(atomic_load(&pb->last_handshake_ns), 0);

	assert_int_equal(deliver(&a, &resp, false), HS_QUEUED);
	struct wg_keypair *ka = pa->keypairs.current;
	assert_non_null(ka);
	assert_true(ka->initiator);
	assert_true(atomic_load(&pa->last_handshake_ns) > 0);
	/* A only uses B's address once B has answered from it. */
	assert_int_equal(ntohs(pa->endpoint.sin6_port), b.dev.listen_port);

	/* One session seen from both ends: each side's sending key is the other's receiving key. */
	assert_memory_equal(ka->send_key, kb->recv_key, WG_KEY_LEN);
	assert_memory_equal(ka->recv_key, kb->send_key, WG_KEY_LEN);
	assert_memory_not_equal(ka->send_key, ka->recv_key, WG_KEY_LEN);
	/* Each addresses the other by the index the other registered. */
	assert_int_equal(ka->remote_index, kb->local_index);
	assert_int_equal(kb->remote_index, ka->local_index);
	/* The indices lead the receive thread to these very keypairs. */
	struct wg_keypair *got = wg_index_get_keypair(&a.dev.index, ka->local_index);
	assert_ptr_equal(got, ka);
	wg_keypair_put(got);
	got = wg_index_get_keypair(&b.dev.index, kb->local_index);
	assert_ptr_equal(got, kb);
	wg_keypair_put(got);

	/*
	 * With nothing staged, A confirms the session at once with a keepalive
	 * (a data message with no payload) on the new keypair: what lets B
	 * make its keypair current without waiting for A's traffic.
	 */
	struct dgram ka_msg;
	recv_one(&b, &ka_msg);
	assert_int_equal(ka_msg.len, sizeof(struct wg_msg_data) + WG_AEAD_TAG_LEN);
	assert_int_equal(ka_msg.buf[0], WG_MSG_DATA);
	assert_int_equal(wg_le32(((const struct wg_msg_data *)ka_msg.buf)->receiver),
			 kb->local_index);

	/* Data arriving on B's keypair (what rx.c does) makes it B's current one. */
	struct wg_keypair *dropped = NULL;
	pthread_mutex_lock(&pb->lock);
	assert_true(wg_keypairs_received_with(&pb->keypairs, kb, &dropped));
	pthread_mutex_unlock(&pb->lock);
	assert_null(dropped);
	assert_ptr_equal(pb->keypairs.current, kb);
	assert_memory_equal(pa->keypairs.current->send_key, pb->keypairs.current->recv_key,
			    WG_KEY_LEN);

	/* Nothing else went out: one initiation, one response, one keepalive. */
	assert_nothing(&a);
	assert_nothing(&b);
	both_down(&a, &b);
}

/*
 * mac1 is checked before anything is queued or counted: one bit off and B
 * neither queues, answers nor changes, even under load (no cookie reply,
 * no rate limiter entry for the source); the drop is counted in get=stats.
 */
static void test_bad_mac1_dropped(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init;

	(void)state;
	pair_initiated(&a, &b, &pa, &pb, &init);
	init.buf[offsetof(struct wg_msg_initiation, mac1)] ^= 0x01;
	assert_int_equal(gate(&b, &init, false), HS_BAD_MAC1);
	assert_queue_empty(&b);
	assert_int_equal(gate(&b, &init, true), HS_BAD_MAC1);
	assert_queue_empty(&b);
	assert_int_equal(b.dev.ratelimiter.used, 0);
	assert_int_equal(atomic_load(&b.dev.hs_bad_mac1), 2);
	assert_int_equal(atomic_load(&b.dev.hs_cookies_sent), 0);
	assert_nothing(&a);
	assert_null(pb->keypairs.next);
	assert_null(pb->keypairs.current);
	/* Not even the endpoint was learned from it. */
	assert_int_equal(pb->endpoint.sin6_family, 0);

	/* The same message with mac1 restored is answered: the flip alone made the difference. */
	init.buf[offsetof(struct wg_msg_initiation, mac1)] ^= 0x01;
	assert_int_equal(deliver(&b, &init, false), HS_QUEUED);
	struct dgram resp;
	recv_one(&a, &resp);
	assert_int_equal(resp.buf[0], WG_MSG_RESPONSE);
	both_down(&a, &b);
}

/* A valid initiation (mac1 right, it is meant for B) from a key B has no peer for: silence. */
static void test_unknown_key_dropped(void **state)
{
	struct node a, b;
	struct peer *pa;
	struct dgram init;
	struct sockaddr_in6 to_b;

	(void)state;
	node_up(&a, "hsa0");
	node_up(&b, "hsb0");
	to_b = loopback_to(&b);
	pa = device_add_peer(&a.dev, b.pub, NULL, &to_b, 0);
	assert_non_null(pa);
	send_initiation(&a, pa, &b, &init);

	assert_int_equal(deliver(&b, &init, false), HS_QUEUED);
	assert_nothing(&a);
	assert_int_equal(b.dev.npeers, 0);
	assert_null(device_find_peer(&b.dev, a.pub));
	both_down(&a, &b);
}

/*
 * Under load, an initiation without mac2 costs B no Diffie-Hellman: it gets
 * a cookie reply. A takes the cookie, and the same initiation with the
 * mac2 it now makes is answered with a response even under load.
 */
static void test_under_load_cookie(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, reply, resp;
	struct wg_msg_initiation remac;

	(void)state;
	pair_initiated(&a, &b, &pa, &pb, &init);
	/* A held no cookie, so its mac2 is all zeros. */
	static const uint8_t zero[WG_MAC_LEN];
	assert_memory_equal(init.buf + offsetof(struct wg_msg_initiation, mac2), zero, WG_MAC_LEN);

	assert_int_equal(deliver(&b, &init, true), HS_COOKIE_SENT);
	assert_int_equal(atomic_load(&b.dev.hs_cookies_sent), 1);
	/* Answered on the spot, not queued, and not counted against A's address. */
	assert_int_equal(b.dev.ratelimiter.used, 0);
	recv_one(&a, &reply);
	assert_int_equal(reply.len, 64);
	assert_int_equal(reply.len, sizeof(struct wg_msg_cookie));
	assert_int_equal(reply.buf[0], WG_MSG_COOKIE);
	/* Addressed to the initiation's sender index, so A can match it to its handshake. */
	const struct wg_msg_initiation *im = (const void *)init.buf;
	const struct wg_msg_cookie *cm = (const void *)reply.buf;
	assert_int_equal(wg_le32(cm->receiver), wg_le32(im->sender));
	/* No handshake state on B, and no response went out. */
	assert_null(pb->keypairs.next);
	assert_int_equal(pb->endpoint.sin6_family, 0);
	assert_nothing(&a);

	/* A consumes the cookie reply (never refused for load: it answers our own message). */
	assert_int_equal(pa->cookie.cookie_birth, 0);
	assert_int_equal(deliver(&a, &reply, true), HS_QUEUED);
	assert_true(pa->cookie.cookie_birth > 0);
	assert_nothing(&b);

	/* The same initiation with A's macs redone now carries a mac2 B accepts under load. */
	memcpy(&remac, init.buf, sizeof(remac));
	wg_cookie_add_macs(&pa->cookie, (uint8_t *)&remac, sizeof(remac), now_mono());
	assert_memory_not_equal(remac.mac2, zero, WG_MAC_LEN);
	memcpy(init.buf, &remac, sizeof(remac));
	assert_int_equal(deliver(&b, &init, true), HS_QUEUED);
	/* With mac2 it counts against A's address: the only source the limiter knows. */
	assert_int_equal(b.dev.ratelimiter.used, 1);
	recv_one(&a, &resp);
	assert_int_equal(resp.buf[0], WG_MSG_RESPONSE);
	assert_non_null(pb->keypairs.next);
	both_down(&a, &b);
}

/* A datagram of the cookie-reply type to receiver idx, the rest random, from src. */
static void junk_cookie(struct dgram *d, uint32_t idx, const struct sockaddr_in6 *src)
{
	struct wg_msg_cookie *m = (struct wg_msg_cookie *)d->buf;

	randombytes_buf(d->buf, sizeof(*m));
	m->type = WG_MSG_COOKIE;
	memset(m->reserved, 0, sizeof(m->reserved));
	wg_put_le32(m->receiver, idx);
	d->len = sizeof(*m);
	d->src = *src;
}

/* An index n never handed out. */
static uint32_t unused_index(struct node *n)
{
	uint32_t idx;
	struct wg_keypair *kp;

	do {
		randombytes_buf(&idx, sizeof(idx));
		kp = wg_index_get_keypair(&n->dev.index, idx);
		wg_keypair_put(kp);
	} while (kp || wg_index_get_handshake(&n->dev.index, idx));
	return idx;
}

/* A's cookie-type datagram from where A sends, to idx on n: the gate's verdict. */
static enum hs_verdict cookie_to(struct node *n, uint32_t idx, const struct sockaddr_in6 *src,
				 bool under_load)
{
	struct dgram d;

	junk_cookie(&d, idx, src);
	return deliver(n, &d, under_load);
}

/*
 * A cookie reply is queued only when it answers a handshake of ours that
 * still waits: A's initiation until B's response comes, B's response
 * until A's first data confirms it. Any other (an index never handed
 * out, or one whose handshake is over) is dropped at the gate, load or
 * not, and counted.
 */
static void test_cookie_reply_unmatched(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, resp, ka_msg;
	struct sockaddr_in6 from_a, from_b;

	(void)state;
	pair_up(&a, &b, &pa, &pb);
	from_a = loopback_to(&a);
	from_b = loopback_to(&b);
	assert_int_equal(cookie_to(&a, unused_index(&a), &from_a, false), HS_UNMATCHED);
	assert_int_equal(cookie_to(&a, unused_index(&a), &from_a, true), HS_UNMATCHED);
	assert_int_equal(atomic_load(&a.dev.hs_cookie_unmatched), 2);

	send_initiation(&a, pa, &b, &init);
	uint32_t a_idx = wg_le32(((const struct wg_msg_initiation *)init.buf)->sender);
	/* A waits for an answer to its initiation: a reply to it is queued (and fails to open). */
	assert_int_equal(cookie_to(&a, a_idx, &from_b, true), HS_QUEUED);
	assert_int_equal(pa->cookie.cookie_birth, 0);

	assert_int_equal(deliver(&b, &init, false), HS_QUEUED);
	recv_one(&a, &resp);
	uint32_t b_idx = wg_le32(((const struct wg_msg_response *)resp.buf)->sender);
	/* B waits for A to confirm its response. */
	assert_int_equal(cookie_to(&b, b_idx, &from_a, false), HS_QUEUED);

	/* A's handshake is over once the response is in. */
	assert_int_equal(deliver(&a, &resp, false), HS_QUEUED);
	assert_non_null(pa->keypairs.current);
	assert_int_equal(cookie_to(&a, a_idx, &from_b, false), HS_UNMATCHED);
	assert_int_equal(atomic_load(&a.dev.hs_cookie_unmatched), 3);

	/* B's is over once A's data (its keepalive) confirms the session. */
	recv_one(&b, &ka_msg);
	struct wg_keypair *kb = pb->keypairs.next, *dropped = NULL;
	assert_int_equal(kb->local_index, b_idx);
	pthread_mutex_lock(&pb->lock);
	assert_true(wg_keypairs_received_with(&pb->keypairs, kb, &dropped));
	pthread_mutex_unlock(&pb->lock);
	assert_int_equal(cookie_to(&b, b_idx, &from_a, false), HS_UNMATCHED);
	assert_int_equal(atomic_load(&b.dev.hs_cookie_unmatched), 1);
	assert_nothing(&a);
	assert_nothing(&b);
	both_down(&a, &b);
}

/* A spoofed source: 127.1.x.y, port 1024 + i, on loopback (what is sent to it goes nowhere). */
static struct sockaddr_in6 spoofed(unsigned int i)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(1024 + i % 60000)};

	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.1.0.0", &sa.sin6_addr), 1);
	sa.sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
	sa.sin6_addr.s6_addr[15] = (uint8_t)i;
	return sa;
}

/*
 * Under load and a flood from FLOOD spoofed sources, B still takes A: the
 * initiations with a wrong mac1 and the cookie-type junk are dropped at
 * the gate, and so are initiations with a right mac1 but no mac2 (someone
 * who knows B's public key), which get a cookie reply each. None of them
 * takes a queue slot or a rate limiter entry, so A's initiation gets its
 * cookie, and A's retry with mac2 its response. Past that, mac2 or not,
 * a source gets no more than its rate.
 */
#define FLOOD 5000
static void test_spoofed_flood(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, reply, resp, d;
	struct wg_cookie holder; /* what anyone who knows B's key can make */

	(void)state;
	pair_up(&a, &b, &pa, &pb);
	wg_cookie_init(&holder, b.pub);
	for (unsigned int i = 0; i < FLOOD; i++) {
		struct wg_msg_initiation *m = (struct wg_msg_initiation *)d.buf;
		d.src = spoofed(i);
		d.len = sizeof(*m);
		randombytes_buf(m, sizeof(*m));
		m->type = WG_MSG_INITIATION;
		memset(m->reserved, 0, sizeof(m->reserved));
		assert_int_equal(gate(&b, &d, true), HS_BAD_MAC1);
		wg_cookie_add_macs(&holder, d.buf, d.len, now_mono());
		assert_int_equal(gate(&b, &d, true), HS_COOKIE_SENT);
		junk_cookie(&d, unused_index(&b), &d.src);
		assert_int_equal(gate(&b, &d, true), HS_UNMATCHED);
	}
	assert_queue_empty(&b);
	assert_int_equal(b.dev.ratelimiter.used, 0);
	assert_int_equal(atomic_load(&b.dev.hs_bad_mac1), FLOOD);
	assert_int_equal(atomic_load(&b.dev.hs_cookie_unmatched), FLOOD);
	assert_int_equal(atomic_load(&b.dev.hs_cookies_sent), FLOOD);
	assert_int_equal(atomic_load(&b.dev.hs_refused), 0);

	/* A's first try: a cookie reply; its retry, with mac2: a response. */
	send_initiation(&a, pa, &b, &init);
	assert_int_equal(deliver(&b, &init, true), HS_COOKIE_SENT);
	recv_one(&a, &reply);
	assert_int_equal(reply.buf[0], WG_MSG_COOKIE);
	assert_int_equal(deliver(&a, &reply, true), HS_QUEUED);
	assert_true(pa->cookie.cookie_birth > 0);
	handshake_send_initiation(pa, true);
	recv_one(&b, &init);
	assert_int_equal(deliver(&b, &init, true), HS_QUEUED);
	recv_one(&a, &resp);
	assert_int_equal(resp.buf[0], WG_MSG_RESPONSE);
	assert_int_equal(deliver(&a, &resp, false), HS_QUEUED);
	assert_non_null(pa->keypairs.current);
	assert_int_equal(b.dev.ratelimiter.used, 1);

	/*
	 * The same initiation again and again, all at one instant later on
	 * (A's bucket full again): the burst passes, then A's source is refused.
	 */
	uint64_t later = now_mono() + 10 * NSEC_PER_SEC;
	int queued = 0;
	b.dev.rx_last_deep = later;
	while (hs_gate(&b.dev, init.buf, init.len, &init.src, NULL, later) == HS_QUEUED)
		queued++;
	handshake_process_queue(&b.dev);
	assert_int_equal(queued, WG_RL_BURST);
	assert_int_equal(atomic_load(&b.dev.hs_refused), 1);
	(void)pb;
	both_down(&a, &b);
}

/*
 * A message relayed by a member comes through that member's session: no
 * cookie is asked of it under load (the reply would reach the relay), but
 * its mac1 is checked all the same.
 */
static void test_relayed_no_cookie(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init;

	(void)state;
	pair_initiated(&a, &b, &pa, &pb, &init);
	b.dev.rx_last_deep = now_mono();
	init.buf[offsetof(struct wg_msg_initiation, mac1)] ^= 0x01;
	assert_int_equal(hs_gate(&b.dev, init.buf, init.len, &init.src, pb, now_mono()),
			 HS_BAD_MAC1);
	init.buf[offsetof(struct wg_msg_initiation, mac1)] ^= 0x01;
	assert_int_equal(hs_gate(&b.dev, init.buf, init.len, &init.src, pb, now_mono()), HS_QUEUED);
	assert_true(b.dev.hs_queue[atomic_load(&b.dev.hs_head) % HS_QUEUE_SIZE].relayed);
	assert_int_equal(atomic_load(&b.dev.hs_cookies_sent), 0);
	assert_int_equal(b.dev.ratelimiter.used, 1);
	both_down(&a, &b);
}

/* peer_clear_keys() forgets the session: no current keypair, and its index leads nowhere. */
static void test_clear_keys(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, resp;

	(void)state;
	pair_initiated(&a, &b, &pa, &pb, &init);
	deliver(&b, &init, false);
	recv_one(&a, &resp);
	deliver(&a, &resp, false);
	assert_non_null(pa->keypairs.current);
	uint32_t idx = pa->keypairs.current->local_index;

	peer_clear_keys(pa);
	assert_null(pa->keypairs.current);
	assert_null(pa->keypairs.previous);
	assert_null(pa->keypairs.next);
	/* Data addressed to the old index would find nothing to decrypt with. */
	assert_null(wg_index_get_keypair(&a.dev.index, idx));
	/* The responder's pending keypair goes the same way. */
	uint32_t bidx = pb->keypairs.next->local_index;
	peer_clear_keys(pb);
	assert_null(pb->keypairs.next);
	assert_null(wg_index_get_keypair(&b.dev.index, bidx));
	/* A late response to the forgotten handshake finds no handshake to complete. */
	deliver(&a, &resp, false);
	assert_null(pa->keypairs.current);
	both_down(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_completes),
	    cmocka_unit_test(test_bad_mac1_dropped),
	    cmocka_unit_test(test_unknown_key_dropped),
	    cmocka_unit_test(test_under_load_cookie),
	    cmocka_unit_test(test_clear_keys),
	    cmocka_unit_test(test_cookie_reply_unmatched),
	    cmocka_unit_test(test_spoofed_flood),
	    cmocka_unit_test(test_relayed_no_cookie),
	};

	log_init(false);
	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
