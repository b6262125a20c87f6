/*
 * seed_queue.c - write the seeds of fuzz_queue_file and fuzz_statuslog with
 * the real writers (queue/qfile_write.c, mail/statuslog.c), so that the
 * fuzzers start from files exactly as cleanup and qmgr leave them.
 *
 *   seed_queue CORPUSDIR      (make fuzz-seeds; writes
 *                             CORPUSDIR/fuzz_queue_file/w-* and
 *                             CORPUSDIR/fuzz_statuslog/w-*)
 *
 * Each seed is written into a private queue tree under $TMPDIR, then copied
 * out under a fixed name, so running it again rewrites the same files (the
 * queue ids and arrival times inside them differ, nothing else).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/iox.h"
#include "mail/statuslog.h"
#include "queue/qenv.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "tests/fuzz/fuzz_util.h"

static const char *seed_out;

/* seed_copy - the file at qdir/<queue>/<id> into <seed_out>/<target>/<name>. */
static void seed_copy(int qdir, enum queue_name q, const char *id, const char *target,
		      const char *name)
{
	struct buf path = BUF_INIT, data = BUF_INIT, dst = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int in, out;

	if (queue_path(&path, q, id) < 0 || (in = openat(qdir, buf_str(&path), O_RDONLY)) < 0)
		abort();
	while ((n = read(in, chunk, sizeof(chunk))) > 0)
		buf_append(&data, chunk, (size_t)n);
	close(in);
	buf_printf(&dst, "%s/%s", seed_out, target);
	(void)mkdir(buf_str(&dst), 0755);
	buf_printf(&dst, "/%s", name);
	out = open(buf_str(&dst), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || iox_write_full(out, data.data, data.len) < 0 || close(out) < 0)
		abort();
	printf("%s (%zu bytes)\n", buf_str(&dst), data.len);
	buf_free(&path);
	buf_free(&data);
	buf_free(&dst);
}

struct seed_msg {
	const char *name;
	const char *sender;
	const char *const *attrs;	/* name, value, ..., NULL */
	int nrcpt;			/* recipients r0@example.com ... */
	const char *content;
	size_t repeat;			/* content written this many times */
	const char *const *extract;	/* trailing attributes, or NULL */
	int mark;			/* recipient to mark done, or -1 */
};

static void seed_rcpts(struct queue_file *qf, int n)
{
	static const unsigned notify[] = { 0, QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY,
					   QUEUE_NOTIFY_NEVER, QUEUE_NOTIFY_SUCCESS };
	char addr[64], orcpt[80];

	for (int i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "r%d@example.com", i);
		snprintf(orcpt, sizeof(orcpt), "rfc822;%s", addr);
		if (queue_file_put_rcpt(qf, addr, i % 2 ? "alias@example.com" : addr,
					i % 3 ? orcpt : "", notify[i % 4]) < 0)
			abort();
	}
}

/* seed_mark - mark recipient i done, as qmgr does after a delivery. */
static void seed_mark(int qdir, const char *id, int i)
{
	struct queue_env env;
	int fd = queue_file_open(qdir, QUEUE_INCOMING, id, O_RDWR);

	if (fd < 0 || queue_env_read(fd, QUEUE_ENV_VERIFY, &env) != QUEUE_ENV_OK
	    || queue_file_mark_done(fd, env.rcpts[i].offset) < 0)
		abort();
	queue_env_free(&env);
	close(fd);
}

static void seed_message(int qdir, const struct seed_msg *m)
{
	struct timeval tv = { 1700000000, 250000 };
	struct queue_file *qf;
	struct buf id = BUF_INIT;

	if (queue_file_create(qdir, QUEUE_INCOMING, &qf) < 0)
		abort();
	buf_set_str(&id, queue_file_id(qf));
	if (queue_file_put_time(qf, &tv) < 0 || queue_file_put_sender(qf, m->sender) < 0)
		abort();
	for (const char *const *a = m->attrs; a && *a; a += 2)
		if (queue_file_put_attr(qf, a[0], a[1]) < 0)
			abort();
	seed_rcpts(qf, m->nrcpt);
	if (queue_file_begin_content(qf) < 0)
		abort();
	for (size_t i = 0; i < m->repeat; i++)
		if (queue_file_put_content(qf, m->content, strlen(m->content)) < 0)
			abort();
	if (m->extract) {
		if (queue_file_begin_extract(qf) < 0)
			abort();
		for (const char *const *a = m->extract; *a; a += 2)
			if (queue_file_put_attr(qf, a[0], a[1]) < 0)
				abort();
		seed_rcpts(qf, 1);
	}
	if (queue_file_commit(qf) < 0)
		abort();
	if (m->mark >= 0)
		seed_mark(qdir, buf_str(&id), m->mark);
	seed_copy(qdir, QUEUE_INCOMING, buf_str(&id), "fuzz_queue_file", m->name);
	buf_free(&id);
}

