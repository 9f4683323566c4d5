/* SPDX-License-Identifier: ISC */
/*
 * The node's public endpoint as its neighbours see it: the router's Seen
 * callbacks (what we tell each neighbour of its endpoint, what each tells
 * us of ours) and the answer to get=nat. The verdict itself is
 * reflexive.c's.
 */
#ifndef ALAMESH_NAT_H
#define ALAMESH_NAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device;

/* A report older than this no longer counts (hellos come every 2 s). */
#define NAT_REPORT_MAX_AGE (30 * NSEC_PER_SEC)

/* rt_ops.endpoint_of: the endpoint neighbour nbr's datagrams come from. */
bool nat_endpoint_of(void *dev, uint16_t nbr, struct in6_addr *addr, uint16_t *port);
/* rt_ops.seen: neighbour nbr receives our datagrams from addr, port. */
void nat_seen(void *dev, uint16_t nbr, const struct in6_addr *addr, uint16_t port);

/*
 * The answer to get=nat, for IPv4 then IPv6 where a neighbour reported
 * one: nat= (unknown, none, cone, symmetric), endpoint= (when confirmed)
 * and reporters= (the subnets counted). 0 or -ENOMEM.
 */
int nat_describe(struct device *dev, char **out, size_t *len);

/*
 * Where other members may reach us straight, for hole punching: our
 * confirmed public endpoints (none, or cone, for IPv4 and IPv6) and our
 * interface addresses at our port, at most max into out: how many.
 */
size_t nat_candidates(struct device *dev, struct sockaddr_in6 *out, size_t max);

#endif
