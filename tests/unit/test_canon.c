/*
 * test_canon.c - the pure parts of cleanup's address rewriting: finding
 * the addresses of an address-list header in place (mail/addrlist.c) and
 * masquerading (daemons/cleanup/cleanup_masq.c, compiled in here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "daemons/cleanup/cleanup_masq.c"
#include "mail/addr_ext.h"
#include "mail/addrlist.h"

struct seen {
	struct buf out;		/* "key@off+len|" for each address */
	int stop_at;		/* fn returns -1 at this address (1-based), 0: never */
	int n;
};

static int note(void *ctx, size_t off, size_t len, const char *key)
{
	struct seen *s = ctx;

	buf_printf(&s->out, "%s@%zu+%zu|", key, off, len);
	return ++s->n == s->stop_at ? -1 : 0;
}

/* scan - addrlist_scan on v; the addresses seen as "key@off+len|...". */
static char *scan(const char *v, int *count)
{
	static char last[1024];
	struct seen s = { BUF_INIT, 0, 0 };
	struct buf key = BUF_INIT;

	*count = addrlist_scan(v, strlen(v), &key, note, &s);
	snprintf(last, sizeof(last), "%s", buf_str(&s.out));
	buf_free(&s.out);
	buf_free(&key);
	return last;
}

static void test_addrlist_forms(void **state)
{
	int n;

	(void)state;
	/* display name, comment, bare address, group, angle brackets with spaces */
	assert_string_equal(scan(" \"Old, Name\" <old@a.example>, x@b.example (c, d)\r\n", &n),
			    "old@a.example@14+13|x@b.example@30+11|");
	assert_int_equal(n, 2);
	assert_string_equal(scan(" team: a@x, <b@y>;, c@z", &n), "a@x@7+3|b@y@13+3|c@z@20+3|");
	assert_string_equal(scan(" undisclosed-recipients:;", &n), "");
	assert_int_equal(n, 0);
	assert_string_equal(scan(" Name < a@x >", &n), "a@x@8+3|");
	/* folded, source route, quoted local part with a comma, comment inside */
	assert_string_equal(scan(" a@x,\r\n\tb@y", &n), "a@x@1+3|b@y@8+3|");
	assert_string_equal(scan(" <@r1,@r2:u@x>", &n), "u@x@10+3|");
	assert_string_equal(scan(" \"a,b\"@x", &n), "\"a,b\"@x@1+7|");
	assert_string_equal(scan(" a(c)@x", &n), "a@x@1+6|");
	assert_string_equal(scan(" (only a comment)", &n), "");
}

static void test_addrlist_hostile(void **state)
{
	int n;
	struct seen s = { BUF_INIT, 2, 0 };
	struct buf key = BUF_INIT;
	const char *v = "a@x, b@y, c@z";

	(void)state;
	/* phrases and broken constructs are skipped, never guessed at */
	assert_string_equal(scan(" John Smith", &n), "");
	assert_string_equal(scan(" a@x, \"unclosed, b@y", &n), "a@x@1+3|");
	assert_string_equal(scan(" a@x, (unclosed b@y", &n), "a@x@1+3|");
	assert_string_equal(scan(" <a@x, b@y", &n), "");
	assert_string_equal(scan(" a\001b@x, c@y", &n), "c@y@8+3|");
	assert_string_equal(scan(" ((((((((", &n), "");
	/* the callback stops the scan */
	assert_int_equal(addrlist_scan(v, strlen(v), &key, note, &s), -1);
	assert_string_equal(buf_str(&s.out), "a@x@0+3|b@y@5+3|");
	buf_free(&s.out);
	buf_free(&key);
}

static char *masq(const char *addr, char **domains, char **exceptions)
{
	static char last[256];
	struct canon_params p;
	struct buf b = BUF_INIT;

	memset(&p, 0, sizeof(p));
	p.masq_domains = domains;
	p.masq_exceptions = exceptions;
	buf_set_str(&b, addr);
	(void)cleanup_masq(&p, &b);
	snprintf(last, sizeof(last), "%s", buf_str(&b));
	buf_free(&b);
	return last;
}

static void test_masquerade(void **state)
{
	char *doms[] = { "!sub.example.com", "example.com", NULL };
	char *twice[] = { "!!example.com", NULL };
	char *exc[] = { "root", "!admin", NULL };

	(void)state;
	assert_string_equal(masq("u@host.example.com", doms, NULL), "u@example.com");
	assert_string_equal(masq("u@HOST.Example.COM", doms, NULL), "u@example.com");
	assert_string_equal(masq("u@a.b.example.com", doms, NULL), "u@example.com");
	assert_string_equal(masq("u@example.com", doms, NULL), "u@example.com");
	assert_string_equal(masq("u@x.sub.example.com", doms, NULL), "u@x.sub.example.com");
	assert_string_equal(masq("u@sub.example.com", doms, NULL), "u@sub.example.com");
	assert_string_equal(masq("u@notexample.com", doms, NULL), "u@notexample.com");
	assert_string_equal(masq("u@host.example.com", twice, NULL), "u@example.com");
	assert_string_equal(masq("Root@host.example.com", doms, exc), "Root@host.example.com");
	assert_string_equal(masq("admin@host.example.com", doms, exc), "admin@example.com");
	assert_string_equal(masq("nodomain", doms, exc), "nodomain");
	assert_string_equal(masq("", doms, exc), "");
}

static void test_ext_split(void **state)
{
	(void)state;
	assert_int_equal(addr_ext_split("u+x@d", "+"), 1);
	assert_int_equal(addr_ext_split("u-x@d", "+-"), 1);
	assert_int_equal(addr_ext_split("owner-list@d", "-"), 0);
	assert_int_equal(addr_ext_split("list-request@d", "-"), 0);
	assert_int_equal(addr_ext_split("postmaster@d", "+"), 0);
	assert_int_equal(addr_ext_split("+x@d", "+"), 0);
	assert_int_equal(addr_ext_split("u@d+x", "+"), 0);
	assert_int_equal(addr_ext_split("u+x@d", ""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addrlist_forms),
		cmocka_unit_test(test_addrlist_hostile),
		cmocka_unit_test(test_masquerade),
		cmocka_unit_test(test_ext_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
