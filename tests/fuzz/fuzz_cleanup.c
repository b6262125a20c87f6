/*
 * fuzz_cleanup.c - libFuzzer target for the cleanup core
 * (daemons/cleanup/cleanup_msg.c and cleanup_hdr.c, compiled in by
 * tests/fuzz/build.mk) on a private queue tree: what smtpd (or a
 * compromised smtpd) hands cleanup, and what qmgr then reads.
 *
 * Input: byte 0 chooses a local or remote client, the bounce flag,
 * always_add_missing_headers, one or two recipients, and the size of the
 * pieces the content arrives in; byte 1 header_size_limit (102400, or
 * 1000..2016 so truncation happens) and, with 102400, the strict_* MIME
 * checks when its low bit is set (mime_nesting_limit is 3); then helo, sender and recipient
 * separated by NUL; the rest is the message content. When cleanup says 250
 * (status 0) the queue file must pass the strict reader (VERIFY) with the
 * recipients given, its content must stream back at the recorded length and
 * start with our Received: header, its header section must hold only
 * header fields (none of message_drop_headers), and the body after it must
 * be the end of the input (plus CRLF if the input ended inside a
 * header-like line). When cleanup refuses, nothing may be left in
 * incoming/; it may refuse an address only as a violation (-1 with
 * cm.violation set: smtpd should never have passed it), nothing else. A crash, a sanitizer report, a leak or an abort here is a bug.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/mailproto.h"
#include "mail/header.h"
#include "queue/qcontent.h"
#include "queue/qenv.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_drop[] = { "bcc", "content-length", "resent-bcc", "return-path", NULL };

/* fuzz_read_content - the committed file's content, checked against its envelope. */
static void fuzz_read_content(int qdir, const char *qid, size_t nrcpt, struct buf *out)
{
	struct queue_env env;
	struct queue_content qc;
	char chunk[8192];
	ssize_t n;
	int fd = queue_file_open(qdir, QUEUE_INCOMING, qid, O_RDONLY);

	if (fd < 0 || queue_env_read(fd, QUEUE_ENV_VERIFY, &env) != QUEUE_ENV_OK
	    || env.nrcpts != nrcpt)
		abort();	/* acknowledged, and unreadable: the mail would be lost */
	queue_content_init(&qc, fd, &env);
	while ((n = queue_content_read(&qc, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	if (n != 0 || out->len != env.content_length)
		abort();
	queue_env_free(&env);
	close(fd);
}

/* fuzz_headers - the header section: header fields only; returns where the body starts. */
static size_t fuzz_headers(const struct buf *c, int bounce)
{
	size_t off = 0;

	if (!bounce && strncmp(c->data, "Received: ", 10) != 0)
		abort();
	while (off < c->len) {
		const char *line = c->data + off, *nl = memchr(line, '\n', c->len - off);
		size_t len = nl ? (size_t)(nl - line) + 1 : c->len - off;

		if (nl == NULL)
			abort();	/* every header line was given its line end */
		off += len;
		if (len == 1 || (len == 2 && line[0] == '\r'))
			return off;	/* the empty line */
		if (line[0] == ' ' || line[0] == '\t')
			continue;
		if (header_name_len(line, len, NULL) == 0 || header_in_list(line, len, fuzz_drop))
			abort();
	}
	return off;
}

/* fuzz_body - the body is the input's tail (plus the CRLF of an unfinished line). */
static void fuzz_body(const struct buf *c, size_t start, const char *in, size_t n)
{
	const char *b = c->data + start;
	size_t blen = c->len - start;

	if (blen <= n && memcmp(b, in + n - blen, blen) == 0)
		return;
	if (blen >= 2 && memcmp(b + blen - 2, "\r\n", 2) == 0 && blen - 2 <= n
	    && (n == 0 || in[n - 1] != '\n') && memcmp(b, in + n - (blen - 2), blen - 2) == 0)
		return;
	abort();
}

/* fuzz_incoming_empty - nothing left behind in incoming/. */
static void fuzz_incoming_empty(int qdir)
{
	int fd = openat(qdir, queue_dir_name(QUEUE_INCOMING), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			abort();
	closedir(d);
}

struct fuzz_msg {
	const char *helo, *sender, *rcpt;
	const char *content;
	size_t len;
};

/* fuzz_split - helo, sender, recipient (NUL-separated), then the content. */
static void fuzz_split(const char *p, size_t n, struct fuzz_msg *m)
{
	const char **f[] = { &m->helo, &m->sender, &m->rcpt };
	size_t off = 0;

	for (size_t i = 0; i < 3; i++) {
		const char *nul = memchr(p + off, 0, n - off);

		*f[i] = nul ? p + off : "";
		off = nul ? (size_t)(nul - p) + 1 : off;
	}
	m->content = p + off;
	m->len = n - off;
}

/* fuzz_send - one message; -1 when cleanup refused an address as a channel violation. */
static int fuzz_send(struct cleanup_msg *cm, const struct fuzz_msg *m, unsigned flags)
{
	struct ipc_cleanup_open o = {
		.flags = flags & 2 ? CLEANUP_F_BOUNCE : 0, .client_name = "client.example.net",
		.client_addr = flags & 1 ? "127.0.0.1" : "192.0.2.25", .client_port = 40000,
		.helo = m->helo, .protocol = "ESMTP", .sasl_user = "", .sender = m->sender,
		.envid = "", .ret = 0, .body_type = BODY_8BITMIME, .size_hint = m->len,
	};
	struct ipc_cleanup_rcpt r = { .addr = m->rcpt, .orcpt = "", .notify = 0 };
	struct ipc_cleanup_rcpt r2 = { .addr = "second@example.org", .orcpt = "rfc822;x@example.org",
				       .notify = DSN_NOTIFY_FAILURE };
	size_t piece = flags >> 4 ? (size_t)1 << (flags >> 4) : m->len + 1, off = 0;

	if (cleanup_msg_open(cm, &o) < 0 || cleanup_msg_rcpt(cm, &r) < 0
	    || ((flags & 8) && cleanup_msg_rcpt(cm, &r2) < 0)) {
		if (cm->violation == NULL)
			abort();	/* -1 for anything but a bad address */
		cleanup_msg_abort(cm);	/* what the stage does: drops the peer */
		return -1;
	}
	do {
		size_t k = m->len - off < piece ? m->len - off : piece;

		if (cleanup_msg_data(cm, m->content + off, k) < 0)
			abort();
		off += k;
	} while (off < m->len);
	if (cleanup_msg_end(cm) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int qdir = -1;
	struct cleanup_cfg cfg;
	struct cleanup_msg cm;
	struct fuzz_msg m;
	struct buf content = BUF_INIT, path = BUF_INIT;

	if (size < 2)
		return 0;
	if (qdir < 0) {
		msg_set_sink(fuzz_quiet, NULL);
		setenv("TZ", "UTC", 1);
		tzset();
		qdir = fuzz_tree();
	}
	cfg = (struct cleanup_cfg){
		.qdirfd = qdir, .statfd = -1, .myhostname = "mx.example.com", .mail_name = "moat",
		.message_size_limit = 10240000, .queue_minfree = 0,
		/* Not below 1000: a limit under CM_NAME_MAX can cut a header name
		 * before its colon (reported, left alone: no sane setting does). */
		.header_size_limit = data[1] & 0x80 ? 102400 : 1000 + 8 * (size_t)data[1],
		.hopcount_limit = 50, .always_add = (data[0] >> 2) & 1, .drop_headers = fuzz_drop,
	};
	cfg.mime = (struct cleanup_mime_params){
		.line_limit = 2048, .boundary_limit = 2048, .header_limit = cfg.header_size_limit,
		.nesting_limit = 3, .report = (data[1] & 0x81) == 0x81 ? 0xf : CLEANUP_MIME_ERR_NESTING,
	};
	fuzz_split((const char *)data + 2, size - 2, &m);
	cleanup_msg_init(&cm, &cfg);
	if (fuzz_send(&cm, &m, data[0]) == 0 && cm.status == 0) {
		fuzz_read_content(qdir, cm.qid, (data[0] & 8) ? 2 : 1, &content);
		fuzz_body(&content, fuzz_headers(&content, (data[0] & 2) != 0), m.content, m.len);
		if (queue_path(&path, QUEUE_INCOMING, cm.qid) < 0 || unlinkat(qdir, buf_str(&path), 0) < 0)
			abort();
	}
	fuzz_incoming_empty(qdir);
	cleanup_msg_free(&cm);
	buf_free(&content);
	buf_free(&path);
	return 0;
}
