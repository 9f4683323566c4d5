// SPDX-License-Identifier: ISC
/* Direct paths for relayed sessions, through NATs (punch.h). */
#include <string.h>

#include "daemon/control/punch.h"
#include "daemon/base/log.h"
#include "daemon/control/candidates.h"
#include "daemon/control/nat.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/send.h"
#include "daemon/platform/udp.h"

/* Whether p's session carried traffic lately: its counters moved since the last look. */
static bool in_use(struct peer *p, uint64_t now)
{
	uint64_t bytes = atomic_load(&p->rx_bytes) + atomic_load(&p->tx_bytes);

	if (bytes != p->punch_bytes) {
		p->punch_bytes = bytes;
		p->punch_active_at = now;
	}
	return p->punch_active_at && now - p->punch_active_at < PUNCH_ACTIVE;
}

/* Tells p our candidates; false when the session could not take them yet (no keys). */
static bool send_candidates(struct device *dev, struct peer *p, uint64_t now)
{
	struct sockaddr_in6 c[CAND_MAX];
	uint8_t msg[CAND_MSG_MAX];
	size_t n = cand_build(msg, c, nat_candidates(dev, c, CAND_MAX));
	char name[WG_KEY_B64_LEN + 1];

	if (n && !send_session_payload(p, msg, n, now))
		return false;
	p->punch_told_at = now;
	peer_name(p, name);
	log_debug("punch: peer %s: told it our %u candidate(s)", name, n ? msg[1] : 0);
	return true;
}

/* A target once only. */
static void add_target(struct peer *p, const struct sockaddr_in6 *a)
{
	for (unsigned int i = 0; i < p->npunch; i++)
		if (udp_same(&p->punch[i], a))
			return;
	if (p->npunch < PUNCH_MAX_TARGETS)
		p->punch[p->npunch++] = *a;
}

static void probe_round(struct peer *p, uint64_t now)
{
	p->punch_next = now + PUNCH_PROBE_EVERY;
	for (unsigned int i = 0; i < p->npunch; i++)
		send_probe(p, &p->punch[i], now);
}

void punch_tick(struct device *dev, struct peer *p, uint64_t now)
{
	if (!atomic_load(&p->is_member) || p->stock || !in_use(p, now))
		return;
	struct peer *hop = peer_hop(p);
	if (!hop || hop == p)
		return; /* direct by the routes, or no way at all */
	if (peer_punched(p, now)) {
		/* Direct, though the routes know it not: keep the NATs' doors open. */
		if (now >= p->punch_next) {
			struct sockaddr_in6 e = peer_endpoint(p);
			p->punch_next = now + PUNCH_KEEPALIVE;
			send_probe(p, &e, now);
		}
		return;
	}
	if ((!p->punch_told_at || now - p->punch_told_at >= PUNCH_RETRY) &&
	    send_candidates(dev, p, now))
		p->punch_until = now + PUNCH_WINDOW;
	if (now < p->punch_until && now >= p->punch_next)
		probe_round(p, now);
}

void punch_receive(struct device *dev, struct peer *p, const uint8_t *msg, size_t len, uint64_t now)
{
	struct sockaddr_in6 c[CAND_MAX];
	const char *why;
	int n;

	if (p->punch_heard_at && now - p->punch_heard_at < PUNCH_HEARD_MIN)
		return; /* its budget: PUNCH_WINDOW of probes per PUNCH_HEARD_MIN at most */
	if ((n = cand_parse(msg, len, c, &why)) < 0) {
		char name[WG_KEY_B64_LEN + 1];
		peer_name(p, name);
		log_debug("punch: peer %s: %s", name, why);
		return;
	}
	p->punch_heard_at = now;
	p->npunch = 0;
	for (int i = 0; i < n; i++)
		add_target(p, &c[i]);
	for (unsigned int i = 0; i < p->ncands; i++)
		add_target(p, &p->cands[i]);
	char name[WG_KEY_B64_LEN + 1];
	peer_name(p, name);
	log_debug("punch: peer %s: %d candidate(s), probing %u endpoint(s)", name, n, p->npunch);
	/*
	 * Both ends at once: ours go back now, even if they just went (they may
	 * have crossed, or been lost); taken at most once per PUNCH_HEARD_MIN,
	 * each side answers at most that often.
	 */
	send_candidates(dev, p, now);
	p->punch_until = now + PUNCH_WINDOW;
	probe_round(p, now);
}
