// SPDX-License-Identifier: ISC
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "daemon/base/qsbr.h"

static struct qsbr q;
static atomic_bool left;

static void *busy_thread(void *arg)
{
	(void)arg;
	struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};

	nanosleep(&ts, NULL);
	atomic_store(&left, true);
	qsbr_leave(&q, 0);
	return NULL;
}

/* synchronize must not return while a thread is still inside the batch it was in. */
static void test_waits_for_busy_thread(void **state)
{
	(void)state;
	pthread_t t;

	qsbr_init(&q, 2);
	atomic_store(&left, false);
	qsbr_enter(&q, 0);
	assert_int_equal(pthread_create(&t, NULL, busy_thread, NULL), 0);
	qsbr_synchronize(&q);
	assert_true(atomic_load(&left));
	pthread_join(t, NULL);
}

static void test_idle_threads_do_not_block(void **state)
{
	(void)state;
	qsbr_init(&q, 2);
	qsbr_enter(&q, 1);
	qsbr_leave(&q, 1);
	qsbr_synchronize(&q); /* returns at once: nobody is inside a batch */
	assert_int_equal(atomic_load(&q.state[1]) & 1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_waits_for_busy_thread),
	    cmocka_unit_test(test_idle_threads_do_not_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
