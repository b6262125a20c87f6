/*
 * test_cidr.c - unit tests for mail/cidr.c (mynetworks), mail/cidr_public.c
 * (how much of the Internet a list trusts), mail/domlist.c (relay_domains,
 * mydestination) and mail/hostlist.c (debug_peer_list).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mail/cidr.h"
#include "mail/domlist.h"
#include "mail/hostlist.h"

static int match(const struct cidr_list *l, const char *text)
{
	unsigned char ip[16];
	int fam;

	assert_int_equal(cidr_parse_addr(text, &fam, ip), 0);
	return cidr_list_match(l, fam, ip);
}

static void test_cidr_ipv4(void **state)
{
	struct cidr_list l;
	struct buf err = BUF_INIT;

	(void)state;
	cidr_list_init(&l);
	assert_int_equal(cidr_list_add(&l, "10.0.0.0/8", &err), 0);
	assert_int_equal(cidr_list_add(&l, "192.0.2.7", &err), 0);
	assert_true(match(&l, "10.1.2.3"));
	assert_false(match(&l, "11.0.0.1"));
	assert_true(match(&l, "192.0.2.7"));
	assert_false(match(&l, "192.0.2.8"));
	assert_true(match(&l, "::ffff:10.9.9.9"));	/* IPv4-mapped */
	assert_false(match(&l, "::1"));
	cidr_list_free(&l);
	buf_free(&err);
}

static void test_cidr_ipv6_and_negation(void **state)
{
	struct cidr_list l;
	struct buf err = BUF_INIT;

	(void)state;
	cidr_list_init(&l);
	assert_int_equal(cidr_list_add(&l, "!2001:db8:1::/48", &err), 0);
	assert_int_equal(cidr_list_add(&l, "[2001:db8::]/32", &err), 0);
	assert_int_equal(cidr_list_add(&l, "[::1]", &err), 0);
	assert_true(match(&l, "2001:db8:2::5"));
	assert_false(match(&l, "2001:db8:1::5"));	/* excluded first */
	assert_true(match(&l, "::1"));
	assert_false(match(&l, "2001:db9::1"));
	cidr_list_free(&l);
	buf_free(&err);
}

static void test_cidr_errors(void **state)
{
	static const char *const bad[] = {
		"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "host.example", "hash:/etc/x", "1.2.3",
		"[::1", "::/129", "10.0.0.0/-1", "",
	};
	struct cidr_list l;
	struct buf err = BUF_INIT;

	(void)state;
	cidr_list_init(&l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		assert_int_equal(cidr_list_add(&l, bad[i], &err), -1);
		assert_true(err.len > 0);
	}
	assert_int_equal(l.n, 0);
	cidr_list_free(&l);
	buf_free(&err);
}

static void test_cidr_add_addr_masks(void **state)
{
	struct cidr_list l;
	unsigned char a[4] = { 192, 168, 77, 9 };
	struct buf out = BUF_INIT;

	(void)state;
	cidr_list_init(&l);
	cidr_list_add_addr(&l, AF_INET, a, 20);
	cidr_format(&l.v[0], &out);
	assert_string_equal(buf_str(&out), "192.168.64.0/20");
	assert_true(match(&l, "192.168.79.255"));
	assert_false(match(&l, "192.168.80.0"));
	cidr_list_free(&l);
	buf_free(&out);
}

/*
 * IPv4-mapped IPv6 entries name IPv4 networks, as in Postfix (whose default
 * mynetworks holds [::ffff:127.0.0.0]/104). Seen by fuzz_cidr: they never
 * matched, because mapped client addresses are matched as IPv4, so a "!"
 * exclusion written that way let the excluded client through.
 */
static void test_cidr_mapped_entries(void **state)
{
	struct cidr_list l;
	struct buf err = BUF_INIT, out = BUF_INIT;

	(void)state;
	cidr_list_init(&l);
	assert_int_equal(cidr_list_add(&l, "![::ffff:192.0.2.1]", &err), 0);
	assert_int_equal(cidr_list_add(&l, "[::ffff:192.0.2.0]/120", &err), 0);
	assert_int_equal(cidr_list_add(&l, "::ffff:127.0.0.0/104", &err), 0);
	assert_false(match(&l, "192.0.2.1"));
	assert_false(match(&l, "::ffff:192.0.2.1"));
	assert_true(match(&l, "192.0.2.5"));
	assert_true(match(&l, "::ffff:192.0.2.7"));
	assert_true(match(&l, "127.0.0.1"));
	assert_false(match(&l, "::ffff:10.0.0.1"));
	cidr_format(&l.v[1], &out);
	assert_string_equal(buf_str(&out), "192.0.2.0/24");
	cidr_list_free(&l);
	buf_free(&err);
	buf_free(&out);
}

