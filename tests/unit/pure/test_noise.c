/* SPDX-License-Identifier: ISC */
/* The Noise_IKpsk2 handshake between two in-memory peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "wgproto/crypto.h"
#include "wgproto/keypair.h"
#include "wgproto/noise.h"

#define WALL0 (1700000000ULL * NSEC_PER_SEC)
#define MONO0 (1000ULL * NSEC_PER_SEC)

/* One side of the conversation: its identity and its handshake with the other. */
struct side {
	struct wg_identity id;
	struct wg_handshake hs;
};

struct pair {
	struct side a; /* initiator */
	struct side b; /* responder */
};

static struct wg_handshake *lookup_static(void *ctx, const uint8_t public_key[WG_KEY_LEN])
{
	struct side *s = ctx;

	if (sodium_memcmp(s->hs.remote_static, public_key, WG_KEY_LEN) != 0)
		return NULL;
	return &s->hs;
}

static struct wg_handshake *lookup_index(void *ctx, uint32_t idx)
{
	struct side *s = ctx;

	return s->hs.local_index == idx ? &s->hs : NULL;
}

static void make_identity(struct wg_identity *id)
{
	uint8_t priv[WG_KEY_LEN];

	wg_generate_private_key(priv);
	assert_true(wg_identity_set(id, priv));
}

static int setup_pair(void **state)
{
	static struct pair p;

	memset(&p, 0, sizeof(p));
	make_identity(&p.a.id);
	make_identity(&p.b.id);
	wg_handshake_init(&p.a.hs, &p.a.id, p.b.id.public_key, NULL);
	wg_handshake_init(&p.b.hs, &p.b.id, p.a.id.public_key, NULL);
	*state = &p;
	return 0;
}

static void set_psks(struct pair *p, const uint8_t *psk_a, const uint8_t *psk_b)
{
	wg_handshake_init(&p->a.hs, &p->a.id, p->b.id.public_key, psk_a);
	wg_handshake_init(&p->b.hs, &p->b.id, p->a.id.public_key, psk_b);
}

/* Runs initiation and response; returns false if the initiator rejects the response. */
static bool run_handshake(struct pair *p, uint64_t wall, uint64_t mono)
{
	struct wg_msg_initiation init;
	struct wg_msg_response resp;

	assert_true(wg_noise_create_initiation(&init, &p->a.hs, &p->a.id, 0x11111111, wall));
	assert_ptr_equal(wg_noise_consume_initiation(&init, &p->b.id, mono, lookup_static, &p->b),
			 &p->b.hs);
	assert_true(wg_noise_create_response(&resp, &p->b.hs, &p->b.id, 0x22222222));
	return wg_noise_consume_response(&resp, &p->a.id, lookup_index, &p->a) == &p->a.hs;
}

static void check_keypairs(struct pair *p)
{
	struct wg_keypair *ka = wg_noise_derive_keypair(&p->a.hs, MONO0);
	struct wg_keypair *kb = wg_noise_derive_keypair(&p->b.hs, MONO0);
	uint8_t msg[20] = "through the tunnel!", ct[sizeof(msg) + WG_AEAD_TAG_LEN];
	uint8_t pt[sizeof(msg)];

	assert_non_null(ka);
	assert_non_null(kb);
	assert_memory_equal(ka->send_key, kb->recv_key, WG_KEY_LEN);
	assert_memory_equal(ka->recv_key, kb->send_key, WG_KEY_LEN);
	assert_memory_not_equal(ka->send_key, ka->recv_key, WG_KEY_LEN);
	assert_true(ka->initiator);
	assert_false(kb->initiator);
	assert_int_equal(ka->local_index, 0x11111111);
	assert_int_equal(ka->remote_index, 0x22222222);
	assert_int_equal(kb->local_index, 0x22222222);
	assert_int_equal(kb->remote_index, 0x11111111);
	assert_int_equal(ka->birth_ns, MONO0);

	wg_aead_encrypt(ct, msg, sizeof(msg), NULL, 0, 0, ka->send_key);
	assert_true(wg_aead_decrypt(pt, ct, sizeof(ct), NULL, 0, 0, kb->recv_key));
	assert_memory_equal(pt, msg, sizeof(msg));

	/* Ephemeral secrets are gone and the handshakes are back to rest. */
	assert_int_equal(p->a.hs.state, WG_HS_ZEROED);
	assert_int_equal(p->b.hs.state, WG_HS_ZEROED);
	assert_true(wg_key_is_zero(p->a.hs.ephemeral_private));
	assert_true(wg_key_is_zero(p->b.hs.ephemeral_private));
	assert_true(wg_key_is_zero(p->a.hs.chaining_key));
	/* A second derivation from the same handshake is refused. */
	assert_null(wg_noise_derive_keypair(&p->a.hs, MONO0));

	wg_keypair_put(ka);
	wg_keypair_put(kb);
}

