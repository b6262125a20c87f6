/*
 * test_cleanup.c - the cleanup core (daemons/cleanup/cleanup_msg.c and
 * cleanup_hdr.c, compiled in here) on a temporary queue tree: the queue file
 * it leaves must hold our Received: first, the client's headers as sent,
 * missing headers for local clients only, the body byte for byte, whatever
 * the chunk boundaries; limits refuse the message and leave nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemons/cleanup/cleanup_action.c"
#include "daemons/cleanup/cleanup_addr.c"
#include "daemons/cleanup/cleanup_bcc.c"
#include "daemons/cleanup/cleanup_body.c"
#include "daemons/cleanup/cleanup_canon.c"
#include "daemons/cleanup/cleanup_canon_hdr.c"
#include "daemons/cleanup/cleanup_check.c"
#include "daemons/cleanup/cleanup_hdr.c"
#include "daemons/cleanup/cleanup_masq.c"
#include "daemons/cleanup/cleanup_virtual.c"
#include "daemons/cleanup/cleanup_mime.c"
#include "daemons/cleanup/cleanup_msg.c"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "queue/qspare.h"
#include "test_queue_util.h"
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>

static char *drop[] = { "bcc", "content-length", "resent-bcc", "return-path", NULL };

static void tc_quiet(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)level; (void)text; (void)len; (void)ctx;
}

struct tc {
	struct tq_tree tree;
	struct cleanup_cfg cfg;
	struct cleanup_msg cm;
	struct buf content;
};

static void tc_setup(struct tc *t)
{
	msg_set_sink(tc_quiet, NULL);
	setenv("TZ", "UTC", 1);
	tzset();
	tq_tree_make(&t->tree);
	memset(&t->cfg, 0, sizeof(t->cfg));
	t->cfg.qdirfd = t->tree.fd;
	t->cfg.statfd = -1;
	t->cfg.myhostname = "mx.example.com";
	t->cfg.mail_name = "moat";
	t->cfg.message_size_limit = 10240000;
	t->cfg.header_size_limit = 102400;
	t->cfg.hopcount_limit = 50;
	t->cfg.drop_headers = drop;
	t->cfg.original_recipient = 1;
	t->cfg.mime.line_limit = 2048;
	t->cfg.mime.boundary_limit = 2048;
	t->cfg.mime.header_limit = 102400;
	t->cfg.mime.nesting_limit = 100;
	t->cfg.mime.report = CLEANUP_MIME_ERR_NESTING;
	cleanup_msg_init(&t->cm, &t->cfg);
	buf_init(&t->content, 0);
}

static void tc_teardown(struct tc *t)
{
	cleanup_msg_free(&t->cm);
	buf_free(&t->content);
	tq_tree_remove(&t->tree);
}

static struct ipc_cleanup_open tc_open(const char *addr)
{
	struct ipc_cleanup_open o = {
		.flags = 0, .client_name = "client.example.net", .client_addr = addr,
		.client_port = 40000, .helo = "helo.example.net", .protocol = "ESMTP",
		.sasl_user = "", .sender = "s@example.net", .envid = "", .ret = 0,
		.body_type = BODY_8BITMIME, .size_hint = 0,
	};
	return o;
}

/* tc_run - one message through the core; the committed content in t->content. */
static uint32_t tc_run(struct tc *t, const char *addr, int nrcpt, const char *msg, size_t piece)
{
	struct ipc_cleanup_open o = tc_open(addr);
	struct ipc_cleanup_rcpt r = { .addr = "r1@example.com", .orcpt = "", .notify = 0 };
	size_t len = strlen(msg);

	assert_int_equal(cleanup_msg_open(&t->cm, &o), 0);
	assert_int_equal(t->cm.status, 0);
	for (int i = 0; i < nrcpt; i++) {
		r.notify = i == 0 ? DSN_NOTIFY_FAILURE : DSN_NOTIFY_NEVER;
		assert_int_equal(cleanup_msg_rcpt(&t->cm, &r), 0);
	}
	for (size_t off = 0; off < len; off += piece)
		assert_int_equal(cleanup_msg_data(&t->cm, msg + off, len - off < piece ? len - off : piece), 0);
	assert_int_equal(cleanup_msg_end(&t->cm), 0);
	buf_reset(&t->content);
	if (t->cm.status != 0)
		return t->cm.status;

	struct queue_env env;
	struct queue_content qc;
	char chunk[1000];
	ssize_t n;
	int fd = queue_file_open(t->tree.fd, QUEUE_INCOMING, t->cm.qid, O_RDONLY);

	assert_true(fd >= 0);
	memset(&env, 0, sizeof(env));
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	assert_int_equal(env.nrcpts, (size_t)nrcpt);
	assert_string_equal(env.sender, "s@example.net");
	if (nrcpt > 1) {
		assert_int_equal(env.rcpts[0].notify, QUEUE_NOTIFY_FAILURE);
		assert_int_equal(env.rcpts[1].notify, QUEUE_NOTIFY_NEVER);
	}
	queue_content_init(&qc, fd, &env);
	while ((n = queue_content_read(&qc, chunk, sizeof(chunk))) > 0)
		buf_append(&t->content, chunk, (size_t)n);
	assert_int_equal(n, 0);
	queue_env_free(&env);
	close(fd);
	return 0;
}

