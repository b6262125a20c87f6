/*
 * qmgr_msg.c - one message in the active queue: activation, recipient
 * outcomes, and the end of a delivery attempt.
 *
 * Activation: one rename into active/ (not durable: see queue/qmove.h), one
 * queue_env_read, every recipient not yet done resolved and handed to the
 * scheduling core. Outcomes are written as they arrive: a done mark in
 * place for a delivered recipient, a bounce/ entry and then the done mark
 * for a failed one, a defer/ entry for a delayed one. At the end of the
 * attempt the message is removed, or returned through the bounce stage, or
 * moved to deferred/ with its next retry time in the file's mtime (as
 * Postfix does), or expired.
 *
 * SECURITY: every queue file is untrusted input: it is parsed by the strict
 * envelope reader, and a file that fails goes to corrupt/ with a warning,
 * never a crash. Queue IDs reach paths only after queue_id_ok (the callers
 * check notices and scans give only valid IDs). Runs chrooted at the queue
 * directory, paths relative to "/".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemons/qmgr/qmgr.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/strnum.h"
#include "lib/xmem.h"
#include "mail/statuslog.h"
#include "queue/qfile.h"
#include "queue/qmove.h"
#include "queue/qspare.h"
#include "queue/qrecover.h"

#define QMGR_FD_BUDGET	512	/* read-write fds of idle active messages */
#define QMGR_SCAN_MIN_AGE	2	/* seconds: younger incoming files wait for their notice */

static unsigned qmgr_msg_fds;

/* qmgr_wall_us - epoch microseconds (log delays, MSG_DELIVER_JOB times);
 * the scheduler's own timers use the monotonic qmgr_now_ms. */
static int64_t qmgr_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* qmgr_fmt_delay - seconds as Postfix logs them: 2 significant digits, at most 2 decimals. */
static void qmgr_fmt_delay(char *out, size_t size, int64_t us)
{
	int64_t ip, frac;
	int sig = 0, nd = 0;
	char d[2];

	if (us < 0)
		us = 0;
	ip = us / 1000000;
	frac = us % 1000000;
	for (int64_t x = ip; x > 0; x /= 10)
		sig++;
	for (int k = 0; k < 2 && sig < 2; k++) {
		frac *= 10;
		d[nd] = (char)('0' + frac / 1000000);
		frac %= 1000000;
		if (sig || d[nd] != '0')
			sig++;
		nd++;
	}
	while (nd > 0 && d[nd - 1] == '0')
		nd--;
	snprintf(out, size, "%" PRId64 "%s%.*s", ip, nd ? "." : "", nd, d);
}

void qmgr_log_rcpt(struct qmgr_msg *m, uint32_t i, const char *status, const char *dsn,
			  const char *reason, const char *relay)
{
	const struct queue_rcpt *rc = &m->env.rcpts[i];
	int64_t now = qmgr_wall_us();
	char total[32], a[32], b[32];

	qmgr_fmt_delay(total, sizeof(total), now - m->arrival_us);
	qmgr_fmt_delay(a, sizeof(a), m->active_us - m->arrival_us);
	qmgr_fmt_delay(b, sizeof(b), now - m->active_us);
	msg_info("%s: to=<%s>,%s%s%s relay=%s, delay=%s, delays=%s/%s/0/0, dsn=%s, status=%s (%s)",
		 m->id, rc->addr, *rc->orig && strcmp(rc->orig, rc->addr) ? " orig_to=<" : "",
		 *rc->orig && strcmp(rc->orig, rc->addr) ? rc->orig : "",
		 *rc->orig && strcmp(rc->orig, rc->addr) ? ">," : "",
		 relay && *relay ? relay : "none", total, a, b, dsn, status, reason);
}

/* qmgr_msg_fd - the read-write fd, reopened if it was closed while idle. */
int qmgr_msg_fd(struct qmgr_msg *m)
{
	if (m->fd >= 0)
		return m->fd;
	m->fd = queue_file_open(AT_FDCWD, QUEUE_ACTIVE, m->id, O_RDWR);
	if (m->fd < 0)
		msg_warn("%s: open active queue file: %m", m->id);
	else
		qmgr_msg_fds++;
	return m->fd;
}

