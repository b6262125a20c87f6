/*
 * test_conf_stress.c - Postfix 3's braced conditional macros
 * (${name?{a}:{b}}, ${name?{a}}, ${name:{b}}) in conf/expand.c, and the
 * stress-dependent defaults built on them (smtpd_timeout 300s/10s,
 * smtpd_hard_error_limit 20/1, smtpd_junk_command_limit 100/1), and
 * conf_stress_copy, which reads a configuration as it is under stress.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_conf_util.h"

static void test_braced_forms(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("full = x\n"
		      "empty =\n"
		      "smtpd_banner = <${full?{yes $full}:{no}}|${empty?{yes}:{no $full}}>\n"
		      "smtp_helo_name = [${full?{a}}${empty?{b}}${full:{c}}${empty:{d}}]\n"
		      "myorigin = ${full? {spaced} : {other}}\n"
		      "mail_name = ${full?{nested ${empty?{1}:{2}}}:{n}}\n", &err);
	assert_non_null(c);
	assert_string_equal(conf_str(c, "smtpd_banner"), "<yes x|no x>");
	assert_string_equal(conf_str(c, "smtp_helo_name"), "[ad]");
	assert_string_equal(conf_str(c, "myorigin"), "spaced");
	assert_string_equal(conf_str(c, "mail_name"), "nested 2");
	conf_free(c);
	buf_free(&err);
}

static void test_braced_errors(void **state)
{
	static const char *const bad[] = {
		"smtpd_banner = ${mail_name?{a}:b}\n",
		"smtpd_banner = ${mail_name?{a}x}\n",
		"smtpd_banner = ${mail_name?{a}:{b}c}\n",
		"smtpd_banner = ${mail_name:{a}:{b}}\n",
		"smtpd_banner = ${mail_name?{a}\n",
	};
	struct buf err = BUF_INIT;

	(void)state;
	test_capture();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf *c = test_load(bad[i], &err);

		if (c != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(buf_str(&err), "main.cf:1: parameter smtpd_banner"));
	}
	buf_free(&err);
}

/* The defaults Postfix writes with ${stress?...}, and what stress = yes makes of them. */
static void test_stress_defaults(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("smtpd_timeout = ${stress?{3}:{30}}s\n", &err);
	assert_non_null(c);
	assert_int_equal(conf_time(c, "smtpd_timeout"), 30);
	assert_int_equal(conf_int(c, "smtpd_hard_error_limit"), 20);
	assert_int_equal(conf_int(c, "smtpd_junk_command_limit"), 100);
	assert_int_equal(conf_set(c, "stress", "yes", "screen", &err), 0);
	assert_int_equal(conf_time(c, "smtpd_timeout"), 3);
	assert_int_equal(conf_int(c, "smtpd_hard_error_limit"), 1);
	assert_int_equal(conf_int(c, "smtpd_junk_command_limit"), 1);
	assert_int_equal(conf_set(c, "stress", "", "screen", &err), 0);
	assert_int_equal(conf_int(c, "smtpd_hard_error_limit"), 20);
	assert_int_equal(test_warnings.len, 0);
	conf_free(c);
	buf_free(&err);
}

/* conf_stress_copy: the stress reading, none when stress is forced, an error when invalid. */
static void test_stress_copy(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c, *s;

	(void)state;
	test_capture();
	c = test_load("smtpd_timeout = ${stress?{3}:{30}}s\n", &err);
	s = conf_stress_copy(c, &err);
	assert_non_null(s);
	assert_int_equal(conf_time(s, "smtpd_timeout"), 3);
	assert_int_equal(conf_time(c, "smtpd_timeout"), 30);
	conf_free(s);
	conf_free(c);
	c = test_load("stress = yes\n", &err);
	assert_null(conf_stress_copy(c, &err));
	assert_int_equal(err.len, 0);
	assert_int_equal(conf_int(c, "smtpd_hard_error_limit"), 1);
	conf_free(c);
	c = test_load("smtpd_timeout = ${stress?{soon}:{30}}s\n", &err);
	assert_non_null(c);
	assert_null(conf_stress_copy(c, &err));
	assert_non_null(strstr(buf_str(&err), "smtpd_timeout"));
	conf_free(c);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_braced_forms),
		cmocka_unit_test(test_braced_errors),
		cmocka_unit_test(test_stress_defaults),
		cmocka_unit_test(test_stress_copy),
	};

	return cmocka_run_group_tests(tests, NULL, test_conf_teardown);
}
