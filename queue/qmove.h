/*
 * qmove.h - move queue files between queues, remove them, list a queue.
 *
 * queue_move(qdirfd, id, from, to, durable) renames from/ID to to/ID and
 * never replaces an existing to/ID (RENAME_NOREPLACE): two messages can
 * never collapse into one name. With durable set it then fsyncs the
 * destination directory, then the source directory, so that after it
 * returns a crash cannot bring the file back in the old queue. It logs its
 * failures except one: a from/ID that no longer exists is -1 with errno
 * ENOENT and no log line (a notice for mail that a scan or an administrator
 * already moved is normal; the caller says so if it is not).
 *
 * Which moves must be durable (the callers' rule):
 *   into hold/      yes: a lost move would release a message the
 *                   administrator or a policy stopped.
 *   into deferred/  yes: a lost move would bring the message back to active/
 *                   and so to incoming/, and retry it at once, not on its
 *                   schedule (harmless, but a crash loop could hammer a
 *                   destination).
 *   into corrupt/   yes: a lost move would put a bad file back in play.
 *   incoming->active, deferred->active: no. At start-up queue_recover sends
 *                   everything in active/ back to incoming/ anyway, so losing
 *                   the rename lands the file exactly where recovery would
 *                   have put it; a message is never lost by it, and these are
 *                   the moves made once per delivery attempt, where two extra
 *                   fsyncs would cost the most.
 * queue_remove (a message fully delivered) is not durable either: a lost
 * unlink brings back a file whose recipients are all marked done (or, if a
 * mark was lost too, causes a duplicate delivery, never a loss).
 *
 * queue_scan calls fn for each valid queue ID in a queue directory, sorted,
 * that is, in creation order. Names that are not queue IDs are skipped
 * (queue_scan_all reports them to stray_fn). The whole listing is read
 * before the first callback, so fn may move or remove the file it is given.
 */
#ifndef MOAT_QUEUE_QMOVE_H
#define MOAT_QUEUE_QMOVE_H

#include "queue/layout.h"

typedef int (*queue_scan_fn)(const char *id, void *ctx);
typedef void (*queue_stray_fn)(enum queue_name queue, const char *name, void *ctx);

int queue_move(int qdirfd, const char *id, enum queue_name from, enum queue_name to,
	       int durable);
int queue_remove(int qdirfd, enum queue_name queue, const char *id);
int queue_exists(int qdirfd, enum queue_name queue, const char *id);
int queue_scan(int qdirfd, enum queue_name queue, queue_scan_fn fn, void *ctx);
int queue_scan_all(int qdirfd, enum queue_name queue, queue_scan_fn fn,
		   queue_stray_fn stray_fn, void *ctx);

#endif
