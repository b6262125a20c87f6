/*
 * test_addr.c - unit tests for mail/addr.c: RFC 5321 path syntax, limits, tricks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mail/addr.h"

/* parse - run addr_parse_path on a C string; returns the result code. */
static int parse(const char *s, unsigned pflags, struct addr_path *p, size_t *used)
{
	const char *why = NULL;
	size_t u;

	return addr_parse_path(s, strlen(s), pflags, p, used ? used : &u, &why);
}

static void test_addr_plain_and_params(void **state)
{
	struct addr_path p;
	size_t used;

	(void)state;
	addr_path_init(&p);
	assert_int_equal(parse("<User.Name+tag@Example.COM> SIZE=10", ADDR_P_STRICT, &p, &used), ADDR_OK);
	assert_string_equal(buf_str(&p.addr), "User.Name+tag@Example.COM");
	assert_string_equal(addr_domain(&p), "Example.COM");
	assert_int_equal(used, strlen("<User.Name+tag@Example.COM>"));
	assert_int_equal(p.flags, 0);
	addr_path_free(&p);
}

static void test_addr_null_sender(void **state)
{
	struct addr_path p;
	size_t used;

	(void)state;
	addr_path_init(&p);
	assert_int_equal(parse("<>", ADDR_P_STRICT | ADDR_P_NULL_OK, &p, &used), ADDR_OK);
	assert_true(p.flags & ADDR_F_NULL);
	assert_int_equal(p.addr.len, 0);
	assert_int_equal(used, 2);
	assert_int_equal(parse("<>", ADDR_P_STRICT, &p, &used), ADDR_ERR_NULL);
	addr_path_free(&p);
}

static void test_addr_strict_brackets(void **state)
{
	struct addr_path p;

	(void)state;
	addr_path_init(&p);
	assert_int_equal(parse("a@b.example", ADDR_P_STRICT, &p, NULL), ADDR_ERR_NOBRACKET);
	assert_int_equal(parse("a@b.example", 0, &p, NULL), ADDR_OK);
	assert_int_equal(parse("<a@b.example", ADDR_P_STRICT, &p, NULL), ADDR_ERR_SYNTAX);
	assert_int_equal(parse("<a@b.example>x", 0, &p, NULL), ADDR_OK);	/* caller checks rest */
	addr_path_free(&p);
}

static void test_addr_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"<a..b@example.com>", "<.a@example.com>", "<a.@example.com>", "<a b@example.com>",
		"<a@-example.com>", "<a@example-.com>", "<a@example..com>", "<a@>", "<@example.com>",
		"<a@exa_mple.com>", "<\"a\x01\"@example.com>", "<\"unterminated@example.com>",
		"<a@[1.2.3]>", "<a@[IPv6:zz::1]>", "<a@[x:1]>", "<a(b)@example.com>",
		"<@a.example,b.example:c@d.example>", "<@a.example:>", "<\xc3@example.com>",
		"<\xe0\x80\x80@example.com>", "<\xed\xa0\x80@example.com>",
	};
	struct addr_path p;

	(void)state;
	addr_path_init(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(parse(bad[i], ADDR_P_STRICT, &p, NULL), ADDR_OK);
	addr_path_free(&p);
}

