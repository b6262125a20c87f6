/*
 * qmove.c - queue state transitions by rename, removal, and queue listings
 * (see qmove.h).
 *
 * Called by qmgr (every state change of a message, the deferred scan),
 * queue_recover, and the admin tools (mailq, hold/release). This file must
 * never act on a name that is not a valid queue ID, never overwrite one
 * message with another, and never hand a caller a directory entry it did not
 * check.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "queue/qmove.h"

/* qmove_rename - rename without replacing; plain renameat (after a check) where unsupported. */
static int qmove_rename(int qdirfd, const char *from, const char *to)
{
	struct stat st;

	if (renameat2(qdirfd, from, qdirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* XXX not atomic, but only qmgr moves files, one at a time. */
	if (fstatat(qdirfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(qdirfd, from, qdirfd, to);
}

/* queue_move - rename from/ID to to/ID; durable: fsync both directories. */
int queue_move(int qdirfd, const char *id, enum queue_name from, enum queue_name to,
	       int durable)
{
	struct buf src = BUF_INIT, dst = BUF_INIT;
	int r = -1;

	if (queue_path(&src, from, id) < 0 || queue_path(&dst, to, id) < 0)
		goto out;
	if (qmove_rename(qdirfd, buf_str(&src), buf_str(&dst)) < 0) {
		/* A file already gone is the caller's news to tell, or not. */
		if (errno != ENOENT)
			msg_warn("rename %s to %s: %m", buf_str(&src), buf_str(&dst));
		goto out;
	}
	/* The new name is the state we promise; then make sure the old one cannot return. */
	if (durable && (iox_fsync_dirat(qdirfd, queue_dir_name(to)) < 0
			|| iox_fsync_dirat(qdirfd, queue_dir_name(from)) < 0)) {
		msg_warn("move %s to %s: fsync directory: %m", buf_str(&src), queue_dir_name(to));
		goto out;
	}
	r = 0;
out:
	buf_free(&src);
	buf_free(&dst);
	return r;
}

/* queue_remove - unlink queue/ID (not durable: see qmove.h). */
int queue_remove(int qdirfd, enum queue_name queue, const char *id)
{
	struct buf path = BUF_INIT;
	int r;

	if ((r = queue_path(&path, queue, id)) == 0 && (r = unlinkat(qdirfd, buf_str(&path), 0)) < 0)
		msg_warn("remove %s: %m", buf_str(&path));
	buf_free(&path);
	return r;
}

/* queue_exists - 1 if queue/ID exists, 0 if not, -1 on another error. */
int queue_exists(int qdirfd, enum queue_name queue, const char *id)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int r = -1;

	if (queue_path(&path, queue, id) == 0) {
		if (fstatat(qdirfd, buf_str(&path), &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = 1;
		else if (errno == ENOENT)
			r = 0;
	}
	buf_free(&path);
	return r;
}

/* qmove_cmp_id - qsort order of fixed-length IDs: their creation order. */
static int qmove_cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, QUEUE_ID_LEN);
}

/* qmove_list - the valid IDs in a queue directory, packed QUEUE_ID_LEN apart. */
static int qmove_list(int qdirfd, enum queue_name queue, struct buf *ids,
		      queue_stray_fn stray_fn, void *ctx)
{
	const char *dir = queue_dir_name(queue);
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = openat(qdirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
	    || (d = fdopendir(fd)) == NULL) {
		msg_warn("open queue directory %s: %m", dir);
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (queue_id_ok(de->d_name)) {
			if (buf_append(ids, de->d_name, QUEUE_ID_LEN) < 0)
				msg_fatal("queue directory %s: too many files", dir);
		} else if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0
			   && stray_fn != NULL) {
			stray_fn(queue, de->d_name, ctx);
		}
		errno = 0;
	}
	if (errno != 0) {
		msg_warn("read queue directory %s: %m", dir);
		closedir(d);
		return -1;
	}
	closedir(d);
	if (ids->len > 0)
		qsort(ids->data, ids->len / QUEUE_ID_LEN, QUEUE_ID_LEN, qmove_cmp_id);
	return 0;
}

/* queue_scan_all - fn(id) for each queue ID in ID order; stray_fn for other names. */
int queue_scan_all(int qdirfd, enum queue_name queue, queue_scan_fn fn,
		   queue_stray_fn stray_fn, void *ctx)
{
	struct buf ids = BUF_INIT;
	char id[QUEUE_ID_LEN + 1];
	size_t i, n;

	if (qmove_list(qdirfd, queue, &ids, stray_fn, ctx) < 0) {
		buf_free(&ids);
		return -1;
	}
	n = ids.len / QUEUE_ID_LEN;
	for (i = 0; i < n; i++) {
		memcpy(id, ids.data + i * QUEUE_ID_LEN, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = 0;
		if (fn(id, ctx) != 0) {
			i++;
			break;
		}
	}
	buf_free(&ids);
	return (int)i;
}

/* queue_scan - fn(id) for each queue ID in ID order; returns how many were visited. */
int queue_scan(int qdirfd, enum queue_name queue, queue_scan_fn fn, void *ctx)
{
	return queue_scan_all(qdirfd, queue, fn, NULL, ctx);
}
