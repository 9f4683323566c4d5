/* SPDX-License-Identifier: ISC */
/*
 * This node's public (reflexive) endpoint, learned from its neighbours:
 * each tells, in a Seen record (alamesh-protocol(7)), the ip:port our
 * datagrams reach it from. Pure: the reports come in, the verdict goes out.
 *
 * Reports count once per reporter subnet (an IPv4 /24, an IPv6 /64, of
 * the reporter's own endpoint as we see it), so that one network cannot
 * vote twice. With reports from at least two subnets:
 *  - all the same, and one of our own addresses at our listening port:
 *    no NAT;
 *  - all the same otherwise: a NAT that maps us to one endpoint whoever
 *    we talk to (cone): that endpoint is confirmed, and may be told to
 *    others;
 *  - different: a NAT that maps each destination apart (symmetric): what
 *    one neighbour sees is of no use to another, and nothing is told.
 * With fewer, the kind is unknown.
 */
#ifndef ALAMESH_REFLEXIVE_H
#define ALAMESH_REFLEXIVE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reports from this many subnets at least confirm an endpoint. */
#define REFLEX_MIN_SUBNETS 2

struct reflex_report {
	struct in6_addr reporter; /* the neighbour's endpoint address, as we see it */
	struct in6_addr seen;	  /* what it sees of us (IPv4 mapped) */
	uint16_t seen_port;
};

enum nat_kind { NAT_UNKNOWN, NAT_NONE, NAT_CONE, NAT_SYMMETRIC };

struct reflex {
	enum nat_kind kind;
	struct in6_addr addr; /* the confirmed endpoint: NAT_NONE and NAT_CONE only */
	uint16_t port;
	unsigned int subnets; /* reporter subnets counted */
};

/*
 * Classifies the n reports whose seen address is of one family (IPv4 when
 * v4, else IPv6; the others are skipped). local holds our own interface
 * addresses (IPv4 mapped), listen_port our UDP port.
 */
void reflex_classify(const struct reflex_report *r, size_t n, bool v4, const struct in6_addr *local,
		     size_t nlocal, uint16_t listen_port, struct reflex *out);

/* "unknown", "none", "cone" or "symmetric". */
const char *nat_kind_name(enum nat_kind k);

#endif
