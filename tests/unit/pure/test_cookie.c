/* SPDX-License-Identifier: ISC */
/* mac1, mac2 and the cookie reply round trip between an initiator and a loaded responder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "wgproto/cookie.h"
#include "wgproto/crypto.h"

#define T0 (1000ULL * NSEC_PER_SEC)

struct ctx {
	uint8_t responder_public[WG_KEY_LEN];
	struct wg_cookie_checker checker; /* responder */
	struct wg_cookie cookie;	  /* initiator's view of the responder */
	struct wg_msg_initiation init;
	uint8_t src[6];	 /* 192.0.2.7:51820 */
	uint8_t src2[6]; /* same address, other port */
};

static int setup(void **state)
{
	static struct ctx c;
	uint8_t priv[WG_KEY_LEN];

	memset(&c, 0, sizeof(c));
	wg_generate_private_key(priv);
	wg_public_key(c.responder_public, priv);
	wg_cookie_checker_init(&c.checker, c.responder_public);
	wg_cookie_init(&c.cookie, c.responder_public);
	randombytes_buf(&c.init, offsetof(struct wg_msg_initiation, mac1));
	c.init.type = WG_MSG_INITIATION;
	memcpy(c.src, (const uint8_t[]){192, 0, 2, 7, 0xca, 0x6c}, 6);
	memcpy(c.src2, (const uint8_t[]){192, 0, 2, 7, 0xca, 0x6d}, 6);
	*state = &c;
	return 0;
}

static enum wg_mac_verdict validate(struct ctx *c, const void *msg, size_t len, const uint8_t *src,
				    uint64_t now)
{
	return wg_cookie_validate(&c->checker, msg, len, src, 6, now);
}

/* Responder under load answers the initiation; the initiator takes the cookie. */
static void cookie_round_trip(struct ctx *c, uint64_t now)
{
	struct wg_msg_cookie reply;

	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), now);
	wg_cookie_reply_create(&reply, &c->checker, (const uint8_t *)&c->init, sizeof(c->init),
			       c->src, sizeof(c->src), now);
	assert_int_equal(reply.type, WG_MSG_COOKIE);
	assert_memory_equal(reply.receiver, c->init.sender, 4);
	assert_int_equal(wg_msg_type((const uint8_t *)&reply, sizeof(reply)), WG_MSG_COOKIE);
	assert_true(wg_cookie_consume_reply(&c->cookie, &reply, now));
}

