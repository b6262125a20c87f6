/*
 * test_dsn.c - the DSN builder (mail/dsn_report.c) against golden files in
 * tests/unit/data/dsn/ (MOAT_DSN_REGEN=1 rewrites them), plus its wire-form
 * invariants (CRLF only, dot-stuffed, no long lines), NOTIFY and RET
 * handling and bounce_size_limit; and the status logs (mail/statuslog.c)
 * round trip and rejection of damaged logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "mail/dsn_report.h"
#include "mail/statuslog.h"
#include "test_queue_util.h"

static const char original[] =
	"Received: from a by b; now\r\nSubject: hello\r\nFrom: <s@example.net>\r\n\r\n"
	"body line 1\r\n..a dot-stuffed line\r\nlast\r\n";

static const struct dsn_rcpt rcpts[] = {
	{ "u1@example.com", "rfc822;U1@example.com", "5.1.1",
	  "550 5.1.1 <u1@example.com>: Recipient address rejected", "mx.example.com[192.0.2.25]:25" },
	{ "u2@example.com", "", "5.4.4", "Host or domain name not found\r\n.injected", "none" },
};

static struct dsn_report td_report(size_t limit, int ret_hdrs)
{
	struct dsn_report r = {
		.kind = DSN_REPORT_FAILED, .myhostname = "mx.example.org", .queue_id = "0123456789ABCDEF",
		.sender = "s@example.net", .to = "s@example.net", .envid = "ENV1",
		.arrival = 1700000000, .now = 1700003600, .ret_hdrs = ret_hdrs, .eightbit = 0,
		.rcpts = rcpts, .nrcpts = 2, .content = original,
		.content_len = strlen(original) < limit + 1 ? strlen(original) : limit + 1,
		.content_total = strlen(original), .size_limit = limit,
	};
	return r;
}

static void td_wire_ok(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n')
			assert_true(i > 0 && b->data[i - 1] == '\r');
		if (b->data[i] == '\r')
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
	}
	assert_true(b->len >= 2 && memcmp(b->data + b->len - 2, "\r\n", 2) == 0);
	assert_null(strstr(b->data, "\r\n.injected"));	/* the reason's CRLF was cleaned */
}

static void td_golden(const char *name, const struct buf *b)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/data/dsn/%s.ref", name);
	if (getenv("MOAT_DSN_REGEN")) {
		f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(b->data, 1, b->len, f);
		fclose(f);
		return;
	}
	f = fopen(path, "rb");
	assert_non_null(f);
	char *ref = xmalloc(b->len + 2);
	size_t n = fread(ref, 1, b->len + 1, f);

	fclose(f);
	assert_int_equal(n, b->len);
	assert_memory_equal(ref, b->data, b->len);
	xfree(ref);
}

static void test_dsn_full(void **state)
{
	struct dsn_report r = td_report(50000, 0);
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(dsn_report_build(&b, &r), 0);
	td_wire_ok(&b);
	assert_non_null(strstr(b.data, "Content-Type: message/rfc822\r\n\r\nReceived: from a"));
	assert_non_null(strstr(b.data, "\r\n..a dot-stuffed line\r\nlast\r\n\r\n--0123456789ABCDEF."));
	assert_non_null(strstr(b.data, "Original-Recipient: rfc822;U1@example.com\r\n"));
	assert_non_null(strstr(b.data, "Remote-MTA: dns; mx.example.com\r\n"));
	assert_non_null(strstr(b.data, "Diagnostic-Code: X-Moat; Host or domain"));
	td_golden("failed_full", &b);
	buf_free(&b);
}

static void test_dsn_headers_only(void **state)
{
	struct buf b = BUF_INIT;
	struct dsn_report r = td_report(50000, 1);

	(void)state;
	dsn_report_build(&b, &r);
	td_wire_ok(&b);
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n\r\nReceived:"));
	assert_null(strstr(b.data, "body line 1"));
	td_golden("failed_hdrs", &b);
	/* Larger than bounce_size_limit: headers only as well, cut at a line. */
	buf_reset(&b);
	r = td_report(40, 0);
	dsn_report_build(&b, &r);
	td_wire_ok(&b);
	assert_non_null(strstr(b.data, "text/rfc822-headers\r\n\r\nReceived: from a by b; now\r\n\r\n--"));
	buf_free(&b);
}

