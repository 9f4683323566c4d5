// SPDX-License-Identifier: ISC
/*
 * TUN frames come from any local program and decrypted packets from peers:
 * segmentation and coalescing must hold for any bytes. The input is a TUN
 * frame; what it splits into is then fed to the coalescer as if received.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/platform/offload.h"
#include "daemon/base/packet.h"

#define SLOTS	 256
#define SLOT_LEN 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int emit(void *ctx, const struct iovec *iov, int n)
{
	size_t total = 0;

	(void)ctx;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (n < 1 || n > GRO_MAX_SEGS || total > OFFLOAD_MAX_FRAME)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t store[SLOTS][16 + SLOT_LEN];
	static uint8_t *slots[SLOTS];
	static uint32_t lens[SLOTS];
	struct gro g;

	if (size > OFFLOAD_MAX_FRAME)
		return 0;
	for (int i = 0; i < SLOTS; i++)
		slots[i] = store[i] + 16;
	int n = offload_split(data, size, 1420, slots, lens, SLOTS, SLOT_LEN);
	if (n > SLOTS)
		__builtin_trap();
	gro_init(&g, emit, NULL);
	for (int i = 0; i < n; i++) {
		if (lens[i] > 1420 || ipv6_packet_len(slots[i], lens[i]) != lens[i])
			__builtin_trap();
		gro_add(&g, slots[i], lens[i]);
	}
	/* Raw bytes straight into the coalescer too, as a peer could send them. */
	if (size >= VNET_HDR_LEN && size - VNET_HDR_LEN <= SLOT_LEN) {
		memcpy(slots[SLOTS - 1], data + VNET_HDR_LEN, size - VNET_HDR_LEN);
		size_t len = ipv6_packet_len(slots[SLOTS - 1], size - VNET_HDR_LEN);
		if (len && n < SLOTS - 1)
			gro_add(&g, slots[SLOTS - 1], len);
	}
	gro_flush(&g);
	return 0;
}
