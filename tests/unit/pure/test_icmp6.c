// SPDX-License-Identifier: ISC
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/base/packet.h"
#include "daemon/datapath/icmp6.h"

static size_t make_packet(uint8_t *p, size_t payload, uint8_t next, uint8_t first)
{
	memset(p, 0, IPV6_HDR_LEN + payload);
	p[0] = 0x60;
	p[4] = (uint8_t)(payload >> 8);
	p[5] = (uint8_t)payload;
	p[6] = next;
	p[7] = 64;
	inet_pton(AF_INET6, "fc11::1", p + 8);
	inet_pton(AF_INET6, "fc22::2", p + 24);
	if (payload)
		p[IPV6_HDR_LEN] = first;
	for (size_t i = 1; i < payload; i++)
		p[IPV6_HDR_LEN + i] = (uint8_t)i;
	return IPV6_HDR_LEN + payload;
}

/* One's-complement sum over pseudo-header and message; 0xffff when the checksum is right. */
static uint16_t verify_sum(const uint8_t *pkt, size_t len)
{
	uint32_t sum = 0;
	size_t plen = len - IPV6_HDR_LEN;

	for (size_t i = 8; i < 40; i += 2)
		sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
	sum += (uint32_t)plen + IPPROTO_ICMPV6;
	for (size_t i = 0; i + 1 < plen; i += 2)
		sum += (uint32_t)pkt[IPV6_HDR_LEN + i] << 8 | pkt[IPV6_HDR_LEN + i + 1];
	if (plen & 1)
		sum += (uint32_t)pkt[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_unreachable_fields(void **state)
{
	(void)state;
	uint8_t pkt[200], out[1280];
	struct in6_addr me;
	size_t len = make_packet(pkt, 21, IPPROTO_UDP, 0);

	inet_pton(AF_INET6, "fc33::3", &me);
	size_t n = icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0);
	assert_int_equal(n, IPV6_HDR_LEN + 8 + len);
	assert_int_equal(ipv6_packet_len(out, n), n);
	assert_int_equal(out[6], IPPROTO_ICMPV6);
	assert_memory_equal(out + 8, &me, 16);
	assert_memory_equal(out + 24, pkt + 8, 16); /* back to the sender */
	assert_int_equal(out[IPV6_HDR_LEN], ICMP6_DST_UNREACH);
	assert_int_equal(out[IPV6_HDR_LEN + 1], 0);
	assert_memory_equal(out + IPV6_HDR_LEN + 8, pkt, len);
	assert_int_equal(verify_sum(out, n), 0xffff);
}

static void test_unreachable_truncates_to_1280(void **state)
{
	(void)state;
	static uint8_t pkt[2000], out[2000];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 1800, IPPROTO_TCP, 0);

	size_t n = icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0);
	assert_int_equal(n, 1280);
	assert_int_equal(verify_sum(out, n), 0xffff);
}

static void test_no_error_about_an_error(void **state)
{
	(void)state;
	uint8_t pkt[100], out[1280];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 16, IPPROTO_ICMPV6, ICMP6_DST_UNREACH);

	assert_int_equal(icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0), 0);
	/* An echo request is informational and does get an answer. */
	len = make_packet(pkt, 16, IPPROTO_ICMPV6, ICMP6_ECHO_REQUEST);
	assert_true(icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0) > 0);
}

static void test_rejects_malformed(void **state)
{
	(void)state;
	uint8_t pkt[100], out[1280];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 16, IPPROTO_UDP, 0);

	assert_int_equal(icmp6_unreachable(out, sizeof(out), pkt, 39, &me, 0), 0);
	pkt[0] = 0x45; /* IPv4 */
	assert_int_equal(icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0), 0);
	make_packet(pkt, 16, IPPROTO_UDP, 0);
	pkt[5] = 60; /* payload length past the buffer */
	assert_int_equal(icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0), 0);
	make_packet(pkt, 16, IPPROTO_UDP, 0);
	assert_int_equal(icmp6_unreachable(out, 50, pkt, len, &me, 0), 0); /* no room */
}

