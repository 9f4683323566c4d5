// SPDX-License-Identifier: ISC
/* Keypairs: reference counting, the rotation, counter reservation, rekey predicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "wgproto/keypair.h"

#define T0 (1000 * NSEC_PER_SEC)

static struct wg_keypair *make(bool initiator)
{
	struct wg_keypair *kp = wg_keypair_new();
	assert_non_null(kp);
	kp->initiator = initiator;
	kp->birth_ns = T0;
	return kp;
}

static void put_all(struct wg_keypair *dropped[3])
{
	for (int i = 0; i < 3; i++)
		wg_keypair_put(dropped[i]);
}

static void test_new_is_zeroed(void **state)
{
	(void)state;
	struct wg_keypair *kp = wg_keypair_new();
	assert_non_null(kp);
	assert_int_equal(atomic_load(&kp->refcount), 1);
	assert_int_equal(atomic_load(&kp->send_counter), 0);
	assert_int_equal(kp->replay.greatest, 0);
	static const uint8_t zero[WG_KEY_LEN];
	assert_memory_equal(kp->send_key, zero, WG_KEY_LEN);
	assert_memory_equal(kp->recv_key, zero, WG_KEY_LEN);
	wg_keypair_put(kp);
}

/* ASan's leak checker proves the last put frees; use after an early put would be caught. */
static void test_refcount(void **state)
{
	(void)state;
	struct wg_keypair *kp = wg_keypair_new();
	assert_non_null(kp);
	memset(kp->send_key, 0xaa, WG_KEY_LEN);
	wg_keypair_get(kp);
	wg_keypair_get(kp);
	assert_int_equal(atomic_load(&kp->refcount), 3);
	wg_keypair_put(kp);
	wg_keypair_put(kp);
	assert_int_equal(atomic_load(&kp->refcount), 1);
	assert_int_equal(kp->send_key[0], 0xaa);
	wg_keypair_put(kp);
	wg_keypair_put(NULL);
}

static void test_rotation_initiator(void **state)
{
	(void)state;
	struct wg_keypairs kps = {0};
	struct wg_keypair *dropped[3];
	struct wg_keypair *a = make(true), *b = make(true), *c = make(true);

	wg_keypairs_install(&kps, a, dropped);
	assert_ptr_equal(kps.current, a);
	assert_null(kps.previous);
	assert_null(kps.next);
	assert_null(dropped[0]);
	assert_null(dropped[1]);
	assert_null(dropped[2]);

	wg_keypairs_install(&kps, b, dropped);
	assert_ptr_equal(kps.current, b);
	assert_ptr_equal(kps.previous, a);
	assert_null(dropped[0]);
	assert_null(dropped[1]);

	wg_keypairs_install(&kps, c, dropped);
	assert_ptr_equal(kps.current, c);
	assert_ptr_equal(kps.previous, b);
	assert_ptr_equal(dropped[0], a);
	assert_null(dropped[1]);
	assert_null(dropped[2]);
	put_all(dropped);

	/* An unconfirmed responder keypair is dropped when we initiate a new one. */
	struct wg_keypair *r = make(false), *d = make(true);
	wg_keypairs_install(&kps, r, dropped);
	assert_ptr_equal(kps.next, r);
	assert_ptr_equal(kps.current, c);
	assert_null(dropped[0]);
	wg_keypairs_install(&kps, d, dropped);
	assert_ptr_equal(kps.current, d);
	assert_ptr_equal(kps.previous, c);
	assert_null(kps.next);
	assert_true((dropped[0] == b && dropped[1] == r) || (dropped[0] == r && dropped[1] == b));
	assert_null(dropped[2]);
	put_all(dropped);

	wg_keypairs_clear(&kps, dropped);
	assert_null(kps.current);
	assert_null(kps.previous);
	assert_null(kps.next);
	assert_ptr_equal(dropped[0], d);
	assert_ptr_equal(dropped[1], c);
	assert_null(dropped[2]);
	put_all(dropped);
}

