/* SPDX-License-Identifier: ISC */
/*
 * The Noise_IKpsk2 handshake of WireGuard (paper 5.4.2-5.4.5): creating and
 * consuming initiations and responses, and deriving transport keypairs.
 * Only the control thread runs handshakes, so this state has no lock. mac1
 * and mac2 are the cookie module's business: create_* leave them zero and
 * consume_* expect the caller to have checked mac1 already.
 */
#ifndef ALAMESH_NOISE_H
#define ALAMESH_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "constants.h"
#include "keypair.h"
#include "messages.h"

struct wg_identity {
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
	bool has_identity;
};

enum wg_handshake_state {
	WG_HS_ZEROED,
	WG_HS_CREATED_INITIATION,
	WG_HS_CONSUMED_INITIATION,
	WG_HS_CREATED_RESPONSE,
	WG_HS_CONSUMED_RESPONSE,
};

struct wg_handshake {
	enum wg_handshake_state state;
	uint8_t remote_static[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	uint8_t precomputed_static_static[WG_KEY_LEN]; /* DH(our static, their static) */
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
	uint8_t ephemeral_private[WG_KEY_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint32_t local_index;
	uint32_t remote_index;
	uint8_t latest_timestamp[WG_TAI64N_LEN]; /* greatest TAI64N accepted from the peer */
	uint64_t last_initiation_consumption;	 /* monotonic ns, flood limit */
	void *peer;				 /* owner, opaque to wgproto */
};

/* Finds the handshake of the peer with this static public key, or NULL. */
typedef struct wg_handshake *(*wg_lookup_static_fn)(void *ctx,
						    const uint8_t public_key[WG_KEY_LEN]);
/* Finds the handshake that registered local index idx, or NULL. */
typedef struct wg_handshake *(*wg_lookup_index_fn)(void *ctx, uint32_t idx);

bool wg_identity_set(struct wg_identity *id, const uint8_t private_key[WG_KEY_LEN]);
void wg_identity_clear(struct wg_identity *id);

/* Sets up a peer's handshake; psk may be NULL (all zero). */
void wg_handshake_init(struct wg_handshake *hs, const struct wg_identity *id,
		       const uint8_t remote_static[WG_KEY_LEN], const uint8_t *psk);
/* Recomputes the static-static DH after the local private key changed. */
void wg_handshake_rekey_identity(struct wg_handshake *hs, const struct wg_identity *id);
/* Forgets the in-progress handshake (keeps static keys and latest timestamp). */
void wg_handshake_clear(struct wg_handshake *hs);

/* Initiator: fills msg (mac1/mac2 zero) with a TAI64N of wall_ns. */
bool wg_noise_create_initiation(struct wg_msg_initiation *msg, struct wg_handshake *hs,
				const struct wg_identity *id, uint32_t local_index,
				uint64_t wall_ns);
/*
 * Responder: decrypts the initiator's static key, finds its handshake through
 * lookup, checks the timestamp is newer than the last accepted and that
 * initiations do not come faster than WG_MIN_INITIATION_INTERVAL, and moves
 * it to CONSUMED_INITIATION. Returns NULL when anything fails.
 */
struct wg_handshake *wg_noise_consume_initiation(const struct wg_msg_initiation *msg,
						 const struct wg_identity *id, uint64_t now_ns,
						 wg_lookup_static_fn lookup, void *ctx);
/* Responder: fills msg (mac1/mac2 zero). */
bool wg_noise_create_response(struct wg_msg_response *msg, struct wg_handshake *hs,
			      const struct wg_identity *id, uint32_t local_index);
/* Initiator: finds its handshake by receiver index and completes it. */
struct wg_handshake *wg_noise_consume_response(const struct wg_msg_response *msg,
					       const struct wg_identity *id,
					       wg_lookup_index_fn lookup, void *ctx);
/*
 * After CREATED_RESPONSE or CONSUMED_RESPONSE: derives the transport keys
 * into a new keypair (one reference, indices and role set), wipes the
 * handshake's ephemeral secrets and returns it; NULL otherwise.
 */
struct wg_keypair *wg_noise_derive_keypair(struct wg_handshake *hs, uint64_t now_ns);

#endif
