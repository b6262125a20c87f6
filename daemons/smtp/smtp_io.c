/*
 * smtp_io.c - the smtp client's bytes on the wire: connect, write, read
 * replies and send message content, each with a deadline.
 *
 * Called by smtp_session.c. The socket is non-blocking; every wait is a
 * poll() with the remaining time, so a server that stalls or trickles can
 * never hold the stage past the Postfix time limit of that step. Replies are
 * parsed in the receive buffer by mail/smtp_reply.c, whose caps bound what a
 * server can make us buffer. Content is read from the queue file fd with
 * pread in large chunks through queue/qcontent.c (one write per 64 KB; the
 * last write carries the final ".\r\n"), never line by line: it is stored
 * in wire form already. After STARTTLS (smtp_tls.c) the same functions go
 * through the connection's SSL object: a read or write that OpenSSL says
 * must wait for the other direction waits for that one, on the same
 * deadline.
 *
 * SECURITY: everything read here comes from a server and is hostile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "daemons/smtp/smtp.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "mail/linefold.h"
#include "queue/qcontent.h"
#include "queue/qenv.h"

#define SMTP_IO_CHUNK	(64 * 1024)

uint64_t smtp_now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int64_t io_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t smtp_io_deadline(int64_t timeout_s)
{
	return io_mono_ms() + timeout_s * 1000;
}

/* smtp_io_wait - poll one fd until deadline_ms; 1 ready, 0 timeout, -1 error. */
int smtp_io_wait(int fd, short ev, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = { fd, ev, 0 };
		int64_t left = deadline_ms - io_mono_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * io_xfer - one send or recv, in the clear or through TLS. Returns bytes
 * moved, 0 for end of stream, -1 with errno (EAGAIN: *ev says which
 * direction to wait for; else the connection is lost).
 */
static ssize_t io_xfer(struct smtp_conn *c, void *p, size_t n, int out, short *ev)
{
	int r, e;

	*ev = out ? POLLOUT : POLLIN;
	if (c->ssl == NULL)
		return out ? send(c->fd, p, n, MSG_NOSIGNAL) : recv(c->fd, p, n, MSG_DONTWAIT);
	ERR_clear_error();
	r = out ? SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n)
		: SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = EPIPE;
	return -1;
}

void smtp_conn_close(struct smtp_conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	c->tls = 0;
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	c->key[0] = 0;
	buf_reset(&c->rbuf);
}

int smtp_io_connect(const struct smtp_addr *a, int64_t timeout_s, struct buf *why)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, err = 0;
	socklen_t elen = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET6, a->addr, &s6->sin6_addr) != 1)
			goto bad;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET, a->addr, &s4->sin_addr) != 1)
			goto bad;
		sl = sizeof(*s4);
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		buf_printf(why, "%m");
		return -1;
	}
	/* Commands and the final dot go out at once: no Nagle delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS) {
			buf_printf(why, "%m");
			(void)close(fd);
			return -1;
		}
		switch (smtp_io_wait(fd, POLLOUT, io_mono_ms() + (timeout_s > 0 ? timeout_s : 75) * 1000)) {
		case 0:
			buf_set_str(why, "Connection timed out");
			(void)close(fd);
			return -1;
		case -1:
			buf_printf(why, "%m");
			(void)close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			errno = err;
			buf_printf(why, "%m");
			(void)close(fd);
			return -1;
		}
	}
	return fd;
bad:
	buf_set_str(why, "bad address");
	return -1;
}

int smtp_io_write(struct smtp_conn *c, const void *p, size_t n, int64_t timeout_s)
{
	const char *b = p;
	int64_t deadline = io_mono_ms() + timeout_s * 1000;

	while (n > 0) {
		short ev;
		ssize_t w = io_xfer(c, (void *)b, n, 1, &ev);

		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return SMTP_IO_LOST;
		switch (smtp_io_wait(c->fd, ev, deadline)) {
		case 0:
			return SMTP_IO_TIMEOUT;
		case -1:
			return SMTP_IO_LOST;
		}
	}
	return SMTP_IO_OK;
}

int smtp_io_reply(struct smtp_conn *c, struct smtp_reply *r, int64_t timeout_s, struct buf *why)
{
	int64_t deadline = io_mono_ms() + timeout_s * 1000;

	for (;;) {
		size_t used = 0;
		int pr = smtp_reply_parse(r, c->rbuf.data ? c->rbuf.data : "", c->rbuf.len, &used, why);
		char tmp[16384];
		short ev;
		ssize_t n;

		if (pr == SMTP_REPLY_DONE) {
			buf_consume(&c->rbuf, used);
			return SMTP_IO_OK;
		}
		if (pr == SMTP_REPLY_BAD)
			return SMTP_IO_BAD;
		n = io_xfer(c, tmp, sizeof(tmp), 0, &ev);
		if (n > 0) {
			if (buf_append(&c->rbuf, tmp, (size_t)n) < 0) {
				buf_set_str(why, "server sent too much");
				return SMTP_IO_BAD;
			}
			continue;
		}
		if (n == 0)
			return SMTP_IO_LOST;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return SMTP_IO_LOST;
		switch (smtp_io_wait(c->fd, ev, deadline)) {
		case 0:
			return SMTP_IO_TIMEOUT;
		case -1:
			return SMTP_IO_LOST;
		}
	}
}

/*
 * smtp_io_header_8bit - 1 if the header section (up to the first empty
 * line) holds an octet >= 0x80: such a message needs SMTPUTF8 from the next
 * hop. 0 if not, -1 if the file cannot be read. Read only when a message
 * received with SMTPUTF8 meets a server that does not offer it.
 */
