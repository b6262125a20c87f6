/*
 * test_hostname.c - unit tests for mail/hostname.c: what a PTR name must look
 * like before smtpd uses it, and the in-addr.arpa / ip6.arpa query names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "mail/hostname.h"

static void test_valid_names(void **state)
{
	static const char *const ok[] = {
		"mail.example.com", "localhost", "a-b.c0.example", "4chan.org",
		"xn--bcher-kva.example", "host.a123",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(hostname_valid(ok[i], strlen(ok[i])));
}

static void test_invalid_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "a..b", ".a.b",
		"a.b.",				/* the caller strips the one dot */
		"-a.example", "a-.example", "a.-b.example", "under_score.example",
		"sp ace.example", "semi;colon.example", "brack[et].example",
		"b\xc3\xbc" "cher.example",
		"1.2.3.4", "host.123", "12345",	/* addresses posing as names */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(hostname_valid(bad[i], strlen(bad[i])));
	assert_false(hostname_valid("a.b\0c", 5));
}

static void test_length_limits(void **state)
{
	char name[300];

	(void)state;
	memset(name, 'a', 63);
	memcpy(name + 63, ".x", 3);
	assert_true(hostname_valid(name, strlen(name)));
	memset(name, 'a', 64);
	memcpy(name + 64, ".x", 3);
	assert_false(hostname_valid(name, strlen(name)));
	/* 4 labels of 63 and dots: 255 bytes; 253 is the most DNS allows. */
	for (int i = 0; i < 4; i++) {
		memset(name + i * 64, 'a', 63);
		name[i * 64 + 63] = '.';
	}
	name[253] = 0;
	assert_true(hostname_valid(name, strlen(name)));
	name[253] = 'b';
	name[254] = 0;
	assert_false(hostname_valid(name, strlen(name)));
}

static void test_from_dns(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(hostname_from_dns("mail.example.com.", &out), 0);
	assert_string_equal(buf_str(&out), "mail.example.com");
	assert_int_equal(hostname_from_dns("mail.example.com", &out), 0);
	assert_string_equal(buf_str(&out), "mail.example.com");
	assert_int_equal(hostname_from_dns("mail.example.com..", &out), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(hostname_from_dns(".", &out), -1);
	assert_int_equal(hostname_from_dns("", &out), -1);
	assert_int_equal(hostname_from_dns("evil?.example", &out), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void reverse(int family, const char *addr, const char *want)
{
	unsigned char ip[16] = { 0 };
	struct buf out = BUF_INIT;

	assert_int_equal(inet_pton(family, addr, ip), 1);
	assert_int_equal(hostname_reverse(family, ip, &out), 0);
	assert_string_equal(buf_str(&out), want);
	buf_free(&out);
}

static void test_reverse_names(void **state)
{
	unsigned char ip[16] = { 0 };
	struct buf out = BUF_INIT;

	(void)state;
	reverse(AF_INET, "1.2.3.4", "4.3.2.1.in-addr.arpa");
	reverse(AF_INET, "127.0.0.1", "1.0.0.127.in-addr.arpa");
	reverse(AF_INET, "255.0.10.200", "200.10.0.255.in-addr.arpa");
	reverse(AF_INET6, "2001:db8::567:89ab",
		"b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	reverse(AF_INET6, "::1",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
	assert_int_equal(hostname_reverse(AF_UNIX, ip, &out), -1);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_from_dns),
		cmocka_unit_test(test_reverse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
