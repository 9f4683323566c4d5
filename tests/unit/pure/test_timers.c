// SPDX-License-Identifier: ISC
/* The WireGuard timer rules under a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wgproto/timers.h"

#define SEC NSEC_PER_SEC
#define MS  NSEC_PER_MSEC
#define T0  (1000 * SEC)

/* A deterministic jitter in [0, WG_REKEY_TIMEOUT_JITTER) per step. */
static uint64_t jitter_of(uint32_t k)
{
	return (k * 97 * MS + 13) % WG_REKEY_TIMEOUT_JITTER;
}

static void test_idle(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
	assert_int_equal(wg_timers_expired(&t, T0, 0), 0);
	assert_int_equal(wg_timers_expired(&t, UINT64_MAX, 0), 0);
}

/* Retries every REKEY_TIMEOUT + jitter, 18 of them, then GIVE_UP. */
static void test_retries_then_give_up(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);

	uint64_t now = T0;
	assert_true(wg_timers_may_initiate(&t, now, false));
	wg_timers_handshake_initiated(&t, now, jitter_of(0));
	uint64_t last_sent = now;
	uint32_t retries = 0, k = 1;

	for (;;) {
		uint64_t next = wg_timers_next_deadline(&t);
		assert_true(next > now);
		/* Nothing is due a nanosecond early. */
		if (next - 1 > now)
			assert_int_equal(
			    wg_timers_expired(&t, next - 1, 0) & WG_TIMER_SEND_INITIATION, 0);
		now = next;
		uint32_t actions = wg_timers_expired(&t, now, jitter_of(k));
		if (actions & WG_TIMER_GIVE_UP) {
			assert_int_equal(actions & WG_TIMER_SEND_INITIATION, 0);
			break;
		}
		assert_int_equal(actions, WG_TIMER_SEND_INITIATION);
		assert_int_equal(now - last_sent, WG_REKEY_TIMEOUT + jitter_of(k - 1));
		assert_true(t.handshake_attempts > 0);
		assert_true(wg_timers_may_initiate(&t, now, true));
		assert_int_equal(t.last_initiation_sent, now);
		retries++;
		last_sent = now;
		wg_timers_handshake_initiated(&t, now, jitter_of(k));
		/* Keeps a keepalive pending that giving up must cancel. */
		wg_timers_any_authenticated_packet_sent(&t, now);
		wg_timers_data_received(&t, now);
		k++;
		assert_true(retries <= WG_MAX_TIMER_HANDSHAKES);
	}
	assert_int_equal(retries, 18);
	assert_int_equal(t.handshake_attempts, 18);
	/* The last retry went out at about REKEY_ATTEMPT_TIME. */
	assert_true(last_sent - T0 >= WG_REKEY_ATTEMPT_TIME);
	assert_true(last_sent - T0 < WG_REKEY_ATTEMPT_TIME + 18 * WG_REKEY_TIMEOUT_JITTER);
	assert_int_equal(t.retransmit_handshake, 0);
	assert_int_equal(t.send_keepalive, 0);
	assert_int_equal(t.zero_key_material, now + 3 * WG_REJECT_AFTER_TIME);
	assert_int_equal(wg_timers_next_deadline(&t), now + 3 * WG_REJECT_AFTER_TIME);
	assert_int_equal(wg_timers_expired(&t, now + 3 * WG_REJECT_AFTER_TIME, 0),
			 WG_TIMER_ZERO_KEYS);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
}

/* Giving up keeps an already armed zero_key_material deadline. */
static void test_give_up_keeps_zero_keys(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_session_derived(&t, T0);
	t.handshake_attempts = WG_MAX_TIMER_HANDSHAKES;
	wg_timers_handshake_initiated(&t, T0 + 100 * SEC, 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 105 * SEC, 0), WG_TIMER_GIVE_UP);
	assert_int_equal(t.zero_key_material, T0 + 3 * WG_REJECT_AFTER_TIME);
}

