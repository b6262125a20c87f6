/*
 * test_qmgr_sched.c - unit tests for qmgr's scheduling core: grouping into
 * jobs, recipient limits, concurrency windows, round robin, channel caps,
 * dead destinations and transports, backoff. The core has no I/O, so the
 * test compiles it in directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemons/qmgr/qmgr_sched.c"

static void tr_init(void *ctx, struct sched_transport *tr)
{
	(void)ctx;
	tr->conc_limit = strcmp(tr->name, "relay") == 0 ? 3 : 20;
	tr->rcpt_limit = 2;
	tr->rate_delay_ms = strcmp(tr->name, "slow") == 0 ? 1000 : 0;
}

static struct sched *mk(void)
{
	struct sched_params p = { 2, 300000, 60000, 5000, tr_init, NULL };

	return sched_new(&p);
}

static void test_grouping_and_limits(void **state)
{
	struct sched *s = mk();
	struct sched_msg m1 = { 0, 0 }, m2 = { 0, 0 };
	struct sched_job *j;

	(void)state;
	/* m1: 5 rcpts to a, 1 to b, interleaved; m2: 1 to a */
	sched_add_rcpt(s, &m1, "smtp", "a", 0);
	sched_add_rcpt(s, &m1, "smtp", "b", 1);
	sched_add_rcpt(s, &m1, "smtp", "a", 2);
	sched_add_rcpt(s, &m1, "smtp", "a", 3);
	sched_add_rcpt(s, &m1, "smtp", "a", 4);
	sched_add_rcpt(s, &m1, "smtp", "a", 5);
	sched_add_rcpt(s, &m2, "smtp", "a", 0);
	assert_int_equal(m1.todo, 6);
	assert_int_equal(sched_ndests(s), 2);
	assert_int_equal(sched_dest_find(s, "smtp", "a")->nqueued, 4);	/* 2+2+1 (m1), 1 (m2) */

	/* round robin: a, b, then a (window 2), then nothing for a */
	j = sched_next(s, 0);
	assert_string_equal(j->dest->nexthop, "a");
	assert_int_equal(j->n, 2);
	assert_int_equal(j->idx[0], 0);
	assert_int_equal(j->idx[1], 2);
	struct sched_job *j2 = sched_next(s, 0);
	assert_string_equal(j2->dest->nexthop, "b");
	struct sched_job *j3 = sched_next(s, 0);
	assert_string_equal(j3->dest->nexthop, "a");
	assert_null(sched_next(s, 0));
	assert_int_equal(m1.inflight, 3);

	/* success grows a's window to 3: two more jobs may run */
	sched_job_done(s, j, SCHED_DONE_OK, NULL, NULL, 0);
	assert_int_equal(m1.todo, 4);
	j = sched_next(s, 0);
	assert_non_null(j);
	assert_ptr_equal(j->msg, &m1);
	assert_int_equal(j->n, 1);
	struct sched_job *j4 = sched_next(s, 0);
	assert_non_null(j4);
	assert_ptr_equal(j4->msg, &m2);
	assert_null(sched_next(s, 0));
	sched_job_done(s, j2, SCHED_DONE_OK, NULL, NULL, 0);
	assert_null(sched_dest_find(s, "smtp", "b"));	/* idle destination freed */
	sched_job_done(s, j3, SCHED_DONE_OK, NULL, NULL, 0);
	sched_job_done(s, j, SCHED_DONE_OK, NULL, NULL, 0);
	sched_job_done(s, j4, SCHED_DONE_OK, NULL, NULL, 0);
	assert_int_equal(m1.todo, 0);
	assert_int_equal(m1.inflight, 0);
	assert_int_equal(m2.todo, 0);
	assert_int_equal(sched_ndests(s), 0);
	sched_free(s);
}