static const char *const smtp_attrs[] = {
	"client_name", "mail.example.net", "client_addr", "192.0.2.25", "client_port", "40123",
	"helo", "mail.example.net", "protocol", "ESMTP", "body", "8BITMIME", "ret", "HDRS",
	"envid", "QQ314159", NULL,
};
static const char *const bounce_attrs[] = {
	"client_name", "localhost", "client_addr", "", "client_port", "0", "helo", "",
	"protocol", "local", "bounce", "1", NULL,
};
static const char *const utf8_attrs[] = {
	"client_name", "unknown", "client_addr", "2001:db8::25", "client_port", "25",
	"helo", "[IPv6:2001:db8::25]", "protocol", "ESMTP", "smtputf8", "1", NULL,
};
static const char *const trailer[] = { "extracted", "yes", NULL };

#define SEED_MAIL "Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n" \
	"\tby mx.example.com (moat) with ESMTP id 0123456789ABCDEF\r\n" \
	"\tfor <r0@example.com>; Tue, 14 Nov 2023 22:13:20 +0000 (UTC)\r\n" \
	"From: Sender <sender@example.org>\r\nTo: r0@example.com\r\n" \
	"Subject: a test\r\n =?utf-8?q?folded?=\r\nMessage-ID: <1@example.org>\r\n\r\n" \
	"Hello.\r\n..a stuffed dot line\r\n\r\n-- \r\nSender\r\n"

static const struct seed_msg seed_msgs[] = {
	{ "w-basic", "sender@example.org", smtp_attrs, 2, SEED_MAIL, 1, NULL, -1 },
	{ "w-null-sender-bounce", "", bounce_attrs, 1, SEED_MAIL, 1, NULL, -1 },
	{ "w-extract", "sender@example.org", smtp_attrs, 1, SEED_MAIL, 1, trailer, -1 },
	{ "w-done-mark", "sender@example.org", smtp_attrs, 3, SEED_MAIL, 1, NULL, 1 },
	{ "w-many-rcpts", "list@example.org", smtp_attrs, 40, "Subject: x\r\n\r\nx\r\n", 1, NULL, 0 },
	{ "w-utf8", "s\xc3\xa9nder@ex\xc3\xa4mple.org", utf8_attrs, 1,
	  "Subject: \xc3\xa9t\xc3\xa9\r\n\r\n\xe2\x82\xac 8-bit body\r\n", 1, NULL, -1 },
	{ "w-empty-content", "sender@example.org", smtp_attrs, 1, "", 1, NULL, -1 },
	/* Over 64 KB: the reader's pread path, and several content records. */
	{ "w-large", "sender@example.org", smtp_attrs, 1,
	  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n",
	  900, NULL, -1 },
};

static void seed_statuslog(int qdir, const char *name, const struct statuslog_entry *e, size_t n)
{
	struct buf id = BUF_INIT;

	if (queue_id_new(&id) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (statuslog_append(qdir, QUEUE_BOUNCE, buf_str(&id), &e[i]) < 0)
			abort();
	seed_copy(qdir, QUEUE_BOUNCE, buf_str(&id), "fuzz_statuslog", name);
	buf_free(&id);
}

static const struct statuslog_entry seed_failed[] = {
	{ "r0@example.com", "rfc822;r0@example.com", 0, "5.1.1", "failed",
	  "host mx.example.com[192.0.2.10] said: 550 5.1.1 <r0@example.com>: Recipient address "
	  "rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
	  "mx.example.com[192.0.2.10]:25", 1700000100 },
	{ "r1@example.com", "", 2, "5.4.4", "failed", "Host or domain name not found", "none",
	  1700000101 },
	{ "r2@example.com", "alias@example.com", 6, "5.3.4", "failed",
	  "message size 20480000 exceeds size limit 10240000 of server "
	  "mx.example.com[2001:db8::10]", "mx.example.com[2001:db8::10]:25", 1700000102 },
};
static const struct statuslog_entry seed_delayed[] = {
	{ "r0@example.com", "", 4, "4.4.1", "delayed",
	  "connect to mx.example.com[192.0.2.10]:25: Connection refused", "none", 1700003600 },
	{ "r0@example.com", "", 4, "4.7.1", "expired",
	  "host mx.example.com[192.0.2.10] said: 451 4.7.1 Greylisted, try again later",
	  "mx.example.com[192.0.2.10]:25", 1700435600 },
};

int main(int argc, char **argv)
{
	int qdir;

	if (argc != 2) {
		fprintf(stderr, "usage: seed_queue CORPUSDIR\n");
		return 2;
	}
	seed_out = argv[1];
	qdir = fuzz_tree();
	for (size_t i = 0; i < sizeof(seed_msgs) / sizeof(seed_msgs[0]); i++)
		seed_message(qdir, &seed_msgs[i]);
	seed_statuslog(qdir, "w-failed", seed_failed, 3);
	seed_statuslog(qdir, "w-delayed", seed_delayed, 2);
	seed_statuslog(qdir, "w-one", seed_failed + 1, 1);
	close(qdir);
	return 0;
}
