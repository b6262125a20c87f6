/*
 * test_map_simple.c - unit tests for maps/: specs, map_files and map_open
 * from handed-over fds, and the static, inline, texthash, unionmap and
 * pipemap types.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>

#include "maps/map_impl.h"
#include "test_map_util.h"

static void test_map_static(void **state)
{
	struct map *m;

	(void)state;
	m = tmap_open("static:OK", 0);
	tmap_expect(m, "anything", "OK");
	tmap_expect(m, "", "OK");
	assert_false(map_is_pattern(m));
	map_close(m);
	m = tmap_open("static:{ REJECT go away, now }", 0);
	tmap_expect(m, "x", "REJECT go away, now");
	map_close(m);
	tmap_open_err("static:{ unclosed", "missing '}'");
	tmap_open_err("static:", "table name is empty");
}

static void test_map_inline(void **state)
{
	struct map *m;

	(void)state;
	m = tmap_open("inline:{ Example.COM=smtp:[10.0.0.1], b=c, { k = text with, comma } }", 0);
	tmap_expect(m, "example.com", "smtp:[10.0.0.1]");
	tmap_expect(m, "EXAMPLE.com", "smtp:[10.0.0.1]");	/* folded */
	tmap_expect(m, "b", "c");
	tmap_expect(m, "k", "text with, comma");
	tmap_expect(m, "c", NULL);
	map_close(m);
	m = tmap_open("inline:{ Example.COM=x }", MAP_F_NOFOLD);
	tmap_expect(m, "example.com", NULL);
	tmap_expect(m, "Example.COM", "x");
	map_close(m);
	m = tmap_open("inline:{}", 0);
	tmap_expect(m, "a", NULL);
	map_close(m);
	tmap_open_err("inline:{ a=b, novalue }", "\"novalue\": need key=value");
	tmap_open_err("inline:{ a = b }", "\"a\": need key=value");	/* blanks split, as in Postfix */
	tmap_open_err("inline:{ =b }", "empty key");
	tmap_open_err("inline:a=b", "need inline:{");
	tmap_open_err("inline:{ a=b", "missing '}'");
	tmap_open_err("inline:{ a=b } x", "text after '}'");
}

static void test_map_texthash(void **state)
{
	const char *p = tmap_file("t",
		"# a comment\n"
		"key1 a\n"
		"   b\n"
		"  # comment inside\n"
		"\tc\n"
		"\n"
		"Key2\n"
		"  val2  \n"
		"key3 v3 #not a comment\n"
		"key3 dup\n");
	struct map *m;

	(void)state;
	m = tmap_open(tmap_spec("texthash", p), 0);
	tmap_expect(m, "key1", "a   b\tc");	/* joined as postmap joins them */
	tmap_expect(m, "KEY2", "val2");
	tmap_expect(m, "key3", "v3 #not a comment");	/* first entry wins */
	tmap_expect(m, "key4", NULL);
	map_close(m);
	m = tmap_open(tmap_spec("texthash", p), MAP_F_NOFOLD);
	tmap_expect(m, "key2", NULL);
	tmap_expect(m, "Key2", "val2");
	map_close(m);
}

static void test_map_texthash_errors(void **state)
{
	char want[300];

	(void)state;
	snprintf(want, sizeof(want), "%s, line 3: expected format: key whitespace value",
		 tmap_file("bad1", "a b\n# x\nonlykey\n"));
	tmap_open_err(tmap_spec("texthash", tmap_file("bad1", "a b\n# x\nonlykey\n")), want);
	snprintf(want, sizeof(want), "%s, line 2: logical line must not start with whitespace",
		 tmap_file("bad2", "# c\n lead x\n"));
	tmap_open_err(tmap_spec("texthash", tmap_file("bad2", "# c\n lead x\n")), want);
	tmap_open_err("texthash:/nonexistent/moat/table", "open /nonexistent/moat/table: No such file");
	tmap_open_err("nosuchtype:/etc/x", "unsupported table type \"nosuchtype\"");
}

static void test_map_files(void **state)
{
	struct map_paths p;
	struct buf err = BUF_INIT;

	(void)state;
	map_paths_init(&p);
	assert_int_equal(map_files("texthash:/a", NULL, &p, &err), 0);
	assert_int_equal(map_files("static:OK", NULL, &p, &err), 0);
	assert_int_equal(map_files("inline:{a=b}", NULL, &p, &err), 0);
	assert_int_equal(map_files("unionmap:{texthash:/b, inline:{x=y}, "
				   "pipemap:{texthash:/c, texthash:/d}}", NULL, &p, &err), 0);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.v[0], "/a");
	assert_string_equal(p.v[1], "/b");
	assert_string_equal(p.v[2], "/c");
	assert_string_equal(p.v[3], "/d");
	map_paths_free(&p);
	assert_int_equal(map_files("/etc/x", "texthash", &p, &err), 0);	/* default type */
	assert_string_equal(p.v[0], "/etc/x");
	map_paths_free(&p);
	assert_int_equal(map_files("/etc/x", "nosuch", &p, &err), -1);
	assert_non_null(strstr(buf_str(&err), "unsupported default_database_type"));
	buf_reset(&err);
	assert_int_equal(map_files("unionmap:texthash:/a", NULL, &p, &err), -1);
	assert_non_null(strstr(buf_str(&err), "need {type:name"));
	map_paths_free(&p);
	buf_free(&err);
}

