// SPDX-License-Identifier: ISC
/* The /128 route table: add, lookup, replace, remove, iteration, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pthread.h>

#include <cmocka.h>

#include "routing/address.h"
#include "routing/table.h"

static int setup(void **state)
{
	struct route_table *t = calloc(1, sizeof(*t));
	if (!t || !route_table_init(t)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	route_table_destroy(*state);
	free(*state);
	return 0;
}

static struct in6_addr addr(const char *text)
{
	struct in6_addr a;
	assert_int_equal(inet_pton(AF_INET6, text, &a), 1);
	return a;
}

/* A member-like address: the derived address of a counter used as a key. */
static struct in6_addr member(uint32_t i)
{
	uint8_t pub[WG_KEY_LEN] = {0};
	struct in6_addr a;
	memcpy(pub, &i, sizeof(i));
	alamesh_addr(&a, pub);
	return a;
}

static void test_add_lookup_remove(void **state)
{
	struct route_table *t = *state;
	int p1, p2;
	struct in6_addr a = addr("fc00::1"), b = addr("fc00::2"), c = addr("fd00::1");

	assert_null(route_table_lookup(t, &a));
	assert_true(route_table_add(t, &a, &p1));
	assert_true(route_table_add(t, &b, &p2));
	assert_false(route_table_add(t, &a, &p2)); /* already there */
	assert_false(route_table_add(t, &c, NULL));
	assert_ptr_equal(route_table_lookup(t, &a), &p1);
	assert_ptr_equal(route_table_lookup(t, &b), &p2);
	assert_null(route_table_lookup(t, &c));
	assert_int_equal(route_table_count(t), 2);

	assert_ptr_equal(route_table_remove(t, &a), &p1);
	assert_null(route_table_lookup(t, &a));
	assert_null(route_table_remove(t, &a));
	assert_ptr_equal(route_table_lookup(t, &b), &p2);
	assert_int_equal(route_table_count(t), 1);
	/* A removed address can come back. */
	assert_true(route_table_add(t, &a, &p2));
	assert_ptr_equal(route_table_lookup(t, &a), &p2);
	assert_int_equal(route_table_count(t), 2);
}

static void test_replace(void **state)
{
	struct route_table *t = *state;
	int p1, p2;
	void *old = &old;
	struct in6_addr a = addr("fc12::34");

	assert_true(route_table_replace(t, &a, &p1, &old));
	assert_null(old);
	assert_ptr_equal(route_table_lookup(t, &a), &p1);
	assert_true(route_table_replace(t, &a, &p2, &old));
	assert_ptr_equal(old, &p1);
	assert_ptr_equal(route_table_lookup(t, &a), &p2);
	assert_true(route_table_replace(t, &a, &p1, NULL));
	assert_ptr_equal(route_table_lookup(t, &a), &p1);
	assert_false(route_table_replace(t, &a, NULL, &old));
	assert_ptr_equal(route_table_lookup(t, &a), &p1);
	assert_int_equal(route_table_count(t), 1);
}

static void hold(void *value)
{
	(*(int *)value)++;
}

static void test_lookup_hold(void **state)
{
	struct route_table *t = *state;
	int refs = 1;
	struct in6_addr a = addr("fc00::aa"), b = addr("fc00::bb");
	assert_true(route_table_add(t, &a, &refs));
	assert_ptr_equal(route_table_lookup_hold(t, &a, hold), &refs);
	assert_int_equal(refs, 2);
	assert_null(route_table_lookup_hold(t, &b, hold));
	assert_int_equal(refs, 2);
}

