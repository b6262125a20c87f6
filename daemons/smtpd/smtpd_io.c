/*
 * smtpd_io.c - buffered client I/O for one SMTP session.
 *
 * One read() fills a 64 KB input buffer; command lines and DATA content are
 * taken from it without further syscalls. The socket blocks, with
 * smtpd_timeout as its receive and send timeout, so waiting for the next
 * command is that one read. Replies accumulate in an output
 * buffer that is written only when the client has no complete command
 * waiting (one write per pipelined batch), or when the session needs an
 * answer from the client. Every wait is bounded by smtpd_timeout.
 *
 * Deadlines (smtpd_per_request_deadline, on by default): smtpd_timeout
 * bounds a whole request, not each read, so a client that trickles one
 * byte at a time cannot hold the session. The fast path is unchanged: the
 * first read of a request is the plain blocking read (SO_RCVTIMEO is the
 * whole budget); only a partial line or DATA that has used part of its
 * budget polls for the time left first. During DATA each read adds
 * bytes/smtpd_min_data_rate seconds, never past smtpd_timeout from now.
 * Every 4xx/5xx reply counts as a client error (soft/hard limits, tarpit),
 * judged by the formatted text, whoever built it; only the 452s of
 * recipients within smtpd_recipient_overshoot_limit are sent uncounted.
 *
 * SECURITY: the input is the network. A line longer than SMTPD_LINE_MAX is
 * discarded as it arrives, never stored whole; the input buffer has a hard
 * cap, so no client can make this process allocate without bound.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

#define SMTPD_IN_SIZE	(64 * 1024)
#define SMTPD_OUT_FLUSH	(32 * 1024)	/* pending replies written at this size */

int64_t smtpd_io_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * smtpd_io_timeouts - the client socket blocks, for at most seconds per
 * read or write: one read() per command instead of a poll() and a read()
 * (EAGAIN is the timeout). smtpd_timeout, or smtpd_starttls_timeout while
 * the TLS handshake runs.
 */
int smtpd_io_timeouts(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		msg_warn("client socket timeouts: %m");
		return -1;
	}
	return 0;
}

/* smtpd_io_deadline - the request that starts now must be complete within smtpd_timeout. */
void smtpd_io_deadline(struct smtpd_session *s)
{
	s->deadline = smtpd_io_now_ms() + (int64_t)s->lim->timeout * 1000;
}

/*
 * io_wait - before a read: wait for input within the request's time left;
 * 1 to read, -1 timed out. With (nearly) the whole budget left no wait is
 * needed: the read's own SO_RCVTIMEO (the whole budget) passes the deadline
 * by at most the slack, a tenth of smtpd_timeout and at most a second.
 */
static int io_wait(struct smtpd_session *s)
{
	int64_t full = (int64_t)s->lim->timeout * 1000, left;
	struct pollfd p = { s->fd, POLLIN, 0 };
	int r;

	if (!s->lim->deadline || s->deadline == 0 || (s->ssl && SSL_pending(s->ssl) > 0))
		return 1;
	left = s->deadline - smtpd_io_now_ms();
	if (left > 0 && left >= full - (full / 10 < 1000 ? full / 10 : 1000))
		return 1;
	if (left > 0) {
		while ((r = poll(&p, 1, (int)left)) < 0 && errno == EINTR)
			;
		if (r != 0)
			return 1;	/* input, hangup or error: the read says which */
	}
	s->timed_out = 1;
	return -1;
}

/* io_data_credit - DATA: n bytes arrived; they buy n/smtpd_min_data_rate seconds. */
static void io_data_credit(struct smtpd_session *s, size_t n)
{
	int64_t cap;

	if (!s->in_data || !s->lim->deadline || s->deadline == 0)
		return;
	cap = smtpd_io_now_ms() + (int64_t)s->lim->timeout * 1000;
	s->deadline += (int64_t)(n * 1000 / (size_t)s->lim->min_data_rate);
	if (s->deadline > cap)
		s->deadline = cap;
}

/*
 * io_read, io_send - the socket, or the TLS session on it after STARTTLS,
 * with read()/send()'s results: -1 and errno EAGAIN when the socket's
 * timeout passed, EPIPE for any other failure of TLS, 0 at the end.
 */
static ssize_t io_read(struct smtpd_session *s, void *p, size_t n)
{
	size_t got = 0;
	int e;

	if (s->ssl == NULL)
		return read(s->fd, p, n);
	if (SSL_read_ex(s->ssl, p, n, &got))
		return (ssize_t)got;
	e = SSL_get_error(s->ssl, 0);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e != SSL_ERROR_SYSCALL || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		errno = EPIPE;
	return -1;
}

