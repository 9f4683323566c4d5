// SPDX-License-Identifier: ISC
/* The receiver-index table: kinds, references, growth, tombstones, concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <sodium.h>

#include "wgproto/index.h"

static int setup(void **state)
{
	struct wg_index_table *t = calloc(1, sizeof(*t));
	if (!t || sodium_init() < 0 || !wg_index_init(t)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	wg_index_destroy(*state);
	free(*state);
	return 0;
}

static void test_add_lookup_remove(void **state)
{
	struct wg_index_table *t = *state;
	struct wg_keypair *kp = wg_keypair_new();
	struct wg_handshake hs = {0};
	uint32_t ki, hi;

	assert_non_null(kp);
	assert_true(wg_index_add(t, WG_INDEX_KEYPAIR, kp, &ki));
	assert_true(wg_index_add(t, WG_INDEX_HANDSHAKE, &hs, &hi));
	assert_int_not_equal(ki, hi);
	assert_int_equal(t->used, 2);

	struct wg_keypair *got = wg_index_get_keypair(t, ki);
	assert_ptr_equal(got, kp);
	assert_int_equal(atomic_load(&kp->refcount), 2);
	wg_keypair_put(got);
	assert_ptr_equal(wg_index_get_handshake(t, hi), &hs);

	/* The wrong kind finds nothing. */
	assert_null(wg_index_get_handshake(t, ki));
	assert_null(wg_index_get_keypair(t, hi));
	assert_int_equal(atomic_load(&kp->refcount), 1);

	wg_index_remove(t, ki);
	assert_null(wg_index_get_keypair(t, ki));
	assert_ptr_equal(wg_index_get_handshake(t, hi), &hs);
	wg_index_remove(t, hi);
	assert_null(wg_index_get_handshake(t, hi));
	assert_int_equal(t->used, 0);
	/* Removing twice or an unknown index is harmless. */
	wg_index_remove(t, hi);
	wg_index_remove(t, ki ^ 1);
	assert_int_equal(t->used, 0);
	wg_keypair_put(kp);
}

static void test_rejects_bad_add(void **state)
{
	struct wg_index_table *t = *state;
	struct wg_handshake hs = {0};
	uint32_t idx = 77;
	assert_false(wg_index_add(t, WG_INDEX_NONE, &hs, &idx));
	assert_false(wg_index_add(t, WG_INDEX_HANDSHAKE, NULL, &idx));
	assert_int_equal(idx, 77);
	assert_int_equal(t->used, 0);
}

/* A handshake's index becomes its keypair's: same number, new kind. */
static void test_replace(void **state)
{
	struct wg_index_table *t = *state;
	struct wg_handshake hs = {0};
	struct wg_keypair *kp = wg_keypair_new();
	uint32_t idx;

	assert_non_null(kp);
	assert_true(wg_index_add(t, WG_INDEX_HANDSHAKE, &hs, &idx));
	assert_false(wg_index_replace(t, idx, WG_INDEX_NONE, kp));
	assert_false(wg_index_replace(t, idx, WG_INDEX_KEYPAIR, NULL));
	assert_ptr_equal(wg_index_get_handshake(t, idx), &hs);
	assert_true(wg_index_replace(t, idx, WG_INDEX_KEYPAIR, kp));
	assert_null(wg_index_get_handshake(t, idx));
	struct wg_keypair *got = wg_index_get_keypair(t, idx);
	assert_ptr_equal(got, kp);
	wg_keypair_put(got);
	assert_int_equal(t->used, 1);
	/* Unknown or removed indices cannot be replaced. */
	wg_index_remove(t, idx);
	assert_false(wg_index_replace(t, idx, WG_INDEX_KEYPAIR, kp));
	assert_false(wg_index_replace(t, idx ^ 0x80000000u, WG_INDEX_HANDSHAKE, &hs));
	assert_null(wg_index_get_keypair(t, idx));
	assert_int_equal(t->used, 0);
	wg_keypair_put(kp);
}