/* tc_after_received - the content after our Received: header (3 lines). */
static const char *tc_after_received(struct tc *t)
{
	const char *p = buf_str(&t->content);

	assert_true(strncmp(p, "Received: from ", 15) == 0);
	for (int i = 0; i < 3; i++) {
		p = strstr(p, "\r\n");
		assert_non_null(p);
		p += 2;
	}
	return p;
}

static int tc_incoming_count(struct tc *t)
{
	int n = 0, fd = openat(t->tree.fd, "incoming", O_RDONLY | O_DIRECTORY);
	DIR *d = fdopendir(fd);
	struct dirent *e;

	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static const char remote_msg[] =
	"From: <a@example.net>\r\nSubject: test\r\n folded\r\nBcc: hidden@example.com\r\n"
	"\r\nbody line\r\n..dot-stuffed\r\n\r\nFrom: not a header\r\n";

static void test_remote_chunks(void **state)
{
	static const size_t pieces[] = { 1, 2, 3, 7, 64, 100000 };
	struct buf first = BUF_INIT;
	struct tc t;

	(void)state;
	tc_setup(&t);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		assert_int_equal(tc_run(&t, "192.0.2.1", 1, remote_msg, pieces[i]), 0);
		const char *c = buf_str(&t.content);
		struct buf want = BUF_INIT;

		buf_printf(&want, "Received: from helo.example.net (client.example.net [192.0.2.1])\r\n"
			   "\tby mx.example.com (moat) with ESMTP id %s\r\n\tfor <r1@example.com>; ",
			   t.cm.qid);
		assert_true(strncmp(c, want.data, want.len) == 0);
		assert_string_equal(tc_after_received(&t),
				    "From: <a@example.net>\r\nSubject: test\r\n folded\r\n"
				    "\r\nbody line\r\n..dot-stuffed\r\n\r\nFrom: not a header\r\n");
		buf_free(&want);
		/* The same bytes whatever the chunking (but the id and date). */
		if (i == 0)
			buf_set_str(&first, tc_after_received(&t));
		else
			assert_string_equal(first.data, tc_after_received(&t));
	}
	buf_free(&first);
	tc_teardown(&t);
}

static void test_local_adds_headers(void **state)
{
	struct tc t;
	char want[256];

	(void)state;
	tc_setup(&t);
	assert_int_equal(tc_run(&t, "127.0.0.1", 2, "Subject: x\r\n\r\nbody\r\n", 5), 0);
	const char *p = tc_after_received(&t);

	assert_true(strncmp(p, "Subject: x\r\nMessage-Id: <", 25) == 0);
	snprintf(want, sizeof(want), ".%s@mx.example.com>\r\nDate: ", t.cm.qid);
	assert_non_null(strstr(p, want));
	assert_non_null(strstr(p, " +0000 (UTC)\r\nFrom: s@example.net\r\n\r\nbody\r\n"));
	/* Two recipients: no "for", the date on the second line. */
	assert_non_null(strstr(buf_str(&t.content), " id "));
	assert_null(strstr(buf_str(&t.content), "\tfor <"));
	assert_non_null(strstr(buf_str(&t.content), ";\r\n\t"));
	/* Not again when present. */
	assert_int_equal(tc_run(&t, "127.0.0.1", 1,
				"Message-ID: <x@y>\r\nDate: today\r\nFrom: me\r\n\r\nb\r\n", 3), 0);
	assert_string_equal(tc_after_received(&t),
			    "Message-ID: <x@y>\r\nDate: today\r\nFrom: me\r\n\r\nb\r\n");
	assert_string_equal(t.cm.msgid.data, "<x@y>");
	tc_teardown(&t);
}

