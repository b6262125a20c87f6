/*
 * sandbox/internal.h - what the files of sandbox/ share with each other and
 * nobody else: the shape of a seccomp rule in the policy table, and the
 * steps that sandbox.c calls in order. Nothing outside sandbox/ includes it.
 */
#ifndef MOAT_SANDBOX_INTERNAL_H
#define MOAT_SANDBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#include "sandbox/sandbox.h"

/* What the filter does with a syscall that matches a rule. */
enum sandbox_act {
	SANDBOX_ACT_ALLOW,
	SANDBOX_ACT_KILL,	/* SCMP_ACT_KILL_PROCESS, never reported */
	SANDBOX_ACT_EACCES,	/* fail softly: a probe of libc, not an attack */
	SANDBOX_ACT_ENOTTY,
	SANDBOX_ACT_EPERM,
	SANDBOX_ACT_ENOSYS,	/* "not here": glibc then falls back to an older call */
};

/*
 * One argument-filtered seccomp rule. It applies to a stage whose features
 * include every bit of `feature` (0: every stage) and none of `unless`. The
 * comparisons are ANDed; self_pid_arg0 adds "arg0 == our pid" at build time.
 */
struct sandbox_rule {
	unsigned feature;
	unsigned unless;
	const char *syscall;
	enum sandbox_act act;
	unsigned argc;
	struct scmp_arg_cmp arg[2];
	int self_pid_arg0;
	const char *why;
};

/* A capability the broker keeps after start-up; effective: for its own use. */
struct sandbox_broker_cap {
	int cap;		/* CAP_*, -1 ends the table */
	int effective;		/* 0: permitted and bounding only, for the stages it execs */
	const char *why;
};

/* policy.c: the tables. */
extern const char *const sandbox_base_syscalls[];
extern const struct sandbox_rule sandbox_base_rules[];
extern const char *const sandbox_broker_syscalls[];
extern const struct sandbox_rule sandbox_broker_rules[];
extern const struct sandbox_broker_cap sandbox_broker_caps[];

/* caps.c */
void sandbox_caps_lock(void);
void sandbox_caps_clear(void);
void sandbox_caps_broker(const struct sandbox_broker_cap *keep);

/* landlock.c */
void sandbox_landlock_apply(const struct sandbox_policy *p, const struct sandbox_params *sp);

/* report.c */
#define SANDBOX_REPORT_MAX 64
void sandbox_report_check(const struct sandbox_params *sp);
void sandbox_report_setup(const struct sandbox_params *sp);

/* seccomp.c */
void sandbox_seccomp_apply(const struct sandbox_policy *p, const struct sandbox_params *sp);
void sandbox_seccomp_broker(void);

#endif
