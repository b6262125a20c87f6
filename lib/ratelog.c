/*
 * ratelog.c - rate-limited log lines (see ratelog.h). The text is the
 * caller's; nothing here formats what a peer sent beyond the caller's fmt.
 */
#include "lib/ratelog.h"

void ratelog_dropped(struct ratelimit *r, const char *who, long pid)
{
	uint64_t dropped = ratelimit_dropped(r);

	if (dropped > 0)
		msg_warn("%s%s%ld: %llu lines about it not logged (rate limit)", who,
			 pid ? " pid " : "", pid, (unsigned long long)dropped);
}

void ratelog_v(struct ratelimit *r, int64_t now, const char *who, long pid, enum msg_level level,
	       const char *fmt, va_list ap)
{
	if (!ratelimit_take(r, now))
		return;
	ratelog_dropped(r, who, pid);
	msg_vlog(level, fmt, ap);
}
