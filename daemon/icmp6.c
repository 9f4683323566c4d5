// SPDX-License-Identifier: ISC
/*
 * ICMPv6 errors the daemon writes back into the TUN, so that a sender to an
 * unknown mesh address fails at once instead of timing out.
 */
#include <netinet/icmp6.h>
#include <string.h>

#include "daemon/device.h"
#include "daemon/packet.h"

/* RFC 4443 2.4(c): an error carries as much of the offending packet as fits in 1280. */
#define ICMP6_ERROR_MAX 1280

static uint16_t checksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* The ICMPv6 checksum over the pseudo-header of RFC 8200 8.1 and the message. */
static uint16_t icmp6_checksum(const uint8_t *ip6, const uint8_t *icmp, size_t len)
{
	uint32_t sum = 0;

	sum = checksum_add(sum, ip6 + 8, 32); /* source and destination */
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	sum += IPPROTO_ICMPV6;
	sum = checksum_add(sum, icmp, len);
	return checksum_fold(sum);
}

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
	uint16_t sum = icmp6_checksum(out, out + IPV6_HDR_LEN, icmp_len);
	out[IPV6_HDR_LEN + 2] = (uint8_t)(sum >> 8);
	out[IPV6_HDR_LEN + 3] = (uint8_t)sum;
	return IPV6_HDR_LEN + icmp_len;
}
