/*
 * qmgr.c - the qmgr stage: the queue manager: moves mail incoming -> active -> deferred/hold, schedules deliveries, retries with backoff, expires, asks bounce for DSNs.
 *
 * Platform stage: it starts through the shared skeleton, confines itself,
 * answers the broker, and serves nothing else yet; the mail path arrives with
 * the next issue.
 *
 * SECURITY: runs as mail_owner, chrooted in the queue directory, in an empty network namespace, no capabilities. It trusts no queue file content: a file that fails to parse goes to corrupt/.
 */
#include <fcntl.h>

#include "lib/msg.h"
#include "queue/qrecover.h"
#include "skeleton/stage.h"

/*
 * qmgr_recover - the start-up rule of the queue: incomplete files in
 * incoming/ go, files left in active/ by a previous qmgr go back to
 * incoming/, files that do not parse go to corrupt/.
 */
static void qmgr_recover(void)
{
	struct queue_recover_stats rs = { 0 };

	if (queue_recover(AT_FDCWD, &rs) < 0)	/* logs its own summary line */
		msg_fatal("queue recovery failed");
}

static void qmgr_run(struct stage *st)
{
	qmgr_recover();
	stage_idle_loop(st);
}

static const struct stage_ops qmgr_ops = {
	.run = qmgr_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "qmgr", &qmgr_ops);
}
