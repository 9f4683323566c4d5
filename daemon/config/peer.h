/* SPDX-License-Identifier: ISC */
/*
 * The [Peer] sections of alamesh.conf(5): PublicKey, PresharedKey,
 * Endpoint and PersistentKeepalive, and the checks across all peers.
 */
#ifndef ALAMESH_CONFIG_PEER_H
#define ALAMESH_CONFIG_PEER_H

#include <stdbool.h>

#include "daemon/config/parser.h"

/*
 * A [Peer] header on p's current line: appends an empty peer to p->cfg.
 * Returns false, reported, past CONFIG_MAX_PEERS or out of memory.
 */
bool config_add_peer(struct parser *p);
/*
 * One "name = value" line of the last [Peer] added; PresharedKey's value
 * is in p->secret, not in value.
 */
void config_peer_key(struct parser *p, const char *name, const char *value);
/*
 * Once the whole file is read: every peer has a PublicKey, and a usable
 * one, not the interface's own nor another peer's.
 */
void config_check_peers(struct parser *p);

#endif