static void test_domlist_matching(void **state)
{
	char *items[] = { "Example.COM", ".sub.test", "!bad.relay.example", "relay.example", NULL };
	struct domlist exact, parent;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(domlist_init(&exact, items, 0, &err), 0);
	assert_int_equal(domlist_init(&parent, items, 1, &err), 0);
	assert_true(domlist_match(&exact, "example.com"));
	assert_true(domlist_match(&exact, "EXAMPLE.com."));
	assert_false(domlist_match(&exact, "mx.example.com"));
	assert_true(domlist_match(&parent, "mx.example.com"));
	assert_false(domlist_match(&parent, "badexample.com"));	/* label boundary */
	assert_true(domlist_match(&exact, "a.sub.test"));
	assert_false(domlist_match(&exact, "sub.test"));		/* ".x" is subdomains only */
	assert_false(domlist_match(&parent, "bad.relay.example"));	/* excluded first */
	assert_true(domlist_match(&parent, "ok.relay.example"));
	assert_false(domlist_match(&exact, ""));
	domlist_free(&exact);
	domlist_free(&parent);
	buf_free(&err);
}

/*
 * An entry "." (the root) names no mail domain and matches nothing, as in
 * Postfix. Seen by fuzz_resolve: domlist matched every domain with it (so
 * relay_domains = . made smtpd an open relay) while qmgr's resolve.c
 * matched none.
 */
static void test_domlist_root_matches_nothing(void **state)
{
	char *items[] = { ".", "!.", NULL };
	struct domlist exact, parent;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(domlist_init(&exact, items, 0, &err), 0);
	assert_int_equal(domlist_init(&parent, items, 1, &err), 0);
	assert_false(domlist_match(&exact, "example.com"));
	assert_false(domlist_match(&parent, "example.com"));
	assert_false(domlist_match(&parent, "com."));
	domlist_free(&exact);
	domlist_free(&parent);
	buf_free(&err);
}

static void test_domlist_refuses_tables(void **state)
{
	char *items[] = { "example.com", "hash:/etc/postfix/relay", NULL };
	char *files[] = { "/etc/postfix/domains", NULL };
	struct domlist d;
	struct buf err = BUF_INIT;
	char *pdms[] = { "debug_peer_list", "relay_domains", NULL };

	(void)state;
	assert_int_equal(domlist_init(&d, items, 0, &err), -1);
	assert_non_null(strstr(buf_str(&err), "hash:/etc/postfix/relay"));
	assert_int_equal(domlist_init(&d, files, 0, &err), -1);
	assert_true(domlist_param_in(pdms, "relay_domains"));
	assert_false(domlist_param_in(pdms, "mydestination"));
	buf_free(&err);
}

/* A fake table: "Hash:/Tables" lists good.test; "fail:x" cannot answer. */
static int fake_table(void *ctx, const char *spec, const char *domain, int parent_sub)
{
	int *asked = ctx;

	(*asked)++;
	assert_int_equal(parent_sub, 1);
	if (strcmp(spec, "fail:x") == 0)
		return -1;
	assert_string_equal(spec, "Hash:/Tables");	/* the spec keeps its case */
	return strcmp(domain, "good.test") == 0;
}

/* Tables in a list: asked in order, "!" applies, a failure is never a miss. */
static void test_domlist_tables(void **state)
{
	char *items[] = { "!bad.good.test", "Hash:/Tables", "fail:x", "late.test", NULL };
	char *neg[] = { "!Hash:/Tables", "good.test", NULL };
	struct domlist d;
	struct buf err = BUF_INIT;
	int asked = 0;

	(void)state;
	assert_int_equal(domlist_init_tables(&d, items, 1, &err), 0);
	assert_int_equal(domlist_match_tables(&d, "good.test", fake_table, &asked), 1);
	assert_int_equal(asked, 1);
	assert_int_equal(domlist_match_tables(&d, "bad.good.test", fake_table, &asked), 0);
	assert_int_equal(asked, 1);			/* excluded before the table */
	assert_int_equal(domlist_match_tables(&d, "late.test", fake_table, &asked), -1);
	assert_int_equal(domlist_match(&d, "late.test"), 0);	/* no fn: never a match */
	domlist_free(&d);
	assert_int_equal(domlist_init_tables(&d, neg, 1, &err), 0);
	assert_int_equal(domlist_match_tables(&d, "good.test", fake_table, &asked), 0);
	domlist_free(&d);
	buf_free(&err);
}