static void test_rotation_responder(void **state)
{
	(void)state;
	struct wg_keypairs kps = {0};
	struct wg_keypair *dropped[3], *out;
	struct wg_keypair *r1 = make(false), *r2 = make(false), *r3 = make(false);
	struct wg_keypair *r4 = make(false);

	wg_keypairs_install(&kps, r1, dropped);
	assert_null(kps.current);
	assert_ptr_equal(kps.next, r1);
	assert_null(dropped[0]);
	/* Nothing to send with until the initiator confirms. */
	assert_false(wg_keypairs_received_with(&kps, NULL, &out));
	assert_true(wg_keypairs_received_with(&kps, r1, &out));
	assert_null(out);
	assert_ptr_equal(kps.current, r1);
	assert_null(kps.next);
	assert_null(kps.previous);
	/* Data on current changes nothing. */
	assert_false(wg_keypairs_received_with(&kps, r1, &out));
	assert_null(out);

	/* A newer unconfirmed keypair replaces the older unconfirmed one. */
	wg_keypairs_install(&kps, r2, dropped);
	assert_ptr_equal(kps.next, r2);
	wg_keypairs_install(&kps, r3, dropped);
	assert_ptr_equal(kps.next, r3);
	assert_ptr_equal(dropped[0], r2);
	assert_null(dropped[1]);
	assert_null(dropped[2]);
	put_all(dropped);
	assert_ptr_equal(kps.current, r1);

	assert_true(wg_keypairs_received_with(&kps, r3, &out));
	assert_null(out);
	assert_ptr_equal(kps.current, r3);
	assert_ptr_equal(kps.previous, r1);
	assert_null(kps.next);
	assert_false(wg_keypairs_received_with(&kps, r1, &out));
	assert_ptr_equal(kps.current, r3);

	wg_keypairs_install(&kps, r4, dropped);
	assert_true(wg_keypairs_received_with(&kps, r4, &out));
	assert_ptr_equal(out, r1);
	wg_keypair_put(out);
	assert_ptr_equal(kps.current, r4);
	assert_ptr_equal(kps.previous, r3);

	wg_keypairs_clear(&kps, dropped);
	assert_ptr_equal(dropped[0], r4);
	assert_ptr_equal(dropped[1], r3);
	assert_null(dropped[2]);
	put_all(dropped);
}

static void test_reserve_counts(void **state)
{
	(void)state;
	struct wg_keypair *kp = make(true);
	uint64_t first = 12345;

	assert_false(wg_keypair_reserve(kp, T0, 0, &first));
	assert_true(wg_keypair_reserve(kp, T0, 1, &first));
	assert_int_equal(first, 0);
	assert_true(wg_keypair_reserve(kp, T0, 64, &first));
	assert_int_equal(first, 1);
	assert_true(wg_keypair_reserve(kp, T0, 1, &first));
	assert_int_equal(first, 65);

	/* The last usable counter is REJECT_AFTER_MESSAGES - 1. */
	atomic_store(&kp->send_counter, WG_REJECT_AFTER_MESSAGES - 10);
	assert_false(wg_keypair_reserve(kp, T0, 11, &first));
	assert_int_equal(atomic_load(&kp->send_counter), WG_REJECT_AFTER_MESSAGES - 10);
	assert_true(wg_keypair_reserve(kp, T0, 10, &first));
	assert_int_equal(first, WG_REJECT_AFTER_MESSAGES - 10);
	assert_false(wg_keypair_reserve(kp, T0, 1, &first));
	assert_false(wg_keypair_reserve(kp, T0, UINT32_MAX, &first));
	assert_int_equal(atomic_load(&kp->send_counter), WG_REJECT_AFTER_MESSAGES);
	wg_keypair_put(kp);
}

static void test_reserve_time(void **state)
{
	(void)state;
	struct wg_keypair *kp = make(false);
	uint64_t first;

	assert_true(wg_keypair_reserve(kp, T0 + WG_REJECT_AFTER_TIME - 1, 1, &first));
	assert_false(wg_keypair_reserve(kp, T0 + WG_REJECT_AFTER_TIME, 1, &first));
	assert_false(wg_keypair_reserve(kp, T0 + 10 * WG_REJECT_AFTER_TIME, 1, &first));
	assert_true(wg_keypair_can_receive(kp, T0));
	assert_true(wg_keypair_can_receive(kp, T0 + WG_REJECT_AFTER_TIME - 1));
	assert_false(wg_keypair_can_receive(kp, T0 + WG_REJECT_AFTER_TIME));
	wg_keypair_put(kp);
}

struct reserver {
	struct wg_keypair *kp;
	uint64_t firsts[20000];
};

