/*
 * stage_peer.c - serve peer channels: accept, read, drop (see stage_peer.h).
 *
 * Called by: the peer_accept hook of every stage that serves peers.
 *
 * SECURITY: everything on these channels comes from another stage, which
 * may be compromised. The codec (ipc/chan.c) already refuses what the
 * channel's allowlist does not permit; this file must never keep reading a
 * channel that broke the protocol, never free a peer while a callback still
 * holds it, and never let one peer's failure end the stage.
 */
#include "skeleton/stage_peer.h"

#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"

/* peer_close - the end itself: report, unwatch, close, let the stage free its part. */
static void peer_close(struct stage_peer *p)
{
	if (p->violation)
		stage_report_violation(p->st, &p->ch, buf_str(&p->ch.why));
	if (p->ch.fd >= 0)
		event_del(p->loop, p->ch.fd);
	ipc_chan_close(&p->ch);
	ipc_msg_free(&p->m);
	if (p->ops->closed)
		p->ops->closed(p);
	xfree(p);
}

void stage_peer_end(struct stage_peer *p, int violation)
{
	if (p->ending)
		return;
	p->ending = 1;
	p->violation = violation;
	if (!p->in_read)
		peer_close(p);
}

static int peer_message(struct ipc_msg *m, void *ctx)
{
	struct stage_peer *p = ctx;
	int r = p->ops->message(p, m);

	if (r == 0 && p->ending)
		return IPC_RECV_ERROR;	/* ended by the stage meanwhile: stop reading */
	return r;
}

/* peer_read - every message the peer has queued, then wait for more. */
static void peer_read(int fd, unsigned events, void *ctx)
{
	struct stage_peer *p = ctx;
	int r;

	(void)fd;
	(void)events;
	p->in_read = 1;
	r = ipc_chan_drain(&p->ch, &p->m, peer_message, p);
	p->in_read = 0;
	if (r != IPC_RECV_AGAIN || p->ending) {
		p->ending = 1;
		if (r == IPC_RECV_VIOLATION)
			p->violation = 1;
		peer_close(p);
	}
}

struct stage_peer *stage_peer_accept(struct stage *st, struct event_loop *loop,
				     const struct stage_peer_ops *ops, const char *peer_stage,
				     pid_t peer_pid, int fd, void *app)
{
	struct stage_peer *p = xcalloc(1, sizeof(*p));

	p->st = st;
	p->loop = loop;
	p->ops = ops;
	p->app = app;
	ipc_msg_init(&p->m);
	ipc_chan_init(&p->ch, fd, ops->kind, IPC_SIDE_B, peer_stage, peer_pid);
	/*
	 * A peer that died at once (a fatal start-up error) has closed its end:
	 * our hello then fails, but what it sent first is still queued and is
	 * read before the EOF.
	 */
	(void)ipc_chan_hello(&p->ch);
	if (iox_set_nonblock(fd, 1) < 0 || event_add(loop, fd, EVENT_READ, peer_read, p) < 0) {
		msg_warn("%s channel from %s[%ld]: %m", ipc_chan_proto(ops->kind), peer_stage,
			 (long)peer_pid);
		p->ending = 1;
		peer_close(p);
		return NULL;
	}
	return p;
}
