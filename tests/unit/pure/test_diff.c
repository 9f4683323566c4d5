/* SPDX-License-Identifier: ISC */
/*
 * The member-set diff (peers-repo-sync/diff.c): which peers go, which
 * members are added, which are updated in place, and what is left alone
 * (this node, a static [Peer] holding a member's key), on member sets read
 * through the same parser the daemon uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "peers-repo-sync/diff.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

#define NKEYS 8

static uint8_t keys[NKEYS][WG_KEY_LEN];

static int setup(void **state)
{
	uint8_t priv[WG_KEY_LEN];

	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		wg_generate_private_key(priv);
		wg_public_key(keys[i], priv);
	}
	sodium_memzero(priv, sizeof(priv));
	return 0;
}

/* A member set of the keys named by idx (member "m<idx>"), self marked. */
static void make_set(struct member_set *set, const int *idx, size_t n, const uint8_t *self)
{
	member_set_init(set, 0);
	for (size_t i = 0; i < n; i++) {
		char name[32], text[128], b64[WG_KEY_B64_LEN + 1];
		key_to_base64(b64, keys[idx[i]]);
		snprintf(name, sizeof(name), "m%d.conf", idx[i]);
		snprintf(text, sizeof(text), "[Member]\nPublicKey = %s\n", b64);
		member_set_add_entry(set, name, MEMBER_BLOB, (const uint8_t *)text, strlen(text));
	}
	member_set_finish(set, self);
	assert_int_equal(set->nmembers, n);
}

/* The member of set with key idx. */
static size_t member_of(const struct member_set *set, int idx)
{
	for (size_t i = 0; i < set->nmembers; i++)
		if (!memcmp(set->members[i].public_key, keys[idx], WG_KEY_LEN))
			return i;
	fail_msg("no member with key %d", idx);
	return 0;
}

static void test_add_update_remove(void **state)
{
	/* Self is key 0; members 0-4; peers: 1, 2 (registry), 5, 6 (registry), 7 (static). */
	static const int members[] = {0, 1, 2, 3, 4};
	struct diff_peer peers[] = {
	    {keys[1], true}, {keys[5], true}, {keys[2], true}, {keys[6], true}, {keys[7], false},
	};
	struct member_set set;
	struct member_diff d;

	(void)state;
	make_set(&set, members, 5, keys[0]);
	assert_int_equal(member_diff(&set, keys[0], peers, 5, &d), 0);
	/* 5 and 6 go, highest index first, so removing by index stays right. */
	assert_int_equal(d.nremove, 2);
	assert_int_equal(d.remove[0], 3);
	assert_int_equal(d.remove[1], 1);
	/* 1 and 2 are updated in place, pointing at their peers; 3 and 4 are new. */
	assert_int_equal(d.nupdate, 2);
	assert_int_equal(d.action[member_of(&set, 1)], DIFF_UPDATE);
	assert_int_equal(d.peer[member_of(&set, 1)], 0);
	assert_int_equal(d.action[member_of(&set, 2)], DIFF_UPDATE);
	assert_int_equal(d.peer[member_of(&set, 2)], 2);
	assert_int_equal(d.nadd, 2);
	assert_int_equal(d.action[member_of(&set, 3)], DIFF_ADD);
	assert_int_equal(d.action[member_of(&set, 4)], DIFF_ADD);
	/* This node is no peer of its own. */
	assert_int_equal(d.action[member_of(&set, 0)], DIFF_SKIP);
	member_diff_free(&d);
	member_set_free(&set);
}

/* A static [Peer] holding a member's key keeps it: neither updated nor removed. */
static void test_static_peer_kept(void **state)
{
	static const int members[] = {1, 2};
	struct diff_peer peers[] = {{keys[1], false}, {keys[3], false}};
	struct member_set set;
	struct member_diff d;

	(void)state;
	make_set(&set, members, 2, NULL);
	assert_int_equal(member_diff(&set, keys[0], peers, 2, &d), 0);
	assert_int_equal(d.nremove, 0);
	assert_int_equal(d.action[member_of(&set, 1)], DIFF_SKIP);
	assert_int_equal(d.action[member_of(&set, 2)], DIFF_ADD);
	assert_int_equal(d.nadd, 1);
	assert_int_equal(d.nupdate, 0);
	member_diff_free(&d);
	member_set_free(&set);
}

/* The node's key changed by wg set: its new key is skipped though not marked is_self. */
static void test_current_key_skipped(void **state)
{
	static const int members[] = {4, 5};
	struct member_set set;
	struct member_diff d;

	(void)state;
	make_set(&set, members, 2, keys[0]);
	assert_false(set.members[0].is_self || set.members[1].is_self);
	assert_int_equal(member_diff(&set, keys[4], NULL, 0, &d), 0);
	assert_int_equal(d.action[member_of(&set, 4)], DIFF_SKIP);
	assert_int_equal(d.action[member_of(&set, 5)], DIFF_ADD);
	member_diff_free(&d);
	member_set_free(&set);
}

/* An empty set (AllowEmpty) removes every registry peer and nothing else. */
static void test_empty_set(void **state)
{
	struct diff_peer peers[] = {{keys[1], true}, {keys[2], false}, {keys[3], true}};
	struct member_set set;
	struct member_diff d;

	(void)state;
	member_set_init(&set, 0);
	member_set_finish(&set, keys[0]);
	assert_int_equal(member_diff(&set, keys[0], peers, 3, &d), 0);
	assert_int_equal(d.nremove, 2);
	assert_int_equal(d.remove[0], 2);
	assert_int_equal(d.remove[1], 0);
	assert_int_equal(d.nadd + d.nupdate, 0);
	member_diff_free(&d);
	member_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_update_remove),
	    cmocka_unit_test(test_static_peer_kept),
	    cmocka_unit_test(test_current_key_skipped),
	    cmocka_unit_test(test_empty_set),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