static void *reserve_thread(void *arg)
{
	struct reserver *r = arg;
	for (size_t i = 0; i < sizeof(r->firsts) / sizeof(r->firsts[0]); i++)
		if (!wg_keypair_reserve(r->kp, T0, 3, &r->firsts[i]))
			r->firsts[i] = UINT64_MAX;
	return NULL;
}

/* Concurrent reservations never overlap and never lose a counter. */
static void test_reserve_threads(void **state)
{
	(void)state;
	enum { THREADS = 4, EACH = 20000, TOTAL = THREADS * EACH * 3 };
	struct wg_keypair *kp = make(true);
	struct reserver *rs = calloc(THREADS, sizeof(*rs));
	pthread_t th[THREADS];
	assert_non_null(rs);
	for (int i = 0; i < THREADS; i++) {
		rs[i].kp = kp;
		assert_int_equal(pthread_create(&th[i], NULL, reserve_thread, &rs[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&kp->send_counter), TOTAL);

	uint8_t *used = calloc(TOTAL, 1);
	assert_non_null(used);
	for (int i = 0; i < THREADS; i++) {
		for (int j = 0; j < EACH; j++) {
			uint64_t f = rs[i].firsts[j];
			assert_true(f % 3 == 0 && f < TOTAL);
			assert_int_equal(used[f], 0);
			used[f] = 1;
		}
	}
	free(used);
	free(rs);
	wg_keypair_put(kp);
}

static void test_rekey_on_send(void **state)
{
	(void)state;
	struct wg_keypair *ini = make(true), *resp = make(false);

	assert_false(wg_keypair_needs_rekey_on_send(ini, T0));
	assert_false(wg_keypair_needs_rekey_on_send(ini, T0 + WG_REKEY_AFTER_TIME - 1));
	assert_true(wg_keypair_needs_rekey_on_send(ini, T0 + WG_REKEY_AFTER_TIME));
	/* Only the initiator rekeys by age, so both sides do not race. */
	assert_false(wg_keypair_needs_rekey_on_send(resp, T0 + WG_REKEY_AFTER_TIME));
	assert_false(wg_keypair_needs_rekey_on_send(resp, T0 + WG_REJECT_AFTER_TIME));

	atomic_store(&resp->send_counter, WG_REKEY_AFTER_MESSAGES);
	assert_false(wg_keypair_needs_rekey_on_send(resp, T0));
	atomic_store(&resp->send_counter, WG_REKEY_AFTER_MESSAGES + 1);
	assert_true(wg_keypair_needs_rekey_on_send(resp, T0));
	atomic_store(&ini->send_counter, WG_REKEY_AFTER_MESSAGES + 1);
	assert_true(wg_keypair_needs_rekey_on_send(ini, T0));
	wg_keypair_put(ini);
	wg_keypair_put(resp);
}

static void test_rekey_on_receive(void **state)
{
	(void)state;
	struct wg_keypair *ini = make(true), *resp = make(false);
	const uint64_t limit = WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT;

	assert_int_equal(limit, 165 * NSEC_PER_SEC);
	assert_false(wg_keypair_needs_rekey_on_receive(ini, T0));
	assert_false(wg_keypair_needs_rekey_on_receive(ini, T0 + limit - 1));
	assert_true(wg_keypair_needs_rekey_on_receive(ini, T0 + limit));
	assert_false(wg_keypair_needs_rekey_on_receive(resp, T0 + limit));
	assert_false(wg_keypair_needs_rekey_on_receive(resp, T0 + WG_REJECT_AFTER_TIME));
	/* A clock before birth counts as age zero, never as a huge age. */
	assert_false(wg_keypair_needs_rekey_on_receive(ini, T0 - 1));
	assert_true(wg_keypair_can_receive(ini, 0));
	wg_keypair_put(ini);
	wg_keypair_put(resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_is_zeroed),      cmocka_unit_test(test_refcount),
	    cmocka_unit_test(test_rotation_initiator), cmocka_unit_test(test_rotation_responder),
	    cmocka_unit_test(test_reserve_counts),     cmocka_unit_test(test_reserve_time),
	    cmocka_unit_test(test_reserve_threads),    cmocka_unit_test(test_rekey_on_send),
	    cmocka_unit_test(test_rekey_on_receive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