static void qmgr_msg_close(struct qmgr_msg *m)
{
	if (m->fd < 0)
		return;
	(void)close(m->fd);
	m->fd = -1;
	qmgr_msg_fds--;
}

/* qmgr_msg_idle - no job in flight: give the fd back if many are open. */
void qmgr_msg_idle(struct qmgr_msg *m)
{
	if (m->sm.inflight == 0 && qmgr_msg_fds > QMGR_FD_BUDGET)
		qmgr_msg_close(m);
}

static void qmgr_msg_free(struct qmgr_msg *m)
{
	qmgr_msg_close(m);
	for (size_t i = 0; m->r && i < m->env.nrcpts; i++) {
		xfree(m->r[i].dsn);
		xfree(m->r[i].reason);
	}
	xfree(m->r);
	queue_env_free(&m->env);
	xfree(m);
}

/* qmgr_notify_dsn - the queue file's NOTIFY bits as the IPC's DSN_NOTIFY_* bits. */
uint32_t qmgr_notify_dsn(unsigned qn)
{
	uint32_t n = 0;

	if (qn & QUEUE_NOTIFY_NEVER)
		n |= DSN_NOTIFY_NEVER;
	if (qn & QUEUE_NOTIFY_SUCCESS)
		n |= DSN_NOTIFY_SUCCESS;
	if (qn & QUEUE_NOTIFY_FAILURE)
		n |= DSN_NOTIFY_FAILURE;
	if (qn & QUEUE_NOTIFY_DELAY)
		n |= DSN_NOTIFY_DELAY;
	return n;
}

static void qmgr_entry(struct statuslog_entry *e, struct qmgr_msg *m, uint32_t i,
		       const char *action, const char *dsn, const char *reason, const char *relay)
{
	const struct queue_rcpt *rc = &m->env.rcpts[i];

	memset(e, 0, sizeof(*e));
	e->rcpt = rc->addr;
	e->orcpt = *rc->orcpt ? rc->orcpt : rc->orig;
	e->notify = qmgr_notify_dsn(rc->notify);
	e->dsn = dsn;
	e->action = action;
	e->reason = reason;
	e->relay = relay && *relay ? relay : "none";
	e->when = time(NULL);
}

void qmgr_rcpt_sent(struct qmgr_msg *m, uint32_t i)
{
	int fd = qmgr_msg_fd(m);

	m->r[i].state = QR_SENT;
	if (fd < 0 || queue_file_mark_done(fd, m->env.rcpts[i].offset) < 0)
		msg_warn("%s: cannot mark <%s> done: %m (it may be delivered again)", m->id,
			 m->env.rcpts[i].addr);
}

void qmgr_rcpt_defer(struct qmgr_msg *m, uint32_t i, const char *dsn, const char *reason,
		     const char *relay, int log_it)
{
	struct statuslog_entry e;
	struct qmgr_rcpt *r = &m->r[i];

	if (dsn == NULL || dsn[0] != '4')
		dsn = "4.0.0";
	qmgr_entry(&e, m, i, "delayed", dsn, reason, relay);
	if (statuslog_append(AT_FDCWD, QUEUE_DEFER, m->id, &e) < 0)
		msg_warn("%s: cannot write defer log: %m", m->id);
	else
		m->defer_log = 1;
	if (log_it)
		qmgr_log_rcpt(m, i, "deferred", dsn, reason, relay);
	xfree(r->dsn);
	xfree(r->reason);
	r->dsn = xstrdup(dsn);
	r->reason = xstrdup(reason);
	r->state = QR_DEFERRED;
	m->ndefer++;
}

/* qmgr_rcpt_fail - bounce/ entry first, then the done mark (see statuslog.h). */
static int qmgr_rcpt_fail(struct qmgr_msg *m, uint32_t i, const char *action, const char *dsn,
			  const char *reason, const char *relay)
{
	struct statuslog_entry e;
	int fd;

	qmgr_entry(&e, m, i, action, dsn, reason, relay);
	if (statuslog_append(AT_FDCWD, QUEUE_BOUNCE, m->id, &e) < 0) {
		msg_warn("%s: cannot write bounce log: %m", m->id);
		return -1;
	}
	m->bounce_log = 1;
	m->r[i].state = QR_BOUNCED;
	if ((fd = qmgr_msg_fd(m)) < 0 || queue_file_mark_done(fd, m->env.rcpts[i].offset) < 0)
		msg_warn("%s: cannot mark <%s> done: %m", m->id, m->env.rcpts[i].addr);
	return 0;
}

