// SPDX-License-Identifier: ISC
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/platform/offload.h"
#include "daemon/base/packet.h"

#define TCPHDR 32 /* 20 + 12 bytes of options (timestamps) */
#define SEQ0   1000000u

/* The one's-complement sum of pseudo-header and upper-layer packet; 0xffff when valid. */
static uint16_t l4_sum(const uint8_t *pkt, size_t len)
{
	uint32_t sum = 0;
	size_t l4 = len - IPV6_HDR_LEN;

	for (size_t i = 8; i < 40; i += 2)
		sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
	sum += (uint32_t)(l4 >> 16) + (uint32_t)(l4 & 0xffff) + pkt[6];
	for (size_t i = 0; i + 1 < l4; i += 2)
		sum += (uint32_t)pkt[IPV6_HDR_LEN + i] << 8 | pkt[IPV6_HDR_LEN + i + 1];
	if (l4 & 1)
		sum += (uint32_t)pkt[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void ip6_header(uint8_t *p, size_t payload, uint8_t proto, uint8_t src_last)
{
	memset(p, 0, IPV6_HDR_LEN);
	p[0] = 0x60;
	p[4] = (uint8_t)(payload >> 8);
	p[5] = (uint8_t)payload;
	p[6] = proto;
	p[7] = 64;
	p[8] = 0xfc;
	p[23] = src_last;
	p[24] = 0xfc;
	p[39] = 2;
}

/* A TCP segment with payload bytes (seq + i) & 0xff, a valid checksum unless seeded. */
static size_t tcp_packet(uint8_t *p, uint32_t seq, size_t payload, uint8_t flags, bool seeded)
{
	uint8_t *t = p + IPV6_HDR_LEN;

	ip6_header(p, TCPHDR + payload, IPPROTO_TCP, 1);
	memset(t, 0, TCPHDR);
	t[0] = 0x9c; /* port 40000 -> 5201 */
	t[1] = 0x40;
	t[2] = 0x14;
	t[3] = 0x51;
	uint32_t s = htonl(seq);
	memcpy(t + 4, &s, 4);
	memcpy(t + 8, "\x00\x00\x00\x07", 4);
	t[12] = (TCPHDR / 4) << 4;
	t[13] = flags;
	t[14] = 0x01;
	t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10; /* NOP NOP TS */
	for (size_t i = 0; i < payload; i++)
		p[IPV6_HDR_LEN + TCPHDR + i] = (uint8_t)(seq + i);
	size_t len = IPV6_HDR_LEN + TCPHDR + payload;
	uint16_t sum = (uint16_t)~l4_sum(p, len);
	if (seeded) {
		/* What the kernel leaves for us: the pseudo-header sum only. */
		uint8_t tmp[IPV6_HDR_LEN];
		memcpy(tmp, p, IPV6_HDR_LEN);
		uint32_t ps = 0;
		size_t l4 = len - IPV6_HDR_LEN;
		for (size_t i = 8; i < 40; i += 2)
			ps += (uint32_t)tmp[i] << 8 | tmp[i + 1];
		ps += (uint32_t)(l4 >> 16) + (uint32_t)(l4 & 0xffff) + IPPROTO_TCP;
		while (ps >> 16)
			ps = (ps & 0xffff) + (ps >> 16);
		sum = (uint16_t)ps;
	}
	t[16] = (uint8_t)(sum >> 8);
	t[17] = (uint8_t)sum;
	return len;
}

static uint8_t *slots[256];
static uint32_t lens[256];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 256; i++)
		slots[i] = calloc(1, 2048);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 256; i++)
		free(slots[i]);
	return 0;
}

static size_t tso_frame(uint8_t *frame, size_t payload, uint16_t mss, uint8_t flags)
{
	struct virtio_net_hdr vh = {
	    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
	    .hdr_len = IPV6_HDR_LEN + TCPHDR,
	    .gso_size = mss,
	    .csum_start = IPV6_HDR_LEN,
	    .csum_offset = 16,
	};
	memcpy(frame, &vh, sizeof(vh));
	return VNET_HDR_LEN + tcp_packet(frame + VNET_HDR_LEN, SEQ0, payload, flags, true);
}

