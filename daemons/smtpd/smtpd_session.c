/*
 * smtpd_session.c - one SMTP session: command loop, Postfix-shaped logs.
 *
 * Called by smtpd.c for each connection screen hands over: screen has
 * already greeted the client (and refused one that talked first), and its
 * first command line is in the input buffer. This reads commands, enforces
 * the error limits and RFC 2920 pipelining rules, hands each command to its
 * handler (smtpd_verbs.c, smtpd_dataphase.c), and logs connect, rejects,
 * lost connections, timeouts and the per-command disconnect summary in the
 * form pflogsumm and Postfix users expect.
 *
 * SECURITY: every byte of input is the client's. Lines are bounded by the
 * reader; a protocol violation gets a reply and, where Postfix drops the
 * client, a disconnect; nothing here can be made to crash or grow.
 */
#include <string.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/logfmt.h"
#include "lib/msg.h"

/* Commands that RFC 2920 allows only at the end of a pipelined group. */
static int session_must_be_last(enum smtpd_verb v)
{
	return v == V_EHLO || v == V_HELO || v == V_DATA || v == V_VRFY || v == V_EXPN
	       || v == V_NOOP || v == V_HELP;
}

void smtpd_log_what(struct smtpd_session *s, const char *what, const char *cmd,
		    const char *text, const char *rcpt)
{
	struct buf to = BUF_INIT;

	if (rcpt)
		buf_printf(&to, " to=<%s>", rcpt);
	msg_info("%s: %s: %s from %s: %s; from=<%s>%s proto=%s helo=<%s>",
		 s->qid.len ? buf_str(&s->qid) : "NOQUEUE", what, cmd, buf_str(&s->namaddr), text,
		 buf_str(&s->sender), buf_str(&to), s->esmtp ? "ESMTP" : "SMTP", buf_str(&s->helo));
	buf_free(&to);
}

void smtpd_log_reject(struct smtpd_session *s, const char *cmd, const char *reply,
		      const char *rcpt)
{
	smtpd_log_what(s, "reject", cmd, reply, rcpt);
}

/* smtpd_mail_reset - forget the transaction (RSET, HELO, after DATA, at the end). */
void smtpd_mail_reset(struct smtpd_session *s)
{
	smtpd_cleanup_abort(s);
	s->in_mail = 0;
	buf_reset(&s->sender);
	s->sender_flags = 0;
	memset(&s->mp, 0, sizeof(s->mp));
	s->nrcpt = 0;
	s->rejected_rcpts = 0;
	s->rcpt_overshoot = 0;
	s->discard = s->hold = 0;
	s->transaction++;
	buf_reset(&s->prepend);
	buf_reset(&s->redirect);
	buf_reset(&s->bcc);
	buf_reset(&s->qid);
	smtpd_rcptmaps_clear();
	smtpd_check_access_clear();
	smtpd_domains_clear();
}

static void session_log_disconnect(struct smtpd_session *s)
{
	static const enum smtpd_verb order[] = {
		V_HELO, V_EHLO, V_STARTTLS, V_MAIL, V_RCPT, V_DATA, V_RSET, V_NOOP, V_VRFY, V_EXPN, V_HELP,
		V_QUIT, V_UNKNOWN, V_COUNT,
	};
	struct buf *l = &s->line;

	buf_reset(l);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct smtpd_count *c = &s->count[order[i]];
		const char *name = order[i] == V_COUNT ? "commands" : smtpd_verb_names[order[i]];

		if (c->total == 0 && order[i] != V_COUNT)
			continue;
		buf_putc(l, ' ');
		for (const char *p = name; *p; p++)
			buf_putc(l, *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		if (c->ok == c->total)
			buf_printf(l, "=%u", c->total);
		else
			buf_printf(l, "=%u/%u", c->ok, c->total);
	}
	msg_info("disconnect from %s%s", buf_str(&s->namaddr), buf_str(l));
}

/* session_pipelining - 1 if the client broke RFC 2920 and must be dropped. */
static int session_pipelining(struct smtpd_session *s, enum smtpd_verb v)
{
	if (v == V_QUIT || smtpd_io_pending(s) == 0 || (s->esmtp && !session_must_be_last(v)))
		return 0;
	s->unauth_pipelined = 1;
	if (!s->cf->forbid_unauth_pipe)
		return 0;
	logfmt_printable(&s->line, s->in.data + s->inpos, smtpd_io_pending(s), 100);
	msg_info("improper command pipelining after %s from %s: %s", s->where, buf_str(&s->namaddr),
		 buf_str(&s->line));
	smtpd_reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
	return 1;
}