int smtp_io_header_8bit(int fd, const struct smtp_content *ct, struct buf *tmp)
{
	struct queue_env env;
	struct queue_content qc;
	char prev[3] = { 0, 0, '\n' };	/* the content starts at a line start */

	memset(&env, 0, sizeof(env));
	env.data_offset = (off_t)ct->off;
	env.data_end = (off_t)ct->end;
	env.content_length = ct->len;
	queue_content_init(&qc, fd, &env);
	if (buf_reserve(tmp, SMTP_IO_CHUNK) < 0)
		return -1;
	while (qc.left > 0) {
		ssize_t n = queue_content_read(&qc, tmp->data, SMTP_IO_CHUNK);

		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++) {
			char c = tmp->data[i];

			if ((unsigned char)c >= 0x80)
				return 1;
			/* CRLF CRLF (or a CRLF at the very start): the headers ended. */
			if (c == '\n' && prev[2] == '\r' && prev[1] == '\n')
				return 0;
			prev[0] = prev[1];
			prev[1] = prev[2];
			prev[2] = c;
		}
	}
	return 0;
}

/* smtp_io_smtputf8 - 1 if the queue file says the message came with SMTPUTF8. */
int smtp_io_smtputf8(int fd)
{
	struct queue_env env;
	int r = 0;

	memset(&env, 0, sizeof(env));
	if (queue_env_read(fd, 0, &env) == QUEUE_ENV_OK)
		for (size_t i = 0; i < env.nattrs; i++)
			if (strcmp(env.attrs[i].name, "smtputf8") == 0)
				r = strcmp(env.attrs[i].value, "1") == 0;
	queue_env_free(&env);
	return r;
}

int smtp_io_head(int fd, const struct smtp_content *ct, struct buf *out, size_t max)
{
	struct queue_env env;
	struct queue_content qc;

	memset(&env, 0, sizeof(env));
	env.data_offset = (off_t)ct->off;
	env.data_end = (off_t)ct->end;
	env.content_length = ct->len;
	queue_content_init(&qc, fd, &env);
	buf_reset(out);
	while (qc.left > 0 && out->len < max) {
		size_t want = max - out->len < SMTP_IO_CHUNK ? max - out->len : SMTP_IO_CHUNK;
		ssize_t n;

		if (buf_reserve(out, want + 1) < 0)
			return -1;
		if ((n = queue_content_read(&qc, out->data + out->len, want)) <= 0)
			return -1;
		out->len += (size_t)n;
		out->data[out->len] = 0;
		if (memmem(out->data, out->len, "\r\n\r\n", 4) != NULL)
			break;
	}
	return 0;
}