static void test_tso_split(void **state)
{
	(void)state;
	static uint8_t frame[OFFLOAD_MAX_FRAME];
	size_t len = tso_frame(frame, 5000, 1000, 0x18 | 0x01 | 0x80); /* ACK PSH FIN CWR */

	int n = offload_split(frame, len, 1420, slots, lens, 256, 2048);
	assert_int_equal(n, 5);
	for (int i = 0; i < n; i++) {
		uint8_t *p = slots[i], *t = p + IPV6_HDR_LEN;
		assert_int_equal(lens[i], IPV6_HDR_LEN + TCPHDR + 1000);
		assert_int_equal(ipv6_packet_len(p, lens[i]), lens[i]);
		uint32_t seq;
		memcpy(&seq, t + 4, 4);
		assert_int_equal(ntohl(seq), SEQ0 + 1000u * (uint32_t)i);
		for (size_t j = 0; j < 1000; j++)
			assert_int_equal(p[IPV6_HDR_LEN + TCPHDR + j],
					 (uint8_t)(SEQ0 + 1000 * i + j));
		assert_int_equal(l4_sum(p, lens[i]), 0xffff);
		bool last = i == n - 1, first = i == 0;
		assert_int_equal(!!(t[13] & 0x08), last);  /* PSH */
		assert_int_equal(!!(t[13] & 0x01), last);  /* FIN */
		assert_int_equal(!!(t[13] & 0x80), first); /* CWR */
		assert_true(t[13] & 0x10);
	}
}

static void test_tso_short_tail_and_limits(void **state)
{
	(void)state;
	static uint8_t frame[OFFLOAD_MAX_FRAME];
	size_t len = tso_frame(frame, 2500, 1000, 0x10);

	assert_int_equal(offload_split(frame, len, 1420, slots, lens, 256, 2048), 3);
	assert_int_equal(lens[2], IPV6_HDR_LEN + TCPHDR + 500);
	assert_int_equal(l4_sum(slots[2], lens[2]), 0xffff);
	/* Too few slots: the caller is told, nothing is lost silently. */
	assert_int_equal(offload_split(frame, len, 1420, slots, lens, 2, 2048), -1);
	/* A segment bigger than the MTU, or a zero MSS, is dropped. */
	len = tso_frame(frame, 2500, 1400, 0x10);
	assert_int_equal(offload_split(frame, len, 1420, slots, lens, 256, 2048), 0);
	len = tso_frame(frame, 2500, 0, 0x10);
	assert_int_equal(offload_split(frame, len, 1420, slots, lens, 256, 2048), 0);
}

static void test_partial_checksum_completed(void **state)
{
	(void)state;
	uint8_t frame[VNET_HDR_LEN + 200];
	struct virtio_net_hdr vh = {
	    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = IPV6_HDR_LEN, .csum_offset = 16};

	memcpy(frame, &vh, sizeof(vh));
	size_t len = tcp_packet(frame + VNET_HDR_LEN, 7, 100, 0x18, true);
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len, 1420, slots, lens, 1, 2048), 1);
	assert_int_equal(lens[0], len);
	assert_int_equal(l4_sum(slots[0], len), 0xffff);

	/* A plain packet passes through unchanged. */
	memset(frame, 0, VNET_HDR_LEN);
	len = tcp_packet(frame + VNET_HDR_LEN, 7, 100, 0x18, false);
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len, 1420, slots, lens, 1, 2048), 1);
	assert_memory_equal(slots[0], frame + VNET_HDR_LEN, len);
}

static void test_split_rejects_malformed(void **state)
{
	(void)state;
	uint8_t frame[VNET_HDR_LEN + 200] = {0};
	size_t len = tcp_packet(frame + VNET_HDR_LEN, 7, 100, 0x18, false);

	assert_int_equal(offload_split(frame, VNET_HDR_LEN, 1420, slots, lens, 1, 2048), 0);
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len - 1, 1420, slots, lens, 1, 2048),
			 0);
	frame[VNET_HDR_LEN] = 0x45;
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len, 1420, slots, lens, 1, 2048), 0);
	frame[VNET_HDR_LEN] = 0x60;
	/* Checksum position outside the packet. */
	struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 500};
	memcpy(frame, &vh, sizeof(vh));
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len, 1420, slots, lens, 1, 2048), 0);
	/* ... or inside the IPv6 header. */
	vh = (struct virtio_net_hdr){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 0};
	memcpy(frame, &vh, sizeof(vh));
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len, 1420, slots, lens, 1, 2048), 0);
	/* Unknown GSO type. */
	vh = (struct virtio_net_hdr){.gso_type = VIRTIO_NET_HDR_GSO_UDP};
	memcpy(frame, &vh, sizeof(vh));
	assert_int_equal(offload_split(frame, VNET_HDR_LEN + len, 1420, slots, lens, 1, 2048), 0);
}

/* What gro emitted: each frame flattened. */
static uint8_t emitted[8][OFFLOAD_MAX_FRAME];
static size_t emitted_len[8];
static int nemitted;

