// SPDX-License-Identifier: ISC
/*
 * Segmentation of TUN super-packets and coalescing of received TCP segments.
 * Only IPv6 with TCP directly after the fixed header is coalesced or
 * segmented; anything else passes through as one packet.
 */
#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include "daemon/platform/checksum.h"
#include "daemon/platform/offload.h"
#include "daemon/base/packet.h"

#define TCP_MIN_HDR	20
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_URG		0x20
#define TCP_ECE		0x40
#define TCP_CWR		0x80
#define TCP_CSUM_OFFSET 16
#define UDP_CSUM_OFFSET 6

bool offload_finish_csum(uint8_t *pkt, size_t len, size_t start, size_t offset)
{
	if (start >= len || offset + 2 > len - start)
		return false;
	uint16_t csum = (uint16_t)~csum_fold(csum_add(0, pkt + start, len - start));
	if (csum == 0 && len > 6 && pkt[6] == IPPROTO_UDP)
		csum = 0xffff; /* zero means "no checksum" in UDP */
	csum_put(pkt + start + offset, csum);
	return true;
}

static int pass_through(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len,
			uint32_t mtu, uint8_t *const *out, uint32_t *outlen, size_t cap)
{
	if (len > mtu || len > cap || ipv6_packet_len(pkt, len) != len)
		return 0;
	memcpy(out[0], pkt, len);
	/* The checksum lives past the fixed header; anything else is nonsense. */
	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (vh->csum_start < IPV6_HDR_LEN ||
	     !offload_finish_csum(out[0], len, vh->csum_start, vh->csum_offset)))
		return 0;
	outlen[0] = (uint32_t)len;
	return 1;
}

/* Cuts a TCP/IPv6 super-packet into gso_size pieces, each with its own header and checksum. */
static int tso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, uint32_t mtu,
		     uint8_t *const *out, uint32_t *outlen, unsigned int maxout, size_t cap)
{
	if (len < IPV6_HDR_LEN + TCP_MIN_HDR || (pkt[0] >> 4) != 6 || pkt[6] != IPPROTO_TCP)
		return 0;
	size_t tcplen = (size_t)(pkt[IPV6_HDR_LEN + 12] >> 4) * 4;
	size_t hdrlen = IPV6_HDR_LEN + tcplen;
	size_t mss = vh->gso_size;
	if (tcplen < TCP_MIN_HDR || hdrlen > len || mss == 0 || hdrlen + mss > mtu ||
	    hdrlen + mss > cap)
		return 0;
	size_t payload = len - hdrlen;
	size_t nseg = (payload + mss - 1) / mss;
	if (nseg == 0)
		return 0;
	if (nseg > maxout)
		return -1;

	const uint8_t *tcp = pkt + IPV6_HDR_LEN;
	uint32_t seq;
	memcpy(&seq, tcp + 4, sizeof(seq));
	seq = ntohl(seq);
	for (size_t i = 0, off = 0; i < nseg; i++, off += mss) {
		size_t chunk = payload - off < mss ? payload - off : mss;
		uint8_t *o = out[i];
		uint8_t *otcp = o + IPV6_HDR_LEN;

		memcpy(o, pkt, hdrlen);
		memcpy(o + hdrlen, pkt + hdrlen + off, chunk);
		uint16_t plen = htons((uint16_t)(tcplen + chunk));
		memcpy(o + 4, &plen, sizeof(plen));
		uint32_t s = htonl(seq + (uint32_t)off);
		memcpy(otcp + 4, &s, sizeof(s));
		if (i + 1 < nseg)
			otcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (i > 0)
			otcp[13] &= (uint8_t)~TCP_CWR;
		csum_put(otcp + TCP_CSUM_OFFSET, 0);
		uint64_t sum = csum_pseudo6(o, (uint32_t)(tcplen + chunk), IPPROTO_TCP);
		csum_put(otcp + TCP_CSUM_OFFSET,
			 (uint16_t)~csum_fold(csum_add(sum, otcp, tcplen + chunk)));
		outlen[i] = (uint32_t)(hdrlen + chunk);
	}
	return (int)nseg;
}

