/*
 * test_ipclass.c - unit tests for mail/ipclass.c: the addresses the SMTP
 * client refuses, in every spelling a hostile DNS zone could use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/ipclass.h"

struct ipclass_case {
	const char *text;
	enum ipclass want;
};

static void test_classes(void **state)
{
	static const struct ipclass_case cases[] = {
		{ "127.0.0.1", IPCLASS_LOOPBACK }, { "127.255.0.9", IPCLASS_LOOPBACK },
		{ "0.0.0.0", IPCLASS_UNSPECIFIED }, { "0.1.2.3", IPCLASS_UNSPECIFIED },
		{ "169.254.169.254", IPCLASS_LINK_LOCAL }, { "224.0.0.1", IPCLASS_MULTICAST },
		{ "239.255.255.250", IPCLASS_MULTICAST }, { "240.0.0.1", IPCLASS_RESERVED },
		{ "255.255.255.255", IPCLASS_BROADCAST },
		{ "::1", IPCLASS_LOOPBACK }, { "::", IPCLASS_UNSPECIFIED },
		{ "fe80::1", IPCLASS_LINK_LOCAL }, { "febf::1", IPCLASS_LINK_LOCAL },
		{ "fec0::1", IPCLASS_RESERVED }, { "ff02::1", IPCLASS_MULTICAST },
		{ "100::1", IPCLASS_RESERVED },
		/* IPv4 inside IPv6 is judged by the IPv4 address. */
		{ "::ffff:127.0.0.1", IPCLASS_LOOPBACK }, { "::ffff:169.254.169.254", IPCLASS_LINK_LOCAL },
		{ "::ffff:0.0.0.0", IPCLASS_UNSPECIFIED }, { "::127.0.0.1", IPCLASS_LOOPBACK },
		{ "64:ff9b::a9fe:a9fe", IPCLASS_LINK_LOCAL }, { "2002:7f00:1::1", IPCLASS_LOOPBACK },
		{ "::ffff:192.0.2.1", IPCLASS_ROUTABLE }, { "2002:c000:201::1", IPCLASS_ROUTABLE },
		/* Ordinary addresses, private ones included. */
		{ "192.0.2.1", IPCLASS_ROUTABLE }, { "10.1.2.3", IPCLASS_ROUTABLE },
		{ "172.16.0.1", IPCLASS_ROUTABLE }, { "192.168.1.1", IPCLASS_ROUTABLE },
		{ "1.1.1.1", IPCLASS_ROUTABLE }, { "223.255.255.255", IPCLASS_ROUTABLE },
		{ "169.253.1.1", IPCLASS_ROUTABLE }, { "126.255.255.255", IPCLASS_ROUTABLE },
		{ "2001:db8::1", IPCLASS_ROUTABLE }, { "fd00::1", IPCLASS_ROUTABLE },
		{ "fe7f::1", IPCLASS_ROUTABLE }, { "100:0:0:1::1", IPCLASS_ROUTABLE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = ipclass_of_text(cases[i].text);

		if (got != (int)cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].text, got, (int)cases[i].want);
	}
}

static void test_not_addresses(void **state)
{
	(void)state;
	assert_int_equal(ipclass_of_text("localhost"), -1);
	assert_int_equal(ipclass_of_text("127.1"), -1);
	assert_int_equal(ipclass_of_text("[127.0.0.1]"), -1);
	assert_int_equal(ipclass_of_text(""), -1);
}

static void test_self_and_names(void **state)
{
	(void)state;
	assert_true(ipclass_is_self(IPCLASS_LOOPBACK));
	assert_true(ipclass_is_self(IPCLASS_UNSPECIFIED));
	assert_false(ipclass_is_self(IPCLASS_LINK_LOCAL));
	assert_false(ipclass_is_self(IPCLASS_ROUTABLE));
	assert_string_equal(ipclass_name(IPCLASS_LINK_LOCAL), "link-local");
	assert_string_equal(ipclass_name(IPCLASS_MULTICAST), "multicast");
	assert_string_equal(ipclass_name((enum ipclass)99), "reserved");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_not_addresses),
		cmocka_unit_test(test_self_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
