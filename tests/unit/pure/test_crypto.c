/* SPDX-License-Identifier: ISC */
/*
 * Known answers for the primitives. The BLAKE2s, HMAC and KDF vectors were
 * computed independently with Python's hashlib.blake2s and hmac modules, e.g.
 * hmac.new(key, msg, hashlib.blake2s).digest().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "wgproto/crypto.h"

static void hex2bin(uint8_t *out, size_t outlen, const char *hex)
{
	size_t bin_len = 0;

	assert_int_equal(strlen(hex), 2 * outlen);
	assert_int_equal(sodium_hex2bin(out, outlen, hex, strlen(hex), NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, outlen);
}

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[64];

	assert_true(len <= sizeof(want));
	hex2bin(want, len, hex);
	assert_memory_equal(got, want, len);
}

static void test_blake2s_known_answers(void **state)
{
	uint8_t out[WG_HASH_LEN];
	(void)state;

	wg_hash(out, (const uint8_t *)"abc", 3, NULL, 0);
	assert_hex(out, sizeof(out),
		   "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* Split input hashes as the concatenation. */
	wg_hash(out, (const uint8_t *)"a", 1, (const uint8_t *)"bc", 2);
	assert_hex(out, sizeof(out),
		   "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	wg_hash(out, (const uint8_t *)"", 0, NULL, 0);
	assert_hex(out, sizeof(out),
		   "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	/* The initial chaining key of WireGuard. */
	wg_hash(out, (const uint8_t *)WG_CONSTRUCTION, strlen(WG_CONSTRUCTION), NULL, 0);
	assert_hex(out, sizeof(out),
		   "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
}

static void test_keyed_blake2s_128(void **state)
{
	uint8_t key[32], out[WG_MAC_LEN];
	(void)state;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	wg_mac(out, key, 32, (const uint8_t *)"hello mac", 9);
	assert_hex(out, sizeof(out), "e310a940510e7b95c7ecdc6d65339421");
	wg_mac(out, key, 16, (const uint8_t *)"", 0);
	assert_hex(out, sizeof(out), "af4e5d3bb230e9ff9096ca6f7c501f76");
}

static void test_hmac_blake2s(void **state)
{
	uint8_t key[100], out[WG_HASH_LEN];
	const char *msg = "The quick brown fox";
	(void)state;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	wg_hmac(out, key, 32, (const uint8_t *)msg, strlen(msg));
	assert_hex(out, sizeof(out),
		   "22bcaf49c813868721c17ffc23f598e97283f564a578996cb149fad35ed8d00c");
	/* A key longer than the 64-byte block is hashed first. */
	wg_hmac(out, key, 100, (const uint8_t *)"x", 1);
	assert_hex(out, sizeof(out),
		   "7c5a4a1c1150b1eadcba56974986fd860c4aca9cd69fa0c65c9f67dadad9883a");
}

static void test_kdf(void **state)
{
	uint8_t ck[WG_HASH_LEN], in[32], t1[WG_HASH_LEN], t2[WG_HASH_LEN], t3[WG_HASH_LEN];
	uint8_t only[WG_HASH_LEN];
	(void)state;

	wg_hash(ck, (const uint8_t *)WG_CONSTRUCTION, strlen(WG_CONSTRUCTION), NULL, 0);
	memset(in, 0x42, sizeof(in));
	wg_kdf(t1, t2, t3, ck, in, sizeof(in));
	assert_hex(t1, 32, "7c2e52a7caca44d65a8e13a5eedc5a1c053d4923396dde6808ca7381c9fa31d1");
	assert_hex(t2, 32, "32016483cdab35bc3625293aaf8a06aeff1505e5ad3f7bce2858ba7c24fbc9c3");
	assert_hex(t3, 32, "8ad1f3ddf2249e1bf68b8b5d329d6c5751696093facfa5a2f8993152009a41c8");

	/* Partial outputs agree with the full derivation. */
	wg_kdf(NULL, NULL, only, ck, in, sizeof(in));
	assert_memory_equal(only, t3, 32);
	wg_kdf(NULL, only, NULL, ck, in, sizeof(in));
	assert_memory_equal(only, t2, 32);
	wg_kdf(only, NULL, NULL, ck, in, sizeof(in));
	assert_memory_equal(only, t1, 32);

	/* Empty input, as in the transport key derivation; output may alias the key. */
	memcpy(only, ck, sizeof(ck));
	wg_kdf(t1, t2, t3, ck, NULL, 0);
	assert_hex(t1, 32, "bd968725a9177942a8c2e4253d1dde31cf7b19ec001b4a3a3d141cd9d998d3ba");
	assert_hex(t2, 32, "aab5462b323780fa615bf80ffe469510239ff361575a663968e686a7ae41d693");
	assert_hex(t3, 32, "ae1e06e0931da10b9971bab8e282b42307522b38c0f4492cdd1bf44298126887");
	wg_kdf(only, NULL, NULL, only, NULL, 0);
	assert_memory_equal(only, t1, 32);
}

static void test_dh(void **state)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN], pa[WG_KEY_LEN], pb[WG_KEY_LEN];
	uint8_t s1[WG_KEY_LEN], s2[WG_KEY_LEN], low[WG_KEY_LEN];
	(void)state;

	wg_generate_private_key(a);
	wg_generate_private_key(b);
	/* Clamped as `wg genkey` does. */
	assert_int_equal(a[0] & 7, 0);
	assert_int_equal(a[31] & 0xc0, 0x40);
	wg_public_key(pa, a);
	wg_public_key(pb, b);
	assert_true(wg_dh(s1, a, pb));
	assert_true(wg_dh(s2, b, pa));
	assert_memory_equal(s1, s2, WG_KEY_LEN);
	assert_false(wg_key_is_zero(s1));

	/* Low-order points give an all-zero secret: rejected and zeroed. */
	memset(low, 0, sizeof(low));
	memset(s1, 0xaa, sizeof(s1));
	assert_false(wg_dh(s1, a, low));
	assert_true(wg_key_is_zero(s1));
	low[0] = 1;
	assert_false(wg_dh(s1, a, low));
	/* A point of order 8. */
	hex2bin(low, sizeof(low),
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
	assert_false(wg_dh(s1, a, low));
}

static void test_public_key_known_answer(void **state)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	(void)state;

	/* RFC 7748 section 6.1, Alice. */
	hex2bin(priv, sizeof(priv),
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	wg_public_key(pub, priv);
	assert_hex(pub, sizeof(pub),
		   "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
}

static void test_aead_round_trip_and_tamper(void **state)
{
	uint8_t key[WG_KEY_LEN], msg[100], ct[100 + WG_AEAD_TAG_LEN], pt[100];
	const uint8_t ad[] = "additional";
	(void)state;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(msg, sizeof(msg));
	wg_aead_encrypt(ct, msg, sizeof(msg), ad, sizeof(ad), 7, key);
	assert_true(wg_aead_decrypt(pt, ct, sizeof(ct), ad, sizeof(ad), 7, key));
	assert_memory_equal(pt, msg, sizeof(msg));

	/* Wrong counter, wrong AD, flipped bit in body or tag, short input. */
	assert_false(wg_aead_decrypt(pt, ct, sizeof(ct), ad, sizeof(ad), 8, key));
	assert_false(wg_aead_decrypt(pt, ct, sizeof(ct), ad, sizeof(ad) - 1, 7, key));
	ct[3] ^= 1;
	assert_false(wg_aead_decrypt(pt, ct, sizeof(ct), ad, sizeof(ad), 7, key));
	ct[3] ^= 1;
	ct[sizeof(ct) - 1] ^= 0x80;
	assert_false(wg_aead_decrypt(pt, ct, sizeof(ct), ad, sizeof(ad), 7, key));
	ct[sizeof(ct) - 1] ^= 0x80;
	assert_false(wg_aead_decrypt(pt, ct, WG_AEAD_TAG_LEN - 1, ad, sizeof(ad), 7, key));

	/* In place. */
	memcpy(ct, msg, sizeof(msg));
	wg_aead_encrypt(ct, ct, sizeof(msg), NULL, 0, 0, key);
	assert_true(wg_aead_decrypt(ct, ct, sizeof(ct), NULL, 0, 0, key));
	assert_memory_equal(ct, msg, sizeof(msg));

	/* Empty plaintext: only the tag. */
	wg_aead_encrypt(ct, NULL, 0, ad, sizeof(ad), 0, key);
	assert_true(wg_aead_decrypt(pt, ct, WG_AEAD_TAG_LEN, ad, sizeof(ad), 0, key));
}

static void test_aead_nonce_layout(void **state)
{
	uint8_t key[WG_KEY_LEN], msg[40], ours[40 + WG_AEAD_TAG_LEN], theirs[40 + WG_AEAD_TAG_LEN];
	/* 4 zero bytes, then 0x0102030405060708 little-endian. */
	const uint8_t nonce[12] = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	unsigned long long clen = 0;
	(void)state;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(msg, sizeof(msg));
	wg_aead_encrypt(ours, msg, sizeof(msg), (const uint8_t *)"ad", 2, 0x0102030405060708ULL,
			key);
	crypto_aead_chacha20poly1305_ietf_encrypt(theirs, &clen, msg, sizeof(msg),
						  (const uint8_t *)"ad", 2, NULL, nonce, key);
	assert_int_equal(clen, sizeof(theirs));
	assert_memory_equal(ours, theirs, sizeof(ours));
}

static void test_xaead(void **state)
{
	uint8_t key[WG_KEY_LEN], nonce[WG_XNONCE_LEN], msg[16], ct[16 + WG_AEAD_TAG_LEN], pt[16],
	    theirs[16 + WG_AEAD_TAG_LEN];
	(void)state;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(msg, sizeof(msg));
	wg_xaead_encrypt(ct, msg, sizeof(msg), (const uint8_t *)"m", 1, nonce, key);
	crypto_aead_xchacha20poly1305_ietf_encrypt(theirs, NULL, msg, sizeof(msg),
						   (const uint8_t *)"m", 1, NULL, nonce, key);
	assert_memory_equal(ct, theirs, sizeof(ct));
	assert_true(wg_xaead_decrypt(pt, ct, sizeof(ct), (const uint8_t *)"m", 1, nonce, key));
	assert_memory_equal(pt, msg, sizeof(msg));
	assert_false(wg_xaead_decrypt(pt, ct, sizeof(ct), (const uint8_t *)"n", 1, nonce, key));
	nonce[0] ^= 1;
	assert_false(wg_xaead_decrypt(pt, ct, sizeof(ct), (const uint8_t *)"m", 1, nonce, key));
}

static void test_tai64n(void **state)
{
	uint8_t t[WG_TAI64N_LEN], later[WG_TAI64N_LEN];
	(void)state;

	/* 2^62 + 10 (TAI-UTC in 1970) + 1, then 2 ns, both big-endian. */
	wg_tai64n(t, NSEC_PER_SEC + 2);
	assert_hex(t, sizeof(t), "400000000000000b00000002");
	/* 1700000000.123456789; vector from Python struct.pack(">QI", ...) */
	wg_tai64n(t, 1700000000ULL * NSEC_PER_SEC + 123456789);
	assert_hex(t, sizeof(t), "400000006553f10a075bcd15");
	/* Byte-wise order follows time order, which the replay check relies on. */
	wg_tai64n(later, 1700000000ULL * NSEC_PER_SEC + 123456790);
	assert_true(memcmp(later, t, sizeof(t)) > 0);
	wg_tai64n(later, 1700000001ULL * NSEC_PER_SEC);
	assert_true(memcmp(later, t, sizeof(t)) > 0);
}

static void test_key_is_zero(void **state)
{
	uint8_t k[WG_KEY_LEN] = {0};
	(void)state;

	assert_true(wg_key_is_zero(k));
	k[31] = 1;
	assert_false(wg_key_is_zero(k));
	k[31] = 0;
	k[0] = 0x80;
	assert_false(wg_key_is_zero(k));
}

/* The zero key, points of small order, and an ordinary key. */
static void test_key_is_low_order(void **state)
{
	uint8_t k[WG_KEY_LEN] = {0}, priv[WG_KEY_LEN], pub[WG_KEY_LEN];

	(void)state;
	assert_true(wg_key_is_low_order(k));
	k[0] = 1; /* u = 1: order 4 */
	assert_true(wg_key_is_low_order(k));
	/* A point of order 8 (X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc= in base64). */
	static const uint8_t order8[WG_KEY_LEN] = {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24,
						   0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
						   0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86,
						   0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57};
	assert_true(wg_key_is_low_order(order8));
	wg_generate_private_key(priv);
	wg_public_key(pub, priv);
	assert_false(wg_key_is_low_order(pub));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blake2s_known_answers),
	    cmocka_unit_test(test_keyed_blake2s_128),
	    cmocka_unit_test(test_hmac_blake2s),
	    cmocka_unit_test(test_kdf),
	    cmocka_unit_test(test_dh),
	    cmocka_unit_test(test_public_key_known_answer),
	    cmocka_unit_test(test_aead_round_trip_and_tamper),
	    cmocka_unit_test(test_aead_nonce_layout),
	    cmocka_unit_test(test_xaead),
	    cmocka_unit_test(test_tai64n),
	    cmocka_unit_test(test_key_is_zero),
	    cmocka_unit_test(test_key_is_low_order),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
