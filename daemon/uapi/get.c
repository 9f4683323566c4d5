// SPDX-License-Identifier: ISC
/*
 * The answer to get=1: the device, then each peer, as key=value lines in
 * the order of the cross-platform API, ending with errno=0. Runs on the
 * control thread, which owns the peer list; per-peer state the data
 * threads change is read under the peer's lock or atomically.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/base/clock.h"
#include "daemon/core/device.h"
#include "daemon/base/textbuf.h"
#include "daemon/uapi/get.h"
#include "daemon/platform/udp.h"
#include "wgproto/encoding.h"
#include "daemon/core/peer.h"

static void put_peer(struct textbuf *o, struct peer *p)
{
	char hex[WG_KEY_HEX_LEN + 1], ep[INET6_ADDRSTRLEN + 32], addr[INET6_ADDRSTRLEN];
	struct sockaddr_in6 endpoint;
	uint16_t keepalive;
	uint64_t hs_ns = atomic_load(&p->last_handshake_ns);

	pthread_mutex_lock(&p->lock);
	endpoint = p->endpoint;
	keepalive = p->timers.persistent_keepalive_interval;
	pthread_mutex_unlock(&p->lock);

	key_to_hex(hex, p->handshake.remote_static);
	textbuf_printf(o, "public_key=%s\n", hex);
	key_to_hex(hex, p->handshake.preshared_key);
	textbuf_printf(o, "preshared_key=%s\n", hex);
	sodium_memzero(hex, sizeof(hex));
	textbuf_printf(o, "protocol_version=1\n");
	/*
	 * A member whose session is relayed has no endpoint to show, as wg(8)
	 * shows a peer it has not reached: its handshake and transfer say it is
	 * up. A static peer keeps its configured one (showconf reads it back).
	 */
	struct peer *hop = peer_path(p, now_mono());
	bool relayed = p->from_registry && hop && hop != p;
	if (endpoint.sin6_family == AF_INET6 && !relayed)
		textbuf_printf(o, "endpoint=%s\n", udp_format(&endpoint, ep, sizeof(ep)));
	textbuf_printf(o, "last_handshake_time_sec=%llu\n",
		       (unsigned long long)(hs_ns / NSEC_PER_SEC));
	textbuf_printf(o, "last_handshake_time_nsec=%llu\n",
		       (unsigned long long)(hs_ns % NSEC_PER_SEC));
	textbuf_printf(o, "tx_bytes=%llu\n", (unsigned long long)atomic_load(&p->tx_bytes));
	textbuf_printf(o, "rx_bytes=%llu\n", (unsigned long long)atomic_load(&p->rx_bytes));
	textbuf_printf(o, "persistent_keepalive_interval=%u\n", keepalive);
	inet_ntop(AF_INET6, &p->addr, addr, sizeof(addr));
	textbuf_printf(o, "allowed_ip=%s/128\n", addr);
}

int uapi_get(struct device *dev, char **out, size_t *outlen)
{
	struct textbuf o = {0};
	char hex[WG_KEY_HEX_LEN + 1];

	key_to_hex(hex, dev->identity.private_key);
	textbuf_printf(&o, "private_key=%s\n", hex);
	sodium_memzero(hex, sizeof(hex));
	textbuf_printf(&o, "listen_port=%u\n", dev->listen_port);
	if (dev->fwmark)
		textbuf_printf(&o, "fwmark=%u\n", dev->fwmark);
	for (size_t i = 0; i < dev->npeers; i++)
		put_peer(&o, dev->peers[i]);
	return textbuf_answer(&o, out, outlen);
}

int uapi_get_stats(struct device *dev, char **out, size_t *outlen)
{
	const struct {
		const char *name;
		_Atomic uint64_t *n;
	} counters[] = {
	    {"tun_foreign_source", &dev->tun_foreign_source},
	    {"routing_from_outsider", &dev->routing_from_outsider},
	    {"e2e_source_refused", &dev->e2e_source_refused},
	    {"relay_refused", &dev->relay_refused},
	    {"relayed", &dev->relayed},
	    {"relay_notices", &dev->relay_notices},
	    {"handshake_bad_mac1", &dev->hs_bad_mac1},
	    {"cookie_unmatched", &dev->hs_cookie_unmatched},
	    {"handshake_refused", &dev->hs_refused},
	    {"cookie_replies_sent", &dev->hs_cookies_sent},
	};
	struct textbuf o = {0};

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		textbuf_printf(&o, "%s=%llu\n", counters[i].name,
			       (unsigned long long)atomic_load(counters[i].n));
	return textbuf_answer(&o, out, outlen);
}
