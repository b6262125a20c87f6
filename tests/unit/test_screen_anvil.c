/*
 * test_screen_anvil.c - screen's per-client counts and rates
 * (daemons/screen/screen_anvil.c): counts per address, Postfix anvil's
 * fixed windows, entries freed when idle (at once, or after their window
 * when rates matter), and the cap on tracked clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "daemons/screen/screen_anvil.c"

static struct netaddr test_addr(unsigned char last)
{
	struct netaddr a = { .family = AF_INET };

	a.ip[0] = 192;
	a.ip[1] = 0;
	a.ip[2] = 2;
	a.ip[3] = last;
	return a;
}

static void test_counts_per_address(void **state)
{
	struct screen_anvil a;
	struct netaddr one = test_addr(1), two = test_addr(2);
	struct screen_client *c1, *c1b, *c2;

	(void)state;
	screen_anvil_init(&a, 60, 0);
	c1 = screen_anvil_connect(&a, &one, 1000);
	c1b = screen_anvil_connect(&a, &one, 1001);
	c2 = screen_anvil_connect(&a, &two, 1002);
	assert_ptr_equal(c1, c1b);
	assert_ptr_not_equal(c1, c2);
	assert_int_equal(c1->count, 2);
	assert_int_equal(c1->conn_rate, 2);
	assert_int_equal(c2->count, 1);
	assert_int_equal(a.n, 2);
	screen_anvil_disconnect(&a, c2);	/* no rates kept: gone at once */
	assert_int_equal(a.n, 1);
	screen_anvil_disconnect(&a, c1);
	assert_int_equal(c1->count, 1);
	screen_anvil_disconnect(&a, c1);
	assert_int_equal(a.n, 0);
	screen_anvil_disconnect(&a, NULL);	/* an uncounted client */
	xfree(a.bucket);
}

/* anvil's rule: a window starts at the first event after the last one ended. */
static void test_rate_windows(void **state)
{
	struct screen_anvil a;
	struct netaddr one = test_addr(1);
	struct screen_client *c;

	(void)state;
	screen_anvil_init(&a, 60, 1);
	c = screen_anvil_connect(&a, &one, 10000);
	assert_int_equal(screen_anvil_event(&a, c, SCREEN_RATE_MAIL, 20000), 1);
	assert_int_equal(screen_anvil_event(&a, c, SCREEN_RATE_MAIL, 69999), 2);
	assert_int_equal(screen_anvil_event(&a, c, SCREEN_RATE_RCPT, 69999), 1);
	assert_int_equal(screen_anvil_event(&a, c, SCREEN_RATE_MAIL, 70000), 1);	/* new window */
	assert_int_equal(c->conn_rate, 0);
	assert_int_equal(c->rcpt_rate, 0);
	assert_int_equal(screen_anvil_event(&a, NULL, SCREEN_RATE_MAIL, 70000), 0);
	screen_anvil_disconnect(&a, c);
	assert_int_equal(a.n, 1);		/* rates kept: stays until its window ends */
	screen_anvil_sweep(&a, 129999);
	assert_int_equal(a.n, 1);
	c = screen_anvil_connect(&a, &one, 129999);	/* the same entry comes back */
	assert_int_equal(c->count, 1);
	assert_int_equal(c->mail_rate, 1);
	screen_anvil_disconnect(&a, c);
	screen_anvil_sweep(&a, 130000);
	assert_int_equal(a.n, 0);
	xfree(a.bucket);
}

static void test_cap_on_clients(void **state)
{
	struct screen_anvil a;
	struct screen_client *c[4];

	(void)state;
	screen_anvil_init(&a, 60, 0);
	a.max = 3;
	for (unsigned char i = 0; i < 4; i++) {
		struct netaddr x = test_addr(i);

		c[i] = screen_anvil_connect(&a, &x, 0);
	}
	assert_non_null(c[2]);
	assert_null(c[3]);			/* not counted rather than grown */
	assert_int_equal(a.n, 3);
	screen_anvil_disconnect(&a, c[0]);
	for (int i = 1; i < 3; i++)
		screen_anvil_disconnect(&a, c[i]);
	assert_int_equal(a.n, 0);
	xfree(a.bucket);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_per_address),
		cmocka_unit_test(test_rate_windows),
		cmocka_unit_test(test_cap_on_clients),
	};

	msg_init("test_screen_anvil");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
