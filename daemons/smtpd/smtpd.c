/*
 * smtpd.c - the smtpd stage: the SMTP server, one session per process at a time.
 *
 * smtpd holds no listener. The screen of its inet service accepts, greets
 * and waits for each client's first command line, then hands the
 * connection over, with the bytes already read, on the one channel the
 * broker gave this process (smtpd_screen.c). The loop polls that channel
 * and the broker's, runs one session at a time (smtpd_session.c) with the
 * normal or the stress limits screen asked for, and says DONE. It leaves
 * after max_use sessions, after max_idle without one, or when the broker
 * asks it to stop: with a channel, by asking screen to close it (RETIRE),
 * so a client is never handed to a process on its way out.
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty,
 * in an empty network namespace, no capabilities, seccomp allowlist without
 * open(), socket() or accept(): it cannot reach, shut down or take from a
 * listening socket, nor make any connection. It trusts nothing a client
 * sends, nor its screen beyond the channel's protocol. It may talk only to
 * the broker, the log stage, cleanup and dns (the client's host name) over
 * IPC; the message never touches a file here. It must never let client
 * input choose a code path that allocates without bound or relays for an
 * untrusted client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/screenproto.h"
#include "lib/iox.h"
#include "lib/netaddr.h"
#include "lib/msg.h"

#define SMTPD_RETIRE_WAIT_MS	30000	/* after RETIRE, wait this long for screen to let go */

static struct smtpd_conf smtpd_conf;
static struct smtpd_session smtpd_sess;

static void smtpd_pre_jail(struct stage *st)
{
	smtpd_conf_load(&smtpd_conf, st);
	smtpd_tls_init(&smtpd_conf, st);
}

/* smtpd_session_init - reset the one session struct for a new client (buffers are kept). */
static void smtpd_session_init(struct smtpd_session *s, struct stage *st,
			       const struct smtpd_conn *conn, const struct smtpd_limits *l)
{
	struct netaddr peer, local;
	int fd = conn->fd;

	s->st = st;
	s->cf = &smtpd_conf;
	s->lim = l;
	s->fd = fd;
	s->excepted = (conn->flags & SCREEN_F_EXCEPT) != 0;
	s->name = s->reverse_name = "unknown";	/* until smtpd_dns_client_name */
	if (buf_set(&s->in, conn->input, conn->input_len) < 0)
		buf_reset(&s->in);	/* cannot happen: the IPC field is smaller than the buffer */
	s->inpos = 0;
	buf_reset(&s->out);
	s->ssl = NULL;
	buf_reset(&s->helo);
	buf_reset(&s->sender);
	buf_reset(&s->qid);
	s->eof = s->io_error = s->timed_out = s->reply_ok = s->rejected_rcpts = 0;
	s->rcpt_overshoot = 0;
	s->esmtp = s->unauth_pipelined = s->errors = s->junk = s->quit = 0;
	s->in_mail = s->nrcpt = s->cleanup_open = s->in_data = s->discard = s->hold = 0;
	buf_reset(&s->prepend);
	buf_reset(&s->redirect);
	buf_reset(&s->bcc);
	s->transaction = 0;
	s->started_ms = smtpd_io_now_ms();
	s->sender_flags = 0;
	s->data_bytes = 0;
	memset(&s->mp, 0, sizeof(s->mp));
	memset(s->count, 0, sizeof(s->count));
	netaddr_of_fd(&peer, fd, 0);
	netaddr_of_fd(&local, fd, 1);
	memcpy(s->addr, peer.text, sizeof(s->addr));
	s->family = peer.family;
	memcpy(s->ip, peer.ip, 16);
	s->port = peer.port;
	memcpy(s->laddr, local.text, sizeof(s->laddr));
	s->lfamily = local.family;
	memcpy(s->lip, local.ip, 16);
	s->trusted = mynetworks_match(&smtpd_conf.pol.mynetworks, s->family, s->ip, s->lfamily, s->lip);
}

static void smtpd_buffers_init(struct smtpd_session *s)
{
	buf_init(&s->in, 64 * 1024);
	buf_init(&s->out, 64 * 1024);
	buf_init(&s->reply, 8192);
	buf_init(&s->helo, 512);
	buf_init(&s->sender, 512);
	buf_init(&s->qid, 64);
	buf_init(&s->line, 4096);
	buf_init(&s->tls, 1024);
	buf_init(&s->namebuf, 512);
	buf_init(&s->prepend, 8192);
	buf_init(&s->redirect, 600);
	buf_init(&s->bcc, 8192);
}