static void test_no_separator_and_no_headers(void **state)
{
	struct tc t;

	(void)state;
	tc_setup(&t);
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: all header\r\nX-A: b\r\n", 4), 0);
	assert_string_equal(tc_after_received(&t), "Subject: all header\r\nX-A: b\r\n");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "hello world\r\nline 2\r\n", 3), 0);
	assert_string_equal(tc_after_received(&t), "\r\nhello world\r\nline 2\r\n");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, " continued nothing\r\n", 100), 0);
	assert_string_equal(tc_after_received(&t), "\r\n continued nothing\r\n");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "", 100), 0);
	assert_string_equal(tc_after_received(&t), "");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\nno colon here\r\n", 100), 0);
	assert_string_equal(tc_after_received(&t), "Subject: x\r\n\r\nno colon here\r\n");
	tc_teardown(&t);
}

static void test_header_size_limit(void **state)
{
	struct tc t;
	struct buf m = BUF_INIT;

	(void)state;
	tc_setup(&t);
	t.cfg.header_size_limit = 100;
	cleanup_msg_free(&t.cm);
	cleanup_msg_init(&t.cm, &t.cfg);
	buf_append_str(&m, "X-Long: ");
	for (int i = 0; i < 30; i++)
		buf_append_str(&m, "0123456789\r\n ");
	buf_append_str(&m, "end\r\nSubject: kept\r\n\r\nbody\r\n");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, m.data, 9), 0);
	const char *p = tc_after_received(&t);
	const char *s = strstr(p, "Subject: kept\r\n\r\nbody\r\n");

	assert_non_null(s);
	assert_int_equal(s - p, 102);	/* 100 bytes kept, then CRLF */
	assert_true(strncmp(s - 2, "\r\n", 2) == 0);
	buf_free(&m);
	tc_teardown(&t);
}

static void test_hopcount(void **state)
{
	struct tc t;
	struct buf m = BUF_INIT;

	(void)state;
	tc_setup(&t);
	for (int i = 0; i < 48; i++)
		buf_append_str(&m, "Received: from a by b\r\n\twith SMTP; now\r\n");
	buf_append_str(&m, "\r\nbody\r\n");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, m.data, 50), 0);	/* 49 with ours */
	buf_reset(&m);
	for (int i = 0; i < 49; i++)
		buf_append_str(&m, "Received: x\r\n");
	buf_append_str(&m, "\r\nbody\r\n");
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, m.data, 50), 554);
	assert_string_equal(t.cm.reason.data, "5.4.6 Too many hops");
	assert_int_equal(tc_incoming_count(&t), 1);	/* only the first message */
	buf_free(&m);
	tc_teardown(&t);
}

static void test_size_limit_and_abort(void **state)
{
	struct tc t;
	struct ipc_cleanup_open o;
	struct ipc_cleanup_rcpt r = { .addr = "r@example.com", .orcpt = "", .notify = 0 };

	(void)state;
	tc_setup(&t);
	t.cfg.message_size_limit = 50;
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\n"
				"0123456789012345678901234567890123456789\r\n", 10), 552);
	assert_string_equal(t.cm.reason.data, "5.3.4 Message size exceeds fixed limit");
	assert_int_equal(tc_incoming_count(&t), 0);
	/* ABORT mid-message leaves nothing. */
	o = tc_open("192.0.2.1");
	assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), 0);
	assert_int_equal(cleanup_msg_data(&t.cm, "Subject: x\r\n", 12), 0);
	assert_int_equal(tc_incoming_count(&t), 1);
	cleanup_msg_abort(&t.cm);
	assert_int_equal(tc_incoming_count(&t), 0);
	/* No recipients: refused. */
	assert_int_equal(tc_run(&t, "192.0.2.1", 0, "Subject: x\r\n\r\nb\r\n", 10), 554);
	assert_int_equal(tc_incoming_count(&t), 0);
	tc_teardown(&t);
}

