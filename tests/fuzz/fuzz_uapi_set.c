/* SPDX-License-Identifier: ISC */
/*
 * The body of a control-socket set=1 request, as any local root process
 * could send it: arbitrary bytes must parse or be refused, never crash, and
 * what parses must hold the parser's own promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/uapi/set.h"
#include "routing/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_set set;
	char err[UAPI_ERRMSG_LEN];
	int r = uapi_set_parse(&set, (const char *)data, size, err, sizeof(err));

	if (r > 0 || (r < 0 && !err[0]) || strlen(err) >= sizeof(err))
		__builtin_trap();
	if (r == 0) {
		if (set.npeers > UAPI_MAX_PEERS || set.npeers > set.peers_cap)
			__builtin_trap();
		for (size_t i = 0; i < set.npeers; i++) {
			const struct uapi_peer *p = &set.peers[i];
			if (p->has_endpoint && p->endpoint.sin6_port == 0)
				__builtin_trap();
		}
	}
	uapi_set_free(&set);
	return 0;
}
