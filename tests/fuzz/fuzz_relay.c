// SPDX-License-Identifier: ISC
/*
 * Relayed messages and notices (daemon/datapath/relay.h) come out of a
 * neighbour's session, so any member can send any bytes there. The parser
 * must hold for all of them: what it accepts lies within the buffer, has
 * both addresses in fc00::/7 and apart, carries a whole WireGuard message
 * of a kind it may carry (a notice, a relayed data message from the
 * notice's destination), and writing its header again gives the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/datapath/relay.h"
#include "daemon/base/packet.h"
#include "routing/address.h"
#include "wgproto/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_view v;
	const char *why = NULL;
	uint8_t hdr[RELAY_HDR_LEN];

	if (relay_parse(data, size, &v, &why) < 0) {
		if (!why)
			__builtin_trap();
		return 0;
	}
	if (!relay_frame_is(data, size) || v.magic != data[0] || v.hop_limit != data[1])
		__builtin_trap();
	if (v.msg < data + RELAY_HDR_LEN || v.msg + v.msg_len > data + size)
		__builtin_trap();
	if (!alamesh_in_mesh(v.dst) || !alamesh_in_mesh(v.src) || in6_equal(v.dst, v.src))
		__builtin_trap();
	if (wg_msg_type(v.msg, v.msg_len) != v.msg_type)
		__builtin_trap();
	size_t whole = v.msg_len;
	if (v.magic == RELAY_MAGIC_MESSAGE) {
		if (v.orig_dst || v.msg != data + RELAY_HDR_LEN)
			__builtin_trap();
	} else {
		if (v.msg_type != WG_MSG_DATA || !v.orig_dst || !in6_equal(v.orig_src, v.dst) ||
		    v.msg != data + 2 * RELAY_HDR_LEN)
			__builtin_trap();
		whole += RELAY_HDR_LEN;
	}
	relay_write_hdr(hdr, v.magic, v.hop_limit, v.dst, v.src, whole);
	if (memcmp(hdr, data, RELAY_HDR_LEN) != 0)
		__builtin_trap();
	return 0;
}
