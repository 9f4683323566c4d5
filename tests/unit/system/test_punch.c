/* SPDX-License-Identifier: ISC */
/*
 * control/punch.c and the path choice it feeds (core/peer.h peer_path) on
 * the fake device (tests/unit/fake_device.h), without sessions: which
 * candidates messages a member's session may hand us and what they leave
 * (the probe targets, deduplicated with its registry endpoints, and the
 * probing window), the rate limit on them, and when the path is direct.
 * What goes on the wire is tests/integration/test_punch.sh's. No threads;
 * time is the test's own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "daemon/control/candidates.h"
#include "daemon/control/punch.h"
#include "daemon/core/device.h"
#include "daemon/core/peer.h"
#include "daemon/platform/udp.h"
#include "tests/unit/fake_device.h"
#include "wgproto/crypto.h"

#define T0 (1000 * NSEC_PER_SEC)

struct fixture {
	struct device dev;
	struct peer *p, *hop; /* a member, and the neighbour its route goes through */
	uint8_t msg[CAND_MSG_MAX];
	size_t len;
};

static struct sockaddr_in6 ep(const char *v4, uint16_t port)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	s.sin6_addr.s6_addr[10] = s.sin6_addr.s6_addr[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, v4, &s.sin6_addr.s6_addr[12]), 1);
	return s;
}

static struct peer *add(struct device *dev)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct peer *p;

	wg_generate_private_key(priv);
	wg_public_key(pub, priv);
	p = device_add_peer(dev, pub, NULL, NULL, 0);
	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	static struct fixture f;
	uint8_t priv[WG_KEY_LEN];
	struct sockaddr_in6 c[2] = {ep("10.7.0.1", 51820), ep("192.168.77.2", 51820)};

	memset(&f, 0, sizeof(f));
	wg_generate_private_key(priv);
	assert_int_equal(fake_device_up(&f.dev, "punch0", priv), 0);
	f.p = add(&f.dev);
	f.hop = add(&f.dev);
	atomic_store(&f.p->is_member, true);
	/* Its registry endpoint: the first candidate again, and one of its own. */
	f.p->cands[0] = c[0];
	f.p->cands[1] = ep("198.51.100.7", 4000);
	f.p->ncands = 2;
	assert_true(route_table_replace(&f.dev.routes, &f.p->addr, f.hop, NULL));
	f.len = cand_build(f.msg, c, 2);
	assert_int_equal(f.len, CAND_HDR_LEN + 2 * CAND_ENTRY_LEN);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	device_down(&f->dev);
	return 0;
}

static bool has_target(const struct peer *p, const struct sockaddr_in6 *a)
{
	for (unsigned int i = 0; i < p->npunch; i++)
		if (udp_same(&p->punch[i], a))
			return true;
	return false;
}

/* Its candidates and its registry endpoints, each once, probed for PUNCH_WINDOW. */
static void test_candidates_taken(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in6 lan = ep("192.168.77.2", 51820), reg = ep("198.51.100.7", 4000);

	punch_receive(&f->dev, f->p, f->msg, f->len, T0);
	assert_int_equal(f->p->npunch, 3);
	assert_true(has_target(f->p, &f->p->cands[0]));
	assert_true(has_target(f->p, &lan));
	assert_true(has_target(f->p, &reg));
	assert_int_equal(f->p->punch_heard_at, T0);
	assert_int_equal(f->p->punch_until, T0 + PUNCH_WINDOW);
	/* No session yet: our candidates could not go, and will be tried again. */
	assert_int_equal(f->p->punch_told_at, 0);
}

