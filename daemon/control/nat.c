// SPDX-License-Identifier: ISC
/* The node's public endpoint as its neighbours see it (nat.h). */
#include "daemon/control/nat.h"
#include "daemon/control/candidates.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/base/clock.h"
#include "daemon/base/textbuf.h"
#include "daemon/control/reflexive.h"
#include "daemon/core/device.h"
#include "daemon/core/peer.h"
#include "daemon/platform/udp.h"
#include "routing/router.h"

#define NAT_MAX_LOCAL 64 /* interface addresses compared with the reports */

static struct peer *neighbour(struct device *dev, uint16_t nbr)
{
	return nbr < dev->nbr_peer_cap ? dev->nbr_peer[nbr] : NULL;
}

bool nat_endpoint_of(void *ctx, uint16_t nbr, struct in6_addr *addr, uint16_t *port)
{
	struct peer *p = neighbour(ctx, nbr);

	if (!p)
		return false;
	struct sockaddr_in6 e = peer_endpoint(p);
	if (e.sin6_family != AF_INET6)
		return false;
	*addr = e.sin6_addr;
	*port = ntohs(e.sin6_port);
	return true;
}

void nat_seen(void *ctx, uint16_t nbr, const struct in6_addr *addr, uint16_t port)
{
	struct peer *p = neighbour(ctx, nbr);

	if (!p)
		return;
	p->seen_addr = *addr;
	p->seen_port = port;
	p->seen_at = now_mono();
}

/* Our interface addresses, IPv4 mapped; at most NAT_MAX_LOCAL. */
static size_t local_addrs(struct in6_addr *out)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && n < NAT_MAX_LOCAL; i = i->ifa_next) {
		int family = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
		if (family != AF_INET && family != AF_INET6)
			continue;
		struct sockaddr_storage ss = {0};
		struct sockaddr_in6 mapped;
		memcpy(&ss, i->ifa_addr,
		       family == AF_INET ? sizeof(struct sockaddr_in)
					 : sizeof(struct sockaddr_in6));
		udp_to_v6(&ss, &mapped);
		out[n++] = mapped.sin6_addr;
	}
	freeifaddrs(ifa);
	return n;
}

/* The fresh reports of the current neighbours, into r (room for npeers). */
static size_t gather(struct device *dev, struct reflex_report *r, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		if (p->nbr == RT_NBR_NONE || !p->seen_at || now - p->seen_at > NAT_REPORT_MAX_AGE)
			continue;
		struct sockaddr_in6 e = peer_endpoint(p);
		if (e.sin6_family != AF_INET6)
			continue;
		r[n].reporter = e.sin6_addr;
		r[n].seen = p->seen_addr;
		r[n].seen_port = p->seen_port;
		n++;
	}
	return n;
}

static void describe_family(struct textbuf *t, const struct reflex_report *r, size_t n, bool v4,
			    const struct in6_addr *local, size_t nlocal, uint16_t port)
{
	struct reflex x;
	char a[INET6_ADDRSTRLEN];
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = IN6_IS_ADDR_V4MAPPED(&r[i].seen) == v4;
	if (!any)
		return;
	reflex_classify(r, n, v4, local, nlocal, port, &x);
	textbuf_printf(t, "nat=%s\n", nat_kind_name(x.kind));
	if (x.kind == NAT_NONE || x.kind == NAT_CONE) {
		if (v4)
			inet_ntop(AF_INET, &x.addr.s6_addr[12], a, sizeof(a));
		else
			inet_ntop(AF_INET6, &x.addr, a, sizeof(a));
		textbuf_printf(t, v4 ? "endpoint=%s:%u\n" : "endpoint=[%s]:%u\n", a, x.port);
	}
	textbuf_printf(t, "reporters=%u\n", x.subnets);
}

/* The family's confirmed public endpoint, if any, into out. */
static bool confirmed(const struct reflex_report *r, size_t n, bool v4,
		      const struct in6_addr *local, size_t nlocal, uint16_t port,
		      struct sockaddr_in6 *out)
{
	struct reflex x;

	reflex_classify(r, n, v4, local, nlocal, port, &x);
	if (x.kind != NAT_NONE && x.kind != NAT_CONE)
		return false;
	*out = (struct sockaddr_in6){
	    .sin6_family = AF_INET6, .sin6_addr = x.addr, .sin6_port = htons(x.port)};
	return true;
}

size_t nat_candidates(struct device *dev, struct sockaddr_in6 *out, size_t max)
{
	struct reflex_report *r = malloc((dev->npeers ? dev->npeers : 1) * sizeof(*r));
	struct in6_addr local[NAT_MAX_LOCAL];
	size_t k = 0;

	if (!r)
		return 0;
	size_t n = gather(dev, r, now_mono());
	size_t nlocal = local_addrs(local);
	for (int v4 = 1; v4 >= 0 && k < max; v4--)
		if (confirmed(r, n, v4, local, nlocal, dev->listen_port, &out[k]))
			k++;
	for (size_t i = 0; i < nlocal && k < max; i++) {
		if (!cand_addr_ok(&local[i]))
			continue;
		out[k++] = (struct sockaddr_in6){.sin6_family = AF_INET6,
						 .sin6_addr = local[i],
						 .sin6_port = htons(dev->listen_port)};
	}
	free(r);
	return k;
}

int nat_describe(struct device *dev, char **out, size_t *len)
{
	struct reflex_report *r = malloc((dev->npeers ? dev->npeers : 1) * sizeof(*r));
	struct in6_addr local[NAT_MAX_LOCAL];
	struct textbuf t = {0};

	if (!r)
		return -ENOMEM;
	size_t n = gather(dev, r, now_mono());
	size_t nlocal = local_addrs(local);
	describe_family(&t, r, n, true, local, nlocal, dev->listen_port);
	describe_family(&t, r, n, false, local, nlocal, dev->listen_port);
	if (!n)
		textbuf_printf(&t, "nat=unknown\nreporters=0\n");
	free(r);
	return textbuf_answer(&t, out, len);
}
