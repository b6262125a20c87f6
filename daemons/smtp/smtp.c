/*
 * smtp.c - the smtp stage: the SMTP/LMTP client: delivers one job at a time from a read-only queue file fd that qmgr passes.
 *
 * Platform stage: it starts through the shared skeleton, confines itself,
 * answers the broker, and serves nothing else yet; the mail path arrives with
 * the next issue.
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty, no capabilities; the only network access is connect() to outbound TCP. It opens no file. It trusts nothing a server sends.
 */
#include "skeleton/stage.h"

static void smtp_run(struct stage *st)
{
	stage_idle_loop(st);
}

static const struct stage_ops smtp_ops = {
	.run = smtp_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "smtp", &smtp_ops);
}
