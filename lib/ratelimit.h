/*
 * ratelimit.h - a token bucket: at most `burst` events at once, then one per
 * `interval_ms`. Time is passed in (monotonic ms), so the bucket is pure
 * arithmetic and tests need no clock.
 *
 * Used by the broker to bound what one stage can make it do or write: log
 * lines on a stage's behalf, believed violation reports, peer requests.
 */
#ifndef MOAT_LIB_RATELIMIT_H
#define MOAT_LIB_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	uint32_t burst;
	uint32_t interval_ms;
	uint32_t tokens;
	int64_t refilled_at;	/* time the last whole token was added */
	uint64_t dropped;	/* events refused since ratelimit_dropped last read it */
};

void ratelimit_init(struct ratelimit *r, uint32_t burst, uint32_t interval_ms, int64_t now);
/* ratelimit_take - 1 and one token used, or 0 (counted in dropped). */
int ratelimit_take(struct ratelimit *r, int64_t now);
/* ratelimit_dropped - events refused since the last call; resets the count. */
uint64_t ratelimit_dropped(struct ratelimit *r);

#endif
