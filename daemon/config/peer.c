/* SPDX-License-Identifier: ISC */
/* The [Peer] sections of alamesh.conf(5). */
#include "daemon/config/peer.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/config/endpoint.h"
#include "daemon/config/report.h"
#include "daemon/config/values.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

static const char *const peer_keys[PK_COUNT] = {"PublicKey", "PresharedKey", "Endpoint",
						"PersistentKeepalive"};

bool config_add_peer(struct parser *p)
{
	struct config *cfg = p->cfg;

	if (cfg->npeers == CONFIG_MAX_PEERS) {
		if (!p->too_many_peers)
			config_report(p, p->line, true, "too many peers (at most %d)",
				      CONFIG_MAX_PEERS);
		p->too_many_peers = true;
		return false;
	}
	if (cfg->npeers == p->peers_cap) {
		size_t cap = p->peers_cap ? p->peers_cap * 2 : 8;
		struct config_peer *peers = calloc(cap, sizeof(*peers));
		struct peer_lines *lines = calloc(cap, sizeof(*lines));

		if (!peers || !lines) {
			free(peers);
			free(lines);
			config_report(p, p->line, true, "out of memory");
			return false;
		}
		/* Copied by hand, not realloc()ed: the old block holds preshared keys. */
		if (cfg->npeers) {
			memcpy(peers, cfg->peers, cfg->npeers * sizeof(*peers));
			memcpy(lines, p->plines, cfg->npeers * sizeof(*lines));
			sodium_memzero(cfg->peers, cfg->npeers * sizeof(*peers));
		}
		free(cfg->peers);
		free(p->plines);
		cfg->peers = peers;
		p->plines = lines;
		p->peers_cap = cap;
	}
	memset(&cfg->peers[cfg->npeers], 0, sizeof(cfg->peers[0]));
	memset(&p->plines[cfg->npeers], 0, sizeof(p->plines[0]));
	cfg->peers[cfg->npeers].endpoint.ss_family = AF_UNSPEC;
	cfg->peers[cfg->npeers].line = p->line;
	cfg->npeers++;
	return true;
}

void config_peer_key(struct parser *p, const char *name, const char *value)
{
	struct config_peer *peer = &p->cfg->peers[p->cfg->npeers - 1];
	struct peer_lines *lines = &p->plines[p->cfg->npeers - 1];
	int k = config_key_index(peer_keys, PK_COUNT, name);
	const char *why;
	uint32_t v;

	if (k < 0) {
		config_report_unknown(p, "unknown key '%s' in [Peer]", name);
		return;
	}
	if (lines->key[k]) {
		config_report(p, p->line, true, "duplicate key %s (first on line %d)", peer_keys[k],
			      lines->key[k]);
		return;
	}
	lines->key[k] = p->line;
	if (k != PK_PRESHARED_KEY && !*value) {
		config_report(p, p->line, true, "missing value for %s", peer_keys[k]);
		return;
	}

	switch ((enum peer_key)k) {
	case PK_PUBLIC_KEY:
		lines->valid_key = key_from_base64(peer->public_key, value);
		if (!lines->valid_key)
			config_report(p, p->line, true,
				      "invalid PublicKey: expected 44 characters of base64 as wg "
				      "pubkey prints");
		break;
	case PK_PRESHARED_KEY:
		if (p->secret_overflow || !key_from_base64(peer->preshared_key, p->secret))
			config_report(p, p->line, true,
				      "invalid PresharedKey: expected 44 characters of base64 as "
				      "wg genpsk prints");
		else
			peer->has_preshared_key = true;
		break;
	case PK_ENDPOINT:
		if (!config_parse_endpoint(value, &peer->endpoint, &peer->endpoint_len, &why)) {
			memset(&peer->endpoint, 0, sizeof(peer->endpoint));
			peer->endpoint_len = 0;
			config_report(p, p->line, true, "invalid Endpoint '%s': %s", value, why);
		}
		break;
	case PK_KEEPALIVE:
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (!config_parse_uint(value, 65535, &v)) {
			config_report(p, p->line, true,
				      "invalid PersistentKeepalive '%s': 0 to 65535 or off", value);
			break;
		}
		peer->persistent_keepalive = (uint16_t)v;
		break;
	case PK_COUNT:
		break;
	}
}

void config_check_peers(struct parser *p)
{
	const struct config *cfg = p->cfg;
	uint8_t own[WG_KEY_LEN];
	bool have_own = cfg->has_private_key && crypto_scalarmult_base(own, cfg->private_key) == 0;

	for (size_t i = 0; i < cfg->npeers; i++) {
		int line = p->plines[i].key[PK_PUBLIC_KEY];

		if (!line)
			config_report(p, cfg->peers[i].line, true, "[Peer] without PublicKey");
		if (!p->plines[i].valid_key)
			continue;
		if (have_own && !memcmp(own, cfg->peers[i].public_key, WG_KEY_LEN))
			config_report(p, line, true,
				      "PublicKey is this interface's own public key");
		/* A low-order point (the zero key among them) can never complete a handshake. */
		uint8_t shared[WG_KEY_LEN];
		if (cfg->has_private_key &&
		    !wg_dh(shared, cfg->private_key, cfg->peers[i].public_key))
			config_report(p, line, true,
				      "PublicKey is a low-order point, not a usable key");
		sodium_memzero(shared, sizeof(shared));
		for (size_t j = 0; j < i; j++) {
			if (p->plines[j].valid_key &&
			    !memcmp(cfg->peers[j].public_key, cfg->peers[i].public_key,
				    WG_KEY_LEN)) {
				config_report(p, line, true,
					      "duplicate peer PublicKey (first on line %d)",
					      p->plines[j].key[PK_PUBLIC_KEY]);
				break;
			}
		}
	}
}
