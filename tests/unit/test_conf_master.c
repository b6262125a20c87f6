/*
 * test_conf_master.c - master.cf parsing (conf/mastercf.c): a realistic
 * file against its golden dump, every error with its master.cf line, and
 * the missing-file rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/xmem.h"
#include "test_conf_util.h"

#define DATA "tests/unit/data/conf/"

/* test_slurp - a data file's contents (tests run from the repo root). */
static void test_slurp(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	int ch;

	if (!f)
		fail_msg("%s: cannot open (run from the repository root)", path);
	buf_reset(out);
	while ((ch = fgetc(f)) != EOF)
		buf_putc(out, ch);
	fclose(f);
}

/* test_dump - one line per service, the golden format. */
static void test_dump(const struct master_cf *m, struct buf *out)
{
	size_t i, j;

	for (i = 0; i < m->nsvc; i++) {
		const struct master_service *s = &m->svc[i];

		buf_printf(out, "%s %s %s private=%c unpriv=%c chroot=%c wakeup=%d%s maxproc=%d command=%s",
			   s->where, s->name, s->type, s->private_ ? 'y' : 'n', s->unpriv ? 'y' : 'n',
			   s->chroot ? 'y' : 'n', s->wakeup, s->wakeup_if_used ? "?" : "", s->maxproc,
			   s->command);
		for (j = 0; s->args[j]; j++)
			buf_printf(out, " arg=%s", s->args[j]);
		for (j = 0; s->overrides[j]; j++)
			buf_printf(out, " -o %s", s->overrides[j]);
		buf_putc(out, '\n');
	}
}

static struct conf *test_main(void)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	test_capture();
	c = test_load("mua_client_restrictions = permit_sasl_authenticated, reject\n", &err);
	assert_non_null(c);
	buf_free(&err);
	return c;
}

/* The realistic file parses to the golden dump, with the chroot warning. */
static void test_master_golden(void **state)
{
	struct buf in = BUF_INIT, ref = BUF_INIT, got = BUF_INIT, err = BUF_INIT;
	struct conf *c = test_main();
	struct master_cf *m;

	(void)state;
	test_capture();
	test_slurp(DATA "master.cf.in", &in);
	test_slurp(DATA "master.cf.ref", &ref);
	m = master_load_text(in.data, in.len, "master.cf", c, &err);
	if (!m)
		fail_msg("%s", buf_str(&err));
	test_dump(m, &got);
	assert_string_equal(buf_str(&got), buf_str(&ref));
	assert_true(test_warned("master.cf:18: chroot=n ignored: moat stages are always chrooted"));
	assert_false(test_warned("is not defined"));	/* $service_name, $mua_... */
	master_free(m);
	conf_free(c);
	buf_free(&in);
	buf_free(&ref);
	buf_free(&got);
	buf_free(&err);
}

/* Every error names master.cf and the entry's first line. */
static void test_master_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "smtp inet n - y - -\n", "master.cf:1: expected at least 8 fields" },
		{ "# c\nsmtp tcp n - - - - smtpd\n", "master.cf:2: bad service type \"tcp\"" },
		{ "smtp inet x - - - - smtpd\n", "master.cf:1: private, unpriv and chroot must be y, n or -" },
		{ "smtp inet n - - soon - smtpd\n", "master.cf:1: bad wakeup time \"soon\"" },
		{ "smtp inet n - - - -1 smtpd\n", "master.cf:1: bad maxproc \"-1\"" },
		{ "smtp inet n - - - - /bin/sh\n", "master.cf:1: bad command \"/bin/sh\"" },
		{ "../x unix n - - - - cleanup\n", "master.cf:1: bad service name \"../x\"" },
		{ "a/b unix n - - - - cleanup\n", "bad service name" },
		{ "host:99999 inet n - - - - smtpd\n", "bad service name \"host:99999\"" },
		{ "[::1]smtp inet n - - - - smtpd\n", "bad service name" },
		{ "[::1]:25 inet n - - - - smtpd\nsmtp inet n - - - - smtpd\n  -o smtpd_timout=5\n",
		  "master.cf:2: -o: unknown parameter smtpd_timout (did you mean smtpd_timeout?)" },
		{ "smtp inet n - - - - smtpd\nx unix - - - - - smtpd\n\t-o smtpd_timeout=5x\n",
		  "master.cf:2: parameter smtpd_timeout: bad time value \"5x\"" },
		{ "smtp inet n - - - - smtpd -o\n", "master.cf:1: -o without name=value" },
		{ "smtp inet n - - - - smtpd -o novalue\n", "master.cf:1: bad -o \"novalue\"" },
		{ "smtp inet n - - - - smtpd\nsmtp inet n - - - - smtpd\n",
		  "master.cf:2: service smtp/inet is already defined at master.cf:1" },
		{ "smtp inet n - - - - smtpd -o { smtpd_banner = x\n", "master.cf:1: missing '}'" },
		{ "  smtp inet n - - - - smtpd\n", "master.cf:1: continuation line without an entry before it" },
		{ "# only comments\n\n", "master.cf: no services defined: moat needs at least one service" },
	};
	struct buf err = BUF_INIT;
	struct conf *c = test_main();
	size_t i;

	(void)state;
	test_capture();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct master_cf *m = master_load_text(cases[i].text, strlen(cases[i].text), "master.cf", c, &err);

		if (m || !strstr(buf_str(&err), cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&err), cases[i].want);
	}
	conf_free(c);
	buf_free(&err);
}

