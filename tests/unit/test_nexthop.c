/*
 * test_nexthop.c - unit tests for mail/nexthop.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>

#include "mail/nexthop.h"

static void check(const char *in, const char *host, unsigned port, int no_mx, int family)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;

	assert_int_equal(nexthop_parse(in, 25, &nh, &why), 0);
	assert_string_equal(nh.host, host);
	assert_int_equal(nh.port, port);
	assert_int_equal(nh.no_mx, no_mx);
	assert_int_equal(nh.family, family);
	buf_free(&why);
}

static void bad(const char *in)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;

	assert_int_equal(nexthop_parse(in, 25, &nh, &why), -1);
	assert_true(why.len > 0);
	buf_free(&why);
}

static void test_forms(void **state)
{
	(void)state;
	check("example.com", "example.com", 25, 0, 0);
	check("mx.example.com:587", "mx.example.com", 587, 0, 0);
	check("[mail.example.com]", "mail.example.com", 25, 1, 0);
	check("[mail.example.com]:2525", "mail.example.com", 2525, 1, 0);
	check("[127.0.0.1]:10025", "127.0.0.1", 10025, 1, AF_INET);
	check("[1.2.3.4]", "1.2.3.4", 25, 1, AF_INET);
	check("[::1]:2525", "::1", 2525, 1, AF_INET6);
	check("[ipv6:2001:db8::1]", "2001:db8::1", 25, 1, AF_INET6);
	check("[IPv6:2001:db8::1]:smtp", "2001:db8::1", 25, 1, AF_INET6);
	check("host:lmtp", "host", 24, 0, 0);
	check("under_score.example", "under_score.example", 25, 0, 0);
}

static void test_rejects(void **state)
{
	(void)state;
	bad("");
	bad("[");
	bad("[]");
	bad("[host");
	bad("[host]x");
	bad("[host]:");
	bad("[host]:0");
	bad("[host]:65536");
	bad("host:");
	bad("host:-1");
	bad("host:25:26");
	bad("a..b");
	bad(".a");
	bad("a b");
	bad("[a b]");
	bad("[ipv6:]");
	bad("host:nosuchservice");
	bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com");
}

static void test_port_names(void **state)
{
	unsigned p;

	(void)state;
	assert_int_equal(nexthop_port("smtp", &p), 0);
	assert_int_equal(p, 25);
	assert_int_equal(nexthop_port("SMTP", &p), 0);
	assert_int_equal(nexthop_port("2525", &p), 0);
	assert_int_equal(p, 2525);
	assert_int_equal(nexthop_port("+25", &p), -1);
	assert_int_equal(nexthop_port("", &p), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_port_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
