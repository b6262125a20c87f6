/*
 * qmgr_deliver.c - qmgr's channels to the smtp services: jobs out, results in.
 *
 * Each smtp process serves one channel, one job at a time, so the channels
 * qmgr holds to a service are its delivery concurrency for that service. A
 * free channel is reused, preferably the one that last went to the same
 * destination (its smtp process may still hold that SMTP connection open);
 * otherwise qmgr asks the broker for a new one (stage_request_peer, a
 * synchronous round trip). A refusal means "no process free": the core
 * learns the cap, or marks the transport dead when we hold none. Channels
 * idle for QMGR_CHAN_IDLE_MS are closed so the processes can go.
 *
 * Per job: MSG_DELIVER_JOB with a read-only fd of the queue file, then one
 * MSG_DELIVER_RCPT per recipient; back come MSG_DELIVER_STATUS per recipient
 * (written to the queue at once, so a crash loses at most the one mark in
 * flight) and MSG_DELIVER_DONE. A channel that ends before DONE defers the
 * job's unsettled recipients ("delivery agent died", as Postfix does).
 *
 * SECURITY: an smtp process talks to the Internet and may be compromised. It
 * can only report outcomes for the job it was given: a status for another
 * job, an index out of range or twice, or a DONE while recipients are still
 * unsettled is a protocol violation: the channel is cut, the broker told,
 * and the rest of the job deferred. It never learns more than the job's
 * recipients and a read-only fd of that one queue file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "daemons/qmgr/qmgr.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "queue/qfile.h"
#include "skeleton/stage_test.h"

#define QMGR_CHAN_IDLE_MS	30000	/* close a channel unused this long */
#define QMGR_SEND_WAIT_MS	10000	/* a full channel must drain within this */

struct qmgr_chan {
	struct qmgr_chan *next, *prev;
	struct qmgr *q;
	struct ipc_chan ch;
	struct ipc_msg m;
	struct sched_transport *tr;
	char *last_nexthop;
	struct sched_job *job;	/* NULL while idle */
	uint32_t settled;	/* recipients of job with a status */
	struct buf why;		/* the job's last defer reason: a dead site's reason */
	uint32_t uses;		/* jobs done: the process exits at max_use */
	int64_t idle_since;
};

static void qmgr_chan_read(int fd, unsigned events, void *ctx);
static void qmgr_idle_timer(void *ctx);
static int qmgr_chan_usable(struct qmgr_chan *c);
static void qmgr_deliver_sweep_used(struct qmgr *q);

static struct qmgr_msg *qmgr_job_msg(struct sched_job *j)
{
	return (struct qmgr_msg *)j->msg;	/* sched_msg is the first member */
}

/* qmgr_job_finish - settle what is left of j, tell the core, end the message. */
static void qmgr_job_finish(struct qmgr *q, struct sched_job *j, int how, const char *dsn,
			    const char *reason, int log_it)
{
	struct qmgr_msg *m = qmgr_job_msg(j);

	for (uint32_t k = 0; k < j->n; k++)
		if (!j->seen[k]) {
			j->seen[k] = 1;
			qmgr_rcpt_defer(m, j->idx[k], dsn, reason, "none", log_it);
			qmgr_dup_settle(m, j->idx[k], DELIVER_DEFER, dsn, reason, "none");
		}
	sched_job_done(q->sched, j, how, dsn, reason, qmgr_now_ms());
	qmgr_msg_idle(m);
	qmgr_msg_check_done(m);
}

static int qmgr_chan_count(struct qmgr *q, struct sched_transport *tr)
{
	int n = 0;

	for (struct qmgr_chan *c = q->chans; c; c = c->next)
		n += c->tr == tr;
	return n;
}