static void test_handshake_without_psk(void **state)
{
	struct pair *p = *state;

	assert_true(run_handshake(p, WALL0, MONO0));
	assert_int_equal(p->a.hs.state, WG_HS_CONSUMED_RESPONSE);
	assert_int_equal(p->b.hs.state, WG_HS_CREATED_RESPONSE);
	assert_memory_equal(p->a.hs.hash, p->b.hs.hash, WG_HASH_LEN);
	assert_memory_equal(p->a.hs.chaining_key, p->b.hs.chaining_key, WG_HASH_LEN);
	check_keypairs(p);
}

static void test_handshake_with_psk(void **state)
{
	struct pair *p = *state;
	uint8_t psk[WG_KEY_LEN];

	randombytes_buf(psk, sizeof(psk));
	set_psks(p, psk, psk);
	assert_true(run_handshake(p, WALL0, MONO0));
	check_keypairs(p);

	/* A second session later gives fresh keys. */
	assert_true(run_handshake(p, WALL0 + NSEC_PER_SEC, MONO0 + NSEC_PER_SEC));
	check_keypairs(p);
}

static void test_mismatched_psk(void **state)
{
	struct pair *p = *state;
	uint8_t psk_a[WG_KEY_LEN], psk_b[WG_KEY_LEN];

	randombytes_buf(psk_a, sizeof(psk_a));
	memcpy(psk_b, psk_a, sizeof(psk_b));
	psk_b[5] ^= 1;
	set_psks(p, psk_a, psk_b);
	assert_false(run_handshake(p, WALL0, MONO0));
	assert_int_equal(p->a.hs.state, WG_HS_CREATED_INITIATION);
	assert_null(wg_noise_derive_keypair(&p->a.hs, MONO0));

	/* Only one side has a psk. */
	set_psks(p, NULL, psk_b);
	assert_false(run_handshake(p, WALL0, MONO0));
}

static void test_tampered_initiation(void **state)
{
	struct pair *p = *state;
	struct wg_msg_initiation init;
	struct wg_handshake before;
	uint8_t *bytes = (uint8_t *)&init;
	/* The authenticated fields; sender and reserved are mac1's business. */
	const size_t fields[][2] = {
	    {offsetof(struct wg_msg_initiation, type), 1},
	    {offsetof(struct wg_msg_initiation, ephemeral), WG_KEY_LEN},
	    {offsetof(struct wg_msg_initiation, encrypted_static), WG_KEY_LEN + WG_AEAD_TAG_LEN},
	    {offsetof(struct wg_msg_initiation, encrypted_timestamp),
	     WG_TAI64N_LEN + WG_AEAD_TAG_LEN},
	};

	assert_true(wg_noise_create_initiation(&init, &p->a.hs, &p->a.id, 1, WALL0));
	before = p->b.hs;
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		for (size_t i = fields[f][0]; i < fields[f][0] + fields[f][1]; i++) {
			for (int bit = 0; bit < 8; bit += 7) {
				bytes[i] ^= (uint8_t)(1u << bit);
				assert_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0,
									lookup_static, &p->b));
				bytes[i] ^= (uint8_t)(1u << bit);
			}
		}
	}
	/* Nothing of the responder's state moved. */
	assert_memory_equal(&before, &p->b.hs, sizeof(before));
	/* And the untouched message still goes through. */
	assert_non_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
}

