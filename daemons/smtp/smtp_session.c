/*
 * smtp_session.c - one SMTP session: greeting, EHLO, and the mail
 * transaction MAIL, RCPT..., DATA, content, final dot.
 *
 * Called by smtp.c for each address it tries and for each job that reuses a
 * cached connection. With PIPELINING (RFC 2920) the whole command group
 * (RSET on reuse, MAIL, every RCPT, DATA) goes out in one write and the
 * replies are read in order; without it, one command at a time. Each
 * recipient's status is reported as soon as it is known.
 *
 * SECURITY: every byte from the server is hostile and goes through
 * mail/smtp_reply.c; reply text is logged and passed on only in its
 * sanitised one-line form. Addresses come from qmgr (checked by smtpd and
 * cleanup, and screened for control characters by smtp.c before a command
 * is built); ENVID and ORCPT go out as xtext.
 */
#include <stdio.h>
#include <string.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"

enum smtp_cmd { CMD_RSET, CMD_MAIL, CMD_RCPT, CMD_DATA };

static const char *cmd_name(enum smtp_cmd c)
{
	static const char *const names[] = { "RSET", "MAIL FROM", "RCPT TO", "DATA" };

	return names[c];
}

/* sess_io_fail - the Postfix reason for an I/O failure during a step. */
static void sess_io_fail(struct smtp_conn *c, int io, const char *step, const char *why,
			 struct buf *out)
{
	buf_reset(out);
	if (io == SMTP_IO_TIMEOUT)
		(void)buf_printf(out, "conversation with %s[%s] timed out while %s", c->host, c->addr,
				 step);
	else if (io == SMTP_IO_BAD)
		(void)buf_printf(out, "host %s[%s] sent a malformed reply while %s: %s", c->host,
				 c->addr, step, why);
	else
		(void)buf_printf(out, "lost connection with %s[%s] while %s", c->host, c->addr, step);
}

/* sess_said - "host X[a] said: 550 ... (in reply to RCPT TO command)". */
static void sess_said(struct smtp_state *s, const char *what, struct buf *out)
{
	smtp_reply_oneline(&s->reply, &s->text);
	buf_reset(out);
	(void)buf_printf(out, "host %s[%s] said: %s (in reply to %s command)", s->conn.host,
			 s->conn.addr, buf_str(&s->text), what);
}

static int sess_read(struct smtp_state *s, int64_t timeout, const char *step, struct buf *why)
{
	struct buf pwhy = BUF_INIT;
	int io = smtp_io_reply(&s->conn, &s->reply, timeout, &pwhy);

	if (io != SMTP_IO_OK)
		sess_io_fail(&s->conn, io, step, buf_str(&pwhy), why);
	buf_free(&pwhy);
	return io;
}

static int sess_cmd(struct smtp_state *s, const char *cmd, int64_t timeout, const char *step,
		    struct buf *why)
{
	int io = smtp_io_write(&s->conn, cmd, strlen(cmd), s->t_helo);

	if (io != SMTP_IO_OK) {
		sess_io_fail(&s->conn, io, step, "", why);
		return io;
	}
	return sess_read(s, timeout, step, why);
}

/* sess_helo - EHLO, or HELO when EHLO is refused, with smtp_never_send_ehlo,
 * or when the greeting does not say ESMTP and smtp_always_send_ehlo = no. */