static void test_window_limit(void **state)
{
	struct sched *s = mk();
	struct sched_msg m[10];
	struct sched_job *j[10];
	int n = 0;

	(void)state;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 10; i++)
		sched_add_rcpt(s, &m[i], "relay", "r", 0);
	/* window starts at 2, grows by one per success, never past relay's 3 */
	j[n++] = sched_next(s, 0);
	j[n++] = sched_next(s, 0);
	assert_null(sched_next(s, 0));
	sched_job_done(s, j[0], SCHED_DONE_OK, NULL, NULL, 0);
	j[0] = sched_next(s, 0);
	j[n++] = sched_next(s, 0);
	assert_non_null(j[0]);
	assert_non_null(j[2]);
	assert_null(sched_next(s, 0));
	sched_job_done(s, j[1], SCHED_DONE_OK, NULL, NULL, 0);
	assert_int_equal(sched_dest_find(s, "relay", "r")->window, 3);
	j[1] = sched_next(s, 0);
	assert_non_null(j[1]);
	assert_null(sched_next(s, 0));
	for (int i = 0; i < 3; i++)
		sched_job_done(s, j[i], SCHED_DONE_OK, NULL, NULL, 0);
	sched_free(s);
}

static void test_dead_destination(void **state)
{
	struct sched *s = mk();
	struct sched_msg m[5];
	struct sched_job *j1, *j2, *j;

	(void)state;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 5; i++)
		sched_add_rcpt(s, &m[i], "smtp", "dead.example", 0);
	j1 = sched_next(s, 0);
	j2 = sched_next(s, 0);
	assert_null(sched_next(s, 0));
	sched_job_done(s, j1, SCHED_DONE_SITE_FAIL, "4.4.1", "connect to x: refused", 1000);
	/* the 3 queued jobs come out as defers with the site's reason */
	for (int i = 0; i < 3; i++) {
		j = sched_next(s, 1000);
		assert_non_null(j);
		assert_true(j->defer_now);
		assert_string_equal(j->defer_dsn, "4.4.1");
		assert_string_equal(j->defer_reason, "connect to x: refused");
		sched_job_done(s, j, SCHED_DONE_NO_FEEDBACK, NULL, NULL, 1000);
	}
	assert_null(sched_next(s, 1000));
	/* a new message for it is deferred at once too */
	struct sched_msg mx = { 0, 0 };
	sched_add_rcpt(s, &mx, "smtp", "dead.example", 7);
	j = sched_next(s, 2000);
	assert_true(j->defer_now);
	sched_job_done(s, j, SCHED_DONE_NO_FEEDBACK, NULL, NULL, 2000);
	/* the job still in flight succeeds: the destination lives again */
	sched_job_done(s, j2, SCHED_DONE_OK, NULL, NULL, 3000);
	assert_null(sched_dest_find(s, "smtp", "dead.example"));
	sched_free(s);

	/* without a revival, death lasts dead_ms, and the sweep keeps it */
	s = mk();
	memset(m, 0, sizeof(m));
	sched_add_rcpt(s, &m[0], "smtp", "d", 0);
	j = sched_next(s, 0);
	sched_job_done(s, j, SCHED_DONE_SITE_FAIL, "4.4.2", "lost connection", 0);
	sched_sweep(s, 1000);
	assert_non_null(sched_dest_find(s, "smtp", "d"));
	sched_add_rcpt(s, &m[1], "smtp", "d", 0);
	j = sched_next(s, 299999);
	assert_true(j->defer_now);
	sched_job_done(s, j, SCHED_DONE_NO_FEEDBACK, NULL, NULL, 299999);
	sched_add_rcpt(s, &m[2], "smtp", "d", 0);
	j = sched_next(s, 300000);
	assert_false(j->defer_now);
	sched_job_done(s, j, SCHED_DONE_OK, NULL, NULL, 300000);
	sched_sweep(s, 300001);
	assert_int_equal(sched_ndests(s), 0);
	sched_free(s);
}

