/*
 * cleanup.c - the cleanup stage: receives messages from smtpd and bounce, normalises headers, writes the queue file with the durability rule, tells qmgr.
 *
 * Platform stage: it starts through the shared skeleton, confines itself,
 * answers the broker, and serves nothing else yet; the mail path arrives with
 * the next issue.
 *
 * SECURITY: runs as mail_owner, chrooted in the queue directory, in an empty network namespace, no capabilities; it may create files in incoming/ only. It trusts no message content and no envelope field from its clients.
 */
#include "skeleton/stage.h"

static void cleanup_run(struct stage *st)
{
	stage_idle_loop(st);
}

static const struct stage_ops cleanup_ops = {
	.run = cleanup_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "cleanup", &cleanup_ops);
}
