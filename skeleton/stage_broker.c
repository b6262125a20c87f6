/*
 * stage_broker.c - a stage's side of its channel to the broker.
 *
 * The broker may send: STOP (graceful or not), PEER_ACCEPT (a new channel
 * from a peer stage), and GRANT/DENY answers to our own PEER_REQUEST. The
 * channel allowlist (ipc/channels.def) already rejects anything else; this
 * file must never act on a message it did not expect at that moment.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/msg.h"
#include "skeleton/stage.h"
#include "skeleton/stage_test.h"

/* stage_handle - act on one unsolicited broker message. */
static void stage_handle(struct stage *st, struct ipc_msg *m)
{
	switch (m->type) {
	case MSG_BROKER_STOP:
		if (!m->u.broker_stop.graceful)
			exit(0);
		st->stopping = 1;
		break;
	case MSG_BROKER_PEER_ACCEPT:
		if (st->ops->peer_accept == NULL) {
			msg_warn("unexpected channel from %s[%u]: this stage serves no peers",
				 m->u.broker_peer_accept.peer_stage, m->u.broker_peer_accept.peer_pid);
			break;
		}
		if (ipc_msg_take_fd(m, m->u.broker_peer_accept.fd) < 0)
			msg_panic("peer fd vanished from its message");
		st->naccepted++;
		st->ops->peer_accept(st, m->u.broker_peer_accept.peer_stage,
				     (pid_t)m->u.broker_peer_accept.peer_pid, m->u.broker_peer_accept.fd);
		break;
	default:
		msg_warn("broker sent %s when none was asked for; ignored", ipc_type_name(m->type));
		break;
	}
}

/*
 * stage_broker_dispatch - read and act on one broker message. With wait 0
 * only if one is there now: an event loop that saw the channel readable may
 * have had that message taken since by stage_request_peer (which reads and
 * handles whatever comes before its answer), and a blocking read would then
 * wait for a broker that has nothing more to say (a qmgr stuck so once left
 * mail in the queue). 0 handled or nothing there, -1 the broker is gone.
 */
int stage_broker_dispatch(struct stage *st, int wait)
{
	struct pollfd p = { st->broker.fd, POLLIN, 0 };
	struct ipc_msg m;
	int r;

	if (!wait) {
		while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
			;
		if (r == 0)
			return 0;
	}
	ipc_msg_init(&m);
	r = ipc_chan_recv(&st->broker, &m);
	if (r != IPC_RECV_MSG) {
		if (r != IPC_RECV_EOF)
			msg_warn("broker channel: %s", buf_str(&st->broker.why));
		return -1;
	}
	stage_handle(st, &m);
	ipc_msg_free(&m);
	return 0;
}

/*
 * stage_request_peer - ask for a channel to peer_stage and wait for the
 * answer, acting on any other broker message that arrives meanwhile.
 */
int stage_request_peer(struct stage *st, const char *peer_stage, pid_t *peer_pid)
{
	struct ipc_broker_peer_request req = { ++st->next_request, peer_stage, 0 };
	struct ipc_msg m;
	int fd = -1;

	if (ipc_chan_send(&st->broker, MSG_BROKER_PEER_REQUEST, &req) < 0)
		return -1;
	for (;;) {
		ipc_msg_init(&m);
		if (ipc_chan_recv(&st->broker, &m) != IPC_RECV_MSG)
			msg_fatal("broker channel lost while asking for %s: %s", peer_stage,
				  buf_str(&st->broker.why));
		if (m.type == MSG_BROKER_PEER_GRANT && m.u.broker_peer_grant.request_id == req.request_id) {
			fd = m.u.broker_peer_grant.fd;
			(void)ipc_msg_take_fd(&m, fd);
			if (peer_pid)
				*peer_pid = (pid_t)m.u.broker_peer_grant.peer_pid;
			break;
		}
		if (m.type == MSG_BROKER_PEER_DENY && m.u.broker_peer_deny.request_id == req.request_id) {
			msg_warn("no channel to %s: %s", peer_stage, m.u.broker_peer_deny.reason);
			break;
		}
		stage_handle(st, &m);
		ipc_msg_free(&m);
	}
	ipc_msg_free(&m);
	return fd;
}

#define STAGE_LEAVE_WAIT_MS	10000	/* a broker that does not answer: leave anyway */

int stage_leave(struct stage *st, uint32_t uses)
{
	struct ipc_broker_leave l = { uses };
	struct pollfd p = { st->broker.fd, POLLIN, 0 };
	unsigned before = st->naccepted;
	struct ipc_msg m;
	int stop = 0, r;

	if (ipc_chan_send(&st->broker, MSG_BROKER_LEAVE, &l) < 0)
		return 0;
	while (!stop) {
		while ((r = poll(&p, 1, STAGE_LEAVE_WAIT_MS)) < 0 && errno == EINTR)
			;
		ipc_msg_init(&m);
		if (r <= 0 || ipc_chan_recv(&st->broker, &m) != IPC_RECV_MSG) {
			ipc_msg_free(&m);
			break;
		}
		stop = m.type == MSG_BROKER_STOP;
		stage_handle(st, &m);
		ipc_msg_free(&m);
	}
	st->stopping = 1;
	return (int)(st->naccepted - before);
}

void stage_status(struct stage *st, int busy, uint32_t uses)
{
	struct ipc_broker_status s = { stage_test_busy((uint32_t)busy), uses };

	if (ipc_chan_send(&st->broker, MSG_BROKER_STATUS, &s) < 0)
		msg_fatal("broker channel: %s", buf_str(&st->broker.why));
}

void stage_report_violation(struct stage *st, const struct ipc_chan *ch, const char *why)
{
	struct ipc_broker_violation v = { .peer_pid = (uint32_t)ch->peer_pid, .detail = why };

	msg_warn("%s[%ld]: %s", ch->peer_stage, (long)ch->peer_pid, why);
	(void)ipc_chan_send(&st->broker, MSG_BROKER_VIOLATION, &v);
}

/* stage_broker_readable - one broker message; the broker gone means we exit. */
void stage_broker_readable(int fd, unsigned events, void *ctx)
{
	(void)fd;
	(void)events;
	if (stage_broker_dispatch(ctx, 0) < 0)
		exit(0);
}

/* stage_idle_loop - for stages with nothing else to serve yet. */
void stage_idle_loop(struct stage *st)
{
	while (!st->stopping) {
		if (stage_broker_dispatch(st, 1) < 0)
			return;
	}
}
