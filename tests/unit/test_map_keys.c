/*
 * test_map_keys.c - unit tests for maps/map_keys.c: Postfix's lookup
 * orders (access(5), virtual(5)/canonical(5), transport(5), client
 * addresses), recipient_delimiter and parent_domain_matches_subdomains,
 * and map_lookup_keys over several tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "maps/map_keys.h"
#include "test_map_util.h"

/* tkeys_is - k holds exactly the keys in want ("~" in front: partial). */
static void tkeys_is(struct map_keys *k, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		const char *w = want[i];
		int partial = (*w == '~');

		if (i >= k->n)
			fail_msg("key %zu missing, expected \"%s\"", i, w);
		if (strcmp(k->v[i].key, w + partial) != 0 || k->v[i].partial != partial)
			fail_msg("key %zu is \"%s\"%s, expected \"%s\"", i, k->v[i].key,
				 k->v[i].partial ? " (partial)" : "", w);
	}
	if (i != k->n)
		fail_msg("%zu keys, expected %zu; next \"%s\"", k->n, i, k->v[i].key);
	map_keys_free(k);
}

static void test_map_keys_access(void **state)
{
	struct map_keys k;

	(void)state;
	map_keys_init(&k);
	map_keys_access(&k, "user+foo@mail.example.com", "+", 1);
	assert_string_equal(k.ext, "+foo");
	tkeys_is(&k, (const char *const[]){ "user+foo@mail.example.com", "~user@mail.example.com",
		"~mail.example.com", "~example.com", "~com", "~user+foo@", "~user@", NULL });
	map_keys_access(&k, "user+foo@mail.example.com", "", 0);	/* no delimiter */
	assert_null(k.ext);
	tkeys_is(&k, (const char *const[]){ "user+foo@mail.example.com", "~mail.example.com",
		"~.example.com", "~.com", "~user+foo@", NULL });
	map_keys_access(&k, "user-foo@example.com", "+-", 0);	/* either delimiter */
	tkeys_is(&k, (const char *const[]){ "user-foo@example.com", "~user@example.com",
		"~example.com", "~.com", "~user-foo@", "~user@", NULL });
}

/* Addresses Postfix never splits. */
static void test_map_keys_split(void **state)
{
	(void)state;
	assert_int_equal(map_keys_split("user+foo@x", "+"), 4);
	assert_int_equal(map_keys_split("user+foo", "+"), 4);
	assert_int_equal(map_keys_split("+foo@x", "+"), 0);	/* empty user */
	assert_int_equal(map_keys_split("user@x", "+"), 0);
	assert_int_equal(map_keys_split("@x", "+"), 0);
	assert_int_equal(map_keys_split("Postmaster@x", "+"), 0);
	assert_int_equal(map_keys_split("MAILER-DAEMON@x", "-"), 0);
	assert_int_equal(map_keys_split("double-bounce@x", "-"), 0);
	assert_int_equal(map_keys_split("owner-list@x", "-"), 0);
	assert_int_equal(map_keys_split("list-request@x", "-"), 0);
	assert_int_equal(map_keys_split("owner-list@x", "+"), 0);	/* no split char at all */
	assert_int_equal(map_keys_split("list-request+x@x", "+"), 12);	/* '-' not a delimiter */
	assert_int_equal(map_keys_split("a+b+c@x", "+"), 1);	/* the first delimiter */
	assert_int_equal(map_keys_split("a+b@x", NULL), 0);
}

static void test_map_keys_rewrite(void **state)
{
	struct map_keys k;

	(void)state;
	map_keys_init(&k);
	map_keys_rewrite(&k, "user+foo@example.com", "+", 1);
	tkeys_is(&k, (const char *const[]){ "user+foo@example.com", "~user@example.com",
		"~user+foo", "~user", "~@example.com", NULL });
	map_keys_rewrite(&k, "user+foo@example.com", "+", 0);	/* not a local domain */
	tkeys_is(&k, (const char *const[]){ "user+foo@example.com", "~user@example.com",
		"~@example.com", NULL });
	map_keys_rewrite(&k, "user@example.com", "+", 1);
	tkeys_is(&k, (const char *const[]){ "user@example.com", "~user", "~@example.com", NULL });
	map_keys_rewrite(&k, "user+foo", "+", 1);
	tkeys_is(&k, (const char *const[]){ "user+foo", "~user", NULL });
}

