/* SPDX-License-Identifier: ISC */
/*
 * ICMPv6 errors the data path writes back (RFC 4443): built from the packet
 * that caused them, and rate limited. Pure: no device, no clock read.
 */
#ifndef ALAMESH_ICMP6_H
#define ALAMESH_ICMP6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The ICMPv6 error of type and code (RFC 4443) about the packet pkt
 * (len bytes, possibly with padding after it), from `from` back to pkt's
 * source, built into out (cap bytes, not overlapping pkt); param fills the
 * 32 bits after the checksum (the MTU of a Packet Too Big, else 0). Returns
 * its length, or 0 when no error is due: pkt is malformed, is itself an
 * ICMPv6 error, comes from an unspecified or multicast source or went to a
 * multicast group (RFC 4443 2.4(e)); or out is too small.
 */
size_t icmp6_error(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
		   const struct in6_addr *from, uint8_t type, uint8_t code, uint32_t param);
/* Destination Unreachable with code (0: no route to destination). */
size_t icmp6_unreachable(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			 const struct in6_addr *from, uint8_t code);
/* Time Exceeded, code 0: the hop limit ran out in transit (RFC 4443 3.3). */
size_t icmp6_time_exceeded(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			   const struct in6_addr *from);
/* Packet Too Big: the next link takes at most mtu bytes (RFC 4443 3.2). */
size_t icmp6_too_big(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
		     const struct in6_addr *from, uint32_t mtu);
/*
 * The rate limit of ICMPv6 errors (RFC 4443 2.4(f)), a token bucket kept as
 * a time in *tokens_ns (start it at 0; one per thread, no lock): true if an
 * error may go at now, which it then pays for.
 */
bool icmp6_rate_allow(uint64_t *tokens_ns, uint64_t now);

#endif
