/*
 * statuslog.h - per-message logs of recipients that failed or were delayed.
 *
 * qmgr appends one entry per recipient outcome to <queue>/bounce/<id>
 * (failed for good) or <queue>/defer/<id> (delayed); bounce reads them to
 * build the DSN; mailq shows the latest defer reason. Entries are typed
 * records (queue/record.h) of type 'L' holding NUL-separated key=value
 * fields, so no field a remote server chose can break the framing.
 */
#ifndef MOAT_MAIL_STATUSLOG_H
#define MOAT_MAIL_STATUSLOG_H

#include <stdint.h>

#include "lib/buf.h"
#include "queue/layout.h"

struct statuslog_entry {
	const char *rcpt;	/* envelope recipient */
	const char *orcpt;	/* original recipient (ORCPT, else as received); may be "" */
	uint32_t notify;	/* DSN_NOTIFY_* bits, 0 = not given */
	const char *dsn;	/* "5.1.1" */
	const char *action;	/* "failed", "delayed", "expired" */
	const char *reason;	/* the remote reply or a local reason, one line */
	const char *relay;	/* "mx.example.com[192.0.2.1]:25" or "none" */
	int64_t when;		/* epoch seconds */
};

/*
 * statuslog_append - add one entry to <queue>/<dir>/<id> (dir is QUEUE_BOUNCE
 * or QUEUE_DEFER), creating it 0600. The entry is on disk (fdatasync) when
 * this returns 0: a recipient is marked done only after its bounce entry is
 * safe, so a crash can never lose a failure notice.
 */
int statuslog_append(int qdirfd, enum queue_name dir, const char *id,
		     const struct statuslog_entry *e);

typedef int (*statuslog_fn)(const struct statuslog_entry *e, void *ctx);

/* statuslog_read - call fn for each entry in order; a missing file is 0
 * entries; -1 and a reason in *why on I/O error or a damaged log. */
int statuslog_read(int qdirfd, enum queue_name dir, const char *id, statuslog_fn fn,
		   void *ctx, struct buf *why);
int statuslog_remove(int qdirfd, enum queue_name dir, const char *id);

#endif