void qmgr_rcpt_bounce(struct qmgr_msg *m, uint32_t i, const char *dsn, const char *reason,
		      const char *relay, int log_it)
{
	if (dsn == NULL || dsn[0] != '5')
		dsn = "5.0.0";
	if (qmgr_rcpt_fail(m, i, "failed", dsn, reason, relay) < 0) {
		qmgr_rcpt_defer(m, i, "4.3.0", "cannot record the failure; will retry",
				relay, 1);
		return;
	}
	if (log_it)
		qmgr_log_rcpt(m, i, "bounced", dsn, reason, relay);
}

static int64_t qmgr_msg_age(const struct qmgr_msg *m, int64_t now_s)
{
	return now_s - m->arrival_us / 1000000;
}

/* qmgr_msg_expire - past its lifetime: every deferred recipient is returned. */
static void qmgr_msg_expire(struct qmgr_msg *m)
{
	msg_info("%s: from=<%s>, status=expired, returned to sender", m->id, m->env.sender);
	for (uint32_t i = 0; i < m->env.nrcpts; i++) {
		struct qmgr_rcpt *r = &m->r[i];

		if (r->state != QR_DEFERRED)
			continue;
		if (qmgr_rcpt_fail(m, i, "expired", r->dsn, r->reason, "none") == 0)
			m->ndefer--;
	}
}

static void qmgr_msg_gone(struct qmgr_msg *m)
{
	struct qmgr *q = m->q;

	q->nrcpt -= m->env.nrcpts;
	qmgr_msg_free(m);
	q->nactive--;
	qmgr_room(q);
}

static void qmgr_msg_remove(struct qmgr_msg *m)
{
	/* closed first: a file is only reused once no process has it open */
	qmgr_msg_close(m);
	if (queue_spare_release(&m->q->spare, AT_FDCWD, QUEUE_ACTIVE, m->id) < 0
	    && errno != ENOENT)
		msg_warn("%s: remove: %m", m->id);
	if (m->bounce_log)
		(void)statuslog_remove(AT_FDCWD, QUEUE_BOUNCE, m->id);
	if (m->defer_log)
		(void)statuslog_remove(AT_FDCWD, QUEUE_DEFER, m->id);
	msg_info("%s: removed", m->id);
	qmgr_msg_gone(m);
}

/* qmgr_msg_defer - to deferred/, next attempt in the mtime (Postfix's rule). */
static void qmgr_msg_defer(struct qmgr_msg *m)
{
	struct qmgr *q = m->q;
	int64_t now = time(NULL);
	int64_t wait = sched_backoff(qmgr_msg_age(m, now), q->min_backoff, q->max_backoff);
	struct timespec ts[2] = { { now + wait, 0 }, { now + wait, 0 } };
	struct buf path = BUF_INIT;

	if (queue_path(&path, QUEUE_ACTIVE, m->id) < 0
	    || utimensat(AT_FDCWD, buf_str(&path), ts, 0) < 0)
		msg_warn("%s: cannot set the retry time: %m", m->id);
	buf_free(&path);
	qmgr_msg_close(m);
	if (queue_move(AT_FDCWD, m->id, QUEUE_ACTIVE, QUEUE_DEFERRED, 1) < 0)
		msg_warn("%s: move to deferred: %m (retried after a restart)", m->id);
	else
		qmgr_due_at(q, (now + wait) * 1000);
	qmgr_msg_gone(m);
}

/*
 * qmgr_msg_warn - Postfix's delay warning: once the message has waited
 * delay_warning_time (warn_time, set by cleanup) and recipients are still
 * delayed, ask bounce for the warning about them before deferring. 1 if
 * asked (qmgr_msg_warned follows), 0 if not due or not possible now.
 */
