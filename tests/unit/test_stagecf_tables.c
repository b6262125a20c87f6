/*
 * test_stagecf_tables.c - unit tests for stagecf/tables.c: which lookup
 * tables a configuration names (table parameters, master.cf -o overrides,
 * check_*_access items of restriction lists), once each, with where.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "stagecf/tables.h"
#include "tests/unit/test_conf_util.h"

/* collect - main.cf and master.cf text to the table list; fails the test on a load error. */
static void collect(const char *main_cf, const char *master_cf, struct stagecf_tables *t)
{
	struct buf err = BUF_INIT;
	struct conf *c = test_load(main_cf, &err);
	struct master_cf *m;

	if (c == NULL)
		fail_msg("main.cf: %s", buf_str(&err));
	m = master_load_text(master_cf, strlen(master_cf), "master.cf", c, &err);
	if (m == NULL)
		fail_msg("master.cf: %s", buf_str(&err));
	assert_int_equal(stagecf_tables_collect(c, m, t, &err), 0);
	master_free(m);
	conf_free(c);
	buf_free(&err);
}

static void test_params_and_overrides(void **state)
{
	struct stagecf_tables t;

	(void)state;
	collect("# tables\nproxy_read_maps = texthash:/etc/moat/a, inline:{ x=1, y=2 }\n"
		"  texthash:/etc/moat/a\n",
		"cleanup unix n - y - 0 cleanup\n"
		"lookup unix - - y - 1 lookup\n"
		"  -o proxy_read_maps=cidr:/etc/moat/c,texthash:/etc/moat/a\n", &t);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.v[0].spec, "texthash:/etc/moat/a");
	/* named twice: both places kept, for checks that depend on the use */
	assert_string_equal(t.v[0].where, "main.cf:2: proxy_read_maps, master.cf:2: proxy_read_maps");
	assert_string_equal(t.v[1].spec, "inline:{ x=1, y=2 }");
	assert_string_equal(t.v[2].spec, "cidr:/etc/moat/c");
	assert_non_null(strstr(t.v[2].where, "master.cf:"));
	stagecf_tables_free(&t);
}

/* An unimplemented table parameter's value is not used: its default
 * (alias_maps = hash:/etc/aliases, nis) must not become a table to open. */
static void test_unimplemented_left_out(void **state)
{
	struct stagecf_tables t;

	(void)state;
	collect("", "lookup unix - - y - 1 lookup\n", &t);
	assert_int_equal(t.n, 0);
	stagecf_tables_free(&t);
}

static void test_restriction_items(void **state)
{
	static char *items[] = {
		"permit_mynetworks", "check_client_access", "hash:/etc/moat/access",
		"check_sender_mx_access", "cidr:/etc/moat/mx", "check_helo_a_access",
		"pcre:/etc/moat/helo", "check_recipient_access",	/* last: no table follows */
		NULL,
	};
	static char *odd[] = {
		"check_policy_service", "unix:private/policy",	/* not an access table */
		"check_client_access", "reject",		/* not type:name */
		"check_sender_access", "inline:{ a@b=REJECT }", "reject_unauth_destination",
		"check_access", "hash:/x",			/* too short to name a subject */
		NULL,
	};
	struct stagecf_tables t = { 0 };

	(void)state;
	stagecf_restriction_tables(items, "main.cf:4: smtpd_client_restrictions", &t);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.v[0].spec, "hash:/etc/moat/access");
	assert_string_equal(t.v[1].spec, "cidr:/etc/moat/mx");
	assert_string_equal(t.v[2].spec, "pcre:/etc/moat/helo");
	assert_string_equal(t.v[2].where, "main.cf:4: smtpd_client_restrictions");
	stagecf_restriction_tables(odd, "x", &t);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.v[3].spec, "inline:{ a@b=REJECT }");
	stagecf_restriction_tables(NULL, "x", &t);
	assert_int_equal(t.n, 4);
	stagecf_tables_free(&t);
}

/* A restriction class's tables count; a parameter that is no class does not. */
static void test_restriction_classes(void **state)
{
	struct stagecf_tables t;

	(void)state;
	collect("smtpd_restriction_classes = c1\n"
		"c1 = check_sender_access hash:/etc/moat/c1, reject\n"
		"c2 = check_sender_access hash:/etc/moat/c2\n", "lookup unix - - y - 1 lookup\n", &t);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.v[0].spec, "hash:/etc/moat/c1");
	assert_non_null(strstr(t.v[0].where, "restriction class c1"));
	stagecf_tables_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_and_overrides),
		cmocka_unit_test(test_unimplemented_left_out),
		cmocka_unit_test(test_restriction_items),
		cmocka_unit_test(test_restriction_classes),
	};

	return cmocka_run_group_tests(tests, NULL, test_conf_teardown);
}
