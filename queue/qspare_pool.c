/*
 * qspare_pool.c - the releaser's side of queue file reuse (see qspare.h):
 * qmgr's pool of names in spare/, filled when a message is done and emptied
 * one name per new-mail notice, as a hint to the cleanup process that sent it.
 *
 * It must never put a file into spare/ that is still mail (the caller
 * releases only fully delivered messages, after closing its own fds), never
 * one that still holds a delivered byte (zeros over it first), never change
 * a file linked under another name, and never let spare/ grow past
 * QUEUE_SPARE_MAX names it knows of.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>		/* renameat2 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "queue/qfile.h"
#include "queue/qmove.h"
#include "queue/qspare.h"

void queue_spare_pool_init(struct queue_spare_pool *p, unsigned max)
{
	p->ids = xmalloc((size_t)max * QUEUE_ID_LEN);
	p->head = p->n = 0;
	p->max = max;
}

void queue_spare_pool_free(struct queue_spare_pool *p)
{
	xfree(p->ids);
	p->ids = NULL;
	p->head = p->n = p->max = 0;
}

static void pool_push(struct queue_spare_pool *p, const char *id)
{
	memcpy(p->ids + (size_t)((p->head + p->n++) % p->max) * QUEUE_ID_LEN, id, QUEUE_ID_LEN);
}

/* queue_spare_pool_pop - hand out the oldest name; 0 if the pool is empty. */
int queue_spare_pool_pop(struct queue_spare_pool *p, char id[QUEUE_ID_LEN + 1])
{
	if (p->n == 0)
		return 0;
	memcpy(id, p->ids + (size_t)p->head * QUEUE_ID_LEN, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = 0;
	p->head = (p->head + 1) % p->max;
	p->n--;
	return 1;
}

/* pool_open - queue/ID read-write without following links or waiting for a lease. */
static int pool_open(int qdirfd, enum queue_name queue, const char *id, struct stat *st)
{
	struct buf path = BUF_INIT;
	int fd = -1;

	if (queue_path(&path, queue, id) == 0)
		fd = openat(qdirfd, buf_str(&path), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	buf_free(&path);
	if (fd >= 0 && fstat(fd, st) < 0) {
		(void)close(fd);
		fd = -1;
	}
	return fd;
}

/* pool_keepable - a file that may wait in spare/: ours alone, regular, not too large. */
static int pool_keepable(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_nlink == 1 && st->st_size <= QUEUE_SPARE_FILE_MAX;
}

/* pool_wipe - zeros over every byte: no delivered byte waits in spare/. */
static int pool_wipe(int fd, off_t size)
{
	static const char zeros[65536];
	off_t off = 0;

	while (off < size) {
		size_t n = size - off < (off_t)sizeof(zeros) ? (size_t)(size - off) : sizeof(zeros);

		if (iox_pwrite_full(fd, zeros, n, off) < 0)
			return -1;
		off += (off_t)n;
	}
	return 0;
}

struct pool_load {
	struct queue_spare_pool *p;
	int qdirfd;
	int removed;
};

/*
 * pool_load_one - keep a file found in spare/ only cut to nothing: a crash
 * may have lost the zeros its releaser wrote, an older moat wrote none, and
 * at start-up nothing is worth keeping blocks for.
 */
static int pool_load_one(const char *id, void *ctx)
{
	struct pool_load *l = ctx;
	struct stat st;
	int fd = pool_open(l->qdirfd, QUEUE_SPARE, id, &st), keep;

	keep = l->p->n < l->p->max && fd >= 0 && pool_keepable(&st) && ftruncate(fd, 0) == 0;
	if (fd >= 0)
		(void)close(fd);
	if (keep)
		pool_push(l->p, id);
	else if (queue_remove(l->qdirfd, QUEUE_SPARE, id) == 0)
		l->removed++;
	return 0;
}

/*
 * queue_spare_pool_load - start from what spare/ holds (qmgr start-up):
 * the pool takes up to max names, each file cut to length 0; the rest are
 * unlinked. Returns the number of names in the pool, or -1 if spare/ could
 * not be read.
 */
int queue_spare_pool_load(struct queue_spare_pool *p, int qdirfd)
{
	struct pool_load l = { p, qdirfd, 0 };

	p->head = p->n = 0;
	if (queue_scan(qdirfd, QUEUE_SPARE, pool_load_one, &l) < 0)
		return -1;
	if (l.removed > 0)
		msg_info("spare: %d files removed (past the pool's %u, or not reusable)", l.removed,
			 p->max);
	return (int)p->n;
}

/*
 * queue_spare_release - a message is done: overwrite queue/ID with zeros,
 * move it into spare/ and remember the name; or unlink it when the pool is
 * full, the file is larger than QUEUE_SPARE_FILE_MAX, linked elsewhere, or
 * cannot be wiped. The caller must have closed its own fds of the file. Not
 * durable, like queue_remove. 0, or -1 with errno (ENOENT: already gone).
 */
int queue_spare_release(struct queue_spare_pool *p, int qdirfd, enum queue_name queue,
			const char *id)
{
	struct buf src = BUF_INIT, dst = BUF_INIT;
	struct stat st;
	int fd, r;

	if (p->n >= p->max || (fd = pool_open(qdirfd, queue, id, &st)) < 0)
		return queue_remove(qdirfd, queue, id);
	r = pool_keepable(&st) ? pool_wipe(fd, st.st_size) : -1;
	/* Closed before it has a spare name: a taker must find it open nowhere. */
	(void)close(fd);
	if (r < 0 || queue_path(&src, queue, id) < 0 || queue_path(&dst, QUEUE_SPARE, id) < 0) {
		r = queue_remove(qdirfd, queue, id);
	} else if ((r = renameat2(qdirfd, buf_str(&src), qdirfd, buf_str(&dst), RENAME_NOREPLACE)) == 0) {
		pool_push(p, id);
	} else if (errno == EEXIST || errno == EINVAL || errno == ENOSYS) {
		r = queue_remove(qdirfd, queue, id);
	}
	buf_free(&src);
	buf_free(&dst);
	return r;
}

/* queue_spare_count - how many files spare/ holds now, or -1. */
static int pool_count_one(const char *id, void *ctx)
{
	(void)id;
	++*(int *)ctx;
	return 0;
}

int queue_spare_count(int qdirfd)
{
	int n = 0;

	return queue_scan(qdirfd, QUEUE_SPARE, pool_count_one, &n) < 0 ? -1 : n;
}
