/*
 * qfile_write.c - create, fill and commit one queue file (see qfile.h).
 *
 * Called by cleanup (and by anything else that enqueues: pickup, bounce via
 * cleanup). The durability rule of moat is implemented here and nowhere
 * else: queue_file_commit returns 0 only after the file is complete (end
 * record, final size record), marked complete (mode 0700), fsynced, and its
 * directory entry fsynced. This file must never report success for a file
 * that a crash could still lose, never leave a half-written file behind
 * after an error it saw, and never make a syscall per record.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "queue/qfile.h"
#include "queue/qspare.h"
#include "queue/record.h"

void (*queue_test_hook)(const char *step);

#define QF_HOOK(step) do { if (queue_test_hook) queue_test_hook(step); } while (0)

/* The V record is 7 bytes; the C record's data follows its 2-byte header. */
#define QF_VERSION_LEN	(sizeof(QUEUE_FILE_VERSION) - 1)
#define QF_SIZE_DATA_OFF	(2 + QF_VERSION_LEN + 2)
/* An open B record: type byte + 3 varint bytes (chunks stay below 2^21). */
#define QF_CHUNK_HDR	4
#define QF_NO_CHUNK	SIZE_MAX
#define QF_CREATE_TRIES	100

enum qf_state { QF_ENVELOPE, QF_CONTENT, QF_EXTRACT, QF_FAILED };

struct queue_file {
	int fd;
	int qdirfd;
	enum queue_name queue;
	enum qf_state state;
	char id[QUEUE_ID_LEN + 1];
	struct buf out;		/* records not yet written */
	struct buf rec;		/* scratch for one record's data */
	off_t out_off;		/* file offset of out.data[0] */
	size_t chunk;		/* offset in out of the open B record, or QF_NO_CHUNK */
	uint64_t data_offset;	/* first byte after the M record */
	uint64_t data_end;	/* first byte after the last B record */
	uint64_t content_len;
	uint64_t nrcpt;
	int have_time;
	int have_sender;
	int reused;		/* a spare file: old bytes past our end are cut at commit */
	off_t old_size;		/* a reused file's length when it was taken */
};

/* qf_unlink - remove our file; it is ours, so a failure is only logged. */
static void qf_unlink(struct queue_file *qf)
{
	struct buf path = BUF_INIT;

	if (queue_path(&path, qf->queue, qf->id) == 0
	    && unlinkat(qf->qdirfd, buf_str(&path), 0) < 0 && errno != ENOENT)
		msg_warn("queue file %s: unlink: %m", buf_str(&path));
	buf_free(&path);
}

/* qf_fail - give up on this file: remove it, close it; always -1. */
static int qf_fail(struct queue_file *qf)
{
	int saved = errno;

	if (qf->state != QF_FAILED) {
		qf_unlink(qf);
		(void)close(qf->fd);
		qf->fd = -1;
		qf->state = QF_FAILED;
	}
	errno = saved;
	return -1;
}

/* qf_release - free qf itself (the file is already closed or committed). */
static void qf_release(struct queue_file *qf)
{
	buf_free(&qf->out);
	buf_free(&qf->rec);
	xfree(qf);
}

/* qf_write_out - write everything collected so far in one syscall. */
static int qf_write_out(struct queue_file *qf)
{
	if (qf->out.len == 0)
		return 0;
	if (iox_write_full(qf->fd, qf->out.data, qf->out.len) < 0) {
		msg_warn("queue file %s: write: %m", qf->id);
		return qf_fail(qf);
	}
	qf->out_off += (off_t)qf->out.len;
	buf_reset(&qf->out);
	QF_HOOK("flush");
	return 0;
}

/* qf_chunk_close - give the open B record its real, minimal length. */
static void qf_chunk_close(struct queue_file *qf)
{
	unsigned char v[RECORD_VARINT_MAX];
	size_t start, len, vlen;

	if (qf->chunk == QF_NO_CHUNK)
		return;
	start = qf->chunk + QF_CHUNK_HDR;
	len = qf->out.len - start;
	vlen = record_varint_put(v, (uint32_t)len);
	if (vlen > QF_CHUNK_HDR - 1)
		msg_panic("qf_chunk_close: chunk of %zu bytes", len);
	memcpy(qf->out.data + qf->chunk + 1, v, vlen);
	/* Only a short last chunk moves, by one or two bytes. */
	if (vlen < QF_CHUNK_HDR - 1) {
		memmove(qf->out.data + qf->chunk + 1 + vlen, qf->out.data + start, len);
		buf_truncate(&qf->out, qf->out.len - (QF_CHUNK_HDR - 1 - vlen));
	}
	qf->chunk = QF_NO_CHUNK;
}

