/*
 * qspare_pool.c - the releaser's side of queue file reuse (see qspare.h):
 * qmgr's pool of names in spare/, filled when a message is done and emptied
 * one name per new-mail notice, as a hint to the cleanup process that sent it.
 *
 * It must never put a file into spare/ that is still mail (the caller
 * releases only fully delivered messages, after closing its own fds), and
 * never let spare/ grow past QUEUE_SPARE_MAX names it knows of.
 */
#include <errno.h>
#include <stdio.h>		/* renameat2 */
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
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

struct pool_load {
	struct queue_spare_pool *p;
	int qdirfd;
	int removed;
};

static int pool_load_one(const char *id, void *ctx)
{
	struct pool_load *l = ctx;

	if (l->p->n < l->p->max)
		pool_push(l->p, id);
	else if (queue_remove(l->qdirfd, QUEUE_SPARE, id) == 0)
		l->removed++;
	return 0;
}

/*
 * queue_spare_pool_load - start from what spare/ holds (qmgr start-up):
 * the pool takes up to max names, the rest are unlinked. Returns the number
 * of names in the pool, or -1 if spare/ could not be read.
 */
int queue_spare_pool_load(struct queue_spare_pool *p, int qdirfd)
{
	struct pool_load l = { p, qdirfd, 0 };

	p->head = p->n = 0;
	if (queue_scan(qdirfd, QUEUE_SPARE, pool_load_one, &l) < 0)
		return -1;
	if (l.removed > 0)
		msg_info("spare: %d files past the pool's %u removed", l.removed, p->max);
	return (int)p->n;
}

/*
 * queue_spare_release - a message is done: move queue/ID into spare/ and
 * remember the name, or unlink it when the pool is full or the file is
 * larger than QUEUE_SPARE_FILE_MAX (size: its length in bytes). Not
 * durable, like queue_remove. 0, or -1 with errno.
 */
int queue_spare_release(struct queue_spare_pool *p, int qdirfd, enum queue_name queue,
			const char *id, uint64_t size)
{
	struct buf src = BUF_INIT, dst = BUF_INIT;
	int r;

	if (size > QUEUE_SPARE_FILE_MAX || p->n >= p->max)
		return queue_remove(qdirfd, queue, id);
	if (queue_path(&src, queue, id) < 0 || queue_path(&dst, QUEUE_SPARE, id) < 0) {
		r = -1;
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
