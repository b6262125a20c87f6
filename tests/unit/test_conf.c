/*
 * test_conf.c - main.cf parsing, expansion, type checks, suggestions,
 * overrides and atomic editing (conf/maincf.c, expand.c, value.c, access.c,
 * edit.c, paramindex.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/xmem.h"
#include "test_conf_util.h"

/* Comments only at the start of a line, blanks around '=' optional,
 * continuation lines joined, later definitions win. */
static void test_parse_syntax(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("# comment\n"
		      "   # indented comment\n"
		      "\n"
		      "myhostname=mail.example.com\n"
		      "smtpd_banner = hello # not a comment\n"
		      "mydestination = a,\n"
		      "\n"
		      "# comment inside an entry\n"
		      "    b\n"
		      "\tc\r\n"
		      "relayhost = first\n"
		      "relayhost =   [gw.example.com]:587   \n", &err);
	assert_non_null(c);
	assert_string_equal(conf_str(c, "myhostname"), "mail.example.com");
	assert_string_equal(conf_str(c, "smtpd_banner"), "hello # not a comment");
	assert_string_equal(conf_raw(c, "mydestination"), "a, b c");
	assert_string_equal(conf_list(c, "mydestination")[0], "a");
	assert_string_equal(conf_list(c, "mydestination")[1], "b");
	assert_string_equal(conf_list(c, "mydestination")[2], "c");
	assert_null(conf_list(c, "mydestination")[3]);
	assert_string_equal(conf_str(c, "relayhost"), "[gw.example.com]:587");
	assert_true(conf_is_set(c, "relayhost"));
	assert_false(conf_is_set(c, "relay_domains"));
	assert_int_equal(test_warnings.len, 0);
	conf_free(c);
	buf_free(&err);
}

/* $name, ${name}, $(name), nesting and the conditional forms. */
static void test_expand_forms(void **state)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("myhostname = mx.example.org\n"
		      "mail_name = M\n"
		      "part = ${mail_name}-$(mail_name)\n"
		      "smtpd_banner = $myhostname ESMTP $part ${relayhost?relay}${relayhost:direct} $ end$\n"
		      "smtp_helo_name = ${myorigin?{$myorigin}}\n", &err);
	assert_non_null(c);
	assert_string_equal(conf_str(c, "smtpd_banner"), "mx.example.org ESMTP M-M direct $ end$");
	assert_string_equal(conf_raw(c, "smtpd_banner"),
			    "$myhostname ESMTP $part ${relayhost?relay}${relayhost:direct} $ end$");
	assert_string_equal(conf_str(c, "myorigin"), "mx.example.org");
	assert_string_equal(conf_str(c, "mydomain"), "example.org");
	assert_int_equal(conf_expand(c, "<$mydomain|${mail_name}>", &out, &err), 0);
	assert_string_equal(buf_str(&out), "<example.org|M>");
	assert_false(test_warned("unknown parameter part"));	/* used as a macro */
	conf_free(c);
	buf_free(&err);
	buf_free(&out);
}

/* A loop is an error that names the parameter, its line and the path. */
static void test_expand_loop(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	test_capture();
	assert_null(test_load("myhostname = h.example\n"
			      "myorigin = $mydomain\n"
			      "mydomain = ${myorigin}\n", &err));
	assert_non_null(strstr(buf_str(&err), "main.cf:3: parameter mydomain: expansion loop: mydomain -> myorigin -> mydomain"));
	assert_null(test_load("smtpd_banner = x $smtpd_banner\n", &err));
	assert_non_null(strstr(buf_str(&err), "main.cf:1: parameter smtpd_banner: expansion loop: smtpd_banner -> smtpd_banner"));
	assert_null(test_load("smtpd_banner = $m1\nm1 = $m2\nm2 = $(m1)\n", &err));
	assert_non_null(strstr(buf_str(&err), "expansion loop: m1 -> m2 -> m1"));
	buf_free(&err);
}

