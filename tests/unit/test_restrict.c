/*
 * test_restrict.c - unit tests for mail/restrict.c: restriction names, list
 * parsing, and the open-relay analysis smtpd and moatd refuse to start on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mail/restrict.h"

/* parse - "a, b c" into l as param; the parse result. */
static int parse(struct restrict_list *l, const char *param, const char *text, struct buf *why)
{
	char *copy = strdup(text), *save = NULL, *items[32];
	size_t n = 0;
	int r;

	for (char *t = strtok_r(copy, ", ", &save); t && n < 31; t = strtok_r(NULL, ", ", &save))
		items[n++] = t;
	items[n] = NULL;
	buf_reset(why);
	r = restrict_parse(l, param, items, why);
	free(copy);
	return r;
}

static void test_restrict_parse(void **state)
{
	struct restrict_list l;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(parse(&l, "smtpd_relay_restrictions",
			       "permit_mynetworks permit_sasl_authenticated reject_unauth_destination", &why), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[2], RESTRICT_REJECT_UNAUTH_DEST);
	assert_string_equal(restrict_name(l.v[0]), "permit_mynetworks");
	restrict_free(&l);
	for (int r = 0; r < RESTRICT_COUNT; r++) {	/* every name parses to itself */
		assert_int_equal(parse(&l, "p", restrict_name((enum restrict_id)r), &why), 0);
		assert_int_equal(l.v[0], r);
		restrict_free(&l);
	}
	assert_int_equal(parse(&l, "p", "permit_mynetworks, reject_rbl_client", &why), -1);
	assert_string_equal(buf_str(&why), "unknown or unsupported restriction \"reject_rbl_client\"");
	assert_int_equal(l.n, 0);
	assert_int_equal(parse(&l, "p", "check_sender_access", &why), -1);
	assert_non_null(strstr(buf_str(&why), "access tables and policy services are not implemented"));
	assert_int_equal(parse(&l, "p", "Permit", &why), -1);	/* names are lower case, as in Postfix */
	assert_int_equal(parse(&l, "p", "", &why), 0);
	assert_int_equal(l.n, 0);
	restrict_free(&l);
	buf_free(&why);
}

/* open - restrict_open_relay of relay and recipient lists (and an optional
 * client list); why in *out. */
static int open_relay(const char *relay, const char *rcpt, const char *client, struct buf *out)
{
	struct restrict_list l[3];
	struct buf why = BUF_INIT;
	int r;

	assert_int_equal(parse(&l[0], "smtpd_relay_restrictions", relay, &why), 0);
	assert_int_equal(parse(&l[1], "smtpd_recipient_restrictions", rcpt, &why), 0);
	assert_int_equal(parse(&l[2], "smtpd_client_restrictions", client, &why), 0);
	buf_reset(out);
	r = restrict_open_relay(l, 3, out);
	for (int i = 0; i < 3; i++)
		restrict_free(&l[i]);
	buf_free(&why);
	return r;
}

static void test_restrict_open_relay(void **state)
{
	struct buf why = BUF_INIT;

	(void)state;
	/* closed: moat's and Postfix's defaults, classic Postfix, reject-all */
	assert_false(open_relay("permit_mynetworks permit_sasl_authenticated reject_unauth_destination", "", "", &why));
	assert_false(open_relay("permit_mynetworks permit_sasl_authenticated defer_unauth_destination", "", "", &why));
	assert_false(open_relay("", "permit_mynetworks reject_unauth_destination permit", "", &why));
	assert_false(open_relay("", "", "permit_mynetworks reject", &why));
	assert_false(open_relay("permit", "reject_unauth_destination", "", &why));	/* both lists must pass */
	assert_false(open_relay("reject_non_fqdn_helo_hostname reject_unauth_destination", "", "", &why));
	/* open */
	assert_true(open_relay("permit", "", "", &why));
	assert_string_equal(buf_str(&why), "smtpd_relay_restrictions accepts it at \"permit\"");
	assert_true(open_relay("", "", "", &why));
	assert_string_equal(buf_str(&why), "no restriction list rejects it");
	assert_true(open_relay("permit_mynetworks permit reject_unauth_destination", "permit", "", &why));
	assert_string_equal(buf_str(&why), "smtpd_relay_restrictions accepts it at \"permit\"; "
			    "smtpd_recipient_restrictions accepts it at \"permit\"");
	/* what the client chooses never closes it */
	assert_true(open_relay("reject_non_fqdn_sender reject_invalid_helo_hostname "
			       "reject_unknown_client_hostname reject_unauth_pipelining "
			       "permit_auth_destination", "", "", &why));
	/* a warned reject is no reject */
	assert_true(open_relay("warn_if_reject reject_unauth_destination", "", "", &why));
	assert_false(open_relay("warn_if_reject reject_unauth_destination reject_unauth_destination", "", "", &why));
	buf_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restrict_parse),
		cmocka_unit_test(test_restrict_open_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
