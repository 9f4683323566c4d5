/* SPDX-License-Identifier: ISC */
/*
 * The four WireGuard messages as they are on the wire. Every field is a byte
 * array or a little-endian integer read with le32/le64 helpers, so the
 * structs have no padding and can be overlaid on a received datagram once its
 * length has been checked.
 */
#ifndef ALAMESH_MESSAGES_H
#define ALAMESH_MESSAGES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>

#include "constants.h"

struct wg_msg_initiation {
	uint8_t type; /* WG_MSG_INITIATION */
	uint8_t reserved[3];
	uint8_t sender[4]; /* le32 */
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t encrypted_static[WG_KEY_LEN + WG_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[WG_TAI64N_LEN + WG_AEAD_TAG_LEN];
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};

struct wg_msg_response {
	uint8_t type; /* WG_MSG_RESPONSE */
	uint8_t reserved[3];
	uint8_t sender[4];   /* le32 */
	uint8_t receiver[4]; /* le32 */
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t encrypted_nothing[WG_AEAD_TAG_LEN];
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};

struct wg_msg_cookie {
	uint8_t type; /* WG_MSG_COOKIE */
	uint8_t reserved[3];
	uint8_t receiver[4]; /* le32 */
	uint8_t nonce[WG_XNONCE_LEN];
	uint8_t encrypted_cookie[WG_COOKIE_LEN + WG_AEAD_TAG_LEN];
};

struct wg_msg_data {
	uint8_t type; /* WG_MSG_DATA */
	uint8_t reserved[3];
	uint8_t receiver[4]; /* le32 */
	uint8_t counter[8];  /* le64 */
	uint8_t encrypted[]; /* padded payload, then the Poly1305 tag */
};

_Static_assert(sizeof(struct wg_msg_initiation) == 148, "initiation is 148 bytes");
_Static_assert(sizeof(struct wg_msg_response) == 92, "response is 92 bytes");
_Static_assert(sizeof(struct wg_msg_cookie) == 64, "cookie reply is 64 bytes");
_Static_assert(sizeof(struct wg_msg_data) == 16, "data header is 16 bytes");
_Static_assert(offsetof(struct wg_msg_initiation, mac1) == 116, "mac1 covers the first 116 bytes");
_Static_assert(offsetof(struct wg_msg_response, mac1) == 60, "mac1 covers the first 60 bytes");

#define WG_DATA_OVERHEAD  (sizeof(struct wg_msg_data) + WG_AEAD_TAG_LEN) /* 32 */
#define WG_KEEPALIVE_SIZE WG_DATA_OVERHEAD

static inline uint32_t wg_le32(const uint8_t b[4])
{
	uint32_t v;
	memcpy(&v, b, sizeof(v));
	return le32toh(v);
}

static inline void wg_put_le32(uint8_t b[4], uint32_t v)
{
	v = htole32(v);
	memcpy(b, &v, sizeof(v));
}

static inline uint64_t wg_le64(const uint8_t b[8])
{
	uint64_t v;
	memcpy(&v, b, sizeof(v));
	return le64toh(v);
}

static inline void wg_put_le64(uint8_t b[8], uint64_t v)
{
	v = htole64(v);
	memcpy(b, &v, sizeof(v));
}

/* Type of a datagram, or 0 if it is not a well-formed WireGuard message. */
static inline uint8_t wg_msg_type(const uint8_t *buf, size_t len)
{
	if (len < 4 || buf[1] || buf[2] || buf[3])
		return 0;
	switch (buf[0]) {
	case WG_MSG_INITIATION:
		return len == sizeof(struct wg_msg_initiation) ? WG_MSG_INITIATION : 0;
	case WG_MSG_RESPONSE:
		return len == sizeof(struct wg_msg_response) ? WG_MSG_RESPONSE : 0;
	case WG_MSG_COOKIE:
		return len == sizeof(struct wg_msg_cookie) ? WG_MSG_COOKIE : 0;
	case WG_MSG_DATA:
		return len >= WG_DATA_OVERHEAD ? WG_MSG_DATA : 0;
	}
	return 0;
}

#endif
