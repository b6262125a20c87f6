/*
 * test_resolve.c - unit tests for mail/resolve.c: transport:nexthop parsing,
 * relayhost forms, relay_domains versus default_transport, mydestination.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mail/resolve.h"

static char *const mydest[] = { "mail.example.org", "localhost.example.org", "localhost",
				".local.example.org", NULL };
static char *const relays[] = { "Example.COM", ".sub.example.net", NULL };

static void init(struct resolve *r, const char *relayhost, const char *def, const char *rel)
{
	struct resolve_params p = { mydest, relays, relayhost, def, rel, NULL, NULL, NULL, NULL, NULL };
	struct buf err = BUF_INIT;

	assert_int_equal(resolve_init(r, &p, &err), 0);
	buf_free(&err);
}

static void check(const struct resolve *r, const char *addr, enum resolve_class cls,
		  const char *service, const char *nexthop)
{
	struct resolve_result res;

	resolve_result_init(&res);
	resolve_addr(r, "s@sender.example", addr, &res);
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

/*
 * A table as the lookup stage would answer: fake_tables lists
 * "which|key|value" rows; a key "FAIL" in the table "fail:x" fails.
 */
static const char *const *fake_rows;

static int fake_lookup(void *ctx, enum resolve_table which, const char *tables, const char *key,
		       struct buf *value)
{
	char want[256];

	(void)ctx;
	if (strcmp(tables, "fail:x") == 0)
		return -1;
	snprintf(want, sizeof(want), "%d|%s|", (int)which, key);
	for (size_t i = 0; fake_rows[i]; i++)
		if (strncmp(fake_rows[i], want, strlen(want)) == 0) {
			buf_set_str(value, fake_rows[i] + strlen(want));
			return 1;
		}
	return 0;
}

static void init_tables(struct resolve *r, char *const *relay, char *const *transport,
			char *const *sender_relay, const char *const *rows)
{
	struct resolve_params p = { mydest, relay, "[relayhost.example]", "smtp", "relay",
				    transport, sender_relay, "<>", NULL, NULL };
	struct buf err = BUF_INIT;

	assert_int_equal(resolve_init(r, &p, &err), 0);
	buf_free(&err);
	r->lookup.fn = fake_lookup;
	fake_rows = rows;
}

/* The fake answers the whole key; the lookup stage's order is tested in maps/. */
static void test_transport_maps(void **state)
{
	static char *const tm[] = { "hash:/t", NULL };
	static const char *const rows[] = {
		"2|u@one.example|smtp:[10.0.0.1]:2525",
		"2|u@two.example|smtp:",
		"2|u@keep.example|:",
		"2|u@hop.example|:[10.0.0.3]",
		"2|u@err.example|error:5.1.1 mailbox unknown",
		"2|u@err2.example|error:",
		"2|u@retry.example|retry:4.4.1 later",
		"2|u@bad.example|no transport:x",
		"2|u@mail.example.org|relay:[10.0.0.9]",
		NULL,
	};
	struct resolve r;

	(void)state;
	init_tables(&r, relays, tm, NULL, rows);
	check(&r, "u@one.example", RESOLVE_DEFAULT, "smtp", "[10.0.0.1]:2525");
	/* a transport without nexthop goes to the recipient domain, not relayhost */
	check(&r, "u@two.example", RESOLVE_DEFAULT, "smtp", "two.example");
	check(&r, "u@keep.example", RESOLVE_DEFAULT, "smtp", "[relayhost.example]");
	check(&r, "u@hop.example", RESOLVE_DEFAULT, "smtp", "[10.0.0.3]");
	check(&r, "u@nothing.example", RESOLVE_DEFAULT, "smtp", "[relayhost.example]");
	/* a local domain routed elsewhere is no longer local */
	check(&r, "u@mail.example.org", RESOLVE_DEFAULT, "relay", "[10.0.0.9]");
	resolve_free(&r);
}

static void check_reason(const struct resolve *r, const char *addr, enum resolve_class cls,
			 const char *dsn, const char *reason)
{
	struct resolve_result res;

	resolve_result_init(&res);
	resolve_addr(r, "", addr, &res);
	assert_int_equal(res.cls, cls);
	assert_string_equal(res.dsn, dsn);
	assert_string_equal(res.reason, reason);
	resolve_result_free(&res);
}

static void test_transport_error_retry_fail(void **state)
{
	static char *const tm[] = { "hash:/t", NULL }, *const failing[] = { "fail:x", NULL };
	static const char *const rows[] = {
		"2|u@err.example|error:5.1.1 mailbox unknown",
		"2|u@err2.example|error:",
		"2|u@retry.example|retry:4.4.1 later",
		"2|u@bad.example|no transport:x",
		NULL,
	};
	struct resolve r;

	(void)state;
	init_tables(&r, relays, tm, NULL, rows);
	check_reason(&r, "u@err.example", RESOLVE_ERROR, "5.1.1", "mailbox unknown");
	check_reason(&r, "u@err2.example", RESOLVE_ERROR, "5.0.0", "Address is undeliverable");
	check_reason(&r, "u@retry.example", RESOLVE_DEFER, "4.4.1", "later");
	check_reason(&r, "u@bad.example", RESOLVE_DEFER, "4.3.0", "transport_maps lookup failure");
	resolve_free(&r);
	init_tables(&r, relays, failing, NULL, rows);
	check_reason(&r, "u@x.example", RESOLVE_DEFER, "4.3.0", "transport_maps lookup failure");
	resolve_free(&r);
}

