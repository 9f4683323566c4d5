/* SPDX-License-Identifier: ISC */
/*
 * Transport keypairs: the keys a completed handshake derives, their send
 * counter and receive replay window, and the current/previous/next rotation
 * of the WireGuard paper (5.4.6). Keypairs are reference counted because the
 * data-path threads keep using one while the control thread rotates it out;
 * the last reference wipes the keys.
 */
#ifndef ALAMESH_KEYPAIR_H
#define ALAMESH_KEYPAIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "constants.h"
#include "replay.h"

struct wg_keypair {
	uint8_t send_key[WG_KEY_LEN];
	uint8_t recv_key[WG_KEY_LEN];
	_Atomic uint64_t send_counter; /* next nonce to use */
	struct wg_replay replay;       /* receiving thread only */
	uint64_t birth_ns;	       /* monotonic time of derivation */
	uint32_t local_index;	       /* receiver index peers put in data to us */
	uint32_t remote_index;	       /* receiver index we put in data to them */
	bool initiator;		       /* we sent the initiation */
	void *peer;		       /* owner, opaque to wgproto */
	_Atomic int refcount;
};

struct wg_keypairs {
	struct wg_keypair *current;
	struct wg_keypair *previous;
	struct wg_keypair *next; /* responder: unconfirmed until data arrives on it */
};

/* A zeroed keypair with one reference, or NULL when out of memory. */
struct wg_keypair *wg_keypair_new(void);
void wg_keypair_get(struct wg_keypair *kp);
/* Drops a reference; the last one wipes the keys (sodium_memzero) and frees. NULL is fine. */
void wg_keypair_put(struct wg_keypair *kp);

/*
 * Installs a freshly derived keypair (the table takes over the caller's
 * reference). As initiator it becomes current at once (old current goes to
 * previous); as responder it waits in next until the initiator uses it.
 * Keypairs that fall out are stored in dropped[0..2] (NULL-filled) so the
 * caller can unregister their indices before putting them.
 */
void wg_keypairs_install(struct wg_keypairs *kps, struct wg_keypair *kp,
			 struct wg_keypair *dropped[3]);
/*
 * Data arrived on kp: if kp is next, rotate it to current and return true
 * (the old previous lands in *dropped).
 */
bool wg_keypairs_received_with(struct wg_keypairs *kps, struct wg_keypair *kp,
			       struct wg_keypair **dropped);
/* Moves every keypair to dropped[0..2] and empties the table. */
void wg_keypairs_clear(struct wg_keypairs *kps, struct wg_keypair *dropped[3]);

/*
 * Reserves n consecutive send counters; *first gets the first. Fails when the
 * keypair is older than REJECT_AFTER_TIME or the counters would reach
 * REJECT_AFTER_MESSAGES. Safe from several threads.
 */
bool wg_keypair_reserve(struct wg_keypair *kp, uint64_t now_ns, uint32_t n, uint64_t *first);
/* Receiving is allowed until REJECT_AFTER_TIME. */
bool wg_keypair_can_receive(const struct wg_keypair *kp, uint64_t now_ns);
/* Sending on kp calls for a new handshake: REKEY_AFTER_MESSAGES, or initiator and REKEY_AFTER_TIME.
 */
bool wg_keypair_needs_rekey_on_send(struct wg_keypair *kp, uint64_t now_ns);
/* Receiving on kp calls for a new handshake: initiator and REJECT - KEEPALIVE - REKEY_TIMEOUT old.
 */
bool wg_keypair_needs_rekey_on_receive(const struct wg_keypair *kp, uint64_t now_ns);

#endif