static void test_mac1_known_answer(void **state)
{
	uint8_t pub[WG_KEY_LEN], msg[sizeof(struct wg_msg_initiation)], want[WG_MAC_LEN];
	uint8_t cookie[WG_COOKIE_LEN];
	struct wg_cookie c;
	size_t binlen;
	(void)state;

	/* Vector from Python: blake2s(msg[:116], key=blake2s(b"mac1----" + pub), digest_size=16).
	 */
	for (size_t i = 0; i < sizeof(pub); i++)
		pub[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	wg_cookie_init(&c, pub);
	wg_cookie_add_macs(&c, msg, sizeof(msg), T0);
	sodium_hex2bin(want, sizeof(want), "03a55c329de13c8e850faad2618d1d34", 32, NULL, &binlen,
		       NULL);
	assert_memory_equal(msg + 116, want, WG_MAC_LEN);
	assert_true(sodium_is_zero(msg + 132, WG_MAC_LEN));

	/* mac2 = blake2s(msg[:132], key=cookie, digest_size=16) once a cookie is held. */
	for (size_t i = 0; i < sizeof(cookie); i++)
		cookie[i] = (uint8_t)(100 + i);
	memcpy(c.cookie, cookie, sizeof(cookie));
	c.cookie_birth = T0;
	wg_cookie_add_macs(&c, msg, sizeof(msg), T0 + NSEC_PER_SEC);
	sodium_hex2bin(want, sizeof(want), "b494523ba5c3005cd5781c20025ff794", 32, NULL, &binlen,
		       NULL);
	assert_memory_equal(msg + 132, want, WG_MAC_LEN);
}

static void test_mac1_valid_and_invalid(void **state)
{
	struct ctx *c = *state;
	uint8_t *bytes = (uint8_t *)&c->init;
	struct wg_cookie other;
	uint8_t other_pub[WG_KEY_LEN];

	wg_cookie_add_macs(&c->cookie, bytes, sizeof(c->init), T0);
	assert_int_equal(validate(c, bytes, sizeof(c->init), c->src, T0), WG_MAC_VALID);

	/* Any byte covered by mac1, or mac1 itself, changed: invalid. */
	for (size_t i = 0; i < offsetof(struct wg_msg_initiation, mac2); i++) {
		bytes[i] ^= 0x01;
		assert_int_equal(validate(c, bytes, sizeof(c->init), c->src, T0), WG_MAC_INVALID);
		bytes[i] ^= 0x01;
	}
	/* Wrong lengths are never valid. */
	assert_int_equal(validate(c, bytes, sizeof(c->init) - 1, c->src, T0), WG_MAC_INVALID);
	assert_int_equal(validate(c, bytes, 0, c->src, T0), WG_MAC_INVALID);
	/* A source longer than an IPv6 address and port is refused. */
	assert_int_equal(wg_cookie_validate(&c->checker, bytes, sizeof(c->init), bytes,
					    WG_COOKIE_SRC_MAX + 1, T0),
			 WG_MAC_INVALID);

	/* mac1 made for another responder's key. */
	randombytes_buf(other_pub, sizeof(other_pub));
	wg_cookie_init(&other, other_pub);
	wg_cookie_add_macs(&other, bytes, sizeof(c->init), T0);
	assert_int_equal(validate(c, bytes, sizeof(c->init), c->src, T0), WG_MAC_INVALID);
}

/*
 * The two checks apart, as the receive thread makes them: mac1 alone needs
 * no source and no cookie secret; mac2 alone is the cookie's, and says
 * nothing of mac1 (the caller checks mac1 first).
 */
static void test_mac_checks_apart(void **state)
{
	struct ctx *c = *state;
	uint8_t *bytes = (uint8_t *)&c->init;
	uint64_t t = T0 + NSEC_PER_SEC;

	wg_cookie_add_macs(&c->cookie, bytes, sizeof(c->init), T0);
	assert_true(wg_cookie_check_mac1(&c->checker, bytes, sizeof(c->init)));
	assert_false(wg_cookie_check_mac2(&c->checker, bytes, sizeof(c->init), c->src, 6, t));
	assert_false(wg_cookie_check_mac1(&c->checker, bytes, sizeof(c->init) - 1));
	bytes[offsetof(struct wg_msg_initiation, mac1)] ^= 0x80;
	assert_false(wg_cookie_check_mac1(&c->checker, bytes, sizeof(c->init)));
	bytes[offsetof(struct wg_msg_initiation, mac1)] ^= 0x80;

	cookie_round_trip(c, T0);
	wg_cookie_add_macs(&c->cookie, bytes, sizeof(c->init), t);
	assert_true(wg_cookie_check_mac1(&c->checker, bytes, sizeof(c->init)));
	assert_true(wg_cookie_check_mac2(&c->checker, bytes, sizeof(c->init), c->src, 6, t));
	assert_false(wg_cookie_check_mac2(&c->checker, bytes, sizeof(c->init), c->src2, 6, t));
	assert_false(wg_cookie_check_mac2(&c->checker, bytes, sizeof(c->init), c->src,
					  WG_COOKIE_SRC_MAX + 1, t));
}

static void test_mac1_on_response(void **state)
{
	struct ctx *c = *state;
	struct wg_msg_response resp;

	randombytes_buf(&resp, sizeof(resp));
	resp.type = WG_MSG_RESPONSE;
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&resp, sizeof(resp), T0);
	assert_int_equal(validate(c, &resp, sizeof(resp), c->src, T0), WG_MAC_VALID);
	resp.ephemeral[0] ^= 1;
	assert_int_equal(validate(c, &resp, sizeof(resp), c->src, T0), WG_MAC_INVALID);
}

static void test_cookie_round_trip(void **state)
{
	struct ctx *c = *state;
	uint8_t src6[18];

	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, T0), WG_MAC_INVALID);
	cookie_round_trip(c, T0);

	/* The next message carries mac2 and proves the source address. */
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), T0 + NSEC_PER_SEC);
	assert_false(sodium_is_zero(c->init.mac2, WG_MAC_LEN));
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, T0 + NSEC_PER_SEC),
			 WG_MAC_VALID_COOKIE);
	/* From another port, or an IPv6 source, the cookie does not hold. */
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src2, T0 + NSEC_PER_SEC),
			 WG_MAC_VALID);
	memset(src6, 0, sizeof(src6));
	memcpy(src6 + 12, c->src, 6);
	assert_int_equal(wg_cookie_validate(&c->checker, (const uint8_t *)&c->init, sizeof(c->init),
					    src6, sizeof(src6), T0 + NSEC_PER_SEC),
			 WG_MAC_VALID);
	/* A corrupted mac2 is just a missing one. */
	c->init.mac2[3] ^= 0x10;
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, T0 + NSEC_PER_SEC),
			 WG_MAC_VALID);
}