static void test_handshake_complete_stops_retries(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	assert_true(wg_timers_may_initiate(&t, T0, false));
	wg_timers_handshake_initiated(&t, T0, 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 5 * SEC, 0), WG_TIMER_SEND_INITIATION);
	wg_timers_handshake_initiated(&t, T0 + 5 * SEC, 0);
	assert_int_equal(t.handshake_attempts, 1);
	assert_true(wg_timers_lastminute_handshake(&t));
	wg_timers_handshake_complete(&t, T0 + 6 * SEC);
	assert_int_equal(t.handshake_attempts, 0);
	assert_false(t.sent_lastminute_handshake);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
	assert_int_equal(wg_timers_expired(&t, T0 + 60 * SEC, 0), 0);
}

/* A retry re-arms itself, so a failed send does not end the retry cycle. */
static void test_retry_rearms_without_caller(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_handshake_initiated(&t, T0, 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 5 * SEC, 7), WG_TIMER_SEND_INITIATION);
	assert_int_equal(t.retransmit_handshake, T0 + 10 * SEC + 7);
}

/* Data received and 10 s of our silence: a passive keepalive. */
static void test_passive_keepalive(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_data_received(&t, T0);
	assert_int_equal(wg_timers_next_deadline(&t), T0 + WG_KEEPALIVE_TIMEOUT);
	assert_int_equal(wg_timers_expired(&t, T0 + WG_KEEPALIVE_TIMEOUT - 1, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + WG_KEEPALIVE_TIMEOUT, 0),
			 WG_TIMER_SEND_KEEPALIVE);
	/* Fires once. */
	assert_int_equal(wg_timers_expired(&t, T0 + 100 * SEC, 0), 0);
}

/* More data while the keepalive is pending earns a second one. */
static void test_another_keepalive(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_data_received(&t, T0);
	wg_timers_data_received(&t, T0 + 4 * SEC);
	assert_true(t.need_another_keepalive);
	/* The second packet does not push the first deadline back. */
	assert_int_equal(t.send_keepalive, T0 + WG_KEEPALIVE_TIMEOUT);
	uint64_t fire = T0 + WG_KEEPALIVE_TIMEOUT;
	assert_int_equal(wg_timers_expired(&t, fire, 0), WG_TIMER_SEND_KEEPALIVE);
	assert_false(t.need_another_keepalive);
	assert_int_equal(t.send_keepalive, fire + WG_KEEPALIVE_TIMEOUT);
	assert_int_equal(wg_timers_expired(&t, fire + WG_KEEPALIVE_TIMEOUT, 0),
			 WG_TIMER_SEND_KEEPALIVE);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
}

/* Anything authenticated we send answers for us: no keepalive. */
static void test_no_keepalive_after_send(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_data_received(&t, T0);
	wg_timers_any_authenticated_packet_sent(&t, T0 + 3 * SEC);
	assert_int_equal(wg_timers_expired(&t, T0 + WG_KEEPALIVE_TIMEOUT, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 60 * SEC, 0), 0);
}

/* Data sent and nothing heard for KEEPALIVE + REKEY_TIMEOUT: a new handshake. */
static void test_new_handshake_after_silence(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	const uint64_t j = 123 * MS;
	wg_timers_data_sent(&t, T0, j);
	/* Later data does not move the deadline. */
	wg_timers_data_sent(&t, T0 + 5 * SEC, 0);
	uint64_t due = T0 + 15 * SEC + j;
	assert_int_equal(wg_timers_next_deadline(&t), due);
	assert_int_equal(wg_timers_expired(&t, due - 1, 0), 0);
	assert_int_equal(wg_timers_expired(&t, due, 0), WG_TIMER_SEND_INITIATION);
	/* Not a retry: the caller's fresh initiation passes the rate limit. */
	assert_int_equal(t.handshake_attempts, 0);
	assert_true(wg_timers_may_initiate(&t, due, t.handshake_attempts > 0));
	assert_int_equal(t.last_initiation_sent, due);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
}

