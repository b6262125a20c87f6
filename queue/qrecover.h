/*
 * qrecover.h - bring the queue back to a consistent state when qmgr starts.
 *
 * queue_recover(qdirfd, &stats), in this order:
 *   1. active/: every message goes back to incoming/ (qmgr's in-memory
 *      state died with it; incoming/ is where it is picked up again). A file
 *      there that is not marked complete goes to corrupt/.
 *   2. incoming/: a file a live writer still holds (flock) is left alone;
 *      a file not marked complete (mode 0700) is removed (its writer died
 *      before commit returned, so no 250 was sent for it); a file marked
 *      complete that fails to parse, a truncated one included, goes to
 *      corrupt/ with a warning (its 250 may have been sent).
 *   3. deferred/ and hold/: a file that is not complete and valid goes to
 *      corrupt/.
 *   4. bounce/ and defer/: a log whose message exists in no queue is removed.
 *   5. the directories that changed are fsynced (destinations first), once.
 * Names that are not queue IDs are left alone and logged. Every file is
 * parsed with QUEUE_ENV_VERIFY (content chunk headers too).
 *
 * Returns 0, or -1 if a queue directory could not be read (the counts are
 * still filled in for what was done).
 */
#ifndef MOAT_QUEUE_QRECOVER_H
#define MOAT_QUEUE_QRECOVER_H

struct queue_recover_stats {
	unsigned requeued;	/* active/ -> incoming/ */
	unsigned incomplete;	/* incomplete files removed from incoming/ */
	unsigned corrupt;	/* files moved to corrupt/ */
	unsigned busy;		/* incoming/ files a live writer still holds */
	unsigned ok;		/* valid files left in incoming/, deferred/, hold/ */
	unsigned stray;		/* names that are not queue IDs, left alone */
	unsigned logs;		/* orphan bounce/ and defer/ logs removed */
	unsigned errors;	/* files that could not be checked or moved */
};

int queue_recover(int qdirfd, struct queue_recover_stats *st);
int queue_reap_incoming(int qdirfd, const char *id);

#endif
