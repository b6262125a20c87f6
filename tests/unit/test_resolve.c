/*
 * test_resolve.c - unit tests for mail/resolve.c: transport:nexthop parsing,
 * relayhost forms, relay_domains versus default_transport, mydestination.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mail/resolve.h"

static char *const mydest[] = { "mail.example.org", "localhost.example.org", "localhost",
				".local.example.org", NULL };
static char *const relays[] = { "Example.COM", ".sub.example.net", NULL };

static void init(struct resolve *r, const char *relayhost, const char *def, const char *rel)
{
	struct resolve_params p = { mydest, relays, relayhost, def, rel };
	struct buf err = BUF_INIT;

	assert_int_equal(resolve_init(r, &p, &err), 0);
	buf_free(&err);
}

static void check(const struct resolve *r, const char *addr, enum resolve_class cls,
		  const char *service, const char *nexthop)
{
	struct resolve_result res;

	resolve_result_init(&res);
	resolve_addr(r, addr, &res);
	assert_int_equal(res.cls, cls);
	if (service == NULL) {
		assert_null(res.service);
	} else {
		assert_string_equal(res.service, service);
		assert_string_equal(res.nexthop, nexthop);
	}
	resolve_result_free(&res);
}

static void test_split_transport(void **state)
{
	struct buf s = BUF_INIT, h = BUF_INIT;

	(void)state;
	assert_int_equal(resolve_split_transport("smtp:[10.0.0.1]:2525", &s, &h), 0);
	assert_string_equal(buf_str(&s), "smtp");
	assert_string_equal(buf_str(&h), "[10.0.0.1]:2525");
	assert_int_equal(resolve_split_transport("relay", &s, &h), 0);
	assert_string_equal(buf_str(&s), "relay");
	assert_string_equal(buf_str(&h), "");
	assert_int_equal(resolve_split_transport("smtp:", &s, &h), 0);
	assert_string_equal(buf_str(&h), "");
	assert_int_equal(resolve_split_transport("smtp:[ipv6:2001:db8::1]:25", &s, &h), 0);
	assert_string_equal(buf_str(&s), "smtp");
	assert_string_equal(buf_str(&h), "[ipv6:2001:db8::1]:25");
	assert_int_equal(resolve_split_transport("smtp:mx.example.com:587", &s, &h), 0);
	assert_string_equal(buf_str(&h), "mx.example.com:587");
	assert_int_equal(resolve_split_transport(":[host]", &s, &h), -1);
	assert_int_equal(resolve_split_transport("", &s, &h), -1);
	assert_int_equal(resolve_split_transport("sm tp:x", &s, &h), -1);
	assert_int_equal(resolve_split_transport("a/b", &s, &h), -1);
	buf_free(&s);
	buf_free(&h);
}

static void test_default_and_relay(void **state)
{
	struct resolve r;

	(void)state;
	init(&r, "", "smtp", "relay");
	check(&r, "u@Remote.Example.NET", RESOLVE_DEFAULT, "smtp", "remote.example.net");
	check(&r, "u@example.com", RESOLVE_RELAY, "relay", "example.com");
	check(&r, "u@EXAMPLE.com.", RESOLVE_RELAY, "relay", "example.com");
	/* parent entry matches subdomains; a mere suffix does not */
	check(&r, "u@a.b.example.com", RESOLVE_RELAY, "relay", "a.b.example.com");
	check(&r, "u@notexample.com", RESOLVE_DEFAULT, "smtp", "notexample.com");
	/* ".sub.example.net" matches subdomains only */
	check(&r, "u@x.sub.example.net", RESOLVE_RELAY, "relay", "x.sub.example.net");
	check(&r, "u@sub.example.net", RESOLVE_DEFAULT, "smtp", "sub.example.net");
	/* the last @ separates the domain; a literal is a next hop as is */
	check(&r, "\"a@b\"@example.org", RESOLVE_DEFAULT, "smtp", "example.org");
	check(&r, "u@[192.0.2.1]", RESOLVE_DEFAULT, "smtp", "[192.0.2.1]");
	resolve_free(&r);
}

static void test_relayhost_forms(void **state)
{
	static const char *const forms[] = {
		"[127.0.0.1]:2526", "mx.example.com", "host:587", "[gw.example.com]",
	};
	struct resolve r;

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		init(&r, forms[i], "smtp", "relay");
		check(&r, "u@remote.example", RESOLVE_DEFAULT, "smtp", forms[i]);
		/* relayhost also applies to relay_domains (Postfix precedence) */
		check(&r, "u@example.com", RESOLVE_RELAY, "relay", forms[i]);
		resolve_free(&r);
	}
	init(&r, "  [10.1.1.1]  ", "smtp", "relay");
	check(&r, "u@remote.example", RESOLVE_DEFAULT, "smtp", "[10.1.1.1]");
	resolve_free(&r);
}

static void test_transport_nexthop_wins(void **state)
{
	struct resolve r;

	(void)state;
	init(&r, "[127.0.0.1]:2526", "smtp:[10.0.0.1]:2525", "relay:[gw.example.com]");
	check(&r, "u@remote.example", RESOLVE_DEFAULT, "smtp", "[10.0.0.1]:2525");
	check(&r, "u@example.com", RESOLVE_RELAY, "relay", "[gw.example.com]");
	resolve_free(&r);
	init(&r, "", "smtp:", "lmtp");
	check(&r, "u@remote.example", RESOLVE_DEFAULT, "smtp", "remote.example");
	check(&r, "u@example.com", RESOLVE_RELAY, "lmtp", "example.com");
	resolve_free(&r);
}

static void test_local_and_bad(void **state)
{
	struct resolve r;

	(void)state;
	init(&r, "[127.0.0.1]:2526", "smtp", "relay");
	check(&r, "root@localhost", RESOLVE_LOCAL, NULL, NULL);
	check(&r, "root@MAIL.example.org", RESOLVE_LOCAL, NULL, NULL);
	check(&r, "root@mail.example.org.", RESOLVE_LOCAL, NULL, NULL);
	check(&r, "root@a.local.example.org", RESOLVE_LOCAL, NULL, NULL);
	/* mydestination entries do not match subdomains by themselves */
	check(&r, "root@x.mail.example.org", RESOLVE_DEFAULT, "smtp", "[127.0.0.1]:2526");
	check(&r, "root", RESOLVE_LOCAL, NULL, NULL);
	check(&r, "root@", RESOLVE_BAD, NULL, NULL);
	check(&r, "root@...", RESOLVE_BAD, NULL, NULL);
	resolve_free(&r);
}

static void test_init_refuses(void **state)
{
	char *const tables[] = { "hash:/etc/postfix/relay_domains", NULL };
	struct resolve_params p = { mydest, tables, "", "smtp", "relay" };
	struct resolve r;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(resolve_init(&r, &p, &err), -1);
	assert_non_null(strstr(buf_str(&err), "not implemented"));
	buf_reset(&err);
	p.relay_domains = relays;
	p.default_transport = "bad transport";
	assert_int_equal(resolve_init(&r, &p, &err), -1);
	assert_non_null(strstr(buf_str(&err), "default_transport"));
	buf_reset(&err);
	p.default_transport = "smtp";
	p.relay_transport = ":x";
	assert_int_equal(resolve_init(&r, &p, &err), -1);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_transport),
		cmocka_unit_test(test_default_and_relay),
		cmocka_unit_test(test_relayhost_forms),
		cmocka_unit_test(test_transport_nexthop_wins),
		cmocka_unit_test(test_local_and_bad),
		cmocka_unit_test(test_init_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
