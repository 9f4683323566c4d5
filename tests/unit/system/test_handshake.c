/* SPDX-License-Identifier: ISC */
/*
 * control/handshake.c on two fake devices in one process
 * (tests/unit/fake_device.h): A's initiation really leaves through A's UDP
 * socket, is read from B's, queued on B as the receive thread would
 * (rx.c enqueue_handshake) and answered; the same for B's response on A.
 * Covered: a complete handshake and the keypairs it leaves on both sides;
 * what is dropped without an answer (a bad mac1, an unknown key); the
 * cookie reply under load and the cookie round trip it starts; and
 * peer_clear_keys() forgetting the session. No threads, no timing
 * assertions: every step is a call made by the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/base/clock.h"
#include "daemon/base/log.h"
#include "daemon/control/handshake.h"
#include "daemon/control/up.h"
#include "daemon/core/device.h"
#include "daemon/core/keys.h"
#include "daemon/core/peer.h"
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

/* Exactly what rx.c's enqueue_handshake() does with a handshake datagram. */
static void enqueue(struct device *dev, const struct dgram *d, bool under_load)
{
	uint32_t tail = atomic_load(&dev->hs_tail);
	struct hs_item *it = &dev->hs_queue[tail % HS_QUEUE_SIZE];

	assert_true(d->len <= sizeof(it->data));
	memcpy(it->data, d->buf, d->len);
	it->len = (uint32_t)d->len;
	it->src = d->src;
	it->under_load = under_load;
	atomic_store(&dev->hs_tail, tail + 1);
}

/* Queues d on n and runs the control thread's consumer over it. */
static void deliver(struct node *n, const struct dgram *d, bool under_load)
{
	enqueue(&n->dev, d, under_load);
	handshake_process_queue(&n->dev);
	/* The queue is drained whatever became of the message. */
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

static void test_handshake_completes(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, resp;

	(void)state;
	pair_up(&a, &b, &pa, &pb);
	send_initiation(&a, pa, &b, &init);
	/* An initiation alone is no session. */
	assert_null(pa->keypairs.current);

	deliver(&b, &init, false);
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

	deliver(&a, &resp, false);
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
	device_down(&a.dev);
	device_down(&b.dev);
}

/* mac1 is checked before any Diffie-Hellman: one bit off and B neither answers nor changes. */
static void test_bad_mac1_dropped(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init;

	(void)state;
	pair_up(&a, &b, &pa, &pb);
	send_initiation(&a, pa, &b, &init);
	init.buf[offsetof(struct wg_msg_initiation, mac1)] ^= 0x01;
	deliver(&b, &init, false);
	assert_nothing(&a);
	assert_null(pb->keypairs.next);
	assert_null(pb->keypairs.current);
	/* Not even the endpoint was learned from it. */
	assert_int_equal(pb->endpoint.sin6_family, 0);

	/* The same message with mac1 restored is answered: the flip alone made the difference. */
	init.buf[offsetof(struct wg_msg_initiation, mac1)] ^= 0x01;
	deliver(&b, &init, false);
	struct dgram resp;
	recv_one(&a, &resp);
	assert_int_equal(resp.buf[0], WG_MSG_RESPONSE);
	device_down(&a.dev);
	device_down(&b.dev);
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

	deliver(&b, &init, false);
	assert_nothing(&a);
	assert_int_equal(b.dev.npeers, 0);
	assert_null(device_find_peer(&b.dev, a.pub));
	device_down(&a.dev);
	device_down(&b.dev);
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
	pair_up(&a, &b, &pa, &pb);
	send_initiation(&a, pa, &b, &init);
	/* A held no cookie, so its mac2 is all zeros. */
	static const uint8_t zero[WG_MAC_LEN];
	assert_memory_equal(init.buf + offsetof(struct wg_msg_initiation, mac2), zero, WG_MAC_LEN);

	deliver(&b, &init, true);
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
	deliver(&a, &reply, true);
	assert_true(pa->cookie.cookie_birth > 0);
	assert_nothing(&b);

	/* The same initiation with A's macs redone now carries a mac2 B accepts under load. */
	memcpy(&remac, init.buf, sizeof(remac));
	wg_cookie_add_macs(&pa->cookie, (uint8_t *)&remac, sizeof(remac), now_mono());
	assert_memory_not_equal(remac.mac2, zero, WG_MAC_LEN);
	memcpy(init.buf, &remac, sizeof(remac));
	deliver(&b, &init, true);
	recv_one(&a, &resp);
	assert_int_equal(resp.buf[0], WG_MSG_RESPONSE);
	assert_non_null(pb->keypairs.next);
	device_down(&a.dev);
	device_down(&b.dev);
}

/* peer_clear_keys() forgets the session: no current keypair, and its index leads nowhere. */
static void test_clear_keys(void **state)
{
	struct node a, b;
	struct peer *pa, *pb;
	struct dgram init, resp;

	(void)state;
	pair_up(&a, &b, &pa, &pb);
	send_initiation(&a, pa, &b, &init);
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
	device_down(&a.dev);
	device_down(&b.dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_completes), cmocka_unit_test(test_bad_mac1_dropped),
	    cmocka_unit_test(test_unknown_key_dropped), cmocka_unit_test(test_under_load_cookie),
	    cmocka_unit_test(test_clear_keys),
	};

	log_init(false);
	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
