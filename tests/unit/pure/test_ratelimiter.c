// SPDX-License-Identifier: ISC
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "wgproto/crypto.h"
#include "wgproto/ratelimiter.h"

#define T0   (5000 * NSEC_PER_SEC)
#define COST (NSEC_PER_SEC / WG_RL_PACKETS_PER_SECOND)

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static void test_burst_then_rate(void **state)
{
	(void)state;
	struct wg_ratelimiter rl;
	struct in6_addr a = addr("2001:db8::1");

	assert_true(wg_ratelimiter_init(&rl, 64));
	for (int i = 0; i < WG_RL_BURST; i++)
		assert_true(wg_ratelimiter_allow(&rl, &a, T0));
	assert_false(wg_ratelimiter_allow(&rl, &a, T0));
	assert_false(wg_ratelimiter_allow(&rl, &a, T0 + COST / 2));
	/* One packet's worth of time buys exactly one more. */
	assert_true(wg_ratelimiter_allow(&rl, &a, T0 + COST));
	assert_false(wg_ratelimiter_allow(&rl, &a, T0 + COST));
	/* Steady state: 20 a second get through. */
	int allowed = 0;
	for (uint64_t t = T0 + 2 * COST; t < T0 + 2 * COST + NSEC_PER_SEC; t += COST / 4)
		allowed += wg_ratelimiter_allow(&rl, &a, t);
	assert_int_equal(allowed, WG_RL_PACKETS_PER_SECOND);
	wg_ratelimiter_destroy(&rl);
}

static void test_sources_are_separate(void **state)
{
	(void)state;
	struct wg_ratelimiter rl;
	struct in6_addr a = addr("2001:db8:1::1"), same64 = addr("2001:db8:1::ffff");
	struct in6_addr other64 = addr("2001:db8:2::1");
	struct in6_addr v4a = addr("::ffff:192.0.2.1"), v4b = addr("::ffff:192.0.2.2");

	assert_true(wg_ratelimiter_init(&rl, 64));
	for (int i = 0; i < WG_RL_BURST; i++)
		assert_true(wg_ratelimiter_allow(&rl, &a, T0));
	/* The same /64 shares the bucket; another /64 has its own. */
	assert_false(wg_ratelimiter_allow(&rl, &same64, T0));
	assert_true(wg_ratelimiter_allow(&rl, &other64, T0));
	/* IPv4 sources count per address. */
	for (int i = 0; i < WG_RL_BURST; i++)
		assert_true(wg_ratelimiter_allow(&rl, &v4a, T0));
	assert_false(wg_ratelimiter_allow(&rl, &v4a, T0));
	assert_true(wg_ratelimiter_allow(&rl, &v4b, T0));
	wg_ratelimiter_destroy(&rl);
}

static void test_table_full_and_collected(void **state)
{
	(void)state;
	struct wg_ratelimiter rl;
	struct in6_addr a = addr("2001:db8::");

	assert_true(wg_ratelimiter_init(&rl, 8));
	for (int i = 0; i < 8; i++) {
		a.s6_addr[7] = (uint8_t)i; /* eight different /64s */
		assert_true(wg_ratelimiter_allow(&rl, &a, T0));
	}
	a.s6_addr[7] = 100;
	assert_false(wg_ratelimiter_allow(&rl, &a, T0)); /* no room for a ninth */
	/* Once the others have been idle long enough they are forgotten. */
	assert_true(wg_ratelimiter_allow(&rl, &a, T0 + WG_RL_IDLE_NS));
	assert_int_equal(rl.used, 1);
	wg_ratelimiter_destroy(&rl);
}

/*
 * A refusal renews nothing: the source's entry still ages from its last
 * message allowed, so once that is a second old its slot is free for
 * another source, however many refused messages it sent since.
 */
static void test_refused_does_not_renew(void **state)
{
	(void)state;
	struct wg_ratelimiter rl;
	struct in6_addr a = addr("::ffff:198.18.0.1"), b = addr("::ffff:198.18.0.2");

	assert_true(wg_ratelimiter_init(&rl, 1));
	for (int i = 0; i < WG_RL_BURST; i++)
		assert_true(wg_ratelimiter_allow(&rl, &a, T0));
	/* Refused, until a packet's worth of time has passed since the last allowed. */
	for (uint64_t t = T0; t < T0 + COST; t += COST / 8)
		assert_false(wg_ratelimiter_allow(&rl, &a, t));
	assert_false(wg_ratelimiter_allow(&rl, &a, T0 + COST - 1));
	/* The table holds one source: b waits. */
	assert_false(wg_ratelimiter_allow(&rl, &b, T0 + COST - 1));
	/* A second after a's last allowed message, not after its last refusal: a is gone. */
	assert_true(wg_ratelimiter_allow(&rl, &b, T0 + WG_RL_IDLE_NS));
	assert_int_equal(rl.used, 1);
	/* And it is a that waits now, in turn. */
	assert_false(wg_ratelimiter_allow(&rl, &a, T0 + WG_RL_IDLE_NS));
	wg_ratelimiter_destroy(&rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_rate),
	    cmocka_unit_test(test_sources_are_separate),
	    cmocka_unit_test(test_table_full_and_collected),
	    cmocka_unit_test(test_refused_does_not_renew),
	};
	assert_true(wg_crypto_init());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
