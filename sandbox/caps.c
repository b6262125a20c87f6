/*
 * caps.c - capabilities and securebits of a stage, with libcap.
 *
 * Called by sandbox_enter (sandbox.c) only, in two halves around the uid
 * change: sandbox_caps_lock while still root (bounding set, ambient set,
 * securebits: these need CAP_SETPCAP), sandbox_caps_clear after setresuid
 * (with SECBIT_NO_SETUID_FIXUP the kernel leaves the sets alone on setresuid,
 * so this is the step that empties them). Each half verifies what it did by
 * reading the state back; it must never return with a capability left.
 * sandbox_caps_broker (called by sandbox_broker_enter) keeps in the broker
 * only the capabilities policy.c lists, and verifies that too;
 * sandbox_broker_dac lets it try file access as it will have it then.
 */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <linux/securebits.h>

#include "lib/msg.h"
#include "sandbox/internal.h"

/* Every securebit that keeps a uid change from ever giving capabilities back. */
#define SANDBOX_SECBITS (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | \
	SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED | \
	SECBIT_KEEP_CAPS_LOCKED | \
	SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

/* sandbox_caps_drop_bound - empty the bounding set: no execve can regain a capability. */
static void sandbox_caps_drop_bound(void)
{
	cap_value_t max = cap_max_bits();
	cap_value_t c;

	for (c = 0; c < max; c++) {
		if (cap_drop_bound(c) < 0)
			msg_fatal("sandbox: drop bounding capability %d: %m", (int)c);
		if (cap_get_bound(c) != 0)
			msg_fatal("sandbox: bounding capability %d still set", (int)c);
	}
}

/* sandbox_caps_clear_ambient - no capability may survive an execve via the ambient set. */
static void sandbox_caps_clear_ambient(void)
{
	cap_value_t max = cap_max_bits();
	cap_value_t c;

	if (cap_reset_ambient() < 0)
		msg_fatal("sandbox: clear ambient capabilities: %m");
	for (c = 0; c < max; c++)
		if (cap_get_ambient(c) > 0)
			msg_fatal("sandbox: ambient capability %d still set", (int)c);
}

/* sandbox_caps_lock - the privileged half: bounding, ambient, locked securebits. */
void sandbox_caps_lock(void)
{
	int bits;

	sandbox_caps_drop_bound();
	sandbox_caps_clear_ambient();
	if (cap_set_secbits(SANDBOX_SECBITS) < 0)
		msg_fatal("sandbox: set securebits: %m");
	bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (bits < 0)
		msg_fatal("sandbox: read securebits: %m");
	if ((bits & SANDBOX_SECBITS) != SANDBOX_SECBITS || (bits & SECBIT_KEEP_CAPS))
		msg_fatal("sandbox: securebits are 0x%x, wanted 0x%x", (unsigned)bits,
			  (unsigned)SANDBOX_SECBITS);
}

/* sandbox_caps_is_clear - 1 if no capability is in caps' effective, permitted or inheritable set. */
static int sandbox_caps_is_clear(cap_t caps)
{
	static const cap_flag_t flags[] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
	cap_value_t max = cap_max_bits();
	cap_flag_value_t v;
	cap_value_t c;
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		for (c = 0; c < max; c++) {
			if (cap_get_flag(caps, c, flags[i], &v) < 0 || v != CAP_CLEAR)
				return 0;
		}
	}
	return 1;
}

/* sandbox_caps_clear - the unprivileged half: empty every set and prove it. */
void sandbox_caps_clear(void)
{
	cap_t none;
	cap_t now;
	int ok;

	none = cap_init();
	if (none == NULL)
		msg_fatal("sandbox: cap_init: %m");
	if (cap_set_proc(none) < 0)
		msg_fatal("sandbox: clear capabilities: %m");
	cap_free(none);
	now = cap_get_proc();
	if (now == NULL)
		msg_fatal("sandbox: read capabilities: %m");
	ok = sandbox_caps_is_clear(now);
	cap_free(now);
	if (!ok)
		msg_fatal("sandbox: capabilities still held after clearing");
	sandbox_caps_clear_ambient();
}

/* sandbox_caps_kept - 1 if keep lists c (with effective set, if eff). */
static int sandbox_caps_kept(const struct sandbox_broker_cap *keep, cap_value_t c, int eff)
{
	for (; keep->cap >= 0; keep++)
		if (keep->cap == c && (!eff || keep->effective))
			return 1;
	return 0;
}

/* sandbox_caps_check_broker - the sets are exactly what keep says. */
static void sandbox_caps_check_broker(const struct sandbox_broker_cap *keep)
{
	cap_value_t max = cap_max_bits();
	cap_flag_value_t e, p, i;
	cap_t now = cap_get_proc();

	if (now == NULL)
		msg_fatal("sandbox: broker: read capabilities: %m");
	for (cap_value_t c = 0; c < max; c++) {
		if (cap_get_flag(now, c, CAP_EFFECTIVE, &e) < 0 || cap_get_flag(now, c, CAP_PERMITTED, &p) < 0
		    || cap_get_flag(now, c, CAP_INHERITABLE, &i) < 0)
			msg_fatal("sandbox: broker: read capability %d: %m", (int)c);
		if ((e == CAP_SET) != sandbox_caps_kept(keep, c, 1) || (p == CAP_SET) != sandbox_caps_kept(keep, c, 0)
		    || i == CAP_SET || cap_get_bound(c) != sandbox_caps_kept(keep, c, 0))
			msg_fatal("sandbox: broker: capability %d is not as policy.c says", (int)c);
	}
	cap_free(now);
}

/*
 * sandbox_caps_broker - keep only what keep lists: in the bounding and
 * permitted sets (a stage is exec'd as root under no_new_privs, so it gets
 * no more than these), and in the effective set only those the broker uses
 * itself. Nothing inheritable or ambient.
 */
void sandbox_caps_broker(const struct sandbox_broker_cap *keep)
{
	cap_value_t max = cap_max_bits();
	cap_t caps = cap_init();

	if (caps == NULL)
		msg_fatal("sandbox: broker: cap_init: %m");
	for (cap_value_t c = 0; c < max; c++)
		if (!sandbox_caps_kept(keep, c, 0) && cap_drop_bound(c) < 0)
			msg_fatal("sandbox: broker: drop bounding capability %d: %m", (int)c);
	for (const struct sandbox_broker_cap *k = keep; k->cap >= 0; k++) {
		cap_value_t v = k->cap;

		if (cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET) < 0
		    || (k->effective && cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0))
			msg_fatal("sandbox: broker: capability %d: %m", (int)v);
	}
	if (cap_set_proc(caps) < 0)
		msg_fatal("sandbox: broker: set capabilities: %m");
	cap_free(caps);
	sandbox_caps_clear_ambient();
	sandbox_caps_check_broker(keep);
}

void sandbox_broker_dac(int on)
{
	static const cap_value_t dac[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };
	cap_t caps = cap_get_proc();

	if (caps == NULL || cap_set_flag(caps, CAP_EFFECTIVE, 2, dac, on ? CAP_SET : CAP_CLEAR) < 0
	    || cap_set_proc(caps) < 0)
		msg_fatal("capabilities: %m");
	cap_free(caps);
}