static void qmgr_chan_close(struct qmgr_chan *c, const char *dsn, const char *why)
{
	struct qmgr *q = c->q;
	struct sched_job *j = c->job;

	if (c->prev)
		c->prev->next = c->next;
	else
		q->chans = c->next;
	if (c->next)
		c->next->prev = c->prev;
	event_del(q->loop, c->ch.fd);
	ipc_chan_close(&c->ch);
	ipc_msg_free(&c->m);
	buf_free(&c->why);
	/*
	 * A process that ended before reporting anything (it reached max_use
	 * or max_idle just as the job went out) delivered nothing: run the job
	 * again at once, but only once, so that a message that kills its
	 * delivery agent cannot loop.
	 */
	if (j && c->settled == 0 && !j->retried) {
		j->retried = 1;
		sched_job_unrun(q->sched, j);
		j = NULL;
	}
	sched_transport_freed(q->sched, c->tr);
	xfree(c->last_nexthop);
	xfree(c);
	/* the caller kicks the scheduler afterwards (the kick may make channels) */
	if (j)
		qmgr_job_finish(q, j, SCHED_DONE_NO_FEEDBACK, dsn, why, 1);
}

static void qmgr_chan_violation(struct qmgr_chan *c, const char *why)
{
	struct qmgr *q = c->q;
	stage_report_violation(q->st, &c->ch, why);
	qmgr_chan_close(c, "4.3.0", "delivery agent protocol error");
	qmgr_deliver_kick(q);
}

/* qmgr_chan_send - send on a non-blocking channel; wait a little if full. */
static int qmgr_chan_send(struct qmgr_chan *c, enum ipc_type type, const void *msg)
{
	for (;;) {
		struct pollfd p = { c->ch.fd, POLLOUT, 0 };

		if (ipc_chan_send(&c->ch, type, msg) == 0)
			return 0;
		if (errno != EAGAIN || poll(&p, 1, QMGR_SEND_WAIT_MS) <= 0)
			return -1;
	}
}

static int qmgr_job_send(struct qmgr *q, struct qmgr_chan *c, struct sched_job *j)
{
	struct qmgr_msg *m = qmgr_job_msg(j);
	struct ipc_deliver_job dj = { 0 };
	int fd, r;

	if (qmgr_msg_fd(m) < 0)
		return -1;
	if ((fd = queue_file_open(AT_FDCWD, QUEUE_ACTIVE, m->id, O_RDONLY)) < 0) {
		msg_warn("%s: open read-only: %m", m->id);
		return -1;
	}
	j->id = ++q->next_job;
	dj.job_id = j->id;
	dj.queue_id = m->id;
	dj.fd = fd;
	dj.transport = c->tr->name;
	dj.nexthop = stage_test_nexthop(j->dest->nexthop);
	dj.sender = m->env.sender;
	dj.arrival_us = (uint64_t)m->arrival_us;
	dj.active_us = (uint64_t)m->active_us;
	dj.content_offset = (uint64_t)m->env.data_offset;
	dj.content_size = m->env.content_length;
	dj.envid = m->envid ? m->envid : "";
	dj.ret = m->ret;
	dj.body_type = m->body_type;
	dj.nrcpt = j->n;
	r = qmgr_chan_send(c, MSG_DELIVER_JOB, &dj);
	(void)close(fd);	/* the peer has its own copy now */
	for (uint32_t k = 0; r == 0 && k < j->n; k++) {
		const struct queue_rcpt *rc = &m->env.rcpts[j->idx[k]];
		struct ipc_deliver_rcpt dr = {
			.job_id = j->id, .index = k, .addr = rc->addr, .orcpt = rc->orcpt,
			.notify = qmgr_notify_dsn(rc->notify),
		};

		r = qmgr_chan_send(c, MSG_DELIVER_RCPT, &dr);
	}
	return r;
}

static struct qmgr_chan *qmgr_chan_idle(struct qmgr *q, struct sched_job *j)
{
	struct qmgr_chan *any = NULL;

	for (struct qmgr_chan *c = q->chans; c; c = c->next) {
		if (!qmgr_chan_usable(c) || c->tr != j->dest->tr)
			continue;
		if (c->last_nexthop && strcmp(c->last_nexthop, j->dest->nexthop) == 0)
			return c;
		if (any == NULL)
			any = c;
	}
	return any;
}

static struct qmgr_chan *qmgr_chan_new(struct qmgr *q, struct sched_transport *tr)
{
	struct qmgr_chan *c;
	pid_t pid = 0;
	int fd = stage_request_peer(q->st, tr->name, &pid);