static void test_tampered_response(void **state)
{
	struct pair *p = *state;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_handshake before;
	uint8_t *bytes = (uint8_t *)&resp;
	const size_t fields[][2] = {
	    {offsetof(struct wg_msg_response, type), 1},
	    {offsetof(struct wg_msg_response, receiver), 4},
	    {offsetof(struct wg_msg_response, ephemeral), WG_KEY_LEN},
	    {offsetof(struct wg_msg_response, encrypted_nothing), WG_AEAD_TAG_LEN},
	};

	assert_true(wg_noise_create_initiation(&init, &p->a.hs, &p->a.id, 7, WALL0));
	assert_non_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
	assert_true(wg_noise_create_response(&resp, &p->b.hs, &p->b.id, 9));
	assert_int_equal(wg_le32(resp.receiver), 7);
	assert_int_equal(wg_le32(resp.sender), 9);

	before = p->a.hs;
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		for (size_t i = fields[f][0]; i < fields[f][0] + fields[f][1]; i++) {
			bytes[i] ^= 0x40;
			assert_null(
			    wg_noise_consume_response(&resp, &p->a.id, lookup_index, &p->a));
			bytes[i] ^= 0x40;
		}
	}
	assert_memory_equal(&before, &p->a.hs, sizeof(before));
	assert_non_null(wg_noise_consume_response(&resp, &p->a.id, lookup_index, &p->a));
	/* The same response again: the handshake is no longer waiting for one. */
	assert_null(wg_noise_consume_response(&resp, &p->a.id, lookup_index, &p->a));
}

static void test_wrong_receiver_index(void **state)
{
	struct pair *p = *state;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;

	assert_true(wg_noise_create_initiation(&init, &p->a.hs, &p->a.id, 100, WALL0));
	assert_non_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
	assert_true(wg_noise_create_response(&resp, &p->b.hs, &p->b.id, 200));
	wg_put_le32(resp.receiver, 101);
	assert_null(wg_noise_consume_response(&resp, &p->a.id, lookup_index, &p->a));
	assert_int_equal(p->a.hs.state, WG_HS_CREATED_INITIATION);
	wg_put_le32(resp.receiver, 100);
	assert_non_null(wg_noise_consume_response(&resp, &p->a.id, lookup_index, &p->a));
}

static void test_replayed_initiation(void **state)
{
	struct pair *p = *state;
	struct wg_msg_initiation init;

	assert_true(wg_noise_create_initiation(&init, &p->a.hs, &p->a.id, 1, WALL0));
	assert_non_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
	/* Long after the flood window, the very same bytes are still refused. */
	assert_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0 + 10 * NSEC_PER_SEC,
						lookup_static, &p->b));
}

static void test_older_timestamp(void **state)
{
	struct pair *p = *state;
	struct wg_msg_initiation newer, older, same;

	assert_true(wg_noise_create_initiation(&older, &p->a.hs, &p->a.id, 1, WALL0));
	assert_true(wg_noise_create_initiation(&same, &p->a.hs, &p->a.id, 1, WALL0 + 1000));
	assert_true(
	    wg_noise_create_initiation(&newer, &p->a.hs, &p->a.id, 1, WALL0 + NSEC_PER_SEC));
	assert_non_null(wg_noise_consume_initiation(&newer, &p->b.id, MONO0, lookup_static, &p->b));
	assert_null(wg_noise_consume_initiation(&older, &p->b.id, MONO0 + NSEC_PER_SEC,
						lookup_static, &p->b));
	/* Timestamps are whitened to ~16 ms, so 1 us later is the same timestamp. */
	assert_true(
	    wg_noise_create_initiation(&newer, &p->a.hs, &p->a.id, 1, WALL0 + 2 * NSEC_PER_SEC));
	assert_non_null(wg_noise_consume_initiation(&newer, &p->b.id, MONO0 + NSEC_PER_SEC,
						    lookup_static, &p->b));
	assert_true(wg_noise_create_initiation(&same, &p->a.hs, &p->a.id, 1,
					       WALL0 + 2 * NSEC_PER_SEC + 1000));
	assert_null(wg_noise_consume_initiation(&same, &p->b.id, MONO0 + 2 * NSEC_PER_SEC,
						lookup_static, &p->b));
}

static void test_flood_limit(void **state)
{
	struct pair *p = *state;
	struct wg_msg_initiation m1, m2;

	assert_true(wg_noise_create_initiation(&m1, &p->a.hs, &p->a.id, 1, WALL0));
	assert_true(wg_noise_create_initiation(&m2, &p->a.hs, &p->a.id, 1, WALL0 + NSEC_PER_SEC));
	assert_non_null(wg_noise_consume_initiation(&m1, &p->b.id, MONO0, lookup_static, &p->b));
	/* A valid, newer initiation too soon after the last one is dropped... */
	assert_null(wg_noise_consume_initiation(&m2, &p->b.id, MONO0 + NSEC_PER_MSEC, lookup_static,
						&p->b));
	assert_null(wg_noise_consume_initiation(
	    &m2, &p->b.id, MONO0 + WG_MIN_INITIATION_INTERVAL - 1, lookup_static, &p->b));
	/* ...and accepted once the interval has passed. */
	assert_non_null(wg_noise_consume_initiation(
	    &m2, &p->b.id, MONO0 + WG_MIN_INITIATION_INTERVAL, lookup_static, &p->b));
}