static void test_cookie_reply_once(void **state)
{
	struct ctx *c = *state;
	struct wg_msg_cookie reply;

	/* Nothing sent yet: no reply can be accepted. */
	wg_cookie_reply_create(&reply, &c->checker, (const uint8_t *)&c->init, sizeof(c->init),
			       c->src, sizeof(c->src), T0);
	assert_false(wg_cookie_consume_reply(&c->cookie, &reply, T0));

	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), T0);
	wg_cookie_reply_create(&reply, &c->checker, (const uint8_t *)&c->init, sizeof(c->init),
			       c->src, sizeof(c->src), T0);
	assert_true(wg_cookie_consume_reply(&c->cookie, &reply, T0));
	/* The same reply again answers nothing we have outstanding. */
	assert_false(wg_cookie_consume_reply(&c->cookie, &reply, T0));
}

static void test_cookie_reply_wrong_ad(void **state)
{
	struct ctx *c = *state;
	struct wg_msg_cookie reply;
	struct wg_msg_initiation other = c->init;
	uint8_t *bytes = (uint8_t *)&reply;

	/* The reply answers a different message (another mac1) than the last one sent. */
	other.ephemeral[0] ^= 1;
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&other, sizeof(other), T0);
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), T0);
	wg_cookie_reply_create(&reply, &c->checker, (const uint8_t *)&other, sizeof(other), c->src,
			       sizeof(c->src), T0);
	assert_false(wg_cookie_consume_reply(&c->cookie, &reply, T0));
	assert_int_equal(c->cookie.cookie_birth, 0);

	/* The right AD but any byte of nonce or ciphertext changed. */
	wg_cookie_reply_create(&reply, &c->checker, (const uint8_t *)&c->init, sizeof(c->init),
			       c->src, sizeof(c->src), T0);
	for (size_t i = offsetof(struct wg_msg_cookie, nonce); i < sizeof(reply); i++) {
		bytes[i] ^= 0x80;
		assert_false(wg_cookie_consume_reply(&c->cookie, &reply, T0));
		bytes[i] ^= 0x80;
	}
	assert_true(wg_cookie_consume_reply(&c->cookie, &reply, T0));
}

static void test_secret_rotation(void **state)
{
	struct ctx *c = *state;
	uint64_t t;

	/* The checker's secret is born at T0, the cookie is handed out 100 s later. */
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, T0), WG_MAC_INVALID);
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), T0);
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, T0), WG_MAC_VALID);
	cookie_round_trip(c, T0 + 100 * NSEC_PER_SEC);

	t = T0 + 110 * NSEC_PER_SEC;
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), t);
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, t), WG_MAC_VALID_COOKIE);

	/* Still a young cookie for the initiator, but the secret behind it was replaced. */
	t = T0 + WG_COOKIE_SECRET_MAX_AGE + NSEC_PER_SEC;
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), t);
	assert_false(sodium_is_zero(c->init.mac2, WG_MAC_LEN));
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, t), WG_MAC_VALID);
	assert_true(c->checker.secret_birth >= t);
}

static void test_expired_cookie_not_used(void **state)
{
	struct ctx *c = *state;
	const uint64_t max_age = WG_COOKIE_MAX_AGE;

	cookie_round_trip(c, T0);
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), T0 + max_age - 1);
	assert_false(sodium_is_zero(c->init.mac2, WG_MAC_LEN));
	wg_cookie_add_macs(&c->cookie, (uint8_t *)&c->init, sizeof(c->init), T0 + max_age);
	assert_true(sodium_is_zero(c->init.mac2, WG_MAC_LEN));
	assert_int_equal(validate(c, &c->init, sizeof(c->init), c->src, T0 + max_age),
			 WG_MAC_VALID);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mac1_known_answer),
	    T(test_mac1_valid_and_invalid),
	    T(test_mac_checks_apart),
	    T(test_mac1_on_response),
	    T(test_cookie_round_trip),
	    T(test_cookie_reply_once),
	    T(test_cookie_reply_wrong_ad),
	    T(test_secret_rotation),
	    T(test_expired_cookie_not_used),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
