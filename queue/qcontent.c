/*
 * qcontent.c - stream the content of a queue file (see qcontent.h).
 *
 * Called by the smtp client (which holds only a read-only fd of the file)
 * and by bounce (which quotes the original message). This file must never
 * hand out a byte that is not chunk payload, never read past data_end, and
 * never report the end of the content unless exactly content_length bytes
 * came out and the last chunk ended exactly at data_end.
 */
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "queue/qcontent.h"
#include "queue/qfile.h"
#include "queue/record.h"

/* qc_bad - the content does not add up: warn, EBADMSG, -1. */
static int qc_bad(struct queue_content *qc, const char *what)
{
	msg_warn("queue file content: %s at offset %lld", what, (long long)qc->pos);
	errno = EBADMSG;
	return -1;
}

/* queue_content_init - start at the first chunk of env's content. */
void queue_content_init(struct queue_content *qc, int fd, const struct queue_env *env)
{
	qc->fd = fd;
	qc->pos = env->data_offset;
	qc->end = env->data_end;
	qc->left = env->content_length;
	qc->chunk_left = 0;
}

/* qc_next_chunk - step over headers to the next non-empty chunk: 1, 0 at end, -1. */
static int qc_next_chunk(struct queue_content *qc)
{
	unsigned char h[RECORD_HEADER_MAX];
	size_t avail, len, hlen;
	ssize_t n;
	int type;

	while (qc->chunk_left == 0) {
		if (qc->pos >= qc->end)
			return qc->left == 0 && qc->pos == qc->end ? 0 : qc_bad(qc, "content ends early");
		avail = qc->end - qc->pos < RECORD_HEADER_MAX ? (size_t)(qc->end - qc->pos)
							      : RECORD_HEADER_MAX;
		if ((n = iox_pread_full(qc->fd, h, avail, qc->pos)) < 0)
			return -1;
		if ((size_t)n != avail)
			return qc_bad(qc, "file shrank");
		if (record_header_get(h, avail, QUEUE_CHUNK_MAX, &type, &len, &hlen) != RECORD_OK
		    || type != REC_TYPE_BODY || len > (uint64_t)(qc->end - qc->pos) - hlen
		    || len > qc->left)
			return qc_bad(qc, "bad content record");
		qc->pos += (off_t)hlen;
		qc->chunk_left = len;
	}
	return 1;
}

/* queue_content_read - copy up to n content bytes to dst: >0, 0 at the end, -1. */
ssize_t queue_content_read(struct queue_content *qc, void *dst, size_t n)
{
	ssize_t got;
	int r;

	if (n == 0)
		return 0;
	if ((r = qc_next_chunk(qc)) <= 0)
		return r;
	if (n > qc->chunk_left)
		n = qc->chunk_left;
	if ((got = iox_pread_full(qc->fd, dst, n, qc->pos)) < 0)
		return -1;
	if ((size_t)got != n)
		return qc_bad(qc, "file shrank");
	qc->pos += (off_t)n;
	qc->chunk_left -= n;
	qc->left -= n;
	return (ssize_t)n;
}

/*
 * queue_content_range - the file range [*off, *off + *len) of the next
 * chunk's bytes, for sendfile or splice: 1, 0 at the end, -1 on error.
 */
int queue_content_range(struct queue_content *qc, off_t *off, size_t *len)
{
	int r;

	if ((r = qc_next_chunk(qc)) <= 0)
		return r;
	*off = qc->pos;
	*len = qc->chunk_left;
	qc->pos += (off_t)qc->chunk_left;
	qc->left -= qc->chunk_left;
	qc->chunk_left = 0;
	return 1;
}

/* queue_content_copy - write all remaining content to out_fd: 0, or -1. */
int queue_content_copy(struct queue_content *qc, int out_fd)
{
	struct buf b = BUF_INIT;
	ssize_t n;

	if (buf_reserve(&b, QUEUE_FLUSH_SIZE) < 0)
		msg_panic("queue_content_copy: buffer");
	while ((n = queue_content_read(qc, b.data, QUEUE_FLUSH_SIZE)) > 0)
		if (iox_write_full(out_fd, b.data, (size_t)n) < 0) {
			n = -1;
			break;
		}
	buf_free(&b);
	return n == 0 ? 0 : -1;
}