static void test_no_new_handshake_if_heard(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_data_sent(&t, T0, 0);
	wg_timers_any_authenticated_packet_received(&t, T0 + 14 * SEC);
	assert_int_equal(wg_timers_expired(&t, T0 + 15 * SEC, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 100 * SEC, 0), 0);
	/* The next data after that arms it again from then. */
	wg_timers_data_sent(&t, T0 + 20 * SEC, 0);
	assert_int_equal(wg_timers_next_deadline(&t), T0 + 35 * SEC);
}

/* The quiet-peer initiation still obeys the one-per-REKEY_TIMEOUT limit. */
static void test_new_handshake_rate_limited(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_data_sent(&t, T0, 0);
	assert_true(wg_timers_may_initiate(&t, T0 + 14 * SEC, false));
	assert_int_equal(wg_timers_expired(&t, T0 + 15 * SEC, 0), WG_TIMER_SEND_INITIATION);
	assert_false(wg_timers_may_initiate(&t, T0 + 15 * SEC, t.handshake_attempts > 0));
	assert_int_equal(t.last_initiation_sent, T0 + 14 * SEC);
}

static void test_persistent_keepalive(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 25);
	/* Without traffic nothing is armed yet. */
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
	wg_timers_any_authenticated_packet_traversal(&t, T0);
	assert_int_equal(wg_timers_expired(&t, T0 + 25 * SEC - 1, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 25 * SEC, 0), WG_TIMER_SEND_KEEPALIVE);
	/* Each packet either way pushes it back. */
	wg_timers_any_authenticated_packet_traversal(&t, T0 + 25 * SEC);
	wg_timers_any_authenticated_packet_traversal(&t, T0 + 40 * SEC);
	assert_int_equal(wg_timers_expired(&t, T0 + 50 * SEC, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 65 * SEC, 0), WG_TIMER_SEND_KEEPALIVE);

	/* Turning it off disarms; turning it on sends at once. */
	wg_timers_any_authenticated_packet_traversal(&t, T0 + 70 * SEC);
	wg_timers_set_persistent_keepalive(&t, 0, T0 + 71 * SEC);
	assert_int_equal(wg_timers_expired(&t, T0 + 200 * SEC, 0), 0);
	wg_timers_any_authenticated_packet_traversal(&t, T0 + 200 * SEC);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
	wg_timers_set_persistent_keepalive(&t, 5, T0 + 300 * SEC);
	assert_int_equal(wg_timers_expired(&t, T0 + 300 * SEC, 0), WG_TIMER_SEND_KEEPALIVE);
	wg_timers_any_authenticated_packet_traversal(&t, T0 + 300 * SEC);
	assert_int_equal(wg_timers_next_deadline(&t), T0 + 305 * SEC);
}

static void test_zero_keys(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_session_derived(&t, T0);
	assert_int_equal(wg_timers_expired(&t, T0 + 540 * SEC - 1, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 540 * SEC, 0), WG_TIMER_ZERO_KEYS);
	/* A new session pushes it back. */
	wg_timers_session_derived(&t, T0 + 600 * SEC);
	wg_timers_session_derived(&t, T0 + 700 * SEC);
	assert_int_equal(wg_timers_expired(&t, T0 + 1140 * SEC, 0), 0);
	assert_int_equal(wg_timers_expired(&t, T0 + 1240 * SEC, 0), WG_TIMER_ZERO_KEYS);
}

static void test_may_initiate(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	assert_true(wg_timers_may_initiate(&t, T0, false));
	assert_int_equal(t.last_initiation_sent, T0);
	assert_false(wg_timers_may_initiate(&t, T0 + 1, false));
	assert_false(wg_timers_may_initiate(&t, T0 + WG_REKEY_TIMEOUT, false));
	assert_int_equal(t.last_initiation_sent, T0);
	/* Retries are never limited here and are recorded. */
	t.handshake_attempts = 4;
	assert_true(wg_timers_may_initiate(&t, T0 + 2 * SEC, true));
	assert_int_equal(t.handshake_attempts, 4);
	assert_int_equal(t.last_initiation_sent, T0 + 2 * SEC);
	/* Non-retries reset the attempts even when refused. */
	assert_false(wg_timers_may_initiate(&t, T0 + 3 * SEC, false));
	assert_int_equal(t.handshake_attempts, 0);
	assert_true(wg_timers_may_initiate(&t, T0 + 2 * SEC + WG_REKEY_TIMEOUT + 1, false));
	assert_int_equal(t.last_initiation_sent, T0 + 2 * SEC + WG_REKEY_TIMEOUT + 1);
	/* A clock that went backwards is refused, not wrapped around. */
	assert_false(wg_timers_may_initiate(&t, T0, false));
}