static int sess_helo(struct smtp_state *s, int esmtp, struct buf *why, char dsn[16])
{
	struct buf cmd = BUF_INIT;
	int io = SMTP_IO_OK, code = 0, helo_only = s->never_ehlo || (!s->always_ehlo && !esmtp);

	s->conn.ehlo.flags = 0;
	s->conn.ehlo.size = 0;
	if (!helo_only) {
		(void)buf_printf(&cmd, "EHLO %s\r\n", s->helo_name);
		io = sess_cmd(s, buf_str(&cmd), s->t_helo, "sending EHLO", why);
		code = io == SMTP_IO_OK ? s->reply.code : 0;
		if (code / 100 == 2)
			smtp_reply_ehlo(&s->reply, s->discard_ehlo, &s->conn.ehlo);
	}
	if (io == SMTP_IO_OK && code / 100 != 2 && (helo_only || code / 100 == 5)) {
		buf_reset(&cmd);
		(void)buf_printf(&cmd, "HELO %s\r\n", s->helo_name);
		io = sess_cmd(s, buf_str(&cmd), s->t_helo, "sending HELO", why);
		code = io == SMTP_IO_OK ? s->reply.code : 0;
	}
	buf_free(&cmd);
	if (io != SMTP_IO_OK) {
		memcpy(dsn, "4.4.2", 6);
		return SMTP_SESS_NEXT;
	}
	if (code / 100 == 2)
		return 0;
	sess_said(s, helo_only || code / 100 == 5 ? "HELO" : "EHLO", why);
	(void)smtp_reply_dsn(&s->reply, dsn);
	return code / 100 == 5 ? 2 : SMTP_SESS_NEXT;
}

/* sess_open - connect, greeting, EHLO, STARTTLS by the TLS level (unless
 * plain), and EHLO again over TLS. */
static int sess_open(struct smtp_state *s, const struct smtp_addr *a, int plain, struct buf *why,
		     char dsn[16])
{
	struct smtp_conn *c = &s->conn;
	struct buf err = BUF_INIT;
	int fd, io, code;

	buf_reset(why);
	fd = smtp_io_connect(a, s->t_connect, &err);
	snprintf(c->host, sizeof(c->host), "%s", a->host);
	snprintf(c->addr, sizeof(c->addr), "%s", a->addr);
	c->port = a->port;
	snprintf(c->relay, sizeof(c->relay), "%.250s[%s]:%u", a->host, a->addr, a->port);
	if (fd < 0) {
		(void)buf_printf(why, "connect to %s[%s]:%u: %s", a->host, a->addr, a->port,
				 buf_str(&err));
		msg_info("%s", buf_str(why));
		memcpy(dsn, "4.4.1", 6);
		buf_free(&err);
		return SMTP_SESS_NEXT;
	}
	buf_free(&err);
	c->fd = fd;
	buf_reset(&c->rbuf);
	io = sess_read(s, s->t_helo, "receiving the initial server greeting", why);
	if (io != SMTP_IO_OK) {
		memcpy(dsn, "4.4.2", 6);
		goto next;
	}
	code = s->reply.code;
	if (code / 100 != 2) {
		smtp_reply_oneline(&s->reply, &s->text);
		(void)buf_printf(why, "host %s[%s] refused to talk to me: %s", c->host, c->addr,
				 buf_str(&s->text));
		(void)smtp_reply_dsn(&s->reply, dsn);
		if ((code / 100 == 4 && s->skip_4xx) || (code / 100 == 5 && s->skip_5xx)) {
			msg_info("%s", buf_str(why));
			smtp_session_quit(s);
			return SMTP_SESS_NEXT;
		}
		smtp_session_quit(s);
		return code / 100 == 5 ? 2 : SMTP_SESS_NEXT;
	}
	smtp_reply_oneline(&s->reply, &s->text);
	if ((io = sess_helo(s, strstr(buf_str(&s->text), "ESMTP") != NULL, why, dsn)) != 0) {
		smtp_session_quit(s);
		return io;
	}
	if ((io = smtp_tls_session(s, s->hop, plain, why, dsn)) != 0)
		return io;	/* the connection is closed */
	/* RFC 3207 4.2: what the server said before TLS is forgotten. */
	if (c->tls && (io = sess_helo(s, 1, why, dsn)) != 0) {
		smtp_session_quit(s);
		return io;
	}
	return 0;
next:
	smtp_conn_close(c);
	return SMTP_SESS_NEXT;
}

int smtp_session_open(struct smtp_state *s, struct smtp_job *job, const struct smtp_addr *a,
		      struct buf *why, char dsn[16])
{
	/* DANE: this connection's own level, from the TLSA records of a. */
	int level = s->tls_level, eff = smtp_dane_prepare(s, a, why, dsn), r;