static ssize_t io_send(struct smtpd_session *s, const void *p, size_t n)
{
	size_t put = 0;
	int e;

	if (s->ssl == NULL)
		return send(s->fd, p, n, MSG_NOSIGNAL);
	if (SSL_write_ex(s->ssl, p, n, &put))
		return (ssize_t)put;
	e = SSL_get_error(s->ssl, 0);
	if (e != SSL_ERROR_SYSCALL || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		errno = EPIPE;
	return -1;
}

/* smtpd_io_fill - read what the client sent: 1 data, 0 EOF, -1 error or timeout. */
int smtpd_io_fill(struct smtpd_session *s)
{
	ssize_t n;

	if (s->inpos > 0) {
		buf_consume(&s->in, s->inpos);
		s->inpos = 0;
	}
	if (buf_reserve(&s->in, SMTPD_IN_SIZE - s->in.len) < 0)
		msg_panic("smtpd input buffer cap");
	/* The read may wait: the client must have every reply first. */
	if (smtpd_flush(s) < 0 || io_wait(s) < 0)
		return -1;
	for (;;) {
		n = io_read(s, s->in.data + s->in.len, SMTPD_IN_SIZE - s->in.len);
		if (n > 0) {
			s->in.len += (size_t)n;
			s->in.data[s->in.len] = 0;
			io_data_credit(s, (size_t)n);
			return 1;
		}
		if (n == 0) {
			s->eof = 1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		/* The socket blocks with SO_RCVTIMEO = smtpd_timeout (smtpd.c). */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			s->timed_out = 1;
		else
			s->io_error = 1;
		return -1;
	}
}

size_t smtpd_io_pending(const struct smtpd_session *s)
{
	return s->in.len - s->inpos;
}

/*
 * smtpd_io_getline - the next command line without its line end (CRLF or
 * a bare LF, which Postfix's "normal" mode accepts for commands). Returns 1,
 * 0 on EOF/error/timeout, SMTPD_LINE_TOOLONG (the whole line was discarded)
 * or SMTPD_LINE_NUL. Output is flushed before the process waits.
 */
int smtpd_io_getline(struct smtpd_session *s, const char **line, size_t *len, size_t *wirelen)
{
	int skipping = 0;

	s->deadline = 0;	/* a new request: its clock starts at its first wait */
	for (;;) {
		const char *p = s->in.data ? s->in.data + s->inpos : NULL;
		size_t avail = smtpd_io_pending(s);
		const char *nl = avail ? memchr(p, '\n', avail) : NULL;

		if (nl == NULL) {
			if (avail > SMTPD_LINE_MAX) {
				skipping = 1;	/* keep nothing of an overlong line */
				s->inpos = s->in.len;
			}
			if (s->deadline == 0)
				smtpd_io_deadline(s);
			if (smtpd_flush(s) < 0 || smtpd_io_fill(s) <= 0)
				return 0;
			continue;
		}
		*wirelen = (size_t)(nl - p) + 1;
		*line = p;
		*len = *wirelen - 1;
		if (*len > 0 && p[*len - 1] == '\r')
			(*len)--;
		s->inpos += *wirelen;
		if (skipping || *wirelen > SMTPD_LINE_MAX)
			return SMTPD_LINE_TOOLONG;
		if (memchr(p, 0, *len) != NULL)
			return SMTPD_LINE_NUL;
		return 1;
	}
}

/* io_tarpit - Postfix: once errors pass the soft limit, each error reply waits. */
static void io_tarpit(struct smtpd_session *s)
{
	struct timespec ts = { s->cf->error_sleep, 0 };

	if (++s->errors <= s->cf->soft_limit || s->cf->error_sleep <= 0)
		return;
	if (smtpd_flush(s) < 0)
		return;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * io_reply - format one reply (or lines, with embedded CRLF) and queue it.
 * The code is read from the formatted text, never from the format string:
 * a reply built elsewhere and sent through "%s" is as much an error as a
 * literal one. A 4xx/5xx counts toward the error limits and the tarpit
 * unless counted is 0; the tarpit sleeps before this reply is queued.
 */
static void io_reply(struct smtpd_session *s, int counted, const char *fmt, va_list ap)
{
	struct buf *r = &s->reply;
	size_t start;
	char code;

	buf_reset(r);
	if (buf_vprintf(r, fmt, ap) < 0 || r->len == 0)
		buf_set_str(r, "451 4.3.0 Error: internal error");	/* cannot happen: replies are short */
	code = r->data[0];
	s->reply_ok = code == '2' || code == '3';
	if (counted && (code == '4' || code == '5'))
		io_tarpit(s);
	/* a long pipelined batch: send what is queued rather than grow */
	if (s->out.len + r->len + 2 > SMTPD_OUT_FLUSH && smtpd_flush(s) < 0)
		return;
	start = s->out.len;
	if (buf_append(&s->out, r->data, r->len) < 0 || buf_append(&s->out, "\r\n", 2) < 0) {
		msg_warn("reply buffer full: reply dropped");	/* cannot happen: flushed per command */
		return;
	}
	if (s->cf->pol.reject_footer[0] && (code == '4' || code == '5'))
		smtpd_opts_footer(s, start);
	if (msg_verbose)
		smtpd_opts_trace(s, start);
}

void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	io_reply(s, 1, fmt, ap);
	va_end(ap);
}

void smtpd_reply_uncounted(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	io_reply(s, 0, fmt, ap);
	va_end(ap);
}

/* smtpd_flush - write all pending replies; -1 on error or timeout. */
int smtpd_flush(struct smtpd_session *s)
{
	size_t off = 0;

	while (off < s->out.len) {
		/* blocking, bounded by SO_SNDTIMEO = smtpd_timeout (smtpd.c) */
		ssize_t n = io_send(s, s->out.data + off, s->out.len - off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			s->timed_out = 1;
		else
			s->io_error = 1;
		buf_reset(&s->out);
		return -1;
	}
	buf_reset(&s->out);
	return 0;
}
