/*
 * test_access_action.c - unit tests for mail/access_action.c: every action
 * an access table or a policy service can answer, and the answers refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mail/access_action.h"

static const struct access_codes codes = { 554, 450 };

/* act - parse value; the result of access_action_parse. */
static int act(const char *value, struct access_action *a, struct buf *why)
{
	buf_reset(why);
	return access_action_parse(value, &codes, a, why);
}

static void expect(const char *value, enum access_kind kind, int code, const char *dsn,
		   const char *text)
{
	struct access_action a;
	struct buf why = BUF_INIT;

	assert_int_equal(act(value, &a, &why), 0);
	assert_int_equal(a.kind, kind);
	assert_int_equal(a.code, code);
	if (dsn)
		assert_string_equal(a.dsn, dsn);
	assert_string_equal(a.text, text);
	buf_free(&why);
}

static void test_access_verdicts(void **state)
{
	(void)state;
	expect("OK", ACCESS_OK, 0, NULL, "");
	expect("ok", ACCESS_OK, 0, NULL, "");
	expect("  DUNNO  ", ACCESS_DUNNO, 0, NULL, "");
	expect("1234567890", ACCESS_OK, 0, NULL, "");		/* all-numeric: OK */
	expect("REJECT", ACCESS_REJECT, 554, "5.7.1", "Access denied");
	expect("REJECT go away", ACCESS_REJECT, 554, "5.7.1", "go away");
	expect("reject 5.7.26 SPF fail", ACCESS_REJECT, 554, "5.7.26", "SPF fail");
	expect("DEFER", ACCESS_REJECT, 450, "4.7.1", "Access denied");
	expect("DEFER try later", ACCESS_REJECT, 450, "4.7.1", "try later");
	expect("DEFER_IF_PERMIT Greylisted, see http://x/", ACCESS_DEFER_IF_PERMIT, 450, "4.7.1",
	       "Greylisted, see http://x/");
	expect("DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT, 450, "4.7.1", "Service unavailable");
	expect("DEFER_IF_REJECT 4.7.0 maybe", ACCESS_DEFER_IF_REJECT, 450, "4.7.0", "maybe");
	expect("550 5.7.1 no such user", ACCESS_REJECT, 550, "5.7.1", "no such user");
	expect("421 closing", ACCESS_REJECT, 421, "4.7.1", "closing");
	expect("550 4.7.1 class fixed", ACCESS_REJECT, 550, "5.7.1", "class fixed");
	expect("450", ACCESS_OK, 0, NULL, "");	/* all digits first, as Postfix */
}

static void test_access_side_effects(void **state)
{
	(void)state;
	expect("HOLD", ACCESS_HOLD, 0, NULL, "");
	expect("HOLD look at it", ACCESS_HOLD, 0, NULL, "look at it");
	expect("DISCARD", ACCESS_DISCARD, 0, NULL, "");
	expect("PREPEND X-Greylist: delayed 300 seconds", ACCESS_PREPEND, 0, NULL,
	       "X-Greylist: delayed 300 seconds");
	expect("REDIRECT abuse@example.com", ACCESS_REDIRECT, 0, NULL, "abuse@example.com");
	expect("BCC archive@example.com", ACCESS_BCC, 0, NULL, "archive@example.com");
	expect("WARN odd client", ACCESS_WARN, 0, NULL, "odd client");
	expect("INFO seen", ACCESS_INFO, 0, NULL, "seen");
	/* anything else is a restriction list (or class) applied in place */
	expect("reject_unknown_sender_domain, permit", ACCESS_RESTRICTIONS, 0, NULL,
	       "reject_unknown_sender_domain, permit");
	expect("spamlover", ACCESS_RESTRICTIONS, 0, NULL, "spamlover");
	expect("OKAY", ACCESS_RESTRICTIONS, 0, NULL, "OKAY");	/* whole words only */
}

static void test_access_refused(void **state)
{
	struct access_action a;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(act("", &a, &why), -1);
	assert_int_equal(act("   ", &a, &why), -1);
	assert_int_equal(act("FILTER smtp:[127.0.0.1]:10025", &a, &why), -1);
	assert_non_null(strstr(buf_str(&why), "no content filters"));
	assert_int_equal(act("PREPEND", &a, &why), -1);
	assert_int_equal(act("PREPEND no header here", &a, &why), -1);
	assert_int_equal(act("PREPEND : empty name", &a, &why), -1);
	assert_int_equal(act("REDIRECT", &a, &why), -1);
	assert_int_equal(act("BCC", &a, &why), -1);
	assert_int_equal(act("250 fine", &a, &why), -1);	/* only 4NN and 5NN */
	assert_int_equal(act("5000 x", &a, &why), -1);
	assert_int_equal(act("699 x", &a, &why), -1);
	buf_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_verdicts),
		cmocka_unit_test(test_access_side_effects),
		cmocka_unit_test(test_access_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
