/* SPDX-License-Identifier: ISC */
/*
 * TUN offloads (IFF_VNET_HDR): every frame on the TUN starts with a
 * struct virtio_net_hdr. On the way out the kernel hands us TCP
 * super-packets of up to 64 KiB (TSO) and packets whose checksum is only
 * seeded (CHECKSUM_PARTIAL); we cut them into MTU-sized packets with full
 * checksums before encryption. On the way in, consecutive TCP segments of a
 * flow are written back as one super-packet (GRO), so the kernel's TCP runs
 * once per 64 KiB instead of once per segment. Pure packet arithmetic, no I/O.
 */
#ifndef ALAMESH_OFFLOAD_H
#define ALAMESH_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VNET_HDR_LEN	  sizeof(struct virtio_net_hdr) /* 10 */
#define OFFLOAD_MAX_FRAME (VNET_HDR_LEN + 65535)
#define GRO_MAX_FLOWS	  8
#define GRO_MAX_SEGS	  64

_Static_assert(sizeof(struct virtio_net_hdr) == 10, "virtio_net_hdr is 10 bytes");

/*
 * Splits one TUN frame (vnet header + IPv6 packet) into complete IPv6
 * packets of at most mtu bytes, written to out[0..], each of capacity cap.
 * Returns the number of packets, 0 for a frame to drop (malformed, or not
 * IPv6), or -1 when more than maxout packets would be needed.
 */
int offload_split(const uint8_t *frame, size_t len, uint32_t mtu, uint8_t *const *out,
		  uint32_t *outlen, unsigned int maxout, size_t cap);

/* Completes a seeded (partial) checksum at start+offset over pkt[start..len). */
bool offload_finish_csum(uint8_t *pkt, size_t len, size_t start, size_t offset);

struct gro_flow {
	uint8_t *first;	  /* IPv6 header of the first segment; VNET_HDR_LEN bytes of headroom */
	uint32_t hdrlen;  /* IPv6 + TCP header */
	uint32_t mss;	  /* payload length of the first segment */
	uint32_t payload; /* total payload so far */
	uint32_t next_seq;
	bool closed; /* a short or PSH segment ended it */
	bool psh;
	unsigned int nseg;
	struct iovec iov[GRO_MAX_SEGS + 1];
};

/* Writes n iovecs as one TUN frame; returns <0 on error. */
typedef int (*gro_emit_fn)(void *ctx, const struct iovec *iov, int n);

struct gro {
	struct gro_flow flows[GRO_MAX_FLOWS];
	unsigned int nflows;
	gro_emit_fn emit;
	void *ctx;
};

void gro_init(struct gro *g, gro_emit_fn emit, void *ctx);
/*
 * Delivers the IPv6 packet pkt (len bytes, with VNET_HDR_LEN writable bytes
 * before it, and valid checksums): coalesced into a pending flow when it
 * continues one, otherwise emitted (flushing its flow first, to keep order).
 * pkt must stay valid until gro_flush().
 */
void gro_add(struct gro *g, uint8_t *pkt, size_t len);
/* Emits every pending flow. */
void gro_flush(struct gro *g);

#endif
