/*
 * smtpd_screen.c - smtpd's side of its channel to the screen of its service.
 *
 * The broker gives an smtpd at most one channel, from the screen of its
 * service (IPC_CHAN_SCREEN, side B). screen sends MSG_SCREEN_CONN: a client
 * connection it has greeted, the bytes the client sent (its first command
 * line and whatever followed), and whether it was under stress. smtpd runs
 * the session and answers DONE; RETIRE says it wants to exit (after
 * max_use sessions, max_idle without one, or when the broker asks it to
 * stop), and it goes when screen closes the channel, so that no connection
 * is ever sent to a process on its way out. During a session, RATE asks
 * screen to count a MAIL or RCPT of this client against the client's rate
 * across every smtpd of the service; the answer is the rate.
 *
 * SECURITY: screen may be compromised. Its connection fd is checked to be a
 * socket by the codec; a CONN while a session runs, a reply that does not
 * match, or anything the channel table refuses is a violation: smtpd
 * reports screen to the broker and drops the channel (it finishes the
 * session it has). A screen that does not answer a RATE within
 * SCREEN_REPLY_TIMEOUT loses its channel; the limit is then not applied
 * to that request (as Postfix does when anvil cannot be reached).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/screenproto.h"
#include "lib/iox.h"
#include "lib/msg.h"

#define SCREEN_REPLY_TIMEOUT	10	/* seconds: screen answers at once or is broken */

static struct ipc_chan scr_chan = { .fd = -1 };
static struct ipc_msg scr_msg;
static uint32_t scr_session;	/* the session in progress, 0 if none */
static unsigned scr_generation;	/* channels accepted so far */

/*
 * screen_chan_gone - screen closed our channel: the broker, which saw it
 * close, may hand us the next one before we read the end of this one. What
 * is still unread there is something screen has already given up on (it
 * ends a session's count when it closes the channel).
 */
