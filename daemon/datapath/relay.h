/* SPDX-License-Identifier: ISC */
/*
 * Relayed messages, the one frame format of end-to-end sessions whose path
 * goes through other members (alamesh-protocol(7), "Relayed messages"). A
 * relayed message is the plaintext of a transport message in the session
 * with the next hop:
 *
 *   0  magic       0xa2 a message; 0xa3, 0xa4 a notice (below)
 *   1  hop limit   one less at each relay; a relay where it runs out
 *                  sends the source a notice instead of forwarding
 *   2  length      of the WireGuard message that follows, big-endian
 *   4  destination the member whose session the message belongs to
 *  20  source      the member that sent it (notices go there)
 *  36  message     a WireGuard message (initiation, response or data),
 *                  byte for byte as the two ends made it
 *
 * A notice has the same form: 0xa3 (the hop limit ran out) or 0xa4 (no
 * route on) from the relay named by its source, to the source of the
 * message, and what it carries is the relayed message that ran out, header
 * and all, so that the sender finds the session by its destination, opens
 * the message with its own key (the relay cannot) and answers its own host
 * with the ICMPv6 error a router would have sent. Relays send notices about
 * data messages only, never about a notice. Relays read the header only;
 * pure functions, no device.
 */
#ifndef ALAMESH_RELAY_H
#define ALAMESH_RELAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

struct relay_hdr {
	uint8_t magic;
	uint8_t hop_limit;
	uint8_t length[2];
	struct in6_addr dst;
	struct in6_addr src;
};
_Static_assert(sizeof(struct relay_hdr) == RELAY_HDR_LEN, "relay header is 36 bytes");

/* A checked frame: its header and the message inside. */
struct relay_view {
	uint8_t magic;
	uint8_t hop_limit;
	const struct in6_addr *dst, *src;
	const uint8_t *msg;
	size_t msg_len;
	uint8_t msg_type; /* WG_MSG_INITIATION, _RESPONSE or _DATA */
	/* A notice's message: the destination and source of the relayed message it carries. */
	const struct in6_addr *orig_dst, *orig_src;
	uint8_t orig_hop_limit;
};

/* Whether the plaintext buf of len bytes is a relay frame, to be checked (first byte). */
static inline bool relay_frame_is(const uint8_t *buf, size_t len)
{
	return len >= 1 && buf[0] >= RELAY_MAGIC_MESSAGE && buf[0] <= RELAY_MAGIC_NOROUTE;
}

/*
 * Checks a received frame (len may include the tunnel's zero padding after
 * it): a known magic, a length within the buffer, both addresses in
 * fc00::/7 and different, and inside a whole WireGuard message: an
 * initiation, a response or a data message in a message; in a notice, a
 * relayed message (checked the same way, exactly as long as the notice
 * says) that carries a data message from the notice's destination. 0 and
 * *v filled (for a notice, msg is the data message inside), or -1 with
 * *why set.
 */
int relay_parse(const uint8_t *buf, size_t len, struct relay_view *v, const char **why);

/* Writes a header for a message of msg_len bytes into hdr. */
void relay_write_hdr(uint8_t *hdr, uint8_t magic, uint8_t hop_limit, const struct in6_addr *dst,
		     const struct in6_addr *src, size_t msg_len);

/*
 * The largest IPv6 packet an end-to-end session takes on a relayed path,
 * for tunnels of MTU mtu: the relayed datagram is then no longer than a
 * direct one of mtu bytes. Never below IPv6's 1280 (the datagram is then
 * longer, and the underlay fragments it).
 */
static inline uint32_t relay_mtu(uint32_t mtu)
{
	return mtu >= 1280 + RELAY_OVERHEAD ? mtu - RELAY_OVERHEAD : 1280;
}

#endif
