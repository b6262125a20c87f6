/*
 * seccomp.c - turns the tables of policy.c into seccomp-bpf filters with
 * libseccomp and loads them.
 *
 * Called by sandbox_enter (the last step of a stage's confinement) and by
 * sandbox_broker_enter. A stage filter is an allowlist: the common base,
 * the argument-filtered rules its features select, and its own syscall list.
 * Everything else hits the default action: SCMP_ACT_TRAP when the stage has
 * a report channel (report.c reports, then the process is killed), else
 * SCMP_ACT_KILL_PROCESS. A syscall of another arch (i386 int 0x80, x32) is
 * killed outright. The broker filter is an allowlist whose default is EPERM
 * (see policy.c for why not a kill).
 *
 * This file must never add a rule that is not in policy.c: an auditor reads
 * that file, not this one.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"
#include "sandbox/internal.h"

/* sandbox_seccomp_action - the libseccomp action of a policy action. */
static uint32_t sandbox_seccomp_action(enum sandbox_act act)
{
	switch (act) {
	case SANDBOX_ACT_ALLOW:
		return SCMP_ACT_ALLOW;
	case SANDBOX_ACT_KILL:
		return SCMP_ACT_KILL_PROCESS;
	case SANDBOX_ACT_EACCES:
		return SCMP_ACT_ERRNO(EACCES);
	case SANDBOX_ACT_ENOTTY:
		return SCMP_ACT_ERRNO(ENOTTY);
	case SANDBOX_ACT_EPERM:
		return SCMP_ACT_ERRNO(EPERM);
	case SANDBOX_ACT_ENOSYS:
		return SCMP_ACT_ERRNO(ENOSYS);
	}
	msg_panic("sandbox: unknown policy action %d", (int)act);
}

/* sandbox_seccomp_nr - the number of a syscall named in policy.c. */
static int sandbox_seccomp_nr(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		msg_panic("sandbox: policy names unknown syscall \"%s\"", name);
	return nr;
}

/* sandbox_seccomp_add - one rule; a rule equal to the default is implied. */
static void sandbox_seccomp_add(scmp_filter_ctx ctx, uint32_t def, uint32_t action,
				const char *name, unsigned argc, const struct scmp_arg_cmp *arg)
{
	int rc;

	if (action == def)
		return;
	rc = seccomp_rule_add_array(ctx, action, sandbox_seccomp_nr(name), argc, arg);
	if (rc == -EEXIST && argc == 0)
		return;		/* the broker's union names a syscall twice */
	if (rc < 0)
		msg_fatal("sandbox: seccomp rule for %s: %s", name, strerror(-rc));
}

/* sandbox_seccomp_add_names - the same action for every syscall in a NULL-ended list. */
static void sandbox_seccomp_add_names(scmp_filter_ctx ctx, uint32_t def, uint32_t action,
				      const char *const *names)
{
	for (; names != NULL && *names != NULL; names++)
		sandbox_seccomp_add(ctx, def, action, *names, 0, NULL);
}

/* sandbox_seccomp_add_rules - the rules of a table that apply to `features`. */
static void sandbox_seccomp_add_rules(scmp_filter_ctx ctx, uint32_t def,
				      const struct sandbox_rule *r, unsigned features)
{
	struct scmp_arg_cmp arg[3];
	unsigned argc;

	for (; r->syscall != NULL; r++) {
		if ((features & r->feature) != r->feature || (features & r->unless) != 0)
			continue;
		argc = r->argc;
		if (argc > 2)
			msg_panic("sandbox: rule for %s has %u comparisons", r->syscall, argc);
		memcpy(arg, r->arg, argc * sizeof(arg[0]));
		if (r->self_pid_arg0) {
			arg[argc].arg = 0;
			arg[argc].op = SCMP_CMP_EQ;
			arg[argc].datum_a = (scmp_datum_t)getpid();
			arg[argc].datum_b = 0;
			argc++;
		}
		sandbox_seccomp_add(ctx, def, sandbox_seccomp_action(r->act), r->syscall, argc, arg);
	}
}

/* sandbox_seccomp_new - an empty filter with default action def. */
static scmp_filter_ctx sandbox_seccomp_new(uint32_t def)
{
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(def);
	if (ctx == NULL)
		msg_fatal("sandbox: seccomp_init failed");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		msg_fatal("sandbox: seccomp bad-arch action: %s", strerror(-rc));
	return ctx;
}

/* sandbox_seccomp_load - load the filter into the kernel and free it. */
static void sandbox_seccomp_load(scmp_filter_ctx ctx, const char *who)
{
	int rc = seccomp_load(ctx);

	if (rc < 0)
		msg_fatal("sandbox: %s: load seccomp filter: %s", who, strerror(-rc));
	seccomp_release(ctx);
}

/* sandbox_seccomp_apply - build and load the stage filter of policy p. */
void sandbox_seccomp_apply(const struct sandbox_policy *p, const struct sandbox_params *sp)
{
	scmp_filter_ctx ctx;
	uint32_t def;

	def = sp->report_fd >= 0 ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS;
	ctx = sandbox_seccomp_new(def);
	sandbox_seccomp_add_names(ctx, def, SCMP_ACT_ALLOW, sandbox_base_syscalls);
	sandbox_seccomp_add_rules(ctx, def, sandbox_base_rules, p->features);
	sandbox_seccomp_add_names(ctx, def, SCMP_ACT_ALLOW, p->syscalls);
	if (sp->report_fd >= 0)
		sandbox_report_setup(sp);	/* before load: rt_sigaction(SIGSYS) is killed after */
	sandbox_seccomp_load(ctx, p->stage);
}

/*
 * sandbox_seccomp_broker - build and load the broker's allowlist: its own
 * syscalls, every syscall any stage filter names (by name: a stage's own
 * filter checks its arguments), and the argument rules of policy.c.
 */
void sandbox_seccomp_broker(void)
{
	uint32_t def = SCMP_ACT_ERRNO(EPERM);
	const struct sandbox_policy *p;
	scmp_filter_ctx ctx;

	ctx = sandbox_seccomp_new(def);
	sandbox_seccomp_add_names(ctx, def, SCMP_ACT_ALLOW, sandbox_broker_syscalls);
	sandbox_seccomp_add_names(ctx, def, SCMP_ACT_ALLOW, sandbox_base_syscalls);
	for (size_t i = 0; (p = sandbox_policy_at(i)) != NULL; i++)
		sandbox_seccomp_add_names(ctx, def, SCMP_ACT_ALLOW, p->syscalls);
	for (const struct sandbox_rule *r = sandbox_base_rules; r->syscall != NULL; r++)
		sandbox_seccomp_add(ctx, def, SCMP_ACT_ALLOW, r->syscall, 0, NULL);
	sandbox_seccomp_add_rules(ctx, def, sandbox_broker_rules, 0);
	sandbox_seccomp_load(ctx, "broker");
}
