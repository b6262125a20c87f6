/*
 * ratelog.h - log lines through a token bucket (lib/ratelimit.h), saying
 * later how many were dropped: what lets the broker write about a stage
 * without letting that stage fill the log.
 */
#ifndef MOAT_LIB_RATELOG_H
#define MOAT_LIB_RATELOG_H

#include <stdarg.h>

#include "lib/msg.h"
#include "lib/ratelimit.h"

/* ratelog_dropped - if r refused lines since last asked, a warning
 * "<who>[ pid <pid>]: N lines about it not logged (rate limit)" (pid 0: none). */
void ratelog_dropped(struct ratelimit *r, const char *who, long pid);

/* ratelog_v - one line at level through r at time now (monotonic ms), after
 * the dropped count; nothing if r refuses it. */
void ratelog_v(struct ratelimit *r, int64_t now, const char *who, long pid, enum msg_level level,
	       const char *fmt, va_list ap);

#endif