static int screen_chan_gone(void)
{
	struct pollfd p = { scr_chan.fd, POLLIN | POLLRDHUP, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

/*
 * screen_drop - close the channel first, then say why. A log line may make
 * the skeleton ask the broker for a new log channel and act on what the
 * broker sends meanwhile, which can be our next screen channel. Seen: the
 * next channel, accepted inside the warning about the last one, was closed
 * by the close that followed the warning, and its client lost.
 */
static void screen_drop(struct stage *st, int violation)
{
	struct ipc_chan old = scr_chan;	/* the peer's name and the why text, moved */

	scr_chan.why = (struct buf)BUF_INIT;
	smtpd_screen_close();
	if (violation)
		stage_report_violation(st, &old, buf_str(&old.why));
	else if (old.why.len > 0)
		msg_warn("screen channel: %s", buf_str(&old.why));
	buf_free(&old.why);
}

/* smtpd_screen_accept - stage_ops.peer_accept: the channel from our screen. */
void smtpd_screen_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct timeval tv = { SCREEN_REPLY_TIMEOUT, 0 };

	if (scr_chan.fd >= 0 && scr_session == 0 && screen_chan_gone())
		smtpd_screen_close();
	if (scr_chan.fd >= 0 || strcmp(peer_stage, "screen") != 0) {
		msg_warn("refusing a channel from %s[%ld]: %s", peer_stage, (long)peer_pid,
			 scr_chan.fd >= 0 ? "one screen channel at a time" : "only screen hands out clients");
		(void)close(fd);
		return;
	}
	ipc_chan_init(&scr_chan, fd, IPC_CHAN_SCREEN, IPC_SIDE_B, peer_stage, peer_pid);
	ipc_msg_init(&scr_msg);
	if (iox_set_nonblock(fd, 0) < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0
	    || ipc_chan_hello(&scr_chan) < 0) {
		/* a screen that let go at once (it was stopping): free for the next */
		int err = errno;

		smtpd_screen_close();
		errno = err;
		msg_warn("channel from screen[%ld]: %m", (long)peer_pid);
		stage_status(st, scr_chan.fd >= 0, 0);
		return;
	}
	scr_generation++;
	smtpd_attack_screen(st, fd);	/* test build only */
	stage_status(st, 1, 0);
}

int smtpd_screen_fd(void)
{
	return scr_chan.fd;
}

unsigned smtpd_screen_generation(void)
{
	return scr_generation;
}

/* smtpd_screen_close - drop the channel. */
void smtpd_screen_close(void)
{
	ipc_chan_close(&scr_chan);
	ipc_msg_free(&scr_msg);
	scr_chan.fd = -1;
	scr_session = 0;
}

/* screen_violation - screen broke the protocol: drop the channel and report it. */
static void screen_violation(struct stage *st, const char *why)
{
	(void)buf_set_str(&scr_chan.why, why);
	screen_drop(st, 1);
}

/*
 * smtpd_screen_next - read what screen sent: 1 and *conn set for a client
 * (its fd is ours), 0 for nothing yet, -1 when the channel is gone.
 */
int smtpd_screen_next(struct stage *st, struct smtpd_conn *conn)
{
	int r = ipc_chan_recv(&scr_chan, &scr_msg);

	if (r == IPC_RECV_AGAIN)
		return 0;
	if (r == IPC_RECV_EOF || r == IPC_RECV_ERROR || r == IPC_RECV_VIOLATION) {
		if (r == IPC_RECV_EOF)
			buf_reset(&scr_chan.why);
		screen_drop(st, r == IPC_RECV_VIOLATION);
		return -1;
	}
	if (scr_msg.type != MSG_SCREEN_CONN || (scr_msg.u.screen_conn.flags & ~SCREEN_F_ALL)) {
		screen_violation(st, "unexpected message between sessions");
		return -1;
	}
	conn->session = scr_session = scr_msg.u.screen_conn.session;
	conn->flags = scr_msg.u.screen_conn.flags;
	conn->input = (const char *)scr_msg.u.screen_conn.input;
	conn->input_len = scr_msg.u.screen_conn.input_len;
	conn->fd = ipc_msg_take_fd(&scr_msg, scr_msg.u.screen_conn.fd);
	return 1;
}

/* smtpd_screen_done - the session is over (the client socket is closed). */
void smtpd_screen_done(struct stage *st)
{
	struct ipc_screen_done d = { .session = scr_session };

	if (scr_session == 0)
		return;		/* the channel that gave us the session is gone */
	scr_session = 0;
	if (scr_chan.fd >= 0 && ipc_chan_send(&scr_chan, MSG_SCREEN_DONE, &d) < 0)
		screen_drop(st, 0);
}

/* smtpd_screen_retire - ask screen to close the channel once it is idle. */
void smtpd_screen_retire(struct stage *st, uint32_t uses)
{
	struct ipc_screen_retire m = { .uses = uses };

	if (scr_chan.fd >= 0 && ipc_chan_send(&scr_chan, MSG_SCREEN_RETIRE, &m) < 0)
		screen_drop(st, 0);
}

/*
 * smtpd_screen_rate - count one event (SCREEN_RATE_MAIL/RCPT) of this
 * session's client with screen; the client's rate, or 0 if screen cannot
 * tell (no limit is then applied).
 */
uint32_t smtpd_screen_rate(struct smtpd_session *s, uint32_t event)
{
	struct ipc_screen_rate q = { .session = scr_session, .event = event };
	int r;

	if (scr_chan.fd < 0 || scr_session == 0)
		return 0;
	if (ipc_chan_send(&scr_chan, MSG_SCREEN_RATE, &q) < 0
	    || (r = ipc_chan_recv(&scr_chan, &scr_msg)) != IPC_RECV_MSG) {
		(void)buf_append_str(&scr_chan.why, "; client rate limits not applied");
		screen_drop(s->st, 0);
		return 0;
	}
	if (scr_msg.type != MSG_SCREEN_RATE_REPLY
	    || scr_msg.u.screen_rate_reply.session != scr_session) {
		screen_violation(s->st, "unexpected answer to a rate request");
		return 0;
	}
	return scr_msg.u.screen_rate_reply.rate;
}
