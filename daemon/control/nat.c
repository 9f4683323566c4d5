// SPDX-License-Identifier: ISC
/* The node's public endpoint as its neighbours see it (nat.h). */
#include "daemon/control/nat.h"

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
#include "routing/router.h"

#define NAT_MAX_LOCAL 64 /* interface addresses compared with the reports */

static struct peer *neighbour(struct device *dev, uint16_t nbr)
{
	return nbr < dev->nbr_peer_cap ? dev->nbr_peer[nbr] : NULL;
}

bool nat_endpoint_of(void *ctx, uint16_t nbr, struct in6_addr *addr, uint16_t *port)
{
	struct peer *p = neighbour(ctx, nbr);
	bool known;

	if (!p)
		return false;
	pthread_mutex_lock(&p->lock);
	known = p->endpoint.sin6_family == AF_INET6;
	if (known) {
		*addr = p->endpoint.sin6_addr;
		*port = ntohs(p->endpoint.sin6_port);
	}
	pthread_mutex_unlock(&p->lock);
	return known;
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
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET6) {
			out[n++] = ((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		} else if (i->ifa_addr->sa_family == AF_INET) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].s6_addr[10] = out[n].s6_addr[11] = 0xff;
			memcpy(&out[n].s6_addr[12],
			       &((const struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			n++;
		}
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
		pthread_mutex_lock(&p->lock);
		bool known = p->endpoint.sin6_family == AF_INET6;
		r[n].reporter = p->endpoint.sin6_addr;
		pthread_mutex_unlock(&p->lock);
		if (!known)
			continue;
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
