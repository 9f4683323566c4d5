/* SPDX-License-Identifier: ISC */
/*
 * What the receive thread does with a packet that came out of a tunnel:
 * deliver it to the TUN, forward it to another peer, answer it with an
 * ICMPv6 error, or drop it. Pure: the route table comes in as a lookup
 * function, so that the rules are tested without a device.
 *
 * The rules, in order (DESIGN.md, "Data path"):
 *  1. Not an IPv6 packet: drop.
 *  2. The source S must be the sending peer's own address; or, when that
 *     peer is a router (it speaks the routing protocol), any address in
 *     fc00::/7 but ours that has a route (the table holds exactly the
 *     members and peers we know). Anything else is dropped: no one relays
 *     a packet into the mesh under an address that is not in it.
 *  3. For our address: deliver. From a stock device whose member file's
 *     Via does not name us, nothing else is taken (alamesh-registry(5)).
 *  4. Outside fc00::/7: drop; a member is a router of the mesh only.
 *  5. No route, or only back to the peer it came from: Destination
 *     Unreachable (no route).
 *  6. Hop limit 1 or 0: Time Exceeded (hop limit exceeded in transit).
 *  7. Longer than our MTU: Packet Too Big, with our MTU.
 *  8. Else forward it to the next hop, its hop limit one less.
 * An error goes back to S along S's route. It is not due when the packet
 * is itself an ICMPv6 error, or S has no route: then the packet is dropped.
 * The rate limit of errors is the caller's.
 */
#ifndef ALAMESH_FORWARD_H
#define ALAMESH_FORWARD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fwd_verdict {
	FWD_DROP,
	FWD_DELIVER,	   /* to the TUN */
	FWD_FORWARD,	   /* to *next, hop limit decremented by the caller */
	FWD_UNREACHABLE,   /* Destination Unreachable, code 0, to *next */
	FWD_TIME_EXCEEDED, /* Time Exceeded, code 0, to *next */
	FWD_TOO_BIG,	   /* Packet Too Big with the MTU, to *next */
};

/* The peer a packet came through. */
struct fwd_from {
	const void *peer;	     /* as the lookup returns peers */
	const struct in6_addr *addr; /* its own (derived) address */
	bool is_router;
	bool own_only; /* a stock device the registry does not let us carry: for us only */
};

struct fwd_env {
	const struct in6_addr *self; /* our address */
	uint32_t mtu;		     /* of the tunnels we forward into */
	/* The next-hop peer of a (a route table lookup), or NULL. */
	void *(*lookup)(void *ctx, const struct in6_addr *a);
	void *ctx;
};

/*
 * Classifies the packet pkt of len bytes (its IPv6 length: padding cut off).
 * For FWD_FORWARD and the errors, *next is the peer it goes to. For
 * FWD_DROP, *why (if why is not NULL) says why, for a log.
 */
enum fwd_verdict fwd_classify(const struct fwd_env *env, const struct fwd_from *from,
			      const uint8_t *pkt, size_t len, void **next, const char **why);

/*
 * Whether a packet the TUN hands us, from src to a mesh address, may go
 * into a tunnel: only from our own address. Whatever else this host routes
 * into the TUN (a container, a LAN, an address someone put on the TUN) must
 * not speak as a member; the stock devices we host reach the mesh through
 * their own sessions, never through the TUN.
 */
bool fwd_tun_source_ok(const struct in6_addr *src, const struct in6_addr *self);

#endif
