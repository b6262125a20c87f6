/*
 * statuslog.c - bounce/ and defer/ logs (see statuslog.h).
 *
 * Called by qmgr (append, remove) and bounce and mailq (read). The reader
 * trusts nothing in the file: every record is bounds-checked by record_get,
 * every field must be a known key, and an entry without rcpt/dsn/action is
 * refused. This file must never write a partial entry that a reader would
 * take as whole: one record goes out in one write on an O_APPEND fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/strnum.h"
#include "lib/xmem.h"
#include "mail/statuslog.h"
#include "queue/qfile.h"
#include "queue/record.h"

#define STATUSLOG_REC		'L'
#define STATUSLOG_REC_MAX	(64 * 1024)
#define STATUSLOG_FILE_MAX	(64 * 1024 * 1024)

static int statuslog_field(struct buf *b, const char *key, const char *value)
{
	if (strchr(value ? value : "", '\n'))
		value = "(value with a line break removed)";
	return buf_printf(b, "%s=%s", key, value ? value : "") < 0 || buf_putc(b, 0) < 0 ? -1 : 0;
}

/* statuslog_encode - one entry as one record in out. */
static int statuslog_encode(struct buf *out, const struct statuslog_entry *e)
{
	struct buf f;
	char num[32];
	int r = -1;

	buf_init(&f, STATUSLOG_REC_MAX);
	if (statuslog_field(&f, "rcpt", e->rcpt) || statuslog_field(&f, "orcpt", e->orcpt)
	    || (snprintf(num, sizeof(num), "%" PRIu32, e->notify), statuslog_field(&f, "notify", num))
	    || statuslog_field(&f, "dsn", e->dsn) || statuslog_field(&f, "action", e->action)
	    || statuslog_field(&f, "reason", e->reason) || statuslog_field(&f, "relay", e->relay)
	    || (snprintf(num, sizeof(num), "%" PRId64, e->when < 0 ? 0 : e->when),
		statuslog_field(&f, "when", num)))
		goto out;
	r = record_put(out, STATUSLOG_REC, f.data, f.len);
out:
	buf_free(&f);
	return r;
}

int statuslog_append(int qdirfd, enum queue_name dir, const char *id,
		     const struct statuslog_entry *e)
{
	struct buf path = BUF_INIT, rec = BUF_INIT;
	int fd = -1, r = -1, saved;

	if (queue_path(&path, dir, id) < 0 || statuslog_encode(&rec, e) < 0) {
		errno = EINVAL;
		goto out;
	}
	fd = openat(qdirfd, buf_str(&path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	if (iox_write_full(fd, rec.data, rec.len) < 0 || fdatasync(fd) < 0)
		goto out;
	r = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	buf_free(&rec);
	errno = saved;
	return r;
}

/* statuslog_decode - split one record's fields into e (pointers into data). */
static int statuslog_decode(char *data, size_t len, struct statuslog_entry *e)
{
	uint64_t v;
	size_t off = 0;

	memset(e, 0, sizeof(*e));
	e->orcpt = e->reason = "";
	e->relay = "none";
	while (off < len) {
		char *f = data + off, *eq;
		size_t flen = strnlen(f, len - off);

		if (off + flen >= len || (eq = memchr(f, '=', flen)) == NULL)
			return -1;
		*eq++ = 0;
		if (strcmp(f, "rcpt") == 0)
			e->rcpt = eq;
		else if (strcmp(f, "orcpt") == 0)
			e->orcpt = eq;
		else if (strcmp(f, "notify") == 0 && strnum_u64(eq, 0, 15, &v) == 0)
			e->notify = (uint32_t)v;
		else if (strcmp(f, "dsn") == 0)
			e->dsn = eq;
		else if (strcmp(f, "action") == 0)
			e->action = eq;
		else if (strcmp(f, "reason") == 0)
			e->reason = eq;
		else if (strcmp(f, "relay") == 0)
			e->relay = eq;
		else if (strcmp(f, "when") == 0 && strnum_u64(eq, 0, INT64_MAX, &v) == 0)
			e->when = (int64_t)v;
		else
			return -1;
		off += flen + 1;
	}
	return e->rcpt && e->dsn && e->action ? 0 : -1;
}

static int statuslog_slurp(int fd, struct buf *content, struct buf *why)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return buf_printf(why, "fstat: %s", strerror(errno)), -1;
	if (!S_ISREG(sb.st_mode) || sb.st_size > STATUSLOG_FILE_MAX)
		return buf_printf(why, "not a regular file or too large"), -1;
	if (buf_reserve(content, (size_t)sb.st_size) < 0)
		return buf_printf(why, "too large"), -1;
	ssize_t n = iox_read_full(fd, content->data, (size_t)sb.st_size);

	if (n < 0)
		return buf_printf(why, "read: %s", strerror(errno)), -1;
	content->len = (size_t)n;
	content->data[n] = 0;
	return 0;
}

int statuslog_read(int qdirfd, enum queue_name dir, const char *id, statuslog_fn fn,
		   void *ctx, struct buf *why)
{
	struct buf path = BUF_INIT, content = BUF_INIT;
	struct statuslog_entry e;
	struct record rec;
	size_t off = 0;
	int fd, r = -1;

	if (queue_path(&path, dir, id) < 0) {
		buf_printf(why, "bad queue id");
		goto out;
	}
	if ((fd = openat(qdirfd, buf_str(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = errno == ENOENT ? 0 : -1;
		if (r < 0)
			buf_printf(why, "%s: %s", buf_str(&path), strerror(errno));
		goto out;
	}
	r = statuslog_slurp(fd, &content, why);
	close(fd);
	while (r == 0 && off < content.len) {
		if (record_get((unsigned char *)content.data, content.len, off, STATUSLOG_REC_MAX, &rec)
		    != RECORD_OK || rec.type != STATUSLOG_REC
		    || statuslog_decode(content.data + (rec.data - (unsigned char *)content.data),
					rec.len, &e) < 0) {
			buf_printf(why, "%s: damaged entry at offset %zu", buf_str(&path), off);
			r = -1;
			break;
		}
		off = rec.end;
		if (fn(&e, ctx) < 0)
			break;
	}
out:
	buf_free(&path);
	buf_free(&content);
	return r;
}

int statuslog_remove(int qdirfd, enum queue_name dir, const char *id)
{
	struct buf path = BUF_INIT;
	int r = -1;

	if (queue_path(&path, dir, id) == 0) {
		r = unlinkat(qdirfd, buf_str(&path), 0);
		if (r < 0 && errno == ENOENT)
			r = 0;
	}
	buf_free(&path);
	return r;
}
