// SPDX-License-Identifier: ISC
/* Candidates messages: building and checking (candidates.h). */
#include <string.h>

#include "daemon/control/candidates.h"
#include "routing/address.h"

bool cand_addr_ok(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		uint8_t b0 = a->s6_addr[12], b1 = a->s6_addr[13];
		/* 0/8, 127/8, 169.254/16, 224/4 and above */
		return b0 != 0 && b0 != 127 && !(b0 == 169 && b1 == 254) && b0 < 224;
	}
	return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
	       !IN6_IS_ADDR_MULTICAST(a) && !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_V4COMPAT(a) &&
	       !alamesh_in_mesh(a);
}

size_t cand_build(uint8_t *out, const struct sockaddr_in6 *c, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < CAND_MAX; i++) {
		if (c[i].sin6_family != AF_INET6 || !c[i].sin6_port ||
		    !cand_addr_ok(&c[i].sin6_addr))
			continue;
		uint8_t *e = out + CAND_HDR_LEN + k * CAND_ENTRY_LEN;
		memcpy(e, &c[i].sin6_addr, 16);
		memcpy(e + 16, &c[i].sin6_port, 2); /* already big-endian */
		k++;
	}
	if (!k)
		return 0;
	out[0] = CAND_MAGIC;
	out[1] = (uint8_t)k;
	out[2] = out[3] = 0;
	return CAND_HDR_LEN + k * CAND_ENTRY_LEN;
}

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

int cand_parse(const uint8_t *buf, size_t len, struct sockaddr_in6 *out, const char **why)
{
	if (len < CAND_HDR_LEN || buf[0] != CAND_MAGIC)
		return refuse(why, "not a candidates message");
	size_t n = buf[1];
	if (n < 1 || n > CAND_MAX)
		return refuse(why, "candidates message with no candidate, or too many");
	if (CAND_HDR_LEN + n * CAND_ENTRY_LEN > len)
		return refuse(why, "candidates message cut short");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = buf + CAND_HDR_LEN + i * CAND_ENTRY_LEN;
		out[i] = (struct sockaddr_in6){.sin6_family = AF_INET6};
		memcpy(&out[i].sin6_addr, e, 16);
		memcpy(&out[i].sin6_port, e + 16, 2);
		if (!out[i].sin6_port || !cand_addr_ok(&out[i].sin6_addr))
			return refuse(why, "a candidate no datagram may go to");
	}
	return (int)n;
}
