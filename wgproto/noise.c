/* SPDX-License-Identifier: ISC */
/*
 * Noise_IKpsk2 as the WireGuard paper (5.4.2-5.4.5) spells it out. Each
 * consume_* works on local copies of the hash and chaining key and writes
 * them back only once every check passed, so a forged or replayed message
 * never disturbs a handshake in progress.
 */
#include "noise.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"

/*
 * Nanoseconds are rounded down to this power of two (just under the
 * flood-limit interval) so timestamps do not leak a precise clock, as the
 * other implementations do.
 */
#define TIMESTAMP_WHITENER (1ULL << 24)

/* ck = HASH(CONSTRUCTION), h = HASH(HASH(ck || IDENTIFIER) || responder static). */
static void handshake_start(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
			    const uint8_t responder_static[WG_KEY_LEN])
{
	wg_hash(ck, (const uint8_t *)WG_CONSTRUCTION, sizeof(WG_CONSTRUCTION) - 1, NULL, 0);
	wg_hash(h, ck, WG_HASH_LEN, (const uint8_t *)WG_IDENTIFIER, sizeof(WG_IDENTIFIER) - 1);
	wg_hash(h, h, WG_HASH_LEN, responder_static, WG_KEY_LEN);
}

static void mix_hash(uint8_t h[WG_HASH_LEN], const uint8_t *in, size_t len)
{
	wg_hash(h, h, WG_HASH_LEN, in, len);
}

/* ck = KDF1(ck, e); h = HASH(h || e). */
static void mix_ephemeral(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
			  const uint8_t e[WG_KEY_LEN])
{
	wg_kdf(ck, NULL, NULL, ck, e, WG_KEY_LEN);
	mix_hash(h, e, WG_KEY_LEN);
}