static void session_lost(struct smtpd_session *s)
{
	const char *what = s->timed_out ? "timeout" : "lost connection";

	if (s->in_data)
		msg_info("%s after DATA (%llu bytes) from %s", what,
			 (unsigned long long)s->data_bytes, buf_str(&s->namaddr));
	else
		msg_info("%s after %s from %s", what, s->where, buf_str(&s->namaddr));
	if (s->timed_out) {
		s->timed_out = 0;	/* one more try to tell the client */
		smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cf->myhostname);
		(void)smtpd_flush(s);
	}
}

/* session_command - read and run one command; 0 to go on, -1 to end. */
static int session_command(struct smtpd_session *s)
{
	const char *line;
	size_t len, wirelen, arg;
	int syntax, r;
	enum smtpd_verb v;

	r = smtpd_io_getline(s, &line, &len, &wirelen);
	if (r == 0) {
		session_lost(s);
		return -1;
	}
	s->count[V_COUNT].total++;
	if (r == SMTPD_LINE_TOOLONG || r == SMTPD_LINE_NUL) {
		s->count[V_UNKNOWN].total++;
		s->where = "UNKNOWN";
		smtpd_reply(s, r == SMTPD_LINE_NUL ? "500 5.5.2 Error: NUL character in command"
			    : "500 5.5.2 Error: line too long");
		return 0;
	}
	if (msg_verbose) {
		logfmt_printable(&s->line, line, len, 100);
		msg_info("< %s: %s", buf_str(&s->namaddr), buf_str(&s->line));
	}
	v = smtpd_cmd_verb(line, len, &arg, &syntax);
	if (smtpd_opts_noop(s, line, len)) {	/* smtpd_noop_commands: no checks at all */
		v = V_NOOP;
		syntax = 0;
		arg = len;
	}
	s->count[v].total++;
	s->where = smtpd_verb_names[v];
	if (session_pipelining(s, v))
		return -1;
	if (len == 0)
		smtpd_reply(s, "500 5.5.2 Error: bad syntax");
	else if (!smtpd_cmd_len_ok(v, wirelen, 0) && v != V_MAIL && v != V_RCPT)
		smtpd_reply(s, "500 5.5.2 Error: line too long");
	else if (syntax)
		smtpd_reply(s, "501 5.5.4 Syntax: %s", line[0] == 'R' || line[0] == 'r'
			    ? "RCPT TO:<address>" : "MAIL FROM:<address>");
	else if (v == V_UNKNOWN)
		smtpd_reply(s, "502 5.5.2 Error: command not recognized");
	else
		smtpd_verb_run(s, v, line + arg, len - arg, wirelen);
	if (s->reply_ok) {
		s->count[v].ok++;
		s->count[V_COUNT].ok++;
	}
	if (s->quit)
		return -1;
	if (s->eof || s->io_error || s->timed_out) {
		session_lost(s);
		return -1;
	}
	return 0;
}

static void session_serve(struct smtpd_session *s)
{
	msg_info("connect from %s", buf_str(&s->namaddr));
	s->where = "CONNECT";
	/* screen sent the greeting, and checked the client did not talk before it */
	for (;;) {
		if (s->errors >= s->lim->hard_limit) {
			msg_info("too many errors after %s from %s", s->where, buf_str(&s->namaddr));
			smtpd_reply(s, "421 4.7.0 %s Error: too many errors", s->cf->myhostname);
			break;
		}
		if (session_command(s) < 0)
			break;
	}
	if (!s->eof && !s->io_error)
		(void)smtpd_flush(s);
	smtpd_mail_reset(s);
	session_log_disconnect(s);
}

/* smtpd_session_run - one client; a debug_peer_list client gets
 * debug_peer_level more verbosity for its session only. */
void smtpd_session_run(struct smtpd_session *s)
{
	int verbose = msg_verbose;

	smtpd_opts_namaddr(s);
	msg_verbose += smtpd_opts_debug_level(s);
	session_serve(s);
	msg_verbose = verbose;
}
