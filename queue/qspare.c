/*
 * qspare.c - the pool of delivered queue files kept for reuse (see qspare.h).
 *
 * A taker must never change a file it has not verified as an unused spare
 * (locked, still named spare/ID, one link, open nowhere else), and the
 * releaser must never put a file in spare/ that is still mail.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>		/* renameat2 */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/event.h"
#include "lib/msg.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "queue/qmove.h"
#include "queue/qspare.h"

#define SPARE_RELIST_MS	1000	/* after finding spare/ empty, look again this late */
#define SPARE_STALE_MS	20	/* a listing older than this is read again */
#define SPARE_RECOUNT_MS 10	/* qmgr recounts spare/ at most this often when full */

/* The taker's shuffled listing of spare/. */
static struct buf spare_ids = BUF_INIT;
static size_t spare_next;
static int64_t spare_listed_ms = -1;
static int spare_listed_empty;

/* The releaser's estimate of how many files spare/ holds. */
static int spare_count = -1;
static int64_t spare_counted_ms;

static int spare_collect(const char *id, void *ctx)
{
	return buf_append(ctx, id, QUEUE_ID_LEN) < 0;
}

/* spare_shuffle - so that concurrent takers try different files first. */
static void spare_shuffle(void)
{
	static unsigned state;
	size_t n = spare_ids.len / QUEUE_ID_LEN;
	char tmp[QUEUE_ID_LEN];

	if (state == 0)
		state = (unsigned)getpid() * 2654435761u | 1;
	for (size_t i = n; i > 1; i--) {
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		size_t j = state % i;
		char *a = spare_ids.data + (i - 1) * QUEUE_ID_LEN, *b = spare_ids.data + j * QUEUE_ID_LEN;

		memcpy(tmp, a, QUEUE_ID_LEN);
		memcpy(a, b, QUEUE_ID_LEN);
		memcpy(b, tmp, QUEUE_ID_LEN);
	}
}

/* spare_list - refill the listing when it is used up or stale (not too often if empty). */
static void spare_list(int qdirfd)
{
	int64_t now = event_now_ms();

	/* Other takers empty spare/ too: an old listing names files long gone. */
	if (spare_next * QUEUE_ID_LEN < spare_ids.len && now - spare_listed_ms < SPARE_STALE_MS)
		return;
	if (spare_listed_empty && now - spare_listed_ms < SPARE_RELIST_MS)
		return;
	buf_reset(&spare_ids);
	spare_next = 0;
	spare_listed_ms = now;
	if (queue_scan(qdirfd, QUEUE_SPARE, spare_collect, &spare_ids) < 0)
		buf_reset(&spare_ids);
	spare_listed_empty = spare_ids.len == 0;
	spare_shuffle();
}