/* Unused macros may loop (Postfix only complains on use); a long chain and
 * an exponential blow-up are refused quickly. */
static void test_expand_limits(void **state)
{
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct conf *c;
	int i;

	(void)state;
	test_capture();
	c = test_load("x1 = $x2\nx2 = $x1\n", &err);
	assert_non_null(c);
	conf_free(c);
	buf_printf(&text, "smtpd_banner = $a0\n");
	for (i = 0; i < 100; i++)
		buf_printf(&text, "a%d = $a%d\n", i, i + 1);
	assert_null(test_load(buf_str(&text), &err));
	assert_non_null(strstr(buf_str(&err), "nested too deeply"));
	buf_reset(&text);
	buf_printf(&text, "smtpd_banner = $b40\nb0 = xx\n");
	for (i = 1; i <= 40; i++)
		buf_printf(&text, "b%d = $b%d$b%d\n", i, i - 1, i - 1);
	assert_null(test_load(buf_str(&text), &err));
	assert_non_null(strstr(buf_str(&err), "longer than"));
	assert_non_null(strstr(buf_str(&err), "main.cf:"));
	assert_null(test_load("smtpd_banner = ${mail_name\n", &err));
	assert_non_null(strstr(buf_str(&err), "main.cf:1: parameter smtpd_banner: missing '}'"));
	buf_free(&err);
	buf_free(&text);
}

/* An undefined $name expands to nothing, with one warning per name. */
static void test_expand_undefined(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;
	const char *first;

	(void)state;
	test_capture();
	c = test_load("smtpd_banner = [$nope][${nope}]\n", &err);
	assert_non_null(c);
	assert_string_equal(conf_str(c, "smtpd_banner"), "[][]");
	first = strstr(buf_str(&test_warnings), "$nope is not defined");
	assert_non_null(first);
	assert_null(strstr(first + 1, "$nope is not defined"));
	assert_true(test_warned("main.cf:1: parameter smtpd_banner"));
	conf_free(c);
	buf_free(&err);
}

/* Every type's checks; the error names file, line and parameter. */
static void test_type_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "smtpd_helo_required = maybe\n", "main.cf:1: parameter smtpd_helo_required: bad boolean value \"maybe\"" },
		{ "smtpd_recipient_limit = 12x\n", "main.cf:1: parameter smtpd_recipient_limit: bad integer value" },
		{ "default_process_limit = 0\n", "main.cf:1: parameter default_process_limit: bad integer value \"0\" (expected a number from 1 to" },
		{ "reject_code = 250\n", "parameter reject_code: bad integer value" },
		{ "# x\nsmtpd_timeout = 5x\n", "main.cf:2: parameter smtpd_timeout: bad time value \"5x\"" },
		{ "smtpd_timeout = 0s\n", "main.cf:1: parameter smtpd_timeout: time value \"0s\" is out of range" },
		{ "maximal_queue_lifetime = 99999999999999w\n", "is out of range" },
		{ "smtpd_timeout = -5\n", "bad time value" },
		{ "message_size_limit = -1\n", "main.cf:1: parameter message_size_limit: bad size value" },
		{ "message_size_limit = 10MB\n", "bad size value" },
		{ "transport_maps = /etc/moat/transport\n", "main.cf:1: parameter transport_maps: bad table \"/etc/moat/transport\" (expected type:name)" },
		{ "transport_maps = hash:/a, lmdb:/etc/x\n", "table type \"lmdb\" is not supported by moat" },
		{ "header_checks = inline:foo\n", "expected inline:{ key=value, ... }" },
		{ "header_checks = hash:\n", "expected type:name" },
		{ "inet_protocols = ipv4, ipv5\n", "parameter inet_protocols: bad item \"ipv5\"" },
		{ "mynetworks_style = everything\n", "parameter mynetworks_style: bad value \"everything\" (expected one of: host subnet class)" },
		{ "smtpd_client_restrictions = check_client_access inline:{ 1.2.3.4=OK\n", "main.cf:1: parameter smtpd_client_restrictions: missing '}'" },
		{ "smtpd_client_restrictions = permit }\n", "unexpected '}'" },
		{ "myhostname = a\n\nsmtpd_timeout =\n  5q\n", "main.cf:3: parameter smtpd_timeout" },
		{ "t = abc\nsmtpd_timeout = $t\n", "main.cf:2: parameter smtpd_timeout: bad time value \"abc\"" },
	};
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	test_capture();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = test_load(cases[i].text, &err);

		if (c || !strstr(buf_str(&err), cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&err), cases[i].want);
		conf_free(c);
	}
	buf_free(&err);
}

