/* SPDX-License-Identifier: ISC */
/*
 * mac1 proves a handshake message was made by someone who knows our public
 * key; mac2 proves, under load, that its sender can receive at its source
 * address (WireGuard paper 5.4.4, 5.4.7). Both MACs cover the message up to
 * their own field, and both fields are the last 32 bytes of an initiation or
 * a response, so the code works on offsets from the end.
 */
#include "cookie.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"

#define MAC1_OFFSET(len) ((len)-2 * WG_MAC_LEN)
#define MAC2_OFFSET(len) ((len)-WG_MAC_LEN)

/* Both handshake messages carry the sender index at the same place. */
_Static_assert(offsetof(struct wg_msg_initiation, sender) ==
		   offsetof(struct wg_msg_response, sender),
	       "sender index at the same offset");

static bool is_handshake_len(size_t len)
{
	return len == sizeof(struct wg_msg_initiation) || len == sizeof(struct wg_msg_response);
}

static void derive_key(uint8_t out[WG_HASH_LEN], const char *label,
		       const uint8_t public_key[WG_KEY_LEN])
{
	wg_hash(out, (const uint8_t *)label, strlen(label), public_key, WG_KEY_LEN);
}

/* Time 0 marks "never", so a birth at time 0 is stored as 1 ns. */
static uint64_t birth_stamp(uint64_t now_ns)
{
	return now_ns ? now_ns : 1;
}

static bool has_expired(uint64_t birth, uint64_t now_ns, uint64_t max_age)
{
	return !birth || now_ns < birth || now_ns - birth >= max_age;
}

void wg_cookie_checker_init(struct wg_cookie_checker *cc, const uint8_t our_public[WG_KEY_LEN])
{
	sodium_memzero(cc, sizeof(*cc));
	derive_key(cc->mac1_key, WG_LABEL_MAC1, our_public);
	derive_key(cc->cookie_key, WG_LABEL_COOKIE, our_public);
}

/* cookie = MAC(secret, src), with a fresh secret every COOKIE_SECRET_MAX_AGE. */
static void make_cookie(uint8_t cookie[WG_COOKIE_LEN], struct wg_cookie_checker *cc,
			const uint8_t *src, size_t srclen, uint64_t now_ns)
{
	if (has_expired(cc->secret_birth, now_ns, WG_COOKIE_SECRET_MAX_AGE)) {
		randombytes_buf(cc->secret, sizeof(cc->secret));
		cc->secret_birth = birth_stamp(now_ns);
	}
	wg_mac(cookie, cc->secret, sizeof(cc->secret), src, srclen);
}

bool wg_cookie_check_mac1(const struct wg_cookie_checker *cc, const uint8_t *msg, size_t len)
{
	uint8_t mac[WG_MAC_LEN];
	bool ok;

	if (!is_handshake_len(len))
		return false;
	wg_mac(mac, cc->mac1_key, sizeof(cc->mac1_key), msg, MAC1_OFFSET(len));
	ok = crypto_verify_16(mac, msg + MAC1_OFFSET(len)) == 0;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

bool wg_cookie_check_mac2(struct wg_cookie_checker *cc, const uint8_t *msg, size_t len,
			  const uint8_t *src, size_t srclen, uint64_t now_ns)
{
	uint8_t mac[WG_MAC_LEN], cookie[WG_COOKIE_LEN];
	bool ok;

	if (!is_handshake_len(len) || srclen > WG_COOKIE_SRC_MAX)
		return false;
	make_cookie(cookie, cc, src, srclen, now_ns);
	wg_mac(mac, cookie, sizeof(cookie), msg, MAC2_OFFSET(len));
	ok = crypto_verify_16(mac, msg + MAC2_OFFSET(len)) == 0;
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

enum wg_mac_verdict wg_cookie_validate(struct wg_cookie_checker *cc, const uint8_t *msg, size_t len,
				       const uint8_t *src, size_t srclen, uint64_t now_ns)
{
	if (srclen > WG_COOKIE_SRC_MAX || !wg_cookie_check_mac1(cc, msg, len))
		return WG_MAC_INVALID;
	if (!wg_cookie_check_mac2(cc, msg, len, src, srclen, now_ns))
		return WG_MAC_VALID;
	return WG_MAC_VALID_COOKIE;
}

void wg_cookie_reply_create(struct wg_msg_cookie *out, struct wg_cookie_checker *cc,
			    const uint8_t *msg, size_t len, const uint8_t *src, size_t srclen,
			    uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_LEN];

	memset(out, 0, sizeof(*out));
	if (!is_handshake_len(len) || srclen > WG_COOKIE_SRC_MAX)
		return;
	out->type = WG_MSG_COOKIE;
	memcpy(out->receiver, msg + offsetof(struct wg_msg_initiation, sender),
	       sizeof(out->receiver));
	randombytes_buf(out->nonce, sizeof(out->nonce));

	make_cookie(cookie, cc, src, srclen, now_ns);
	wg_xaead_encrypt(out->encrypted_cookie, cookie, sizeof(cookie), msg + MAC1_OFFSET(len),
			 WG_MAC_LEN, out->nonce, cc->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
}

void wg_cookie_init(struct wg_cookie *c, const uint8_t peer_public[WG_KEY_LEN])
{
	sodium_memzero(c, sizeof(*c));
	derive_key(c->mac1_key, WG_LABEL_MAC1, peer_public);
	derive_key(c->cookie_decryption_key, WG_LABEL_COOKIE, peer_public);
}

void wg_cookie_add_macs(struct wg_cookie *c, uint8_t *msg, size_t len, uint64_t now_ns)
{
	if (!is_handshake_len(len))
		return;

	wg_mac(msg + MAC1_OFFSET(len), c->mac1_key, sizeof(c->mac1_key), msg, MAC1_OFFSET(len));
	memcpy(c->last_mac1_sent, msg + MAC1_OFFSET(len), WG_MAC_LEN);
	c->have_sent_mac1 = true;

	if (has_expired(c->cookie_birth, now_ns, (WG_COOKIE_MAX_AGE))) {
		memset(msg + MAC2_OFFSET(len), 0, WG_MAC_LEN);
		return;
	}
	wg_mac(msg + MAC2_OFFSET(len), c->cookie, sizeof(c->cookie), msg, MAC2_OFFSET(len));
}

bool wg_cookie_consume_reply(struct wg_cookie *c, const struct wg_msg_cookie *reply,
			     uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_LEN];

	/* A reply answers one particular message: no mac1 sent, nothing to answer. */
	if (!c->have_sent_mac1 || reply->type != WG_MSG_COOKIE)
		return false;
	if (!wg_xaead_decrypt(cookie, reply->encrypted_cookie, sizeof(reply->encrypted_cookie),
			      c->last_mac1_sent, WG_MAC_LEN, reply->nonce,
			      c->cookie_decryption_key)) {
		sodium_memzero(cookie, sizeof(cookie));
		return false;
	}
	memcpy(c->cookie, cookie, sizeof(cookie));
	c->cookie_birth = birth_stamp(now_ns);
	c->have_sent_mac1 = false;
	sodium_memzero(cookie, sizeof(cookie));
	return true;
}
