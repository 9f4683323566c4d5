/* SPDX-License-Identifier: ISC */
/*
 * What a new member set does to the current peers, computed apart from
 * applying it, so that a registry change touches only what changed: the
 * peers that came from the registry and are members no more go; a member
 * with no peer yet is added; a member whose peer came from the registry is
 * updated in place (its session kept); a member whose key a static [Peer]
 * holds, and this node itself, are left alone. Pure.
 */
#ifndef ALAMESH_DIFF_H
#define ALAMESH_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peers-repo-sync/member.h"
#include "wgproto/constants.h"

/* A current peer as the diff sees it. */
struct diff_peer {
	const uint8_t *key; /* WG_KEY_LEN bytes */
	bool from_registry;
};

enum diff_action { DIFF_SKIP, DIFF_ADD, DIFF_UPDATE };

struct member_diff {
	size_t *remove; /* indices of the peers that go, highest first */
	size_t nremove;
	enum diff_action *action; /* one per member of the set */
	size_t *peer;		  /* one per member: its peer's index, for DIFF_UPDATE */
	size_t nadd, nupdate;
};

/*
 * The diff of set against the n peers, self being this node's current key.
 * 0, or -ENOMEM; member_diff_free() either way.
 */
int member_diff(const struct member_set *set, const uint8_t self[WG_KEY_LEN],
		const struct diff_peer *peers, size_t n, struct member_diff *d);
void member_diff_free(struct member_diff *d);

#endif