static void test_protocol_order(void **state)
{
	struct tc t;
	struct ipc_cleanup_open o;
	struct ipc_cleanup_rcpt r = { .addr = "r@example.com", .orcpt = "", .notify = 0 };

	(void)state;
	tc_setup(&t);
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), -1);
	assert_int_equal(cleanup_msg_data(&t.cm, "x", 1), -1);
	assert_int_equal(cleanup_msg_end(&t.cm), -1);
	o = tc_open("192.0.2.1");
	assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
	assert_int_equal(cleanup_msg_open(&t.cm, &o), -1);
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), 0);
	assert_int_equal(cleanup_msg_data(&t.cm, "x", 1), 0);
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), -1);
	cleanup_msg_abort(&t.cm);
	assert_int_equal(tc_incoming_count(&t), 0);
	tc_teardown(&t);
}

/* Addresses smtpd should never have sent: a violation, nothing queued. */
static void test_bad_envelope_addresses(void **state)
{
	static const char *const bad[] = {
		"a@b.example\r\nRSET", "a@b.example\n", "a\r@b.example", "a\x7f@b.example",
		"a\tb@b.example", "a b@b.example", "<a@b.example>", "a@@b.example", "a@b..example",
		"u\xc3\xa9@b.example",	/* 8-bit without SMTPUTF8 */
	};
	struct tc t;
	struct ipc_cleanup_open o;
	struct ipc_cleanup_rcpt r = { .addr = "r@example.com", .orcpt = "", .notify = 0 };
	char longaddr[300];

	(void)state;
	tc_setup(&t);
	memset(longaddr, 'a', 250);
	memcpy(longaddr + 250, "@b.ex", 6);
	o = tc_open("192.0.2.1");
	for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
		const char *a = i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : longaddr;

		o.sender = a;
		assert_int_equal(cleanup_msg_open(&t.cm, &o), -1);
		assert_non_null(t.cm.violation);
		o.sender = "s@example.net";
		assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
		r.addr = a;
		assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), -1);
		assert_non_null(t.cm.violation);
		cleanup_msg_abort(&t.cm);
	}
	assert_int_equal(tc_incoming_count(&t), 0);
	/* With SMTPUTF8 an 8-bit address is fine; quoted local parts always are. */
	o.flags = CLEANUP_F_SMTPUTF8;
	o.sender = "u\xc3\xa9@b.example";
	assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
	r.addr = "\"a b\"@b.example";
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), 0);
	assert_null(t.cm.violation);
	r.addr = "postmaster";
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), 0);
	cleanup_msg_abort(&t.cm);
	/* A DSN's recipient comes from a queue file: the message is refused. */
	o.flags = CLEANUP_F_BOUNCE;
	o.sender = "";
	assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
	r.addr = "a@b.example\r\nRSET";
	assert_int_equal(cleanup_msg_rcpt(&t.cm, &r), 0);
	assert_int_equal(t.cm.status, 554);
	assert_int_equal(cleanup_msg_end(&t.cm), 0);
	assert_int_equal(tc_incoming_count(&t), 0);
	tc_teardown(&t);
}

static void test_minfree(void **state)
{
	struct tc t;
	struct ipc_cleanup_open o;

	(void)state;
	tc_setup(&t);
	t.cfg.statfd = openat(t.tree.fd, "incoming", O_PATH | O_DIRECTORY);
	t.cfg.queue_minfree = UINT64_MAX / 2;
	o = tc_open("192.0.2.1");
	assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
	assert_int_equal(t.cm.status, 452);
	assert_string_equal(t.cm.reason.data, "4.3.1 Insufficient system storage");
	assert_int_equal(tc_incoming_count(&t), 0);
	assert_int_equal(cleanup_msg_end(&t.cm), 0);	/* tolerated: status still 452 */
	assert_int_equal(t.cm.status, 452);
	close(t.cfg.statfd);
	tc_teardown(&t);
}

