/*
 * test_map_pattern.c - unit tests for regexp: and pcre: tables
 * (maps/map_pattern.c, map_regexp.c, map_pcre.c): flags, $n expansion,
 * negation, if/endif, errors with file and line, and the PCRE2 limits
 * against a 1 MB subject chosen to backtrack catastrophically; cidr:
 * tables (maps/map_cidr.c), which share the rule parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_map_util.h"

static const char *const tmap_types[] = { "regexp", "pcre" };

static void test_map_pattern_basic(void **state)
{
	const char *p = tmap_file("basic",
		"# header checks\n"
		"/^Subject: (.*) (spam)$/ REJECT $2 in \"$1\" ${1}x $(2) $$ cost\n"
		"/^X-Case: ABC$/i WARN case-sensitive\n"
		"/\\.(exe|scr)\"?$/\n"
		"  REJECT attachment $1\n"
		"!/@example\\.com$/ BCC archive@example.com\n");

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct map *m = tmap_open(tmap_spec(tmap_types[i], p), 0);

		assert_true(map_is_pattern(m));
		tmap_expect(m, "subject: buy now SPAM",
			    "REJECT SPAM in \"buy now\" buy nowx SPAM $ cost");
		tmap_expect(m, "X-Case: ABC", "WARN case-sensitive");
		tmap_expect(m, "X-Case: abc", "BCC archive@example.com");
		tmap_expect(m, "user@EXAMPLE.com", NULL);	/* not negated: falls through */
		tmap_expect(m, "user@other.org", "BCC archive@example.com");
		tmap_expect(m, "name=\"x.EXE\"", "REJECT attachment EXE");
		map_close(m);
	}
}

static void test_map_pattern_if(void **state)
{
	const char *p = tmap_file("if",
		"if /@example\\.com$/\n"
		"if !/^postmaster@/\n"
		"/^(.*)@/ inner $1\n"
		"endif\n"
		"/^postmaster@/ pm\n"
		"endif\n"
		"/./ outside\n");

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct map *m = tmap_open(tmap_spec(tmap_types[i], p), 0);

		tmap_expect(m, "joe@example.com", "inner joe");
		tmap_expect(m, "postmaster@example.com", "pm");
		tmap_expect(m, "joe@example.org", "outside");
		map_close(m);
	}
}

static void test_map_pcre_flags(void **state)
{
	const char *p = tmap_file("pflags",
		"/^a.b$/ dotall-default\n"
		"/^c.d$/s no-dotall\n"
		"/^ e f $/x extended\n"
		"/^(x+?)(x*)$/U ungreedy-toggled:$1\n"
		"/^yes$/m multiline\n"
		"/z$/E dollar-endonly\n"
		"/Q/X obsolete-x\n");
	struct map *m = tmap_open(tmap_spec("pcre", p), 0);

	(void)state;
	tmap_expect(m, "a\nb", "dotall-default");
	tmap_expect(m, "c\nd", NULL);
	tmap_expect(m, "ef", "extended");
	tmap_expect(m, "xxx", "ungreedy-toggled:xxx");	/* U makes +? greedy */
	tmap_expect(m, "no\nyes\nno", "multiline");
	tmap_expect(m, "z\n", NULL);
	tmap_expect(m, "q", "obsolete-x");
	map_close(m);
}

static void test_map_regexp_flags(void **state)
{
	const char *p = tmap_file("rflags",
		"/^AB$/i case\n"
		"/^a+b$/x basic\n"
		"/^yes$/m newline\n");
	struct map *m = tmap_open(tmap_spec("regexp", p), 0);

	(void)state;
	tmap_expect(m, "AB", "case");
	tmap_expect(m, "ab", NULL);
	tmap_expect(m, "a+b", "basic");	/* basic RE: + is a literal */
	tmap_expect(m, "no\nyes", "newline");
	map_close(m);
}

