/* SPDX-License-Identifier: ISC */
/*
 * The choice of peers (alameshd(8), PEERING): of the members that publish an
 * endpoint, a node dials the MaxPeers with the lowest pair score with its own
 * key. The score of a pair is the same seen from either end, so two members
 * mostly choose each other, and every host computes it alike. Pure.
 */
#ifndef ALAMESH_PEERING_H
#define ALAMESH_PEERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

/*
 * The first 8 bytes, read little-endian, of BLAKE2b-128 (libsodium's
 * crypto_generichash, 16 bytes) over the two keys, the smaller first.
 */
uint64_t peering_pair_score(const uint8_t a[WG_KEY_LEN], const uint8_t b[WG_KEY_LEN]);

/*
 * Of the n candidates keys[0..n-1], sets chosen[i] for the max_peers whose
 * pair score with self is lowest (all of them when n <= max_peers), and
 * clears it for the rest. 0, or -ENOMEM (chosen untouched).
 */
int peering_choose(const uint8_t self[WG_KEY_LEN], const uint8_t *const *keys, size_t n,
		   size_t max_peers, bool *chosen);

#endif
