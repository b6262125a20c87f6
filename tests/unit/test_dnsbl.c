/*
 * test_dnsbl.c - unit tests for mail/dnsbl.c: list arguments, reply
 * filters, query names and the default_rbl_reply template.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "mail/dnsbl.h"

static void test_dnsbl_site(void **state)
{
	struct dnsbl_site s;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(dnsbl_site_parse("zen.example.org", &s, &why), 0);
	assert_string_equal(s.zone, "zen.example.org");
	assert_null(s.filter);
	dnsbl_site_free(&s);
	assert_int_equal(dnsbl_site_parse("zen.example.org.=127.0.0.[2;4..7]", &s, &why), 0);
	assert_string_equal(s.zone, "zen.example.org");
	assert_string_equal(s.filter, "127.0.0.[2;4..7]");
	dnsbl_site_free(&s);
	assert_int_equal(dnsbl_site_parse("", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("=127.0.0.2", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("a..b", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("z.example=127.0.0", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("z.example=127.0.0.2.1", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("z.example=127.0.0.[7..2]", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("z.example=127.0.0.[2", &s, &why), -1);
	assert_int_equal(dnsbl_site_parse("z.example=127.0.0.x", &s, &why), -1);
	buf_free(&why);
}

static void test_dnsbl_filter(void **state)
{
	(void)state;
	assert_true(dnsbl_filter_match(NULL, "127.0.0.2"));
	assert_true(dnsbl_filter_match("127.0.0.2", "127.0.0.2"));
	assert_false(dnsbl_filter_match("127.0.0.2", "127.0.0.3"));
	assert_true(dnsbl_filter_match("127.0.0.[2..11]", "127.0.0.11"));
	assert_false(dnsbl_filter_match("127.0.0.[2..11]", "127.0.0.12"));
	assert_true(dnsbl_filter_match("127.[0;1].0.[2;4..7]", "127.1.0.5"));
	assert_false(dnsbl_filter_match("127.[0;1].0.[2;4..7]", "127.1.0.3"));
	assert_false(dnsbl_filter_match("127.0.0.2", "127.0.0.2x"));
	assert_false(dnsbl_filter_match("127.0.0.2", "::1"));
	assert_false(dnsbl_filter_match("127.0.0.2", "127.0.0.258"));
}

static void test_dnsbl_names(void **state)
{
	unsigned char v4[16] = { 192, 0, 2, 99 };
	unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x1 };
	struct buf out = BUF_INIT;
	char big[300];

	(void)state;
	assert_int_equal(dnsbl_name_addr(AF_INET, v4, "bl.example", &out), 0);
	assert_string_equal(buf_str(&out), "99.2.0.192.bl.example");
	assert_int_equal(dnsbl_name_addr(AF_INET6, v6, "bl.example", &out), 0);
	assert_string_equal(buf_str(&out), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			    "8.b.d.0.1.0.0.2.bl.example");
	assert_int_equal(dnsbl_name_domain("spam.example.", "dbl.example", &out), 0);
	assert_string_equal(buf_str(&out), "spam.example.dbl.example");
	assert_int_equal(dnsbl_name_domain("bad domain", "dbl.example", &out), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	for (size_t i = 60; i < sizeof(big) - 1; i += 60)
		big[i] = '.';
	assert_int_equal(dnsbl_name_domain(big, "dbl.example", &out), -1);
	buf_free(&out);
}

static const char *vars(const char *name, void *ctx)
{
	(void)ctx;
	if (strcmp(name, "rbl_code") == 0)
		return "554";
	if (strcmp(name, "rbl_class") == 0)
		return "Client host";
	if (strcmp(name, "rbl_what") == 0)
		return "192.0.2.99";
	if (strcmp(name, "rbl_domain") == 0)
		return "bl.example";
	if (strcmp(name, "rbl_reason") == 0)
		return ctx ? "listed, see http://bl.example/" : "";
	return dnsbl_var_known(name, NULL);
}

static void test_dnsbl_expand(void **state)
{
	static const char tmpl[] = "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked "
				   "using $rbl_domain${rbl_reason?; $rbl_reason}";
	struct buf out = BUF_INIT, why = BUF_INIT;

	(void)state;
	assert_int_equal(dnsbl_expand(tmpl, vars, "x", &out, &why), 0);
	assert_string_equal(buf_str(&out), "554 Service unavailable; Client host [192.0.2.99] "
			    "blocked using bl.example; listed, see http://bl.example/");
	buf_reset(&out);
	assert_int_equal(dnsbl_expand(tmpl, vars, NULL, &out, &why), 0);
	assert_string_equal(buf_str(&out), "554 Service unavailable; Client host [192.0.2.99] "
			    "blocked using bl.example");
	buf_reset(&out);
	assert_int_equal(dnsbl_expand("${rbl_reason:no reason} $$ $(rbl_code)", vars, NULL, &out,
				      &why), 0);
	assert_string_equal(buf_str(&out), "no reason $ 554");
	/* at start-up: unknown names and broken macros are refused */
	assert_int_equal(dnsbl_expand(tmpl, dnsbl_var_known, NULL, &out, &why), 0);
	assert_int_equal(dnsbl_expand("$rbl_bogus", dnsbl_var_known, NULL, &out, &why), -1);
	assert_non_null(strstr(buf_str(&why), "rbl_bogus"));
	buf_reset(&why);
	assert_int_equal(dnsbl_expand("${rbl_code", dnsbl_var_known, NULL, &out, &why), -1);
	buf_reset(&why);
	assert_int_equal(dnsbl_expand("550 $", dnsbl_var_known, NULL, &out, &why), -1);
	buf_reset(&why);
	assert_int_equal(dnsbl_expand("${rbl_code!x}", dnsbl_var_known, NULL, &out, &why), -1);
	buf_free(&out);
	buf_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsbl_site),
		cmocka_unit_test(test_dnsbl_filter),
		cmocka_unit_test(test_dnsbl_names),
		cmocka_unit_test(test_dnsbl_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
