/*
 * test_header.c - header field helpers (mail/header.c) and RFC 5322 dates
 * (mail/rfc822date.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/header.h"
#include "mail/rfc822date.h"

#define H(s) s, sizeof(s) - 1

static void test_header_names(void **state)
{
	size_t colon = 0;
	char *list[] = { "bcc", "return-path", NULL };

	(void)state;
	assert_int_equal(header_name_len(H("Subject: x\r\n"), &colon), 7);
	assert_int_equal(colon, 7);
	assert_int_equal(header_name_len(H("Subject \t: x\r\n"), &colon), 7);
	assert_int_equal(colon, 9);
	assert_int_equal(header_name_len(H(": x\r\n"), NULL), 0);
	assert_int_equal(header_name_len(H("No colon\r\n"), NULL), 0);
	assert_int_equal(header_name_len(H("Subject"), NULL), 0);
	assert_true(header_is_name(H("message-id: <a>\r\n"), "Message-ID"));
	assert_false(header_is_name(H("Message-IDs: <a>\r\n"), "Message-ID"));
	assert_true(header_in_list(H("BCC: a\r\n"), list));
	assert_true(header_in_list(H("Return-Path: <>\r\n"), list));
	assert_false(header_in_list(H("Bccx: a\r\n"), list));
}

static void test_header_unfold_value(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(header_value(&b, H("Subject:  a\r\n folded\r\n\tline  \r\n")), 0);
	assert_string_equal(b.data, "a folded\tline");
	buf_reset(&b);
	assert_int_equal(header_unfold(&b, H("X: a\r\n b\r\nY: c\r\n")), 0);
	assert_string_equal(b.data, "X: a b");
	buf_reset(&b);
	assert_int_equal(header_value(&b, H("Empty:\r\n")), 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(header_value(&b, H("bad line\r\n")), -1);
	buf_free(&b);
	/* A cap holds. */
	buf_init(&b, 4);
	assert_int_equal(header_value(&b, H("S: 0123456789\r\n")), -1);
	buf_free(&b);
}

static void test_dates(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	rfc822date_append(&b, 1649152800);	/* 2022-04-05 10:00:00 UTC */
	assert_string_equal(b.data, "Tue,  5 Apr 2022 10:00:00 +0000 (UTC)");
	buf_reset(&b);
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	rfc822date_append(&b, 1649152800);
	assert_string_equal(b.data, "Tue,  5 Apr 2022 12:00:00 +0200 (CEST)");
	buf_reset(&b);
	setenv("TZ", "<-0330>3:30", 1);
	tzset();
	rfc822date_append(&b, 1700000000);
	assert_string_equal(b.data, "Tue, 14 Nov 2023 18:43:20 -0330");	/* no letters: no comment */
	buf_reset(&b);
	rfc822date_stamp(&b, 1700000000);
	assert_string_equal(b.data, "20231114184320");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_header_unfold_value),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