/* tc_attr - the value of attribute name in the committed file t->cm.qid; "" if none. */
static void tc_attr(struct tc *t, const char *name, struct buf *out)
{
	struct queue_env env;
	int fd = queue_file_open(t->tree.fd, QUEUE_INCOMING, t->cm.qid, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	buf_reset(out);
	for (size_t i = 0; i < env.nattrs; i++)
		if (strcmp(env.attrs[i].name, name) == 0)
			buf_set_str(out, env.attrs[i].value);
	queue_env_free(&env);
	close(fd);
}

/* delay_warning_time: when the warning is due, 15 digits that qmgr can zero in place. */
static void test_delay_warning_time(void **state)
{
	struct buf v = BUF_INIT, want = BUF_INIT;
	struct tc t;

	(void)state;
	tc_setup(&t);
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\nb\r\n", 3), 0);
	tc_attr(&t, "warn_time", &v);
	assert_string_equal(buf_str(&v), "");		/* 0: off */
	t.cfg.delay_warning_time = 4 * 3600;
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\nb\r\n", 3), 0);
	tc_attr(&t, "warn_time", &v);
	buf_printf(&want, "%015lld", (long long)t.cm.arrival.tv_sec + 4 * 3600);
	assert_string_equal(buf_str(&v), buf_str(&want));
	buf_free(&v);
	buf_free(&want);
	tc_teardown(&t);
}

/* enable_original_recipient: the recipient as received is kept in the queue file, or not. */
static void test_original_recipient(void **state)
{
	struct queue_env env;
	struct tc t;
	int fd;

	(void)state;
	tc_setup(&t);
	for (int on = 1; on >= 0; on--) {
		t.cfg.original_recipient = on;
		assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\nb\r\n", 3), 0);
		fd = queue_file_open(t.tree.fd, QUEUE_INCOMING, t.cm.qid, O_RDONLY);
		assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
		assert_string_equal(env.rcpts[0].addr, "r1@example.com");
		assert_string_equal(env.rcpts[0].orig, on ? "r1@example.com" : "");
		queue_env_free(&env);
		close(fd);
	}
	tc_teardown(&t);
}

/* tc_rcpts - a message to these recipients (one NOTIFY); how many the queue file holds. */
static size_t tc_rcpts(struct tc *t, const char *const *rcpts)
{
	struct ipc_cleanup_open o = tc_open("192.0.2.1");
	struct queue_env env;
	size_t n;
	int fd;

	assert_int_equal(cleanup_msg_open(&t->cm, &o), 0);
	for (size_t i = 0; rcpts[i]; i++) {
		struct ipc_cleanup_rcpt r = { .addr = rcpts[i], .orcpt = "", .notify = 0 };

		assert_int_equal(cleanup_msg_rcpt(&t->cm, &r), 0);
	}
	assert_int_equal(cleanup_msg_data(&t->cm, "Subject: x\r\n\r\nb\r\n", 18), 0);
	assert_int_equal(cleanup_msg_end(&t->cm), 0);
	assert_int_equal(t->cm.status, 0);
	fd = queue_file_open(t->tree.fd, QUEUE_INCOMING, t->cm.qid, O_RDONLY);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	n = env.nrcpts;
	queue_env_free(&env);
	close(fd);
	return n;
}

/* The duplicate filter: the same recipient (case folded) once, until
 * duplicate_filter_limit addresses are remembered; 0 is no limit. */
static void test_duplicate_filter(void **state)
{
	static const char *const rcpts[] = {
		"a@example.com", "A@EXAMPLE.com", "b@example.com", "c@example.com", "a@example.com",
		"c@example.com", NULL,
	};
	struct tc t;

	(void)state;
	tc_setup(&t);
	assert_int_equal(tc_rcpts(&t, rcpts), 3);
	t.cfg.virt.dup_limit = 2;	/* a and b remembered, c is not */
	assert_int_equal(tc_rcpts(&t, rcpts), 4);
	tc_teardown(&t);
}

/* tc_open_msg - a message open with one recipient and its content sent. */
static void tc_open_msg(struct tc *t)
{
	struct ipc_cleanup_open o = tc_open("192.0.2.1");
	struct ipc_cleanup_rcpt r = { .addr = "r1@example.com", .orcpt = "", .notify = 0 };

	assert_int_equal(cleanup_msg_open(&t->cm, &o), 0);
	assert_int_equal(cleanup_msg_rcpt(&t->cm, &r), 0);
	assert_int_equal(cleanup_msg_data(&t->cm, "Subject: x\r\n\r\nb\r\n", 17), 0);
}

/* smtpd's HOLD, REDIRECT and BCC: acted on; anything a broken smtpd could send refused. */
static void test_smtpd_actions(void **state)
{
	static const struct { uint32_t action; const char *addr; } bad[] = {
		{ CLEANUP_ACT_HOLD, "x@example.com" }, { 99, "x@example.com" },
		{ CLEANUP_ACT_REDIRECT, "nobody" }, { CLEANUP_ACT_REDIRECT, "@example.com" },
		{ CLEANUP_ACT_BCC, "a@example.com\r\nRSET" }, { CLEANUP_ACT_BCC, "" },
		{ CLEANUP_ACT_REDIRECT, "a b@example.com" },
	};
	struct ipc_cleanup_action a = { .action = CLEANUP_ACT_HOLD, .addr = "" };
	struct queue_env env;
	struct buf v = BUF_INIT;
	struct tc t;
	int fd;

	(void)state;
	tc_setup(&t);
	assert_int_equal(cleanup_msg_action(&t.cm, &a), -1);	/* no message open */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ipc_cleanup_action b = { .action = bad[i].action, .addr = bad[i].addr };

		tc_open_msg(&t);
		assert_int_equal(cleanup_msg_action(&t.cm, &b), -1);
		assert_non_null(t.cm.violation);
		cleanup_msg_abort(&t.cm);
	}
	assert_int_equal(tc_incoming_count(&t), 0);
	/* REDIRECT and BCC: the address in the file, the copy asking for no DSN */
	tc_open_msg(&t);
	a.action = CLEANUP_ACT_REDIRECT;
	a.addr = "other@example.com";
	assert_int_equal(cleanup_msg_action(&t.cm, &a), 0);
	a.action = CLEANUP_ACT_BCC;
	a.addr = "archive@example.com";
	assert_int_equal(cleanup_msg_action(&t.cm, &a), 0);
	assert_int_equal(cleanup_msg_end(&t.cm), 0);
	assert_int_equal(t.cm.status, 0);
	tc_attr(&t, "redirect", &v);
	assert_string_equal(buf_str(&v), "other@example.com");
	fd = queue_file_open(t.tree.fd, QUEUE_INCOMING, t.cm.qid, O_RDONLY);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	assert_int_equal(env.nrcpts, 2);
	assert_string_equal(env.rcpts[1].addr, "other@example.com");	/* REDIRECT covers it */
	assert_int_equal(env.rcpts[1].notify, QUEUE_NOTIFY_NEVER);
	queue_env_free(&env);
	close(fd);
	/* HOLD: committed into hold/, not incoming/ */
	tc_open_msg(&t);
	a.action = CLEANUP_ACT_HOLD;
	a.addr = "";
	assert_int_equal(cleanup_msg_action(&t.cm, &a), 0);
	assert_int_equal(cleanup_msg_end(&t.cm), 0);
	fd = queue_file_open(t.tree.fd, QUEUE_HOLD, t.cm.qid, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	buf_free(&v);
	tc_teardown(&t);
}

/* A MIME error refuses the message with 550 5.6.0 and leaves nothing in incoming/. */
static void test_mime_reject(void **state)
{
	struct tc t;

	(void)state;
	tc_setup(&t);
	t.cfg.mime.report |= CLEANUP_MIME_ERR_8BIT_BODY;
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\ncaf\xc3\xa9\r\n", 5), 550);
	assert_string_equal(buf_str(&t.cm.reason),
			    "5.6.0 Error: improper use of 8-bit data in message body");
	assert_int_equal(tc_incoming_count(&t), 0);
	/* off: the same message goes in */
	t.cfg.mime_disabled = 1;
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\ncaf\xc3\xa9\r\n", 5), 0);
	tc_teardown(&t);
}

/* tc_tmpfs_tree - t's queue tree on a private tmpfs of size bytes; 0 if we may not mount. */
static int tc_tmpfs_tree(struct tc *t, const char *size)
{
	char opts[64];

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0
	    || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 0;
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	assert_int_equal(mount("tmpfs", t->tree.path, "tmpfs", 0, opts), 0);
	close(t->tree.fd);
	t->tree.fd = open(t->tree.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->tree.fd >= 0);
	for (int i = 0; i < QUEUE_NDIRS; i++)
		assert_int_equal(mkdirat(t->tree.fd, queue_dir_name(i), 0700), 0);
	t->cfg.qdirfd = t->tree.fd;
	t->cfg.statfd = openat(t->tree.fd, "incoming", O_PATH | O_DIRECTORY);
	return 1;
}

/* tc_spare_fill - n files of len bytes in spare/, as qmgr leaves them. */
static void tc_spare_fill(struct tc *t, int n, size_t len)
{
	struct queue_spare_pool pool;
	char *junk = xcalloc(1, len);

	queue_spare_pool_init(&pool, QUEUE_SPARE_MAX);
	for (int i = 0; i < n; i++) {
		struct buf id = BUF_INIT, path = BUF_INIT;
		int fd;

		assert_int_equal(queue_id_new(&id), 0);
		assert_int_equal(queue_path(&path, QUEUE_INCOMING, buf_str(&id)), 0);
		fd = openat(t->tree.fd, buf_str(&path), O_CREAT | O_EXCL | O_WRONLY, 0700);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, junk, len), (ssize_t)len);
		close(fd);
		assert_int_equal(queue_spare_release(&pool, t->tree.fd, QUEUE_INCOMING, buf_str(&id)), 0);
		buf_free(&id);
		buf_free(&path);
	}
	queue_spare_pool_free(&pool);
	xfree(junk);
}

