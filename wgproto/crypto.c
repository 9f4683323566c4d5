/* SPDX-License-Identifier: ISC */
/*
 * The primitives of the handshake. BLAKE2s comes from libb2 because libsodium
 * only has BLAKE2b; the rest is libsodium. Every function wipes the secrets
 * it put on the stack before returning.
 */
#include "crypto.h"

#include <blake2.h>
#include <sodium.h>
#include <string.h>

#define BLAKE2S_BLOCK_LEN 64

void wg_hash(uint8_t out[WG_HASH_LEN], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	blake2s_state st;

	blake2s_init(&st, WG_HASH_LEN);
	blake2s_update(&st, a, alen);
	if (blen)
		blake2s_update(&st, b, blen);
	blake2s_final(&st, out, WG_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen, const uint8_t *in,
	    size_t len)
{
	blake2s_state st;

	blake2s_init_key(&st, WG_MAC_LEN, key, keylen);
	blake2s_update(&st, in, len);
	blake2s_final(&st, out, WG_MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *in,
	     size_t len)
{
	uint8_t block[BLAKE2S_BLOCK_LEN] = {0};
	uint8_t inner[WG_HASH_LEN];
	blake2s_state st;

	/* RFC 2104: keys longer than a block are hashed first. */
	if (keylen > BLAKE2S_BLOCK_LEN)
		wg_hash(block, key, keylen, NULL, 0);
	else if (keylen)
		memcpy(block, key, keylen);

	for (size_t i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36;
	blake2s_init(&st, WG_HASH_LEN);
	blake2s_update(&st, block, sizeof(block));
	blake2s_update(&st, in, len);
	blake2s_final(&st, inner, sizeof(inner));

	/* 0x36 ^ 0x5c turns the inner pad into the outer one. */
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&st, WG_HASH_LEN);
	blake2s_update(&st, block, sizeof(block));
	blake2s_update(&st, inner, sizeof(inner));
	blake2s_final(&st, out, WG_HASH_LEN);

	sodium_memzero(block, sizeof(block));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

void wg_kdf(uint8_t t1[WG_HASH_LEN], uint8_t t2[WG_HASH_LEN], uint8_t t3[WG_HASH_LEN],
	    const uint8_t key[WG_HASH_LEN], const uint8_t *in, size_t len)
{
	uint8_t t0[WG_HASH_LEN];
	uint8_t out[WG_HASH_LEN + 1];

	wg_hmac(t0, key, WG_HASH_LEN, in, len);

	out[0] = 1;
	wg_hmac(out, t0, sizeof(t0), out, 1);
	if (t1)
		memcpy(t1, out, WG_HASH_LEN);
	if (!t2 && !t3)
		goto out;

	out[WG_HASH_LEN] = 2;
	wg_hmac(out, t0, sizeof(t0), out, sizeof(out));
	if (t2)
		memcpy(t2, out, WG_HASH_LEN);
	if (!t3)
		goto out;

	out[WG_HASH_LEN] = 3;
	wg_hmac(out, t0, sizeof(t0), out, sizeof(out));
	memcpy(t3, out, WG_HASH_LEN);
out:
	sodium_memzero(t0, sizeof(t0));
	sodium_memzero(out, sizeof(out));
}

bool wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN],
	   const uint8_t public_key[WG_KEY_LEN])
{
	/* libsodium already fails on an all-zero result; the check is belt and braces. */
	if (crypto_scalarmult(out, private_key, public_key) != 0 || wg_key_is_zero(out)) {
		sodium_memzero(out, WG_KEY_LEN);
		return false;
	}
	return true;
}

bool wg_key_is_low_order(const uint8_t public_key[WG_KEY_LEN])
{
	/* Any fixed scalar will do: a clamped one sends every low-order point to zero. */
	uint8_t probe[WG_KEY_LEN], shared[WG_KEY_LEN];

	memset(probe, 0x55, sizeof(probe));
	bool bad = !wg_dh(shared, probe, public_key);
	sodium_memzero(shared, sizeof(shared));
	return bad;
}

void wg_generate_private_key(uint8_t out[WG_KEY_LEN])
{
	randombytes_buf(out, WG_KEY_LEN);
	out[0] &= 248;
	out[31] = (out[31] & 127) | 64;
}

void wg_public_key(uint8_t out[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN])
{
	crypto_scalarmult_base(out, private_key);
}

bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	return sodium_is_zero(key, WG_KEY_LEN) == 1;
}

static void aead_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

void wg_aead_encrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		     uint64_t counter, const uint8_t key[WG_KEY_LEN])
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	aead_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, adlen, NULL, nonce, key);
}

bool wg_aead_decrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		     uint64_t counter, const uint8_t key[WG_KEY_LEN])
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	if (len < WG_AEAD_TAG_LEN)
		return false;
	aead_nonce(nonce, counter);
	return crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, ad, adlen, nonce,
							 key) == 0;
}

void wg_xaead_encrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN], const uint8_t key[WG_KEY_LEN])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, adlen, NULL, nonce, key);
}

bool wg_xaead_decrypt(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN], const uint8_t key[WG_KEY_LEN])
{
	if (len < WG_AEAD_TAG_LEN)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, ad, adlen,
							  nonce, key) == 0;
}

void wg_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t unix_ns)
{
	/*
	 * TAI64 labels count from 2^62. Like the Linux module and wireguard-go we
	 * add the 10 s TAI-UTC offset of 1970, so a key moved between
	 * implementations keeps producing increasing timestamps.
	 */
	uint64_t secs = (1ULL << 62) + 10 + unix_ns / NSEC_PER_SEC;
	uint32_t nanos = (uint32_t)(unix_ns % NSEC_PER_SEC);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(secs >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nanos >> (24 - 8 * i));
}

bool wg_crypto_init(void)
{
	return sodium_init() >= 0;
}
