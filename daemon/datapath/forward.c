// SPDX-License-Identifier: ISC
/* The forwarding decision of the receive thread (forward.h). */
#include "daemon/datapath/forward.h"

#include "daemon/base/packet.h"
#include "routing/address.h"

/* The why of a drop by the cryptokey rule: the receive thread counts these as forgeries. */
const char fwd_why_source[] = "source is not the session key's address, nor a device it carries";

static enum fwd_verdict drop(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return FWD_DROP;
}

/* An error about pkt, back into its source's session, if one is due. */
static enum fwd_verdict answer(const struct fwd_env *env, enum fwd_verdict error,
			       const uint8_t *pkt, size_t len, void **next, const char **why)
{
	const struct in6_addr *src = ipv6_src(pkt);
	uint32_t mtu;

	if (ipv6_is_icmp6_error(pkt, len))
		return drop(why, "an ICMPv6 error that cannot go on");
	*next = env->lookup(env->ctx, src, &mtu);
	if (!*next)
		return drop(why, "no session back to the source");
	return error;
}

enum fwd_verdict fwd_classify(const struct fwd_env *env, const struct fwd_from *from,
			      const uint8_t *pkt, size_t len, void **next, uint32_t *mtu,
			      const char **why)
{
	*next = NULL;
	if (len < IPV6_HDR_LEN || (pkt[0] >> 4) != 6)
		return drop(why, "not IPv6");
	const struct in6_addr *src = ipv6_src(pkt), *dst = ipv6_dst(pkt);
	if (!in6_equal(src, from->addr) &&
	    !(alamesh_in_mesh(src) && env->carries(env->ctx, from->peer, src)))
		return drop(why, fwd_why_source);
	if (in6_equal(dst, env->self))
		return FWD_DELIVER;
	if (from->own_only)
		return drop(why, "a device whose Via does not name us: we do not carry it");
	if (!alamesh_in_mesh(dst))
		return drop(why, "destination outside fc00::/7");
	void *to = env->lookup(env->ctx, dst, mtu);
	if (!from->gateway && !(to && env->hosted(env->ctx, to)))
		return drop(why, "a member's packet for another: members send end to end");
	if (!to || to == from->peer)
		return answer(env, FWD_UNREACHABLE, pkt, len, next, why);
	if (pkt[7] <= 1)
		return answer(env, FWD_TIME_EXCEEDED, pkt, len, next, why);
	if (len > *mtu)
		return answer(env, FWD_TOO_BIG, pkt, len, next, why);
	*next = to;
	return FWD_FORWARD;
}

bool fwd_tun_source_ok(const struct in6_addr *src, const struct in6_addr *self)
{
	return in6_equal(src, self);
}