/* qf_maybe_flush - write once QUEUE_FLUSH_SIZE bytes have piled up. */
static int qf_maybe_flush(struct queue_file *qf)
{
	if (qf->out.len < QUEUE_FLUSH_SIZE)
		return 0;
	qf_chunk_close(qf);
	return qf_write_out(qf);
}

/* qf_put - append one record (no syscall unless a flush is due). */
static int qf_put(struct queue_file *qf, int type, const void *p, size_t n)
{
	if (n > QUEUE_REC_MAX) {
		msg_warn("queue file %s: record of %zu bytes is too long", qf->id, n);
		return qf_fail(qf);
	}
	if (record_put(&qf->out, type, p, n) < 0)
		msg_panic("qf_put: write buffer full");
	QF_HOOK("record");
	return qf_maybe_flush(qf);
}

/* qf_check - -1 if qf already failed; panic if the caller is out of order. */
static int qf_check(struct queue_file *qf, enum qf_state want, const char *what)
{
	if (qf->state == QF_FAILED)
		return -1;
	if (qf->state != want)
		msg_panic("queue file %s: %s in the wrong state", qf->id, what);
	return 0;
}

/* qf_open_new - create a file with a fresh ID: 1 ok, 0 try again, -1 error. */
static int qf_open_new(struct queue_file *qf)
{
	struct buf s = BUF_INIT;
	struct stat st;
	int fd, r;

	if (queue_id_new(&s) < 0) {
		buf_free(&s);
		return -1;
	}
	memcpy(qf->id, s.data, QUEUE_ID_LEN);
	qf->id[QUEUE_ID_LEN] = 0;
	if (queue_path(&s, qf->queue, qf->id) < 0)
		msg_panic("qf_open_new: bad new id %s", qf->id);
	if (qf->queue == QUEUE_INCOMING && (fd = queue_spare_take(qf->qdirfd, buf_str(&s), &qf->old_size)) >= 0) {
		buf_free(&s);
		qf->fd = fd;
		qf->reused = 1;
		QF_HOOK("create");
		QF_HOOK("lock");
		return 1;
	}
	fd = openat(qf->qdirfd, buf_str(&s), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		    QUEUE_FILE_MODE_BUSY);
	if (fd < 0) {
		r = errno == EEXIST ? 0 : -1;
		if (r < 0)
			msg_warn("create %s: %m", buf_str(&s));
		buf_free(&s);
		return r;
	}
	buf_free(&s);
	QF_HOOK("create");
	/*
	 * The lock tells queue_recover that a live writer owns the file. Recovery
	 * unlinks an incomplete file only while holding this lock; if it did so
	 * between our create and our lock, the link count is now 0: start over.
	 */
	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0 || fstat(fd, &st) < 0) {
		msg_warn("queue file %s: lock: %m", qf->id);
		(void)close(fd);
		qf_unlink(qf);
		return -1;
	}
	QF_HOOK("lock");
	if (st.st_nlink == 0) {
		(void)close(fd);
		return 0;
	}
	qf->fd = fd;
	return 1;
}

/* qf_put_head - the version record and the size record with placeholders. */
static void qf_put_head(struct queue_file *qf)
{
	char zeros[QUEUE_SIZE_LEN];
	size_t i;

	for (i = 0; i < sizeof(zeros); i++)
		zeros[i] = (i % (QUEUE_SIZE_WIDTH + 1)) == QUEUE_SIZE_WIDTH ? ' ' : '0';
	if (record_put(&qf->out, REC_TYPE_VERSION, QUEUE_FILE_VERSION, QF_VERSION_LEN) < 0
	    || record_put(&qf->out, REC_TYPE_SIZE, zeros, sizeof(zeros)) < 0)
		msg_panic("qf_put_head: write buffer full");
}

