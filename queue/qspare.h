/*
 * qspare.h - reuse delivered queue files instead of unlinking them.
 *
 * Creating a file costs an inode allocation and removing one an inode
 * eviction; on ext4 both grow with the rate of recent deletions (the
 * allocator skips recently freed inodes), and at a thousand messages a second
 * they cost more CPU than everything else the queue does. So a delivered
 * file is not unlinked: qmgr renames it into spare/ (queue_spare_release),
 * and a writer later renames it into incoming/ under a new ID and writes the
 * new message over the old bytes (queue_spare_take). Same inode, no
 * allocation, no eviction.
 *
 * Who takes which file: qmgr keeps the names it retired in a pool (struct
 * queue_spare_pool) and answers each new-mail notice from a cleanup process
 * with one of them (MSG_QMGR_SPARE), so each name goes to one taker and no
 * taker lists spare/ on the hot path (queue_spare_hint stores it). A taker
 * with no hint lists spare/ itself, at most once a second; a name that two
 * takers try is taken by one of them (flock, rename), never both.
 *
 * The rules that keep this safe:
 *  - A spare file is never mail. Readers only read complete files (mode
 *    0700) in the message queues; spare/ is not one, and a taker makes the
 *    file mode 0600 (incomplete) before it renames it into incoming/, so a
 *    crash at any point leaves at worst an incomplete file, which recovery
 *    removes. Old bytes past the new end are cut at commit.
 *  - A taker holds the file's flock and checks that spare/ID is still the
 *    inode it opened, with one link, before it changes anything.
 *  - A file still open anywhere else (an smtp process that kept its
 *    read-only fd, a bounce reading it) is never reused: a write lease,
 *    which the kernel grants only when no other open file exists for the
 *    inode, must succeed first; otherwise the file is unlinked. So no
 *    process can read a later message through an fd of an earlier one.
 *  - spare/ never holds a delivered byte: the releaser writes zeros over
 *    the whole file before it renames it there (queue_spare_release), and
 *    qmgr cuts every file it finds there at start-up to length 0 (a crash
 *    may have lost the zeros). Zeros, not a cut, on the hot path: the blocks
 *    stay allocated, so the next message overwrites them without freeing
 *    and allocating again (bench/disk_commit: reuse-wipe vs reuse-trunc).
 *  - The blocks a spare file holds never cost a message: when cleanup finds
 *    less free space than queue_minfree asks for, it unlinks every file in
 *    spare/ (queue_spare_purge) before it answers 452.
 *  - qmgr keeps at most QUEUE_SPARE_MAX names in its pool, each file at
 *    most QUEUE_SPARE_FILE_MAX bytes and linked nowhere else; anything else
 *    is unlinked as before.
 *
 * Takers must ignore SIGIO: another taker's open of a file we lease sends
 * it (queue_spare_take sets SIG_IGN on first use).
 */
#ifndef MOAT_QUEUE_QSPARE_H
#define MOAT_QUEUE_QSPARE_H

#include <stdint.h>
#include <sys/types.h>

#include "queue/layout.h"
#include "queue/qid.h"

#define QUEUE_SPARE_MAX		256
#define QUEUE_SPARE_FILE_MAX	(256 * 1024)

/* The taker's side (cleanup). */
int queue_spare_take(int qdirfd, const char *dst_path, off_t *size);
void queue_spare_hint(const char *id);
void queue_spare_reset(void);
int queue_spare_purge(int qdirfd, uint64_t *bytes);

/* The releaser's side (qmgr): the names in spare/ not yet handed out. */
struct queue_spare_pool {
	char *ids;		/* max * QUEUE_ID_LEN bytes, a ring */
	unsigned head, n, max;
};

void queue_spare_pool_init(struct queue_spare_pool *p, unsigned max);
void queue_spare_pool_free(struct queue_spare_pool *p);
int queue_spare_pool_load(struct queue_spare_pool *p, int qdirfd);
int queue_spare_release(struct queue_spare_pool *p, int qdirfd, enum queue_name queue,
			const char *id);
int queue_spare_pool_pop(struct queue_spare_pool *p, char id[QUEUE_ID_LEN + 1]);
int queue_spare_count(int qdirfd);

#endif
