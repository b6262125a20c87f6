/*
 * qmgr_sched.h - the scheduling core of qmgr, free of I/O so that it can be
 * unit-tested without processes (tests/unit/test_qmgr_sched.c includes the .c).
 *
 * Model. A destination is (transport service, next hop). Activating a message
 * adds its recipients to their destinations' queues, in jobs of at most the
 * transport's recipient limit (one job = one message, one destination).
 * sched_next hands out the next job to run, round robin over destinations
 * that have work, within:
 *   - the destination's concurrency window: starts at
 *     initial_destination_concurrency, +1 per job that completes without a
 *     site failure, up to the transport's concurrency limit;
 *   - the transport's channel capacity: unknown (unlimited) until the broker
 *     denies a channel while we hold N; then N until a channel closes or a
 *     few seconds pass (the broker may have room again).
 * Rate delay (<transport>_destination_rate_delay, Postfix's rule): when set,
 * a destination has one job at a time, and the next one starts only that
 * long after the previous one ended.
 * Dead destinations (Postfix's dead-host throttling): a job that ends with a
 * site failure (cannot connect, DNS failure, 4xx greeting) marks its
 * destination dead for minimal_backoff_time: every queued or newly queued job
 * for it comes out of sched_next with defer_now set and the site's reason, so
 * that the caller defers its recipients without trying. A job to that
 * destination still in flight that succeeds revives it at once. A transport
 * that has no process at all (the broker denies the first channel) is dead
 * for transport_retry_time in the same way ("mail transport unavailable").
 */
#ifndef MOAT_QMGR_SCHED_H
#define MOAT_QMGR_SCHED_H

#include <stdint.h>

/* Embedded in the caller's message; the core keeps the counters. */
struct sched_msg {
	unsigned todo;		/* recipients queued or in flight this attempt */
	unsigned inflight;	/* jobs handed out by sched_next, not yet done */
};

struct sched_transport {
	struct sched_transport *next;
	char *name;
	int conc_limit;		/* per destination */
	int rcpt_limit;		/* per job */
	int64_t rate_delay_ms;	/* pause between jobs to one destination; 0 = none */
	int busy;		/* jobs in flight on channels */
	int cap;		/* channels we may hold; INT32_MAX = unknown */
	int64_t cap_until;	/* when to forget cap and ask the broker again */
	int64_t dead_until;	/* no process at all: defer everything until then */
	struct sched_dest *wait_head, *wait_tail;	/* dests waiting for a channel */
};

struct sched_dest {
	struct sched_dest *hnext;	/* hash chain */
	struct sched_dest *lnext;	/* ring or transport wait list */
	int listed;			/* SCHED_L_* */
	char *nexthop;
	struct sched_transport *tr;
	struct sched_job *head, *tail;	/* queued jobs */
	unsigned nqueued;
	int active;		/* jobs handed out, not yet done */
	int window;		/* concurrency now */
	int64_t next_start;	/* rate delay: no job starts before this */
	int64_t dead_until;
	char *dead_dsn, *dead_reason;
	int64_t clog_warned;	/* for the caller: when it last said this one clogs the queue */
};

struct sched_job {
	struct sched_job *next;
	struct sched_msg *msg;
	struct sched_dest *dest;
	uint32_t n, cap;
	uint32_t *idx;		/* recipient indexes in the message */
	int defer_now;		/* do not run: defer every recipient */
	const char *defer_dsn, *defer_reason;	/* valid until sched_job_done */
	/* for the caller: */
	uint32_t id;
	void *chan;
	unsigned char *seen;	/* per index: a status arrived */
	int retried;		/* already re-run once after its agent vanished */
};

struct sched_params {
	int init_conc;
	int64_t dead_ms;	/* minimal_backoff_time */
	int64_t tr_retry_ms;	/* transport_retry_time */
	int64_t cap_ms;		/* how long a learned channel cap holds */
	/* fills in conc_limit, rcpt_limit and rate_delay_ms of a new transport */
	void (*transport_init)(void *ctx, struct sched_transport *tr);
	void *ctx;
};

struct sched;

struct sched *sched_new(const struct sched_params *p);
void sched_free(struct sched *s);

/* sched_add_rcpt - queue recipient idx of m for service/nexthop; its destination. */
struct sched_dest *sched_add_rcpt(struct sched *s, struct sched_msg *m, const char *service,
				  const char *nexthop, uint32_t idx);
/* sched_next - the next job to run or to defer, or NULL. */
struct sched_job *sched_next(struct sched *s, int64_t now);
/* sched_wakeup - when sched_next may have something again without any event
 * (a learned channel cap expires, a rate delay ends); 0 if never. */
int64_t sched_wakeup(const struct sched *s);
/* sched_job_unrun - no channel after all: back to the head of its queue. */
void sched_job_unrun(struct sched *s, struct sched_job *j);
/* sched_transport_denied - the broker gave no channel while we hold nheld:
 * none held: the transport is dead; else its cap is the jobs in flight now. */
void sched_transport_denied(struct sched *s, struct sched_transport *tr, int nheld,
			    int64_t now);
/* sched_transport_freed - one of its channels closed: the broker has room. */
void sched_transport_freed(struct sched *s, struct sched_transport *tr);

#define SCHED_DONE_OK		0	/* the job ran; feedback: grow the window */
#define SCHED_DONE_SITE_FAIL	1	/* the destination failed: it is dead */
#define SCHED_DONE_NO_FEEDBACK	2	/* agent died, or a defer_now job */
/* sched_job_done - the caller has settled every recipient of j; frees j. */
void sched_job_done(struct sched *s, struct sched_job *j, int how, const char *dsn,
		    const char *reason, int64_t now);

/* sched_sweep - free idle destinations whose dead time has passed. */
void sched_sweep(struct sched *s, int64_t now);
unsigned sched_ndests(const struct sched *s);
struct sched_dest *sched_dest_find(const struct sched *s, const char *service,
				   const char *nexthop);

/* sched_backoff - seconds until the next attempt of a message age_s old. */
int64_t sched_backoff(int64_t age_s, int64_t min_s, int64_t max_s);

#endif
