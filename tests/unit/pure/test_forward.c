// SPDX-License-Identifier: ISC
/*
 * The forwarding rules of the receive thread (daemon/datapath/forward.h) against a
 * small route table: peers are tokens, the table an array.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <string.h>

#include "daemon/datapath/forward.h"
#include "daemon/base/packet.h"

/* Three peers: A (a stock peer or a router, as the test says), B and C. */
static int peer_a, peer_b, peer_c;

struct route {
	const char *addr;
	void *peer;
};

struct table {
	struct route r[8];
	unsigned int n;
	unsigned int lookups;
};

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static void *lookup(void *ctx, const struct in6_addr *a)
{
	struct table *t = ctx;

	t->lookups++;
	for (unsigned int i = 0; i < t->n; i++) {
		struct in6_addr x = addr(t->r[i].addr);
		if (in6_equal(&x, a))
			return t->r[i].peer;
	}
	return NULL;
}

#define SELF   "fc00::5e1f"
#define ADDR_A "fcaa::a"
#define ADDR_B "fcbb::b"
#define ADDR_C "fccc::c"
#define ADDR_D "fcdd::d" /* a member behind B */

struct fixture {
	struct table t;
	struct in6_addr self, a;
	struct fwd_env env;
	struct fwd_from from; /* A */
	uint8_t pkt[2000];
	size_t len;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.t = (struct table){
	    .r = {{ADDR_A, &peer_a}, {ADDR_B, &peer_b}, {ADDR_C, &peer_c}, {ADDR_D, &peer_b}},
	    .n = 4};
	f.self = addr(SELF);
	f.a = addr(ADDR_A);
	f.env = (struct fwd_env){.self = &f.self, .mtu = 1420, .lookup = lookup, .ctx = &f.t};
	f.from = (struct fwd_from){.peer = &peer_a, .addr = &f.a, .is_router = false};
	*state = &f;
	return 0;
}

/* A packet of payload bytes from src to dst with hop limit hl. */
static void make(struct fixture *f, const char *src, const char *dst, uint8_t hl, uint8_t next,
		 size_t payload)
{
	uint8_t *p = f->pkt;
	struct in6_addr s = addr(src), d = addr(dst);

	memset(p, 0, IPV6_HDR_LEN + payload);
	p[0] = 0x60;
	p[4] = (uint8_t)(payload >> 8);
	p[5] = (uint8_t)payload;
	p[6] = next;
	p[7] = hl;
	memcpy(p + 8, &s, 16);
	memcpy(p + 24, &d, 16);
	if (payload && next == IPPROTO_ICMPV6)
		p[IPV6_HDR_LEN] = ICMP6_ECHO_REQUEST;
	f->len = IPV6_HDR_LEN + payload;
}

static enum fwd_verdict run(struct fixture *f, void **next)
{
	const char *why = NULL;
	enum fwd_verdict v = fwd_classify(&f->env, &f->from, f->pkt, f->len, next, &why);

	if (v == FWD_DROP)
		assert_non_null(why);
	return v;
}

static void test_deliver_from_the_peer_itself(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, SELF, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DELIVER);
	/* The peer's own source needs no route lookup, nor does our own destination. */
	assert_int_equal(f->t.lookups, 0);
	/* The hop limit does not matter at the destination. */
	make(f, ADDR_A, SELF, 0, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DELIVER);
}

static void test_not_ipv6(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, SELF, 64, IPPROTO_UDP, 20);
	f->pkt[0] = 0x45;
	assert_int_equal(run(f, &next), FWD_DROP);
	make(f, ADDR_A, SELF, 64, IPPROTO_UDP, 20);
	f->len = IPV6_HDR_LEN - 1;
	assert_int_equal(run(f, &next), FWD_DROP);
}

