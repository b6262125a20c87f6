/*
 * qmgr_bounce.c - qmgr's channel to the bounce stage.
 *
 * When an attempt ends with entries in bounce/<id>, qmgr asks the bounce
 * stage for the failure notice (MSG_BOUNCE_REQUEST, the file still in
 * active/) and ends the message only on MSG_BOUNCE_DONE: status 0 means the
 * notice is queued (or there was none to send, e.g. for a bounce of a
 * bounce), anything else keeps the message in deferred/ so the notice is
 * retried with the message's backoff. A delay warning (BOUNCE_DELAYED, the
 * recipients in defer/<id>) goes the same way before the message is
 * deferred; it is asked for again at a later attempt if it failed. The
 * channel is kept open; several requests may be outstanding, matched by
 * req_id.
 *
 * SECURITY: the bounce stage reads queue files written by others; qmgr
 * believes only the req_id it issued and the status. An answer to a request
 * it did not make is a protocol violation: the channel is closed and every
 * outstanding message is kept for a later retry.
 */
#include <unistd.h>

#include "daemons/qmgr/qmgr.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"

struct qmgr_breq {
	struct qmgr_breq *next;
	uint32_t id;
	uint32_t kind;		/* BOUNCE_FAILED or BOUNCE_DELAYED */
	struct qmgr_msg *m;
};

/* qmgr_breq_end - the request is answered (ok) or lost: its message goes on. */
static void qmgr_breq_end(struct qmgr_breq *b, int ok)
{
	if (b->kind == BOUNCE_DELAYED)
		qmgr_msg_warned(b->m, ok);
	else
		qmgr_msg_bounced(b->m, ok);
	xfree(b);
}

static void qmgr_bounce_drop(struct qmgr *q)
{
	struct qmgr_breq *list = q->breqs;

	q->breqs = NULL;
	if (q->bfd >= 0) {
		event_del(q->loop, q->bfd);
		ipc_chan_close(&q->bch);
		ipc_msg_free(&q->bm);
		q->bfd = -1;
	}
	while (list) {
		struct qmgr_breq *b = list;

		list = b->next;
		msg_warn("%s: bounce stage went away; the notice will be retried", b->m->id);
		qmgr_breq_end(b, 0);
	}
}

static void qmgr_bounce_answer(struct qmgr *q, const struct ipc_bounce_done *d)
{
	for (struct qmgr_breq **pp = &q->breqs; *pp; pp = &(*pp)->next) {
		struct qmgr_breq *b = *pp;

		if (b->id != d->req_id)
			continue;
		*pp = b->next;
		if (d->status != 0)
			msg_warn("%s: %s failed: %s; will retry", b->m->id,
				 b->kind == BOUNCE_DELAYED ? "delay warning" : "bounce", d->reason);
		qmgr_breq_end(b, d->status == 0);
		return;
	}
	msg_warn("bounce[%ld]: answer to a request never made", (long)q->bch.peer_pid);
	qmgr_bounce_drop(q);
}

static void qmgr_bounce_read(int fd, unsigned events, void *ctx)
{
	struct qmgr *q = ctx;

	(void)fd;
	(void)events;
	while (q->bfd >= 0) {
		int r = ipc_chan_recv(&q->bch, &q->bm);

		if (r == IPC_RECV_AGAIN)
			return;
		if (r != IPC_RECV_MSG) {
			if (r == IPC_RECV_VIOLATION)
				msg_warn("bounce: %s", buf_str(&q->bch.why));
			qmgr_bounce_drop(q);
			return;
		}
		qmgr_bounce_answer(q, &q->bm.u.bounce_done);
		if (q->bfd >= 0)
			ipc_msg_reset(&q->bm);
	}
}

static int qmgr_bounce_open(struct qmgr *q)
{
	pid_t pid = 0;
	int fd;

	if (q->bfd >= 0)
		return 0;
	if ((fd = stage_request_peer(q->st, "bounce", &pid)) < 0)
		return -1;
	ipc_msg_init(&q->bm);
	ipc_chan_init(&q->bch, fd, IPC_CHAN_BOUNCE, IPC_SIDE_A, "bounce", pid);
	if (iox_set_nonblock(fd, 1) < 0
	    || event_add(q->loop, fd, EVENT_READ, qmgr_bounce_read, q) < 0) {
		msg_warn("bounce channel: %m");
		ipc_chan_close(&q->bch);
		return -1;
	}
	q->bfd = fd;
	return 0;
}

/* qmgr_bounce_request - 0: qmgr_msg_bounced (qmgr_msg_warned for BOUNCE_DELAYED)
 * follows later; -1: not now. */
int qmgr_bounce_request(struct qmgr *q, struct qmgr_msg *m, uint32_t kind)
{
	struct ipc_bounce_request r = { 0 };
	struct qmgr_breq *b;

	if (qmgr_bounce_open(q) < 0)
		return -1;
	r.req_id = ++q->next_breq;
	r.queue_id = m->id;
	r.queue_name = "active";
	r.kind = kind;
	if (ipc_chan_send(&q->bch, MSG_BOUNCE_REQUEST, &r) < 0) {
		msg_warn("%s: bounce request: %s", m->id, buf_str(&q->bch.why));
		qmgr_bounce_drop(q);
		return -1;
	}
	b = xcalloc(1, sizeof(*b));
	b->id = r.req_id;
	b->kind = kind;
	b->m = m;
	b->next = q->breqs;
	q->breqs = b;
	return 0;
}
