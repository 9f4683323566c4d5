/* SPDX-License-Identifier: ISC */
/* What alamesh(8) reads back from a control socket: any bytes, no crash, bounded results. */
#include <stddef.h>
#include <stdint.h>

#include "daemon/cli/uapi_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_device_info dev = {0};
	const char *why;
	int r = uapi_reply_parse(&dev, (const char *)data, size, &why);

	if (r > 4095 || !why)
		__builtin_trap();
	for (size_t i = 0; i < dev.npeers; i++)
		if (dev.peers[i].nallowed > UAPI_MAX_ALLOWED_IPS ||
		    dev.peers[i].last_handshake_nsec > 999999999)
			__builtin_trap();
	uapi_device_info_free(&dev);
	(void)uapi_reply_errno((const char *)data, size);
	return 0;
}
