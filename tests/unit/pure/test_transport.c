// SPDX-License-Identifier: ISC
/*
 * A session between two in-memory peers: a real handshake, then transport
 * messages both ways, and what the receiver must refuse: tampered, replayed,
 * too old, under an expired keypair; and what it must take: reordering
 * within the window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "wgproto/crypto.h"
#include "wgproto/noise.h"
#include "wgproto/transport.h"

#define WALL0 (1700000000ULL * NSEC_PER_SEC)
#define MONO0 (1000ULL * NSEC_PER_SEC)
#define MTU   1420
#define BUFSZ (sizeof(struct wg_msg_data) + MTU + WG_PADDING_MULTIPLE + WG_AEAD_TAG_LEN)

struct side {
	struct wg_identity id;
	struct wg_handshake hs;
	struct wg_keypair *kp;
};

static struct side a, b; /* a initiates */

static struct wg_handshake *lookup_static(void *ctx, const uint8_t public_key[WG_KEY_LEN])
{
	struct side *s = ctx;
	return sodium_memcmp(s->hs.remote_static, public_key, WG_KEY_LEN) ? NULL : &s->hs;
}

static struct wg_handshake *lookup_index(void *ctx, uint32_t idx)
{
	struct side *s = ctx;
	return s->hs.local_index == idx ? &s->hs : NULL;
}

static int session(void **state)
{
	uint8_t priv[WG_KEY_LEN];
	struct wg_msg_initiation init;
	struct wg_msg_response resp;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	wg_generate_private_key(priv);
	assert_true(wg_identity_set(&a.id, priv));
	wg_generate_private_key(priv);
	assert_true(wg_identity_set(&b.id, priv));
	wg_handshake_init(&a.hs, &a.id, b.id.public_key, NULL);
	wg_handshake_init(&b.hs, &b.id, a.id.public_key, NULL);
	assert_true(wg_noise_create_initiation(&init, &a.hs, &a.id, 7, WALL0));
	assert_non_null(wg_noise_consume_initiation(&init, &b.id, MONO0, lookup_static, &b));
	assert_true(wg_noise_create_response(&resp, &b.hs, &b.id, 9));
	assert_non_null(wg_noise_consume_response(&resp, &a.id, lookup_index, &a));
	a.kp = wg_noise_derive_keypair(&a.hs, MONO0);
	b.kp = wg_noise_derive_keypair(&b.hs, MONO0);
	assert_non_null(a.kp);
	assert_non_null(b.kp);
	return 0;
}

static int end_session(void **state)
{
	(void)state;
	wg_keypair_put(a.kp);
	wg_keypair_put(b.kp);
	return 0;
}

/* Seals payload of len bytes (filled with seed) from s with its next counter. */
static size_t seal(struct side *s, uint8_t *buf, uint32_t len, uint8_t seed, uint64_t now)
{
	uint64_t counter;

	assert_true(wg_keypair_reserve(s->kp, now, 1, &counter));
	memset(buf + sizeof(struct wg_msg_data), seed, len);
	return wg_transport_seal(buf, len, MTU, s->kp, counter);
}

static void test_exchange_both_ways(void **state)
{
	(void)state;
	uint8_t buf[BUFSZ];
	size_t plen;

	for (uint32_t len = 0; len <= MTU; len += 97) {
		size_t n = seal(&a, buf, len, (uint8_t)len, MONO0);
		assert_int_equal(n, WG_DATA_OVERHEAD + wg_transport_padded_len(len, MTU));
		assert_int_equal(n % 16, 0);
		assert_int_equal(wg_msg_type(buf, n), WG_MSG_DATA);
		assert_int_equal(wg_le32(((struct wg_msg_data *)buf)->receiver), b.kp->local_index);
		assert_int_equal(wg_transport_open(b.kp, buf, n, MONO0, &plen), WG_OPEN_OK);
		assert_true(plen >= len && plen - len < 16);
		for (uint32_t i = 0; i < len; i++)
			assert_int_equal(buf[sizeof(struct wg_msg_data) + i], (uint8_t)len);
		for (size_t i = len; i < plen; i++)
			assert_int_equal(buf[sizeof(struct wg_msg_data) + i], 0); /* padding */

		n = seal(&b, buf, len, 0x5a, MONO0);
		assert_int_equal(wg_transport_open(a.kp, buf, n, MONO0, &plen), WG_OPEN_OK);
	}
	/* Padding stops at the MTU: a full-size packet gets none. */
	assert_int_equal(wg_transport_padded_len(MTU, MTU), MTU);
	assert_int_equal(wg_transport_padded_len(MTU - 3, MTU), MTU);
	assert_int_equal(wg_transport_padded_len(1, MTU), 16);
}

static void test_tampered(void **state)
{
	(void)state;
	uint8_t buf[BUFSZ], copy[BUFSZ];
	size_t plen, n = seal(&a, buf, 100, 1, MONO0);

	memcpy(copy, buf, n);
	/* Every byte after the type is covered: counter (nonce), ciphertext, tag. */
	for (size_t i = 8; i < n; i++) {
		memcpy(buf, copy, n);
		buf[i] ^= 0x01;
		assert_int_equal(wg_transport_open(b.kp, buf, n, MONO0, &plen), WG_OPEN_AUTH);
	}
	memcpy(buf, copy, n);
	assert_int_equal(wg_transport_open(b.kp, buf, n - 1, MONO0, &plen), WG_OPEN_AUTH);
	assert_int_equal(wg_transport_open(b.kp, buf, 31, MONO0, &plen), WG_OPEN_AUTH);
	/* A forgery did not move the window: the genuine packet still opens. (A
	 * failed in-place open may have wiped the buffer, hence the copy.) */
	memcpy(buf, copy, n);
	assert_int_equal(wg_transport_open(b.kp, buf, n, MONO0, &plen), WG_OPEN_OK);
	/* The other direction's key does not open it. */
	n = seal(&a, buf, 100, 1, MONO0);
	assert_int_equal(wg_transport_open(a.kp, buf, n, MONO0, &plen), WG_OPEN_AUTH);
}

