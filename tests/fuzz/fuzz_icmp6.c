// SPDX-License-Identifier: ISC
/*
 * The packets of the data path come from the TUN (any local program) and,
 * decrypted, from peers: the IPv6 parsing and the ICMPv6 error built from
 * them must hold for any bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/device.h"
#include "daemon/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1280];
	struct in6_addr me = {.s6_addr = {0xfc, 0x12, 0x34}};
	size_t len = ipv6_packet_len(data, size);

	if (len > size)
		__builtin_trap();
	size_t n = icmp6_unreachable(out, sizeof(out), data, size, &me, 0);
	if (n > sizeof(out))
		__builtin_trap();
	if (n && ipv6_packet_len(out, n) != n)
		__builtin_trap();
	return 0;
}
