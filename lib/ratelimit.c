/*
 * ratelimit.c - token buckets (see ratelimit.h).
 *
 * Pure arithmetic on the caller's clock: never sleeps, never allocates. A
 * clock that goes backwards (it should not: callers pass monotonic time)
 * adds nothing rather than wrapping into a full bucket.
 */
#include "lib/ratelimit.h"

void ratelimit_init(struct ratelimit *r, uint32_t burst, uint32_t interval_ms, int64_t now)
{
	r->burst = burst;
	r->interval_ms = interval_ms > 0 ? interval_ms : 1;
	r->tokens = burst;
	r->refilled_at = now;
	r->dropped = 0;
}

/* ratelimit_refill - whole tokens earned since refilled_at, up to burst. */
static void ratelimit_refill(struct ratelimit *r, int64_t now)
{
	int64_t earned;

	if (now <= r->refilled_at)
		return;
	earned = (now - r->refilled_at) / r->interval_ms;
	if (earned == 0)
		return;
	if (earned >= (int64_t)(r->burst - r->tokens)) {
		r->tokens = r->burst;
		r->refilled_at = now;
	} else {
		r->tokens += (uint32_t)earned;
		r->refilled_at += earned * r->interval_ms;
	}
}

int ratelimit_take(struct ratelimit *r, int64_t now)
{
	ratelimit_refill(r, now);
	if (r->tokens == 0) {
		r->dropped++;
		return 0;
	}
	r->tokens--;
	return 1;
}

uint64_t ratelimit_dropped(struct ratelimit *r)
{
	uint64_t n = r->dropped;

	r->dropped = 0;
	return n;
}
