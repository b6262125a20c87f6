/*
 * test_dns_conf.c - the dns stage's resolver list (daemons/dns/dns_conf.c,
 * compiled in here): every nameserver of a resolv.conf in order, its
 * timeout and attempts options with their bounds, and dns_resolver_address
 * lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemons/dns/dns_conf.c"

static void tdc_quiet(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)level; (void)text; (void)len; (void)ctx;
}

/* tdc_load - ds from a resolv.conf with this text. */
static void tdc_load(struct dns_state *ds, const char *text)
{
	char path[] = "/tmp/moat-resolv-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(ds, 0, sizeof(*ds));
	ds->timeout_ms = DNS_TIMEOUT_MS;
	ds->attempts = DNS_ATTEMPTS;
	dns_conf_resolv(ds, path);
	unlink(path);
}

static void test_every_nameserver_and_options(void **state)
{
	struct dns_state ds;

	(void)state;
	msg_set_sink(tdc_quiet, NULL);
	tdc_load(&ds, "# comment\nsearch example.com\nnameserver 192.0.2.1\n"
		      "nameserver\t2001:db8::53%eth0\nnameserver bogus\n"
		      "options rotate timeout:7 attempts:3 ndots:2\nnameserver 192.0.2.3 # x\n");
	assert_int_equal(ds.nns, 3);
	assert_string_equal(ds.ns[0].text, "192.0.2.1:53");
	assert_string_equal(ds.ns[1].text, "[2001:db8::53]:53");
	assert_string_equal(ds.ns[2].text, "192.0.2.3:53");
	assert_int_equal(ds.timeout_ms, 7000);
	assert_int_equal(ds.attempts, 3);
}

static void test_option_bounds(void **state)
{
	struct dns_state ds;

	(void)state;
	tdc_load(&ds, "nameserver 192.0.2.1\noptions timeout:0 attempts:99\n");
	assert_int_equal(ds.timeout_ms, DNS_TIMEOUT_MS);
	assert_int_equal(ds.attempts, DNS_ATTEMPTS);
	tdc_load(&ds, "options timeout:30x attempts:\noptions attempts:5 timeout:30\n");
	assert_int_equal(ds.nns, 0);
	assert_int_equal(ds.timeout_ms, 30000);
	assert_int_equal(ds.attempts, 5);
}

static void test_at_most_ns_max(void **state)
{
	struct dns_state ds;
	char text[1024] = "";

	(void)state;
	for (int i = 0; i < DNS_NS_MAX + 3; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "nameserver 192.0.2.%d\n", i);
	tdc_load(&ds, text);
	assert_int_equal(ds.nns, DNS_NS_MAX);
}

static void test_resolver_address_list(void **state)
{
	char *good[] = { "127.0.0.1:5353", "[::1]:53", "192.0.2.1", "::1", NULL };
	char *bad[] = { "127.0.0.1:5353", "not-an-address", NULL };
	char *port0[] = { "127.0.0.1:0", NULL };
	struct dns_state ds;
	struct buf text = BUF_INIT;

	(void)state;
	memset(&ds, 0, sizeof(ds));
	assert_int_equal(dns_conf_resolver(good, &ds), 0);
	assert_int_equal(ds.nns, 4);
	assert_string_equal(ds.ns[0].text, "127.0.0.1:5353");
	assert_string_equal(ds.ns[1].text, "[::1]:53");
	assert_string_equal(ds.ns[3].text, "[::1]:53");
	dns_conf_text(&ds, &text);
	assert_string_equal(buf_str(&text), "127.0.0.1:5353, [::1]:53, 192.0.2.1:53, [::1]:53 "
			    "(timeout 2000 ms, 2 attempts)");
	buf_free(&text);
	assert_int_equal(dns_conf_resolver(bad, &ds), -1);
	assert_int_equal(dns_conf_resolver(port0, &ds), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_nameserver_and_options),
		cmocka_unit_test(test_option_bounds),
		cmocka_unit_test(test_at_most_ns_max),
		cmocka_unit_test(test_resolver_address_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