/*
 * The blocks spare/ holds never cost a message (seen: after a full disk and
 * a drained queue, 196 spare files kept every new message at 452, across
 * restarts): on a 4 MB file system with 3 MB in spare/ and a 2 MB reserve,
 * the message is taken and spare/ given back.
 */
static void test_minfree_releases_spare(void **state)
{
	struct tc t;

	(void)state;
	tc_setup(&t);
	if (!tc_tmpfs_tree(&t, "4m")) {
		tc_teardown(&t);
		skip();
	}
	tc_spare_fill(&t, 12, 256 * 1024);
	assert_int_equal(queue_spare_count(t.tree.fd), 12);
	t.cfg.queue_minfree = 2 * 1024 * 1024;
	queue_spare_reset();
	assert_int_equal(tc_run(&t, "192.0.2.1", 1, "Subject: x\r\n\r\nbody\r\n", 7), 0);
	assert_int_equal(tc_incoming_count(&t), 1);
	assert_int_equal(queue_spare_count(t.tree.fd), 0);
	/* the reserve itself still holds: a message that would eat into it is refused */
	t.cfg.queue_minfree = 5 * 1024 * 1024;
	struct ipc_cleanup_open o = tc_open("192.0.2.1");

	assert_int_equal(cleanup_msg_open(&t.cm, &o), 0);
	assert_int_equal(t.cm.status, 452);
	cleanup_msg_abort(&t.cm);
	close(t.cfg.statfd);
	close(t.tree.fd);
	assert_int_equal(umount2(t.tree.path, MNT_DETACH), 0);
	t.tree.fd = open(t.tree.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tc_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_chunks),
		cmocka_unit_test(test_local_adds_headers),
		cmocka_unit_test(test_no_separator_and_no_headers),
		cmocka_unit_test(test_header_size_limit),
		cmocka_unit_test(test_hopcount),
		cmocka_unit_test(test_size_limit_and_abort),
		cmocka_unit_test(test_protocol_order),
		cmocka_unit_test(test_minfree),
		cmocka_unit_test(test_bad_envelope_addresses),
		cmocka_unit_test(test_minfree_releases_spare),
		cmocka_unit_test(test_delay_warning_time),
		cmocka_unit_test(test_original_recipient),
		cmocka_unit_test(test_mime_reject),
		cmocka_unit_test(test_duplicate_filter),
		cmocka_unit_test(test_smtpd_actions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