/* Values convert with their units and default units. */
static void test_type_values(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;
	char *const *l;

	(void)state;
	test_capture();
	c = test_load("n = 10\n"
		      "smtpd_timeout = ${n}m\n"
		      "maximal_queue_lifetime = 3\n"
		      "bounce_queue_lifetime = 2w\n"
		      "max_idle = 7\n"
		      "smtpd_helo_required = False\n"
		      "disable_vrfy_command = TRUE\n"
		      "message_size_limit = 0\n"
		      "smtpd_recipient_restrictions = permit_mynetworks,reject_unauth_destination\n"
		      "  check_client_access inline:{ 1.2.3.4=OK, 5.6.7.8 = REJECT go away }, { spaced item }\n"
		      "inet_protocols = IPv4\n", &err);
	if (!c)
		fail_msg("%s", buf_str(&err));
	assert_int_equal(conf_time(c, "smtpd_timeout"), 600);
	assert_int_equal(conf_time(c, "maximal_queue_lifetime"), 3 * 86400);
	assert_int_equal(conf_time(c, "bounce_queue_lifetime"), 14 * 86400);
	assert_int_equal(conf_time(c, "max_idle"), 7);
	assert_int_equal(conf_time(c, "minimal_backoff_time"), 300);
	assert_false(conf_bool(c, "smtpd_helo_required"));
	assert_true(conf_bool(c, "disable_vrfy_command"));
	assert_true(conf_bool(c, "smtpd_delay_reject"));
	assert_int_equal(conf_size(c, "message_size_limit"), 0);
	assert_int_equal(conf_size(c, "bounce_size_limit"), 50000);
	assert_int_equal(conf_int(c, "smtp_destination_concurrency_limit"), 20);
	l = conf_list(c, "smtpd_recipient_restrictions");
	assert_string_equal(l[0], "permit_mynetworks");
	assert_string_equal(l[1], "reject_unauth_destination");
	assert_string_equal(l[2], "check_client_access");
	assert_string_equal(l[3], "inline:{ 1.2.3.4=OK, 5.6.7.8 = REJECT go away }");
	assert_string_equal(l[4], "spaced item");
	assert_null(l[5]);
	assert_null(conf_list(c, "transport_maps")[0]);
	conf_free(c);
	buf_free(&err);
}

