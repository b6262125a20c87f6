/*
 * stage_launch.h - the parent's side of stage.h's contract: the argv a
 * stage program parses, its fds put in place, the exec; and a one-shot
 * check run of a stage program (STAGE_START_CHECK) whose error lines are
 * collected.
 *
 * Used by moatd (spawn.c starts every stage with it; the table check runs
 * the lookup program through stage_check_run), so that the argv a stage
 * parses (skeleton/stage.c) and the argv it is given are written in the
 * same directory, and the broker keeps only what needs it.
 */
#ifndef MOAT_SKELETON_STAGE_LAUNCH_H
#define MOAT_SKELETON_STAGE_LAUNCH_H

#include "lib/buf.h"

/*
 * stage_launch_argv - argv of a stage program: -c -s -n [-v] [-o
 * name=value]... [-a arg]...; path gets <daemon_dir>/moat-<stage>. Free it
 * with stage_launch_free_argv.
 */
char **stage_launch_argv(const char *daemon_dir, const char *confdir, const char *service,
			 const char *stage, char **overrides, int nextra, char **args,
			 struct buf *path);
void stage_launch_free_argv(char **argv);

/* stage_launch_exec - in a forked child: fds[i] becomes fd i, signals
 * unblocked, a session of its own, an empty environment; never returns. */
void stage_launch_exec(const char *path, char **argv, const int *fds, int nfds)
	__attribute__((noreturn));

/* What a check run of a stage program gets (the fields of stage_launch_argv). */
struct stage_check {
	const char *daemon_dir, *confdir, *service, *stage;
	char **overrides;
	const int *extra;	/* fds after STAGE_FD_EXTRA, lent (the caller closes them) */
	int nextra;
	char **args;
	int devnull;		/* fds 0, 1 and 2 */
};

/*
 * stage_check_run - run the program once with STAGE_START_CHECK, with its
 * own broker and log channels, and wait for its exit (killed after
 * STAGE_CHECK_WAIT_MS). 0 if it exits 0; else -1, and err gets the lines it
 * logged at error level or worse and any seccomp kill. Nothing else it
 * sends is acted on.
 */
int stage_check_run(const struct stage_check *c, struct buf *err);

#define STAGE_CHECK_WAIT_MS	120000

#endif
