/*
 * smtpd.c - the smtpd stage: the SMTP server: one session per process at a time, on the listening socket the broker passed (fds 5..).
 *
 * Platform stage: it starts through the shared skeleton, confines itself,
 * answers the broker, and serves nothing else yet; the mail path arrives with
 * the next issue.
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty, in an empty network namespace (it accepts on the broker's socket, which works from any namespace), no capabilities, seccomp allowlist without open() or socket(). It trusts nothing a client sends.
 */
#include "skeleton/stage.h"

static void smtpd_run(struct stage *st)
{
	stage_idle_loop(st);
}

static const struct stage_ops smtpd_ops = {
	.run = smtpd_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "smtpd", &smtpd_ops);
}
