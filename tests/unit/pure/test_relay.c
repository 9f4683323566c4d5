// SPDX-License-Identifier: ISC
/*
 * Relayed messages and notices (daemon/datapath/relay.h): the header as
 * written and read back, the frames a relay or a destination must refuse,
 * and the MTU a relayed path takes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "daemon/datapath/relay.h"
#include "daemon/base/packet.h"
#include "wgproto/messages.h"

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* A data message of n bytes (header, n - 32 of ciphertext, tag), as a session makes it. */
static size_t data_msg(uint8_t *out, size_t n)
{
	memset(out, 0x5a, n);
	out[0] = WG_MSG_DATA;
	out[1] = out[2] = out[3] = 0;
	return n;
}

/* A relayed message from src to dst carrying a message of n bytes of type type. */
static size_t frame(uint8_t *out, uint8_t magic, uint8_t hl, const char *dst, const char *src,
		    uint8_t type, size_t n)
{
	struct in6_addr d = addr(dst), s = addr(src);

	data_msg(out + RELAY_HDR_LEN, n);
	out[RELAY_HDR_LEN] = type;
	relay_write_hdr(out, magic, hl, &d, &s, n);
	return RELAY_HDR_LEN + n;
}

static void test_message_round_trip(void **state)
{
	uint8_t buf[256];
	struct relay_view v;
	const char *why = NULL;
	struct in6_addr c = addr("fccc::c"), a = addr("fcaa::a");
	(void)state;

	size_t n = frame(buf, RELAY_MAGIC_MESSAGE, 17, "fccc::c", "fcaa::a", WG_MSG_DATA, 100);
	assert_int_equal(n, 136);
	assert_int_equal(buf[0], 0xa2);
	assert_int_equal(buf[1], 17);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[3], 100);
	/* The tunnel's zero padding after the frame does not count. */
	memset(buf + n, 0, 12);
	assert_int_equal(relay_parse(buf, n + 12, &v, &why), 0);
	assert_int_equal(v.magic, RELAY_MAGIC_MESSAGE);
	assert_int_equal(v.hop_limit, 17);
	assert_true(in6_equal(v.dst, &c));
	assert_true(in6_equal(v.src, &a));
	assert_ptr_equal(v.msg, buf + RELAY_HDR_LEN);
	assert_int_equal(v.msg_len, 100);
	assert_int_equal(v.msg_type, WG_MSG_DATA);
	assert_null(v.orig_dst);
	/* Handshake messages ride the same way. */
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", WG_MSG_INITIATION,
		  sizeof(struct wg_msg_initiation));
	assert_int_equal(relay_parse(buf, n, &v, &why), 0);
	assert_int_equal(v.msg_type, WG_MSG_INITIATION);
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", WG_MSG_RESPONSE,
		  sizeof(struct wg_msg_response));
	assert_int_equal(relay_parse(buf, n, &v, &why), 0);
	assert_int_equal(v.msg_type, WG_MSG_RESPONSE);
}

static void expect_refused(const uint8_t *buf, size_t n)
{
	struct relay_view v;
	const char *why = NULL;

	assert_int_equal(relay_parse(buf, n, &v, &why), -1);
	assert_non_null(why);
}

static void test_refusals(void **state)
{
	uint8_t buf[512];
	size_t n;
	(void)state;

	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", WG_MSG_DATA, 64);
	expect_refused(buf, RELAY_HDR_LEN - 1); /* short of its header */
	expect_refused(buf, n - 1);		/* its length past the end */
	buf[0] = 0xa1;				/* a routing frame's magic */
	expect_refused(buf, n);
	buf[0] = 0xa5;
	expect_refused(buf, n);
	/* Addresses outside fc00::/7, or the same at both ends. */
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "2001:db8::1", "fcaa::a", WG_MSG_DATA, 64);
	expect_refused(buf, n);
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fe80::1", WG_MSG_DATA, 64);
	expect_refused(buf, n);
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fcaa::a", "fcaa::a", WG_MSG_DATA, 64);
	expect_refused(buf, n);
	/* No WireGuard message it may carry: a cookie reply, a cut data message, junk. */
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", WG_MSG_COOKIE,
		  sizeof(struct wg_msg_cookie));
	expect_refused(buf, n);
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", WG_MSG_DATA, 31);
	expect_refused(buf, n);
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", WG_MSG_INITIATION, 100);
	expect_refused(buf, n);
	n = frame(buf, RELAY_MAGIC_MESSAGE, 64, "fccc::c", "fcaa::a", 9, 100);
	expect_refused(buf, n);
}

