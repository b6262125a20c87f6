/*
 * bounce.c - the bounce stage: builds RFC 3464 delivery status
 * notifications when qmgr asks (MSG_BOUNCE_REQUEST) and submits them
 * through cleanup; qmgr then delivers them like any message.
 *
 * Channels: qmgr's requests arrive through ops.peer_accept (any number,
 * served by an event loop); the channel to cleanup is asked for once and
 * reused. A request is served to its end before the next one (bounces are
 * rare; the wait for cleanup is bounded by ipc_timeout).
 *
 * SECURITY: runs as mail_owner, chrooted in the queue directory, in an empty
 * network namespace, no capabilities; Landlock lets it read the queue
 * directories and write only bounce/ and defer/. It trusts nothing in the
 * queue files or logs (strict readers, bounded sizes). It must never send a
 * notice about a message from the null sender to that sender (no bounce of a
 * bounce), and never tells qmgr "sent" before cleanup committed the notice.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemons/bounce/bounce.h"
#include "lib/event.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"

struct bounce_peer {
	struct bounce_srv *bs;
	struct event_loop *loop;
	struct ipc_chan ch;
	struct ipc_msg m;
};

static struct bounce_srv bounce_srv;
static struct event_loop *bounce_loop;

static void bounce_peer_drop(struct bounce_peer *p, int violation)
{
	if (violation) {
		stage_report_violation(p->bs->st, &p->ch, buf_str(&p->ch.why));
	}
	event_del(p->loop, p->ch.fd);
	ipc_chan_close(&p->ch);
	ipc_msg_free(&p->m);
	xfree(p);
}

/* bounce_serve - one request, one answer. */
static int bounce_serve(struct bounce_peer *p, const struct ipc_bounce_request *req)
{
	struct buf qid = BUF_INIT, why = BUF_INIT;
	int rc = bounce_dsn_send(p->bs, req, &qid, &why);
	struct ipc_bounce_done d = {
		.req_id = req->req_id, .status = rc == 0 ? 0 : 1, .dsn_queue_id = buf_str(&qid),
		.reason = buf_str(&why),
	};

	if (rc < 0)
		msg_warn("%s: cannot send a delivery status notification: %s", req->queue_id,
			 buf_str(&why));
	rc = ipc_chan_send(&p->ch, MSG_BOUNCE_DONE, &d);
	buf_free(&qid);
	buf_free(&why);
	return rc;
}

static int bounce_peer_request(struct ipc_msg *m, void *ctx)
{
	return bounce_serve(ctx, &m->u.bounce_request) < 0 ? IPC_RECV_ERROR : 0;
}

static void bounce_peer_read(int fd, unsigned events, void *ctx)
{
	struct bounce_peer *p = ctx;
	int r = ipc_chan_drain(&p->ch, &p->m, bounce_peer_request, p);

	(void)fd;
	(void)events;
	if (r != IPC_RECV_AGAIN)
		bounce_peer_drop(p, r == IPC_RECV_VIOLATION);
}

static void bounce_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct bounce_peer *p = xcalloc(1, sizeof(*p));

	(void)st;
	p->bs = &bounce_srv;
	p->loop = bounce_loop;
	ipc_msg_init(&p->m);
	ipc_chan_init(&p->ch, fd, IPC_CHAN_BOUNCE, IPC_SIDE_B, peer_stage, peer_pid);
	if (iox_set_nonblock(fd, 1) < 0 || ipc_chan_hello(&p->ch) < 0
	    || event_add(bounce_loop, fd, EVENT_READ, bounce_peer_read, p) < 0) {
		msg_warn("bounce channel from %s[%ld]: %m", peer_stage, (long)peer_pid);
		ipc_chan_close(&p->ch);
		xfree(p);
	}
}

static void bounce_pre_jail(struct stage *st)
{
	struct bounce_cfg *cfg = &bounce_srv.cfg;

	tzset();	/* Arrival-Date in local time, inside the chroot too */
	bounce_srv.st = st;
	bounce_srv.cleanup.fd = -1;
	cfg->myhostname = conf_str(st->conf, "myhostname");
	cfg->myorigin = conf_str(st->conf, "myorigin");
	cfg->size_limit = (size_t)conf_size(st->conf, "bounce_size_limit");
	cfg->twobounce_rcpt = conf_str(st->conf, "2bounce_notice_recipient");
	for (char *const *c = conf_list(st->conf, "notify_classes"); c && *c; c++)
		if (strcmp(*c, "2bounce") == 0)
			cfg->notify_2bounce = 1;
	cfg->timeout_ms = (int)(conf_time(st->conf, "ipc_timeout") > 300 ? 300000
				: conf_time(st->conf, "ipc_timeout") * 1000);
}

static void bounce_run(struct stage *st)
{
	bounce_loop = event_loop_new();
	if (iox_set_nonblock(st->broker.fd, 0) < 0
	    || event_add(bounce_loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	while (!st->stopping)
		if (event_run_once(bounce_loop, -1) < 0)
			msg_fatal("event loop: %m");
}

static const struct stage_ops bounce_ops = {
	.pre_jail = bounce_pre_jail,
	.peer_accept = bounce_peer_accept,
	.run = bounce_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "bounce", &bounce_ops);
}
