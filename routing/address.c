// SPDX-License-Identifier: ISC
/*
 * Key-derived addresses (DESIGN.md, "Address"). The label keeps these hashes
 * apart from every other BLAKE2s of a public key, WireGuard's included.
 */
#include <blake2.h>
#include <string.h>

#include "routing/address.h"

void alamesh_addr(struct in6_addr *out, const uint8_t public_key[WG_KEY_LEN])
{
	uint8_t in[ALAMESH_ADDR_LABEL_LEN + WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];

	memcpy(in, ALAMESH_ADDR_LABEL, ALAMESH_ADDR_LABEL_LEN);
	memcpy(in + ALAMESH_ADDR_LABEL_LEN, public_key, WG_KEY_LEN);
	blake2s(hash, in, NULL, sizeof(hash), sizeof(in), 0);
	out->s6_addr[0] = ALAMESH_ADDR_PREFIX;
	memcpy(&out->s6_addr[1], hash, sizeof(out->s6_addr) - 1);
}

bool alamesh_in_mesh(const struct in6_addr *a)
{
	return (a->s6_addr[0] & 0xfe) == 0xfc;
}