static void test_ipv6_packet_len(void **state)
{
	(void)state;
	uint8_t pkt[100];
	size_t len = make_packet(pkt, 16, IPPROTO_UDP, 0);

	assert_int_equal(ipv6_packet_len(pkt, len), len);
	assert_int_equal(ipv6_packet_len(pkt, len + 15), len); /* padding after it */
	assert_int_equal(ipv6_packet_len(pkt, len - 1), 0);
	assert_int_equal(ipv6_packet_len(pkt, 0), 0);
}

static void test_time_exceeded_fields(void **state)
{
	(void)state;
	uint8_t pkt[200], out[1280];
	struct in6_addr me;
	size_t len = make_packet(pkt, 30, IPPROTO_UDP, 0);

	pkt[7] = 1; /* the hop limit that ran out */
	inet_pton(AF_INET6, "fc33::3", &me);
	size_t n = icmp6_time_exceeded(out, sizeof(out), pkt, len, &me);
	assert_int_equal(n, IPV6_HDR_LEN + 8 + len);
	assert_int_equal(ipv6_packet_len(out, n), n);
	assert_int_equal(out[6], IPPROTO_ICMPV6);
	assert_int_equal(out[7], 64); /* a fresh hop limit of our own */
	assert_memory_equal(out + 8, &me, 16);
	assert_memory_equal(out + 24, pkt + 8, 16);
	assert_int_equal(out[IPV6_HDR_LEN], ICMP6_TIME_EXCEEDED);
	assert_int_equal(out[IPV6_HDR_LEN + 1], ICMP6_TIME_EXCEED_TRANSIT);
	for (int i = 4; i < 8; i++)
		assert_int_equal(out[IPV6_HDR_LEN + i], 0); /* unused */
	assert_memory_equal(out + IPV6_HDR_LEN + 8, pkt, len);
	assert_int_equal(verify_sum(out, n), 0xffff);
}

static void test_too_big_carries_the_mtu(void **state)
{
	(void)state;
	static uint8_t pkt[1500], out[1500];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 1400, IPPROTO_TCP, 0);

	size_t n = icmp6_too_big(out, sizeof(out), pkt, len, &me, 1380);
	assert_int_equal(n, 1280);
	assert_int_equal(out[IPV6_HDR_LEN], ICMP6_PACKET_TOO_BIG);
	assert_int_equal(out[IPV6_HDR_LEN + 1], 0);
	uint8_t mtu[4] = {0, 0, 1380 >> 8, 1380 & 0xff};
	assert_memory_equal(out + IPV6_HDR_LEN + 4, mtu, 4);
	assert_int_equal(verify_sum(out, n), 0xffff);
}

static void test_error_type_code_param(void **state)
{
	(void)state;
	uint8_t pkt[100], out[1280];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 8, IPPROTO_UDP, 0);

	size_t n = icmp6_error(out, sizeof(out), pkt, len, &me, ICMP6_PARAM_PROB, 1, 0x01020304);
	assert_int_equal(n, IPV6_HDR_LEN + 8 + len);
	assert_int_equal(out[IPV6_HDR_LEN], ICMP6_PARAM_PROB);
	assert_int_equal(out[IPV6_HDR_LEN + 1], 1);
	uint8_t param[4] = {1, 2, 3, 4};
	assert_memory_equal(out + IPV6_HDR_LEN + 4, param, 4);
	assert_int_equal(verify_sum(out, n), 0xffff);
}

/* Padding after the packet (a transport message's) is not quoted. */
static void test_padding_not_quoted(void **state)
{
	(void)state;
	uint8_t pkt[100], out[1280];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 10, IPPROTO_UDP, 0);

	memset(pkt + len, 0xee, 14);
	size_t n = icmp6_time_exceeded(out, sizeof(out), pkt, len + 14, &me);
	assert_int_equal(n, IPV6_HDR_LEN + 8 + len);
	assert_int_equal(verify_sum(out, n), 0xffff);
}

