/*
 * test_smtpd_cmd.c - unit tests for smtpd command parsing (daemons/smtpd/smtpd_cmd.c):
 * verbs, MAIL/RCPT keywords, ESMTP parameters, and the RFC 5321 line-length rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemons/smtpd/smtpd_cmd.c"

static enum smtpd_verb verb(const char *line, const char **arg, int *syntax)
{
	size_t a;
	enum smtpd_verb v = smtpd_cmd_verb(line, strlen(line), &a, syntax);

	*arg = line + a;
	return v;
}

static void test_cmd_verbs(void **state)
{
	const char *arg;
	int syn;

	(void)state;
	assert_int_equal(verb("EHLO client.example", &arg, &syn), V_EHLO);
	assert_string_equal(arg, "client.example");
	assert_int_equal(verb("helo   x", &arg, &syn), V_HELO);
	assert_string_equal(arg, "x");
	assert_int_equal(verb("MAIL FROM:<a@b>", &arg, &syn), V_MAIL);
	assert_string_equal(arg, "<a@b>");
	assert_int_equal(verb("mail from: <a@b> SIZE=1", &arg, &syn), V_MAIL);
	assert_string_equal(arg, "<a@b> SIZE=1");
	assert_int_equal(verb("RCPT TO:<a@b>", &arg, &syn), V_RCPT);
	assert_int_equal(verb("DATA", &arg, &syn), V_DATA);
	assert_string_equal(arg, "");
	assert_int_equal(verb("QUIT", &arg, &syn), V_QUIT);
	assert_int_equal(verb("DATAX", &arg, &syn), V_UNKNOWN);
	assert_int_equal(syn, 0);
	assert_int_equal(verb("starttls", &arg, &syn), V_STARTTLS);
	assert_int_equal(verb("STARTTLSX", &arg, &syn), V_UNKNOWN);
	assert_int_equal(verb("START", &arg, &syn), V_UNKNOWN);
	assert_int_equal(verb("", &arg, &syn), V_UNKNOWN);
	assert_int_equal(verb("MAIL <a@b>", &arg, &syn), V_UNKNOWN);
	assert_int_equal(syn, 1);
	assert_int_equal(verb("RCPT TO", &arg, &syn), V_UNKNOWN);
	assert_int_equal(syn, 1);
	assert_int_equal(verb("MAIL", &arg, &syn), V_UNKNOWN);
	assert_int_equal(syn, 1);
}

static int params(const char *p, struct smtpd_mail_params *mp, const char **reply)
{
	return smtpd_cmd_mail_params(p, strlen(p), mp, reply);
}

static void test_cmd_mail_params(void **state)
{
	struct smtpd_mail_params mp;
	const char *reply;

	(void)state;
	assert_int_equal(params("", &mp, &reply), 0);
	assert_int_equal(params(" SIZE=12345 BODY=8BITMIME SMTPUTF8", &mp, &reply), 0);
	assert_int_equal(mp.size, 12345);
	assert_int_equal(mp.body, BODY_8BITMIME);
	assert_int_equal(mp.smtputf8, 1);
	assert_int_equal(params(" body=7bit", &mp, &reply), 0);
	assert_int_equal(mp.body, BODY_7BIT);
	assert_int_equal(params(" SIZE=", &mp, &reply), -1);
	assert_int_equal(params(" SIZE=-1", &mp, &reply), -1);
	assert_int_equal(params(" SIZE=99999999999999999999999", &mp, &reply), -1);
	assert_int_equal(params(" BODY=BINARYMIME", &mp, &reply), -1);
	assert_int_equal(params(" SMTPUTF8=yes", &mp, &reply), -1);
	assert_int_equal(params(" NOTIFY=NEVER", &mp, &reply), -1);
	assert_int_equal(strncmp(reply, "555 5.5.4", 9), 0);
	assert_int_equal(params(" AUTH=<>", &mp, &reply), -1);
}

static void test_cmd_length_rule(void **state)
{
	(void)state;
	assert_true(smtpd_cmd_len_ok(V_NOOP, 512, 0));
	assert_false(smtpd_cmd_len_ok(V_NOOP, 513, 0));
	assert_false(smtpd_cmd_len_ok(V_RCPT, 513, 20));	/* no RCPT parameter extends it */
	assert_true(smtpd_cmd_len_ok(V_MAIL, 512 + 52, 52));	/* path part exactly 512 */
	assert_false(smtpd_cmd_len_ok(V_MAIL, 512 + 53, 53));	/* more than the extensions allow */
	assert_false(smtpd_cmd_len_ok(V_MAIL, 540, 20));	/* path part 520: too long */
	assert_true(smtpd_cmd_len_ok(V_MAIL, 530, 30));
	assert_int_equal(SMTPD_LINE_MAX, 564);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_verbs),
		cmocka_unit_test(test_cmd_mail_params),
		cmocka_unit_test(test_cmd_length_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
