// SPDX-License-Identifier: ISC
/* Relayed messages: checking and writing the header (relay.h). */
#include <string.h>

#include "daemon/datapath/relay.h"
#include "daemon/base/packet.h"
#include "routing/address.h"
#include "wgproto/messages.h"

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

static int parse_notice(const struct relay_hdr *h, const uint8_t *body, size_t n,
			struct relay_view *v, const char **why)
{
	struct relay_view orig;

	if (n < RELAY_HDR_LEN || body[0] != RELAY_MAGIC_MESSAGE)
		return refuse(why, "notice carries no relayed message");
	if (relay_parse(body, n, &orig, why) < 0)
		return -1;
	if (RELAY_HDR_LEN + orig.msg_len != n || orig.msg_type != WG_MSG_DATA)
		return refuse(why, "notice carries more or less than one relayed data message");
	if (!in6_equal(orig.src, &h->dst))
		return refuse(why, "notice about a message its destination did not send");
	*v = (struct relay_view){
	    .magic = h->magic,
	    .hop_limit = h->hop_limit,
	    .dst = &h->dst,
	    .src = &h->src,
	    .msg = orig.msg,
	    .msg_len = orig.msg_len,
	    .msg_type = WG_MSG_DATA,
	    .orig_dst = orig.dst,
	    .orig_src = orig.src,
	    .orig_hop_limit = orig.hop_limit,
	};
	return 0;
}

int relay_parse(const uint8_t *buf, size_t len, struct relay_view *v, const char **why)
{
	const struct relay_hdr *h = (const struct relay_hdr *)buf;

	if (len < RELAY_HDR_LEN)
		return refuse(why, "relay frame shorter than its header");
	if (!relay_frame_is(buf, len))
		return refuse(why, "not a relay frame");
	size_t n = (size_t)h->length[0] << 8 | h->length[1];
	if (n > len - RELAY_HDR_LEN)
		return refuse(why, "relay frame's length past its end");
	if (!alamesh_in_mesh(&h->dst) || !alamesh_in_mesh(&h->src))
		return refuse(why, "relay frame's address outside fc00::/7");
	if (in6_equal(&h->dst, &h->src))
		return refuse(why, "relay frame from its destination");
	if (h->magic != RELAY_MAGIC_MESSAGE)
		return parse_notice(h, buf + RELAY_HDR_LEN, n, v, why);
	uint8_t type = wg_msg_type(buf + RELAY_HDR_LEN, n);
	if (type != WG_MSG_DATA && type != WG_MSG_INITIATION && type != WG_MSG_RESPONSE)
		return refuse(why, "relay frame carries no WireGuard message it may carry");
	*v = (struct relay_view){
	    .magic = h->magic,
	    .hop_limit = h->hop_limit,
	    .dst = &h->dst,
	    .src = &h->src,
	    .msg = buf + RELAY_HDR_LEN,
	    .msg_len = n,
	    .msg_type = type,
	};
	return 0;
}

void relay_write_hdr(uint8_t *hdr, uint8_t magic, uint8_t hop_limit, const struct in6_addr *dst,
		     const struct in6_addr *src, size_t msg_len)
{
	struct relay_hdr h = {
	    .magic = magic,
	    .hop_limit = hop_limit,
	    .length = {(uint8_t)(msg_len >> 8), (uint8_t)msg_len},
	    .dst = *dst,
	    .src = *src,
	};

	memcpy(hdr, &h, sizeof(h));
}