static void test_unknown_static_key(void **state)
{
	struct pair *p = *state;
	struct side stranger;
	struct wg_msg_initiation init;
	struct wg_handshake before = p->b.hs;

	memset(&stranger, 0, sizeof(stranger));
	make_identity(&stranger.id);
	wg_handshake_init(&stranger.hs, &stranger.id, p->b.id.public_key, NULL);
	assert_true(wg_noise_create_initiation(&init, &stranger.hs, &stranger.id, 1, WALL0));
	assert_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
	assert_memory_equal(&before, &p->b.hs, sizeof(before));

	/* An initiation meant for someone else does not decrypt at all. */
	wg_handshake_init(&stranger.hs, &stranger.id, p->a.id.public_key, NULL);
	assert_true(wg_noise_create_initiation(&init, &stranger.hs, &stranger.id, 1, WALL0));
	assert_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
	wg_identity_clear(&stranger.id);
}

static void test_states_and_identities(void **state)
{
	struct pair *p = *state;
	struct wg_msg_response resp;
	struct wg_msg_initiation init;
	struct wg_identity none;
	struct wg_handshake hs;
	uint8_t zero[WG_KEY_LEN] = {0};

	/* No response without a consumed initiation. */
	assert_false(wg_noise_create_response(&resp, &p->b.hs, &p->b.id, 1));
	assert_null(wg_noise_derive_keypair(&p->b.hs, MONO0));

	/* A zero private key is no identity. */
	memset(&none, 0x55, sizeof(none));
	assert_false(wg_identity_set(&none, zero));
	assert_false(none.has_identity);
	assert_false(wg_noise_create_initiation(&init, &p->a.hs, &none, 1, WALL0));

	/* A peer with a low-order public key can never handshake. */
	memset(&hs, 0, sizeof(hs));
	wg_handshake_init(&hs, &p->a.id, zero, NULL);
	assert_true(wg_key_is_zero(hs.precomputed_static_static));
	assert_false(wg_noise_create_initiation(&init, &hs, &p->a.id, 1, WALL0));

	/* Clearing keeps the static keys and the timestamp high-water mark. */
	assert_true(wg_noise_create_initiation(&init, &p->a.hs, &p->a.id, 1, WALL0));
	assert_non_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0, lookup_static, &p->b));
	wg_handshake_clear(&p->b.hs);
	assert_int_equal(p->b.hs.state, WG_HS_ZEROED);
	assert_memory_equal(p->b.hs.remote_static, p->a.id.public_key, WG_KEY_LEN);
	assert_null(wg_noise_consume_initiation(&init, &p->b.id, MONO0 + NSEC_PER_SEC,
						lookup_static, &p->b));
}

static void test_rekey_identity(void **state)
{
	struct pair *p = *state;
	uint8_t priv[WG_KEY_LEN], old_ss[WG_KEY_LEN];

	/* The responder changes its key; the initiator learns the new public key. */
	memcpy(old_ss, p->b.hs.precomputed_static_static, WG_KEY_LEN);
	wg_generate_private_key(priv);
	assert_true(wg_identity_set(&p->b.id, priv));
	wg_handshake_rekey_identity(&p->b.hs, &p->b.id);
	assert_memory_not_equal(old_ss, p->b.hs.precomputed_static_static, WG_KEY_LEN);
	wg_handshake_init(&p->a.hs, &p->a.id, p->b.id.public_key, NULL);
	assert_true(run_handshake(p, WALL0, MONO0));
	check_keypairs(p);
}

#define T(f) cmocka_unit_test_setup(f, setup_pair)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_handshake_without_psk), T(test_handshake_with_psk),
	    T(test_mismatched_psk),	   T(test_tampered_initiation),
	    T(test_tampered_response),	   T(test_wrong_receiver_index),
	    T(test_replayed_initiation),   T(test_older_timestamp),
	    T(test_flood_limit),	   T(test_unknown_static_key),
	    T(test_states_and_identities), T(test_rekey_identity),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
