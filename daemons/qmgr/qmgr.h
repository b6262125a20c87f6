/*
 * qmgr.h - the queue manager's shared state (one process, one event loop).
 *
 *   qmgr.c          stage entry, configuration, event loop, cleanup channels,
 *                   queue scans and timers
 *   qmgr_msg.c      one message: activation, recipient outcomes, the end of
 *                   an attempt (remove, defer with backoff, expire, bounce)
 *   qmgr_deliver.c  channels to the smtp services: jobs out, results in
 *   qmgr_dup.c      one delivery per address per message (shadow records)
 *   qmgr_bounce.c   the channel to the bounce stage
 *   qmgr_sched.c    the scheduling core (no I/O)
 */
#ifndef MOAT_QMGR_QMGR_H
#define MOAT_QMGR_QMGR_H

#include <stdint.h>

#include "daemons/qmgr/qmgr_sched.h"
#include "ipc/ipc.h"
#include "lib/event.h"
#include "mail/resolve.h"
#include "queue/layout.h"
#include "queue/qenv.h"
#include "queue/qid.h"
#include "queue/qspare.h"
#include "skeleton/stage.h"
#include "skeleton/stage_lookup.h"
#include "stagecf/route_lookup.h"

/* Per-recipient state of this attempt. */
#define QR_TODO		0	/* scheduled, no outcome yet (or already done in the file) */
#define QR_SENT		1
#define QR_BOUNCED	2
#define QR_DEFERRED	3

#define QMGR_NO_DUP	UINT32_MAX

struct qmgr_rcpt {
	unsigned char state;
	unsigned char shadow;	/* shares the delivery of record first (qmgr_dup.c) */
	uint32_t first;		/* a shadow: that record; else the head of its address group */
	uint32_t dup_next;	/* next record with the same address, or QMGR_NO_DUP */
	struct sched_dest *dest;	/* where it was scheduled; valid during activation only */
	char *dsn, *reason;	/* last defer, kept for expiry */
};

struct qmgr_msg {
	struct sched_msg sm;	/* first: the core's counters */
	struct qmgr *q;
	char id[QUEUE_ID_LEN + 1];
	struct queue_env env;
	int fd;			/* read-write, for done marks; -1 while idle */
	int64_t arrival_us, active_us;
	struct qmgr_rcpt *r;	/* env.nrcpts */
	unsigned ndefer;	/* recipients deferred this attempt */
	int bounce_log;		/* bounce/<id> holds entries not yet sent */
	int defer_log;		/* defer/<id> was written this attempt */
	int is_bounce;		/* a DSN (bounce attribute or null sender) */
	int64_t warn_at;	/* epoch second a delay warning is due; 0: none (or sent) */
	off_t warn_off;		/* its attribute record, for the rewrite once sent */
	const char *envid;
	uint32_t ret, body_type;
};

struct qmgr_breq;
struct qmgr_chan;

struct qmgr {
	struct stage *st;
	struct event_loop *loop;
	struct sched *sched;
	struct resolve res;
	struct resolve_result rr;
	struct route_lookup route;	/* routing tables, on the lookup stage */
	/* configuration */
	unsigned active_limit;
	size_t rcpt_limit;	/* qmgr_message_recipient_limit: recipients in memory */
	size_t rcpt_minimum;	/* qmgr_message_recipient_minimum: always admitted */
	int64_t clog_warn_ms;	/* qmgr_clog_warn_time; 0 = no clog warnings */
	int64_t min_backoff, max_backoff, max_life, bounce_life, run_delay;
	uint32_t max_use;	/* an smtp process exits after this many jobs */
	/* the active queue */
	unsigned nactive;
	size_t nrcpt;		/* recipients of the active messages (all in memory) */
	struct buf pending;	/* queue IDs from MSG_QMGR_NEW waiting for room */
	struct queue_spare_pool spare;	/* delivered files kept for reuse */
	int rescan_incoming;	/* some notices were dropped: scan incoming/ */
	/* timers */
	uint64_t run_timer, due_timer, wake_timer, idle_timer;
	int64_t due_at;		/* when the earliest deferred message is due (ms) */
	int64_t wake_at;	/* when wake_timer fires (ms) */
	/* delivery */
	struct qmgr_chan *chans;
	uint32_t next_job;
	int kicking, kick_again;
	struct buf reason;	/* scratch for a job's closing reason */
	/* bounce */
	int bfd;
	struct ipc_chan bch;
	struct ipc_msg bm;
	struct qmgr_breq *breqs;
	uint32_t next_breq;
};

/* qmgr.c */
int64_t qmgr_now_ms(void);
void qmgr_room(struct qmgr *q);
void qmgr_due_at(struct qmgr *q, int64_t when_epoch_ms);

/* qmgr_msg.c */
#define QMGR_FROM_NOTICE	0	/* MSG_QMGR_NEW: committed, move at once */
#define QMGR_FROM_SCAN		1	/* found by a scan: a writer may still hold it */
int qmgr_msg_activate(struct qmgr *q, const char *id, enum queue_name from, int how);
int qmgr_msg_fd(struct qmgr_msg *m);
void qmgr_msg_idle(struct qmgr_msg *m);
void qmgr_rcpt_sent(struct qmgr_msg *m, uint32_t i);
void qmgr_rcpt_bounce(struct qmgr_msg *m, uint32_t i, const char *dsn, const char *reason,
		      const char *relay, int log_it);
void qmgr_rcpt_defer(struct qmgr_msg *m, uint32_t i, const char *dsn, const char *reason,
		     const char *relay, int log_it);
void qmgr_msg_check_done(struct qmgr_msg *m);
void qmgr_msg_bounced(struct qmgr_msg *m, int ok);
void qmgr_msg_warned(struct qmgr_msg *m, int ok);
uint32_t qmgr_notify_dsn(unsigned queue_notify);
/* qmgr_log_rcpt - the per-recipient log line for an outcome qmgr settles itself. */
void qmgr_log_rcpt(struct qmgr_msg *m, uint32_t i, const char *status, const char *dsn,
		   const char *reason, const char *relay);

/* qmgr_dup.c */
/* qmgr_dup_group - chain the records that are not done by address (at activation). */
void qmgr_dup_group(struct qmgr_msg *m);
/* qmgr_dup_shadow - 1 if an earlier record with i's address is scheduled
 * to service/nexthop: i then shares its delivery and is not scheduled. */
int qmgr_dup_shadow(struct qmgr_msg *m, uint32_t i, const char *service, const char *nexthop);
/* qmgr_dup_settle - give i's shadows the outcome i just had (DELIVER_*). */
void qmgr_dup_settle(struct qmgr_msg *m, uint32_t i, uint32_t status, const char *dsn,
		     const char *reason, const char *relay);

/* qmgr_deliver.c */
void qmgr_deliver_kick(struct qmgr *q);
void qmgr_deliver_idle_sweep(struct qmgr *q);

/* qmgr_postmaster.c: warn once if postmaster@ or abuse@ of our domains would be refused. */
void qmgr_postmaster_check(struct qmgr *q);

/* qmgr_route.c */
void qmgr_route_init(struct qmgr *q);
void qmgr_route_rcpt(struct qmgr *q, const char *sender, const char *rcpt);
void qmgr_route_done(struct qmgr *q);

/* qmgr_bounce.c */
int qmgr_bounce_request(struct qmgr *q, struct qmgr_msg *m, uint32_t kind);

#endif