/* smtpd_serve - run the session screen handed over, then tell screen it is over. */
static void smtpd_serve(struct stage *st, const struct smtpd_conn *conn, uint32_t *uses)
{
	const struct smtpd_limits *l = conn->flags & SCREEN_F_STRESS ? &smtpd_conf.stress
								    : &smtpd_conf.normal;

	++*uses;
	if (smtpd_io_timeouts(conn->fd, l->timeout) == 0) {
		smtpd_session_init(&smtpd_sess, st, conn, l);
		smtpd_dns_client_name(&smtpd_sess);
		smtpd_session_run(&smtpd_sess);
		smtpd_cleanup_release();
		smtpd_tls_end(&smtpd_sess);
	}
	if (close(conn->fd) < 0)
		msg_warn("close client socket: %m");
	smtpd_screen_done(st);
}

/*
 * smtpd_leave - no channel and time to go: 1 to exit, 0 if a channel came
 * meanwhile. Seen: the broker granted screen a channel to an smtpd that had
 * just decided to exit after max_use sessions; the client screen sent on it
 * was closed with the process ("lost connection while sending HELO", about
 * one smtp-source run in three with a connection per message). The broker
 * now hears that we leave and answers; what it granted before is served.
 */
static int smtpd_leave(struct stage *st, uint32_t uses)
{
	(void)stage_leave(st, uses);
	return smtpd_screen_fd() < 0;
}

/* smtpd_wait - wait for the broker or screen; 1 if screen has something for us. */
static int smtpd_wait(struct stage *st, int64_t timeout_ms)
{
	struct pollfd p[2] = { { st->broker.fd, POLLIN, 0 }, { smtpd_screen_fd(), POLLIN, 0 } };
	int r = poll(p, 2, timeout_ms > 600000 ? 600000 : (int)timeout_ms);

	if (r < 0 && errno != EINTR)
		msg_fatal("poll: %m");
	if (r <= 0)
		return 0;
	if ((p[0].revents & (POLLIN | POLLHUP)) && stage_broker_dispatch(st, 0) < 0)
		exit(0);
	return smtpd_screen_fd() >= 0 && p[1].revents != 0;
}

/*
 * smtpd_run - take clients from screen, one at a time. To exit (max_use,
 * max_idle, the broker's stop) with a channel, ask screen to close it and
 * go at its end; a screen that never does is given SMTPD_RETIRE_WAIT_MS.
 * Without a channel, leave only once the broker says no other is coming.
 */
static void smtpd_run(struct stage *st)
{
	int64_t max_idle = (int64_t)smtpd_conf.max_idle * 1000, idle_since, retire_at = 0;
	unsigned retired = 0;	/* the channel generation RETIRE went on */
	uint32_t uses = 0;
	struct smtpd_conn conn;

	if (st->start_flags & STAGE_START_CHECK)
		exit(0);	/* pre_jail took the settings, TLS too (moatd's check run) */
	smtpd_buffers_init(&smtpd_sess);
	if (iox_set_nonblock(st->broker.fd, 0) < 0)
		msg_fatal("broker channel: %m");
	idle_since = smtpd_io_now_ms();
	for (;;) {
		int64_t now = smtpd_io_now_ms(), wait = idle_since + max_idle - now;
		int leaving = st->stopping || uses >= (uint32_t)smtpd_conf.max_use || wait <= 0;
		int r;

		if (leaving && smtpd_screen_fd() < 0 && smtpd_leave(st, uses))
			return;
		/* again on a channel the broker granted after screen closed the last */
		if (leaving && smtpd_screen_fd() >= 0 && retired != smtpd_screen_generation()) {
			smtpd_screen_retire(st, uses);
			retired = smtpd_screen_generation();
			retire_at = now;
		}
		if (retire_at && now - retire_at > SMTPD_RETIRE_WAIT_MS) {
			smtpd_screen_close();	/* screen never let go: leave without it */
			retire_at = 0;
			continue;
		}
		if (!smtpd_wait(st, leaving || wait <= 0 ? 1000 : wait))
			continue;
		if ((r = smtpd_screen_next(st, &conn)) > 0) {
			smtpd_serve(st, &conn, &uses);
			idle_since = smtpd_io_now_ms();
			if (smtpd_screen_fd() < 0 && retire_at == 0)
				stage_status(st, 0, uses);	/* screen broke during the session */
		} else if (r < 0 && smtpd_screen_fd() < 0 && !retire_at && !leaving) {
			stage_status(st, 0, uses);	/* free for another screen channel */
		}	/* (leaving: the top of the loop asks the broker to let us go) */
	}
}

static const struct stage_ops smtpd_ops = {
	.pre_jail = smtpd_pre_jail,
	.peer_accept = smtpd_screen_accept,
	.run = smtpd_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "smtpd", &smtpd_ops);
}