static void test_channel_cap_and_transport_dead(void **state)
{
	struct sched *s = mk();
	struct sched_msg m[6];
	struct sched_job *a, *b, *c;

	(void)state;
	memset(m, 0, sizeof(m));
	sched_add_rcpt(s, &m[0], "smtp", "x", 0);
	sched_add_rcpt(s, &m[1], "smtp", "y", 0);
	sched_add_rcpt(s, &m[2], "smtp", "z", 0);
	a = sched_next(s, 0);
	b = sched_next(s, 0);
	c = sched_next(s, 0);
	/* broker had only 2 processes: c goes back, z waits for a channel */
	sched_job_unrun(s, c);
	sched_transport_denied(s, c->dest->tr, 2, 0);
	assert_null(sched_next(s, 0));
	assert_int_equal(sched_wakeup(s), 5000);
	sched_job_done(s, a, SCHED_DONE_OK, NULL, NULL, 10);
	c = sched_next(s, 10);
	assert_non_null(c);
	assert_string_equal(c->dest->nexthop, "z");
	sched_job_done(s, b, SCHED_DONE_OK, NULL, NULL, 10);
	sched_job_done(s, c, SCHED_DONE_OK, NULL, NULL, 10);

	/* no process at all: the transport is dead, jobs are deferred */
	sched_add_rcpt(s, &m[3], "relay", "r", 0);
	a = sched_next(s, 20);
	sched_job_unrun(s, a);
	sched_transport_denied(s, a->dest->tr, 0, 20);
	a = sched_next(s, 20);
	assert_true(a->defer_now);
	assert_string_equal(a->defer_reason, "mail transport unavailable");
	sched_job_done(s, a, SCHED_DONE_NO_FEEDBACK, NULL, NULL, 20);
	assert_int_equal(m[3].todo, 0);
	sched_add_rcpt(s, &m[4], "relay", "r", 0);
	a = sched_next(s, 60020);
	assert_false(a->defer_now);
	sched_job_done(s, a, SCHED_DONE_OK, NULL, NULL, 60020);
	sched_free(s);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(sched_backoff(0, 300, 4000), 300);
	assert_int_equal(sched_backoff(299, 300, 4000), 300);
	assert_int_equal(sched_backoff(900, 300, 4000), 900);
	assert_int_equal(sched_backoff(3 * 86400, 300, 4000), 4000);
	/* attempts at ages 0, 300, 600, 1200, 2400: each wait doubles */
	int64_t age = 0;
	int64_t w[5];
	for (int i = 0; i < 5; i++) {
		w[i] = sched_backoff(age, 300, 4000);
		age += w[i];
	}
	assert_int_equal(w[1], 300);
	assert_int_equal(w[2], 600);
	assert_int_equal(w[3], 1200);
	assert_int_equal(w[4], 2400);
}

/*
 * <transport>_destination_rate_delay: one delivery at a time per destination
 * (whatever the concurrency limit), the next starting that long after the
 * previous one ended; other destinations are not held back; a job deferred
 * without a delivery does not start the pause.
 */
static void test_rate_delay(void **state)
{
	struct sched *s = mk();
	struct sched_msg m[4];
	struct sched_job *j, *k;

	(void)state;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 3; i++)
		sched_add_rcpt(s, &m[i], "slow", "d", 0);
	sched_add_rcpt(s, &m[3], "slow", "e", 0);
	j = sched_next(s, 0);
	k = sched_next(s, 0);
	assert_string_equal(j->dest->nexthop, "d");
	assert_string_equal(k->dest->nexthop, "e");
	assert_null(sched_next(s, 0));		/* d: one at a time */
	assert_int_equal(sched_wakeup(s), 0);
	sched_job_done(s, j, SCHED_DONE_OK, NULL, NULL, 5000);
	assert_int_equal(sched_dest_find(s, "slow", "d")->window, 1);
	assert_null(sched_next(s, 5000));	/* the pause runs */
	assert_null(sched_next(s, 5999));
	assert_int_equal(sched_wakeup(s), 6000);
	j = sched_next(s, 6000);
	assert_non_null(j);
	assert_ptr_equal(j->msg, &m[1]);
	assert_int_equal(sched_wakeup(s), 0);
	/* the pause is remembered while nothing is queued for d */
	sched_job_done(s, k, SCHED_DONE_OK, NULL, NULL, 6000);
	assert_non_null(sched_dest_find(s, "slow", "e"));
	sched_sweep(s, 6500);
	assert_non_null(sched_dest_find(s, "slow", "e"));
	sched_sweep(s, 7000);
	assert_null(sched_dest_find(s, "slow", "e"));
	/* a dead destination's jobs are deferred at once, and start no pause */
	sched_job_done(s, j, SCHED_DONE_SITE_FAIL, "4.4.1", "down", 7000);
	j = sched_next(s, 7001);
	assert_non_null(j);
	assert_true(j->defer_now);
	sched_job_done(s, j, SCHED_DONE_NO_FEEDBACK, NULL, NULL, 7001);
	assert_int_equal(sched_dest_find(s, "slow", "d")->next_start, 8000);
	assert_int_equal(m[2].todo, 0);
	sched_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping_and_limits),
		cmocka_unit_test(test_window_limit),
		cmocka_unit_test(test_dead_destination),
		cmocka_unit_test(test_channel_cap_and_transport_dead),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_rate_delay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
