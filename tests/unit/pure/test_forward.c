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

/*
 * Peers: A (the session a packet comes out of: a member, or a stock device
 * we connect, as the test says), B and C (members), P (a stock device we
 * connect, Via us).
 */
static int peer_a, peer_b, peer_c, peer_p;

struct route {
	const char *addr;
	void *peer;
	bool relayed; /* the session's path goes through another member */
};

struct table {
	struct route r[8];
	unsigned int n;
	unsigned int lookups;
	const char *carried; /* a device address whose Via names A */
};

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

#define MTU 1420

static void *lookup(void *ctx, const struct in6_addr *a, uint32_t *mtu)
{
	struct table *t = ctx;

	t->lookups++;
	for (unsigned int i = 0; i < t->n; i++) {
		struct in6_addr x = addr(t->r[i].addr);
		if (in6_equal(&x, a)) {
			*mtu = t->r[i].relayed ? MTU - 68 : MTU;
			return t->r[i].peer;
		}
	}
	return NULL;
}

static bool carries(void *ctx, const void *peer, const struct in6_addr *src)
{
	struct table *t = ctx;
	struct in6_addr c;

	if (peer != &peer_a || !t->carried)
		return false;
	c = addr(t->carried);
	return in6_equal(&c, src);
}

static bool hosted(void *ctx, const void *peer)
{
	(void)ctx;
	return peer == &peer_p;
}

#define SELF   "fc00::5e1f"
#define ADDR_A "fcaa::a"
#define ADDR_B "fcbb::b"
#define ADDR_C "fccc::c"
#define ADDR_D "fcdd::d" /* a device whose Via names A */
#define ADDR_P "fcee::1" /* a device we connect */

struct fixture {
	struct table t;
	struct in6_addr self, a;
	struct fwd_env env;
	struct fwd_from from; /* A */
	uint8_t pkt[2000];
	size_t len;
	uint32_t mtu;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.t = (struct table){.r = {{ADDR_A, &peer_a, false},
				   {ADDR_B, &peer_b, false},
				   {ADDR_C, &peer_c, true},
				   {ADDR_D, &peer_a, false},
				   {ADDR_P, &peer_p, false}},
			     .n = 5};
	f.self = addr(SELF);
	f.a = addr(ADDR_A);
	f.env = (struct fwd_env){
	    .self = &f.self, .lookup = lookup, .carries = carries, .hosted = hosted, .ctx = &f.t};
	/* A stock device we connect, unless the test makes it a member. */
	f.from = (struct fwd_from){.peer = &peer_a, .addr = &f.a, .gateway = true};
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
	enum fwd_verdict v = fwd_classify(&f->env, &f->from, f->pkt, f->len, next, &f->mtu, &why);

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
	/* The session's own source needs no lookup, nor does our own destination. */
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

/*
 * The cryptokey rule, end to end: a session sends as its own key's
 * address only, member or device, router or not, whatever the destination.
 */
static void test_session_sends_as_itself_only(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;
	void *next;

	for (int member = 0; member < 2; member++) {
		f->from.gateway = !member;
		const char *srcs[] = {ADDR_C, ADDR_B, SELF, "::", "2001:db8::1", ADDR_P};
		for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
			make(f, srcs[i], SELF, 64, IPPROTO_UDP, 20);
			assert_int_equal(
			    fwd_classify(&f->env, &f->from, f->pkt, f->len, &next, &f->mtu, &why),
			    FWD_DROP);
			assert_ptr_equal(why, fwd_why_source);
			make(f, srcs[i], ADDR_P, 64, IPPROTO_UDP, 20);
			assert_int_equal(run(f, &next), FWD_DROP);
		}
	}
}

/* A device whose member file's Via names A's member: A's session may carry it. */
static void test_via_device(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->from.gateway = false;
	make(f, ADDR_D, SELF, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	f->t.carried = ADDR_D;
	assert_int_equal(run(f, &next), FWD_DELIVER);
	/* B's session may not. */
	f->from.peer = &peer_b;
	assert_int_equal(run(f, &next), FWD_DROP);
}

/* A member's packets for another member are for their own session: never passed on. */
static void test_member_sends_end_to_end(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->from.gateway = false;
	make(f, ADDR_A, ADDR_B, 64, IPPROTO_TCP, 20);
	assert_int_equal(run(f, &next), FWD_DROP);
	assert_null(next);
	make(f, ADDR_A, "fcee::e", 64, IPPROTO_TCP, 20); /* no session: no answer either */
	assert_int_equal(run(f, &next), FWD_DROP);
	/* To a device we connect: passed on. */
	make(f, ADDR_A, ADDR_P, 64, IPPROTO_TCP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	assert_ptr_equal(next, &peer_p);
}

/* A device we connect reaches any member's session through us. */
static void test_device_goes_on(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, ADDR_B, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	assert_ptr_equal(next, &peer_b);
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	assert_ptr_equal(next, &peer_c);
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
	assert_ptr_equal(next, &peer_a); /* back into the source's session */
	/* Before the hop limit: a route that does not exist is the answer at any hop limit. */
	make(f, ADDR_A, "fcee::e", 1, IPPROTO_UDP, 20);
	assert_int_equal(run(f, &next), FWD_UNREACHABLE);
}

static void test_route_back_to_the_sender_is_unreachable(void **state)
{
	struct fixture *f = *state;
	void *next;

	f->t.r[f->t.n++] = (struct route){"fcee::e", &peer_a, false};
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
}

/* The MTU is the path's: a relayed one takes 68 bytes less. */
static void test_too_big(void **state)
{
	struct fixture *f = *state;
	void *next;

	make(f, ADDR_A, ADDR_B, 64, IPPROTO_TCP, MTU - IPV6_HDR_LEN);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	make(f, ADDR_A, ADDR_B, 64, IPPROTO_TCP, MTU + 1 - IPV6_HDR_LEN);
	assert_int_equal(run(f, &next), FWD_TOO_BIG);
	assert_ptr_equal(next, &peer_a);
	assert_int_equal(f->mtu, MTU);
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_TCP, MTU - 68 - IPV6_HDR_LEN);
	assert_int_equal(run(f, &next), FWD_FORWARD);
	make(f, ADDR_A, ADDR_C, 64, IPPROTO_TCP, MTU - 67 - IPV6_HDR_LEN);
	assert_int_equal(run(f, &next), FWD_TOO_BIG);
	assert_int_equal(f->mtu, MTU - 68);
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

	/* A's own session is gone (say, replaced while its packets were in flight). */
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
	    cmocka_unit_test_setup(test_session_sends_as_itself_only, setup),
	    cmocka_unit_test_setup(test_via_device, setup),
	    cmocka_unit_test_setup(test_member_sends_end_to_end, setup),
	    cmocka_unit_test_setup(test_device_goes_on, setup),
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
