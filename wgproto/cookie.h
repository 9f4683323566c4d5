/* SPDX-License-Identifier: ISC */
/*
 * mac1, mac2 and cookie replies (WireGuard paper 5.4.4, 5.4.7). The checker
 * is the responder side, one per device; struct wg_cookie is the initiator
 * side, one per peer.
 */
#ifndef ALAMESH_COOKIE_H
#define ALAMESH_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "constants.h"
#include "messages.h"

/* The source of a handshake: IP bytes (4 or 16) then the port, big-endian. */
#define WG_COOKIE_SRC_MAX (16 + 2)

struct wg_cookie_checker {
	uint8_t secret[WG_HASH_LEN];	 /* random, rotated every COOKIE_SECRET_MAX_AGE */
	uint64_t secret_birth;		 /* monotonic ns; 0 = never made */
	uint8_t mac1_key[WG_HASH_LEN];	 /* HASH(LABEL_MAC1 || our public) */
	uint8_t cookie_key[WG_HASH_LEN]; /* HASH(LABEL_COOKIE || our public) */
};

enum wg_mac_verdict {
	WG_MAC_INVALID,	     /* mac1 wrong: drop before any DH */
	WG_MAC_VALID,	     /* mac1 right; mac2 absent or wrong */
	WG_MAC_VALID_COOKIE, /* mac1 and mac2 right: the source proved its address */
};

void wg_cookie_checker_init(struct wg_cookie_checker *cc, const uint8_t our_public[WG_KEY_LEN]);
/*
 * Whether an initiation or response of len bytes carries a right mac1: one
 * keyed BLAKE2s over the message, no state read but the key, so it is
 * checked before a message is counted or queued anywhere. Constant time.
 */
bool wg_cookie_check_mac1(const struct wg_cookie_checker *cc, const uint8_t *msg, size_t len);
/*
 * Whether it carries a right mac2: the cookie src (its source address)
 * would get now. Rotates the secret when it is older than
 * COOKIE_SECRET_MAX_AGE. Constant time.
 */
bool wg_cookie_check_mac2(struct wg_cookie_checker *cc, const uint8_t *msg, size_t len,
			  const uint8_t *src, size_t srclen, uint64_t now_ns);
/* Both checks at once: mac1, then (when it is right) mac2 against the cookie for src. */
enum wg_mac_verdict wg_cookie_validate(struct wg_cookie_checker *cc, const uint8_t *msg, size_t len,
				       const uint8_t *src, size_t srclen, uint64_t now_ns);
/* Builds the cookie reply for a handshake message that came from src under load. */
void wg_cookie_reply_create(struct wg_msg_cookie *out, struct wg_cookie_checker *cc,
			    const uint8_t *msg, size_t len, const uint8_t *src, size_t srclen,
			    uint64_t now_ns);

struct wg_cookie {
	uint8_t mac1_key[WG_HASH_LEN];		    /* HASH(LABEL_MAC1 || peer public) */
	uint8_t cookie_decryption_key[WG_HASH_LEN]; /* HASH(LABEL_COOKIE || peer public) */
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t cookie_birth; /* monotonic ns; 0 = no cookie */
	uint8_t last_mac1_sent[WG_MAC_LEN];
	bool have_sent_mac1;
};

void wg_cookie_init(struct wg_cookie *c, const uint8_t peer_public[WG_KEY_LEN]);
/* Writes mac1, and mac2 when a cookie younger than COOKIE_MAX_AGE is held. */
void wg_cookie_add_macs(struct wg_cookie *c, uint8_t *msg, size_t len, uint64_t now_ns);
/* Decrypts a cookie reply (its AD is the last mac1 we sent) and keeps the cookie. */
bool wg_cookie_consume_reply(struct wg_cookie *c, const struct wg_msg_cookie *reply,
			     uint64_t now_ns);

#endif
