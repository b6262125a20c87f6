/*
 * test_smtp_reply.c - unit tests for mail/smtp_reply.c: single and
 * multi-line replies, pipelined replies in one buffer, partial input,
 * hostile servers, enhanced codes and EHLO keywords.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/xmem.h"
#include "mail/smtp_reply.h"

static int parse(struct smtp_reply *r, const char *s, size_t *used)
{
	struct buf why = BUF_INIT;
	int rc = smtp_reply_parse(r, s, strlen(s), used, &why);

	buf_free(&why);
	return rc;
}

static void test_single_and_multi(void **state)
{
	struct smtp_reply r;
	struct buf one = BUF_INIT;
	size_t used;
	const char *in = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n354 go\r\n";
	char dsn[16];

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse(&r, in, &used), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 3);
	assert_int_equal(used, strlen(in) - strlen("354 go\r\n"));
	smtp_reply_oneline(&r, &one);
	assert_string_equal(buf_str(&one), "250 mx.example PIPELINING SIZE 1000");
	assert_int_equal(parse(&r, in + used, &used), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 354);

	assert_int_equal(parse(&r, "550 5.1.1 <x@y>: no such user\r\n", &used), SMTP_REPLY_DONE);
	assert_string_equal(r.dsn, "5.1.1");
	assert_string_equal(smtp_reply_dsn(&r, dsn), "5.1.1");
	/* Enhanced code of the wrong class is not believed. */
	assert_int_equal(parse(&r, "450 5.1.1 odd\r\n", &used), SMTP_REPLY_DONE);
	assert_string_equal(r.dsn, "");
	assert_string_equal(smtp_reply_dsn(&r, dsn), "4.0.0");
	/* Bare code, bare LF. */
	assert_int_equal(parse(&r, "250\n", &used), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 250);
	assert_int_equal(used, 4);
	smtp_reply_oneline(&r, &one);
	assert_string_equal(buf_str(&one), "250");
	smtp_reply_free(&r);
	buf_free(&one);
}

static void test_partial(void **state)
{
	struct smtp_reply r;
	size_t used;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse(&r, "", &used), SMTP_REPLY_MORE);
	assert_int_equal(parse(&r, "25", &used), SMTP_REPLY_MORE);
	assert_int_equal(parse(&r, "250-a\r\n", &used), SMTP_REPLY_MORE);
	assert_int_equal(parse(&r, "250-a\r\n250 b", &used), SMTP_REPLY_MORE);
	assert_int_equal(parse(&r, "250-a\r\n250 b\r\n", &used), SMTP_REPLY_DONE);
	smtp_reply_free(&r);
}

static void test_hostile(void **state)
{
	struct smtp_reply r;
	size_t used;
	char *big;
	struct buf many = BUF_INIT;
	struct buf why = BUF_INIT;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse(&r, "hello\r\n", &used), SMTP_REPLY_BAD);
	assert_int_equal(parse(&r, "2500 x\r\n", &used), SMTP_REPLY_BAD);
	assert_int_equal(parse(&r, "650 x\r\n", &used), SMTP_REPLY_BAD);
	assert_int_equal(parse(&r, "190 x\r\n", &used), SMTP_REPLY_BAD);
	assert_int_equal(parse(&r, "25\r\n", &used), SMTP_REPLY_BAD);
	assert_int_equal(parse(&r, "250-a\r\n251 b\r\n", &used), SMTP_REPLY_BAD);
	/* NUL and control bytes are blanked, never passed on. */
	assert_int_equal(smtp_reply_parse(&r, "250 a\0b\x1b" "c\r\n", 11, &used, &why), SMTP_REPLY_DONE);
	assert_memory_equal(r.text.data, "a b c", 5);
	/* An endless line without LF is refused at the cap, not buffered. */
	big = xmalloc(SMTP_REPLY_MAX_LINE + 10);
	memset(big, 'a', SMTP_REPLY_MAX_LINE + 9);
	memcpy(big, "250 ", 4);
	big[SMTP_REPLY_MAX_LINE + 9] = 0;
	assert_int_equal(parse(&r, big, &used), SMTP_REPLY_BAD);
	big[SMTP_REPLY_MAX_LINE - 2] = '\r';
	big[SMTP_REPLY_MAX_LINE - 1] = '\n';
	big[SMTP_REPLY_MAX_LINE] = 0;
	assert_int_equal(parse(&r, big, &used), SMTP_REPLY_DONE);
	xfree(big);
	/* Endless continuation lines are refused at the line cap. */
	for (int i = 0; i < SMTP_REPLY_MAX_LINES + 1; i++)
		(void)buf_append_str(&many, "250-x\r\n");
	assert_int_equal(parse(&r, buf_str(&many), &used), SMTP_REPLY_BAD);
	buf_free(&many);
	buf_free(&why);
	smtp_reply_free(&r);
}

static void test_ehlo(void **state)
{
	struct smtp_reply r;
	struct smtp_ehlo e;
	size_t used;
	char *discard[] = { "dsn", NULL };

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse(&r, "250-mx.example hello\r\n250-pipelining\r\n250-SIZE 10240000\r\n"
			       "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-STARTTLS\r\n"
			       "250 ENHANCEDSTATUSCODES\r\n", &used), SMTP_REPLY_DONE);
	smtp_reply_ehlo(&r, NULL, &e);
	assert_int_equal(e.flags, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_8BITMIME
			 | SMTP_EXT_SMTPUTF8 | SMTP_EXT_DSN | SMTP_EXT_STARTTLS | SMTP_EXT_ENHANCED);
	assert_int_equal(e.size, 10240000);
	smtp_reply_ehlo(&r, discard, &e);
	assert_int_equal(e.flags & SMTP_EXT_DSN, 0);
	/* The greeting line is never a keyword; SIZE without a number = no limit. */
	assert_int_equal(parse(&r, "250-PIPELINING\r\n250 SIZE\r\n", &used), SMTP_REPLY_DONE);
	smtp_reply_ehlo(&r, NULL, &e);
	assert_int_equal(e.flags, SMTP_EXT_SIZE);
	assert_int_equal(e.size, 0);
	assert_int_equal(parse(&r, "250 SIZE 99\r\n", &used), SMTP_REPLY_DONE);
	smtp_reply_ehlo(&r, NULL, &e);
	assert_int_equal(e.flags, 0);
	assert_int_equal(parse(&r, "250-x\r\n250 SIZE 99999999999999999999999\r\n", &used), SMTP_REPLY_DONE);
	smtp_reply_ehlo(&r, NULL, &e);
	assert_int_equal(e.size, 0);
	smtp_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_and_multi),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_ehlo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