/* io_content_skip - read past n bytes (what a rewritten head replaces). */
static int io_content_skip(struct queue_content *qc, struct buf *tmp, uint64_t n)
{
	while (n > 0) {
		ssize_t r = queue_content_read(qc, tmp->data, n < SMTP_IO_CHUNK ? (size_t)n : SMTP_IO_CHUNK);

		if (r <= 0)
			return -1;
		n -= (uint64_t)r;
	}
	return 0;
}

/* io_content_out - the bytes to write for this chunk: tmp itself, or
 * folded into fold when lines must stay within smtp_line_length_limit. */
static const struct buf *io_content_out(struct linefold *lf, struct buf *tmp, struct buf *fold,
					int last)
{
	if (lf->limit == 0)
		return tmp;
	buf_reset(fold);
	if (linefold_run(lf, tmp->data, tmp->len, fold) < 0
	    || (last && linefold_finish(lf, fold) < 0))
		return NULL;
	return fold;
}

/*
 * smtp_io_content - the message content, then ".\r\n". The queue file
 * holds it as 'B' records (queue/qcontent.h) of bytes in wire form: CRLF,
 * dot-stuffed, without the final dot. Chunks are gathered into writes of up
 * to SMTP_IO_CHUNK bytes; a content that does not end in CRLF gets one
 * (RFC 5321 4.1.1.4). Lines longer than fold_limit (unless 0) are folded
 * with CRLF SPACE (mail/linefold.h), as Postfix does. end is the file size:
 * the reader checks every record header against it and against len. With
 * ct->head, those bytes go first in place of the content's first ct->skip.
 */
int smtp_io_content(struct smtp_conn *c, int fd, const struct smtp_content *ct,
		    struct buf *tmp, struct buf *fold, int64_t timeout_s)
{
	struct queue_env env;
	struct queue_content qc;
	struct linefold lf;
	int ends_crlf = 1;	/* an empty content needs no CRLF */
	char last = 0;

	memset(&env, 0, sizeof(env));
	env.data_offset = (off_t)ct->off;
	env.data_end = (off_t)ct->end;
	env.content_length = ct->len;
	queue_content_init(&qc, fd, &env);
	linefold_init(&lf, ct->fold_limit);
	if (buf_reserve(tmp, SMTP_IO_CHUNK + 8) < 0
	    || (ct->head && io_content_skip(&qc, tmp, ct->skip) < 0))
		return SMTP_IO_FILE;
	for (int first = 1;; first = 0) {
		const struct buf *out;
		int r;

		buf_reset(tmp);
		if (first && ct->head && (buf_append(tmp, ct->head->data, ct->head->len) < 0
					  || buf_reserve(tmp, SMTP_IO_CHUNK + 8) < 0))
			return SMTP_IO_FILE;
		while (qc.left > 0 && tmp->len < SMTP_IO_CHUNK) {
			ssize_t n = queue_content_read(&qc, tmp->data + tmp->len, SMTP_IO_CHUNK - tmp->len);

			if (n <= 0)
				return SMTP_IO_FILE;
			tmp->len += (size_t)n;
		}
		tmp->data[tmp->len] = 0;
		if (tmp->len > 0) {
			char before = tmp->len >= 2 ? tmp->data[tmp->len - 2] : last;

			last = tmp->data[tmp->len - 1];
			ends_crlf = before == '\r' && last == '\n';
		}
		if (qc.left == 0) {
			if (!ends_crlf)
				(void)buf_append(tmp, "\r\n", 2);
			(void)buf_append(tmp, ".\r\n", 3);
		}
		if ((out = io_content_out(&lf, tmp, fold, qc.left == 0)) == NULL)
			return SMTP_IO_FILE;
		if ((r = smtp_io_write(c, out->data, out->len, timeout_s)) != SMTP_IO_OK)
			return r;
		if (qc.left == 0)
			return SMTP_IO_OK;
	}
}