/* Defaults: Postfix's where moat has the feature, computed host names. */
static void test_defaults(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;
	char host[257] = { 0 };

	(void)state;
	test_capture();
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	c = test_load("", &err);
	assert_non_null(c);
	assert_string_equal(conf_str(c, "myhostname"), host);
	assert_string_equal(conf_default(c, "myhostname"), host);
	assert_string_equal(conf_raw(c, "smtpd_banner"), "$myhostname ESMTP $mail_name");
	assert_string_equal(conf_str(c, "queue_directory"), "/var/spool/moat");
	assert_string_equal(conf_str(c, "mynetworks_style"), "host");
	assert_string_equal(conf_str(c, "relay_domains"), "");
	assert_string_equal(conf_str(c, "smtpd_relay_restrictions"),
			    "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination");
	assert_int_equal(conf_time(c, "maximal_backoff_time"), 4000);
	assert_int_equal(conf_time(c, "daemon_timeout"), 18000);
	assert_int_equal(conf_size(c, "message_size_limit"), 10240000);
	assert_int_equal(conf_int(c, "smtpd_client_connection_count_limit"), 50);
	assert_string_equal(conf_list(c, "notify_classes")[1], "software");
	assert_string_equal(conf_dir(c), "/etc/moat");
	conf_free(c);
	c = test_load("myhostname = mail.ny.example.com\n", &err);
	assert_string_equal(conf_str(c, "mydomain"), "ny.example.com");
	assert_string_equal(conf_str(c, "smtpd_banner"), "mail.ny.example.com ESMTP moat");
	assert_string_equal(conf_list(c, "mydestination")[1], "localhost.ny.example.com");
	conf_free(c);
	c = test_load("myhostname = bare\n", &err);
	assert_string_equal(conf_str(c, "mydomain"), "localdomain");
	conf_free(c);
	buf_free(&err);
}

/* Misspellings from the seed notes get the intended name. */
static void test_nearest(void **state)
{
	static const char *const pairs[][2] = {
		{ "smptd_sender_restrictions", "smtpd_sender_restrictions" },
		{ "transport_map", "transport_maps" },
		{ "my_origin", "myorigin" },
		{ "smtpd_sasl_options", "smtpd_sasl_security_options" },
		{ "smtp_date_done_timeout", "smtp_data_done_timeout" },
		{ "smtpd_restrictions_classes", "smtpd_restriction_classes" },
		{ "messagesize_limit", "message_size_limit" },
		{ "Myhostname", "myhostname" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *got = conf_param_nearest(pairs[i][0]);

		if (!got || strcmp(got, pairs[i][1]) != 0)
			fail_msg("%s: got %s, want %s", pairs[i][0], got ? got : "(none)", pairs[i][1]);
	}
	assert_null(conf_param_nearest("qqqqqqqqqqqqqqqq"));
	assert_null(conf_param_nearest("zz"));
}

/* Unknown names warn with a suggestion; unimplemented ones say so. */
static void test_unknown_unimplemented(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;

	(void)state;
	test_capture();
	c = test_load("transport_map = hash:/etc/moat/transport\n"
		      "alias_maps = hash:/etc/aliases\n"
		      "home_mailbox = Maildir/\n"
		      "lmtp_tls_security_level = may\n"
		      "zzzzzzzzzzzz = 1\n", &err);
	assert_non_null(c);
	assert_true(test_warned("warning: main.cf:1: unknown parameter transport_map (did you mean transport_maps?)"));
	assert_true(test_warned("main.cf:2: parameter alias_maps is not implemented by moat; ignored"));
	assert_true(test_warned("main.cf:3: parameter home_mailbox is not implemented by moat; ignored"));
	assert_true(test_warned("main.cf:4: parameter lmtp_tls_security_level is not implemented"));
	assert_true(test_warned("main.cf:5: unknown parameter zzzzzzzzzzzz\n"));
	assert_true(conf_is_set(c, "alias_maps"));
	assert_string_equal(conf_raw(c, "alias_maps"), "hash:/etc/aliases");
	assert_string_equal(conf_str(c, "lmtp_tls_security_level"), "");	/* ignored */
	assert_string_equal(conf_str(c, "transport_maps"), "");
	conf_free(c);
	buf_free(&err);
}

/* Lines that are not "name = value" are errors with their line. */
static void test_syntax_errors(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} cases[] = {
		{ "= value\n", 0, "main.cf:1: syntax error" },
		{ "myhostname\n", 0, "main.cf:1: syntax error" },
		{ "# c\nmy hostname = x\n", 0, "main.cf:2: syntax error" },
		{ "my-hostname = x\n", 0, "main.cf:1: syntax error" },
		{ "  indented = x\n", 0, "main.cf:1: continuation line without an entry before it" },
		{ "a = 1\nb = 2\0\n", 12, "main.cf:2: NUL byte" },
	};
	struct buf err = BUF_INIT;
	char *big;
	size_t i;

	(void)state;
	test_capture();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		struct conf *c = conf_load_text(cases[i].text, len, "main.cf", &err);

		if (c || !strstr(buf_str(&err), cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&err), cases[i].want);
	}
	big = xmalloc(CONF_FILE_MAX + 2);
	memset(big, '#', CONF_FILE_MAX + 1);
	assert_null(conf_load_text(big, CONF_FILE_MAX + 1, "main.cf", &err));
	assert_non_null(strstr(buf_str(&err), "larger than"));
	xfree(big);
	buf_free(&err);
}

