/*
 * fdplace.c - fds into place for an execve (see fdplace.h).
 *
 * Called only in a freshly forked child; must not allocate (async-signal-
 * safe calls only: close_range, fcntl, dup2).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/fdplace.h"
#include "lib/iox.h"

/* fdplace_close_others - close every fd that is no source. */
static void fdplace_close_others(const int *src, int n)
{
	unsigned lo = 0;

	for (;;) {
		unsigned next = ~0U;

		for (int i = 0; i < n; i++)
			if ((unsigned)src[i] >= lo && (unsigned)src[i] < next)
				next = (unsigned)src[i];
		if (next > lo)
			(void)close_range(lo, next == ~0U ? ~0U : next - 1, 0);
		if (next == ~0U)
			return;
		lo = next + 1;
	}
}

int fdplace(const int *src, int n)
{
	int high[FDPLACE_MAX];

	if (n < 0 || n > FDPLACE_MAX) {
		errno = EINVAL;
		return -1;
	}
	fdplace_close_others(src, n);
	/* copies at n or above first: placing one can then clobber no other */
	for (int i = 0; i < n; i++)
		if ((high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, n)) < 0)
			return -1;
	for (int i = 0; i < n; i++)
		if (dup2(high[i], i) < 0)
			return -1;
	iox_close_from(n);
	return 0;
}
