// SPDX-License-Identifier: ISC
/*
 * Candidates messages (daemon/control/candidates.h): built and read back,
 * the addresses no candidate may have, and the messages to refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "daemon/control/candidates.h"
#include "daemon/platform/udp.h"

static struct sockaddr_in6 ep(const char *addr, uint16_t port)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct in_addr v4;

	if (inet_pton(AF_INET, addr, &v4) == 1) {
		s.sin6_addr.s6_addr[10] = s.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s.sin6_addr.s6_addr[12], &v4, 4);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s.sin6_addr), 1);
	}
	return s;
}

static void test_round_trip(void **state)
{
	struct sockaddr_in6 c[3] = {ep("10.7.0.1", 51820), ep("192.168.77.2", 51820),
				    ep("2001:db8::7", 4242)};
	struct sockaddr_in6 out[CAND_MAX];
	uint8_t msg[CAND_MSG_MAX + 16];
	const char *why = NULL;
	(void)state;

	size_t n = cand_build(msg, c, 3);
	assert_int_equal(n, 4 + 3 * 18);
	assert_int_equal(msg[0], 0xa5);
	assert_int_equal(msg[1], 3);
	assert_int_equal(msg[4 + 16], 51820 >> 8); /* ports big-endian */
	memset(msg + n, 0, 16);			   /* the tunnel's padding */
	assert_int_equal(cand_parse(msg, n + 16, out, &why), 3);
	for (int i = 0; i < 3; i++)
		assert_true(udp_same(&out[i], &c[i]));
}

/* Loopback, link-local, multicast, unspecified, the mesh's own: never a candidate. */
static void test_addresses(void **state)
{
	const char *bad[] = {"127.0.0.1",	"0.0.0.0",  "169.254.3.4", "224.0.0.1",
			     "255.255.255.255", "::1",	    "::",	   "fe80::1",
			     "ff02::1",		"fc12::34", "fd00::1"};
	const char *good[] = {"10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:db8::1"};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sockaddr_in6 s = ep(bad[i], 1);
		assert_false(cand_addr_ok(&s.sin6_addr));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sockaddr_in6 s = ep(good[i], 1);
		assert_true(cand_addr_ok(&s.sin6_addr));
	}
}

/* Building leaves out what may not be a candidate, and keeps at most CAND_MAX. */
static void test_build_filters(void **state)
{
	struct sockaddr_in6 c[CAND_MAX + 4];
	uint8_t msg[CAND_MSG_MAX];
	(void)state;

	c[0] = ep("127.0.0.1", 51820);
	c[1] = ep("10.0.0.1", 0);
	assert_int_equal(cand_build(msg, c, 2), 0);
	for (int i = 0; i < CAND_MAX + 4; i++)
		c[i] = ep("10.0.0.1", (uint16_t)(1000 + i));
	assert_int_equal(cand_build(msg, c, CAND_MAX + 4), CAND_MSG_MAX);
	assert_int_equal(msg[1], CAND_MAX);
}

static void test_refusals(void **state)
{
	struct sockaddr_in6 c[2] = {ep("10.7.0.1", 51820), ep("192.168.77.2", 51820)};
	struct sockaddr_in6 out[CAND_MAX];
	uint8_t msg[CAND_MSG_MAX], bad[CAND_MSG_MAX];
	const char *why;
	(void)state;

	size_t n = cand_build(msg, c, 2);
	why = NULL;
	assert_int_equal(cand_parse(msg, 3, out, &why), -1); /* short of its header */
	assert_non_null(why);
	assert_int_equal(cand_parse(msg, n - 1, out, &why), -1); /* cut short */
	memcpy(bad, msg, n);
	bad[0] = 0xa1;
	assert_int_equal(cand_parse(bad, n, out, &why), -1);
	memcpy(bad, msg, n);
	bad[1] = 0;
	assert_int_equal(cand_parse(bad, n, out, &why), -1);
	bad[1] = CAND_MAX + 1;
	assert_int_equal(cand_parse(bad, sizeof(bad), out, &why), -1);
	memcpy(bad, msg, n);
	bad[4 + 16] = bad[4 + 17] = 0; /* port 0 */
	assert_int_equal(cand_parse(bad, n, out, &why), -1);
	memcpy(bad, msg, n);
	bad[4 + 18 + 12] = 127; /* the second one on loopback */
	assert_int_equal(cand_parse(bad, n, out, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_build_filters),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
