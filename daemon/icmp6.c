// SPDX-License-Identifier: ISC
/*
 * ICMPv6 errors the daemon writes back into the TUN, so that a sender to an
 * unknown mesh address fails at once instead of timing out.
 */
#include <netinet/icmp6.h>
#include <string.h>

#include "daemon/checksum.h"
#include "daemon/device.h"
#include "daemon/packet.h"

/* RFC 4443 2.4(c): an error carries as much of the offending packet as fits in 1280. */
#define ICMP6_ERROR_MAX 1280

/* Never answer an ICMPv6 error with another (RFC 4443 2.4(e)). */
static bool is_icmp6_error(const uint8_t *pkt, size_t len)
{
	return len > IPV6_HDR_LEN && pkt[6] == IPPROTO_ICMPV6 && pkt[IPV6_HDR_LEN] < 128;
}

size_t icmp6_unreachable(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			 const struct in6_addr *from, uint8_t code)
{
	size_t quoted, icmp_len;

	if (ipv6_packet_len(pkt, len) == 0 || is_icmp6_error(pkt, len))
		return 0;
	quoted = len;
	if (quoted > ICMP6_ERROR_MAX - IPV6_HDR_LEN - 8)
		quoted = ICMP6_ERROR_MAX - IPV6_HDR_LEN - 8;
	icmp_len = 8 + quoted;
	if (cap < IPV6_HDR_LEN + icmp_len)
		return 0;

	memset(out, 0, IPV6_HDR_LEN + 8);
	out[0] = 0x60;
	out[4] = (uint8_t)(icmp_len >> 8);
	out[5] = (uint8_t)icmp_len;
	out[6] = IPPROTO_ICMPV6;
	out[7] = 64;
	memcpy(out + 8, from, 16);
	memcpy(out + 24, ipv6_src(pkt), 16);
	out[IPV6_HDR_LEN] = ICMP6_DST_UNREACH;
	out[IPV6_HDR_LEN + 1] = code;
	memcpy(out + IPV6_HDR_LEN + 8, pkt, quoted);
	uint64_t sum = csum_pseudo6(out, (uint32_t)icmp_len, IPPROTO_ICMPV6);
	csum_put(out + IPV6_HDR_LEN + 2,
		 (uint16_t)~csum_fold(csum_add(sum, out + IPV6_HDR_LEN, icmp_len)));
	return IPV6_HDR_LEN + icmp_len;
}
