/*
 * test_conf_failclosed.c - unit tests for what conf/ refuses or keeps raw:
 * fail-closed unimplemented parameters (main.cf, macros, -o overrides),
 * CONF_F_RAW values, conf_apply_service and the per-transport registry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_conf_util.h"

static void test_failclosed_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "lmtp_tls_security_level = encrypt\n", "main.cf:1: parameter lmtp_tls_security_level = encrypt: not implemented by moat, and moat will not run without what it asks for (LMTP client TLS level" },
		{ "# tls\n\nsmtpd_tls_security_level = verify\n", "main.cf:3: parameter smtpd_tls_security_level: bad value \"verify\"" },
		{ "smtp_tls_wrappermode = yes\n", "main.cf:1: parameter smtp_tls_wrappermode = yes: not implemented" },
		/* a value outside the parameter's choices is refused */
		{ "smtp_dns_support_level = yes\n", "main.cf:1: parameter smtp_dns_support_level: bad value \"yes\"" },
		{ "smtpd_tls_auth_only = true\n", "parameter smtpd_tls_auth_only = true: not implemented" },
		{ "smtp_sasl_password_maps = regexp:/etc/moat/h\n", "parameter smtp_sasl_password_maps = regexp:/etc/moat/h: not implemented" },
		{ "smtp_tls_policy_maps = pcre:/b\n", "parameter smtp_tls_policy_maps = pcre:/b: not implemented" },
		{ "smtpd_milters = inet:localhost:8891\n", "parameter smtpd_milters = inet:localhost:8891: not implemented" },
		{ "smtp_tls_policy_maps = hash:/etc/moat/tls\n", "parameter smtp_tls_policy_maps = hash:/etc/moat/tls: not implemented" },
		{ "t = hash:/v\nsmtpd_sender_login_maps = $t\n", "main.cf:2: parameter smtpd_sender_login_maps = hash:/v: not implemented" },
		{ "lmtp_tls_security_level = may encrypt\n", "not implemented" },
		/* a syntax error in such a value is named as one */
		{ "transport_maps = /etc/moat/transport\n", "main.cf:1: parameter transport_maps: bad table \"/etc/moat/transport\" (expected type:name)" },
		{ "transport_maps = hash:/a, lmdb:/etc/x\n", "table type \"lmdb\" is not supported by moat" },
		{ "header_checks = inline:foo\n", "expected inline:{ key=value, ... }" },
		{ "smtp_enforce_tls = perhaps\n", "parameter smtp_enforce_tls: bad boolean value \"perhaps\"" },
	};
	struct buf err = BUF_INIT;

	(void)state;
	test_capture();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = test_load(cases[i].text, &err);

		if (c || !strstr(buf_str(&err), cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&err), cases[i].want);
		conf_free(c);
	}
	buf_free(&err);
}

/* Values that ask for nothing moat lacks: a warning, and the default. */
static void test_failclosed_safe(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("lmtp_tls_security_level = may\n"
		      "smtpd_tls_req_ccert = no\n"
		      "smtpd_tls_ask_ccert = no\n"
		      "smtp_sasl_password_maps =\n"
		      "smtp_tls_policy_maps = ${nothing}\n", &err);
	if (!c)
		fail_msg("%s", buf_str(&err));
	assert_true(test_warned("main.cf:1: parameter lmtp_tls_security_level is not implemented by moat; ignored"));
	assert_true(test_warned("main.cf:2: parameter smtpd_tls_req_ccert is not implemented"));
	assert_true(test_warned("main.cf:3: parameter smtpd_tls_ask_ccert is not implemented"));
	assert_true(test_warned("main.cf:4: parameter smtp_sasl_password_maps is not implemented"));
	assert_true(test_warned("main.cf:5: parameter smtp_tls_policy_maps is not implemented"));
	assert_string_equal(conf_str(c, "lmtp_tls_security_level"), "");
	assert_string_equal(conf_raw(c, "lmtp_tls_security_level"), "may");
	conf_free(c);
	buf_free(&err);
}

/* A -o override asking for it is refused with its master.cf line, and the
 * configuration keeps its earlier values. */
