/*
 * control.c - the broker's admin socket for moatctl (status, stop, reload,
 * lookup).
 *
 * <queue>/pid/control.sock, SOCK_SEQPACKET, mode 0600, in a root-only
 * directory; the peer's credentials (SO_PEERCRED) must be uid 0 as well. A
 * request is one typed message; the reply is one typed message. A client gets
 * one second to send its request, so a stuck client cannot stall the broker;
 * when accept fails for want of fds the socket is left alone for a second
 * rather than polled in a loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/msg.h"

void broker_control_open(struct broker *b)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/pid/control.sock", b->queue_dir);

	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		msg_fatal("queue_directory too long for a socket path");
	(void)unlink(sun.sun_path);
	b->ctlfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (b->ctlfd < 0 || bind(b->ctlfd, (struct sockaddr *)&sun, sizeof(sun)) < 0
	    || chmod(sun.sun_path, 0600) < 0 || listen(b->ctlfd, 16) < 0)
		msg_fatal("control socket %s: %m", sun.sun_path);
}

/* broker_control_close - remove the socket at exit. */
void broker_control_close(struct broker *b)
{
	struct buf path = BUF_INIT;

	(void)buf_printf(&path, "%s/pid/control.sock", b->queue_dir);
	(void)unlink(buf_str(&path));
	close(b->ctlfd);
	buf_free(&path);
}

/* control_status - one line per service and process. */
static void control_status(struct broker *b, struct buf *out)
{
	(void)buf_printf(out, "moatd pid %ld generation %u%s\n", (long)getpid(), b->generation,
			 b->stopping ? " stopping" : "");
	for (struct service *s = b->services; s; s = s->next) {
		(void)buf_printf(out, "service %s stage %s processes %d idle %d%s\n", s->name, s->stage,
				 s->nproc, s->nidle, s->gave_up ? " GAVE-UP (crash loop)" : "");
		for (struct child *c = b->children; c; c = c->next)
			if (c->svc == s)
				(void)buf_printf(out, "  pid %ld %s%s channels %d\n", (long)c->pid,
						 c->ready ? (c->busy ? "busy" : "idle") : "starting",
						 c->retiring ? " retiring" : "", broker_grant_served(b, c));
	}
}

/*
 * control_lookup - moatctl lookup: a channel to the running lookup stage,
 * on which moatctl is a client like any stage (the broker reads nothing on
 * it). 0 when the grant went out, else -1 and why in out.
 */
static int control_lookup(struct broker *b, struct ipc_chan *ch, struct buf *out)
{
	struct child *c;
	int sv[2];

	for (c = b->children; c; c = c->next)
		if ((c->svc->def->flags & STAGEDEF_F_TABLES) && c->ready && !c->retiring && c->ch.fd >= 0)
			break;
	if (c == NULL)
		return buf_printf(out, "no lookup stage is running\n"), -1;
	if (ipc_chan_pair(IPC_CHAN_LOOKUP, sv) < 0)
		return buf_printf(out, "socketpair: %m\n"), -1;
	struct ipc_broker_peer_accept acc = { .peer_stage = "moatctl", .peer_pid = (uint32_t)ch->peer_pid,
					      .fd = sv[1] };
	struct ipc_control_grant g = { .stage = c->svc->stage, .pid = (uint32_t)c->pid, .fd = sv[0] };
	int r = ipc_chan_send(&c->ch, MSG_BROKER_PEER_ACCEPT, &acc) < 0 ? -1
		: ipc_chan_send(ch, MSG_CONTROL_GRANT, &g);

	if (r < 0)
		(void)buf_printf(out, "lookup channel: %s\n", buf_str(&c->ch.why));
	close(sv[0]);
	close(sv[1]);
	return r;
}

static void control_answer(struct broker *b, struct ipc_chan *ch, const struct ipc_control_request *r)
{
	struct ipc_control_reply rep = { .status = 0 };
	struct buf text = BUF_INIT;

	buf_init(&text, 60000);
	if (strcmp(r->command, "status") == 0) {
		control_status(b, &text);
	} else if (strcmp(r->command, "reload") == 0) {
		if (broker_reload(b, &text) < 0) {
			rep.status = 1;
			(void)buf_append_str(&text, "\nreload refused; the running configuration stays\n");
		} else {
			(void)buf_printf(&text, "reloaded: generation %u\n", b->generation);
		}
	} else if (strcmp(r->command, "lookup") == 0) {
		if (control_lookup(b, ch, &text) == 0) {
			buf_free(&text);
			return;
		}
		rep.status = 1;
	} else if (strcmp(r->command, "stop") == 0) {
		(void)buf_printf(&text, "stopping moatd pid %ld\n", (long)getpid());
		broker_shutdown(b);
	} else {
		rep.status = 1;
		(void)buf_printf(&text, "unknown command: %s (status, stop, reload, lookup)\n", r->command);
	}
	rep.text = buf_str(&text);
	(void)ipc_chan_send(ch, MSG_CONTROL_REPLY, &rep);
	buf_free(&text);
}

static void control_resume(void *ctx)
{
	struct broker *b = ctx;

	if (event_add(b->loop, b->ctlfd, EVENT_READ, broker_control_readable, b) < 0)
		msg_warn("control socket: %m");
}

/*
 * control_pause - accept failed (EMFILE, ENFILE, ENOMEM): the client stays
 * queued and the socket readable; look again in a second instead of
 * spinning on it.
 */
static void control_pause(struct broker *b)
{
	msg_warn("control socket: accept: %m; trying again in 1 s");
	event_del(b->loop, b->ctlfd);
	(void)event_timer_add(b->loop, 1000, control_resume, b);
}

void broker_control_readable(int fd, unsigned events, void *ctx)
{
	struct broker *b = ctx;
	struct timeval tv = { 1, 0 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ipc_chan ch;
	struct ipc_msg m;
	int cfd;

	(void)events;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			control_pause(b);
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
		msg_warn("control socket: refused a client that is not root");
		close(cfd);
		return;
	}
	(void)setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)ipc_chan_guard(cfd, IPC_CHAN_CONTROL, IPC_SIDE_B);
	ipc_chan_init(&ch, cfd, IPC_CHAN_CONTROL, IPC_SIDE_B, "moatctl", cred.pid);
	ipc_msg_init(&m);
	if (ipc_chan_hello(&ch) == 0 && ipc_chan_recv(&ch, &m) == IPC_RECV_MSG)
		control_answer(b, &ch, &m.u.control_request);
	else
		msg_warn("control socket: %s", buf_str(&ch.why));
	ipc_msg_free(&m);
	ipc_chan_close(&ch);
}