/* RFC 4443 2.4(e): no error to a source that names no one node, nor about a multicast packet. */
static void test_no_error_to_nobody(void **state)
{
	(void)state;
	uint8_t pkt[100], out[1280];
	struct in6_addr me = {.s6_addr = {0xfc, 1}};
	size_t len = make_packet(pkt, 16, IPPROTO_UDP, 0);

	memset(pkt + 8, 0, 16); /* :: */
	assert_int_equal(icmp6_time_exceeded(out, sizeof(out), pkt, len, &me), 0);
	make_packet(pkt, 16, IPPROTO_UDP, 0);
	inet_pton(AF_INET6, "ff02::1", pkt + 8);
	assert_int_equal(icmp6_unreachable(out, sizeof(out), pkt, len, &me, 0), 0);
	make_packet(pkt, 16, IPPROTO_UDP, 0);
	inet_pton(AF_INET6, "ff05::2", pkt + 24);
	assert_int_equal(icmp6_time_exceeded(out, sizeof(out), pkt, len, &me), 0);
	make_packet(pkt, 16, IPPROTO_ICMPV6, ICMP6_TIME_EXCEEDED);
	assert_int_equal(icmp6_time_exceeded(out, sizeof(out), pkt, len, &me), 0);
	make_packet(pkt, 16, IPPROTO_ICMPV6, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(icmp6_too_big(out, sizeof(out), pkt, len, &me, 1280), 0);
	make_packet(pkt, 16, IPPROTO_ICMPV6, ICMP6_ECHO_REPLY);
	assert_true(icmp6_time_exceeded(out, sizeof(out), pkt, len, &me) > 0);
}

static void test_is_icmp6_error(void **state)
{
	(void)state;
	uint8_t pkt[100];
	size_t len = make_packet(pkt, 8, IPPROTO_ICMPV6, ICMP6_DST_UNREACH);

	assert_true(ipv6_is_icmp6_error(pkt, len));
	make_packet(pkt, 8, IPPROTO_ICMPV6, 127);
	assert_true(ipv6_is_icmp6_error(pkt, len));
	make_packet(pkt, 8, IPPROTO_ICMPV6, ICMP6_ECHO_REQUEST);
	assert_false(ipv6_is_icmp6_error(pkt, len));
	make_packet(pkt, 8, IPPROTO_UDP, 1);
	assert_false(ipv6_is_icmp6_error(pkt, len));
	make_packet(pkt, 0, IPPROTO_ICMPV6, 0);
	assert_false(ipv6_is_icmp6_error(pkt, IPV6_HDR_LEN)); /* no ICMPv6 header to read */
}

/* 100 errors a second in bursts of 10; an idle spell refills the burst, not more. */
static void test_rate_limit(void **state)
{
	(void)state;
	uint64_t tokens = 0, now = 5 * NSEC_PER_SEC;
	int n = 0;

	for (int i = 0; i < 50; i++)
		n += icmp6_rate_allow(&tokens, now);
	assert_int_equal(n, 10);
	assert_false(icmp6_rate_allow(&tokens, now + NSEC_PER_SEC / 200));
	assert_true(icmp6_rate_allow(&tokens, now + NSEC_PER_SEC / 100));
	assert_false(icmp6_rate_allow(&tokens, now + NSEC_PER_SEC / 100));
	/* One second at 1000 attempts a second: 100 pass. */
	n = 0;
	now += NSEC_PER_SEC / 100;
	for (int i = 1; i <= 1000; i++)
		n += icmp6_rate_allow(&tokens, now + (uint64_t)i * NSEC_PER_SEC / 1000);
	assert_int_equal(n, 100);
	/* An hour of silence still gives a burst of 10 only. */
	now += 3600 * NSEC_PER_SEC;
	n = 0;
	for (int i = 0; i < 50; i++)
		n += icmp6_rate_allow(&tokens, now);
	assert_int_equal(n, 10);
	/* A clock near its origin does not wrap the bucket. */
	tokens = 0;
	assert_false(icmp6_rate_allow(&tokens, 1));
	assert_true(icmp6_rate_allow(&tokens, NSEC_PER_SEC / 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unreachable_fields),
	    cmocka_unit_test(test_unreachable_truncates_to_1280),
	    cmocka_unit_test(test_no_error_about_an_error),
	    cmocka_unit_test(test_rejects_malformed),
	    cmocka_unit_test(test_ipv6_packet_len),
	    cmocka_unit_test(test_time_exceeded_fields),
	    cmocka_unit_test(test_too_big_carries_the_mtu),
	    cmocka_unit_test(test_error_type_code_param),
	    cmocka_unit_test(test_padding_not_quoted),
	    cmocka_unit_test(test_no_error_to_nobody),
	    cmocka_unit_test(test_is_icmp6_error),
	    cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
