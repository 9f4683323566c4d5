/* SPDX-License-Identifier: ISC */
/*
 * Routing frames (alamesh-protocol(7)): what alameshd nodes say to each
 * other inside their WireGuard tunnels. A frame is the plaintext of one
 * transport message: a 4-byte header whose first byte's high nibble is
 * 0xA (neither 4 nor 6, so a stock WireGuard peer drops it as "not IP"),
 * then type-length-value records. All integers are big-endian.
 *
 * Parsing is two passes: rt_frame_check() validates the whole frame, so a
 * malformed one is refused whole and nothing of it is acted on; then
 * rt_frame_next() walks the records it has vouched for.
 */
#ifndef ALAMESH_FRAME_H
#define ALAMESH_FRAME_H

#include <assert.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define RT_FRAME_MAGIC	 0xa1 /* high nibble 0xA: not IP; low nibble: version 1 */
#define RT_FRAME_HDR_LEN 4
/* Fits one datagram of any tunnel MTU >= 1280 (IPv6's minimum). */
#define RT_FRAME_MAX 1200

enum rt_tlv_type {
	RT_TLV_PAD = 0,	      /* skipped */
	RT_TLV_HELLO = 1,     /* I am here, every interval */
	RT_TLV_IHU = 2,	      /* I heard you: link quality and the RTT echo */
	RT_TLV_UPDATE = 3,    /* a route: origin, seqno, metric */
	RT_TLV_ROUTE_REQ = 4, /* send me your whole table */
	RT_TLV_SEQNO_REQ = 5, /* I am starving: a newer seqno for this origin, please */
	RT_TLV_SEEN = 6,      /* your datagrams reach me from this ip:port */
	RT_TLV_LAST = RT_TLV_SEEN,
};

struct rt_frame_hdr {
	uint8_t magic;
	uint8_t reserved;  /* 0 on send, ignored on receipt */
	uint8_t length[2]; /* bytes of records after the header */
};

/* Every record starts with its type and the length of what follows. */
struct rt_tlv_hdr {
	uint8_t type;
	uint8_t length;
};

struct rt_tlv_hello {
	struct rt_tlv_hdr h;
	uint8_t seqno[2];
	uint8_t interval[2]; /* centiseconds until the next hello */
	uint8_t reserved[2];
	uint8_t timestamp[4]; /* sender's clock, microseconds, echoed in the IHU */
	uint8_t instance[4];  /* random per start: a change means the sender restarted */
};

struct rt_tlv_ihu {
	struct rt_tlv_hdr h;
	uint8_t rx_quality[2]; /* share of your recent hellos heard, of 256 */
	uint8_t interval[2];   /* centiseconds until the next IHU */
	uint8_t echo[4];       /* the timestamp of your last hello */
	uint8_t delay[4];      /* microseconds between that hello and this IHU */
};

struct rt_tlv_update {
	struct rt_tlv_hdr h;
	uint8_t flags; /* 0 */
	uint8_t reserved;
	uint8_t interval[2]; /* centiseconds until the next periodic update */
	uint8_t seqno[2];
	uint8_t metric[4]; /* 0xffffffff: retraction */
	uint8_t address[16];
	uint8_t origin[WG_KEY_LEN]; /* the key whose address this is */
};

struct rt_tlv_route_req {
	struct rt_tlv_hdr h; /* length 0: the whole table */
};

struct rt_tlv_seqno_req {
	struct rt_tlv_hdr h;
	uint8_t seqno[2];
	/* How much further it may go: wider than a hop limit, for it must reach its origin. */
	uint8_t hop_count[2];
	uint8_t address[16];
	uint8_t origin[WG_KEY_LEN];
};

/*
 * The underlay endpoint the sender receives the receiver's datagrams from,
 * so that a node behind NAT learns its public endpoint from its neighbours
 * (an IPv4 address is mapped: ::ffff:a.b.c.d).
 */
struct rt_tlv_seen {
	struct rt_tlv_hdr h;
	uint8_t port[2];
	uint8_t address[16];
};

static_assert(sizeof(struct rt_frame_hdr) == RT_FRAME_HDR_LEN, "frame header");
static_assert(sizeof(struct rt_tlv_hdr) == 2, "record header");
static_assert(sizeof(struct rt_tlv_hello) == 16, "hello");
static_assert(sizeof(struct rt_tlv_ihu) == 14, "ihu");
static_assert(sizeof(struct rt_tlv_update) == 60, "update");
static_assert(sizeof(struct rt_tlv_route_req) == 2, "route request");
static_assert(sizeof(struct rt_tlv_seqno_req) == 54, "seqno request");
static_assert(sizeof(struct rt_tlv_seen) == 20, "seen");

/* A record decoded into host order. */
struct rt_tlv {
	enum rt_tlv_type type;
	union {
		struct {
			uint16_t seqno, interval_cs;
			uint32_t timestamp, instance;
		} hello;
		struct {
			uint16_t rx_quality, interval_cs;
			uint32_t echo, delay;
		} ihu;
		struct {
			uint16_t interval_cs, seqno;
			uint32_t metric;
			struct in6_addr address;
			uint8_t origin[WG_KEY_LEN];
		} update;
		struct {
			uint16_t seqno, hop_count;
			struct in6_addr address;
			uint8_t origin[WG_KEY_LEN];
		} seqno_req;
		struct {
			struct in6_addr address;
			uint16_t port;
		} seen;
	};
};

/* True if buf starts like a routing frame (the receive thread's test). */
static inline bool rt_frame_is(const uint8_t *buf, size_t len)
{
	return len >= RT_FRAME_HDR_LEN && buf[0] == RT_FRAME_MAGIC;
}

/*
 * Validates a received frame (len may include the tunnel's zero padding
 * after it). Returns the length of its records, or -1 with *why set if any
 * part is malformed: wrong magic, a length past the buffer, a record cut
 * short, a known record of the wrong size, or a non-zero update flag.
 */
int rt_frame_check(const uint8_t *buf, size_t len, const char **why);

struct rt_frame_iter {
	const uint8_t *p, *end;
};

/* Starts walking the records of a frame that rt_frame_check() accepted. */
void rt_frame_iter_init(struct rt_frame_iter *it, const uint8_t *buf);
/* The next known record (unknown types and padding are skipped), or false at the end. */
bool rt_frame_next(struct rt_frame_iter *it, struct rt_tlv *out);

/* Building a frame in a caller's buffer of RT_FRAME_MAX bytes. */
struct rt_frame_builder {
	uint8_t *buf;
	size_t len;
};

void rt_frame_begin(struct rt_frame_builder *b, uint8_t *buf);
/* Appends a record; false (and nothing appended) if it does not fit. */
bool rt_frame_add(struct rt_frame_builder *b, const struct rt_tlv *t);
/* Writes the header's length; returns the frame's length (0 if it has no record). */
size_t rt_frame_end(struct rt_frame_builder *b);
/* Bytes a record of this type takes on the wire. */
size_t rt_tlv_wire_len(enum rt_tlv_type type);

#endif