/* queue_file_create - create <queue>/<new ID>, open for writing, mode 0600. */
int queue_file_create(int qdirfd, enum queue_name queue, struct queue_file **qfp)
{
	struct queue_file *qf = xcalloc(1, sizeof(*qf));
	int tries, r = 0;

	qf->fd = -1;
	qf->qdirfd = qdirfd;
	qf->queue = queue;
	qf->chunk = QF_NO_CHUNK;
	buf_init(&qf->out, 2 * QUEUE_FLUSH_SIZE + QUEUE_REC_MAX + 64);
	buf_init(&qf->rec, 4 * QUEUE_REC_MAX);
	for (tries = 0; tries < QF_CREATE_TRIES && r == 0; tries++)
		r = qf_open_new(qf);
	if (r <= 0) {
		if (r == 0)
			msg_warn("create in %s: no unused queue ID after %d tries",
				 queue_dir_name(queue), QF_CREATE_TRIES);
		qf_release(qf);
		*qfp = NULL;
		return -1;
	}
	qf_put_head(qf);
	*qfp = qf;
	return 0;
}

/* queue_file_id - the file's queue ID; valid until commit or abort. */
const char *queue_file_id(const struct queue_file *qf)
{
	return qf->id;
}

/* queue_file_put_time - the arrival time ('T'), once, before the content. */
int queue_file_put_time(struct queue_file *qf, const struct timeval *tv)
{
	if (qf_check(qf, QF_ENVELOPE, "put_time") < 0)
		return -1;
	if (qf->have_time)
		msg_panic("queue file %s: second arrival time", qf->id);
	if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
		msg_panic("queue file %s: bad arrival time", qf->id);
	qf->have_time = 1;
	buf_reset(&qf->rec);
	if (buf_printf(&qf->rec, "%lld.%06ld", (long long)tv->tv_sec, (long)tv->tv_usec) < 0)
		return qf_fail(qf);
	return qf_put(qf, REC_TYPE_TIME, qf->rec.data, qf->rec.len);
}

/* queue_file_put_sender - the envelope sender ('S'), once; "" is <>. */
int queue_file_put_sender(struct queue_file *qf, const char *sender)
{
	if (qf_check(qf, QF_ENVELOPE, "put_sender") < 0)
		return -1;
	if (qf->have_sender)
		msg_panic("queue file %s: second sender", qf->id);
	qf->have_sender = 1;
	return qf_put(qf, REC_TYPE_SENDER, sender, strlen(sender));
}

/* queue_file_put_attr - one "name=value" attribute ('A'). */
int queue_file_put_attr(struct queue_file *qf, const char *name, const char *value)
{
	if (qf->state != QF_EXTRACT && qf_check(qf, QF_ENVELOPE, "put_attr") < 0)
		return -1;
	if (!queue_attr_name_ok(name, strlen(name))) {
		msg_warn("queue file %s: bad attribute name", qf->id);
		return qf_fail(qf);
	}
	buf_reset(&qf->rec);
	if (buf_append_str(&qf->rec, name) < 0 || buf_putc(&qf->rec, '=') < 0
	    || buf_append_str(&qf->rec, value) < 0) {
		msg_warn("queue file %s: attribute %s is too long", qf->id, name);
		return qf_fail(qf);
	}
	return qf_put(qf, REC_TYPE_ATTR, qf->rec.data, qf->rec.len);
}

/*
 * queue_file_put_rcpt - one recipient ('R'): address (not empty), original
 * recipient and DSN ORCPT (may be ""), DSN NOTIFY bits.
 */
int queue_file_put_rcpt(struct queue_file *qf, const char *addr, const char *orig,
			const char *orcpt, unsigned notify)
{
	if (qf->state != QF_EXTRACT && qf_check(qf, QF_ENVELOPE, "put_rcpt") < 0)
		return -1;
	if (*addr == 0 || !queue_notify_ok(notify)) {
		msg_warn("queue file %s: empty recipient or bad notify %u", qf->id, notify);
		return qf_fail(qf);
	}
	buf_reset(&qf->rec);
	if (buf_append(&qf->rec, addr, strlen(addr) + 1) < 0
	    || buf_append(&qf->rec, orig, strlen(orig) + 1) < 0
	    || buf_append(&qf->rec, orcpt, strlen(orcpt) + 1) < 0
	    || buf_printf(&qf->rec, "%u", notify) < 0) {
		msg_warn("queue file %s: recipient is too long", qf->id);
		return qf_fail(qf);
	}
	qf->nrcpt++;
	return qf_put(qf, REC_TYPE_RCPT, qf->rec.data, qf->rec.len);
}

