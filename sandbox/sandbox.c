/*
 * sandbox.c - the ordered steps of a stage's confinement (sandbox_enter) and
 * the broker's own filter (sandbox_broker_enter).
 *
 * Called once per process: by the stage skeleton, after it has received its
 * fds and done what needs privilege, before it reads a byte of untrusted
 * input; and by the broker after it has set itself up. The order is the
 * point of this file (each step needs the privilege the next one removes):
 *
 *   1 close fds   2 rlimits   3 namespaces   4 chroot   5 bounding/ambient/
 *   securebits (needs CAP_SETPCAP)   6 setgroups/setresgid/setresuid
 *   7 clear capability sets   8 NO_NEW_PRIVS, not dumpable   9 Landlock
 *   (needs NO_NEW_PRIVS)   10 seccomp (refuses everything above)
 *
 * Fail-closed: every step checks its result, most read the state back, and
 * any failure is msg_fatal naming the step. It must never return with a
 * step skipped, except Landlock on a kernel that has none (landlock.c).
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/strnum.h"
#include "sandbox/internal.h"

/* sandbox_check_params - refuse arguments that would make a step a no-op. */
static void sandbox_check_params(const struct sandbox_policy *p, const struct sandbox_params *sp)
{
	if (p == NULL || sp == NULL)
		msg_panic("sandbox_enter: no policy or parameters");
	if (sp->queue_dir == NULL || sp->queue_dir[0] != '/')
		msg_fatal("sandbox: %s: queue directory must be absolute", p->stage);
	if (sp->nfds_keep < 3)
		msg_fatal("sandbox: %s: nfds_keep %d < 3", p->stage, sp->nfds_keep);
	if (sp->report_fd >= sp->nfds_keep)
		msg_fatal("sandbox: %s: report fd %d would be closed", p->stage, sp->report_fd);
	if (sp->report_fd >= 0)
		sandbox_report_check(sp);	/* before any step, not halfway */
	if (sp->uid == 0 || sp->gid == 0 || sp->uid == (uid_t)-1 || sp->gid == (gid_t)-1)
		msg_fatal("sandbox: %s: refusing to run as uid %ld gid %ld", p->stage,
			  (long)sp->uid, (long)sp->gid);
}

/* sandbox_check_fds - where /proc is there, prove no fd >= nfds_keep is open. */
static void sandbox_check_fds(int nfds_keep)
{
	struct dirent *e;
	DIR *d;
	int fd;

	d = opendir("/proc/self/fd");
	if (d == NULL) {
		msg_debug("sandbox: no /proc/self/fd, fds not re-checked");
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (strnum_int(e->d_name, 0, INT32_MAX, &fd) < 0)
			msg_fatal("sandbox: close fds: odd entry /proc/self/fd/%s", e->d_name);
		if (fd >= nfds_keep && fd != dirfd(d))
			msg_fatal("sandbox: close fds: fd %d still open", fd);
	}
	(void)closedir(d);
}

/* sandbox_lower_rlimit - set soft and hard limit to v, never raising the hard limit. */
static void sandbox_lower_rlimit(int res, rlim_t v, const char *name)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		msg_fatal("sandbox: getrlimit %s: %m", name);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
		v = rl.rlim_max;
	rl.rlim_cur = v;
	rl.rlim_max = v;
	if (setrlimit(res, &rl) < 0)
		msg_fatal("sandbox: setrlimit %s: %m", name);
}

/* sandbox_step_rlimits - no core, no fork (NPROC counts the real uid: it bites after setuid). */
static void sandbox_step_rlimits(const struct sandbox_policy *p)
{
	sandbox_lower_rlimit(RLIMIT_CORE, 0, "RLIMIT_CORE");
	sandbox_lower_rlimit(RLIMIT_NPROC, 0, "RLIMIT_NPROC");
	if (!p->writes_files) {
		sandbox_lower_rlimit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE");
		/* A write to a regular file (stderr redirected to one) fails with EFBIG, not a kill. */
		if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
			msg_fatal("sandbox: ignore SIGXFSZ: %m");
	}
	if (p->nofile > 0)
		sandbox_lower_rlimit(RLIMIT_NOFILE, (rlim_t)p->nofile, "RLIMIT_NOFILE");
}