	if (fd < 0)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->q = q;
	c->tr = tr;
	buf_init(&c->why, 2048);
	ipc_msg_init(&c->m);
	ipc_chan_init(&c->ch, fd, IPC_CHAN_DELIVER, IPC_SIDE_A, tr->name, pid);
	if (iox_set_nonblock(fd, 1) < 0
	    || event_add(q->loop, fd, EVENT_READ, qmgr_chan_read, c) < 0) {
		msg_warn("channel to %s: %m", tr->name);
		ipc_chan_close(&c->ch);
		xfree(c);
		return NULL;
	}
	c->next = q->chans;
	if (q->chans)
		q->chans->prev = c;
	q->chans = c;
	return c;
}

/* qmgr_run_job - put j on a channel, or give it back to the core. */
static void qmgr_run_job(struct qmgr *q, struct sched_job *j)
{
	struct qmgr_chan *c = qmgr_chan_idle(q, j);

	if (c == NULL && (c = qmgr_chan_new(q, j->dest->tr)) == NULL) {
		struct sched_transport *tr = j->dest->tr;

		sched_job_unrun(q->sched, j);
		sched_transport_denied(q->sched, tr, qmgr_chan_count(q, tr), qmgr_now_ms());
		return;
	}
	c->job = j;
	c->settled = 0;
	buf_reset(&c->why);
	j->chan = c;
	xfree(c->last_nexthop);
	c->last_nexthop = xstrdup(j->dest->nexthop);
	if (qmgr_job_send(q, c, j) < 0)
		qmgr_chan_close(c, "4.3.0", "delivery agent unavailable");
}

static void qmgr_wake(void *ctx)
{
	struct qmgr *q = ctx;

	q->wake_timer = 0;
	qmgr_deliver_kick(q);
}

/* qmgr_deliver_kick - hand out every job the core allows now. */
void qmgr_deliver_kick(struct qmgr *q)
{
	struct sched_job *j;
	int64_t when;

	if (q->kicking) {
		q->kick_again = 1;
		return;
	}
	q->kicking = 1;
	do {
		q->kick_again = 0;
		while (!q->st->stopping && (j = sched_next(q->sched, qmgr_now_ms())) != NULL) {
			if (j->defer_now)
				qmgr_job_finish(q, j, SCHED_DONE_NO_FEEDBACK, j->defer_dsn,
						j->defer_reason, 1);
			else
				qmgr_run_job(q, j);
		}
	} while (q->kick_again);
	q->kicking = 0;
	/* one timer, armed for the earliest moment the core will have work again */
	if ((when = sched_wakeup(q->sched)) != 0 && (q->wake_timer == 0 || when < q->wake_at)) {
		int64_t wait = when - qmgr_now_ms();

		if (q->wake_timer)
			event_timer_cancel(q->loop, q->wake_timer);
		q->wake_at = when;
		q->wake_timer = event_timer_add(q->loop, wait > 0 ? wait + 1 : 1, qmgr_wake, q);
	}
}

static void qmgr_chan_status(struct qmgr_chan *c, const struct ipc_deliver_status *s)
{
	struct sched_job *j = c->job;
	struct qmgr_msg *m;
	uint32_t i;

	if (j == NULL || s->job_id != j->id || s->index >= j->n || j->seen[s->index]) {
		qmgr_chan_violation(c, "status for a recipient it was not given");
		return;
	}
	j->seen[s->index] = 1;
	c->settled++;
	m = qmgr_job_msg(j);
	i = j->idx[s->index];
	switch (s->status) {
	case DELIVER_SENT:
		qmgr_rcpt_sent(m, i);
		break;
	case DELIVER_BOUNCE:
		qmgr_rcpt_bounce(m, i, s->dsn, s->reply, s->relay, 0);
		break;
	default:
		qmgr_rcpt_defer(m, i, s->dsn, s->reply, s->relay, 0);
		(void)buf_set_str(&c->why, s->reply);
		break;
	}
	qmgr_dup_settle(m, i, s->status, s->dsn, s->reply, s->relay);
}

