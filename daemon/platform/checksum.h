/* SPDX-License-Identifier: ISC */
/*
 * The Internet checksum (RFC 1071) over IPv6 upper-layer packets, shared by
 * the ICMPv6 errors and the TUN offloads. Sums run in native byte order,
 * which RFC 1071 1.2(B) allows: the folded result is stored the same way.
 */
#ifndef ALAMESH_CHECKSUM_H
#define ALAMESH_CHECKSUM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds len bytes at p to a 64-bit accumulator, 32 bits at a time. */
static inline uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	for (; len >= 16; p += 16, len -= 16) {
		uint32_t w[4];
		memcpy(w, p, sizeof(w));
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
	}
	for (; len >= 4; p += 4, len -= 4) {
		uint32_t w;
		memcpy(&w, p, sizeof(w));
		sum += w;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, sizeof(h));
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t h = 0;
		memcpy(&h, p, 1);
		sum += h;
	}
	return sum;
}

static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv6 pseudo-header (RFC 8200 8.1) of an upper-layer packet of len bytes. */
static inline uint64_t csum_pseudo6(const uint8_t *ip6, uint32_t len, uint8_t proto)
{
	uint32_t tail[2] = {htonl(len), htonl(proto)};

	return csum_add(csum_add(0, ip6 + 8, 32), (const uint8_t *)tail, sizeof(tail));
}

/* Stores a folded checksum as it was summed (native order). */
static inline void csum_put(uint8_t *at, uint16_t csum)
{
	memcpy(at, &csum, sizeof(csum));
}

#endif
