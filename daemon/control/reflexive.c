// SPDX-License-Identifier: ISC
/* This node's public endpoint, from its neighbours' reports (reflexive.h). */
#include "daemon/control/reflexive.h"

#include <string.h>

/* The reporter's network: the /24 of an IPv4 address, the /64 of an IPv6 one. */
static bool same_subnet(const struct in6_addr *a, const struct in6_addr *b)
{
	if (IN6_IS_ADDR_V4MAPPED(a) && IN6_IS_ADDR_V4MAPPED(b))
		return !memcmp(a->s6_addr, b->s6_addr, 15);
	return !memcmp(a->s6_addr, b->s6_addr, 8);
}

static bool is_local(const struct in6_addr *a, const struct in6_addr *local, size_t nlocal)
{
	for (size_t i = 0; i < nlocal; i++)
		if (!memcmp(a, &local[i], sizeof(*a)))
			return true;
	return false;
}

/* Whether an earlier report of the same family came from r's subnet. */
static bool subnet_counted(const struct reflex_report *r, size_t i, bool v4)
{
	for (size_t j = 0; j < i; j++)
		if (IN6_IS_ADDR_V4MAPPED(&r[j].seen) == v4 &&
		    same_subnet(&r[j].reporter, &r[i].reporter))
			return true;
	return false;
}

void reflex_classify(const struct reflex_report *r, size_t n, bool v4, const struct in6_addr *local,
		     size_t nlocal, uint16_t listen_port, struct reflex *out)
{
	const struct reflex_report *first = NULL;
	bool agree = true;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (IN6_IS_ADDR_V4MAPPED(&r[i].seen) != v4 || subnet_counted(r, i, v4))
			continue;
		out->subnets++;
		if (!first)
			first = &r[i];
		else if (memcmp(&first->seen, &r[i].seen, sizeof(first->seen)) ||
			 first->seen_port != r[i].seen_port)
			agree = false;
	}
	if (out->subnets < REFLEX_MIN_SUBNETS) {
		out->kind = NAT_UNKNOWN;
		return;
	}
	if (!agree) {
		out->kind = NAT_SYMMETRIC;
		return;
	}
	out->addr = first->seen;
	out->port = first->seen_port;
	out->kind = first->seen_port == listen_port && is_local(&first->seen, local, nlocal)
			? NAT_NONE
			: NAT_CONE;
}

const char *nat_kind_name(enum nat_kind k)
{
	switch (k) {
	case NAT_NONE:
		return "none";
	case NAT_CONE:
		return "cone";
	case NAT_SYMMETRIC:
		return "symmetric";
	case NAT_UNKNOWN:
		break;
	}
	return "unknown";
}