static int capture(void *ctx, const struct iovec *iov, int n)
{
	(void)ctx;
	assert_true(nemitted < 8);
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		memcpy(emitted[nemitted] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	emitted_len[nemitted++] = off;
	return 0;
}

static uint8_t rxbuf[16][2048];

/* Segments as they come out of decryption: 16 bytes of headroom before each. */
static uint8_t *rx_segment(int i, uint32_t seq, size_t payload, uint8_t flags, size_t *len)
{
	*len = tcp_packet(rxbuf[i] + 16, seq, payload, flags, false);
	return rxbuf[i] + 16;
}

/* rx_segment() then gro_add(): the length is known before it is passed on. */
static void add_segment(struct gro *g, int i, uint32_t seq, size_t payload, uint8_t flags)
{
	size_t len;
	uint8_t *pkt = rx_segment(i, seq, payload, flags, &len);

	gro_add(g, pkt, len);
}

static void test_gro_coalesces_a_flow(void **state)
{
	(void)state;
	struct gro g;
	size_t len;

	nemitted = 0;
	gro_init(&g, capture, NULL);
	for (int i = 0; i < 4; i++) {
		uint8_t *p =
		    rx_segment(i, SEQ0 + 1000u * (uint32_t)i, 1000, i == 3 ? 0x18 : 0x10, &len);
		gro_add(&g, p, len);
	}
	assert_int_equal(nemitted, 0);
	gro_flush(&g);
	assert_int_equal(nemitted, 1);

	struct virtio_net_hdr vh;
	memcpy(&vh, emitted[0], sizeof(vh));
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(vh.gso_size, 1000);
	assert_int_equal(vh.hdr_len, IPV6_HDR_LEN + TCPHDR);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	uint8_t *p = emitted[0] + VNET_HDR_LEN;
	size_t plen = emitted_len[0] - VNET_HDR_LEN;
	assert_int_equal(plen, IPV6_HDR_LEN + TCPHDR + 4000);
	assert_int_equal(ipv6_packet_len(p, plen), plen);
	for (size_t j = 0; j < 4000; j++)
		assert_int_equal(p[IPV6_HDR_LEN + TCPHDR + j], (uint8_t)(SEQ0 + j));
	assert_true(p[IPV6_HDR_LEN + 13] & 0x08); /* the last segment's PSH */
	/* Seeded as CHECKSUM_PARTIAL: finishing it gives a valid checksum. */
	assert_true(offload_finish_csum(p, plen, IPV6_HDR_LEN, 16));
	assert_int_equal(l4_sum(p, plen), 0xffff);
}

static void test_gro_keeps_order_and_gaps(void **state)
{
	(void)state;
	struct gro g;
	size_t len;

	nemitted = 0;
	gro_init(&g, capture, NULL);
	add_segment(&g, 0, SEQ0, 1000, 0x10);
	add_segment(&g, 1, SEQ0 + 3000, 1000, 0x10); /* a gap */
	assert_int_equal(nemitted, 1);		    /* the first flow went out before the new one */
	add_segment(&g, 2, SEQ0 + 4000, 500, 0x10); /* short: closes */
	add_segment(&g, 3, SEQ0 + 4500, 500, 0x10);
	assert_int_equal(nemitted, 2);
	/* A pure ACK of the same flow flushes what is pending first. */
	len = tcp_packet(rxbuf[4] + 16, SEQ0 + 5000, 0, 0x10, false);
	gro_add(&g, rxbuf[4] + 16, len);
	assert_int_equal(nemitted, 4);
	struct virtio_net_hdr vh;
	memcpy(&vh, emitted[3], sizeof(vh));
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(emitted_len[3], VNET_HDR_LEN + len);
	gro_flush(&g);
	assert_int_equal(nemitted, 4);
}

static void test_gro_passes_other_traffic(void **state)
{
	(void)state;
	struct gro g;
	uint8_t *p = rxbuf[0] + 16;

	nemitted = 0;
	gro_init(&g, capture, NULL);
	ip6_header(p, 8, IPPROTO_UDP, 1);
	gro_add(&g, p, IPV6_HDR_LEN + 8);
	assert_int_equal(nemitted, 1);
	assert_memory_equal(emitted[0] + VNET_HDR_LEN, p, IPV6_HDR_LEN + 8);
	/* A SYN is never merged. */
	add_segment(&g, 1, SEQ0, 10, 0x02);
	assert_int_equal(nemitted, 2);
	gro_flush(&g);
	assert_int_equal(nemitted, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tso_split),
	    cmocka_unit_test(test_tso_short_tail_and_limits),
	    cmocka_unit_test(test_partial_checksum_completed),
	    cmocka_unit_test(test_split_rejects_malformed),
	    cmocka_unit_test(test_gro_coalesces_a_flow),
	    cmocka_unit_test(test_gro_keeps_order_and_gaps),
	    cmocka_unit_test(test_gro_passes_other_traffic),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