static int qmgr_msg_warn(struct qmgr_msg *m)
{
	if (m->ndefer == 0 || m->warn_at <= 0 || time(NULL) < m->warn_at || !m->defer_log)
		return 0;
	return qmgr_bounce_request(m->q, m, BOUNCE_DELAYED) == 0;
}

/* qmgr_msg_warned - the warning is queued (ok) or not: then defer as usual. */
void qmgr_msg_warned(struct qmgr_msg *m, int ok)
{
	int fd;

	/* Sent once: zeros in place of the time (a crash may cost a second one). */
	if (ok && ((fd = qmgr_msg_fd(m)) < 0
		   || queue_file_rewrite_attr(fd, m->warn_off, "warn_time", "000000000000000") < 0))
		msg_warn("%s: cannot record that the delay warning was sent: %m", m->id);
	if (ok)
		m->warn_at = 0;
	qmgr_msg_defer(m);
}

/* qmgr_msg_end - after the bounce (if any): remove, or keep for later. */
static void qmgr_msg_end(struct qmgr_msg *m, int bounce_ok)
{
	if (m->ndefer == 0 && bounce_ok) {
		qmgr_msg_remove(m);
		return;
	}
	if (m->ndefer == 0 && m->is_bounce
	    && qmgr_msg_age(m, time(NULL)) >= m->q->bounce_life) {
		msg_warn("%s: the bounce stage could not take this notice in time; "
			 "discarding it", m->id);
		qmgr_msg_remove(m);
		return;
	}
	if (!qmgr_msg_warn(m))
		qmgr_msg_defer(m);
}

void qmgr_msg_bounced(struct qmgr_msg *m, int ok)
{
	if (ok) {
		if (statuslog_remove(AT_FDCWD, QUEUE_BOUNCE, m->id) < 0 && errno != ENOENT)
			msg_warn("%s: remove bounce log: %m", m->id);
		m->bounce_log = 0;
	}
	qmgr_msg_end(m, ok);
}

/* qmgr_msg_check_done - every recipient settled: end the attempt. */
void qmgr_msg_check_done(struct qmgr_msg *m)
{
	int64_t life;

	if (m->sm.todo || m->sm.inflight)
		return;
	life = m->is_bounce ? m->q->bounce_life : m->q->max_life;
	if (m->ndefer && qmgr_msg_age(m, time(NULL)) >= life)
		qmgr_msg_expire(m);
	if (!m->bounce_log) {
		qmgr_msg_end(m, 1);
		return;
	}
	if (qmgr_bounce_request(m->q, m, BOUNCE_FAILED) < 0)
		qmgr_msg_end(m, 0);
	/* else qmgr_msg_bounced comes with MSG_BOUNCE_DONE */
}

/* qmgr_msg_warn_time - the delay warning's due time: 15 digits, zeros once sent. */
static void qmgr_msg_warn_time(struct qmgr_msg *m, const struct queue_attr *a)
{
	uint64_t when;

	if (strlen(a->value) != 15 || strnum_u64(a->value, 0, INT64_MAX, &when) < 0) {
		msg_warn("%s: ignoring a malformed warn_time attribute", m->id);
		return;
	}
	m->warn_at = (int64_t)when;
	m->warn_off = a->offset;
}

static void qmgr_msg_attrs(struct qmgr_msg *m)
{
	m->is_bounce = m->env.sender[0] == 0;
	for (size_t i = 0; i < m->env.nattrs; i++) {
		const char *n = m->env.attrs[i].name, *v = m->env.attrs[i].value;

		if (strcmp(n, "envid") == 0)
			m->envid = v;
		else if (strcmp(n, "ret") == 0)
			m->ret = strcmp(v, "FULL") == 0 ? 1 : strcmp(v, "HDRS") == 0 ? 2 : 0;
		else if (strcmp(n, "body") == 0)
			m->body_type = strcmp(v, "7BIT") == 0 ? 1 : strcmp(v, "8BITMIME") == 0 ? 2 : 0;
		else if (strcmp(n, "bounce") == 0)
			m->is_bounce = 1;
		else if (strcmp(n, "warn_time") == 0)
			qmgr_msg_warn_time(m, &m->env.attrs[i]);
	}
}

