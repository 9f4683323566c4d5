/* SPDX-License-Identifier: ISC */
/*
 * The client side of the control socket: an answer to get=1 read into a
 * device description, for alamesh(8). The bytes come from whatever listens
 * on the socket, so they are parsed as untrusted: bounded, and garbage is
 * an error, never a crash. Pure, so the fuzzer runs it.
 */
#ifndef ALAMESH_UAPI_REPLY_H
#define ALAMESH_UAPI_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define UAPI_REPLY_MAX	     (64 * 1024 * 1024) /* the largest answer a client reads */
#define UAPI_ENDPOINT_MAX    64			/* "[v6%scope]:port" */
#define UAPI_ALLOWED_IP_MAX  50			/* "v6/128" */
#define UAPI_MAX_ALLOWED_IPS 4096		/* per peer */

struct uapi_peer_info {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	bool has_preshared_key; /* not all zero */
	char endpoint[UAPI_ENDPOINT_MAX];
	uint64_t last_handshake_sec, last_handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
	uint16_t persistent_keepalive;
	char (*allowed_ips)[UAPI_ALLOWED_IP_MAX];
	size_t nallowed;
};

struct uapi_device_info {
	char name[16];
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
	bool has_private_key;
	uint16_t listen_port;
	uint32_t fwmark;
	struct uapi_peer_info *peers;
	size_t npeers, peers_cap;
};

/*
 * Parses a whole answer (key=value lines, then errno=N and an empty line).
 * Returns 0, the daemon's errno when it is not 0, or -EPROTO when the answer
 * is malformed (with the reason in why). The result must be freed with
 * uapi_device_info_free() in every case.
 */
int uapi_reply_parse(struct uapi_device_info *dev, const char *buf, size_t len, const char **why);
/* Parses just "errno=N\n\n": N, or -EPROTO. */
int uapi_reply_errno(const char *buf, size_t len);
/* Wipes the private and preshared keys and frees the peers. */
void uapi_device_info_free(struct uapi_device_info *dev);

#endif