/* public - cidr_list_public of the comma-separated entries. */
static double public(const char *entries, int family)
{
	struct cidr_list l;
	struct buf err = BUF_INIT;
	char *copy = strdup(entries), *save = NULL;
	double n;

	cidr_list_init(&l);
	for (char *e = strtok_r(copy, ", ", &save); e; e = strtok_r(NULL, ", ", &save))
		assert_int_equal(cidr_list_add(&l, e, &err), 0);
	n = cidr_list_public(&l, family);
	cidr_list_free(&l);
	buf_free(&err);
	free(copy);
	return n;
}

/* The public part of IPv4 is 2^32 minus the special-purpose blocks. */
#define PUBLIC4 (4294967296.0 - 16777216.0 * 3 - 4194304.0 - 65536.0 - 1048576.0 - 256.0 * 4 \
		 - 65536.0 - 131072.0 - 536870912.0)

static void test_cidr_public(void **state)
{
	(void)state;
	assert_true(public("", AF_INET) == 0);
	assert_true(public("0.0.0.0/0", AF_INET) == PUBLIC4);
	assert_true(public("0.0.0.0/1, 128.0.0.0/1", AF_INET) == PUBLIC4);
	assert_true(public("10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8", AF_INET) == 0);
	assert_true(public("100.64.0.0/10, 192.0.2.0/24, 224.0.0.0/4, 240.0.0.0/4", AF_INET) == 0);
	assert_true(public("17.0.0.0/8", AF_INET) == 16777216.0);
	assert_true(public("192.0.2.7, 203.0.114.9", AF_INET) == 1);
	/* first match decides, negations included */
	assert_true(public("!17.0.0.0/9, 17.0.0.0/8", AF_INET) == 8388608.0);
	assert_true(public("17.0.0.0/8, !17.0.0.0/9", AF_INET) == 16777216.0);
	assert_true(public("!0.0.0.0/1, 0.0.0.0/0", AF_INET) == PUBLIC4 - public("0.0.0.0/1", AF_INET));
	/* families do not mix */
	assert_true(public("0.0.0.0/0", AF_INET6) == 0);
	assert_true(public("::/0", AF_INET) == 0);
	assert_true(public("::/0", AF_INET6) > 4e37);
	assert_true(public("[2001:db8::]/32, [fd00::]/8, [fe80::]/10, ::1", AF_INET6) == 0);
	assert_true(public("2001:db8::/31", AF_INET6) == 79228162514264337593543950336.0);	/* 2^96 */
}

static void test_hostlist(void **state)
{
	char *items[] = { "!bad.example.com", "example.com", "192.0.2.0/24", "!10.1.0.0/16",
			  "10.0.0.0/8", "[2001:db8::1]", NULL };
	unsigned char ip[16];
	struct hostlist h;
	struct buf err = BUF_INIT;
	int fam;

	(void)state;
	assert_int_equal(hostlist_init(&h, items, 1, &err), 0);
#define HL(name, addr) (cidr_parse_addr(addr, &fam, ip), hostlist_match(&h, name, fam, ip))
	assert_true(HL("unknown", "192.0.2.9"));
	assert_true(HL("mx.example.com", "198.51.100.1"));
	assert_true(HL("example.com", "198.51.100.1"));
	assert_false(HL("bad.example.com", "198.51.100.1"));
	assert_false(HL("x.bad.example.com", "198.51.100.1"));	/* parent matches subdomains */
	assert_false(HL("unknown", "10.1.2.3"));
	assert_true(HL("unknown", "10.2.2.3"));
	assert_true(HL("unknown", "2001:db8::1"));
	assert_false(HL("unknown", "198.51.100.1"));
	assert_false(HL("example.org", "198.51.100.1"));
#undef HL
	hostlist_free(&h);
	{
		char *bad[] = { "hash:/etc/peers", NULL };
		char *bad2[] = { "300.1.2.3/8", NULL };

		assert_int_equal(hostlist_init(&h, bad, 1, &err), -1);
		assert_non_null(strstr(buf_str(&err), "not supported"));
		buf_reset(&err);
		assert_int_equal(hostlist_init(&h, bad2, 1, &err), -1);
		assert_non_null(strstr(buf_str(&err), "not an address, network or host name"));
	}
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_ipv4),
		cmocka_unit_test(test_cidr_ipv6_and_negation),
		cmocka_unit_test(test_cidr_errors),
		cmocka_unit_test(test_cidr_add_addr_masks),
		cmocka_unit_test(test_cidr_mapped_entries),
		cmocka_unit_test(test_domlist_matching),
		cmocka_unit_test(test_domlist_tables),
		cmocka_unit_test(test_domlist_root_matches_nothing),
		cmocka_unit_test(test_domlist_refuses_tables),
		cmocka_unit_test(test_cidr_public),
		cmocka_unit_test(test_hostlist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
