/*
 * caps.c - capabilities and securebits of a stage, with libcap.
 *
 * Called by sandbox_enter (sandbox.c) only, in two halves around the uid
 * change: sandbox_caps_lock while still root (bounding set, ambient set,
 * securebits: these need CAP_SETPCAP), sandbox_caps_clear after setresuid
 * (with SECBIT_NO_SETUID_FIXUP the kernel leaves the sets alone on setresuid,
 * so this is the step that empties them). Each half verifies what it did by
 * reading the state back; it must never return with a capability left.
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
