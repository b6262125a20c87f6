/*
 * qfile.h - queue files: create, write and commit one; open one to read it;
 * mark a recipient done in place; rewrite an attribute's value in place
 * with one of the same length (the delay warning time, once it is sent).
 *
 * Writer (the cleanup stage, chrooted at queue_directory):
 *
 *	struct queue_file *qf;
 *	if (queue_file_create(qdirfd, QUEUE_INCOMING, &qf) < 0) ...4xx...
 *	queue_file_put_time(qf, &tv);          exactly once
 *	queue_file_put_sender(qf, sender);     exactly once ("" = <>)
 *	queue_file_put_attr(qf, "helo", ...);  any number
 *	queue_file_put_rcpt(qf, ...);          at least one in all
 *	queue_file_begin_content(qf);
 *	queue_file_put_content(qf, p, n);      any number, any sizes
 *	queue_file_begin_extract(qf);          optional: then attrs, rcpts
 *	queue_file_hold(qf);                   optional: commit into hold/
 *	if (queue_file_commit(qf) == 0) ...only now send 250...
 *
 * Every put returns 0 or -1; after -1 the file is already removed and the
 * caller must still call queue_file_abort (or commit, which returns -1) to
 * free qf. commit and abort always free qf. Calling the functions out of the
 * order above is a bug in the caller (msg_panic).
 *
 * Records are collected in memory and written in QUEUE_FLUSH_SIZE pieces: no
 * syscall per record. The durability rule lives in queue_file_commit: the
 * end record is written, the size record gets its final values, the file is
 * made mode 0700 (the "complete" mark: readers ignore files of any other
 * mode), the file is fsynced, then its directory is fsynced; only then does
 * commit return 0, and only then may the SMTP 250 go out.
 *
 * The writer holds an exclusive flock on its file from create to the end, so
 * queue_recover (run when qmgr starts, possibly while cleanup is writing)
 * never removes a file that a live writer will still commit.
 *
 * A new file in incoming/ reuses a delivered one from spare/ when it can
 * (queue/qspare.h): same protocol, plus a cut of the old tail at commit.
 *
 * Paths are relative to qdirfd: an fd of the queue directory (the root of a
 * queue stage's chroot) or AT_FDCWD, so tests can work on a temporary tree.
 */
#ifndef MOAT_QUEUE_QFILE_H
#define MOAT_QUEUE_QFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "queue/layout.h"
#include "queue/qid.h"

#define QUEUE_FILE_VERSION	"MOAT1"
#define QUEUE_FILE_MODE_BUSY	0600	/* being written */
#define QUEUE_FILE_MODE_DONE	0700	/* complete: committed */
#define QUEUE_FLUSH_SIZE	65536	/* bytes per write() */
#define QUEUE_REC_MAX		65536	/* largest envelope record */
#define QUEUE_CHUNK_MAX		(1024 * 1024)	/* largest content chunk a reader accepts */
#define QUEUE_ENV_MAX		(16 * 1024 * 1024)	/* largest envelope (head or tail) */

/* The size record: four fixed-width decimal fields, rewritten in place. */
#define QUEUE_SIZE_WIDTH	15
#define QUEUE_SIZE_FIELDS	4
#define QUEUE_SIZE_LEN		(QUEUE_SIZE_FIELDS * (QUEUE_SIZE_WIDTH + 1) - 1)
#define QUEUE_SIZE_FIELD_MAX	999999999999999ULL

/* DSN NOTIFY bits of a recipient (RFC 3461); 0 = not specified. */
#define QUEUE_NOTIFY_SUCCESS	1
#define QUEUE_NOTIFY_FAILURE	2
#define QUEUE_NOTIFY_DELAY	4
#define QUEUE_NOTIFY_NEVER	8	/* only alone */

struct queue_file;

/*
 * Fault injection for the crash tests: when set, called after every step of
 * the writer ("create", "lock", "record", "flush", "end", "size", "cut" (a reused
 * file only), "fchmod", "fsync", "fsync-dir", "return"). NULL in production (one predictable
 * branch per step).
 */
extern void (*queue_test_hook)(const char *step);

int queue_file_create(int qdirfd, enum queue_name queue, struct queue_file **qfp);
const char *queue_file_id(const struct queue_file *qf);
int queue_file_put_time(struct queue_file *qf, const struct timeval *tv);
int queue_file_put_sender(struct queue_file *qf, const char *sender);
int queue_file_put_attr(struct queue_file *qf, const char *name, const char *value);
int queue_file_put_rcpt(struct queue_file *qf, const char *addr, const char *orig,
			const char *orcpt, unsigned notify);
int queue_file_begin_content(struct queue_file *qf);
int queue_file_put_content(struct queue_file *qf, const void *p, size_t n);
int queue_file_begin_extract(struct queue_file *qf);
int queue_file_hold(struct queue_file *qf);
int queue_file_commit(struct queue_file *qf);
void queue_file_abort(struct queue_file *qf);

int queue_path(struct buf *out, enum queue_name queue, const char *id);
int queue_file_open(int qdirfd, enum queue_name queue, const char *id, int flags);
int queue_file_mark_done(int fd, off_t rcpt_offset);
int queue_file_rewrite_attr(int fd, off_t attr_offset, const char *name, const char *value);
int queue_attr_name_ok(const char *name, size_t len);
int queue_notify_ok(unsigned notify);

#endif