/* Every refusal names the type, the file and the line. */
static void test_map_pattern_errors(void **state)
{
	static const struct {
		const char *type, *text;
		int line;
		const char *want;
	} bad[] = {
		{ "pcre", "/a/ ok\n/(unclosed/ x\n", 2, "error in regex at offset" },
		{ "regexp", "/a/ ok\n\n/(unclosed/ x\n", 3, "Unmatched (" },
		{ "pcre", "/a/q x\n", 1, "unknown regexp option \"q\"" },
		{ "regexp", "/a/s x\n", 1, "unknown regexp option \"s\"" },
		{ "pcre", "/a/\n", 1, "no replacement text" },
		{ "pcre", "/a x\n", 1, "no closing '/'" },
		{ "pcre", "a x\n", 1, "no pattern delimiter" },
		{ "pcre", "/(a)/ $2\n", 1, "out of range replacement index \"2\"" },
		{ "regexp", "!/(a)/ $1\n", 1, "out of range replacement index \"1\"" },
		{ "pcre", "/a/ $x\n", 1, "invalid replacement" },
		{ "pcre", "endif\n", 1, "ENDIF without matching IF" },
		{ "regexp", "/x/ y\nif /a/\n/b/ c\n", 2, "IF has no matching ENDIF" },
		{ "pcre", "if /a/ x\nendif\n", 1, "text after IF pattern" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = tmap_file("bad", bad[i].text);
		char want[400];

		snprintf(want, sizeof(want), "%s map %s, line %d: ", bad[i].type, p, bad[i].line);
		tmap_open_err(tmap_spec(bad[i].type, p), want);
		tmap_open_err(tmap_spec(bad[i].type, p), bad[i].want);
	}
}

/*
 * A 1 MB subject against patterns that backtrack catastrophically: the
 * lookup stops at the match or depth limit and fails, logged with the
 * file and line; the next lookup still works.
 */
static void test_map_pcre_limits(void **state)
{
	const char *p = tmap_file("evil",
		"/^(a+)+$/ nested-quantifier\n"
		"/^(?:(a)|b)*c$/ deep\n"
		"/^ok$/ fine\n");
	struct map *m = tmap_open(tmap_spec("pcre", p), 0);
	size_t n = 1 << 20;
	char *subject = malloc(n + 2);
	struct buf v = BUF_INIT;

	(void)state;
	memset(subject, 'a', n);
	subject[n] = 'b';
	subject[n + 1] = 0;
	assert_int_equal(map_lookup(m, subject, &v), MAP_FAIL);
	subject[n] = 0;		/* the first rule matches in linear time; the 2nd is never reached */
	assert_int_equal(map_lookup(m, subject, &v), MAP_FOUND);
	memset(subject, 'a', 30);
	strcpy(subject + 30, "b");	/* small: the first rule gives up quickly too */
	assert_int_equal(map_lookup(m, subject, &v), MAP_FAIL);
	tmap_expect(m, "ok", "fine");
	map_close(m);
	/* The depth limit on its own: a 1 MB subject of (a|b)* groups. */
	p = tmap_file("deep", "/^(?:(a)|b)*c$/ deep\n/^ok$/ fine\n");
	m = tmap_open(tmap_spec("pcre", p), 0);
	memset(subject, 'a', n);
	subject[n] = 0;
	assert_int_equal(map_lookup(m, subject, &v), MAP_FAIL);
	tmap_expect(m, "ok", "fine");
	map_close(m);
	free(subject);
	buf_free(&v);
}

/* Postfix 3.7 inline form: pcre:{ {rule}, {rule} } needs no file. */
static void test_map_pattern_inline(void **state)
{
	struct map_paths paths;
	struct buf err = BUF_INIT;
	struct map *m;

	(void)state;
	map_paths_init(&paths);
	assert_int_equal(map_files("pcre:{ {/^a(.)/ got $1}, {!/x/ none} }", NULL, &paths, &err), 0);
	assert_int_equal(paths.n, 0);
	m = tmap_open("pcre:{ {/^a(.)/ got $1}, {!/x/ none} }", 0);
	tmap_expect(m, "abc", "got b");
	tmap_expect(m, "zzz", "none");
	tmap_expect(m, "xx", NULL);
	map_close(m);
	tmap_open_err("regexp:{ {/(/ x} }", "regexp map regexp:{ {/(/ x} }, line 1: ");
	buf_free(&err);
}

static void test_map_cidr(void **state)
{
	const char *p = tmap_file("cidr",
		"# cidr_table(5)\n"
		"192.0.2.7        REJECT one host\n"
		"192.0.2.0/24     OK\n"
		"[2001:db8::]/32  permit_auth_destination, reject\n"
		"if 10.0.0.0/8\n"
		"!10.1.0.0/16     inside-but-not-10.1 $1\n"
		"endif\n"
		"::/0             v6-other\n");
	struct map *m = tmap_open(tmap_spec("cidr", p), 0);

	(void)state;
	assert_true(map_is_pattern(m));
	tmap_expect(m, "192.0.2.7", "REJECT one host");
	tmap_expect(m, "192.0.2.8", "OK");
	tmap_expect(m, "::ffff:192.0.2.9", "OK");	/* mapped IPv4 */
	tmap_expect(m, "2001:db8:1::5", "permit_auth_destination, reject");
	tmap_expect(m, "[2001:DB8::1]", "permit_auth_destination, reject");
	tmap_expect(m, "10.2.3.4", "inside-but-not-10.1 $1");	/* no $n in cidr */
	tmap_expect(m, "10.1.3.4", NULL);
	tmap_expect(m, "11.0.0.1", NULL);
	tmap_expect(m, "2002::1", "v6-other");
	tmap_expect(m, "mail.example.com", NULL);	/* not an address */
	map_close(m);
	p = tmap_file("cidrbad", "192.0.2.0/24 OK\n10.0.0.1/8 REJECT\n");
	tmap_open_err(tmap_spec("cidr", p), "cidr map ");
	tmap_open_err(tmap_spec("cidr", p), ", line 2: ");
	p = tmap_file("cidrbad", "192.0.2.0/24\n");
	tmap_open_err(tmap_spec("cidr", p), "line 1: no replacement text");
	p = tmap_file("cidrbad", "if !!10.0.0.0/8\nendif\n");
	tmap_open_err(tmap_spec("cidr", p), "line 1: bad network");
	p = tmap_file("cidrbad", "if 10.0.0.0/8\n");
	tmap_open_err(tmap_spec("cidr", p), "line 1: IF has no matching ENDIF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_pattern_basic),
		cmocka_unit_test(test_map_pattern_if),
		cmocka_unit_test(test_map_pcre_flags),
		cmocka_unit_test(test_map_regexp_flags),
		cmocka_unit_test(test_map_pattern_errors),
		cmocka_unit_test(test_map_pcre_limits),
		cmocka_unit_test(test_map_pattern_inline),
		cmocka_unit_test(test_map_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, tmap_teardown);
}