int offload_split(const uint8_t *frame, size_t len, uint32_t mtu, uint8_t *const *out,
		  uint32_t *outlen, unsigned int maxout, size_t cap)
{
	struct virtio_net_hdr vh;

	if (len <= VNET_HDR_LEN || maxout == 0)
		return 0;
	memcpy(&vh, frame, sizeof(vh));
	vh.gso_size = le16toh(vh.gso_size);
	vh.csum_start = le16toh(vh.csum_start);
	vh.csum_offset = le16toh(vh.csum_offset);
	const uint8_t *pkt = frame + VNET_HDR_LEN;
	len -= VNET_HDR_LEN;
	switch (vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return pass_through(&vh, pkt, len, mtu, out, outlen, cap);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (ipv6_packet_len(pkt, len) != len)
			return 0;
		return tso_split(&vh, pkt, len, mtu, out, outlen, maxout, cap);
	default:
		return 0;
	}
}

/* ---- receive side: coalescing ---- */

void gro_init(struct gro *g, gro_emit_fn emit, void *ctx)
{
	g->nflows = 0;
	g->emit = emit;
	g->ctx = ctx;
}

static uint32_t tcp_seq(const uint8_t *pkt)
{
	uint32_t s;

	memcpy(&s, pkt + IPV6_HDR_LEN + 4, sizeof(s));
	return ntohl(s);
}

/* The TCP header length of a segment that may be coalesced, or 0. */
static uint32_t coalescable(const uint8_t *pkt, size_t len)
{
	if (len < IPV6_HDR_LEN + TCP_MIN_HDR || pkt[6] != IPPROTO_TCP)
		return 0;
	const uint8_t *tcp = pkt + IPV6_HDR_LEN;
	uint32_t tcplen = (uint32_t)(tcp[12] >> 4) * 4;
	uint8_t flags = tcp[13];
	if (tcplen < TCP_MIN_HDR || IPV6_HDR_LEN + tcplen >= len)
		return 0; /* no payload: pure ACKs go as they are */
	if ((flags & ~(TCP_ACK | TCP_PSH)) || !(flags & TCP_ACK))
		return 0;
	return tcplen;
}

/*
 * Same flow, and headers equal except what segmentation changes: payload
 * length (bytes 4-5), sequence number, checksum and PSH. Like Linux GRO, the
 * ack number, window and options must match, so the merge loses nothing.
 */
static bool same_headers(const struct gro_flow *f, const uint8_t *pkt)
{
	const uint8_t *a = f->first, *b = pkt;

	if (memcmp(a, b, 4) || memcmp(a + 6, b + 6, IPV6_HDR_LEN - 6))
		return false;
	a += IPV6_HDR_LEN;
	b += IPV6_HDR_LEN;
	if (memcmp(a, b, 4) || memcmp(a + 8, b + 8, 5) || memcmp(a + 14, b + 14, 2))
		return false;
	if ((a[13] & ~TCP_PSH) != (b[13] & ~TCP_PSH))
		return false;
	uint32_t hl = f->hdrlen - IPV6_HDR_LEN;
	return memcmp(a + TCP_MIN_HDR, b + TCP_MIN_HDR, hl - TCP_MIN_HDR) == 0;
}

static void emit_single(struct gro *g, uint8_t *pkt, size_t len)
{
	struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	struct iovec iov = {.iov_base = pkt - VNET_HDR_LEN, .iov_len = len + VNET_HDR_LEN};

	/* The AEAD already vouched for every byte: no need for the kernel to checksum. */
	memcpy(pkt - VNET_HDR_LEN, &vh, sizeof(vh));
	g->emit(g->ctx, &iov, 1);
}

