/*
 * layout.h - the directories of the queue tree, their owners and modes.
 *
 * One table (queue/layout.c) used by chroot-setup to create and verify the
 * tree, and by every queue stage to name directories. Paths are relative to
 * queue_directory, which is also the chroot of the queue stages.
 */
#ifndef MOAT_QUEUE_LAYOUT_H
#define MOAT_QUEUE_LAYOUT_H

#include <sys/types.h>

enum queue_owner { QUEUE_OWNER_ROOT, QUEUE_OWNER_MAIL };

struct queue_dir_def {
	const char *name;	/* "incoming", "empty", "pid", ... */
	enum queue_owner owner;
	mode_t mode;
	const char *doc;
};

enum queue_name {
	QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_CORRUPT,
	QUEUE_MAILDROP, QUEUE_BOUNCE, QUEUE_DEFER, QUEUE_SPARE, QUEUE_EMPTY, QUEUE_PID,
	QUEUE_NDIRS
};

extern const struct queue_dir_def queue_dirs[QUEUE_NDIRS];
const char *queue_dir_name(enum queue_name q);

#endif