	(void)job;
	if (eff < 0)
		return SMTP_SESS_NEXT;
	s->tls_level = eff;
	r = sess_open(s, a, 0, why, dsn);
	/* Opportunistic TLS whose handshake failed: as Postfix, the same
	 * server again in plaintext. */
	if (r == SMTP_TLS_PLAIN)
		r = sess_open(s, a, 1, why, dsn);
	s->tls_level = level;
	smtp_dane_clear(s);
	return r;
}

/* smtp_session_quit - QUIT without waiting long for the answer, then close. */
void smtp_session_quit(struct smtp_state *s)
{
	if (s->conn.fd < 0)
		return;
	/* The reply does not matter; waiting for it lets the server close cleanly. */
	if (smtp_io_write(&s->conn, "QUIT\r\n", 6, s->t_quit) == SMTP_IO_OK) {
		struct buf why = BUF_INIT;

		(void)smtp_io_reply(&s->conn, &s->reply, s->t_quit, &why);
		buf_free(&why);
	}
	smtp_conn_close(&s->conn);
}

/* xtext (RFC 3461 4): '+', '=' and bytes outside 33..126 as "+XX". */
static void sess_xtext(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 33 || c > 126 || c == '+' || c == '=')
			(void)buf_printf(out, "+%02X", c);
		else
			(void)buf_putc(out, c);
	}
}

static void sess_mail_cmd(struct smtp_state *s, struct smtp_job *job, struct buf *w)
{
	unsigned ext = s->conn.ehlo.flags;

	(void)buf_printf(w, "MAIL FROM:<%s>", job->mail_from ? job->mail_from : job->sender);
	if ((ext & SMTP_EXT_SMTPUTF8) && job->smtputf8)
		(void)buf_append_str(w, " SMTPUTF8");
	if (ext & SMTP_EXT_SIZE)
		(void)buf_printf(w, " SIZE=%llu", (unsigned long long)(job->content_size
							- job->head_skip + (job->head_skip ? job->head.len : 0)));
	if ((ext & SMTP_EXT_8BITMIME) && job->body_type == BODY_8BITMIME)
		(void)buf_append_str(w, " BODY=8BITMIME");
	if (ext & SMTP_EXT_DSN) {
		if (job->ret == DSN_RET_FULL || job->ret == DSN_RET_HDRS)
			(void)buf_append_str(w, job->ret == DSN_RET_FULL ? " RET=FULL" : " RET=HDRS");
		if (job->envid[0]) {
			(void)buf_append_str(w, " ENVID=");
			sess_xtext(w, job->envid);
		}
	}
	(void)buf_append_str(w, "\r\n");
}

