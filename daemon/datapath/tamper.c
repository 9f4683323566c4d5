// SPDX-License-Identifier: ISC
/* A relay that misbehaves, for tests only (tamper.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/datapath/tamper.h"
#include "daemon/base/clock.h"
#include "daemon/base/packet.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/relay.h"
#include "daemon/platform/checksum.h"
#include "wgproto/messages.h"

enum tamper_mode { TAMPER_UNSET, TAMPER_NONE, TAMPER_FLIP, TAMPER_REPLAY, TAMPER_INJECT };

/* The mode in the file ALAMESH_TAMPER names, read again at most every 100 ms. */
static enum tamper_mode mode(void)
{
	static enum tamper_mode m; /* the receive thread's alone */
	static uint64_t read_at;
	const char *path = getenv("ALAMESH_TAMPER");
	uint64_t now = now_mono();
	char word[16] = "";

	if (!path || (m != TAMPER_UNSET && now - read_at < 100 * NSEC_PER_MSEC))
		return path ? m : TAMPER_NONE;
	read_at = now;
	FILE *f = fopen(path, "re");
	if (f) {
		if (!fgets(word, sizeof(word), f))
			word[0] = 0;
		fclose(f);
	}
	word[strcspn(word, "\n")] = 0;
	m = !strcmp(word, "flip")     ? TAMPER_FLIP
	    : !strcmp(word, "replay") ? TAMPER_REPLAY
	    : !strcmp(word, "inject") ? TAMPER_INJECT
				      : TAMPER_NONE;
	return m;
}

/* An echo request from src to dst, as the relay forges it, into slot j for next. */
static void forge(struct batch *b, unsigned int j, const struct in6_addr *src,
		  const struct in6_addr *dst, struct peer *next)
{
	uint8_t *p = b->slot[j];
	const uint32_t icmp_len = 16;

	memset(p, 0, IPV6_HDR_LEN + icmp_len);
	p[0] = 0x60;
	p[5] = icmp_len;
	p[6] = IPPROTO_ICMPV6;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	p[IPV6_HDR_LEN] = 128; /* echo request */
	memcpy(p + IPV6_HDR_LEN + 8, "forged!", 8);
	uint64_t sum = csum_pseudo6(p, icmp_len, IPPROTO_ICMPV6);
	csum_put(p + IPV6_HDR_LEN + 2,
		 (uint16_t)~csum_fold(csum_add(sum, p + IPV6_HDR_LEN, icmp_len)));
	b->len[j] = IPV6_HDR_LEN + icmp_len;
	b->peer[j] = b->hop[j] = next;
	b->frame[j] = false;
	b->n++;
}

void tamper_relayed(struct device *dev, struct batch *b, unsigned int i, struct peer *next)
{
	uint8_t *frame = batch_frame(b, i);
	const struct relay_hdr *h = (const struct relay_hdr *)frame;
	enum tamper_mode m = mode();

	(void)dev;
	if (m == TAMPER_NONE || frame[0] != RELAY_MAGIC_MESSAGE ||
	    frame[RELAY_HDR_LEN] != WG_MSG_DATA || batch_full(b))
		return;
	if (m == TAMPER_FLIP) {
		frame[b->len[i] - 1] ^= 0x01; /* the tag's last byte */
		return;
	}
	unsigned int j = b->n;
	if (m == TAMPER_REPLAY) {
		memcpy(batch_frame(b, j), frame, b->len[i]);
		batch_add_frame(b, j, next, b->len[i]);
		return;
	}
	forge(b, j, &h->src, &h->dst, next);
}