/* A member's candidates count once per PUNCH_HEARD_MIN: its budget of probes. */
static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in6 other[1] = {ep("203.0.113.9", 9)};
	uint8_t msg[CAND_MSG_MAX];
	size_t n = cand_build(msg, other, 1);

	punch_receive(&f->dev, f->p, f->msg, f->len, T0);
	punch_receive(&f->dev, f->p, msg, n, T0 + PUNCH_HEARD_MIN - 1);
	assert_int_equal(f->p->npunch, 3);
	assert_false(has_target(f->p, &other[0]));
	assert_int_equal(f->p->punch_heard_at, T0);
	punch_receive(&f->dev, f->p, msg, n, T0 + PUNCH_HEARD_MIN);
	assert_true(has_target(f->p, &other[0]));
	assert_int_equal(f->p->npunch, 3); /* the new one and its two registry endpoints */
	assert_int_equal(f->p->punch_until, T0 + PUNCH_HEARD_MIN + PUNCH_WINDOW);
}

/* A message that does not check out changes nothing, and spends no budget. */
static void test_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t bad[CAND_MSG_MAX];

	memcpy(bad, f->msg, f->len);
	bad[CAND_HDR_LEN + 12] = 127; /* loopback */
	punch_receive(&f->dev, f->p, bad, f->len, T0);
	assert_int_equal(f->p->npunch, 0);
	assert_int_equal(f->p->punch_heard_at, 0);
	punch_receive(&f->dev, f->p, f->msg, f->len - 1, T0);
	assert_int_equal(f->p->npunch, 0);
	punch_receive(&f->dev, f->p, f->msg, f->len, T0 + 1);
	assert_int_equal(f->p->npunch, 3);
}

/* Only a member's session in use, relayed by the routes, is worth a try. */
static void test_tick(void **state)
{
	struct fixture *f = *state;

	atomic_store(&f->p->tx_bytes, 1000);
	atomic_store(&f->p->is_member, false);
	punch_tick(&f->dev, f->p, T0);
	assert_int_equal(f->p->punch_until, 0);
	atomic_store(&f->p->is_member, true);
	/* In use (its counters moved), relayed: it tries, and without keys tries again later. */
	punch_tick(&f->dev, f->p, T0);
	assert_int_equal(f->p->punch_active_at, T0);
	assert_int_equal(f->p->punch_told_at, 0);
	assert_int_equal(f->p->punch_until, 0);
	/* Direct by the routes: nothing to punch. */
	assert_true(route_table_replace(&f->dev.routes, &f->p->addr, f->p, NULL));
	atomic_store(&f->p->tx_bytes, 2000);
	punch_tick(&f->dev, f->p, T0 + 1);
	assert_int_equal(f->p->punch_told_at, 0);
}

/*
 * The path: the routes' hop, or the member itself while datagrams come
 * straight and its probes say ours arrive straight too.
 */
static void test_path(void **state)
{
	struct fixture *f = *state;

	assert_ptr_equal(peer_path(f->p, T0), f->hop);
	atomic_store(&f->p->direct_rx_ns, T0);
	/* We hear it, it does not say it hears us: one way is no path. */
	assert_ptr_equal(peer_path(f->p, T0), f->hop);
	atomic_store(&f->p->direct_ack_ns, T0 - NSEC_PER_SEC);
	assert_ptr_equal(peer_path(f->p, T0 + PEER_DIRECT_ALIVE - NSEC_PER_SEC - 1), f->p);
	assert_ptr_equal(peer_path(f->p, T0 + PEER_DIRECT_ALIVE - NSEC_PER_SEC), f->hop);
	atomic_store(&f->p->direct_ack_ns, T0);
	assert_ptr_equal(peer_path(f->p, T0 + PEER_DIRECT_ALIVE - 1), f->p);
	assert_ptr_equal(peer_path(f->p, T0 + PEER_DIRECT_ALIVE), f->hop);
	/* Another thread's clock a little ahead of ours is fresh, not ancient. */
	assert_ptr_equal(peer_path(f->p, T0 - 1000), f->p);
	/* No route at all: a live direct path still goes. */
	route_table_remove(&f->dev.routes, &f->p->addr);
	assert_ptr_equal(peer_path(f->p, T0), f->p);
	assert_null(peer_path(f->p, T0 + PEER_DIRECT_ALIVE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_candidates_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