static void flow_emit(struct gro *g, struct gro_flow *f)
{
	uint8_t *pkt = f->first;

	if (f->nseg == 1) {
		emit_single(g, pkt, f->iov[0].iov_len - VNET_HDR_LEN);
		return;
	}
	uint32_t tcplen = f->hdrlen - IPV6_HDR_LEN;
	uint16_t plen = htons((uint16_t)(tcplen + f->payload));
	memcpy(pkt + 4, &plen, sizeof(plen));
	if (f->psh)
		pkt[IPV6_HDR_LEN + 13] |= TCP_PSH;
	/* CHECKSUM_PARTIAL: seed with the pseudo-header, as the kernel's own TSO does. */
	csum_put(pkt + IPV6_HDR_LEN + TCP_CSUM_OFFSET,
		 csum_fold(csum_pseudo6(pkt, tcplen + f->payload, IPPROTO_TCP)));
	struct virtio_net_hdr vh = {
	    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
	    .hdr_len = htole16((uint16_t)f->hdrlen),
	    .gso_size = htole16((uint16_t)f->mss),
	    .csum_start = htole16(IPV6_HDR_LEN),
	    .csum_offset = htole16(TCP_CSUM_OFFSET),
	};
	memcpy(pkt - VNET_HDR_LEN, &vh, sizeof(vh));
	g->emit(g->ctx, f->iov, (int)f->nseg);
}

static void flow_remove(struct gro *g, unsigned int i)
{
	flow_emit(g, &g->flows[i]);
	g->flows[i] = g->flows[--g->nflows];
}

void gro_flush(struct gro *g)
{
	while (g->nflows)
		flow_remove(g, g->nflows - 1);
}

static void flow_start(struct gro *g, uint8_t *pkt, size_t len, uint32_t tcplen)
{
	if (g->nflows == GRO_MAX_FLOWS)
		flow_remove(g, 0);
	struct gro_flow *f = &g->flows[g->nflows++];
	f->first = pkt;
	f->hdrlen = IPV6_HDR_LEN + tcplen;
	f->mss = (uint32_t)len - f->hdrlen;
	f->payload = f->mss;
	f->next_seq = tcp_seq(pkt) + f->mss;
	f->psh = pkt[IPV6_HDR_LEN + 13] & TCP_PSH;
	f->closed = f->psh;
	f->nseg = 1;
	f->iov[0].iov_base = pkt - VNET_HDR_LEN;
	f->iov[0].iov_len = len + VNET_HDR_LEN;
}

static struct gro_flow *flow_find(struct gro *g, const uint8_t *pkt, unsigned int *idx)
{
	for (unsigned int i = 0; i < g->nflows; i++) {
		const uint8_t *a = g->flows[i].first;
		/* Addresses and ports identify the flow. */
		if (!memcmp(a + 8, pkt + 8, 32) &&
		    !memcmp(a + IPV6_HDR_LEN, pkt + IPV6_HDR_LEN, 4)) {
			*idx = i;
			return &g->flows[i];
		}
	}
	return NULL;
}

void gro_add(struct gro *g, uint8_t *pkt, size_t len)
{
	uint32_t tcplen = coalescable(pkt, len);
	unsigned int i;
	struct gro_flow *f;

	if (!tcplen) {
		/* Not coalescable; anything pending of its flow must go first. */
		if (len >= IPV6_HDR_LEN + TCP_MIN_HDR && pkt[6] == IPPROTO_TCP &&
		    flow_find(g, pkt, &i))
			flow_remove(g, i);
		emit_single(g, pkt, len);
		return;
	}
	f = flow_find(g, pkt, &i);
	if (f) {
		uint32_t seg = (uint32_t)len - f->hdrlen;
		if (!f->closed && IPV6_HDR_LEN + tcplen == f->hdrlen && same_headers(f, pkt) &&
		    tcp_seq(pkt) == f->next_seq && seg <= f->mss && f->nseg < GRO_MAX_SEGS &&
		    f->hdrlen + f->payload + seg <= 65535) {
			f->iov[f->nseg].iov_base = pkt + f->hdrlen;
			f->iov[f->nseg].iov_len = seg;
			f->nseg++;
			f->payload += seg;
			f->next_seq += seg;
			f->psh = pkt[IPV6_HDR_LEN + 13] & TCP_PSH;
			f->closed = f->psh || seg < f->mss;
			return;
		}
		flow_remove(g, i);
	}
	flow_start(g, pkt, len, tcplen);
}
