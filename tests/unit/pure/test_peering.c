/* SPDX-License-Identifier: ISC */
/*
 * The choice of peers (peers-repo-sync/peering.c) against the rule
 * alameshd(8) states: the pair score is the first 8 bytes, read as a
 * little-endian number, of the 16-byte BLAKE2b digest of both public keys,
 * the smaller first; a node keeps the MaxPeers candidates whose score is
 * lowest. The known answers were computed apart, with Python's hashlib.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peers-repo-sync/peering.h"

static void fill(uint8_t k[WG_KEY_LEN], uint8_t start, uint8_t step)
{
	for (size_t i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(start + step * i);
}

/* hashlib.blake2b(a + b, digest_size=16), its first 8 bytes little-endian. */
static void test_known_answers(void **state)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN], k[WG_KEY_LEN], l[WG_KEY_LEN];

	(void)state;
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_true(peering_pair_score(a, b) == 0x8b19b50efa46cf00ULL);
	fill(k, 0, 1);
	fill(l, 32, 1);
	assert_true(peering_pair_score(k, l) == 0x568a8b9595980559ULL);
}

/* Both ends of a pair compute the same score: the smaller key goes first. */
static void test_symmetric(void **state)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN];

	(void)state;
	for (int i = 0; i < 64; i++) {
		randombytes_buf(a, sizeof(a));
		randombytes_buf(b, sizeof(b));
		assert_true(peering_pair_score(a, b) == peering_pair_score(b, a));
	}
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_true(peering_pair_score(b, a) == 0x8b19b50efa46cf00ULL);
}

/* The max_peers lowest scores are chosen, the rest are not, whatever the order given. */
static void test_choose_lowest(void **state)
{
	enum { N = 40, MAX = 7 };
	uint8_t self[WG_KEY_LEN], keys[N][WG_KEY_LEN];
	const uint8_t *kp[N];
	uint64_t score[N];
	bool chosen[N];

	(void)state;
	randombytes_buf(self, sizeof(self));
	for (size_t i = 0; i < N; i++) {
		randombytes_buf(keys[i], WG_KEY_LEN);
		kp[i] = keys[i];
		score[i] = peering_pair_score(self, keys[i]);
	}
	assert_int_equal(peering_choose(self, kp, N, MAX, chosen), 0);
	size_t n = 0;
	for (size_t i = 0; i < N; i++) {
		size_t lower = 0;
		for (size_t j = 0; j < N; j++)
			lower += score[j] < score[i];
		assert_int_equal(chosen[i], lower < MAX);
		n += chosen[i];
	}
	assert_int_equal(n, MAX);
}

/* Fewer candidates than max_peers: all of them; none: nothing, and no failure. */
static void test_choose_all_or_none(void **state)
{
	uint8_t self[WG_KEY_LEN], keys[3][WG_KEY_LEN];
	const uint8_t *kp[3] = {keys[0], keys[1], keys[2]};
	bool chosen[3] = {false, false, false};

	(void)state;
	randombytes_buf(self, sizeof(self));
	randombytes_buf(keys, sizeof(keys));
	assert_int_equal(peering_choose(self, kp, 3, 64, chosen), 0);
	assert_true(chosen[0] && chosen[1] && chosen[2]);
	assert_int_equal(peering_choose(self, kp, 3, 0, chosen), 0);
	assert_false(chosen[0] || chosen[1] || chosen[2]);
	assert_int_equal(peering_choose(self, kp, 0, 64, chosen), 0);
}

/* A member joining changes only the choices that involve it: the others keep theirs. */
static void test_join_changes_little(void **state)
{
	enum { N = 30, MAX = 5 };
	uint8_t self[WG_KEY_LEN], keys[N + 1][WG_KEY_LEN];
	const uint8_t *kp[N + 1];
	bool before[N], after[N + 1];

	(void)state;
	randombytes_buf(self, sizeof(self));
	randombytes_buf(keys, sizeof(keys));
	for (size_t i = 0; i <= N; i++)
		kp[i] = keys[i];
	assert_int_equal(peering_choose(self, kp, N, MAX, before), 0);
	assert_int_equal(peering_choose(self, kp, N + 1, MAX, after), 0);
	size_t changed = 0;
	for (size_t i = 0; i < N; i++)
		changed += before[i] != after[i];
	/* The newcomer displaces at most one, and only if it is chosen itself. */
	assert_true(changed == (after[N] ? 1u : 0u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_answers),	cmocka_unit_test(test_symmetric),
	    cmocka_unit_test(test_choose_lowest),	cmocka_unit_test(test_choose_all_or_none),
	    cmocka_unit_test(test_join_changes_little),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