/* A notice: from relay B to A, about A's message to C, carried back whole. */
static void test_notice(void **state)
{
	uint8_t buf[512], orig[256];
	struct relay_view v;
	const char *why = NULL;
	struct in6_addr a = addr("fcaa::a"), b = addr("fcbb::b"), c = addr("fccc::c");
	(void)state;

	size_t m = frame(orig, RELAY_MAGIC_MESSAGE, 1, "fccc::c", "fcaa::a", WG_MSG_DATA, 80);
	relay_write_hdr(buf, RELAY_MAGIC_EXPIRED, 64, &a, &b, m);
	memcpy(buf + RELAY_HDR_LEN, orig, m);
	assert_int_equal(relay_parse(buf, RELAY_HDR_LEN + m, &v, &why), 0);
	assert_int_equal(v.magic, RELAY_MAGIC_EXPIRED);
	assert_true(in6_equal(v.dst, &a));
	assert_true(in6_equal(v.src, &b));
	assert_true(in6_equal(v.orig_dst, &c));
	assert_true(in6_equal(v.orig_src, &a));
	assert_int_equal(v.orig_hop_limit, 1);
	assert_ptr_equal(v.msg, buf + 2 * RELAY_HDR_LEN);
	assert_int_equal(v.msg_len, 80);
	buf[0] = RELAY_MAGIC_NOROUTE;
	assert_int_equal(relay_parse(buf, RELAY_HDR_LEN + m, &v, &why), 0);

	/* About a message its destination did not send. */
	relay_write_hdr(buf, RELAY_MAGIC_EXPIRED, 64, &c, &b, m);
	expect_refused(buf, RELAY_HDR_LEN + m);
	/* About a notice, or a handshake: never. */
	relay_write_hdr(buf, RELAY_MAGIC_EXPIRED, 64, &a, &b, m);
	buf[RELAY_HDR_LEN] = RELAY_MAGIC_EXPIRED;
	expect_refused(buf, RELAY_HDR_LEN + m);
	m = frame(orig, RELAY_MAGIC_MESSAGE, 1, "fccc::c", "fcaa::a", WG_MSG_RESPONSE,
		  sizeof(struct wg_msg_response));
	relay_write_hdr(buf, RELAY_MAGIC_EXPIRED, 64, &a, &b, m);
	memcpy(buf + RELAY_HDR_LEN, orig, m);
	expect_refused(buf, RELAY_HDR_LEN + m);
	/* More than the message it carries says. */
	m = frame(orig, RELAY_MAGIC_MESSAGE, 1, "fccc::c", "fcaa::a", WG_MSG_DATA, 80);
	relay_write_hdr(buf, RELAY_MAGIC_EXPIRED, 64, &a, &b, m + 4);
	memcpy(buf + RELAY_HDR_LEN, orig, m);
	memset(buf + RELAY_HDR_LEN + m, 0, 4);
	expect_refused(buf, RELAY_HDR_LEN + m + 4);
}

/* A relayed datagram is no longer than a direct one, down to IPv6's minimum. */
static void test_relay_mtu(void **state)
{
	(void)state;
	assert_int_equal(RELAY_OVERHEAD, 68);
	assert_int_equal(relay_mtu(1420), 1352);
	assert_int_equal(relay_mtu(1280 + 68), 1280);
	assert_int_equal(relay_mtu(1300), 1280);
	assert_int_equal(relay_mtu(9000), 9000 - 68);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_message_round_trip),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_notice),
	    cmocka_unit_test(test_relay_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
