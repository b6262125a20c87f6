/*
 * layout.c - the queue tree (see layout.h).
 *
 * Message queues are 0700 mail_owner: only queue stages (chrooted at the
 * queue directory, running as mail_owner) can see them. "empty" is the chroot
 * of network-facing stages: root-owned and 0555, so a compromised stage
 * finds nothing there and can create nothing. "pid" holds the broker's pid
 * file and control socket, root only.
 */
#include "queue/layout.h"

const struct queue_dir_def queue_dirs[QUEUE_NDIRS] = {
	[QUEUE_INCOMING] = { "incoming", QUEUE_OWNER_MAIL, 0700, "new mail being written or not yet seen by qmgr" },
	[QUEUE_ACTIVE] = { "active", QUEUE_OWNER_MAIL, 0700, "mail qmgr is delivering" },
	[QUEUE_DEFERRED] = { "deferred", QUEUE_OWNER_MAIL, 0700, "mail waiting for a retry" },
	[QUEUE_HOLD] = { "hold", QUEUE_OWNER_MAIL, 0700, "mail held by the administrator or a policy" },
	[QUEUE_CORRUPT] = { "corrupt", QUEUE_OWNER_MAIL, 0700, "queue files that failed to parse" },
	[QUEUE_MAILDROP] = { "maildrop", QUEUE_OWNER_MAIL, 0700, "local submissions waiting for pickup" },
	[QUEUE_BOUNCE] = { "bounce", QUEUE_OWNER_MAIL, 0700, "per-message records of failed recipients" },
	[QUEUE_DEFER] = { "defer", QUEUE_OWNER_MAIL, 0700, "per-message records of deferred recipients" },
	[QUEUE_SPARE] = { "spare", QUEUE_OWNER_MAIL, 0700, "delivered files kept for reuse; never mail (queue/qspare.h)" },
	[QUEUE_EMPTY] = { "empty", QUEUE_OWNER_ROOT, 0555, "chroot of network-facing stages; always empty" },
	[QUEUE_PID] = { "pid", QUEUE_OWNER_ROOT, 0700, "broker pid file and control socket" },
};

const char *queue_dir_name(enum queue_name q)
{
	return queue_dirs[q].name;
}