/* maxproc '-' follows default_process_limit; overrides see main.cf macros. */
static void test_master_defaults(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;
	struct master_cf *m;
	const char *text = "smtp inet n - - - - smtpd -o smtpd_banner=$mybanner\n"
			   "cleanup unix - n - - - cleanup\n";

	(void)state;
	test_capture();
	c = test_load("default_process_limit = 7\nmybanner = hi\n", &err);
	m = master_load_text(text, strlen(text), "master.cf", c, &err);
	assert_non_null(m);
	assert_int_equal(m->nsvc, 2);
	assert_int_equal(m->svc[0].maxproc, 7);
	assert_int_equal(m->svc[0].private_, 0);
	assert_int_equal(m->svc[1].private_, 1);
	assert_int_equal(m->svc[1].unpriv, 1);	/* n is refused: never root */
	assert_true(test_warned("master.cf:2: unpriv=n ignored"));
	assert_null(m->svc[0].args[0]);
	assert_string_equal(m->svc[0].overrides[0], "smtpd_banner=$mybanner");
	master_free(m);
	conf_free(c);
	buf_free(&err);
}

/* A missing master.cf is an error that says why moat needs one. */
static void test_master_load_dir(void **state)
{
	struct buf err = BUF_INIT, path = BUF_INIT;
	char dir[] = "/tmp/moat-test-master-XXXXXX";
	struct conf *c;
	struct master_cf *m;
	FILE *f;

	(void)state;
	test_capture();
	assert_non_null(mkdtemp(dir));
	c = conf_load(dir, &err);
	assert_non_null(c);
	assert_null(master_load(dir, c, &err));
	assert_non_null(strstr(buf_str(&err), "/master.cf: file not found: moat needs master.cf with at least one service"));
	buf_printf(&path, "%s/master.cf", dir);
	f = fopen(buf_str(&path), "w");
	assert_non_null(f);
	fputs("smtp inet n - - - - smtpd -o smtpd_banner=${mybanner}\n", f);
	assert_int_equal(fclose(f), 0);
	buf_reset(&path);
	buf_printf(&path, "%s/main.cf", dir);
	f = fopen(buf_str(&path), "w");
	assert_non_null(f);
	fputs("mybanner = hi\nmybanmer = typo\n", f);
	assert_int_equal(fclose(f), 0);
	conf_free(c);
	c = conf_load(dir, &err);
	assert_non_null(c);
	/* A macro master.cf uses is no typo; one nothing uses is reported. */
	assert_false(test_warned("unknown parameter mybanner"));
	assert_true(test_warned("main.cf:2: unknown parameter mybanmer"));
	m = master_load(dir, c, &err);
	assert_non_null(m);
	assert_string_equal(m->svc[0].where, "master.cf:1");
	master_free(m);
	assert_int_equal(unlink(buf_str(&path)), 0);
	buf_reset(&path);
	buf_printf(&path, "%s/master.cf", dir);
	assert_int_equal(unlink(buf_str(&path)), 0);
	assert_int_equal(rmdir(dir), 0);
	conf_free(c);
	buf_free(&err);
	buf_free(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_master_golden),
		cmocka_unit_test(test_master_errors),
		cmocka_unit_test(test_master_defaults),
		cmocka_unit_test(test_master_load_dir),
	};

	return cmocka_run_group_tests(tests, NULL, test_conf_teardown);
}