/* spare_is_ours - fd is spare/ID itself: one link, regular, our uid. */
static int spare_is_ours(int qdirfd, const char *path, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || fstatat(qdirfd, path, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino && S_ISREG(a.st_mode)
	    && a.st_nlink == 1 && a.st_uid == geteuid();
}

/* spare_unused - no other open file of the inode exists anywhere (write lease). */
static int spare_unused(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		return 0;
	if (fcntl(fd, F_SETLEASE, F_UNLCK) < 0)
		msg_warn("spare file: drop lease: %m");
	return 1;
}

/* spare_try - take spare/ID as dst_path: its fd, or -1. */
static int spare_try(int qdirfd, const char *id, const char *dst_path)
{
	struct buf pb = BUF_INIT;
	const char *path;
	int fd;

	if (queue_path(&pb, QUEUE_SPARE, id) < 0)
		return -1;
	path = buf_str(&pb);
	fd = openat(qdirfd, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		buf_free(&pb);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !spare_is_ours(qdirfd, path, fd))
		goto skip;
	if (!spare_unused(fd)) {
		/* Still open elsewhere: never reuse it; drop it from the pool. */
		(void)unlinkat(qdirfd, path, 0);
		goto skip;
	}
	/* Incomplete before it has a queue name: a crash leaves no stale mail. */
	if (fchmod(fd, QUEUE_FILE_MODE_BUSY) < 0
	    || renameat2(qdirfd, path, qdirfd, dst_path, RENAME_NOREPLACE) < 0) {
		msg_warn("reuse %s as %s: %m", path, dst_path);
		goto skip;
	}
	buf_free(&pb);
	return fd;
skip:
	(void)close(fd);
	buf_free(&pb);
	return -1;
}

/*
 * queue_spare_take - rename a verified spare file to dst_path (a path in
 * incoming/); return its fd (read-write, offset 0, exclusively flocked, mode
 * 0600), or -1 when no spare file could be taken (then create a new file).
 */
int queue_spare_take(int qdirfd, const char *dst_path)
{
	static int sigio_ignored;
	int fd, tries;

	if (!sigio_ignored) {
		if (signal(SIGIO, SIG_IGN) == SIG_ERR)
			return -1;
		sigio_ignored = 1;
	}
	for (tries = 0; tries < 8; tries++) {
		spare_list(qdirfd);
		if (spare_next * QUEUE_ID_LEN >= spare_ids.len)
			return -1;
		char id[QUEUE_ID_LEN + 1];

		memcpy(id, spare_ids.data + spare_next++ * QUEUE_ID_LEN, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = 0;
		if ((fd = spare_try(qdirfd, id, dst_path)) >= 0)
			return fd;
	}
	return -1;
}

/* queue_spare_reset - forget the cached listing of spare/ (a new queue tree). */
void queue_spare_reset(void)
{
	buf_reset(&spare_ids);
	spare_next = 0;
	spare_listed_ms = -1;
	spare_listed_empty = 0;
	spare_count = -1;
}

/* queue_spare_count - how many files spare/ holds now, or -1. */
int queue_spare_count(int qdirfd)
{
	struct buf ids = BUF_INIT;
	int n = -1;

	if (queue_scan(qdirfd, QUEUE_SPARE, spare_collect, &ids) >= 0)
		n = (int)(ids.len / QUEUE_ID_LEN);
	buf_free(&ids);
	return n;
}

/* spare_has_room - the pool is below QUEUE_SPARE_MAX (recounted when it seems full). */
static int spare_has_room(int qdirfd)
{
	int64_t now = event_now_ms();

	if ((spare_count < 0 || spare_count >= QUEUE_SPARE_MAX)
	    && (spare_count < 0 || now - spare_counted_ms >= SPARE_RECOUNT_MS)) {
		spare_count = queue_spare_count(qdirfd);
		spare_counted_ms = now;
	}
	return spare_count >= 0 && spare_count < QUEUE_SPARE_MAX;
}

/*
 * queue_spare_release - a message is done: move queue/ID into spare/ for
 * reuse, or unlink it when the pool is full or the file is large (size is
 * the file's length in bytes). The caller must have closed its own fds of
 * the file. Not durable, like queue_remove. 0, or -1 with errno.
 */
int queue_spare_release(int qdirfd, enum queue_name queue, const char *id, uint64_t size)
{
	struct buf src = BUF_INIT, dst = BUF_INIT;
	int r;

	if (size > QUEUE_SPARE_FILE_MAX || !spare_has_room(qdirfd))
		return queue_remove(qdirfd, queue, id);
	if (queue_path(&src, queue, id) < 0 || queue_path(&dst, QUEUE_SPARE, id) < 0) {
		r = -1;
	} else if ((r = renameat2(qdirfd, buf_str(&src), qdirfd, buf_str(&dst), RENAME_NOREPLACE)) == 0) {
		spare_count++;
	} else if (errno == EEXIST || errno == EINVAL || errno == ENOSYS) {
		r = queue_remove(qdirfd, queue, id);
	}
	buf_free(&src);
	buf_free(&dst);
	return r;
}
