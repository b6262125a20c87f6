/*
 * bounce.c - the bounce stage: builds RFC 3464 delivery status notifications and submits them through cleanup.
 *
 * Platform stage: it starts through the shared skeleton, confines itself,
 * answers the broker, and serves nothing else yet; the mail path arrives with
 * the next issue.
 *
 * SECURITY: runs as mail_owner, chrooted in the queue directory, in an empty network namespace, no capabilities; reads queue files, writes nothing but its bounce/defer logs.
 */
#include "skeleton/stage.h"

static void bounce_run(struct stage *st)
{
	stage_idle_loop(st);
}

static const struct stage_ops bounce_ops = {
	.run = bounce_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "bounce", &bounce_ops);
}
