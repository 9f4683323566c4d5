/* SPDX-License-Identifier: ISC */
/*
 * A peer's session keys as every thread uses them: taking the current
 * keypair to send a run of packets, asking the control thread for a
 * handshake, and the index entries of handshakes and keypairs that must
 * leave the device's index table with them.
 */
#ifndef ALAMESH_KEYS_H
#define ALAMESH_KEYS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct peer;
struct device;
struct wg_keypair;

/*
 * Takes the current keypair and n counters for a run of packets to p (under
 * p->lock, which it takes), and records the send with the timers. Returns the
 * keypair with a reference, or NULL when there is no usable session (the
 * caller stages the packets). Any thread may send to any peer this way.
 * dst gets p's endpoint, which must then be known; NULL: the run goes
 * relayed, inside another session, and needs none.
 */
struct wg_keypair *peer_begin_send(struct peer *p, uint64_t now, uint32_t n, bool data,
				   uint64_t *first, struct sockaddr_in6 *dst);
/* Asks the control thread for a handshake with p, waking it once. */
void peer_want_handshake(struct peer *p);
/* Forgets p's handshake and keypairs (control thread); the keypairs go when their last user does.
 */
void peer_clear_keys(struct peer *p);
/* Forgets the index of p's unfinished handshake before a new one registers. */
void peer_unregister_handshake(struct peer *p);
/* Takes the keypairs a change displaced out of the index and drops our references. */
void peer_drop_keypairs(struct device *dev, struct wg_keypair *dropped[3]);

#endif
