// SPDX-License-Identifier: ISC
/* The replay window: exact edges, reordering, jumps and the message limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wgproto/replay.h"

/* Counters remembered exactly below the greatest one (top included). */
#define WINDOW (WG_REPLAY_WINDOW_BITS - WG_REPLAY_WORD_BITS)

static void test_in_order(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	for (uint64_t c = 0; c < 3 * WG_REPLAY_WINDOW_BITS; c++)
		assert_true(wg_replay_accept(&r, c));
	assert_int_equal(r.greatest, 3 * WG_REPLAY_WINDOW_BITS);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 0));
	assert_false(wg_replay_accept(&r, 0));
	assert_true(wg_replay_accept(&r, 1));
	assert_false(wg_replay_accept(&r, 1));
	assert_false(wg_replay_accept(&r, 0));
	for (uint64_t c = 2; c < 1000; c++)
		assert_true(wg_replay_accept(&r, c));
	for (uint64_t c = 0; c < 1000; c++)
		assert_false(wg_replay_accept(&r, c));
}

static void test_reordered_within_window(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 100));
	assert_true(wg_replay_accept(&r, 50));
	assert_true(wg_replay_accept(&r, 99));
	assert_true(wg_replay_accept(&r, 0));
	assert_true(wg_replay_accept(&r, 101));
	assert_false(wg_replay_accept(&r, 50));
	assert_false(wg_replay_accept(&r, 99));
	assert_false(wg_replay_accept(&r, 100));
	assert_true(wg_replay_accept(&r, 98));
	assert_int_equal(r.greatest, 102);
}

/* The oldest counter still accepted is exactly greatest - WINDOW, wherever the top sits in its
 * word. */
static void test_window_edge_exact(void **state)
{
	(void)state;
	const uint64_t tops[] = {WINDOW - 1, WINDOW,	    20000,     20032,
				 64 * 500,   64 * 500 + 63, 1ULL << 40};
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		uint64_t top = tops[i];
		struct wg_replay r;
		wg_replay_init(&r);
		assert_true(wg_replay_accept(&r, top));
		if (top >= WINDOW)
			assert_false(wg_replay_accept(&r, top - WINDOW));
		assert_true(wg_replay_accept(&r, top - (WINDOW - 1)));
		assert_false(wg_replay_accept(&r, top - (WINDOW - 1)));
		assert_true(wg_replay_accept(&r, top - 1));
	}
}

static void test_too_old(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 5));
	assert_true(wg_replay_accept(&r, 100000));
	assert_false(wg_replay_accept(&r, 5));
	assert_false(wg_replay_accept(&r, 6));
	assert_false(wg_replay_accept(&r, 0));
	assert_false(wg_replay_accept(&r, 100000 - WINDOW - 1000));
	/* A rejected counter leaves the window where it was. */
	assert_int_equal(r.greatest, 100001);
}

static void test_big_jumps(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	for (uint64_t c = 0; c < WG_REPLAY_WINDOW_BITS; c++)
		assert_true(wg_replay_accept(&r, c));
	/* Same ring positions one and several rings later: stale bits must be gone. */
	assert_true(wg_replay_accept(&r, WG_REPLAY_WINDOW_BITS + 5));
	assert_true(wg_replay_accept(&r, WG_REPLAY_WINDOW_BITS + 4));
	assert_false(wg_replay_accept(&r, WG_REPLAY_WINDOW_BITS + 5));
	for (uint64_t c = WG_REPLAY_WINDOW_BITS + 6; c < 2 * WG_REPLAY_WINDOW_BITS; c++)
		assert_true(wg_replay_accept(&r, c));
	assert_true(wg_replay_accept(&r, 1ULL << 40));
	for (uint64_t c = (1ULL << 40) - WINDOW + 1; c < (1ULL << 40); c += 7)
		assert_true(wg_replay_accept(&r, c));
	assert_false(wg_replay_accept(&r, (1ULL << 40) - WINDOW));
	assert_false(wg_replay_accept(&r, 2 * WG_REPLAY_WINDOW_BITS - 1));
	assert_true(wg_replay_accept(&r, (1ULL << 40) + 3 * WG_REPLAY_WINDOW_BITS + 1));
	assert_true(wg_replay_accept(&r, (1ULL << 40) + 3 * WG_REPLAY_WINDOW_BITS));
	assert_false(wg_replay_accept(&r, (1ULL << 40)));
}

static void test_reject_after_messages(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 10));
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES));
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES + 1));
	assert_false(wg_replay_accept(&r, UINT64_MAX));
	/* The forbidden counters did not move the window. */
	assert_int_equal(r.greatest, 11);
	assert_true(wg_replay_accept(&r, 9));
	assert_true(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES - 1));
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES - 1));
	assert_true(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES - 2));
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES));
}

/* At least 2048 counters of reordering survive, as WireGuard requires. */
static void test_wide_window(void **state)
{
	(void)state;
	struct wg_replay r;
	wg_replay_init(&r);
	const uint64_t top = 50000;
	assert_true(wg_replay_accept(&r, top));
	for (uint64_t c = top - 1; c > top - WINDOW; c--)
		assert_true(wg_replay_accept(&r, c));
	for (uint64_t c = top - WINDOW + 1; c <= top; c++)
		assert_false(wg_replay_accept(&r, c));
	assert_true(WINDOW >= 2048);
}

/* Random traffic against a model: seen set plus "not older than the window". */
static void test_against_model(void **state)
{
	(void)state;
	enum { ROUNDS = 300000, SPAN = ROUNDS + 40000 };
	uint8_t *seen = calloc(SPAN, 1);
	assert_non_null(seen);
	struct wg_replay r;
	wg_replay_init(&r);
	uint64_t greatest = 0, accepted = 0, rejected = 0;
	srand(1234);
	for (uint64_t base = 10000; base < ROUNDS; base++) {
		/* Mostly reordered within the window, some too old, a few jumps ahead. */
		uint64_t c = base - 9000 + (uint64_t)(rand() % 10000);
		if (rand() % 100 == 0)
			c = base + (uint64_t)(rand() % 4000);
		bool expect = !seen[c] && c + WINDOW >= greatest;
		assert_int_equal(wg_replay_accept(&r, c), expect);
		if (!expect) {
			rejected++;
			continue;
		}
		seen[c] = 1;
		accepted++;
		if (c + 1 > greatest)
			greatest = c + 1;
	}
	free(seen);
	assert_true(accepted > 10000);
	assert_true(rejected > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_reordered_within_window),
	    cmocka_unit_test(test_window_edge_exact),
	    cmocka_unit_test(test_too_old),
	    cmocka_unit_test(test_big_jumps),
	    cmocka_unit_test(test_reject_after_messages),
	    cmocka_unit_test(test_wide_window),
	    cmocka_unit_test(test_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