/* map_open from fds: as the lookup stage gets them, in map_files order. */
static void test_map_open_fds(void **state)
{
	const char *a = tmap_file("fa", "k from-a\n"), *b = tmap_file("fb", "k from-b\n");
	char spec[700];
	struct buf err = BUF_INIT;
	int fds[3];
	struct map *m;

	(void)state;
	snprintf(spec, sizeof(spec), "unionmap:{texthash:%s, texthash:%s}", a, b);
	fds[0] = open(a, O_RDONLY);
	fds[1] = open(b, O_RDONLY);
	assert_non_null(m = map_open(spec, NULL, fds, 2, 0, &err));
	tmap_expect(m, "k", "from-a,from-b");
	map_close(m);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);	/* taken and closed */
	/* Too few fds: refused, and the one given is closed. */
	fds[0] = open(a, O_RDONLY);
	assert_null(map_open(spec, NULL, fds, 1, 0, &err));
	assert_non_null(strstr(buf_str(&err), "no file descriptor was handed over"));
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	/* Too many: refused, every one closed. */
	buf_reset(&err);
	for (int i = 0; i < 3; i++)
		fds[i] = open(a, O_RDONLY);
	assert_null(map_open(spec, NULL, fds, 3, 0, &err));
	assert_non_null(strstr(buf_str(&err), "3 file descriptors handed over, 2 used"));
	for (int i = 0; i < 3; i++)
		assert_int_equal(fcntl(fds[i], F_GETFD), -1);
	buf_free(&err);
}

static void test_map_union_pipe(void **state)
{
	struct map *m;

	(void)state;
	m = tmap_open("unionmap:{inline:{a=1, b=2}, static:S, inline:{a=3}}", 0);
	tmap_expect(m, "a", "1,S,3");
	tmap_expect(m, "z", "S");
	map_close(m);
	m = tmap_open("unionmap:{inline:{a=1}, inline:{b=2}}", 0);
	tmap_expect(m, "b", "2");
	tmap_expect(m, "c", NULL);
	map_close(m);
	m = tmap_open("pipemap:{inline:{User@Example.com=alias}, inline:{alias=Final}}", 0);
	tmap_expect(m, "user@example.COM", "Final");
	tmap_expect(m, "other", NULL);
	map_close(m);
	m = tmap_open("pipemap:{inline:{a=b}, inline:{c=d}}", 0);
	tmap_expect(m, "a", NULL);	/* "b" is not in the second table */
	map_close(m);
	tmap_open_err("pipemap:{inline:{a=b}}", "need at least 2 tables");
	tmap_open_err("unionmap:{}", "need at least 1 table");
	tmap_open_err("unionmap:{inline:{a=b}, nosuch:x}", "unsupported table type");
	tmap_open_err("unionmap:{unionmap:{unionmap:{unionmap:{unionmap:{unionmap:{unionmap:"
		      "{unionmap:{static:x}}}}}}}}", "nested deeper than");
}

/* map_spec.c's kind table (what the broker links) agrees with every implementation. */
static void test_map_kinds_match_implementations(void **state)
{
	const struct map_ops *all[] = {
		&map_ops_hash, &map_ops_btree, &map_ops_texthash, &map_ops_inline, &map_ops_static,
		&map_ops_regexp, &map_ops_pcre, &map_ops_cidr, &map_ops_unionmap, &map_ops_pipemap,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_true(map_type_known(all[i]->type));
		assert_int_equal(map_type_src(all[i]->type), (int)all[i]->src);
	}
	assert_false(map_type_known("ldap"));
	assert_int_equal(map_type_src("ldap"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_kinds_match_implementations),
		cmocka_unit_test(test_map_static),
		cmocka_unit_test(test_map_inline),
		cmocka_unit_test(test_map_texthash),
		cmocka_unit_test(test_map_texthash_errors),
		cmocka_unit_test(test_map_files),
		cmocka_unit_test(test_map_open_fds),
		cmocka_unit_test(test_map_union_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, tmap_teardown);
}
