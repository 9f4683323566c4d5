/* SPDX-License-Identifier: ISC */
/*
 * The address of a key (DESIGN.md, "Address"):
 *   addr(pub) = 0xfc || first 15 bytes of BLAKE2s-256("alamesh address" || pub)
 */
#ifndef ALAMESH_ADDRESS_H
#define ALAMESH_ADDRESS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "wgproto/constants.h"

void alamesh_addr(struct in6_addr *out, const uint8_t public_key[WG_KEY_LEN]);
/* True if a is inside fc00::/7. */
bool alamesh_in_mesh(const struct in6_addr *a);

#endif