/* Thousands of member addresses and a run of hand-picked neighbours. */
static void test_many(void **state)
{
	enum { N = 5000 };
	struct route_table *t = *state;
	int *peers = calloc(N, sizeof(*peers));
	assert_non_null(peers);

	for (uint32_t i = 0; i < N; i++) {
		struct in6_addr a = member(i);
		assert_true(route_table_add(t, &a, &peers[i]));
	}
	for (uint32_t i = 0; i < N; i++) {
		struct in6_addr a = addr("fd00::");
		a.s6_addr[14] = (uint8_t)(i >> 8);
		a.s6_addr[15] = (uint8_t)i;
		assert_true(route_table_add(t, &a, &peers[i]));
	}
	assert_int_equal(route_table_count(t), 2 * N);
	assert_true(t->size >= 2 * N * 4 / 3);
	for (uint32_t i = 0; i < N; i++) {
		struct in6_addr a = member(i);
		assert_ptr_equal(route_table_lookup(t, &a), &peers[i]);
		a = addr("fd00::");
		a.s6_addr[14] = (uint8_t)(i >> 8);
		a.s6_addr[15] = (uint8_t)i;
		assert_ptr_equal(route_table_lookup(t, &a), &peers[i]);
	}
	struct in6_addr absent = member(N + 1);
	assert_null(route_table_lookup(t, &absent));

	/* Churn: tombstones are recycled, the table does not keep growing. */
	uint32_t size = t->size;
	for (int round = 0; round < 10; round++) {
		for (uint32_t i = 0; i < N; i += 2) {
			struct in6_addr a = member(i);
			assert_ptr_equal(route_table_remove(t, &a), &peers[i]);
		}
		for (uint32_t i = 0; i < N; i += 2) {
			struct in6_addr a = member(i);
			assert_true(route_table_add(t, &a, &peers[i]));
		}
	}
	assert_true(t->size <= 2 * size);
	assert_int_equal(route_table_count(t), 2 * N);
	for (uint32_t i = 0; i < N; i++) {
		struct in6_addr a = member(i);
		assert_ptr_equal(route_table_lookup(t, &a), &peers[i]);
	}
	free(peers);
}

struct walk {
	int *target;
	int matched, total;
};

static int count_routes(const struct in6_addr *a, void *value, void *ctx)
{
	struct walk *w = ctx;
	assert_true(alamesh_in_mesh(a));
	w->total++;
	if (value == w->target)
		w->matched++;
	return 0;
}

static int stop_at_first(const struct in6_addr *a, void *value, void *ctx)
{
	(void)a;
	(void)value;
	(*(int *)ctx)++;
	return 42;
}

static void test_foreach_and_remove_value(void **state)
{
	struct route_table *t = *state;
	int peer_a, peer_b;

	for (uint32_t i = 0; i < 300; i++) {
		struct in6_addr a = member(i);
		assert_true(route_table_add(t, &a, i % 3 ? &peer_a : &peer_b));
	}
	struct walk w = {.target = &peer_b};
	assert_int_equal(route_table_foreach(t, count_routes, &w), 0);
	assert_int_equal(w.total, 300);
	assert_int_equal(w.matched, 100);
	int calls = 0;
	assert_int_equal(route_table_foreach(t, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);

	assert_int_equal(route_table_remove_value(t, &peer_b), 100);
	assert_int_equal(route_table_remove_value(t, &peer_b), 0);
	assert_int_equal(route_table_count(t), 200);
	for (uint32_t i = 0; i < 300; i++) {
		struct in6_addr a = member(i);
		assert_ptr_equal(route_table_lookup(t, &a), i % 3 ? &peer_a : NULL);
	}
	w = (struct walk){.target = &peer_b};
	route_table_foreach(t, count_routes, &w);
	assert_int_equal(w.total, 200);
	assert_int_equal(w.matched, 0);
}

struct reader {
	struct route_table *t;
	struct in6_addr a;
	void *want;
	int found;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	for (int i = 0; i < 100000; i++)
		if (route_table_lookup(r->t, &r->a) == r->want)
			r->found++;
	return NULL;
}

static void test_concurrent(void **state)
{
	struct route_table *t = *state;
	int stable, churn;
	struct reader r = {.t = t, .a = addr("fc00::5"), .want = &stable};
	pthread_t th;

	assert_true(route_table_add(t, &r.a, &stable));
	assert_int_equal(pthread_create(&th, NULL, reader_thread, &r), 0);
	for (int round = 0; round < 50; round++) {
		for (uint32_t i = 0; i < 200; i++) {
			struct in6_addr a = member(i);
			assert_true(route_table_add(t, &a, &churn));
		}
		assert_int_equal(route_table_remove_value(t, &churn), 200);
	}
	pthread_join(th, NULL);
	assert_int_equal(r.found, 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_add_lookup_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreach_and_remove_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