/* (ck, key) = KDF2(ck, DH(priv, pub)); key may be NULL for KDF1. */
static bool mix_dh(uint8_t ck[WG_HASH_LEN], uint8_t *key, const uint8_t priv[WG_KEY_LEN],
		   const uint8_t pub[WG_KEY_LEN])
{
	uint8_t shared[WG_KEY_LEN];

	if (!wg_dh(shared, priv, pub))
		return false;
	wg_kdf(ck, key, NULL, ck, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return true;
}

static bool mix_precomputed_dh(uint8_t ck[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
			       const uint8_t precomputed[WG_KEY_LEN])
{
	if (wg_key_is_zero(precomputed))
		return false;
	wg_kdf(ck, key, NULL, ck, precomputed, WG_KEY_LEN);
	return true;
}

/* (ck, tau, key) = KDF3(ck, psk); h = HASH(h || tau). */
static void mix_psk(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
		    const uint8_t psk[WG_KEY_LEN])
{
	uint8_t tau[WG_HASH_LEN];

	wg_kdf(ck, tau, key, ck, psk, WG_KEY_LEN);
	mix_hash(h, tau, sizeof(tau));
	sodium_memzero(tau, sizeof(tau));
}

/* out = AEAD(key, 0, in, h); h = HASH(h || out). */
static void seal(uint8_t *out, const uint8_t *in, size_t len, uint8_t key[WG_KEY_LEN],
		 uint8_t h[WG_HASH_LEN])
{
	wg_aead_encrypt(out, in, len, h, WG_HASH_LEN, 0, key);
	mix_hash(h, out, len + WG_AEAD_TAG_LEN);
}

/* out = AEAD-Open(key, 0, in, h); h = HASH(h || in). */
static bool open_sealed(uint8_t *out, const uint8_t *in, size_t len, uint8_t key[WG_KEY_LEN],
			uint8_t h[WG_HASH_LEN])
{
	if (!wg_aead_decrypt(out, in, len, h, WG_HASH_LEN, 0, key))
		return false;
	mix_hash(h, in, len);
	return true;
}

static void tai64n_whitened(uint8_t out[WG_TAI64N_LEN], uint64_t wall_ns)
{
	uint64_t ns = wall_ns % NSEC_PER_SEC;

	wg_tai64n(out, wall_ns - ns + (ns & ~(TIMESTAMP_WHITENER - 1)));
}

bool wg_identity_set(struct wg_identity *id, const uint8_t private_key[WG_KEY_LEN])
{
	if (wg_key_is_zero(private_key)) {
		wg_identity_clear(id);
		return false;
	}
	memcpy(id->private_key, private_key, WG_KEY_LEN);
	/* Clamp as X25519 would, so the stored key is the one `wg` shows. */
	id->private_key[0] &= 248;
	id->private_key[31] = (id->private_key[31] & 127) | 64;
	wg_public_key(id->public_key, id->private_key);
	id->has_identity = true;
	return true;
}

void wg_identity_clear(struct wg_identity *id)
{
	sodium_memzero(id, sizeof(*id));
}

void wg_handshake_rekey_identity(struct wg_handshake *hs, const struct wg_identity *id)
{
	/* A failed DH (low-order peer key) leaves zeros, which every handshake refuses. */
	if (!id || !id->has_identity ||
	    !wg_dh(hs->precomputed_static_static, id->private_key, hs->remote_static))
		sodium_memzero(hs->precomputed_static_static, WG_KEY_LEN);
}

void wg_handshake_init(struct wg_handshake *hs, const struct wg_identity *id,
		       const uint8_t remote_static[WG_KEY_LEN], const uint8_t *psk)
{
	void *peer = hs->peer;

	sodium_memzero(hs, sizeof(*hs));
	hs->peer = peer;
	hs->state = WG_HS_ZEROED;
	memcpy(hs->remote_static, remote_static, WG_KEY_LEN);
	if (psk)
		memcpy(hs->preshared_key, psk, WG_KEY_LEN);
	wg_handshake_rekey_identity(hs, id);
}

void wg_handshake_clear(struct wg_handshake *hs)
{
	/* local_index stays so the caller can still unregister it. */
	sodium_memzero(hs->hash, sizeof(hs->hash));
	sodium_memzero(hs->chaining_key, sizeof(hs->chaining_key));
	sodium_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	sodium_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->remote_index = 0;
	hs->state = WG_HS_ZEROED;
}

bool wg_noise_create_initiation(struct wg_msg_initiation *msg, struct wg_handshake *hs,
				const struct wg_identity *id, uint32_t local_index,
				uint64_t wall_ns)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN], eph[WG_KEY_LEN];
	uint8_t timestamp[WG_TAI64N_LEN];
	bool ok = false;

	if (!id->has_identity || wg_key_is_zero(hs->precomputed_static_static))
		return false;
	memset(msg, 0, sizeof(*msg));
	msg->type = WG_MSG_INITIATION;
	wg_put_le32(msg->sender, local_index);

	handshake_start(ck, h, hs->remote_static);

	wg_generate_private_key(eph);
	wg_public_key(msg->ephemeral, eph);
	mix_ephemeral(ck, h, msg->ephemeral);

	if (!mix_dh(ck, key, eph, hs->remote_static))
		goto out;
	seal(msg->encrypted_static, id->public_key, WG_KEY_LEN, key, h);

	if (!mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	tai64n_whitened(timestamp, wall_ns);
	seal(msg->encrypted_timestamp, timestamp, sizeof(timestamp), key, h);

	memcpy(hs->hash, h, sizeof(h));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->ephemeral_private, eph, sizeof(eph));
	sodium_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->local_index = local_index;
	hs->remote_index = 0;
	hs->state = WG_HS_CREATED_INITIATION;
	ok = true;
out:
	if (!ok)
		memset(msg, 0, sizeof(*msg));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(eph, sizeof(eph));
	return ok;
}

static bool initiation_is_flood(const struct wg_handshake *hs, uint64_t now_ns)
{
	/* 0 means no initiation was ever consumed. */
	return hs->last_initiation_consumption &&
	       now_ns - hs->last_initiation_consumption < WG_MIN_INITIATION_INTERVAL;
}

struct wg_handshake *wg_noise_consume_initiation(const struct wg_msg_initiation *msg,
						 const struct wg_identity *id, uint64_t now_ns,
						 wg_lookup_static_fn lookup, void *ctx)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN];
	uint8_t s[WG_KEY_LEN], timestamp[WG_TAI64N_LEN];
	struct wg_handshake *hs = NULL, *ret = NULL;

	if (!id->has_identity || msg->type != WG_MSG_INITIATION)
		return NULL;

	handshake_start(ck, h, id->public_key);
	mix_ephemeral(ck, h, msg->ephemeral);

	if (!mix_dh(ck, key, id->private_key, msg->ephemeral))
		goto out;
	if (!open_sealed(s, msg->encrypted_static, sizeof(msg->encrypted_static), key, h))
		goto out;

	hs = lookup(ctx, s);
	if (!hs)
		goto out;

	if (!mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	if (!open_sealed(timestamp, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp), key,
			 h))
		goto out;

	/* Replayed or older initiations, and floods, are dropped after authentication. */
	if (memcmp(timestamp, hs->latest_timestamp, WG_TAI64N_LEN) <= 0)
		goto out;
	if (initiation_is_flood(hs, now_ns))
		goto out;

	memcpy(hs->remote_ephemeral, msg->ephemeral, WG_KEY_LEN);
	memcpy(hs->latest_timestamp, timestamp, WG_TAI64N_LEN);
	memcpy(hs->hash, h, sizeof(h));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	sodium_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	hs->remote_index = wg_le32(msg->sender);
	hs->last_initiation_consumption = now_ns;
	hs->state = WG_HS_CONSUMED_INITIATION;
	ret = hs;
out:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(s, sizeof(s));
	sodium_memzero(timestamp, sizeof(timestamp));
	return ret;
}

bool wg_noise_create_response(struct wg_msg_response *msg, struct wg_handshake *hs,
			      const struct wg_identity *id, uint32_t local_index)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN], eph[WG_KEY_LEN];
	bool ok = false;

	if (!id->has_identity || hs->state != WG_HS_CONSUMED_INITIATION)
		return false;
	memset(msg, 0, sizeof(*msg));
	msg->type = WG_MSG_RESPONSE;
	wg_put_le32(msg->sender, local_index);
	wg_put_le32(msg->receiver, hs->remote_index);

	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));

	wg_generate_private_key(eph);
	wg_public_key(msg->ephemeral, eph);
	mix_ephemeral(ck, h, msg->ephemeral);

	if (!mix_dh(ck, NULL, eph, hs->remote_ephemeral))
		goto out;
	if (!mix_dh(ck, NULL, eph, hs->remote_static))
		goto out;
	mix_psk(ck, h, key, hs->preshared_key);
	seal(msg->encrypted_nothing, NULL, 0, key, h);

	memcpy(hs->hash, h, sizeof(h));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->ephemeral_private, eph, sizeof(eph));
	hs->local_index = local_index;
	hs->state = WG_HS_CREATED_RESPONSE;
	ok = true;
out:
	if (!ok)
		memset(msg, 0, sizeof(*msg));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(eph, sizeof(eph));
	return ok;
}

struct wg_handshake *wg_noise_consume_response(const struct wg_msg_response *msg,
					       const struct wg_identity *id,
					       wg_lookup_index_fn lookup, void *ctx)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN];
	struct wg_handshake *hs, *ret = NULL;

	if (!id->has_identity || msg->type != WG_MSG_RESPONSE)
		return NULL;
	hs = lookup(ctx, wg_le32(msg->receiver));
	if (!hs || hs->state != WG_HS_CREATED_INITIATION)
		return NULL;

	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));

	mix_ephemeral(ck, h, msg->ephemeral);
	if (!mix_dh(ck, NULL, hs->ephemeral_private, msg->ephemeral))
		goto out;
	if (!mix_dh(ck, NULL, id->private_key, msg->ephemeral))
		goto out;
	mix_psk(ck, h, key, hs->preshared_key);
	if (!open_sealed(NULL, msg->encrypted_nothing, sizeof(msg->encrypted_nothing), key, h))
		goto out;

	memcpy(hs->remote_ephemeral, msg->ephemeral, WG_KEY_LEN);
	memcpy(hs->hash, h, sizeof(h));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	hs->remote_index = wg_le32(msg->sender);
	hs->state = WG_HS_CONSUMED_RESPONSE;
	ret = hs;
out:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	return ret;
}

struct wg_keypair *wg_noise_derive_keypair(struct wg_handshake *hs, uint64_t now_ns)
{
	struct wg_keypair *kp;
	bool initiator;

	if (hs->state != WG_HS_CREATED_RESPONSE && hs->state != WG_HS_CONSUMED_RESPONSE)
		return NULL;
	initiator = hs->state == WG_HS_CONSUMED_RESPONSE;
	kp = wg_keypair_new();
	if (!kp)
		return NULL;

	/* (T_send, T_recv) = KDF2(ck, empty) for the initiator, swapped for the responder. */
	if (initiator)
		wg_kdf(kp->send_key, kp->recv_key, NULL, hs->chaining_key, NULL, 0);
	else
		wg_kdf(kp->recv_key, kp->send_key, NULL, hs->chaining_key, NULL, 0);
	kp->birth_ns = now_ns;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->initiator = initiator;
	kp->peer = hs->peer;

	wg_handshake_clear(hs);
	return kp;
}