/* queue_file_begin_content - end of the envelope ('M'); needs time and sender. */
int queue_file_begin_content(struct queue_file *qf)
{
	if (qf_check(qf, QF_ENVELOPE, "begin_content") < 0)
		return -1;
	if (!qf->have_time || !qf->have_sender)
		msg_panic("queue file %s: content before time and sender", qf->id);
	if (record_put(&qf->out, REC_TYPE_MESSAGE, NULL, 0) < 0)
		msg_panic("begin_content: write buffer full");
	qf->data_offset = (uint64_t)qf->out_off + qf->out.len;
	qf->state = QF_CONTENT;
	QF_HOOK("record");
	return qf_maybe_flush(qf);
}

/* queue_file_put_content - append message bytes, as B records of <= 64 KB. */
int queue_file_put_content(struct queue_file *qf, const void *p, size_t n)
{
	const char *cp = p;

	if (qf_check(qf, QF_CONTENT, "put_content") < 0)
		return -1;
	while (n > 0) {
		size_t take;

		if (qf->chunk == QF_NO_CHUNK) {
			/* Room for the header and at least one byte, or write first. */
			if (qf->out.len + QF_CHUNK_HDR >= QUEUE_FLUSH_SIZE && qf_write_out(qf) < 0)
				return -1;
			qf->chunk = qf->out.len;
			if (buf_append(&qf->out, "B\x80\x80", QF_CHUNK_HDR) < 0)
				msg_panic("put_content: write buffer full");
		}
		take = QUEUE_FLUSH_SIZE - qf->out.len;
		if (take > n)
			take = n;
		if (buf_append(&qf->out, cp, take) < 0)
			msg_panic("put_content: write buffer full");
		qf->content_len += take;
		cp += take;
		n -= take;
		if (qf_maybe_flush(qf) < 0)
			return -1;
	}
	QF_HOOK("record");
	return 0;
}

/* qf_end_content - close the content: remember where it ends. */
static void qf_end_content(struct queue_file *qf)
{
	qf_chunk_close(qf);
	qf->data_end = (uint64_t)qf->out_off + qf->out.len;
}

/* queue_file_begin_extract - start trailing envelope records ('X'). */
int queue_file_begin_extract(struct queue_file *qf)
{
	if (qf_check(qf, QF_CONTENT, "begin_extract") < 0)
		return -1;
	qf_end_content(qf);
	qf->state = QF_EXTRACT;
	return qf_put(qf, REC_TYPE_EXTRACT, NULL, 0);
}

/* qf_size_rewrite - the final size record: in the buffer, or pwrite in place. */
static int qf_size_rewrite(struct queue_file *qf)
{
	struct buf s = BUF_INIT;
	int r = 0;

	if (qf->data_end > QUEUE_SIZE_FIELD_MAX || qf->nrcpt > QUEUE_SIZE_FIELD_MAX)
		msg_panic("queue file %s: size out of range", qf->id);
	buf_printf(&s, "%015llu %015llu %015llu %015llu",
		   (unsigned long long)qf->data_offset, (unsigned long long)qf->data_end,
		   (unsigned long long)qf->content_len, (unsigned long long)qf->nrcpt);
	if (s.len != QUEUE_SIZE_LEN)
		msg_panic("qf_size_rewrite: record of %zu bytes", s.len);
	if (qf->out_off == 0) {
		/* Still unwritten (a small message): patch it, save a syscall. */
		memcpy(qf->out.data + QF_SIZE_DATA_OFF, s.data, s.len);
	} else if (iox_pwrite_full(qf->fd, s.data, s.len, QF_SIZE_DATA_OFF) < 0) {
		msg_warn("queue file %s: rewrite size record: %m", qf->id);
		r = qf_fail(qf);
	}
	buf_free(&s);
	return r;
}

