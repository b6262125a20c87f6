/*
 * qmgr.c - the qmgr stage: the queue manager. It moves mail incoming ->
 * active -> deferred, schedules deliveries over the smtp services, retries
 * with backoff, expires old mail and asks bounce for failure notices.
 *
 * Start: queue recovery (active/ back to incoming/, incomplete files
 * removed), then a scan of incoming/ and deferred/. After that new mail
 * arrives as MSG_QMGR_NEW from cleanup and is picked up at once (answered
 * with a spare file name, the token of cleanup's in_flow_delay, while
 * nothing waits for room in the active queue); incoming/
 * and deferred/ are scanned again every queue_run_delay as a safety net,
 * and deferred/ also when the earliest message we deferred is due. An idle
 * qmgr sleeps in epoll with one timer armed. hold/ and corrupt/ are never
 * touched. The other files: qmgr_msg.c (one message), qmgr_deliver.c (smtp
 * channels), qmgr_bounce.c, qmgr_sched.c (the scheduling core).
 *
 * SECURITY: runs as mail_owner, chrooted in the queue directory, in an empty
 * network namespace, no capabilities; Landlock limits writes to the queue
 * directories it manages. It trusts no queue file (strict parser; a bad
 * file goes to corrupt/), no queue ID from a channel (queue_id_ok before any
 * path is made) and no result from an smtp process beyond the job it gave
 * it. It must never deliver anything itself, never open a network
 * connection, and never touch hold/ or corrupt/ files except to move a bad
 * file into corrupt/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemons/qmgr/qmgr.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "queue/qmove.h"
#include "queue/qfile.h"
#include "queue/qrecover.h"
#include "skeleton/stage_peer.h"
#include "stagecf/routes.h"

#define QMGR_PENDING_MAX	(100000 * QUEUE_ID_LEN)	/* queued notices, then scan */

static struct qmgr qmgr;

int64_t qmgr_now_ms(void)
{
	return event_now_ms();
}

static void qmgr_scan_incoming(struct qmgr *q);
static void qmgr_scan_deferred(struct qmgr *q);

/* qmgr_recover - the start-up rule of the queue (queue/qrecover.h). */
static void qmgr_recover(void)
{
	struct queue_recover_stats rs = { 0 };

	if (queue_recover(AT_FDCWD, &rs) < 0)	/* logs its own summary line */
		msg_fatal("queue recovery failed");
}

/* qmgr_room - a message left the active queue: take waiting ones in. */
void qmgr_room(struct qmgr *q)
{
	char id[QUEUE_ID_LEN + 1];

	while (q->pending.len >= QUEUE_ID_LEN && q->nactive < q->active_limit) {
		memcpy(id, q->pending.data, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = 0;
		buf_consume(&q->pending, QUEUE_ID_LEN);
		if (qmgr_msg_activate(q, id, QUEUE_INCOMING, QMGR_FROM_NOTICE) == 1) {
			q->rescan_incoming = 1;	/* too many recipients now: a scan finds it later */
			break;
		}
	}
	if (q->rescan_incoming && q->nactive < q->active_limit) {
		q->rescan_incoming = 0;
		qmgr_scan_incoming(q);
	}
}

/* qmgr_new - a notice: in at once if there is room (a small message may pass
 * one waiting for recipient room), else it waits its turn in pending. */
static void qmgr_new(struct qmgr *q, const char *id)
{
	if (qmgr_msg_activate(q, id, QUEUE_INCOMING, QMGR_FROM_NOTICE) == 0)
		return;
	if (buf_append(&q->pending, id, QUEUE_ID_LEN) < 0)
		q->rescan_incoming = 1;	/* too many: the scan finds them */
}

/*
 * qmgr_peer_hint - answer a notice, with the name of a spare file for the
 * cleanup's next message if the pool has one (queue/qspare.h), else with an
 * empty name. The answer is also cleanup's flow token (in_flow_delay): it
 * goes out only while no notice waits in pending, that is, while qmgr takes
 * mail out of incoming/ as fast as it comes. A hint that cannot be sent is
 * only lost from the pool: the file stays in spare/ for a listing taker.
 */
static void qmgr_peer_hint(struct stage_peer *p)
{
	char id[QUEUE_ID_LEN + 1] = "";
	struct ipc_qmgr_spare h = { .queue_id = id };

	if (qmgr.pending.len > 0 || qmgr.rescan_incoming)
		return;
	(void)queue_spare_pool_pop(&qmgr.spare, id);
	(void)ipc_chan_send(&p->ch, MSG_QMGR_SPARE, &h);
}

/* qmgr_peer_notice - a cleanup process committed a new file to incoming/. */
static int qmgr_peer_notice(struct stage_peer *p, struct ipc_msg *m)
{
	if (!queue_id_ok(m->u.qmgr_new.queue_id)) {
		buf_set_str(&p->ch.why, "MSG_QMGR_NEW with an invalid queue ID");
		return IPC_RECV_VIOLATION;
	}
	qmgr_new(&qmgr, m->u.qmgr_new.queue_id);
	qmgr_peer_hint(p);
	return 0;
}

static const struct stage_peer_ops qmgr_peer_ops = {
	.kind = IPC_CHAN_QMGR, .message = qmgr_peer_notice,
};

static void qmgr_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	(void)stage_peer_accept(st, qmgr.loop, &qmgr_peer_ops, peer_stage, peer_pid, fd, NULL);
}

