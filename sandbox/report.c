/*
 * report.c - how a stage killed by seccomp tells the broker why, and how the
 * broker turns the syscall number into a name.
 *
 * A stage filter's default action is SCMP_ACT_TRAP: a refused syscall raises
 * SIGSYS with the syscall number and arch in siginfo. The handler installed
 * here (before the filter is loaded, by sandbox_enter) patches both into a
 * copy of the pre-encoded MSG_BROKER_SECCOMP packet, send()s it on the broker
 * channel without blocking, and then dies for real by calling
 * rt_sigaction(SIGSYS), which the filter maps to SCMP_ACT_KILL_PROCESS (the
 * same rule that stops a compromised stage from replacing this handler). So
 * the stage is killed by the kernel with SIGSYS, never returns to the code
 * that made the call, and needs no extra syscall reserved as a "kill switch".
 * If SIGSYS is blocked when the trap fires, the kernel kills the process
 * directly: no report, but still dead.
 *
 * The handler must stay async-signal-safe: it touches only static memory
 * prepared at setup and makes raw syscalls. Called by sandbox_enter (setup)
 * and by the broker (sandbox_syscall_name).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/xmem.h"
#include "sandbox/internal.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1	/* si_code of a seccomp trap (asm-generic/siginfo.h) */
#endif

static unsigned char sandbox_report_pkt[SANDBOX_REPORT_MAX];
static size_t sandbox_report_len;
static size_t sandbox_report_nr_off;
static size_t sandbox_report_arch_off;
static int sandbox_report_fd = -1;

/* sandbox_report_put32 - little-endian u32, as the IPC wire format has it. */
static void sandbox_report_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* sandbox_report_die - be killed by the filter (see the file comment). */
static void sandbox_report_die(void)
{
	static const unsigned long dfl[4];	/* SIG_DFL, no flags/restorer/mask */

	(void)syscall(SYS_rt_sigaction, SIGSYS, dfl, NULL, (size_t)(_NSIG / 8));
	/* Reached only without a filter (a SIGSYS sent by kill()): die anyway. */
	(void)syscall(SYS_exit_group, 128 + SIGSYS);
}

/* sandbox_report_sigsys - the SIGSYS handler: report, then die. */
static void sandbox_report_sigsys(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)sig;
	(void)uc;
	if (si != NULL && si->si_code == SYS_SECCOMP && sandbox_report_fd >= 0) {
		sandbox_report_put32(sandbox_report_pkt + sandbox_report_nr_off,
				     (uint32_t)si->si_syscall);
		sandbox_report_put32(sandbox_report_pkt + sandbox_report_arch_off,
				     (uint32_t)si->si_arch);
		(void)syscall(SYS_sendto, sandbox_report_fd, sandbox_report_pkt,
			      sandbox_report_len, MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0);
	}
	sandbox_report_die();
	errno = saved;
}

/* sandbox_report_check - the packet template and its offsets fit. */
void sandbox_report_check(const struct sandbox_params *sp)
{
	if (sp->report_pkt == NULL || sp->report_len < 4 || sp->report_len > SANDBOX_REPORT_MAX)
		msg_fatal("sandbox: bad seccomp report template (length %zu)", sp->report_len);
	if (sp->report_nr_off > sp->report_len - 4 || sp->report_arch_off > sp->report_len - 4)
		msg_fatal("sandbox: seccomp report offsets %zu/%zu outside a %zu-byte packet",
			  sp->report_nr_off, sp->report_arch_off, sp->report_len);
}

/* sandbox_report_setup - copy the template and install the SIGSYS handler. */
void sandbox_report_setup(const struct sandbox_params *sp)
{
	struct sigaction sa;
	sigset_t set;

	sandbox_report_check(sp);
	memcpy(sandbox_report_pkt, sp->report_pkt, sp->report_len);
	sandbox_report_len = sp->report_len;
	sandbox_report_nr_off = sp->report_nr_off;
	sandbox_report_arch_off = sp->report_arch_off;
	sandbox_report_fd = sp->report_fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_report_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		msg_fatal("sandbox: install SIGSYS handler: %m");
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		msg_fatal("sandbox: unblock SIGSYS: %m");
}

/* One resolved name; the list is bounded by the syscalls libseccomp knows. */
struct sandbox_name {
	unsigned nr;
	unsigned arch;
	char *name;
	struct sandbox_name *next;
};

static struct sandbox_name *sandbox_names;

/* sandbox_syscall_name - "execve" for (59, x86_64); cached; see sandbox.h. */
const char *sandbox_syscall_name(unsigned nr, unsigned arch)
{
	static char unknown[32];
	struct sandbox_name *n;
	char *s;

	for (n = sandbox_names; n != NULL; n = n->next)
		if (n->nr == nr && n->arch == arch)
			return n->name;
	s = nr <= INT_MAX ? seccomp_syscall_resolve_num_arch(arch, (int)nr) : NULL;
	if (s == NULL) {
		(void)snprintf(unknown, sizeof(unknown), "unknown(%u)", nr);
		return unknown;
	}
	n = xmalloc(sizeof(*n));
	n->nr = nr;
	n->arch = arch;
	n->name = xstrdup(s);
	free(s);	/* libseccomp 2.5 returns a malloc'd copy */
	n->next = sandbox_names;
	sandbox_names = n;
	return n->name;
}
