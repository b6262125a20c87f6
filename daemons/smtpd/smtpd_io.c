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
 * SECURITY: the input is the network. A line longer than SMTPD_LINE_MAX is
 * discarded as it arrives, never stored whole; the input buffer has a hard
 * cap, so no client can make this process allocate without bound.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

#define SMTPD_IN_SIZE	(64 * 1024)

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
	if (smtpd_flush(s) < 0)
		return -1;
	for (;;) {
		n = read(s->fd, s->in.data + s->in.len, SMTPD_IN_SIZE - s->in.len);
		if (n > 0) {
			s->in.len += (size_t)n;
			s->in.data[s->in.len] = 0;
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

	for (;;) {
		const char *p = s->in.data ? s->in.data + s->inpos : NULL;
		size_t avail = smtpd_io_pending(s);
		const char *nl = avail ? memchr(p, '\n', avail) : NULL;

		if (nl == NULL) {
			if (avail > SMTPD_LINE_MAX) {
				skipping = 1;	/* keep nothing of an overlong line */
				s->inpos = s->in.len;
			}
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

/* smtpd_reply - queue one reply line (or lines, with embedded CRLF). */
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;
	size_t start;

	s->reply_ok = fmt[0] == '2' || fmt[0] == '3';
	if (fmt[0] == '4' || fmt[0] == '5')
		io_tarpit(s);
	start = s->out.len;
	va_start(ap, fmt);
	if (buf_vprintf(&s->out, fmt, ap) < 0 || buf_append(&s->out, "\r\n", 2) < 0)
		buf_truncate(&s->out, start);	/* cannot happen: replies are short */
	va_end(ap);
	if (s->cf->pol.reject_footer[0] && start < s->out.len
	    && (s->out.data[start] == '4' || s->out.data[start] == '5'))
		smtpd_opts_footer(s, start);
	if (msg_verbose)
		smtpd_opts_trace(s, start);
}

/* smtpd_flush - write all pending replies; -1 on error or timeout. */
int smtpd_flush(struct smtpd_session *s)
{
	size_t off = 0;

	while (off < s->out.len) {
		/* blocking, bounded by SO_SNDTIMEO = smtpd_timeout (smtpd.c) */
		ssize_t n = send(s->fd, s->out.data + off, s->out.len - off, MSG_NOSIGNAL);

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
