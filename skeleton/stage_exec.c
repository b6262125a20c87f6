/*
 * stage_exec.c - argv and exec of a stage program (stage_launch.h): what
 * skeleton/stage.c parses, written next to it.
 *
 * Child layout (stage.h): 0, 1 and 2 /dev/null (a stage never writes on the
 * broker's terminal or log file); 3 its broker channel; 4 its log channel;
 * 5.. stage-specific. Nothing else survives the exec: every other fd is
 * closed, and the environment is empty (the test build passes
 * MOAT_TEST_ATTACK through, and nothing else). The child runs in its own
 * session so terminal signals reach only moatd.
 *
 * SECURITY: runs in moatd (root) and in the child it forked, before exec;
 * nothing here reads anything a stage sends.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdplace.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage_launch.h"

char **stage_launch_argv(const char *daemon_dir, const char *confdir, const char *service,
			 const char *stage, char **overrides, int nextra, char **args,
			 struct buf *path)
{
	size_t n = 0, cap = 12;
	char **argv;
	char nbuf[16];

	for (char **o = overrides; o && *o; o++)
		cap += 2;
	for (char **a = args; a && *a; a++)
		cap += 2;
	argv = xcalloc(cap, sizeof(char *));
	(void)buf_printf(path, "%s/moat-%s", daemon_dir, stage);
	snprintf(nbuf, sizeof(nbuf), "%d", nextra);
	argv[n++] = xstrdup(strrchr(buf_str(path), '/') + 1);
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(confdir);
	argv[n++] = xstrdup("-s");
	argv[n++] = xstrdup(service);
	argv[n++] = xstrdup("-n");
	argv[n++] = xstrdup(nbuf);
	if (msg_verbose)
		argv[n++] = xstrdup("-v");
	for (char **o = overrides; o && *o; o++) {
		argv[n++] = xstrdup("-o");
		argv[n++] = xstrdup(*o);
	}
	for (char **a = args; a && *a; a++) {
		argv[n++] = xstrdup("-a");
		argv[n++] = xstrdup(*a);
	}
	return argv;
}

void stage_launch_free_argv(char **argv)
{
	for (char **a = argv; *a; a++)
		xfree(*a);
	xfree(argv);
}

void stage_launch_exec(const char *path, char **argv, const int *fds, int nfds)
{
	char *envp[2] = { NULL, NULL };
	sigset_t none;

#ifdef MOAT_TEST_HOOKS
	static char attack[512];
	const char *a = getenv("MOAT_TEST_ATTACK");

	if (a && strlen(a) < sizeof(attack) - 20) {
		snprintf(attack, sizeof(attack), "MOAT_TEST_ATTACK=%s", a);
		envp[0] = attack;
	}
#endif
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setsid();
	if (fdplace(fds, nfds) < 0)	/* room is made first: works near the fd limit */
		_exit(126);
	execve(path, argv, envp);
	dprintf(2, "moatd: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}