static int qmgr_scan_incoming_one(const char *id, void *ctx)
{
	struct qmgr *q = ctx;

	if (qmgr_msg_activate(q, id, QUEUE_INCOMING, QMGR_FROM_SCAN) == 1) {
		q->rescan_incoming = 1;
		return 1;
	}
	return 0;
}

static void qmgr_scan_incoming(struct qmgr *q)
{
	if (queue_scan(AT_FDCWD, QUEUE_INCOMING, qmgr_scan_incoming_one, q) < 0)
		msg_warn("scan incoming: %m");
}

struct qmgr_dscan {
	struct qmgr *q;
	int64_t now_s, next_s;
	int full;
};

static int qmgr_scan_deferred_one(const char *id, void *ctx)
{
	struct qmgr_dscan *d = ctx;
	struct buf path = BUF_INIT;
	struct stat sb;
	int r = -1;

	if (queue_path(&path, QUEUE_DEFERRED, id) == 0)
		r = fstatat(AT_FDCWD, buf_str(&path), &sb, AT_SYMLINK_NOFOLLOW);
	buf_free(&path);
	if (r < 0)
		return 0;
	if (sb.st_mtime > d->now_s) {
		if (d->next_s == 0 || sb.st_mtime < d->next_s)
			d->next_s = sb.st_mtime;
		return 0;
	}
	if (qmgr_msg_activate(d->q, id, QUEUE_DEFERRED, QMGR_FROM_SCAN) == 1) {
		d->full = 1;
		return 1;
	}
	return 0;
}

static void qmgr_due(void *ctx)
{
	struct qmgr *q = ctx;

	q->due_timer = 0;
	q->due_at = 0;
	qmgr_scan_deferred(q);
}

/* qmgr_due_at - make sure deferred/ is scanned by when_ms (epoch ms: file
 * times are wall-clock; the timer runs on the monotonic clock). */
void qmgr_due_at(struct qmgr *q, int64_t when_epoch_ms)
{
	struct timespec ts;
	int64_t now = qmgr_now_ms(), when_ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	when_ms = now + (when_epoch_ms - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));

	if (q->due_timer && q->due_at <= when_ms)
		return;
	if (q->due_timer)
		event_timer_cancel(q->loop, q->due_timer);
	q->due_at = when_ms;
	q->due_timer = event_timer_add(q->loop, when_ms > now ? when_ms - now : 0, qmgr_due, q);
}

static void qmgr_scan_deferred(struct qmgr *q)
{
	struct qmgr_dscan d = { q, time(NULL), 0, 0 };

	if (queue_scan(AT_FDCWD, QUEUE_DEFERRED, qmgr_scan_deferred_one, &d) < 0)
		msg_warn("scan deferred: %m");
	if (d.full)	/* no room now: look again soon */
		qmgr_due_at(q, (int64_t)time(NULL) * 1000 + 1000);
	else if (d.next_s)
		qmgr_due_at(q, d.next_s * 1000 + 1);
}

static void qmgr_run_timer(void *ctx)
{
	struct qmgr *q = ctx;

	qmgr_scan_incoming(q);
	qmgr_scan_deferred(q);
	sched_sweep(q->sched, qmgr_now_ms());
	q->run_timer = event_timer_add(q->loop, q->run_delay * 1000, qmgr_run_timer, q);
}

/*
 * qmgr_incoming_timer - a short safety net for incoming/ alone: a file whose
 * notice never came (its cleanup was killed between commit and notice) is
 * complete and safe there, and this sweep takes it within
 * QMGR_INCOMING_SWEEP_MS instead of waiting for queue_run_delay. (Notices
 * from a cleanup that exited normally used to be lost behind ECONNRESET;
 * ipc/chan.c now reads past that.)
 */
#define QMGR_INCOMING_SWEEP_MS 2000

static void qmgr_incoming_timer(void *ctx)
{
	struct qmgr *q = ctx;

	if (q->nactive < q->active_limit)
		qmgr_scan_incoming(q);
	(void)event_timer_add(q->loop, QMGR_INCOMING_SWEEP_MS, qmgr_incoming_timer, q);
}

/*
 * qmgr_transport_param - <transport><suffix> if the table knows that name
 * (Postfix's per-transport parameters, named after the master.cf service),
 * else dflt, the default_ one.
 */
