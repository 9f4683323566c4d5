/* SPDX-License-Identifier: ISC */
/*
 * What the receive thread does with a packet that came out of a session:
 * deliver it to the TUN, pass it on into another session, answer it with an
 * ICMPv6 error, or drop it. Pure: the sessions and paths come in as
 * functions, so that the rules are tested without a device.
 *
 * Members send to each other end to end, in one session per pair, whatever
 * the path (relayed messages are relay.h's, never opened here). So the
 * packets a session hands us are for us, save the ones a stock device we
 * connect to the mesh sends through us, and the ones members send it. The
 * rules, in order (DESIGN.md, "Data path"; alamesh-protocol(7)):
 *  1. Not an IPv6 packet: drop.
 *  2. The cryptokey rule, end to end: the source must be the session key's
 *     own address, or a stock device's whose member file names the
 *     session's member in Via (alamesh-registry(5)). Else drop.
 *  3. For our address: deliver. From a stock device whose member file's
 *     Via does not name us, nothing else is taken.
 *  4. Outside fc00::/7: drop; a member is a router of the mesh only.
 *  5. From a member (not a device we connect): only on to a stock device we
 *     connect; anything else is for its own session with the destination.
 *  6. No session to go on in, or only back to the one it came from:
 *     Destination Unreachable (no route).
 *  7. Hop limit 1 or 0: Time Exceeded (hop limit exceeded in transit).
 *  8. Longer than the path takes: Packet Too Big, with that MTU.
 *  9. Else on into the destination's session, its hop limit one less.
 * An error goes back into the source's session. It is not due when the
 * packet is itself an ICMPv6 error, or the source has no session: then the
 * packet is dropped. The rate limit of errors is the caller's.
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
	FWD_TOO_BIG,	   /* Packet Too Big with *mtu, to *next */
};

/* The session a packet came out of. */
struct fwd_from {
	const void *peer;	     /* as the lookup returns peers */
	const struct in6_addr *addr; /* its key's address */
	bool gateway;  /* a stock device (or a peer no registry lists) we connect: may go on */
	bool own_only; /* a stock device the registry does not let us carry: for us only */
};

struct fwd_env {
	const struct in6_addr *self; /* our address */
	/* The session packets to a go in, when it has a path, or NULL; *mtu: what that path takes.
	 */
	void *(*lookup)(void *ctx, const struct in6_addr *a, uint32_t *mtu);
	/* Whether peer's session may carry packets from src, which is not its own address. */
	bool (*carries)(void *ctx, const void *peer, const struct in6_addr *src);
	/* Whether peer is a stock device we connect to the mesh. */
	bool (*hosted)(void *ctx, const void *peer);
	void *ctx;
};

/*
 * Classifies the packet pkt of len bytes (its IPv6 length: padding cut off).
 * For FWD_FORWARD and the errors, *next is the session it goes in; for
 * FWD_TOO_BIG, *mtu the MTU to tell. For FWD_DROP, *why (if why is not
 * NULL) says why, for a log; it is fwd_why_source when the cryptokey rule
 * refused the packet (a forgery, which the caller counts).
 */
extern const char fwd_why_source[];
enum fwd_verdict fwd_classify(const struct fwd_env *env, const struct fwd_from *from,
			      const uint8_t *pkt, size_t len, void **next, uint32_t *mtu,
			      const char **why);

/*
 * Whether a packet the TUN hands us, from src to a mesh address, may go
 * into a tunnel: only from our own address. Whatever else this host routes
 * into the TUN (a container, a LAN, an address someone put on the TUN) must
 * not speak as a member; the stock devices we host reach the mesh through
 * their own sessions, never through the TUN.
 */
bool fwd_tun_source_ok(const struct in6_addr *src, const struct in6_addr *self);

#endif