/* A stock peer (no routing) may only send as itself, wherever to. */
static void test_stock_peer_sends_as_itself_only(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_C, SELF, 64, IPPROTO_UDP, 20); /* a known member, but not A */
	assert_int_equal(run(f, &next), FWD_DROP);
	make(f, ADDR_C, ADDR_B, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	/* As itself, through us: forwarded (a phone whose gateway we are). */
	make(f, ADDR_A, ADDR_B, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	assert_ptr_equal(next, &peer_b);
}

static void test_router_relays_members(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->from.is_router = true;
	make(f, ADDR_C, SELF, 64, IPPROTO_TCP, 20);
	assert_int_equal(run(f, &next), FWD_DELIVER);
	make(f, ADDR_D, ADDR_C, 64, IPPROTO_TCP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	assert_ptr_equal(next, &peer_c);
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_TCP, 20); /* its own address still counts */
	assert_int_equal(run(f, &next), FWD_FORWARD);
}

static void test_router_source_rules(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->from.is_router = true;
	/* Not a member we know (no route). */
	make(f, "fcee::e", SELF, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	/* Outside the mesh, even with a route (the table never holds one). */
	f->t.r[f->t.n++] = (struct route){"2001:db8::1", &peer_b};
	make(f, "2001:db8::1", SELF, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	/* Our own address coming back, even with a route to it. */
	f->t.r[f->t.n++] = (struct route){SELF, &peer_b};
	make(f, SELF, ADDR_C, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	make(f, "::", SELF, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
}

static void test_destination_outside_the_mesh(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, "2001:db8::1", 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	make(f, ADDR_A, "ff02::1", 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	make(f, ADDR_A, "fe80::1", 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
}

static void test_no_route_is_unreachable(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, "fcee::e", 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_UNREACHABLE);
	assert_ptr_equal(next, &peer_a); /* back along the source's route */
	/* Before the hop limit: a route that does not exist is the answer at any hop limit. */
	make(f, ADDR_A, "fcee::e", 1, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_UNREACHABLE);
}

static void test_route_back_to_the_sender_is_unreachable(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->t.r[f->t.n++] = (struct route){"fcee::e", &peer_a};
	make(f, ADDR_A, "fcee::e", 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_UNREACHABLE);
	assert_ptr_equal(next, &peer_a);
	make(f, ADDR_A, ADDR_A, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_UNREACHABLE);
}

static void test_hop_limit(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, ADDR_C, 2, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD); /* leaves with 1 */
	assert_ptr_equal(next, &peer_c);
	make(f, ADDR_A, ADDR_C, 1, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_TIME_EXCEEDED);
	assert_ptr_equal(next, &peer_a);
	make(f, ADDR_A, ADDR_C, 0, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_TIME_EXCEEDED);
	/* From a router, the error goes along the source's route, not to the router. */
	f->from.is_router = true;
	make(f, ADDR_D, ADDR_C, 1, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_TIME_EXCEEDED);
	assert_ptr_equal(next, &peer_b);
}

static void test_too_big(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, ADDR_C, 64, IPPROTO_TCP, 1420 - IPV6_HDR_LEN);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_TCP, 1421 - IPV6_HDR_LEN);
	assert_int_equal(run(f, &next), FWD_TOO_BIG);
	assert_ptr_equal(next, &peer_a);
	/* For us, any size the tunnel carried. */
	make(f, ADDR_A, SELF, 64, IPPROTO_TCP, 1500);
	assert_int_equal(run(f, &next), FWD_DELIVER);
}

static void test_no_error_about_an_error(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, ADDR_C, 1, IPPROTO_ICMPV6, 48);
	assert_int_equal(run(f, &next), FWD_TIME_EXCEEDED); /* an echo request */
	f->pkt[IPV6_HDR_LEN] = ICMP6_TIME_EXCEEDED;
	assert_int_equal(run(f, &next), FWD_DROP);
	f->pkt[IPV6_HDR_LEN] = ICMP6_DST_UNREACH;
	f->pkt[7] = 64;
	assert_int_equal(run(f, &next), FWD_FORWARD); /* errors are forwarded like any packet */
	make(f, ADDR_A, "fcee::e", 64, IPPROTO_ICMPV6, 48);
	f->pkt[IPV6_HDR_LEN] = ICMP6_PACKET_TOO_BIG;
	assert_int_equal(run(f, &next), FWD_DROP);
}

static void test_no_route_back(void **state)
{
	struct fixture *f = *state;
	void *next;

	/* A's own route is gone (say, replaced while its packets were in flight). */
	f->t.r[0].addr = "fcaa::aaaa";
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	make(f, ADDR_A, ADDR_C, 1, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	assert_null(next);
}

/* A stock device whose Via does not name us: its packets for us only, none carried on. */
static void test_own_only(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->from.own_only = true;
	make(f, ADDR_A, SELF, 64, IPPROTO_ICMPV6, 8);
	assert_int_equal(run(f, &next), FWD_DELIVER);
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_ICMPV6, 8);
	assert_int_equal(run(f, &next), FWD_DROP);
	assert_null(next);
	f->from.own_only = false;
	assert_int_equal(run(f, &next), FWD_FORWARD);
	assert_ptr_equal(next, &peer_c);
}

/* From the TUN, only our own address may go into a tunnel: not a member's, nor another. */
static void test_tun_source(void **state)
{
	struct fixture *f = *state;
	struct in6_addr b = addr(ADDR_B), other = addr("fc00::5e20"), ll = addr("fe80::1");

	assert_true(fwd_tun_source_ok(&f->self, &f->self));
	assert_false(fwd_tun_source_ok(&b, &f->self));
	assert_false(fwd_tun_source_ok(&other, &f->self));
	assert_false(fwd_tun_source_ok(&ll, &f->self));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_deliver_from_the_peer_itself, setup),
	    cmocka_unit_test_setup(test_not_ipv6, setup),
	    cmocka_unit_test_setup(test_stock_peer_sends_as_itself_only, setup),
	    cmocka_unit_test_setup(test_router_relays_members, setup),
	    cmocka_unit_test_setup(test_router_source_rules, setup),
	    cmocka_unit_test_setup(test_destination_outside_the_mesh, setup),
	    cmocka_unit_test_setup(test_no_route_is_unreachable, setup),
	    cmocka_unit_test_setup(test_route_back_to_the_sender_is_unreachable, setup),
	    cmocka_unit_test_setup(test_hop_limit, setup),
	    cmocka_unit_test_setup(test_too_big, setup),
	    cmocka_unit_test_setup(test_no_error_about_an_error, setup),
	    cmocka_unit_test_setup(test_no_route_back, setup),
	    cmocka_unit_test_setup(test_tun_source, setup),
	    cmocka_unit_test_setup(test_own_only, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
