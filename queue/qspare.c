/*
 * qspare.c - the taker's side of queue file reuse (see qspare.h): turn a
 * file in spare/ into a new, incomplete file in incoming/, and give all of
 * spare/ back to the file system when space runs short.
 *
 * It must never change a file it has not verified as an unused spare
 * (locked, still named spare/ID, one link, open nowhere else), and never
 * remove anything but names in spare/.
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

#define SPARE_RELIST_MS	1000	/* without hints, list spare/ at most this often */
#define SPARE_HINTS	8	/* names from qmgr kept for the next messages */
#define SPARE_TRIES	8	/* names tried from a listing per new file */

/* Names qmgr reserved for this process (a ring), and the fallback listing. */
static char spare_hints[SPARE_HINTS][QUEUE_ID_LEN + 1];
static unsigned spare_hint_head, spare_hint_n;
static struct buf spare_ids = BUF_INIT;
static size_t spare_next;
static int64_t spare_listed_ms = -1;

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

/* spare_list - read spare/ again, at most once per SPARE_RELIST_MS. */
static void spare_list(int qdirfd)
{
	int64_t now = event_now_ms();

	if (spare_listed_ms >= 0 && now - spare_listed_ms < SPARE_RELIST_MS)
		return;
	buf_reset(&spare_ids);
	spare_next = 0;
	spare_listed_ms = now;
	if (queue_scan(qdirfd, QUEUE_SPARE, spare_collect, &spare_ids) < 0)
		buf_reset(&spare_ids);
	spare_shuffle();
}

/* spare_is_ours - fd is spare/ID itself: one link, regular, our uid; its size. */
static int spare_is_ours(int qdirfd, const char *path, int fd, off_t *size)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || fstatat(qdirfd, path, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	*size = a.st_size;
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
static int spare_try(int qdirfd, const char *id, const char *dst_path, off_t *size)
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
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !spare_is_ours(qdirfd, path, fd, size))
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

/* queue_spare_hint - qmgr reserved spare/ID for us: try it first (oldest hint dropped if full). */
void queue_spare_hint(const char *id)
{
	unsigned slot;

	if (!queue_id_ok(id))
		return;
	if (spare_hint_n == SPARE_HINTS) {
		spare_hint_head = (spare_hint_head + 1) % SPARE_HINTS;
		spare_hint_n--;
	}
	slot = (spare_hint_head + spare_hint_n++) % SPARE_HINTS;
	memcpy(spare_hints[slot], id, QUEUE_ID_LEN + 1);
}

/* spare_next_name - the next name to try: a hint, else from a listing; 0 if none. */
static int spare_next_name(int qdirfd, char id[QUEUE_ID_LEN + 1])
{
	if (spare_hint_n > 0) {
		memcpy(id, spare_hints[spare_hint_head], QUEUE_ID_LEN + 1);
		spare_hint_head = (spare_hint_head + 1) % SPARE_HINTS;
		spare_hint_n--;
		return 1;
	}
	if (spare_next * QUEUE_ID_LEN >= spare_ids.len)
		spare_list(qdirfd);
	if (spare_next * QUEUE_ID_LEN >= spare_ids.len)
		return 0;
	memcpy(id, spare_ids.data + spare_next++ * QUEUE_ID_LEN, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = 0;
	return 1;
}

/*
 * queue_spare_take - rename a verified spare file to dst_path (a path in
 * incoming/); return its fd (read-write, offset 0, exclusively flocked, mode
 * 0600) and set *size to its current (old) length, or return -1 when no
 * spare file could be taken (then create a new file).
 */
int queue_spare_take(int qdirfd, const char *dst_path, off_t *size)
{
	static int sigio_ignored;
	char id[QUEUE_ID_LEN + 1];
	int fd, tries;

	if (!sigio_ignored) {
		if (signal(SIGIO, SIG_IGN) == SIG_ERR)
			return -1;
		sigio_ignored = 1;
	}
	for (tries = 0; tries < SPARE_TRIES && spare_next_name(qdirfd, id); tries++)
		if ((fd = spare_try(qdirfd, id, dst_path, size)) >= 0)
			return fd;
	return -1;
}

/* queue_spare_reset - forget hints and the listing (a new queue tree, tests). */
void queue_spare_reset(void)
{
	spare_hint_head = spare_hint_n = 0;
	buf_reset(&spare_ids);
	spare_next = 0;
	spare_listed_ms = -1;
}

struct spare_purge {
	int qdirfd;
	int n;
	uint64_t bytes;
};

static int spare_purge_one(const char *id, void *ctx)
{
	struct spare_purge *sp = ctx;
	struct buf path = BUF_INIT;
	struct stat st;

	if (queue_path(&path, QUEUE_SPARE, id) == 0
	    && fstatat(sp->qdirfd, buf_str(&path), &st, AT_SYMLINK_NOFOLLOW) == 0
	    && unlinkat(sp->qdirfd, buf_str(&path), 0) == 0) {
		sp->n++;
		/* what the file system gets back once no fd holds the inode */
		sp->bytes += st.st_nlink == 1 ? (uint64_t)st.st_blocks * 512 : 0;
	}
	buf_free(&path);
	return 0;
}

/*
 * queue_spare_purge - the queue file system is short of space: unlink every
 * file in spare/ (qmgr's hints for them just miss). Returns how many were
 * removed and sets *bytes to the blocks they held; -1 if spare/ could not
 * be read.
 */
int queue_spare_purge(int qdirfd, uint64_t *bytes)
{
	struct spare_purge sp = { qdirfd, 0, 0 };

	*bytes = 0;
	if (queue_scan(qdirfd, QUEUE_SPARE, spare_purge_one, &sp) < 0)
		return -1;
	*bytes = sp.bytes;
	queue_spare_reset();
	return sp.n;
}