static void sess_rcpt_cmd(struct smtp_state *s, struct smtp_rcpt *r, struct buf *w)
{
	(void)buf_printf(w, "RCPT TO:<%s>", r->send_addr ? r->send_addr : r->addr);
	if ((s->conn.ehlo.flags & SMTP_EXT_DSN) && r->notify) {
		if (r->notify & DSN_NOTIFY_NEVER)
			(void)buf_append_str(w, " NOTIFY=NEVER");
		else {
			const char *sep = " NOTIFY=";

			if (r->notify & DSN_NOTIFY_SUCCESS) {
				(void)buf_printf(w, "%sSUCCESS", sep);
				sep = ",";
			}
			if (r->notify & DSN_NOTIFY_FAILURE) {
				(void)buf_printf(w, "%sFAILURE", sep);
				sep = ",";
			}
			if (r->notify & DSN_NOTIFY_DELAY)
				(void)buf_printf(w, "%sDELAY", sep);
		}
	}
	if ((s->conn.ehlo.flags & SMTP_EXT_DSN) && r->orcpt[0]) {
		const char *semi = strchr(r->orcpt, ';');

		/* The address type is written as it is: an atom, or rfc822 for all. */
		if (semi && (semi == r->orcpt
			     || strspn(r->orcpt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-") != (size_t)(semi - r->orcpt)))
			semi = NULL;
		(void)buf_append_str(w, " ORCPT=");
		if (semi) {
			(void)buf_append(w, r->orcpt, (size_t)(semi - r->orcpt + 1));
			sess_xtext(w, semi + 1);
		} else {
			(void)buf_append_str(w, "rfc822;");
			sess_xtext(w, r->orcpt);
		}
	}
	(void)buf_append_str(w, "\r\n");
}

/* sess_rcpt_status - a reply to RCPT, DATA or the dot, for one recipient. */
static void sess_rcpt_status(struct smtp_state *s, struct smtp_job *job, struct smtp_rcpt *r,
			     const char *what)
{
	struct buf reason = BUF_INIT;
	char dsn[16];
	int code = s->reply.code;

	(void)smtp_reply_dsn(&s->reply, dsn);
	if (code / 100 == 2) {
		smtp_reply_oneline(&s->reply, &reason);
		smtp_status_rcpt(s, job, r, DELIVER_SENT, dsn, s->conn.relay, buf_str(&reason));
	} else {
		sess_said(s, what, &reason);
		smtp_status_rcpt(s, job, r, code / 100 == 5 ? DELIVER_BOUNCE : DELIVER_DEFER, dsn,
				 s->conn.relay, buf_str(&reason));
	}
	buf_free(&reason);
}

/* The transaction's progress, shared by the pipelined and lock-step paths. */
struct sess_tx {
	int reused;
	int mail_ok;
	int naccepted;
	int npending;
	int rset_failed;
	int conn_bad;		/* do not cache */
	struct buf why;
};

/* sess_reply - act on the reply to one command; -1 ends the transaction. */
static int sess_reply(struct smtp_state *s, struct smtp_job *job, struct sess_tx *tx,
		      enum smtp_cmd cmd, struct smtp_rcpt *r)
{
	int code = s->reply.code;

	switch (cmd) {
	case CMD_RSET:
		if (code / 100 != 2) {
			tx->rset_failed = 1;
			return -1;
		}
		return 0;
	case CMD_MAIL:
		tx->mail_ok = code / 100 == 2;
		if (!tx->mail_ok) {
			struct buf reason = BUF_INIT;
			char dsn[16];

			sess_said(s, "MAIL FROM", &reason);
			(void)smtp_reply_dsn(&s->reply, dsn);
			smtp_status_rest(s, job, code / 100 == 5 ? DELIVER_BOUNCE : DELIVER_DEFER, dsn,
					 s->conn.relay, buf_str(&reason));
			buf_free(&reason);
			return -1;
		}
		return 0;
	case CMD_RCPT:
		if (!tx->mail_ok)
			return 0;
		if (code / 100 == 2) {
			r->accepted = 1;
			tx->naccepted++;
		} else
			sess_rcpt_status(s, job, r, "RCPT TO");
		return 0;
	case CMD_DATA:
		if (tx->naccepted == 0) {
			if (code == 354)
				tx->conn_bad = 1;	/* cannot end this cleanly: do not reuse */
			return -1;
		}
		if (code != 354) {
			for (uint32_t i = 0; i < job->nrcpt; i++)
				if (job->rcpt[i].accepted && !job->rcpt[i].done)
					sess_rcpt_status(s, job, &job->rcpt[i], "DATA");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* sess_abort - an I/O failure: every open recipient is deferred. */
static int sess_abort(struct smtp_state *s, struct smtp_job *job, struct sess_tx *tx, int io,
		      const char *step)
{
	if (tx->reused && tx->npending == 0) {
		/* The cached connection died while idle: try a fresh one. */
		smtp_conn_close(&s->conn);
		return SMTP_SESS_NEXT;
	}
	(void)io;
	(void)step;
	smtp_status_rest(s, job, DELIVER_DEFER, io == SMTP_IO_FILE ? "4.3.0" : "4.4.2", s->conn.relay,
			 buf_str(&tx->why));
	smtp_conn_close(&s->conn);
	return SMTP_SESS_DONE;
}

static int64_t cmd_timeout(struct smtp_state *s, enum smtp_cmd c)
{
	return c == CMD_RSET ? s->t_rset : c == CMD_MAIL ? s->t_mail
	       : c == CMD_RCPT ? s->t_rcpt : s->t_data_init;
}

static const char *cmd_step(enum smtp_cmd c)
{
	static const char *const steps[] = {
		"sending RSET", "sending MAIL FROM", "sending RCPT TO", "sending DATA",
	};

	return steps[c];
}

/* sess_commands - the command group: replies handled in order. */
static int sess_commands(struct smtp_state *s, struct smtp_job *job, struct sess_tx *tx)
{
	int pipelining = (s->conn.ehlo.flags & SMTP_EXT_PIPELINING) != 0;
	int ended = 0, io;
	uint32_t ri = 0;
	enum smtp_cmd seq[4] = { CMD_RSET, CMD_MAIL, CMD_RCPT, CMD_DATA };

	buf_reset(&s->wbuf);
	for (uint32_t i = 0; i < job->nrcpt; i++) {
		job->rcpt[i].sent = !job->rcpt[i].done;
		job->rcpt[i].accepted = 0;
	}
	if (pipelining) {
		if (tx->reused)
			(void)buf_append_str(&s->wbuf, "RSET\r\n");
		sess_mail_cmd(s, job, &s->wbuf);
		for (uint32_t i = 0; i < job->nrcpt; i++)
			if (job->rcpt[i].sent)
				sess_rcpt_cmd(s, &job->rcpt[i], &s->wbuf);
		(void)buf_append_str(&s->wbuf, "DATA\r\n");
		if ((io = smtp_io_write(&s->conn, s->wbuf.data, s->wbuf.len, s->t_mail)) != SMTP_IO_OK) {
			sess_io_fail(&s->conn, io, "sending MAIL FROM", "", &tx->why);
			return sess_abort(s, job, tx, io, "MAIL");
		}
	}
	for (int k = tx->reused ? 0 : 1; k < 4; k++) {
		enum smtp_cmd c = seq[k];
		uint32_t count = 1;

		if (c == CMD_RCPT)
			for (count = 0, ri = 0; ri < job->nrcpt; ri++)
				count += job->rcpt[ri].sent;
		for (uint32_t i = 0, idx = 0; i < count; i++) {
			struct smtp_rcpt *r = NULL;

			if (c == CMD_RCPT) {
				while (!job->rcpt[idx].sent)
					idx++;
				r = &job->rcpt[idx++];
			}
			if (!pipelining) {
				if (ended)
					return SMTP_SESS_DONE;
				buf_reset(&s->wbuf);
				if (c == CMD_RSET)
					(void)buf_append_str(&s->wbuf, "RSET\r\n");
				else if (c == CMD_MAIL)
					sess_mail_cmd(s, job, &s->wbuf);
				else if (c == CMD_RCPT)
					sess_rcpt_cmd(s, r, &s->wbuf);
				else
					(void)buf_append_str(&s->wbuf, "DATA\r\n");
				io = smtp_io_write(&s->conn, s->wbuf.data, s->wbuf.len, cmd_timeout(s, c));
				if (io != SMTP_IO_OK) {
					sess_io_fail(&s->conn, io, cmd_step(c), "", &tx->why);
					return sess_abort(s, job, tx, io, cmd_name(c));
				}
			}
			if ((io = sess_read(s, cmd_timeout(s, c), cmd_step(c), &tx->why)) != SMTP_IO_OK)
				return sess_abort(s, job, tx, io, cmd_name(c));
			if (c != CMD_RSET)
				tx->npending++;
			if (sess_reply(s, job, tx, c, r) < 0) {
				if (tx->rset_failed) {
					smtp_conn_close(&s->conn);
					return SMTP_SESS_NEXT;
				}
				ended = 1;
			}
		}
		/* Lock-step: no DATA when no recipient was accepted. */
		if (!pipelining && c == CMD_RCPT && tx->naccepted == 0)
			ended = 1;
	}
	return ended ? SMTP_SESS_DONE : -1;
}

static int sess_8bit(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return 1;
	return 0;
}

/*
 * sess_utf8_refused - a message received with SMTPUTF8 and a server that
 * does not offer it: as Postfix, it goes out without SMTPUTF8 when its
 * envelope and headers are ASCII, else it bounces with 5.6.7 (the body's
 * octets are 8BITMIME's business). 1 when every recipient got a status.
 */
static int sess_utf8_refused(struct smtp_state *s, struct smtp_job *job, struct buf *why)
{
	struct smtp_content ct = { .off = job->content_offset, .len = job->content_size,
				   .end = job->file_size };
	int need = sess_8bit(job->sender);

	if (!job->smtputf8 || (s->conn.ehlo.flags & SMTP_EXT_SMTPUTF8))
		return 0;
	for (uint32_t i = 0; i < job->nrcpt && !need; i++)
		need = !job->rcpt[i].done && sess_8bit(job->rcpt[i].addr);
	if (!need && (need = smtp_io_header_8bit(job->fd, &ct, &s->wbuf)) < 0) {
		smtp_status_rest(s, job, DELIVER_DEFER, "4.3.0", s->conn.relay,
				 "error reading the queue file");
		return 1;
	}
	if (!need)
		return 0;
	(void)buf_printf(why, "SMTPUTF8 is required, but was not offered by host %s[%s]",
			 s->conn.host, s->conn.addr);
	smtp_status_rest(s, job, DELIVER_BOUNCE, "5.6.7", s->conn.relay, buf_str(why));
	return 1;
}

int smtp_session_deliver(struct smtp_state *s, struct smtp_job *job, int reused)
{
	struct sess_tx tx = { 0 };
	struct smtp_content ct;
	int r, io;

	tx.reused = reused;
	buf_init(&tx.why, 4096);
	if ((s->conn.ehlo.flags & SMTP_EXT_SIZE) && s->conn.ehlo.size > 0
	    && job->content_size > s->conn.ehlo.size) {
		(void)buf_printf(&tx.why, "message size %llu exceeds size limit %llu of server %s[%s]",
				 (unsigned long long)job->content_size,
				 (unsigned long long)s->conn.ehlo.size, s->conn.host, s->conn.addr);
		smtp_status_rest(s, job, DELIVER_BOUNCE, "5.3.4", s->conn.relay, buf_str(&tx.why));
		buf_free(&tx.why);
		return SMTP_SESS_DONE;
	}
	if (sess_utf8_refused(s, job, &tx.why)) {
		buf_free(&tx.why);
		return SMTP_SESS_DONE;
	}
	r = sess_commands(s, job, &tx);
	if (r != -1) {
		if (r == SMTP_SESS_DONE && tx.conn_bad)
			smtp_conn_close(&s->conn);	/* a QUIT now would be message text */
		buf_free(&tx.why);
		return r;
	}
	/* 354: the content, then the final reply. */
	ct.off = job->content_offset;
	ct.len = job->content_size;
	ct.end = job->file_size;
	ct.fold_limit = s->line_limit;
	ct.head = job->head_skip ? &job->head : NULL;
	ct.skip = job->head_skip;
	io = smtp_io_content(&s->conn, job->fd, &ct, &s->wbuf, &s->fold, s->t_data_xfer);
	if (io == SMTP_IO_FILE) {
		buf_set_str(&tx.why, "error reading the queue file");
		r = sess_abort(s, job, &tx, io, "DATA");
	} else if (io != SMTP_IO_OK) {
		sess_io_fail(&s->conn, io, "sending message body", "", &tx.why);
		r = sess_abort(s, job, &tx, io, "DATA");
	} else if ((io = sess_read(s, s->t_data_done, "sending end of data -- message may be sent more than once", &tx.why)) != SMTP_IO_OK) {
		r = sess_abort(s, job, &tx, io, "DATA");
	} else {
		for (uint32_t i = 0; i < job->nrcpt; i++)
			if (job->rcpt[i].accepted && !job->rcpt[i].done)
				sess_rcpt_status(s, job, &job->rcpt[i], "end of DATA");
		r = SMTP_SESS_DONE;
	}
	buf_free(&tx.why);
	return r;
}
