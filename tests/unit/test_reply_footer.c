/*
 * test_reply_footer.c - unit tests for mail/reply_footer.c: smtpd_reject_footer
 * templates, their attributes, \n and \c, and what may never leak through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mail/reply_footer.h"

static const struct reply_footer_vars vars = { "192.0.2.7", "40000", "Jan  4 15:42:00", "mx.example" };

/* footer - reply + footer as text; -1 if reply_footer_add refused. */
static int footer(const char *reply, const char *tmpl, struct buf *out)
{
	buf_reset(out);
	buf_append_str(out, "250 earlier reply\r\n");
	buf_append_str(out, reply);
	return reply_footer_add(out, strlen("250 earlier reply\r\n"), tmpl, &vars);
}

static void test_footer_lines(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(footer("554 5.7.1 <a@b>: Relay access denied\r\n", "Call $server_name", &out), 0);
	assert_string_equal(buf_str(&out), "250 earlier reply\r\n"
			    "554-5.7.1 <a@b>: Relay access denied\r\n554 5.7.1 Call mx.example\r\n");
	assert_int_equal(footer("554 5.7.1 denied\r\n", "\\c. See ${client_address}:$(client_port)", &out), 0);
	assert_string_equal(buf_str(&out), "250 earlier reply\r\n554 5.7.1 denied. See 192.0.2.7:40000\r\n");
	assert_int_equal(footer("450 4.7.1 later\r\n", "\\c at $localtime\\nline two\\nthree $$5", &out), 0);
	assert_string_equal(buf_str(&out), "250 earlier reply\r\n450-4.7.1 later at Jan  4 15:42:00\r\n"
			    "450-4.7.1 line two\r\n450 4.7.1 three $5\r\n");
	/* no enhanced status code: none is invented */
	assert_int_equal(footer("502 Error: command not recognized\r\n", "help", &out), 0);
	assert_string_equal(buf_str(&out), "250 earlier reply\r\n502-Error: command not recognized\r\n"
			    "502 help\r\n");
	/* a multi-line reply keeps its lines */
	assert_int_equal(footer("421-4.7.0 one\r\n421 4.7.0 two\r\n", "x", &out), 0);
	assert_string_equal(buf_str(&out), "250 earlier reply\r\n421-4.7.0 one\r\n421-4.7.0 two\r\n"
			    "421 4.7.0 x\r\n");
	buf_free(&out);
}

static void test_footer_never_breaks_a_reply(void **state)
{
	struct buf out = BUF_INIT;
	struct reply_footer_vars evil = { "1.2.3.4\r\n250 forged", "1", "t", "h\r\n" };

	(void)state;
	buf_append_str(&out, "554 5.7.1 no\r\n");
	assert_int_equal(reply_footer_add(&out, 0, "$client_address $server_name\ttab", &evil), 0);
	assert_string_equal(buf_str(&out), "554-5.7.1 no\r\n554 5.7.1 1.2.3.4  250 forged h   tab\r\n");
	/* not a reply: left alone */
	buf_reset(&out);
	buf_append_str(&out, "garbage without CRLF");
	assert_int_equal(reply_footer_add(&out, 0, "x", &vars), -1);
	assert_string_equal(buf_str(&out), "garbage without CRLF");
	/* does not fit: the plain reply stays */
	buf_free(&out);
	buf_init(&out, 40);
	buf_append_str(&out, "554 5.7.1 no\r\n");
	assert_int_equal(reply_footer_add(&out, 0, "a footer far longer than the forty bytes", &vars), -1);
	assert_string_equal(buf_str(&out), "554 5.7.1 no\r\n");
	buf_free(&out);
}

static void test_footer_check(void **state)
{
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(reply_footer_check("", &why), 0);
	assert_int_equal(reply_footer_check("$client_address ${client_port} $(localtime) $server_name $$x", &why), 0);
	assert_int_equal(reply_footer_check("mail $sender", &why), -1);
	assert_non_null(strstr(buf_str(&why), "\"$sender\": the footer knows only"));
	buf_reset(&why);
	assert_int_equal(reply_footer_check("${client_address", &why), -1);
	buf_reset(&why);
	assert_int_equal(reply_footer_check("cost $", &why), -1);
	buf_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_footer_lines),
		cmocka_unit_test(test_footer_never_breaks_a_reply),
		cmocka_unit_test(test_footer_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