static void test_replayed_and_reordered(void **state)
{
	(void)state;
	static uint8_t pkts[8][BUFSZ], copy[BUFSZ];
	size_t lens[8], plen;

	for (int i = 0; i < 8; i++)
		lens[i] = seal(&a, pkts[i], 64, (uint8_t)i, MONO0);
	/* Deliver 0, 3, 1, 2, 7, 4, 6, 5: all inside the window, all taken once. */
	int order[8] = {0, 3, 1, 2, 7, 4, 6, 5};
	for (int k = 0; k < 8; k++) {
		int i = order[k];
		memcpy(copy, pkts[i], lens[i]);
		assert_int_equal(wg_transport_open(b.kp, pkts[i], lens[i], MONO0, &plen),
				 WG_OPEN_OK);
		assert_int_equal(pkts[i][sizeof(struct wg_msg_data)], (uint8_t)i);
		/* The same datagram again is a replay. */
		assert_int_equal(wg_transport_open(b.kp, copy, lens[i], MONO0, &plen),
				 WG_OPEN_REPLAY);
	}
}

static void test_too_old(void **state)
{
	(void)state;
	static uint8_t old[BUFSZ], buf[BUFSZ];
	size_t plen, n_old = seal(&a, old, 10, 1, MONO0);

	/* Move the receiver's window far past the held-back packet. */
	for (int i = 0; i < WG_REPLAY_WINDOW_BITS + 64; i++) {
		size_t n = seal(&a, buf, 0, 0, MONO0);
		if (i % 512 == 0 || i >= WG_REPLAY_WINDOW_BITS)
			assert_int_equal(wg_transport_open(b.kp, buf, n, MONO0, &plen), WG_OPEN_OK);
	}
	assert_int_equal(wg_transport_open(b.kp, old, n_old, MONO0, &plen), WG_OPEN_REPLAY);
}

static void test_expired_keypair(void **state)
{
	(void)state;
	uint8_t buf[BUFSZ];
	uint64_t counter;
	size_t plen, n = seal(&a, buf, 10, 1, MONO0);

	assert_int_equal(wg_transport_open(b.kp, buf, n, MONO0 + WG_REJECT_AFTER_TIME, &plen),
			 WG_OPEN_EXPIRED);
	/* ...and the sender may not use it either. */
	assert_false(wg_keypair_reserve(a.kp, MONO0 + WG_REJECT_AFTER_TIME, 1, &counter));
	/* Just before the limit it still works. */
	assert_int_equal(wg_transport_open(b.kp, buf, n, MONO0 + WG_REJECT_AFTER_TIME - 1, &plen),
			 WG_OPEN_OK);
}

/*
 * A message we sealed, brought back (a relay's notice), opens under our own
 * send key: only ours, whole, and never under the peer's key.
 */
static void test_open_sent(void **state)
{
	uint8_t buf[BUFSZ], copy[BUFSZ];
	size_t plen;
	(void)state;

	memset(buf + sizeof(struct wg_msg_data), 0x3c, 100);
	size_t n = wg_transport_seal(buf, 100, MTU, a.kp, 5);
	memcpy(copy, buf, n);
	assert_true(wg_transport_open_sent(a.kp, buf, n, &plen));
	assert_int_equal(plen, 112); /* padded */
	assert_int_equal(buf[sizeof(struct wg_msg_data)], 0x3c);
	assert_int_equal(buf[sizeof(struct wg_msg_data) + 99], 0x3c);
	/* Under the receiving side's keypair: not its own message. */
	memcpy(buf, copy, n);
	assert_false(wg_transport_open_sent(b.kp, buf, n, &plen));
	/* Tampered, cut, or another receiver index. */
	memcpy(buf, copy, n);
	buf[n - 1] ^= 1;
	assert_false(wg_transport_open_sent(a.kp, buf, n, &plen));
	memcpy(buf, copy, n);
	assert_false(wg_transport_open_sent(a.kp, buf, n - 1, &plen));
	assert_false(wg_transport_open_sent(a.kp, buf, WG_DATA_OVERHEAD - 1, &plen));
	memcpy(buf, copy, n);
	buf[4] ^= 1;
	assert_false(wg_transport_open_sent(a.kp, buf, n, &plen));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exchange_both_ways, session, end_session),
	    cmocka_unit_test_setup_teardown(test_tampered, session, end_session),
	    cmocka_unit_test_setup_teardown(test_replayed_and_reordered, session, end_session),
	    cmocka_unit_test_setup_teardown(test_too_old, session, end_session),
	    cmocka_unit_test_setup_teardown(test_expired_keypair, session, end_session),
	    cmocka_unit_test_setup_teardown(test_open_sent, session, end_session),
	};
	assert_true(wg_crypto_init());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
