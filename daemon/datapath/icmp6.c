// SPDX-License-Identifier: ISC
/*
 * The ICMPv6 errors of the daemon (RFC 4443): Destination Unreachable
 * written back into the TUN, so that a sender to an unknown mesh address
 * fails at once instead of timing out, and the errors of a router (Time
 * Exceeded, Destination Unreachable, Packet Too Big) sent back through the
 * mesh, so that traceroute6 names the members on a path.
 */
#include <netinet/icmp6.h>
#include <string.h>

#include "daemon/platform/checksum.h"
#include "daemon/datapath/icmp6.h"
#include "wgproto/constants.h"
#include "daemon/base/packet.h"

/* RFC 4443 2.4(c): an error carries as much of the offending packet as fits in 1280. */
#define ICMP6_ERROR_MAX 1280
#define ICMP6_HDR_LEN	8
/* RFC 4443 2.4(f): errors are rate limited; 100 a second, in bursts of 10. */
#define ICMP6_COST_NS  (NSEC_PER_SEC / 100)
#define ICMP6_BURST    10
#define ICMP6_HOPLIMIT 64

/*
 * RFC 4443 2.4(e): no error about a packet whose source does not name one
 * node (unspecified or multicast) or that went to a multicast group; and
 * never about another ICMPv6 error.
 */
static bool error_due(const uint8_t *pkt, size_t len)
{
	const struct in6_addr *src = ipv6_src(pkt);

	return !IN6_IS_ADDR_UNSPECIFIED(src) && !IN6_IS_ADDR_MULTICAST(src) &&
	       !IN6_IS_ADDR_MULTICAST(ipv6_dst(pkt)) && !ipv6_is_icmp6_error(pkt, len);
}

size_t icmp6_error(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
		   const struct in6_addr *from, uint8_t type, uint8_t code, uint32_t param)
{
	size_t quoted, icmp_len;

	/* What follows the packet (a transport message's padding) is not part of it. */
	len = ipv6_packet_len(pkt, len);
	if (len == 0 || !error_due(pkt, len))
		return 0;
	quoted = len;
	if (quoted > ICMP6_ERROR_MAX - IPV6_HDR_LEN - ICMP6_HDR_LEN)
		quoted = ICMP6_ERROR_MAX - IPV6_HDR_LEN - ICMP6_HDR_LEN;
	icmp_len = ICMP6_HDR_LEN + quoted;
	if (cap < IPV6_HDR_LEN + icmp_len)
		return 0;

	memset(out, 0, IPV6_HDR_LEN + ICMP6_HDR_LEN);
	out[0] = 0x60;
	out[4] = (uint8_t)(icmp_len >> 8);
	out[5] = (uint8_t)icmp_len;
	out[6] = IPPROTO_ICMPV6;
	out[7] = ICMP6_HOPLIMIT;
	memcpy(out + 8, from, 16);
	memcpy(out + 24, ipv6_src(pkt), 16); /* back to the sender */
	out[IPV6_HDR_LEN] = type;
	out[IPV6_HDR_LEN + 1] = code;
	out[IPV6_HDR_LEN + 4] = (uint8_t)(param >> 24);
	out[IPV6_HDR_LEN + 5] = (uint8_t)(param >> 16);
	out[IPV6_HDR_LEN + 6] = (uint8_t)(param >> 8);
	out[IPV6_HDR_LEN + 7] = (uint8_t)param;
	memcpy(out + IPV6_HDR_LEN + ICMP6_HDR_LEN, pkt, quoted);
	uint64_t sum = csum_pseudo6(out, (uint32_t)icmp_len, IPPROTO_ICMPV6);
	csum_put(out + IPV6_HDR_LEN + 2,
		 (uint16_t)~csum_fold(csum_add(sum, out + IPV6_HDR_LEN, icmp_len)));
	return IPV6_HDR_LEN + icmp_len;
}

size_t icmp6_unreachable(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			 const struct in6_addr *from, uint8_t code)
{
	return icmp6_error(out, cap, pkt, len, from, ICMP6_DST_UNREACH, code, 0);
}

size_t icmp6_time_exceeded(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			   const struct in6_addr *from)
{
	return icmp6_error(out, cap, pkt, len, from, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT,
			   0);
}

size_t icmp6_too_big(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
		     const struct in6_addr *from, uint32_t mtu)
{
	return icmp6_error(out, cap, pkt, len, from, ICMP6_PACKET_TOO_BIG, 0, mtu);
}

bool icmp6_rate_allow(uint64_t *tokens_ns, uint64_t now)
{
	uint64_t floor = now > ICMP6_BURST * ICMP6_COST_NS ? now - ICMP6_BURST * ICMP6_COST_NS : 0;

	/* The bucket is a time: how far its tokens have been spent ahead of now. */
	if (*tokens_ns < floor)
		*tokens_ns = floor;
	if (*tokens_ns + ICMP6_COST_NS > now)
		return false;
	*tokens_ns += ICMP6_COST_NS;
	return true;
}
