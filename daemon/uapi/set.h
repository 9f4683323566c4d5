/* SPDX-License-Identifier: ISC */
/*
 * A set request parsed and checked whole, before anything is applied.
 */
#ifndef ALAMESH_UAPI_SET_H
#define ALAMESH_UAPI_SET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/uapi/uapi.h"

/* One public_key= block of a set request, after validation. */
struct uapi_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool remove, update_only;
	bool has_psk;
	uint8_t psk[WG_KEY_LEN]; /* all zero = none */
	bool has_endpoint;
	struct sockaddr_in6 endpoint;
	bool has_keepalive;
	uint16_t keepalive;
	int line; /* of its public_key=, for messages */
};

struct uapi_set {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;
	bool replace_peers;
	struct uapi_peer *peers;
	size_t npeers, peers_cap;
};

/*
 * Parses the key=value lines of a set request (after "set=1", without the
 * final empty line). Returns 0, or a negative errno with a message naming
 * the line in err. Keys and pre-shared keys in *set are wiped by
 * uapi_set_free(), which must be called either way.
 */
int uapi_set_parse(struct uapi_set *set, const char *body, size_t len, char *err, size_t errlen);
void uapi_set_free(struct uapi_set *set);

#endif
