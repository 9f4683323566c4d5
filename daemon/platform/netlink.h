/* SPDX-License-Identifier: ISC */
/* rtnetlink through libmnl: the only way alameshd configures interfaces. */
#ifndef ALAMESH_NETLINK_H
#define ALAMESH_NETLINK_H

#include <netinet/in.h>
#include <stdint.h>

/* All return 0 or -errno. ifindex from if_nametoindex(). */
int nl_link_set_mtu(unsigned int ifindex, uint32_t mtu);
int nl_link_set_up(unsigned int ifindex, int up);
/* Adds addr/prefixlen to the interface (IFA_F_NODAD: no duplicate detection delay). */
int nl_addr_add6(unsigned int ifindex, const struct in6_addr *addr, uint8_t prefixlen);
/* Removes that address again (the old one after a change of private key). */
int nl_addr_del6(unsigned int ifindex, const struct in6_addr *addr, uint8_t prefixlen);
/* Adds a route dst/prefixlen through the interface (no gateway). */
int nl_route_add6(unsigned int ifindex, const struct in6_addr *dst, uint8_t prefixlen);
/* Deletes the link (a TUN that is not persistent goes away on close anyway). */
int nl_link_del(unsigned int ifindex);

#endif
