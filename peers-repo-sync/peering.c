// SPDX-License-Identifier: ISC
/* The choice of peers (peering.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peers-repo-sync/peering.h"

uint64_t peering_pair_score(const uint8_t a[WG_KEY_LEN], const uint8_t b[WG_KEY_LEN])
{
	uint8_t in[2 * WG_KEY_LEN], h[crypto_generichash_BYTES_MIN];
	uint64_t v;
	bool a_first = memcmp(a, b, WG_KEY_LEN) < 0;

	memcpy(in, a_first ? a : b, WG_KEY_LEN);
	memcpy(in + WG_KEY_LEN, a_first ? b : a, WG_KEY_LEN);
	crypto_generichash(h, sizeof(h), in, sizeof(in), NULL, 0);
	/* Its first 8 bytes, little-endian: every host chooses alike. */
	v = 0;
	for (size_t i = 8; i-- > 0;)
		v = v << 8 | h[i];
	return v;
}

struct scored {
	uint64_t score;
	size_t i;
};

static int cmp_scored(const void *a, const void *b)
{
	uint64_t x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;

	return x < y ? -1 : x > y;
}

int peering_choose(const uint8_t self[WG_KEY_LEN], const uint8_t *const *keys, size_t n,
		   size_t max_peers, bool *chosen)
{
	struct scored *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].score = peering_pair_score(self, keys[i]);
		v[i].i = i;
		chosen[i] = false;
	}
	qsort(v, n, sizeof(*v), cmp_scored);
	for (size_t i = 0; i < n && i < max_peers; i++)
		chosen[v[i].i] = true;
	free(v);
	return 0;
}