static void test_addr_length_limits(void **state)
{
	struct addr_path p;
	char s[600];
	char dom[300];

	(void)state;
	addr_path_init(&p);
	/* local part: 64 ok, 65 not */
	snprintf(s, sizeof(s), "<%.*s@example.com>", 64, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(parse(s, ADDR_P_STRICT, &p, NULL), ADDR_OK);
	snprintf(s, sizeof(s), "<%.*s@example.com>", 65, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(parse(s, ADDR_P_STRICT, &p, NULL), ADDR_ERR_TOOLONG);
	/* label 63 ok, 64 not */
	memset(dom, 'd', 64);
	dom[64] = 0;
	snprintf(s, sizeof(s), "<a@%.63s.example>", dom);
	assert_int_equal(parse(s, ADDR_P_STRICT, &p, NULL), ADDR_OK);
	snprintf(s, sizeof(s), "<a@%.64s.example>", dom);
	assert_int_not_equal(parse(s, ADDR_P_STRICT, &p, NULL), ADDR_OK);
	/* whole path: 256 octets with brackets ok, 257 not */
	snprintf(s, sizeof(s), "<ab@%.60s.%.60s.%.60s.%.60s.example>", dom, dom, dom, dom);
	assert_int_equal(strlen(s), 256);
	assert_int_equal(parse(s, ADDR_P_STRICT, &p, NULL), ADDR_OK);
	snprintf(s, sizeof(s), "<abc@%.60s.%.60s.%.60s.%.60s.example>", dom, dom, dom, dom);
	assert_int_equal(parse(s, ADDR_P_STRICT, &p, NULL), ADDR_ERR_TOOLONG);
	addr_path_free(&p);
}

static void test_addr_quoting(void **state)
{
	struct addr_path p;

	(void)state;
	addr_path_init(&p);
	assert_int_equal(parse("<\"john doe\"@example.com>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	assert_true(p.flags & ADDR_F_QUOTED);
	assert_false(p.flags & ADDR_F_TRICKS);
	assert_string_equal(buf_str(&p.addr), "\"john doe\"@example.com");
	assert_int_equal(parse("<\"a\\\"b\"@example.com>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	addr_path_free(&p);
}

static void test_addr_tricks(void **state)
{
	static const struct { const char *s; unsigned flag; } cases[] = {
		{ "<user%foreign.example@relay.example>", ADDR_F_PERCENT },
		{ "<foreign.example!user@relay.example>", ADDR_F_BANG },
		{ "<\"user@foreign.example\"@relay.example>", ADDR_F_QUOTED_AT },
		{ "<\"user%foreign\"@relay.example>", ADDR_F_PERCENT },
		{ "<@relay.example:user@foreign.example>", ADDR_F_ROUTE },
		{ "<@a.example,@b.example:user@foreign.example>", ADDR_F_ROUTE },
	};
	struct addr_path p;

	(void)state;
	addr_path_init(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].s, ADDR_P_STRICT, &p, NULL), ADDR_OK);
		assert_true(p.flags & cases[i].flag);
		assert_true(p.flags & ADDR_F_TRICKS);
	}
	/* the route is dropped: the mailbox is what is left */
	assert_string_equal(buf_str(&p.addr), "user@foreign.example");
	assert_string_equal(addr_domain(&p), "foreign.example");
	addr_path_free(&p);
}

static void test_addr_literals(void **state)
{
	struct addr_path p;
	unsigned char ip[16];
	int fam;

	(void)state;
	addr_path_init(&p);
	assert_int_equal(parse("<a@[192.0.2.1]>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	assert_true(p.flags & ADDR_F_LITERAL);
	assert_int_equal(addr_literal_ip("[192.0.2.1]", 11, &fam, ip), 0);
	assert_int_equal(ip[0], 192);
	assert_int_equal(parse("<a@[IPv6:2001:db8::1]>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	assert_true(p.flags & ADDR_F_LITERAL);
	assert_int_equal(addr_literal_ip("[ipv6:::1]", 10, &fam, ip), 0);
	assert_int_equal(ip[15], 1);
	addr_path_free(&p);
}

static void test_addr_nodomain_and_utf8(void **state)
{
	struct addr_path p;

	(void)state;
	addr_path_init(&p);
	assert_int_equal(parse("<Postmaster>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	assert_true(p.flags & ADDR_F_NODOMAIN);
	assert_string_equal(addr_domain(&p), "");
	assert_int_equal(parse("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	assert_true(p.flags & ADDR_F_UTF8);
	assert_int_equal(parse("<\"\xe2\x82\xac\"@example.com>", ADDR_P_STRICT, &p, NULL), ADDR_OK);
	assert_true(p.flags & ADDR_F_UTF8);
	addr_path_free(&p);
}

static void test_addr_fqdn(void **state)
{
	(void)state;
	assert_true(addr_domain_fqdn("mx.example.com"));
	assert_true(addr_domain_fqdn("[192.0.2.1]"));
	assert_false(addr_domain_fqdn("localhost"));
	assert_false(addr_domain_fqdn(""));
	assert_false(addr_domain_fqdn("a..b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_plain_and_params),
		cmocka_unit_test(test_addr_null_sender),
		cmocka_unit_test(test_addr_strict_brackets),
		cmocka_unit_test(test_addr_syntax_errors),
		cmocka_unit_test(test_addr_length_limits),
		cmocka_unit_test(test_addr_quoting),
		cmocka_unit_test(test_addr_tricks),
		cmocka_unit_test(test_addr_literals),
		cmocka_unit_test(test_addr_nodomain_and_utf8),
		cmocka_unit_test(test_addr_fqdn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