static void test_dsn_delayed_and_notify(void **state)
{
	struct buf b = BUF_INIT;
	struct dsn_report r = td_report(50000, 0);

	(void)state;
	r.kind = DSN_REPORT_DELAYED;
	dsn_report_build(&b, &r);
	assert_non_null(strstr(b.data, "Subject: Delayed Mail (still being retried)\r\n"));
	assert_non_null(strstr(b.data, "Action: delayed\r\n"));
	buf_free(&b);
	assert_true(dsn_report_wants(DSN_REPORT_FAILED, 0));
	assert_true(dsn_report_wants(DSN_REPORT_FAILED, DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY));
	assert_false(dsn_report_wants(DSN_REPORT_FAILED, DSN_NOTIFY_NEVER));
	assert_false(dsn_report_wants(DSN_REPORT_FAILED, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY));
	assert_false(dsn_report_wants(DSN_REPORT_DELAYED, DSN_NOTIFY_FAILURE));
	assert_int_equal(dsn_report_header_end("A: b\r\nC: d\r\n\r\nbody", 18), 12);
	assert_int_equal(dsn_report_header_end("A: b\r\nC: d", 10), 6);
}

static int tsl_count(const struct statuslog_entry *e, void *ctx)
{
	struct buf *b = ctx;

	buf_printf(b, "%s|%s|%u|%s|%s|%s|%s|%lld\n", e->rcpt, e->orcpt, e->notify, e->dsn,
		   e->action, e->reason, e->relay, (long long)e->when);
	return 0;
}

static void test_statuslog(void **state)
{
	struct tq_tree t;
	struct buf got = BUF_INIT, why = BUF_INIT;
	struct statuslog_entry e = { "a@x", "rfc822;a@x", DSN_NOTIFY_FAILURE, "5.1.1", "failed",
				     "550 no\nsuch user", "mx[192.0.2.1]:25", 1700000000 };
	const char *id = "0123456789ABCDEF";

	(void)state;
	msg_set_sink(NULL, NULL);
	tq_tree_make(&t);
	assert_int_equal(statuslog_read(t.fd, QUEUE_BOUNCE, id, tsl_count, &got, &why), 0);
	assert_int_equal(got.len, 0);	/* no log: no entries */
	assert_int_equal(statuslog_append(t.fd, QUEUE_BOUNCE, id, &e), 0);
	e.rcpt = "b@x";
	e.reason = "fine";
	assert_int_equal(statuslog_append(t.fd, QUEUE_BOUNCE, id, &e), 0);
	assert_int_equal(statuslog_read(t.fd, QUEUE_BOUNCE, id, tsl_count, &got, &why), 0);
	assert_string_equal(got.data,
			    "a@x|rfc822;a@x|4|5.1.1|failed|(value with a line break removed)|mx[192.0.2.1]:25|1700000000\n"
			    "b@x|rfc822;a@x|4|5.1.1|failed|fine|mx[192.0.2.1]:25|1700000000\n");
	/* A torn last entry: the whole log is refused, with a reason. */
	int fd = openat(t.fd, "bounce/0123456789ABCDEF", O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "L\x20rcpt=", 7), 7);
	close(fd);
	buf_reset(&got);
	assert_int_equal(statuslog_read(t.fd, QUEUE_BOUNCE, id, tsl_count, &got, &why), -1);
	assert_non_null(strstr(why.data, "damaged"));
	/* A bad id never names a path. */
	assert_int_equal(statuslog_read(t.fd, QUEUE_BOUNCE, "../x", tsl_count, &got, &why), -1);
	assert_int_equal(statuslog_remove(t.fd, QUEUE_BOUNCE, id), 0);
	assert_int_equal(statuslog_remove(t.fd, QUEUE_BOUNCE, id), 0);
	buf_free(&got);
	buf_free(&why);
	tq_tree_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn_full),
		cmocka_unit_test(test_dsn_headers_only),
		cmocka_unit_test(test_dsn_delayed_and_notify),
		cmocka_unit_test(test_statuslog),
	};
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