static void test_domain_list_tables(void **state)
{
	static char *const relay[] = { "a.example", "hash:/relay", "b.example", NULL };
	static char *const failing[] = { "fail:x", NULL };
	static const char *const rows[] = { "1|t.example|anything", NULL };
	struct resolve r;

	(void)state;
	init_tables(&r, relay, NULL, NULL, rows);
	check(&r, "u@t.example", RESOLVE_RELAY, "relay", "[relayhost.example]");
	check(&r, "u@b.example", RESOLVE_RELAY, "relay", "[relayhost.example]");
	check(&r, "u@c.example", RESOLVE_DEFAULT, "smtp", "[relayhost.example]");
	resolve_free(&r);
	init_tables(&r, failing, NULL, NULL, rows);
	check_reason(&r, "u@c.example", RESOLVE_DEFER, "4.3.0", "domain list table lookup failure");
	resolve_free(&r);
}

/* virtual_alias_domains: what is left in one bounces 5.1.1 (names match
 * themselves only); relocated_maps bounces 5.1.6 for any class, last;
 * a failing table defers. RESOLVE_T_VIRTUAL = 4, _RELOCATED = 5, _LOCAL = 6. */
static void test_virtual_alias_domains_and_relocated(void **state)
{
	static char *const virt[] = { "alias.example", "hash:/v", NULL };
	static char *const moved[] = { "hash:/r", NULL }, *const failing[] = { "fail:x", NULL };
	static const char *const rows[] = {
		"4|t.example|anything", "5|old@remote.example|new@else.example",
		"6|gone@mail.example.org|x\r\ny@z", "5|moved@alias.example|n@x.example", NULL,
	};
	struct resolve_params p = { mydest, relays, "", "smtp", "relay", NULL, NULL, NULL,
				    virt, moved };
	struct resolve r;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(resolve_init(&r, &p, &err), 0);
	r.lookup.fn = fake_lookup;
	fake_rows = rows;
	check_reason(&r, "u@alias.example", RESOLVE_ERROR, "5.1.1",
		     "User unknown in virtual alias table");
	check_reason(&r, "u@T.example", RESOLVE_ERROR, "5.1.1", "User unknown in virtual alias table");
	check(&r, "u@sub.alias.example", RESOLVE_DEFAULT, "smtp", "sub.alias.example");
	/* relocated_maps whatever the class, as Postfix */
	check_reason(&r, "moved@alias.example", RESOLVE_ERROR, "5.1.6", "User has moved to n@x.example");
	check_reason(&r, "old@remote.example", RESOLVE_ERROR, "5.1.6",
		     "User has moved to new@else.example");
	check_reason(&r, "gone@mail.example.org", RESOLVE_ERROR, "5.1.6",
		     "User has moved to x??y@z");
	check(&r, "other@remote.example", RESOLVE_DEFAULT, "smtp", "remote.example");
	resolve_free(&r);
	p.relocated_maps = failing;
	assert_int_equal(resolve_init(&r, &p, &err), 0);
	r.lookup.fn = fake_lookup;
	check_reason(&r, "old@remote.example", RESOLVE_DEFER, "4.3.0", "relocated_maps lookup failure");
	resolve_free(&r);
	buf_free(&err);
}

static void test_sender_dependent_relayhost(void **state)
{
	static char *const sdr[] = { "hash:/sdr", NULL };
	static const char *const rows[] = {
		"3|s@sender.example|[10.0.0.7]:26", "3|<>|[10.0.0.8]", NULL,
	};
	static char *const transport_hop[] = { "hash:/t", NULL };
	static const char *const rows2[] = {
		"3|s@sender.example|[10.0.0.7]:26", "2|u@x.example|smtp:[10.0.0.1]", NULL,
	};
	struct resolve r;

	(void)state;
	init_tables(&r, relays, NULL, sdr, rows);
	check(&r, "u@remote.example", RESOLVE_DEFAULT, "smtp", "[10.0.0.7]:26");
	resolve_free(&r);
	init_tables(&r, relays, transport_hop, sdr, rows2);
	/* transport_maps comes after, and wins */
	check(&r, "u@x.example", RESOLVE_DEFAULT, "smtp", "[10.0.0.1]");
	check(&r, "u@y.example", RESOLVE_DEFAULT, "smtp", "[10.0.0.7]:26");
	resolve_free(&r);
}

static void test_init_refuses(void **state)
{
	char *const files[] = { "/etc/postfix/relay_domains", NULL };
	struct resolve_params p = { mydest, files, "", "smtp", "relay", NULL, NULL, NULL, NULL, NULL };
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
		cmocka_unit_test(test_transport_maps),
		cmocka_unit_test(test_transport_error_retry_fail),
		cmocka_unit_test(test_domain_list_tables),
		cmocka_unit_test(test_sender_dependent_relayhost),
		cmocka_unit_test(test_virtual_alias_domains_and_relocated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