/* -o overrides: checked, located, atomic on error, visible in expansions. */
static void test_conf_set(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c, *d;
	const char *banner;

	(void)state;
	test_capture();
	c = test_load("myhostname = a.example\n", &err);
	banner = conf_str(c, "smtpd_banner");
	assert_int_equal(conf_set(c, "myhostname", "b.example", "master.cf:4", &err), 0);
	assert_string_equal(conf_str(c, "smtpd_banner"), "b.example ESMTP moat");
	assert_string_equal(banner, "a.example ESMTP moat");	/* still valid */
	assert_int_equal(conf_set(c, "smtpd_timeout", "1h", "master.cf:5", &err), 0);
	assert_int_equal(conf_time(c, "smtpd_timeout"), 3600);
	assert_int_equal(conf_set(c, "smtpd_timeout", "soon", "master.cf:7", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:7: parameter smtpd_timeout: bad time value \"soon\""));
	assert_int_equal(conf_time(c, "smtpd_timeout"), 3600);
	assert_string_equal(conf_raw(c, "smtpd_timeout"), "1h");
	assert_int_equal(conf_set(c, "smtpd_timout", "1", "master.cf:8", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:8: unknown parameter smtpd_timout (did you mean smtpd_timeout?)"));
	assert_int_equal(conf_set(c, "home_mailbox", "x", "master.cf:9", &err), 0);
	assert_true(test_warned("master.cf:9: parameter home_mailbox is not implemented by moat; ignored"));
	assert_int_equal(conf_set(c, "myorigin", "$myorigin", "master.cf:10", &err), -1);
	assert_non_null(strstr(buf_str(&err), "expansion loop"));
	d = conf_dup(c);
	assert_int_equal(conf_set(d, "smtpd_timeout", "2", "master.cf:11", &err), 0);
	assert_int_equal(conf_time(d, "smtpd_timeout"), 2);
	assert_int_equal(conf_time(c, "smtpd_timeout"), 3600);
	assert_string_equal(conf_str(d, "myhostname"), "b.example");
	conf_free(d);
	conf_free(c);
	buf_free(&err);
}

/* test_tmpdir - a fresh directory under /tmp for one test. */
static char *test_tmpdir(void)
{
	char *dir = xstrdup("/tmp/moat-test-conf-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void test_write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	struct buf path = BUF_INIT;
	FILE *f;

	buf_printf(&path, "%s/%s", dir, name);
	f = fopen(buf_str(&path), "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(buf_str(&path), mode), 0);
	buf_free(&path);
}

static char *test_read_file(const char *dir, const char *name, mode_t *mode)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct stat st;
	FILE *f;
	int ch;

	buf_printf(&path, "%s/%s", dir, name);
	f = fopen(buf_str(&path), "r");
	assert_non_null(f);
	while ((ch = fgetc(f)) != EOF)
		buf_putc(&text, ch);
	fclose(f);
	assert_int_equal(stat(buf_str(&path), &st), 0);
	*mode = st.st_mode & 07777;
	buf_free(&path);
	return text.data ? buf_steal(&text) : xstrdup("");
}

static void test_rm_dir(char *dir, const char *name)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s", dir, name);
	unlink(buf_str(&path));
	assert_int_equal(rmdir(dir), 0);
	buf_free(&path);
	xfree(dir);
}

/* conf_load reads <dir>/main.cf; a missing file means defaults. */
static void test_load_dir(void **state)
{
	struct buf err = BUF_INIT;
	char *dir = test_tmpdir();
	struct conf *c;

	(void)state;
	test_capture();
	c = conf_load(dir, &err);
	assert_non_null(c);
	assert_string_equal(conf_dir(c), dir);
	assert_false(conf_is_set(c, "relayhost"));
	conf_free(c);
	test_write_file(dir, "main.cf", "relayhost = [smart.example]\nsmtpd_timeout = x\n", 0644);
	assert_null(conf_load(dir, &err));
	assert_non_null(strstr(buf_str(&err), "/main.cf:2: parameter smtpd_timeout"));
	test_rm_dir(dir, "main.cf");
	buf_free(&err);
}

/* conf_edit keeps comments, replaces a definition with its continuation
 * lines, drops later duplicates, appends new names, refuses bad values and
 * unknown names, and keeps the file's mode. */
static void test_edit(void **state)
{
	struct buf err = BUF_INIT;
	char *dir = test_tmpdir(), *text;
	char *assign[] = { "relayhost = [b.example]", "message_size_limit=5000" };
	mode_t mode;
	struct conf *c;

	(void)state;
	test_capture();
	test_write_file(dir, "main.cf",
			"# head\n"
			"mydestination = a,\n"
			"# kept\n"
			"   b\n"
			"relayhost = old\n"
			"mydestination = c\n"
			"# tail", 0640);
	assert_int_equal(conf_edit(dir, "mydestination", "x, y", &err), 0);
	text = test_read_file(dir, "main.cf", &mode);
	assert_string_equal(text, "# head\nmydestination = x, y\n# kept\nrelayhost = old\n# tail\n");
	assert_int_equal(mode, 0640);
	xfree(text);
	assert_int_equal(conf_editv(dir, assign, 2, &err), 0);
	assert_int_equal(conf_edit(dir, "relay_domains", "", &err), 0);
	text = test_read_file(dir, "main.cf", &mode);
	assert_string_equal(text, "# head\nmydestination = x, y\n# kept\nrelayhost = [b.example]\n# tail\n"
				  "message_size_limit = 5000\nrelay_domains =\n");
	assert_int_equal(conf_edit(dir, "smtpd_timeout", "forever", &err), -1);
	assert_non_null(strstr(buf_str(&err), "parameter smtpd_timeout: bad time value \"forever\""));
	assert_int_equal(conf_edit(dir, "transport_map", "hash:/x", &err), -1);
	assert_non_null(strstr(buf_str(&err), "unknown parameter transport_map (did you mean transport_maps?)"));
	assert_int_equal(conf_edit(dir, "relayhost", "a\nb", &err), -1);
	xfree(text);
	text = test_read_file(dir, "main.cf", &mode);	/* unchanged by refusals */
	assert_non_null(strstr(text, "relay_domains =\n"));
	assert_null(strstr(text, "forever"));
	xfree(text);
	c = conf_load(dir, &err);
	assert_non_null(c);
	assert_int_equal(conf_size(c, "message_size_limit"), 5000);
	assert_string_equal(conf_str(c, "relayhost"), "[b.example]");
	conf_free(c);
	test_rm_dir(dir, "main.cf");
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_syntax),
		cmocka_unit_test(test_expand_forms),
		cmocka_unit_test(test_expand_loop),
		cmocka_unit_test(test_expand_limits),
		cmocka_unit_test(test_expand_undefined),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_type_values),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_nearest),
		cmocka_unit_test(test_unknown_unimplemented),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_conf_set),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_edit),
	};

	return cmocka_run_group_tests(tests, NULL, test_conf_teardown);
}