static void test_failclosed_override(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("", &err);
	assert_int_equal(conf_set(c, "lmtp_tls_security_level", "verify", "master.cf:7", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:7: parameter lmtp_tls_security_level = verify: not implemented"));
	assert_false(conf_is_set(c, "lmtp_tls_security_level"));
	assert_int_equal(conf_set(c, "lmtp_tls_security_level", "may", "master.cf:8", &err), 0);
	assert_true(test_warned("master.cf:8: parameter lmtp_tls_security_level is not implemented by moat; ignored"));
	assert_int_equal(conf_set(c, "smtp_tls_policy_maps", "regexp:/x", "master.cf:9", &err), -1);
	assert_int_equal(conf_set(c, "alias_maps", "hash:/etc/aliases", "master.cf:10", &err), 0);
	assert_true(test_warned("master.cf:10: parameter alias_maps is not implemented"));
	conf_free(c);
	buf_free(&err);
}

static void test_raw_and_where(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("smtpd_reject_footer = call $server_name for $client_address, $$5\n"
		      "smtpd_banner = $myhostname hi\n", &err);
	assert_non_null(c);
	assert_string_equal(conf_str(c, "smtpd_reject_footer"), "call $server_name for $client_address, $$5");
	assert_false(test_warned("is not defined"));
	assert_string_equal(conf_where(c, "smtpd_banner"), "main.cf:2");
	assert_null(conf_where(c, "smtpd_timeout"));
	assert_string_equal(conf_filename(c), "main.cf");
	conf_free(c);
	buf_free(&err);
}

static void test_apply_service(void **state)
{
	char *ov[] = { "smtpd_banner=$service_name via $process_name", "smtpd_timeout=7", NULL };
	char *bad[] = { "smtpd_timeout=soon", NULL };
	char *noeq[] = { "smtpd_timeout", NULL };
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("", &err);
	assert_int_equal(conf_apply_service(c, "127.0.0.1:25", "smtpd", ov, "master.cf:3", &err), 0);
	assert_string_equal(conf_str(c, "smtpd_banner"), "127.0.0.1:25 via smtpd");
	assert_int_equal(conf_time(c, "smtpd_timeout"), 7);
	assert_string_equal(conf_where(c, "smtpd_timeout"), "master.cf:3");
	assert_int_equal(conf_apply_service(c, "x", "smtpd", bad, "master.cf:4", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:4: parameter smtpd_timeout: bad time value"));
	assert_int_equal(conf_apply_service(c, "x", "smtpd", noeq, "master.cf:5", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:5: bad -o override"));
	conf_free(c);
	buf_free(&err);
}

static void test_transport_param(void **state)
{
	struct buf name = BUF_INIT;

	(void)state;
	assert_int_equal(conf_transport_param("smtp", CONF_SUFFIX_CONCURRENCY, &name), 1);
	assert_string_equal(buf_str(&name), "smtp_destination_concurrency_limit");
	assert_int_equal(conf_transport_param("relay", CONF_SUFFIX_RECIPIENTS, &name), 1);
	assert_string_equal(buf_str(&name), "relay_destination_recipient_limit");
	assert_int_equal(conf_transport_param("uucp", CONF_SUFFIX_CONCURRENCY, &name), 0);
	for (size_t i = 0; conf_transport_suffixes[i]; i++) {
		/* every registered suffix names at least one parameter of the table */
		size_t n = 0, sl = strlen(conf_transport_suffixes[i]);

		for (size_t k = 0; k < conf_nparams; k++) {
			size_t nl = strlen(conf_params[k].name);

			n += nl > sl && strcmp(conf_params[k].name + nl - sl, conf_transport_suffixes[i]) == 0;
		}
		assert_true(n > 0);
	}
	buf_free(&name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_failclosed_refused, test_conf_teardown),
		cmocka_unit_test_teardown(test_failclosed_safe, test_conf_teardown),
		cmocka_unit_test_teardown(test_failclosed_override, test_conf_teardown),
		cmocka_unit_test_teardown(test_raw_and_where, test_conf_teardown),
		cmocka_unit_test_teardown(test_apply_service, test_conf_teardown),
		cmocka_unit_test(test_transport_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