/*
 * qmgr_clog_check - Postfix's warning that one destination takes up a large
 * share (over a fifth of qmgr_message_active_limit) of the active queue,
 * at most once per qmgr_clog_warn_time for that destination; 0 = never.
 */
static void qmgr_clog_check(struct qmgr *q, struct sched_dest *d)
{
	unsigned len = d->nqueued + (unsigned)d->active;
	int64_t now = qmgr_now_ms();

	if (q->clog_warn_ms <= 0 || len <= q->active_limit / 5
	    || (d->clog_warned && now - d->clog_warned < q->clog_warn_ms))
		return;
	d->clog_warned = now;
	msg_warn("mail for %s is using up %u of %u active queue entries", d->nexthop, len,
		 q->nactive);
	msg_warn("this may slow down other mail deliveries");
	if (d->window >= d->tr->conc_limit)
		msg_warn("you may need to increase the main.cf %s_destination_concurrency_limit "
			 "from %d", d->tr->name, d->tr->conc_limit);
}

/* qmgr_msg_resolve - schedule, or settle at once, each recipient not done;
 * a second record of one address shares the first one's delivery. */
static void qmgr_msg_resolve(struct qmgr *q, struct qmgr_msg *m)
{
	qmgr_dup_group(m);
	for (uint32_t i = 0; i < m->env.nrcpts; i++) {
		if (m->env.rcpts[i].done)
			continue;
		qmgr_route_rcpt(q, m->env.sender, m->env.rcpts[i].addr);
		switch (q->rr.cls) {
		case RESOLVE_LOCAL:
			qmgr_rcpt_bounce(m, i, "5.1.1", "local delivery is not supported", "none", 1);
			break;
		case RESOLVE_BAD:
			qmgr_rcpt_bounce(m, i, "5.1.3", "bad address syntax", "none", 1);
			break;
		case RESOLVE_ERROR:
			qmgr_rcpt_bounce(m, i, q->rr.dsn, q->rr.reason, "none", 1);
			break;
		case RESOLVE_DEFER:
			qmgr_rcpt_defer(m, i, q->rr.dsn, q->rr.reason, "none", 1);
			break;
		default:
			if (qmgr_dup_shadow(m, i, q->rr.service, q->rr.nexthop))
				break;
			m->r[i].dest = sched_add_rcpt(q->sched, &m->sm, q->rr.service,
						      q->rr.nexthop, i);
			qmgr_clog_check(q, m->r[i].dest);
			break;
		}
	}
	qmgr_route_done(q);
}

/* qmgr_msg_unmove - an activation that cannot go on: back where it came from. */
static void qmgr_msg_unmove(const char *id, enum queue_name from)
{
	if (queue_move(AT_FDCWD, id, QUEUE_ACTIVE, from, 0) < 0)
		msg_warn("%s: cannot move it back to %s: %m", id, queue_dir_name(from));
}

/* qmgr_msg_bad - a file that cannot be used: corrupt/, or back where it was. */
static void qmgr_msg_bad(const char *id, enum queue_name from, int r, const char *why)
{
	if (r == QUEUE_ENV_IOERR) {
		msg_warn("%s: cannot read queue file: %s; will retry", id, why);
		qmgr_msg_unmove(id, from);
		return;
	}
	msg_warn("%s: corrupt queue file (%s); moved to corrupt/", id, why);
	if (queue_move(AT_FDCWD, id, QUEUE_ACTIVE, QUEUE_CORRUPT, 1) < 0)
		msg_warn("%s: move to corrupt: %m", id);
}

/*
 * qmgr_open_scanned - a file found by a scan: complete, not held by a
 * writer, and not just committed (its MSG_QMGR_NEW is surely on its way:
 * taking it here would only make that notice miss; a later scan takes it
 * if the notice was lost).
 */
