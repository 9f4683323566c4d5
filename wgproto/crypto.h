/* SPDX-License-Identifier: ISC */
/*
 * The primitives of Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses
 * them: BLAKE2s from libb2 (libsodium has none), everything else libsodium.
 */
#ifndef ALAMESH_CRYPTO_H
#define ALAMESH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "constants.h"

/* HASH(a || b): BLAKE2s-256; b may be NULL with blen 0. */
void wg_hash(uint8_t out[WG_HASH_LEN], const uint8_t *a, size_t alen, const uint8_t *b,
	     size_t blen);
/* MAC(key, in): keyed BLAKE2s with a 16-byte output (mac1, mac2, cookie). */
void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen, const uint8_t *in,
	    size_t len);
/* HMAC(key, in) with BLAKE2s-256 (RFC 2104, 64-byte block). */
void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *in,
	     size_t len);
/*
 * KDF_n(key, input) of the WireGuard paper: t0 = HMAC(key, input),
 * t1 = HMAC(t0, 0x1), t2 = HMAC(t0, t1 || 0x2), t3 = HMAC(t0, t2 || 0x3).
 * Outputs that are NULL are not computed. Intermediate values are wiped.
 */
void wg_kdf(uint8_t t1[WG_HASH_LEN], uint8_t t2[WG_HASH_LEN], uint8_t t3[WG_HASH_LEN],
	    const uint8_t key[WG_HASH_LEN], const uint8_t *in, size_t len);

/* X25519. Returns false when the shared secret is all zero (low-order point). */
bool wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN],
	   const uint8_t public_key[WG_KEY_LEN]);
/*
 * True for the zero key and every other low-order point: a public key that
 * can never complete a handshake. Needs no private key of ours.
 */
bool wg_key_is_low_order(const uint8_t public_key[WG_KEY_LEN]);
/* A clamped random private key, as `wg genkey` makes. */
void wg_generate_private_key(uint8_t out[WG_KEY_LEN]);
void wg_public_key(uint8_t out[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN]);
/* True if the key is all zero, compared in constant time. */
bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN]);

/*
 * ChaCha20-Poly1305 (IETF) with WireGuard's nonce: 32 zero bits then the
 * little-endian 64-bit counter. out gets len + WG_AEAD_TAG_LEN bytes.
 * out and in may be the same buffer.
 */
void wg_aead_encrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		     uint64_t counter, const uint8_t key[WG_KEY_LEN]);
/* in holds len bytes including the tag; out gets len - WG_AEAD_TAG_LEN. */
bool wg_aead_decrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		     uint64_t counter, const uint8_t key[WG_KEY_LEN]);
/* XChaCha20-Poly1305, for cookie replies. */
void wg_xaead_encrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN], const uint8_t key[WG_KEY_LEN]);
bool wg_xaead_decrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN], const uint8_t key[WG_KEY_LEN]);

/* TAI64N label of a wall-clock time given in nanoseconds since the Unix epoch. */
void wg_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t unix_ns);

/* Must be called once before anything else (sodium_init). Returns false on failure. */
bool wg_crypto_init(void);

#endif