static void test_lastminute_once(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	assert_true(wg_timers_lastminute_handshake(&t));
	assert_false(wg_timers_lastminute_handshake(&t));
	assert_false(wg_timers_lastminute_handshake(&t));
	wg_timers_handshake_complete(&t, T0);
	assert_true(wg_timers_lastminute_handshake(&t));
}

static void test_next_deadline_and_stop(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 25);
	wg_timers_session_derived(&t, T0);
	wg_timers_data_sent(&t, T0, 0);
	wg_timers_data_received(&t, T0 + 1 * SEC);
	wg_timers_any_authenticated_packet_traversal(&t, T0);
	wg_timers_handshake_initiated(&t, T0 + 3 * SEC, 0);
	assert_int_equal(wg_timers_next_deadline(&t), T0 + 8 * SEC);
	wg_timers_handshake_complete(&t, T0 + 4 * SEC);
	assert_int_equal(wg_timers_next_deadline(&t), T0 + 11 * SEC);
	/* Everything due at once is reported together. */
	uint32_t all = wg_timers_expired(&t, T0 + 1000 * SEC, 0);
	assert_int_equal(all,
			 WG_TIMER_SEND_KEEPALIVE | WG_TIMER_SEND_INITIATION | WG_TIMER_ZERO_KEYS);

	wg_timers_session_derived(&t, T0);
	wg_timers_data_sent(&t, T0, 0);
	wg_timers_data_received(&t, T0);
	wg_timers_any_authenticated_packet_traversal(&t, T0);
	wg_timers_handshake_initiated(&t, T0, 0);
	wg_timers_stop(&t);
	assert_int_equal(wg_timers_next_deadline(&t), UINT64_MAX);
	assert_int_equal(wg_timers_expired(&t, UINT64_MAX, 0), 0);
}

/* A deadline computed at clock zero is still armed (0 means unarmed). */
static void test_clock_zero(void **state)
{
	(void)state;
	struct wg_timers t;
	wg_timers_init(&t, 0);
	wg_timers_set_persistent_keepalive(&t, 1, 0);
	assert_int_equal(wg_timers_next_deadline(&t), 1);
	assert_int_equal(wg_timers_expired(&t, 1, 0), WG_TIMER_SEND_KEEPALIVE);
	assert_true(wg_timers_may_initiate(&t, 0, false));
	assert_false(wg_timers_may_initiate(&t, 1 * SEC, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle),
	    cmocka_unit_test(test_retries_then_give_up),
	    cmocka_unit_test(test_give_up_keeps_zero_keys),
	    cmocka_unit_test(test_handshake_complete_stops_retries),
	    cmocka_unit_test(test_retry_rearms_without_caller),
	    cmocka_unit_test(test_passive_keepalive),
	    cmocka_unit_test(test_another_keepalive),
	    cmocka_unit_test(test_no_keepalive_after_send),
	    cmocka_unit_test(test_new_handshake_after_silence),
	    cmocka_unit_test(test_no_new_handshake_if_heard),
	    cmocka_unit_test(test_new_handshake_rate_limited),
	    cmocka_unit_test(test_persistent_keepalive),
	    cmocka_unit_test(test_zero_keys),
	    cmocka_unit_test(test_may_initiate),
	    cmocka_unit_test(test_lastminute_once),
	    cmocka_unit_test(test_next_deadline_and_stop),
	    cmocka_unit_test(test_clock_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
