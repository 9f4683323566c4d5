// SPDX-License-Identifier: ISC
/*
 * The node's public endpoint from its neighbours' reports
 * (daemon/control/reflexive.h): a cone NAT, a symmetric one, no NAT, too
 * few subnets, one subnet voting twice, and the families kept apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "daemon/control/reflexive.h"

/* An IPv4 address, mapped; or an IPv6 one as it is. */
static struct in6_addr ip(const char *s)
{
	struct in6_addr a;
	struct in_addr v4;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &v4, 4);
		return a;
	}
	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static struct reflex_report rep(const char *reporter, const char *seen, uint16_t port)
{
	return (struct reflex_report){
	    .reporter = ip(reporter), .seen = ip(seen), .seen_port = port};
}

static void test_cone(void **state)
{
	struct reflex_report r[] = {rep("10.9.0.1", "198.51.100.7", 40000),
				    rep("10.8.0.1", "198.51.100.7", 40000)};
	struct in6_addr local = ip("192.168.77.2");
	struct reflex x;

	(void)state;
	reflex_classify(r, 2, true, &local, 1, 51820, &x);
	assert_int_equal(x.kind, NAT_CONE);
	assert_int_equal(x.subnets, 2);
	assert_int_equal(x.port, 40000);
	struct in6_addr want = ip("198.51.100.7");
	assert_memory_equal(&x.addr, &want, 16);
	assert_string_equal(nat_kind_name(x.kind), "cone");
}

static void test_symmetric(void **state)
{
	struct reflex_report r[] = {rep("10.9.0.1", "198.51.100.7", 40000),
				    rep("10.8.0.1", "198.51.100.7", 40001)};
	struct reflex x;

	(void)state;
	reflex_classify(r, 2, true, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_SYMMETRIC);
	/* Another address is as telling as another port. */
	r[1] = rep("10.8.0.1", "198.51.100.8", 40000);
	reflex_classify(r, 2, true, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_SYMMETRIC);
	assert_string_equal(nat_kind_name(x.kind), "symmetric");
}

static void test_no_nat(void **state)
{
	struct reflex_report r[] = {rep("10.9.0.1", "10.7.0.5", 51820),
				    rep("10.8.0.1", "10.7.0.5", 51820)};
	struct in6_addr local[] = {ip("127.0.0.1"), ip("10.7.0.5")};
	struct reflex x;

	(void)state;
	reflex_classify(r, 2, true, local, 2, 51820, &x);
	assert_int_equal(x.kind, NAT_NONE);
	/* Our address, but another port: a NAT on this host after all. */
	reflex_classify(r, 2, true, local, 2, 51821, &x);
	assert_int_equal(x.kind, NAT_CONE);
}

/* One subnet is one vote, however many members sit in it; one vote confirms nothing. */
static void test_subnets(void **state)
{
	struct reflex_report r[] = {rep("10.9.0.1", "198.51.100.7", 40000),
				    rep("10.9.0.2", "198.51.100.9", 40009),
				    rep("10.9.0.3", "198.51.100.7", 40000)};
	struct reflex x;

	(void)state;
	reflex_classify(r, 3, true, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_UNKNOWN);
	assert_int_equal(x.subnets, 1);
	reflex_classify(r, 0, true, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_UNKNOWN);
	assert_string_equal(nat_kind_name(x.kind), "unknown");
	/* IPv6 reporters count per /64. */
	struct reflex_report v6[] = {rep("2001:db8:1::1", "2001:db8:9::5", 51820),
				     rep("2001:db8:1::2", "2001:db8:9::5", 51820),
				     rep("2001:db8:2::1", "2001:db8:9::5", 51820)};
	reflex_classify(v6, 3, false, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_CONE);
	assert_int_equal(x.subnets, 2);
}

/* IPv4 and IPv6 reports are judged apart: the one never spoils the other. */
static void test_families(void **state)
{
	struct reflex_report r[] = {rep("10.9.0.1", "198.51.100.7", 40000),
				    rep("2001:db8:1::1", "2001:db8:9::5", 51820),
				    rep("10.8.0.1", "198.51.100.7", 40000)};
	struct reflex x;

	(void)state;
	reflex_classify(r, 3, true, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_CONE);
	assert_int_equal(x.subnets, 2);
	reflex_classify(r, 3, false, NULL, 0, 51820, &x);
	assert_int_equal(x.kind, NAT_UNKNOWN);
	assert_int_equal(x.subnets, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cone),     cmocka_unit_test(test_symmetric),
	    cmocka_unit_test(test_no_nat),   cmocka_unit_test(test_subnets),
	    cmocka_unit_test(test_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
