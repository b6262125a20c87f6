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
#include "skeleton/stage_peer.h"

static struct bounce_srv bounce_srv;
static struct event_loop *bounce_loop;

/* bounce_serve - one request, one answer. */
static int bounce_serve(struct stage_peer *p, const struct ipc_bounce_request *req)
{
	struct buf qid = BUF_INIT, why = BUF_INIT;
	int rc = bounce_dsn_send(&bounce_srv, req, &qid, &why);
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

static int bounce_peer_request(struct stage_peer *p, struct ipc_msg *m)
{
	return bounce_serve(p, &m->u.bounce_request) < 0 ? IPC_RECV_ERROR : 0;
}

static const struct stage_peer_ops bounce_peer_ops = {
	.kind = IPC_CHAN_BOUNCE, .message = bounce_peer_request,
};

static void bounce_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	(void)stage_peer_accept(st, bounce_loop, &bounce_peer_ops, peer_stage, peer_pid, fd, NULL);
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
	cfg->bounce_rcpt = conf_str(st->conf, "bounce_notice_recipient");
	cfg->delay_rcpt = conf_str(st->conf, "delay_notice_recipient");
	for (char *const *c = conf_list(st->conf, "notify_classes"); c && *c; c++) {
		cfg->notify_2bounce |= strcmp(*c, "2bounce") == 0;
		cfg->notify_bounce |= strcmp(*c, "bounce") == 0;
		cfg->notify_delay |= strcmp(*c, "delay") == 0;
	}
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