/* qf_finish - mark complete and make file and name durable, in this order. */
static int qf_finish(struct queue_file *qf)
{
	const char *dir = queue_dir_name(qf->queue);

	/* No old byte may outlive the commit past our end (none if we wrote past it). */
	if (qf->reused && qf->out_off < qf->old_size) {
		if (ftruncate(qf->fd, qf->out_off) < 0) {
			msg_warn("queue file %s: cut reused file: %m", qf->id);
			return qf_fail(qf);
		}
		QF_HOOK("cut");
	}
	/* 0700 is the complete mark: before it, every reader skips the file. */
	if (fchmod(qf->fd, QUEUE_FILE_MODE_DONE) < 0) {
		msg_warn("queue file %s: fchmod: %m", qf->id);
		return qf_fail(qf);
	}
	QF_HOOK("fchmod");
	if (fsync(qf->fd) < 0) {
		msg_warn("queue file %s: fsync: %m", qf->id);
		return qf_fail(qf);
	}
	QF_HOOK("fsync");
	/* The new name is durable only when its directory is. */
	if (iox_fsync_dirat(qf->qdirfd, dir) < 0) {
		msg_warn("queue file %s: fsync directory %s: %m", qf->id, dir);
		return qf_fail(qf);
	}
	QF_HOOK("fsync-dir");
	/* After fsync a close error cannot lose data; it also drops our lock. */
	if (close(qf->fd) < 0)
		msg_warn("queue file %s: close: %m", qf->id);
	qf->fd = -1;
	return 0;
}

/*
 * queue_file_hold - the file will be committed into hold/ (a content check
 * said HOLD). It moves while it is still incomplete (mode 0600, locked),
 * so no reader can take it from incoming/ first; the old directory is
 * synced now and the new one at commit.
 */
int queue_file_hold(struct queue_file *qf)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	enum queue_name old = qf->queue;
	int r = -1;

	if (qf->state == QF_FAILED)
		return -1;
	if (old == QUEUE_HOLD)
		return 0;
	if (queue_path(&from, old, qf->id) < 0 || queue_path(&to, QUEUE_HOLD, qf->id) < 0)
		msg_panic("queue file %s: no path", qf->id);
	if (renameat(qf->qdirfd, buf_str(&from), qf->qdirfd, buf_str(&to)) < 0) {
		msg_warn("queue file %s: rename to %s: %m", qf->id, buf_str(&to));
		qf_fail(qf);
	} else if ((qf->queue = QUEUE_HOLD), iox_fsync_dirat(qf->qdirfd, queue_dir_name(old)) < 0) {
		msg_warn("queue file %s: fsync directory %s: %m", qf->id, queue_dir_name(old));
		qf_fail(qf);
	} else {
		r = 0;
	}
	buf_free(&from);
	buf_free(&to);
	return r;
}

/*
 * queue_file_commit - finish the file durably (see qfile.h); 0 means the
 * message is safe on disk and the client may be told so. Frees qf.
 */
int queue_file_commit(struct queue_file *qf)
{
	int r = -1;

	if (qf->state == QF_ENVELOPE)
		msg_panic("queue file %s: commit without content", qf->id);
	if (qf->state == QF_FAILED)
		goto out;
	if (qf->nrcpt == 0) {
		msg_warn("queue file %s: no recipients", qf->id);
		qf_fail(qf);
		goto out;
	}
	if (qf->state == QF_CONTENT)
		qf_end_content(qf);
	if (record_put(&qf->out, REC_TYPE_END, NULL, 0) < 0)
		msg_panic("commit: write buffer full");
	QF_HOOK("end");
	if (qf_size_rewrite(qf) < 0)
		goto out;
	QF_HOOK("size");
	if (qf_write_out(qf) < 0 || qf_finish(qf) < 0)
		goto out;
	QF_HOOK("return");
	r = 0;
out:
	qf_release(qf);
	return r;
}

/* queue_file_abort - remove the file and free qf (also after a failed put). */
void queue_file_abort(struct queue_file *qf)
{
	if (qf == NULL)
		return;
	qf_fail(qf);
	qf_release(qf);
}
