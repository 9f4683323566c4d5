// SPDX-License-Identifier: ISC
/* What a new member set does to the current peers (diff.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peers-repo-sync/diff.h"

static int cmp_member_key(const void *a, const void *b)
{
	return memcmp((*(const struct member *const *)a)->public_key,
		      (*(const struct member *const *)b)->public_key, WG_KEY_LEN);
}

static int cmp_key_member(const void *key, const void *m)
{
	return memcmp(key, (*(const struct member *const *)m)->public_key, WG_KEY_LEN);
}

static int cmp_peer_key(const void *a, const void *b)
{
	return memcmp((*(const struct diff_peer *const *)a)->key,
		      (*(const struct diff_peer *const *)b)->key, WG_KEY_LEN);
}

static int cmp_key_peer(const void *key, const void *p)
{
	return memcmp(key, (*(const struct diff_peer *const *)p)->key, WG_KEY_LEN);
}

/* Both sides sorted by key, so that a diff of 65,536 members is n log n, not n². */
int member_diff(const struct member_set *set, const uint8_t self[WG_KEY_LEN],
		const struct diff_peer *peers, size_t n, struct member_diff *d)
{
	size_t m = set->nmembers;
	const struct member **byk = malloc((m ? m : 1) * sizeof(*byk));
	const struct diff_peer **byp = malloc((n ? n : 1) * sizeof(*byp));
	int rc = -ENOMEM;

	*d = (struct member_diff){0};
	d->remove = malloc((n ? n : 1) * sizeof(*d->remove));
	d->action = calloc(m ? m : 1, sizeof(*d->action));
	d->peer = calloc(m ? m : 1, sizeof(*d->peer));
	if (!byk || !byp || !d->remove || !d->action || !d->peer)
		goto out;
	for (size_t i = 0; i < m; i++)
		byk[i] = &set->members[i];
	if (m > 1)
		qsort(byk, m, sizeof(*byk), cmp_member_key);
	for (size_t i = 0; i < n; i++)
		byp[i] = &peers[i];
	if (n > 1)
		qsort(byp, n, sizeof(*byp), cmp_peer_key);

	/* Gone from the registry; highest index first, as they are removed. */
	for (size_t i = n; i-- > 0;)
		if (peers[i].from_registry &&
		    !(m && bsearch(peers[i].key, byk, m, sizeof(*byk), cmp_key_member)))
			d->remove[d->nremove++] = i;

	for (size_t i = 0; i < m; i++) {
		const struct member *mb = &set->members[i];
		/* This node, under the key it started with or one set since by wg set. */
		if (mb->is_self || !memcmp(mb->public_key, self, WG_KEY_LEN))
			continue;
		const struct diff_peer **found =
		    n ? bsearch(mb->public_key, byp, n, sizeof(*byp), cmp_key_peer) : NULL;
		if (!found) {
			d->action[i] = DIFF_ADD;
			d->nadd++;
		} else if ((*found)->from_registry) {
			d->action[i] = DIFF_UPDATE;
			d->peer[i] = (size_t)(*found - peers);
			d->nupdate++;
		} /* else a static [Peer] keeps its own configuration */
	}
	rc = 0;
out:
	free(byk);
	free(byp);
	return rc;
}

void member_diff_free(struct member_diff *d)
{
	free(d->remove);
	free(d->action);
	free(d->peer);
	*d = (struct member_diff){0};
}
