/* SPDX-License-Identifier: ISC */
/*
 * A batch of plaintext packets on their way to peers, shared by the two data
 * threads: the transmit thread fills it from the TUN, the receive thread
 * with the packets it forwards, the relayed messages it passes on and the
 * ICMPv6 errors it answers. A packet goes in the end-to-end session of its
 * slot's peer, directly or, when its hop is another peer, sealed once more
 * as a relayed message in the hop's session (relay.h); a relayed message
 * passed on is sealed in the hop's session only. Each slot leaves room for
 * both headers before the packet and both paddings and tags after it, so
 * sealing is in place; runs of packets to one peer take their counters
 * under one lock, and the sealed datagrams leave in one sendmmsg(), runs to
 * one endpoint as UDP GSO trains. Nothing is allocated after batch_init().
 */
#ifndef ALAMESH_BATCH_H
#define ALAMESH_BATCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "daemon/core/device.h"
#include "wgproto/messages.h"

/* Room for a batch of super-packets cut into MTU-sized pieces. */
#define BATCH_SLOTS 256
/* What a slot holds past the headers. */
#define BATCH_SLOT_CAP (PACKET_BUF_SIZE - PACKET_HEADROOM)
/* Where a relayed message passed on starts in a slot's buffer: past the hop's header. */
#define BATCH_FRAME_OFFSET sizeof(struct wg_msg_data)

struct batch {
	uint8_t (*buf)[PACKET_BUF_SIZE];
	uint8_t *slot[BATCH_SLOTS]; /* buf[i] past the headers: the plaintext packet */
	uint32_t len[BATCH_SLOTS];
	struct peer *peer[BATCH_SLOTS]; /* whose session; NULL: not sent */
	struct peer *hop[BATCH_SLOTS];	/* the datagram's peer: peer[i] itself, or a relay */
	bool frame[BATCH_SLOTS];	/* a relayed message at buf[i] + BATCH_FRAME_OFFSET */
	/* Sealed datagrams, in order; runs to one destination share a dst entry. */
	struct iovec iov[BATCH_SLOTS];
	struct sockaddr_in6 *to[BATCH_SLOTS];
	struct sockaddr_in6 dst[BATCH_SLOTS];
	/* The messages of one sendmmsg(): single datagrams or UDP GSO trains. */
	struct mmsghdr msg[BATCH_SLOTS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cmsg[BATCH_SLOTS];
	unsigned int n; /* slots filled */
	unsigned int nout, ndst;
	int wait_ms; /* how long a full socket buffer is waited for before dropping */
};

/* Where slot i holds a relayed message passed on (batch_add_frame()). */
static inline uint8_t *batch_frame(struct batch *b, unsigned int i)
{
	return b->buf[i] + BATCH_FRAME_OFFSET;
}

/* Slot i, its batch_frame() filled with len bytes, goes to hop in its session as it is. */
static inline void batch_add_frame(struct batch *b, unsigned int i, struct peer *hop, uint32_t len)
{
	b->len[i] = len;
	b->peer[i] = b->hop[i] = hop;
	b->frame[i] = true;
	b->n++;
}

/* Allocates the slot buffers; false when out of memory (batch_destroy() still applies). */
bool batch_init(struct batch *b, int wait_ms);
void batch_destroy(struct batch *b);

static inline bool batch_full(const struct batch *b)
{
	return b->n == BATCH_SLOTS;
}

/*
 * Seals the filled slots that have a peer, each run of consecutive slots to
 * one peer and hop with one keypair reservation per session (a peer without
 * a session stages its run and asks for a handshake), sends them, and
 * empties the batch.
 */
void batch_send(struct device *dev, struct batch *b, uint64_t now);

#endif