static int qmgr_open_scanned(const char *id)
{
	int fd = queue_file_open(AT_FDCWD, QUEUE_INCOMING, id, O_RDWR);
	struct stat sb;
	struct buf path = BUF_INIT;

	if (fd < 0 && errno == EAGAIN && queue_path(&path, QUEUE_INCOMING, id) == 0
	    && fstatat(AT_FDCWD, buf_str(&path), &sb, AT_SYMLINK_NOFOLLOW) == 0
	    && sb.st_mtime + QMGR_SCAN_MIN_AGE < time(NULL))
		(void)queue_reap_incoming(AT_FDCWD, id);	/* its writer died mid-message */
	buf_free(&path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || sb.st_mtime + QMGR_SCAN_MIN_AGE > time(NULL)
	    || flock(fd, LOCK_EX | LOCK_NB) < 0 || flock(fd, LOCK_UN) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * qmgr_rcpt_room - may a message with n recipients join the active queue?
 * qmgr holds every recipient of an active message in memory, so
 * qmgr_message_recipient_limit bounds their total; a message with at most
 * qmgr_message_recipient_minimum recipients is always let in (Postfix: the
 * minimum takes priority over the limits), and so is any message when
 * nothing else is active (else a larger one could never go).
 */
static int qmgr_rcpt_room(const struct qmgr *q, size_t n)
{
	return n <= q->rcpt_minimum || q->nactive == 0 || q->nrcpt + n <= q->rcpt_limit;
}

/*
 * qmgr_msg_activate - move one message into active/ and start its attempt.
 * 1 if the active queue is full, by messages or by recipients (the file
 * stays where it was), else 0 (activated, or skipped: gone, busy, corrupt).
 */
int qmgr_msg_activate(struct qmgr *q, const char *id, enum queue_name from, int how)
{
	struct qmgr_msg *m;
	struct stat sb;
	struct buf path = BUF_INIT;
	int fd = -1, r;

	if (q->nactive >= q->active_limit)
		return 1;
	if (how == QMGR_FROM_SCAN && from == QUEUE_INCOMING && (fd = qmgr_open_scanned(id)) < 0)
		return 0;
	/* Gone (a scan or an administrator took it first): nothing to say. */
	if (queue_move(AT_FDCWD, id, from, QUEUE_ACTIVE, 0) < 0) {
		if (fd >= 0)
			(void)close(fd);
		return 0;
	}
	if (fd < 0 && (fd = queue_file_open(AT_FDCWD, QUEUE_ACTIVE, id, O_RDWR)) < 0) {
		msg_warn("%s: open: %m", id);
		qmgr_msg_unmove(id, from);
		return 0;
	}
	m = xcalloc(1, sizeof(*m));
	m->q = q;
	memcpy(m->id, id, QUEUE_ID_LEN);
	m->fd = fd;
	qmgr_msg_fds++;
	if ((r = queue_env_read(fd, 0, &m->env)) != QUEUE_ENV_OK) {
		qmgr_msg_bad(id, from, r, buf_str(&m->env.why));
		qmgr_msg_free(m);
		return 0;
	}
	if (!qmgr_rcpt_room(q, m->env.nrcpts)) {
		qmgr_msg_unmove(id, from);
		qmgr_msg_free(m);
		return 1;
	}
	q->nactive++;
	q->nrcpt += m->env.nrcpts;
	m->arrival_us = (int64_t)m->env.arrival.tv_sec * 1000000 + m->env.arrival.tv_usec;
	m->active_us = qmgr_wall_us();
	m->r = xcalloc(m->env.nrcpts ? m->env.nrcpts : 1, sizeof(*m->r));
	qmgr_msg_attrs(m);
	msg_info("%s: from=<%s>, size=%" PRIu64 ", nrcpt=%zu (queue active)", id, m->env.sender,
		 m->env.content_length, m->env.nrcpts);
	/* Postfix's rule: the defer log describes the latest attempt only. */
	if (from != QUEUE_INCOMING || how == QMGR_FROM_SCAN)
		(void)statuslog_remove(AT_FDCWD, QUEUE_DEFER, id);
	if (m->env.ndone > 0 && queue_path(&path, QUEUE_BOUNCE, id) == 0
	    && fstatat(AT_FDCWD, buf_str(&path), &sb, AT_SYMLINK_NOFOLLOW) == 0)
		m->bounce_log = 1;
	buf_free(&path);
	qmgr_msg_resolve(q, m);
	if (m->sm.todo == 0) {
		qmgr_msg_check_done(m);
		return 0;
	}
	qmgr_msg_idle(m);
	qmgr_deliver_kick(q);
	return 0;
}