static int64_t qmgr_transport_param(struct qmgr *q, const char *transport, const char *suffix,
				    const char *dflt, int64_t (*get)(const struct conf *, const char *))
{
	struct buf name = BUF_INIT;
	int64_t v;

	v = get(q->st->conf, conf_transport_param(transport, suffix, &name) ? buf_str(&name) : dflt);
	buf_free(&name);
	return v;
}

/* qmgr_transport_init - per-transport limits where main.cf has the names. */
static void qmgr_transport_init(void *ctx, struct sched_transport *tr)
{
	struct qmgr *q = ctx;

	tr->conc_limit = (int)qmgr_transport_param(q, tr->name, CONF_SUFFIX_CONCURRENCY,
						   CONF_NAME("default_destination_concurrency_limit"), conf_int);
	tr->rcpt_limit = (int)qmgr_transport_param(q, tr->name, CONF_SUFFIX_RECIPIENTS,
						   CONF_NAME("default_destination_recipient_limit"), conf_int);
	tr->rate_delay_ms = qmgr_transport_param(q, tr->name, CONF_SUFFIX_RATE_DELAY,
						 CONF_NAME("default_destination_rate_delay"), conf_time) * 1000;
}

static void qmgr_configure(struct qmgr *q, struct stage *st)
{
	const struct conf *c = st->conf;
	struct sched_params sp = { 0 };
	struct buf err = BUF_INIT;

	if (routes_load(&q->res, c, &err) < 0)	/* moatd checked it: main.cf changed since */
		msg_fatal("%s", buf_str(&err));
	buf_free(&err);
	resolve_result_init(&q->rr);
	q->st = st;
	qmgr_route_init(q);
	q->active_limit = (unsigned)conf_int(c, "qmgr_message_active_limit");
	q->clog_warn_ms = conf_time(c, "qmgr_clog_warn_time") * 1000;
	q->rcpt_limit = (size_t)conf_int(c, "qmgr_message_recipient_limit");
	q->rcpt_minimum = (size_t)conf_int(c, "qmgr_message_recipient_minimum");
	q->min_backoff = conf_time(c, "minimal_backoff_time");
	q->max_backoff = conf_time(c, "maximal_backoff_time");
	if (q->max_backoff < q->min_backoff)
		q->max_backoff = q->min_backoff;
	q->max_life = conf_time(c, "maximal_queue_lifetime");
	q->bounce_life = conf_time(c, "bounce_queue_lifetime");
	q->run_delay = conf_time(c, "queue_run_delay");
	q->max_use = (uint32_t)conf_int(c, "max_use");
	sp.init_conc = (int)conf_int(c, "initial_destination_concurrency");
	sp.dead_ms = q->min_backoff * 1000;
	sp.tr_retry_ms = conf_time(c, "transport_retry_time") * 1000;
	sp.cap_ms = 5000;
	sp.transport_init = qmgr_transport_init;
	sp.ctx = q;
	q->sched = sched_new(&sp);
	buf_init(&q->pending, QMGR_PENDING_MAX);
	buf_init(&q->reason, 4096);
	q->bfd = -1;
}

static void qmgr_pre_jail(struct stage *st)
{
	qmgr.st = st;
	qmgr_configure(&qmgr, st);	/* a bad configuration stops us before the jail */
}

static void qmgr_run(struct stage *st)
{
	struct qmgr *q = &qmgr;

	qmgr_recover();
	queue_spare_pool_init(&q->spare, QUEUE_SPARE_MAX);
	if (queue_spare_pool_load(&q->spare, AT_FDCWD) < 0)
		msg_warn("spare: cannot read the directory; delivered files are unlinked");
	q->loop = event_loop_new();	/* after sandbox_enter closed stray fds */
	if (iox_set_nonblock(st->broker.fd, 0) < 0
	    || event_add(q->loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	qmgr_postmaster_check(q);
	qmgr_scan_incoming(q);
	qmgr_scan_deferred(q);
	(void)event_timer_add(q->loop, QMGR_INCOMING_SWEEP_MS, qmgr_incoming_timer, q);
	/* files too young for the first scan: look again soon, then every run_delay */
	q->run_timer = event_timer_add(q->loop, q->run_delay < 3 ? q->run_delay * 1000 : 3000,
				       qmgr_run_timer, q);
	while (!st->stopping)
		if (event_run_once(q->loop, -1) < 0 && errno != EINTR)
			msg_fatal("event loop: %m");
	/* Messages still in active/ go back to incoming/ at the next start. */
}

static const struct stage_ops qmgr_ops = {
	.pre_jail = qmgr_pre_jail,
	.peer_accept = qmgr_peer_accept,
	.run = qmgr_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "qmgr", &qmgr_ops);
}