/* sandbox_step_namespaces - private mounts and IPC, and an empty network where asked. */
static void sandbox_step_namespaces(const struct sandbox_policy *p)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | (p->private_net ? CLONE_NEWNET : 0);

	if (unshare(flags) < 0)
		msg_fatal("sandbox: %s: unshare: %m", p->stage);
	/* Nothing mounted here reaches the host, nothing from the host reaches us. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		msg_fatal("sandbox: %s: make mounts private: %m", p->stage);
}

/* sandbox_step_chroot - chroot and chdir("/"), then prove "/" is the directory we meant. */
static void sandbox_step_chroot(const struct sandbox_policy *p, const char *queue_dir)
{
	struct buf path = BUF_INIT;
	struct stat before;
	struct stat after;

	if (buf_set_str(&path, queue_dir) < 0
	    || (p->root == SANDBOX_ROOT_EMPTY && buf_append_str(&path, "/empty") < 0))
		msg_fatal("sandbox: %s: root path too long", p->stage);
	if (stat(buf_str(&path), &before) < 0)
		msg_fatal("sandbox: %s: chroot: stat %s: %m", p->stage, buf_str(&path));
	/* A root the stage user could write to would let it plant files for later. */
	if (!S_ISDIR(before.st_mode) || before.st_uid != 0 || (before.st_mode & 022) != 0)
		msg_fatal("sandbox: %s: chroot: %s must be a root-owned directory "
			  "not writable by group or others", p->stage, buf_str(&path));
	if (chroot(buf_str(&path)) < 0)
		msg_fatal("sandbox: %s: chroot %s: %m", p->stage, buf_str(&path));
	if (chdir("/") < 0)
		msg_fatal("sandbox: %s: chdir /: %m", p->stage);
	if (stat("/", &after) < 0)
		msg_fatal("sandbox: %s: chroot: stat /: %m", p->stage);
	if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
		msg_fatal("sandbox: %s: chroot: / is not %s (replaced?)", p->stage, buf_str(&path));
	buf_free(&path);
}

/* sandbox_step_ids - become the stage user for good, and prove it. */
static void sandbox_step_ids(const struct sandbox_policy *p, uid_t u, gid_t g)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(0, NULL) < 0)
		msg_fatal("sandbox: %s: setgroups: %m", p->stage);
	if (setresgid(g, g, g) < 0)
		msg_fatal("sandbox: %s: setresgid %ld: %m", p->stage, (long)g);
	if (setresuid(u, u, u) < 0)
		msg_fatal("sandbox: %s: setresuid %ld: %m", p->stage, (long)u);
	if (getresuid(&ru, &eu, &su) < 0 || ru != u || eu != u || su != u)
		msg_fatal("sandbox: %s: setresuid: uids did not change", p->stage);
	if (getresgid(&rg, &eg, &sg) < 0 || rg != g || eg != g || sg != g)
		msg_fatal("sandbox: %s: setresgid: gids did not change", p->stage);
	if (getgroups(0, NULL) != 0)
		msg_fatal("sandbox: %s: setgroups: supplementary groups remain", p->stage);
}

/* sandbox_step_prctl - no privilege from any execve, no core, no ptrace by the same uid. */
static void sandbox_step_prctl(const struct sandbox_policy *p)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		msg_fatal("sandbox: %s: PR_SET_NO_NEW_PRIVS: %m", p->stage);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		msg_fatal("sandbox: %s: PR_SET_DUMPABLE: %m", p->stage);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		msg_fatal("sandbox: %s: prctl settings did not hold", p->stage);
}

/* sandbox_enter - confine the calling process; returns only when all held. */
void sandbox_enter(const struct sandbox_policy *p, const struct sandbox_params *sp)
{
	sandbox_check_params(p, sp);
	iox_close_from(sp->nfds_keep);
	sandbox_check_fds(sp->nfds_keep);
	sandbox_step_rlimits(p);
	sandbox_step_namespaces(p);
	sandbox_step_chroot(p, sp->queue_dir);
	sandbox_caps_lock();
	sandbox_step_ids(p, sp->uid, sp->gid);
	sandbox_caps_clear();
	sandbox_step_prctl(p);
	sandbox_landlock_apply(p, sp);
	sandbox_seccomp_apply(p, sp);
	msg_debug("sandbox: %s: confined", p->stage);
}

/* sandbox_broker_enter - only the capabilities policy.c lists, NO_NEW_PRIVS, the broker's filter. */
void sandbox_broker_enter(void)
{
	sandbox_caps_broker(sandbox_broker_caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		msg_fatal("sandbox: broker: PR_SET_NO_NEW_PRIVS: %m");
	sandbox_seccomp_broker();
	msg_debug("sandbox: broker filter loaded");
}
