/*
 * smtpd.c - the smtpd stage: the SMTP server, one session per process at a time.
 *
 * The broker passes the listening socket(s) at fds 5.. (st->nextra). The
 * loop polls them and the broker channel, accepts one connection, tells the
 * broker it is busy, runs the session (smtpd_session.c), and tells it it is
 * idle again. The process exits after max_use sessions, after max_idle
 * seconds without one, or when the broker asks it to stop; the broker
 * starts another as needed, so a slow client never blocks the others.
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty,
 * in an empty network namespace (it accepts on the broker's socket, which
 * works from any namespace), no capabilities, seccomp allowlist without
 * open() or socket(). It trusts nothing a client sends. It may talk only to
 * the broker, the log stage, cleanup and dns (the client's host name) over
 * IPC; the message never touches a file here. It must never let client
 * input choose a code path that allocates without bound or relays for an
 * untrusted client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/iox.h"
#include "lib/msg.h"

#define SMTPD_MAX_LISTEN 16

static struct smtpd_conf smtpd_conf;
static struct smtpd_session smtpd_sess;

static void smtpd_pre_jail(struct stage *st)
{
	smtpd_conf_load(&smtpd_conf, st);
}

/* smtpd_sockaddr - printable address, port and binary form (IPv4-mapped shown as IPv4). */
static void smtpd_sockaddr(const struct sockaddr_storage *ss, char *text, size_t tlen,
			   int *family, unsigned char ip[16], unsigned *port)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(ip, 0, 16);
	*family = ss->ss_family;
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		memcpy(ip, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		memcpy(ip, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
		if (memcmp(ip, mapped, 12) == 0) {
			memmove(ip, ip + 12, 4);
			memset(ip + 4, 0, 12);
			*family = AF_INET;
		}
	}
	if (*family != AF_INET && *family != AF_INET6) {
		snprintf(text, tlen, "unknown");
		return;
	}
	if (inet_ntop(*family, ip, text, (socklen_t)tlen) == NULL)
		snprintf(text, tlen, "unknown");
}

/* smtpd_session_init - reset the one session struct for a new client (buffers are kept). */
static void smtpd_session_init(struct smtpd_session *s, struct stage *st, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned lport;

	s->st = st;
	s->cf = &smtpd_conf;
	s->fd = fd;
	s->name = s->reverse_name = "unknown";	/* until smtpd_dns_client_name */
	buf_reset(&s->in);
	s->inpos = 0;
	buf_reset(&s->out);
	buf_reset(&s->helo);
	buf_reset(&s->sender);
	buf_reset(&s->qid);
	s->eof = s->io_error = s->timed_out = s->reply_ok = s->rejected_rcpts = 0;
	s->esmtp = s->unauth_pipelined = s->errors = s->junk = s->quit = 0;
	s->in_mail = s->nrcpt = s->cleanup_open = s->in_data = 0;
	s->sender_flags = 0;
	s->data_bytes = 0;
	memset(&s->mp, 0, sizeof(s->mp));
	memset(s->count, 0, sizeof(s->count));
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		ss.ss_family = AF_UNSPEC;
	smtpd_sockaddr(&ss, s->addr, sizeof(s->addr), &s->family, s->ip, &s->port);
	sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		ss.ss_family = AF_UNSPEC;
	smtpd_sockaddr(&ss, s->laddr, sizeof(s->laddr), &s->lfamily, s->lip, &lport);
	s->trusted = cidr_list_match(&smtpd_conf.pol.mynetworks, s->family, s->ip)
		     || (smtpd_conf.pol.mynetworks_computed && s->family == s->lfamily
			 && memcmp(s->ip, s->lip, 16) == 0);
}

static void smtpd_buffers_init(struct smtpd_session *s)
{
	buf_init(&s->in, 64 * 1024);
	buf_init(&s->out, 64 * 1024);
	buf_init(&s->helo, 512);
	buf_init(&s->sender, 512);
	buf_init(&s->qid, 64);
	buf_init(&s->line, 4096);
	buf_init(&s->namebuf, 512);
}

/*
 * smtpd_client_timeouts - the client socket blocks, for at most
 * smtpd_timeout per read or write: one read() per command instead of a
 * poll() and a read() (smtpd_io.c treats EAGAIN as the timeout).
 */
static int smtpd_client_timeouts(int fd)
{
	struct timeval tv = { smtpd_conf.timeout, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		msg_warn("client socket timeouts: %m");
		return -1;
	}
	return 0;
}

static void smtpd_serve(struct stage *st, int lfd, uint32_t *uses)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			msg_warn("accept: %m");
		return;
	}
	if (smtpd_client_timeouts(fd) < 0) {
		(void)close(fd);
		return;
	}
	++*uses;
	stage_status(st, 1, *uses);
	smtpd_session_init(&smtpd_sess, st, fd);
	smtpd_dns_client_name(&smtpd_sess);
	smtpd_session_run(&smtpd_sess);
	smtpd_cleanup_release();
	if (close(fd) < 0)
		msg_warn("close client socket: %m");
	stage_status(st, 0, *uses);
}

static void smtpd_run(struct stage *st)
{
	struct pollfd p[SMTPD_MAX_LISTEN + 1];
	int nl = st->nextra < SMTPD_MAX_LISTEN ? st->nextra : SMTPD_MAX_LISTEN;
	uint32_t uses = 0;
	time_t idle_since = time(NULL);

	smtpd_buffers_init(&smtpd_sess);
	if (iox_set_nonblock(st->broker.fd, 0) < 0)
		msg_fatal("broker channel: %m");
	p[0].fd = st->broker.fd;
	p[0].events = POLLIN;
	for (int i = 0; i < nl; i++) {
		p[i + 1].fd = STAGE_FD_EXTRA + i;
		p[i + 1].events = POLLIN;
		if (iox_set_nonblock(p[i + 1].fd, 1) < 0)
			msg_fatal("listening socket %d: %m", p[i + 1].fd);
	}
	while (!st->stopping && uses < (uint32_t)smtpd_conf.max_use) {
		time_t left = idle_since + smtpd_conf.max_idle - time(NULL);
		int r;

		if (left <= 0)
			return;
		r = poll(p, (nfds_t)nl + 1, (int)left * 1000);
		if (r < 0 && errno != EINTR)
			msg_fatal("poll: %m");
		if (r <= 0)
			continue;
		if ((p[0].revents & (POLLIN | POLLHUP)) && stage_broker_dispatch(st, 0) < 0)
			return;
		for (int i = 1; i <= nl && !st->stopping; i++) {
			if (p[i].revents & POLLIN) {
				smtpd_serve(st, p[i].fd, &uses);
				idle_since = time(NULL);
				break;	/* one session, then look at the broker again */
			}
		}
	}
}

static const struct stage_ops smtpd_ops = {
	.pre_jail = smtpd_pre_jail,
	.run = smtpd_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "smtpd", &smtpd_ops);
}
