/*
 * sandbox.h - confinement of a stage: one call, one declarative policy.
 *
 * sandbox_enter applies, in this order and fail-closed (any failure is
 * msg_fatal): close every fd >= nfds_keep; rlimits; new mount + IPC (+ empty
 * network) namespaces; chroot and chdir("/"); drop the capability bounding
 * set, clear ambient, lock securebits (while still privileged); setgroups(0),
 * setresgid, setresuid to the stage user; clear every capability set;
 * PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0; Landlock where the kernel has
 * it; last a libseccomp allowlist whose default kills the process. Every
 * policy is in sandbox/policy.c so an auditor reads one file.
 */
#ifndef MOAT_SANDBOX_SANDBOX_H
#define MOAT_SANDBOX_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sandbox_root {
	SANDBOX_ROOT_EMPTY,	/* <queue>/empty: root-owned, 0555, nothing in it */
	SANDBOX_ROOT_QUEUE,	/* <queue>: the queue stages */
};

enum sandbox_user {
	SANDBOX_USER_QUEUE,	/* mail_owner: owns the queue */
	SANDBOX_USER_NETWORK,	/* network_user: owns no file at all */
	SANDBOX_USER_HELPER,	/* helper_user: owns no file at all */
	SANDBOX_USER_KEY,	/* tlskey_user: owns no file; alone with the TLS keys */
};

/*
 * A queue subdirectory a ROOT_QUEUE stage may use (Landlock). Read-only: read
 * files and list the directory. Read-write: also create regular files, write,
 * truncate, remove, and rename into or out of it. A list ends with path NULL.
 */
struct sandbox_dir {
	const char *path;	/* beneath the new root, no slash: "incoming" */
	int writable;
};

/* What a stage may do; one entry per stage in sandbox/policy.c. */
struct sandbox_policy {
	const char *stage;
	enum sandbox_root root;
	enum sandbox_user user;
	int private_net;	/* 1: new, empty network namespace */
	int writes_files;	/* 0: RLIMIT_FSIZE 0 */
	int nofile;		/* RLIMIT_NOFILE */
	const char *const *syscalls;	/* allowlist on top of the common base */
	unsigned features;	/* SANDBOX_F_* argument-filtered groups */
	const char *why;	/* one paragraph: why this stage needs what it has */
	const struct sandbox_dir *dirs;	/* Landlock: queue dirs it may use, or NULL */
};

#define SANDBOX_F_INET_CONNECT	0x01	/* socket(AF_INET/AF_INET6, SOCK_STREAM|SOCK_DGRAM) + connect */
#define SANDBOX_F_ACCEPT	0x02	/* accept4 on the passed listener (screen) */
#define SANDBOX_F_QUEUE_FILES	0x04	/* openat/rename/unlink/fsync under the queue root */
#define SANDBOX_F_TABLES	0x08	/* Berkeley DB's CPU count: sched_getaffinity of itself */

const struct sandbox_policy *sandbox_policy_lookup(const char *stage);

/* sandbox_policy_at - the i-th policy of the table, NULL past the end (audit, docs). */
const struct sandbox_policy *sandbox_policy_at(size_t i);

/* Resolved by the caller before confinement (getpwnam needs /etc/passwd). */
struct sandbox_params {
	const char *queue_dir;	/* absolute */
	uid_t uid;
	gid_t gid;
	int nfds_keep;		/* fds 0..nfds_keep-1 survive */
	int report_fd;		/* broker channel: seccomp kills are reported here */
	const void *report_pkt;	/* pre-encoded MSG_BROKER_SECCOMP packet */
	size_t report_len;
	size_t report_nr_off;	/* offset of the u32 syscall number in report_pkt */
	size_t report_arch_off;	/* offset of the u32 arch in report_pkt */
	/* SANDBOX_F_INET_CONNECT stages: the only TCP ports connect() may reach
	 * where Landlock has network rules (ABI 4+); none listed, none allowed. */
	const uint16_t *connect_ports;
	size_t nconnect_ports;
	/* ...unless the ports cannot be known at start (next hops from tables):
	 * then Landlock leaves TCP connect alone and the stage's own check is
	 * the only one (daemons/smtp/smtp_guard.c). */
	int connect_any_port;
};

/* sandbox_enter - confine the calling process; returns only when all held. */
void sandbox_enter(const struct sandbox_policy *p, const struct sandbox_params *sp);

/*
 * sandbox_syscall_name - name of a syscall number for the broker's log. A
 * known name is cached for the life of the process; "unknown(NR)" for a
 * number libseccomp does not know lives in a static buffer that the next call
 * for an unknown number overwrites.
 */
const char *sandbox_syscall_name(unsigned nr, unsigned arch);

/* sandbox_broker_enter - the broker's own, wider seccomp filter. */
void sandbox_broker_enter(void);
/* sandbox_broker_dac - CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH on or off in
 * the effective set. Off, the broker opens files as it will after
 * sandbox_broker_enter, which keeps neither (the start-up table check). */
void sandbox_broker_dac(int on);

#endif
