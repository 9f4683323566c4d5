// SPDX-License-Identifier: ISC
/*
 * A candidates message (daemon/control/candidates.h) comes out of another
 * member's session: any bytes. What the parser takes are at most CAND_MAX
 * endpoints, each with a port and an address a datagram may go to, and
 * building a message of them again gives the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/control/candidates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in6 c[CAND_MAX];
	uint8_t again[CAND_MSG_MAX];
	const char *why = NULL;
	int n = cand_parse(data, size, c, &why);

	if (n < 0) {
		if (!why)
			__builtin_trap();
		return 0;
	}
	if (n < 1 || n > CAND_MAX)
		__builtin_trap();
	for (int i = 0; i < n; i++)
		if (c[i].sin6_family != AF_INET6 || !c[i].sin6_port ||
		    !cand_addr_ok(&c[i].sin6_addr))
			__builtin_trap();
	size_t len = cand_build(again, c, (size_t)n);
	if (len != CAND_HDR_LEN + (size_t)n * CAND_ENTRY_LEN || memcmp(again, data, 2) != 0 ||
	    memcmp(again + CAND_HDR_LEN, data + CAND_HDR_LEN, len - CAND_HDR_LEN) != 0)
		__builtin_trap();
	return 0;
}
