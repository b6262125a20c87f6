/*
 * test_lib.c - unit tests for lib/: buf, strnum, logfmt, event, iox.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/event.h"
#include "lib/iox.h"
#include "lib/logfmt.h"
#include "lib/strnum.h"

static void test_buf_grows_and_terminates(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_int_equal(b.len, 2000);
	assert_int_equal(b.data[2000], 0);
	assert_int_equal(buf_printf(&b, "%d", 42), 0);
	assert_memory_equal(b.data + 2000, "42", 3);
	buf_consume(&b, 1999);
	assert_string_equal(buf_str(&b), "b42");
	buf_free(&b);
}

static void test_buf_cap_refuses_and_keeps_contents(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345678", 8), 0);
	assert_int_equal(buf_append(&b, "9", 1), -1);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_str(&b), "12345678");
	assert_int_equal(buf_printf(&b, "x"), -1);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s", "123456789"), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_buf_binary_safe(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	buf_free(&b);
}

static void test_strnum(void **state)
{
	uint64_t v = 7;
	int i = 0;

	(void)state;
	assert_int_equal(strnum_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(strnum_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(strnum_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
	assert_int_equal(strnum_u64("", 0, 10, &v), -1);
	assert_int_equal(strnum_u64("-1", 0, 10, &v), -1);
	assert_int_equal(strnum_u64("+1", 0, 10, &v), -1);
	assert_int_equal(strnum_u64(" 1", 0, 10, &v), -1);
	assert_int_equal(strnum_u64("1x", 0, 10, &v), -1);
	assert_int_equal(strnum_u64("11", 0, 10, &v), -1);
	assert_int_equal(strnum_u64("0x1", 0, 10, &v), -1);
	assert_int_equal(strnum_int("2147483647", 0, 2147483647, &i), 0);
	assert_int_equal(i, 2147483647);
	assert_int_equal(strnum_int("2147483648", 0, 2147483647, &i), -1);
}

static void test_logfmt_shapes_and_neutralises(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	logfmt_file_line(&b, 0, "mx", "moat/smtpd", 42, "a\nb\r\x1b", 5);
	assert_non_null(strstr(buf_str(&b), " mx moat/smtpd[42]: a?b??\n"));
	assert_ptr_equal(strchr(buf_str(&b), '\n'), b.data + b.len - 1);
	buf_reset(&b);
	logfmt_syslog_line(&b, logfmt_priority(2, 2), 0, "moat/qmgr", 7, "x", 1);
	assert_true(strncmp(buf_str(&b), "<20>", 4) == 0);
	assert_non_null(strstr(buf_str(&b), " moat/qmgr[7]: x"));
	buf_free(&b);
}

static int fired;
static void on_timer(void *ctx)
{
	(void)ctx;
	fired++;
}

static int readable;
static void on_read(int fd, unsigned ev, void *ctx)
{
	char c;
	(void)ctx;
	if (ev & EVENT_READ)
		readable += (int)read(fd, &c, 1);
}

static void test_event_fd_and_timer(void **state)
{
	struct event_loop *l = event_loop_new();
	int p[2];
	uint64_t t;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(event_add(l, p[0], EVENT_READ, on_read, NULL), 0);
	(void)event_timer_add(l, 10, on_timer, NULL);
	t = event_timer_add(l, 10, on_timer, NULL);
	event_timer_cancel(l, t);
	assert_int_equal(iox_write_full(p[1], "x", 1), 1);
	assert_int_equal(event_run_once(l, 1000), 0);
	assert_int_equal(readable, 1);
	while (fired == 0)
		assert_int_equal(event_run_once(l, 1000), 0);
	assert_int_equal(fired, 1);
	event_del(l, p[0]);
	assert_int_equal(iox_write_full(p[1], "y", 1), 1);
	assert_int_equal(event_run_once(l, 20), 0);
	assert_int_equal(readable, 1);
	close(p[0]);
	close(p[1]);
	event_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_terminates),
		cmocka_unit_test(test_buf_cap_refuses_and_keeps_contents),
		cmocka_unit_test(test_buf_binary_safe),
		cmocka_unit_test(test_strnum),
		cmocka_unit_test(test_logfmt_shapes_and_neutralises),
		cmocka_unit_test(test_event_fd_and_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
