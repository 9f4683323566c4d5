// SPDX-License-Identifier: ISC
/*
 * The packets of the data path come from the TUN (any local program) and,
 * decrypted, from peers: the IPv6 parsing and the ICMPv6 errors built from
 * them must hold for any bytes. Every error built is a well-formed IPv6
 * packet of at most 1280 bytes with a right checksum, and none answers an
 * ICMPv6 error. The forwarding decision keeps its promises for any packet:
 * what it forwards has a next hop that is not the sender, hop limit to
 * spare and fits the MTU; an error it asks for can be built.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/platform/checksum.h"
#include "daemon/core/device.h"
#include "daemon/datapath/forward.h"
#include "daemon/base/packet.h"
#include "daemon/datapath/icmp6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const uint8_t *out, size_t n, size_t cap, const uint8_t *pkt, size_t len)
{
	if (n == 0)
		return;
	if (n > cap || n > 1280 || ipv6_packet_len(out, n) != n || out[6] != IPPROTO_ICMPV6)
		__builtin_trap();
	/* Bytes after the packet (padding) are not part of it. */
	if (ipv6_is_icmp6_error(pkt, ipv6_packet_len(pkt, len)) ||
	    memcmp(out + 24, pkt + 8, 16) != 0)
		__builtin_trap();
	uint64_t sum = csum_pseudo6(out, (uint32_t)(n - IPV6_HDR_LEN), IPPROTO_ICMPV6);
	if (csum_fold(csum_add(sum, out + IPV6_HDR_LEN, n - IPV6_HDR_LEN)) != 0xffff)
		__builtin_trap();
}

/*
 * Sessions for the addresses whose last byte is below 0xc0: peer 1 if odd,
 * else peer 2, relayed (a smaller MTU) when bit 1 is set; peer 2 is a device
 * we connect; peer 1's session carries the addresses ending in 0x55.
 */
static int peers[3];

static void *lookup(void *ctx, const struct in6_addr *a, uint32_t *mtu)
{
	(void)ctx;
	if (a->s6_addr[15] >= 0xc0)
		return NULL;
	*mtu = a->s6_addr[15] & 2 ? 1280 : 1420;
	return &peers[1 + (a->s6_addr[15] & 1)];
}

static bool carries(void *ctx, const void *peer, const struct in6_addr *src)
{
	(void)ctx;
	return peer == &peers[1] && src->s6_addr[15] == 0x55;
}

static bool hosted(void *ctx, const void *peer)
{
	(void)ctx;
	return peer == &peers[2];
}

static void check_classify(const uint8_t *data, size_t size, bool gateway)
{
	static uint8_t out[1400];
	struct in6_addr self = {.s6_addr = {0xfc, 0x12, 0x34}};
	struct in6_addr sender = {.s6_addr = {0xfd, [15] = 1}}; /* peer 1 */
	struct fwd_env env = {
	    .self = &self, .lookup = lookup, .carries = carries, .hosted = hosted};
	struct fwd_from from = {.peer = &peers[1], .addr = &sender, .gateway = gateway};
	size_t len = ipv6_packet_len(data, size);
	const char *why = NULL;
	void *next = &peers[0];
	uint32_t mtu = 0;

	if (!len)
		return;
	enum fwd_verdict v = fwd_classify(&env, &from, data, len, &next, &mtu, &why);
	bool own = memcmp(data + 8, &sender, 16) == 0 ||
		   ((data[8] & 0xfe) == 0xfc && data[8 + 15] == 0x55);
	switch (v) {
	case FWD_DROP:
		if (!why)
			__builtin_trap();
		break;
	case FWD_DELIVER:
		if (memcmp(data + 24, &self, 16) != 0 || !own)
			__builtin_trap();
		break;
	case FWD_FORWARD:
		if (!next || next == from.peer || data[7] <= 1 || len > mtu || !own ||
		    (!gateway && next != &peers[2]))
			__builtin_trap();
		break;
	case FWD_TOO_BIG:
		if (mtu < 1280 || len <= mtu)
			__builtin_trap();
		/* fall through */
	case FWD_UNREACHABLE:
	case FWD_TIME_EXCEEDED:
		if (!next || !own || icmp6_error(out, sizeof(out), data, len, &self, 1, 0, 0) == 0)
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1400];
	struct in6_addr me = {.s6_addr = {0xfc, 0x12, 0x34}};
	size_t len = ipv6_packet_len(data, size);
	size_t n;

	if (len > size)
		__builtin_trap();
	n = icmp6_unreachable(out, sizeof(out), data, size, &me, 0);
	check_error(out, n, sizeof(out), data, size);
	n = icmp6_time_exceeded(out, sizeof(out), data, size, &me);
	check_error(out, n, sizeof(out), data, size);
	n = icmp6_too_big(out, sizeof(out), data, size, &me, 1280);
	check_error(out, n, sizeof(out), data, size);
	/* A small buffer: refused, never overrun. */
	n = icmp6_time_exceeded(out, 100, data, size, &me);
	check_error(out, n, 100, data, size);
	/* The type, code and parameter from the input's last bytes. */
	if (size > 6) {
		const uint8_t *t = data + size - 6;
		uint32_t param = (uint32_t)t[2] << 24 | (uint32_t)t[3] << 16 | t[4] << 8 | t[5];
		n = icmp6_error(out, sizeof(out), data, size - 6, &me, t[0], t[1], param);
		check_error(out, n, sizeof(out), data, size - 6);
	}
	check_classify(data, size, false);
	check_classify(data, size, true);
	return 0;
}
