/*
 * landlock.c - Landlock rules of a stage, when the kernel has Landlock.
 *
 * Called by sandbox_enter after NO_NEW_PRIVS (Landlock requires it for an
 * unprivileged process) and before seccomp (whose filter refuses the
 * landlock_* syscalls). A stage with an empty root gets a ruleset that
 * handles every filesystem right and grants none: no file can be opened,
 * created, removed or executed at all. A queue stage gets read-only or
 * read-write rights beneath the queue directories its policy lists
 * (policy.c), opened as O_PATH beneath the new root. Where the kernel offers
 * them (ABI 4+), TCP bind is refused to every stage, TCP connect to every
 * stage that does not connect out, and a stage that does (smtp, dns) may
 * connect only to the ports it listed in sandbox_params (its configured
 * transports, its resolvers); signals and abstract unix sockets are scoped
 * to the stage itself.
 *
 * A kernel without Landlock (ENOSYS, or EOPNOTSUPP when disabled at boot) is
 * not an error: the chroot and the seccomp filter still hold, and a debug
 * line says so. Any other failure is fatal. This file must never widen a
 * right beyond what the policy lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/msg.h"
#include "sandbox/internal.h"

/* Rights newer than Debian 12's headers (linux/landlock.h of 6.1). */
#define SANDBOX_LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define SANDBOX_LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define SANDBOX_LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define SANDBOX_LL_NET_CONNECT_TCP	(1ULL << 1)	/* ABI 4 */
#define SANDBOX_LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define SANDBOX_LL_SCOPE_SIGNAL		(1ULL << 1)	/* ABI 6 */

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION	(1U << 0)
#endif

#define SANDBOX_LL_RULE_NET_PORT	2	/* ABI 4 */

/* Our own copy of struct landlock_net_port_attr (ABI 4). */
struct sandbox_ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));

/* Our own copy of struct landlock_ruleset_attr, in its ABI 6 size. */
struct sandbox_ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define SANDBOX_LL_RO (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define SANDBOX_LL_RW (SANDBOX_LL_RO | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_REFER | SANDBOX_LL_FS_TRUNCATE)

/* sandbox_ll_abi - the kernel's Landlock ABI version, 0 if it has none. */
static int sandbox_ll_abi(void)
{
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi >= 1)
		return (int)abi;
	if (errno == ENOSYS || errno == EOPNOTSUPP)
		return 0;
	msg_fatal("sandbox: landlock version: %m");
}

/* sandbox_ll_fs_rights - every filesystem right this ABI knows. */
static uint64_t sandbox_ll_fs_rights(int abi)
{
	if (abi >= 5)
		return (SANDBOX_LL_FS_IOCTL_DEV << 1) - 1;
	if (abi >= 3)
		return (SANDBOX_LL_FS_TRUNCATE << 1) - 1;
	if (abi >= 2)
		return (LANDLOCK_ACCESS_FS_REFER << 1) - 1;
	return (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
}

/* sandbox_ll_attr_fill - what this stage's ruleset handles; returns the size to pass. */
static size_t sandbox_ll_attr_fill(struct sandbox_ll_attr *a, int abi, int connect_any)
{
	memset(a, 0, sizeof(*a));
	a->handled_access_fs = sandbox_ll_fs_rights(abi);
	if (abi < 4)
		return sizeof(a->handled_access_fs);
	/* Handled with no rule means refused: connect only to the ports listed. */
	a->handled_access_net = SANDBOX_LL_NET_BIND_TCP | SANDBOX_LL_NET_CONNECT_TCP;
	if (connect_any)
		a->handled_access_net = SANDBOX_LL_NET_BIND_TCP;
	if (abi < 6)
		return offsetof(struct sandbox_ll_attr, scoped);
	a->scoped = SANDBOX_LL_SCOPE_ABSTRACT_UNIX | SANDBOX_LL_SCOPE_SIGNAL;
	return sizeof(*a);
}

/* sandbox_ll_add_dir - grant rights beneath one queue directory of the new root. */
static void sandbox_ll_add_dir(int ruleset, const struct sandbox_dir *d, uint64_t handled)
{
	struct landlock_path_beneath_attr pb;
	int fd;

	fd = open(d->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		msg_fatal("sandbox: landlock: open queue directory /%s: %m", d->path);
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = (d->writable ? SANDBOX_LL_RW : SANDBOX_LL_RO) & handled;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		msg_fatal("sandbox: landlock: rule for /%s: %m", d->path);
	(void)close(fd);
}

/* sandbox_ll_add_port - allow TCP connect to one port. */
static void sandbox_ll_add_port(int ruleset, uint16_t port)
{
	struct sandbox_ll_net_port np = { SANDBOX_LL_NET_CONNECT_TCP, port };

	if (syscall(SYS_landlock_add_rule, ruleset, SANDBOX_LL_RULE_NET_PORT, &np, 0) < 0)
		msg_fatal("sandbox: landlock: rule for TCP port %u: %m", port);
}

/* sandbox_landlock_apply - restrict the calling process per policy p. */
void sandbox_landlock_apply(const struct sandbox_policy *p, const struct sandbox_params *sp)
{
	struct sandbox_ll_attr attr;
	const struct sandbox_dir *d;
	size_t size;
	int abi;
	int ruleset;

	abi = sandbox_ll_abi();
	if (abi == 0) {
		msg_debug("sandbox: %s: kernel has no Landlock; chroot and seccomp only", p->stage);
		return;
	}
	if (abi < 2 && p->dirs != NULL) {
		/* ABI 1 refuses every rename across directories: qmgr could not work. */
		msg_debug("sandbox: %s: Landlock ABI 1 cannot rename across queue "
			  "directories; chroot and seccomp only", p->stage);
		return;
	}
	size = sandbox_ll_attr_fill(&attr, abi, sp->connect_any_port
				    && (p->features & SANDBOX_F_INET_CONNECT));
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		msg_fatal("sandbox: landlock: create ruleset: %m");
	for (d = p->dirs; d != NULL && d->path != NULL; d++)
		sandbox_ll_add_dir(ruleset, d, attr.handled_access_fs);
	if (abi >= 4 && (p->features & SANDBOX_F_INET_CONNECT) && !sp->connect_any_port)
		for (size_t i = 0; i < sp->nconnect_ports; i++)
			sandbox_ll_add_port(ruleset, sp->connect_ports[i]);
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		msg_fatal("sandbox: landlock: restrict self: %m");
	(void)close(ruleset);
	msg_debug("sandbox: %s: Landlock ABI %d applied", p->stage, abi);
}
