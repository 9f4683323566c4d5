/* SPDX-License-Identifier: ISC */
/* The little of IPv6 the data path reads, checked against the buffer length. */
#ifndef ALAMESH_PACKET_H
#define ALAMESH_PACKET_H

#include <netinet/in.h>
#include <netinet/ip6.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IPV6_HDR_LEN 40

/*
 * Length of the IPv6 packet at pkt (header + payload length), or 0 if it is
 * not a well-formed IPv6 packet that fits in len bytes. Trailing bytes (the
 * padding of a transport message) are allowed.
 */
static inline size_t ipv6_packet_len(const uint8_t *pkt, size_t len)
{
	if (len < IPV6_HDR_LEN || (pkt[0] >> 4) != 6)
		return 0;
	size_t total = IPV6_HDR_LEN + ((size_t)pkt[4] << 8 | pkt[5]);
	return total <= len ? total : 0;
}

static inline const struct in6_addr *ipv6_src(const uint8_t *pkt)
{
	return (const struct in6_addr *)(pkt + 8);
}

static inline const struct in6_addr *ipv6_dst(const uint8_t *pkt)
{
	return (const struct in6_addr *)(pkt + 24);
}

/*
 * True for an ICMPv6 error message (types below 128, RFC 4443 2.1) right
 * after the IPv6 header. One behind extension headers is not recognised;
 * an error about it costs one rate-limited answer.
 */
static inline bool ipv6_is_icmp6_error(const uint8_t *pkt, size_t len)
{
	return len > IPV6_HDR_LEN && pkt[6] == IPPROTO_ICMPV6 && pkt[IPV6_HDR_LEN] < 128;
}

static inline bool in6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

#endif