static void qmgr_chan_done(struct qmgr_chan *c, const struct ipc_deliver_done *d)
{
	struct sched_job *j = c->job;
	struct qmgr *q = c->q;
	int how;

	if (j == NULL || d->job_id != j->id) {
		qmgr_chan_violation(c, "DONE for a job it was not given");
		return;
	}
	c->job = NULL;
	c->idle_since = qmgr_now_ms();
	c->uses++;
	how = d->site_status == DELIVER_DEFER ? SCHED_DONE_SITE_FAIL : SCHED_DONE_OK;
	/* recipients it did not report: deferred with the site's reason. From
	 * here on c may be gone (ending the message can start other work). */
	if (how == SCHED_DONE_SITE_FAIL) {
		/* Postfix's words for the jobs this dead site will not get */
		const char *why = c->why.len ? buf_str(&c->why) : d->reason;

		buf_reset(&q->reason);
		(void)buf_printf(&q->reason, "delivery temporarily suspended: %s",
				 *why ? why : "destination not reachable");
	} else {
		(void)buf_set_str(&q->reason, *d->reason ? d->reason
				  : "delivery agent gave no status");
	}
	qmgr_job_finish(q, j, how, "4.4.1", buf_str(&q->reason), 1);
	if (q->idle_timer == 0)
		q->idle_timer = event_timer_add(q->loop, QMGR_CHAN_IDLE_MS / 3, qmgr_idle_timer, q);
	qmgr_deliver_sweep_used(q);
	qmgr_deliver_kick(q);
}

/* qmgr_deliver_sweep_used - close idle channels whose process reached max_use:
 * it exits anyway, and holding them would hide room at the broker. */
static void qmgr_deliver_sweep_used(struct qmgr *q)
{
	for (struct qmgr_chan *c = q->chans, *next; c; c = next) {
		next = c->next;
		if (c->job == NULL && !qmgr_chan_usable(c))
			qmgr_chan_close(c, NULL, NULL);
	}
}

/* qmgr_chan_usable - an idle channel whose process will take another job. */
static int qmgr_chan_usable(struct qmgr_chan *c)
{
	return c->job == NULL && (c->q->max_use == 0 || c->uses < c->q->max_use);
}

static void qmgr_chan_read(int fd, unsigned events, void *ctx)
{
	struct qmgr_chan *c = ctx;
	struct qmgr *q = c->q;

	(void)fd;
	(void)events;
	for (;;) {
		int r = ipc_chan_recv(&c->ch, &c->m);

		if (r == IPC_RECV_AGAIN)
			return;
		if (r == IPC_RECV_VIOLATION) {
			qmgr_chan_violation(c, buf_str(&c->ch.why));
			return;
		}
		if (r != IPC_RECV_MSG) {
			if (c->job)
				msg_warn("%s[%ld] ended during a delivery", c->tr->name,
					 (long)c->ch.peer_pid);
			qmgr_chan_close(c, "4.3.0", "delivery agent died");
			qmgr_deliver_kick(q);
			return;
		}
		if (c->m.type == MSG_DELIVER_STATUS) {
			qmgr_chan_status(c, &c->m.u.deliver_status);
		} else {
			qmgr_chan_done(c, &c->m.u.deliver_done);
		}
		/* the handlers may have closed c: then stop reading it */
		for (struct qmgr_chan *x = q->chans; ; x = x->next) {
			if (x == NULL)
				return;
			if (x == c)
				break;
		}
		ipc_msg_reset(&c->m);
	}
}

static void qmgr_idle_timer(void *ctx)
{
	struct qmgr *q = ctx;

	q->idle_timer = 0;
	qmgr_deliver_idle_sweep(q);
}

/* qmgr_deliver_idle_sweep - close long-idle channels; re-arm while any are idle. */
void qmgr_deliver_idle_sweep(struct qmgr *q)
{
	int64_t now = qmgr_now_ms();
	int idle = 0;

	for (struct qmgr_chan *c = q->chans, *next; c; c = next) {
		next = c->next;
		if (c->job)
			continue;
		if (now - c->idle_since >= QMGR_CHAN_IDLE_MS || !qmgr_chan_usable(c))
			qmgr_chan_close(c, NULL, NULL);
		else
			idle = 1;
	}
	if (idle && q->idle_timer == 0)
		q->idle_timer = event_timer_add(q->loop, QMGR_CHAN_IDLE_MS / 3, qmgr_idle_timer, q);
	qmgr_deliver_kick(q);	/* closed channels left room at the broker */
}
