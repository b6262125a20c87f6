/*
 * test_ratelimit.c - unit tests for lib/ratelimit: burst, refill, cap,
 * dropped count, a clock that does not move or goes backwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/ratelimit.h"

static void test_burst_then_refuse(void **state)
{
	struct ratelimit r;

	(void)state;
	ratelimit_init(&r, 3, 1000, 5000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(&r, 5000), 1);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(ratelimit_take(&r, 5000 + i / 1000), 0);
	assert_int_equal(ratelimit_dropped(&r), 100000);
	assert_int_equal(ratelimit_dropped(&r), 0);
}

static void test_refill_one_per_interval(void **state)
{
	struct ratelimit r;

	(void)state;
	ratelimit_init(&r, 2, 1000, 0);
	assert_int_equal(ratelimit_take(&r, 0), 1);
	assert_int_equal(ratelimit_take(&r, 0), 1);
	assert_int_equal(ratelimit_take(&r, 999), 0);
	assert_int_equal(ratelimit_take(&r, 1000), 1);	/* one token earned */
	assert_int_equal(ratelimit_take(&r, 1500), 0);
	assert_int_equal(ratelimit_take(&r, 2000), 1);	/* partial time is kept, not lost */
	/* a long pause fills the bucket to burst, never beyond */
	assert_int_equal(ratelimit_take(&r, 1000000), 1);
	assert_int_equal(ratelimit_take(&r, 1000000), 1);
	assert_int_equal(ratelimit_take(&r, 1000000), 0);
	assert_int_equal(ratelimit_dropped(&r), 3);
}

static void test_clock_backwards(void **state)
{
	struct ratelimit r;

	(void)state;
	ratelimit_init(&r, 1, 10, 1000);
	assert_int_equal(ratelimit_take(&r, 1000), 1);
	assert_int_equal(ratelimit_take(&r, 0), 0);
	assert_int_equal(ratelimit_take(&r, -1000000), 0);
	assert_int_equal(ratelimit_take(&r, 1010), 1);
}

static void test_zero_interval_is_one_ms(void **state)
{
	struct ratelimit r;

	(void)state;
	ratelimit_init(&r, 1, 0, 0);
	assert_int_equal(ratelimit_take(&r, 0), 1);
	assert_int_equal(ratelimit_take(&r, 0), 0);
	assert_int_equal(ratelimit_take(&r, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refuse),
		cmocka_unit_test(test_refill_one_per_interval),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_zero_interval_is_one_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
