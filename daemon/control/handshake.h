/* SPDX-License-Identifier: ISC */
/*
 * Handshakes and timers, on the control thread: the messages the receive
 * thread queued (past datapath/hs_gate.h: mac1 checked before anything is
 * counted or queued, mac2 demanded under load), our own initiations, and
 * each peer's WireGuard timers.
 */
#ifndef ALAMESH_HANDSHAKE_H
#define ALAMESH_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

struct device;
struct peer;

/* Consumes the handshake messages queued by the receive thread. */
void handshake_process_queue(struct device *dev);
/*
 * Sends an initiation to p (a retry counts against REKEY_ATTEMPT_TIME),
 * along its session's path: relayed when the route to p goes through
 * another member and no direct path to p is alive, else to its endpoint.
 */
void handshake_send_initiation(struct peer *p, bool is_retry);
/* Sends an initiation straight to p's endpoint: the peering policy wants a direct session. */
void handshake_dial(struct peer *p);
/* p's timers at now: retries, rekeys, keepalives, zeroing old keys. */
void peer_tick(struct peer *p, uint64_t now);

#endif
