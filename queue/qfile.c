/*
 * qfile.c - queue file helpers shared by readers and writers: path names,
 * opening a complete file for reading, marking a recipient done in place,
 * and the syntax of record fields both sides must agree on.
 *
 * Called by qmgr (open, done marks), bounce and the admin tools (open), and
 * by the writer and the envelope parser (field syntax). This file must never
 * build a path from an unchecked queue ID, never open anything but a
 * complete regular file, and never rewrite a byte that is not a recipient
 * record's type byte or the value of the attribute record it was asked for,
 * with a value of the same length.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/msg.h"
#include "queue/qfile.h"
#include "queue/record.h"

/* queue_path - set out to "<queue>/<id>"; -1 (EINVAL) if id is not a queue ID. */
int queue_path(struct buf *out, enum queue_name queue, const char *id)
{
	if ((unsigned)queue >= QUEUE_NDIRS || !queue_id_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	buf_reset(out);
	if (buf_printf(out, "%s/%s", queue_dir_name(queue), id) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * queue_file_open - open a complete queue file for reading (flags O_RDONLY)
 * or for reading and done marks (O_RDWR). Returns the fd, or -1 with errno:
 * EINVAL (bad ID or flags, or not a regular file), EAGAIN (not complete
 * yet: not mode 0700), or what openat reports (ENOENT, ELOOP, ...).
 */
int queue_file_open(int qdirfd, enum queue_name queue, const char *id, int flags)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int fd, saved;

	if ((flags != O_RDONLY && flags != O_RDWR) || queue_path(&path, queue, id) < 0) {
		buf_free(&path);
		errno = EINVAL;
		return -1;
	}
	fd = openat(qdirfd, buf_str(&path), flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	buf_free(&path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	/* Only a committed regular file: a writer may still own anything else. */
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((st.st_mode & 07777) != QUEUE_FILE_MODE_DONE) {
		errno = EAGAIN;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

/*
 * queue_file_mark_done - rewrite the type byte of the recipient record at
 * rcpt_offset from 'R' to 'D', in place (fd open O_RDWR). 0 also if it is
 * already 'D'; -1 if the byte there is anything else (a wrong offset must
 * not damage the file).
 *
 * Not fsynced, on purpose (Postfix does the same): if a crash loses the mark,
 * the recipient gets the message twice; no message is ever lost by it, and
 * an fsync per recipient would cost more than the whole delivery.
 */
int queue_file_mark_done(int fd, off_t rcpt_offset)
{
	unsigned char c;
	ssize_t n;

	n = iox_pread_full(fd, &c, 1, rcpt_offset);
	if (n < 0)
		return -1;
	if (n == 1 && c == REC_TYPE_DONE)
		return 0;
	if (n != 1 || c != REC_TYPE_RCPT) {
		msg_warn("mark done: no recipient record at offset %lld", (long long)rcpt_offset);
		errno = EINVAL;
		return -1;
	}
	c = REC_TYPE_DONE;
	return iox_pwrite_full(fd, &c, 1, rcpt_offset) == 1 ? 0 : -1;
}

/*
 * queue_file_rewrite_attr - replace the value of the attribute record at
 * attr_offset (fd open O_RDWR) with value, which must have the length of
 * the old one: the record's framing never changes. 0, or -1 (EINVAL) when
 * the bytes there are not an attribute "name=" of that length. Not fsynced:
 * its only user (the delay warning time) may be lost by a crash, which
 * costs a second warning, never a message.
 */
int queue_file_rewrite_attr(int fd, off_t attr_offset, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value), len, hlen;
	unsigned char head[RECORD_HEADER_MAX + 65];
	ssize_t n;
	int type;

	if (nlen == 0 || nlen > 64)
		goto bad;
	n = iox_pread_full(fd, head, RECORD_HEADER_MAX + nlen + 1, attr_offset);
	if (n < 0)
		return -1;
	if (record_header_get(head, (size_t)n, QUEUE_REC_MAX, &type, &len, &hlen) != RECORD_OK
	    || type != REC_TYPE_ATTR || len != nlen + 1 + vlen || (size_t)n < hlen + nlen + 1
	    || memcmp(head + hlen, name, nlen) != 0 || head[hlen + nlen] != '=')
		goto bad;
	return iox_pwrite_full(fd, value, vlen, attr_offset + (off_t)(hlen + nlen + 1))
	       == (ssize_t)vlen ? 0 : -1;
bad:
	msg_warn("rewrite attribute %s: no such record at offset %lld", name, (long long)attr_offset);
	errno = EINVAL;
	return -1;
}

/* queue_attr_name_ok - 1 if name[0..len) is an attribute name: [a-z0-9_]{1,64}. */
int queue_attr_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* queue_notify_ok - 1 if notify is a valid DSN NOTIFY mask (NEVER only alone). */
int queue_notify_ok(unsigned notify)
{
	if (notify & ~15u)
		return 0;
	return !(notify & QUEUE_NOTIFY_NEVER) || notify == QUEUE_NOTIFY_NEVER;
}