static void test_map_keys_domain_and_client(void **state)
{
	struct map_keys k;

	(void)state;
	map_keys_init(&k);
	map_keys_domain(&k, "a.b.example.com", 0);
	tkeys_is(&k, (const char *const[]){ "a.b.example.com", "~.b.example.com",
		"~.example.com", "~.com", NULL });
	map_keys_domain(&k, "a.b.example.com", 1);
	tkeys_is(&k, (const char *const[]){ "a.b.example.com", "~b.example.com",
		"~example.com", "~com", NULL });
	map_keys_domain(&k, "localhost", 0);
	tkeys_is(&k, (const char *const[]){ "localhost", NULL });
	map_keys_netaddr(&k, "192.0.2.1");
	tkeys_is(&k, (const char *const[]){ "192.0.2.1", "~192.0.2", "~192.0", "~192", NULL });
	map_keys_netaddr(&k, "2001:db8::1");
	tkeys_is(&k, (const char *const[]){ "2001:db8::1", "~2001:db8:", "~2001:db8", "~2001",
		NULL });
	/* Chained: a client's host name, then its address. */
	map_keys_domain(&k, "mx.example.org", 1);
	map_keys_netaddr(&k, "198.51.100.7");
	tkeys_is(&k, (const char *const[]){ "mx.example.org", "~example.org", "~org",
		"198.51.100.7", "~198.51.100", "~198.51", "~198", NULL });
}

static void test_map_keys_transport(void **state)
{
	struct map_keys k;

	(void)state;
	map_keys_init(&k);
	map_keys_transport(&k, "user+foo@sub.example.com", "+", 0);
	tkeys_is(&k, (const char *const[]){ "user+foo@sub.example.com", "~user@sub.example.com",
		"sub.example.com", "~.example.com", "~.com", "*", NULL });
	map_keys_transport(&k, "sub.example.com", "+", 1);	/* a bare domain */
	tkeys_is(&k, (const char *const[]){ "sub.example.com", "~example.com", "~com", "*", NULL });
}

/*
 * Against real tables: the first key wins over later ones in any table,
 * partial keys skip pcre tables, and a subdomain entry only matches
 * through the ".domain" form when parents do not match.
 */
static void test_map_lookup_keys(void **state)
{
	struct map *maps[2];
	struct map_keys k;
	struct buf v = BUF_INIT;
	size_t which;

	(void)state;
	maps[0] = tmap_open("inline:{ example.com=DOMAIN, .example.com=SUBDOMAINS, user@=LOCALPART }", 0);
	maps[1] = tmap_open("pcre:{ {/^user@/ PCRE-LOCALPART}, {/^mail\\.example\\.com$/ PCRE-DOMAIN} }", 0);
	map_keys_init(&k);
	map_keys_access(&k, "User+x@Mail.Example.COM", "+", 0);
	assert_int_equal(map_lookup_keys(maps, 2, &k, &v, &which), MAP_FOUND);
	assert_string_equal(buf_str(&v), "SUBDOMAINS");	/* ".example.com" before "user@" */
	assert_string_equal(k.v[which].key, ".Example.COM");
	map_keys_free(&k);
	map_keys_access(&k, "user@example.org", "+", 0);
	assert_int_equal(map_lookup_keys(maps, 2, &k, &v, &which), MAP_FOUND);
	assert_string_equal(buf_str(&v), "PCRE-LOCALPART");	/* the whole address, in pcre */
	assert_int_equal(which, 0);
	map_keys_free(&k);
	map_keys_access(&k, "other@mail.example.com", "+", 1);
	assert_int_equal(map_lookup_keys(maps + 1, 1, &k, &v, &which), MAP_NOTFOUND);	/* partial */
	map_keys_free(&k);
	map_keys_access(&k, "other@example.com", "+", 0);
	assert_int_equal(map_lookup_keys(maps, 2, &k, &v, NULL), MAP_FOUND);
	assert_string_equal(buf_str(&v), "DOMAIN");
	map_keys_free(&k);
	map_close(maps[0]);
	map_close(maps[1]);
	buf_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_keys_access),
		cmocka_unit_test(test_map_keys_split),
		cmocka_unit_test(test_map_keys_rewrite),
		cmocka_unit_test(test_map_keys_domain_and_client),
		cmocka_unit_test(test_map_keys_transport),
		cmocka_unit_test(test_map_lookup_keys),
	};

	return cmocka_run_group_tests(tests, NULL, tmap_teardown);
}
