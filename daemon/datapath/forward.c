// SPDX-License-Identifier: ISC
/* The forwarding decision of the receive thread (forward.h). */
#include "daemon/datapath/forward.h"

#include "daemon/base/packet.h"
#include "routing/address.h"

static enum fwd_verdict drop(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return FWD_DROP;
}

static bool source_valid(const struct fwd_env *env, const struct fwd_from *from,
			 const struct in6_addr *src)
{
	if (in6_equal(src, from->addr))
		return true;
	return from->is_router && alamesh_in_mesh(src) && !in6_equal(src, env->self) &&
	       env->lookup(env->ctx, src) != NULL;
}

/* An error about pkt, back along its source's route, if one is due. */
static enum fwd_verdict answer(const struct fwd_env *env, enum fwd_verdict error,
			       const uint8_t *pkt, size_t len, void **next, const char **why)
{
	const struct in6_addr *src = ipv6_src(pkt);

	if (ipv6_is_icmp6_error(pkt, len))
		return drop(why, "an ICMPv6 error that cannot go on");
	if (!alamesh_in_mesh(src))
		return drop(why, "source outside fc00::/7");
	*next = env->lookup(env->ctx, src);
	if (!*next)
		return drop(why, "no route back to the source");
	return error;
}

enum fwd_verdict fwd_classify(const struct fwd_env *env, const struct fwd_from *from,
			      const uint8_t *pkt, size_t len, void **next, const char **why)
{
	*next = NULL;
	if (len < IPV6_HDR_LEN || (pkt[0] >> 4) != 6)
		return drop(why, "not IPv6");
	const struct in6_addr *dst = ipv6_dst(pkt);
	if (!source_valid(env, from, ipv6_src(pkt)))
		return drop(why, "source is not the peer's, nor a member's from a router");
	if (in6_equal(dst, env->self))
		return FWD_DELIVER;
	if (from->own_only)
		return drop(why, "a device whose Via does not name us: we do not carry it");
	if (!alamesh_in_mesh(dst))
		return drop(why, "destination outside fc00::/7");
	void *hop = env->lookup(env->ctx, dst);
	if (!hop || hop == from->peer)
		return answer(env, FWD_UNREACHABLE, pkt, len, next, why);
	if (pkt[7] <= 1)
		return answer(env, FWD_TIME_EXCEEDED, pkt, len, next, why);
	if (len > env->mtu)
		return answer(env, FWD_TOO_BIG, pkt, len, next, why);
	*next = hop;
	return FWD_FORWARD;
}

bool fwd_tun_source_ok(const struct in6_addr *src, const struct in6_addr *self)
{
	return in6_equal(src, self);
}