/* The reference taken by a lookup outlives the table's own. */
static void test_reference_outlives_removal(void **state)
{
	struct wg_index_table *t = *state;
	struct wg_keypair *kp = wg_keypair_new();
	uint32_t idx;
	assert_non_null(kp);
	memset(kp->recv_key, 0x5a, WG_KEY_LEN);
	assert_true(wg_index_add(t, WG_INDEX_KEYPAIR, kp, &idx));
	struct wg_keypair *held = wg_index_get_keypair(t, idx);
	assert_non_null(held);
	wg_index_remove(t, idx);
	wg_keypair_put(kp); /* the control thread drops its reference */
	assert_int_equal(atomic_load(&held->refcount), 1);
	assert_int_equal(held->recv_key[0], 0x5a); /* ASan: still alive */
	wg_keypair_put(held);
}

static void test_unknown_index(void **state)
{
	struct wg_index_table *t = *state;
	for (uint32_t i = 0; i < 1000; i++) {
		assert_null(wg_index_get_keypair(t, i * 2654435761u));
		assert_null(wg_index_get_handshake(t, i * 2654435761u));
	}
}

/* Many entries: all distinct, all found, growth and tombstone reuse. */
static void test_many(void **state)
{
	enum { N = 20000 };
	struct wg_index_table *t = *state;
	struct wg_handshake *hs = calloc(N, sizeof(*hs));
	uint32_t *idx = calloc(N, sizeof(*idx));
	assert_non_null(hs);
	assert_non_null(idx);

	for (int i = 0; i < N; i++)
		assert_true(wg_index_add(t, WG_INDEX_HANDSHAKE, &hs[i], &idx[i]));
	assert_int_equal(t->used, N);
	assert_true(t->size >= N * 4 / 3);
	assert_int_equal(t->size & (t->size - 1), 0);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(wg_index_get_handshake(t, idx[i]), &hs[i]);

	for (int i = 0; i < N; i += 2)
		wg_index_remove(t, idx[i]);
	assert_int_equal(t->used, N / 2);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(wg_index_get_handshake(t, idx[i]), i % 2 ? &hs[i] : NULL);

	/* Churn far beyond the size: tombstones must neither fill nor bloat the table. */
	uint32_t size = t->size;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < N; i += 2)
			assert_true(wg_index_add(t, WG_INDEX_HANDSHAKE, &hs[i], &idx[i]));
		for (int i = 0; i < N; i += 2)
			wg_index_remove(t, idx[i]);
	}
	assert_true(t->size <= 2 * size);
	assert_int_equal(t->used, N / 2);
	for (int i = 1; i < N; i += 2)
		assert_ptr_equal(wg_index_get_handshake(t, idx[i]), &hs[i]);
	for (int i = 1; i < N; i += 2)
		wg_index_remove(t, idx[i]);
	assert_int_equal(t->used, 0);
	free(hs);
	free(idx);
}

struct reader {
	struct wg_index_table *t;
	uint32_t idx;
	struct wg_keypair *kp;
	int found;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	for (int i = 0; i < 100000; i++) {
		struct wg_keypair *kp = wg_index_get_keypair(r->t, r->idx);
		if (!kp)
			continue;
		if (kp == r->kp)
			r->found++;
		wg_keypair_put(kp);
	}
	return NULL;
}

/* A reader keeps finding its stable entry while a writer churns the table. */
static void test_concurrent(void **state)
{
	struct wg_index_table *t = *state;
	struct reader r = {.t = t, .kp = wg_keypair_new()};
	struct wg_handshake hs[64];
	uint32_t idx[64];
	pthread_t th;

	assert_non_null(r.kp);
	assert_true(wg_index_add(t, WG_INDEX_KEYPAIR, r.kp, &r.idx));
	assert_int_equal(pthread_create(&th, NULL, reader_thread, &r), 0);
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 64; i++)
			assert_true(wg_index_add(t, WG_INDEX_HANDSHAKE, &hs[i], &idx[i]));
		for (int i = 0; i < 64; i++)
			wg_index_remove(t, idx[i]);
	}
	pthread_join(th, NULL);
	assert_int_equal(r.found, 100000);
	assert_int_equal(atomic_load(&r.kp->refcount), 1);
	wg_index_remove(t, r.idx);
	wg_keypair_put(r.kp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_add_lookup_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_bad_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reference_outlives_removal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
