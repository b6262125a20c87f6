/*
 * smtpd_verbs.c - the SMTP command handlers except DATA.
 *
 * Called by the session loop with the command's argument (client bytes,
 * bounded by the line reader). Replies carry RFC 3463 enhanced status codes
 * and follow Postfix's texts; sequencing errors are 503 5.5.1.
 *
 * MAIL and RCPT first apply the client rate limits
 * (smtpd_client_message_rate_limit, smtpd_client_recipient_rate_limit),
 * which screen counts across the service, as Postfix's anvil does.
 *
 * SECURITY: the envelope is parsed strictly (mail/addr.c); relay and
 * recipient decisions are smtpd_check.c's. A recipient reaches cleanup
 * only after every check passed.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/screenproto.h"
#include "lib/msg.h"

#define HELO_MAX 255	/* the IPC field's limit, and a domain's */

/*
 * verbs_rate - Postfix's client rate limits: screen counts the event for
 * this client across every smtpd of the service. The rate when it is past
 * limit, else 0. Nothing is asked when no limit is set or the client is
 * excepted, so the common path costs nothing.
 */
static uint32_t verbs_rate(struct smtpd_session *s, uint32_t event, int limit)
{
	uint32_t rate;

	if (limit <= 0 || s->excepted)
		return 0;
	rate = smtpd_screen_rate(s, event);
	return rate > (uint32_t)limit ? rate : 0;
}

static void verbs_junk(struct smtpd_session *s)
{
	if (++s->junk > s->lim->junk_limit)
		s->errors++;
}

/* verbs_early - smtpd_delay_reject = no: apply a list at its own command. */
static int verbs_early(struct smtpd_session *s, enum smtpd_list which, const char *cmd)
{
	struct buf reply = BUF_INIT;
	int r = 0;

	if (!s->cf->delay_reject && smtpd_check_cmd(s, which, &reply) == CHECK_REJECT) {
		smtpd_log_reject(s, cmd, buf_str(&reply), NULL);
		smtpd_reply(s, "%s", buf_str(&reply));
		r = -1;
	}
	buf_free(&reply);
	return r;
}

static void verbs_helo(struct smtpd_session *s, enum smtpd_verb v, const char *arg, size_t alen)
{
	const char *cmd = v == V_EHLO ? "EHLO" : "HELO";

	while (alen > 0 && (arg[alen - 1] == ' ' || arg[alen - 1] == '\t'))
		alen--;
	if (alen == 0) {
		smtpd_reply(s, "501 5.5.4 Syntax: %s hostname", cmd);
		return;
	}
	if (alen > HELO_MAX) {
		smtpd_reply(s, "501 5.5.2 Error: %s name too long", cmd);
		return;
	}
	smtpd_mail_reset(s);
	buf_set(&s->helo, arg, alen);
	s->esmtp = v == V_EHLO;
	if (verbs_early(s, L_CLIENT, cmd) < 0 || verbs_early(s, L_HELO, cmd) < 0) {
		buf_reset(&s->helo);
		return;
	}
	if (v == V_HELO)
		smtpd_reply(s, "250 %s", s->cf->myhostname);
	else
		smtpd_opts_ehlo(s);
}

/* verbs_path - parse a path and its parameters; -1 after replying. */
static int verbs_path(struct smtpd_session *s, enum smtpd_verb v, const char *arg, size_t alen,
		      size_t wirelen, struct addr_path *p, size_t *used)
{
	const char *why;
	int mail = v == V_MAIL;
	int r = addr_parse_path(arg, alen, (s->cf->strict ? ADDR_P_STRICT : 0)
				| (mail ? ADDR_P_NULL_OK : 0), p, used, &why);

	if (!smtpd_cmd_len_ok(v, wirelen, r == ADDR_OK ? alen - *used : 0)) {
		smtpd_reply(s, "500 5.5.2 Error: line too long");
		return -1;
	}
	if (r != ADDR_OK) {
		smtpd_reply(s, "501 5.1.%d Bad %s address syntax: %s", mail ? 7 : 3,
			    mail ? "sender" : "recipient", why);
		return -1;
	}
	if (*used < alen && arg[*used] != ' ') {
		smtpd_reply(s, "501 5.1.%d Bad %s address syntax", mail ? 7 : 3,
			    mail ? "sender" : "recipient");
		return -1;
	}
	return 0;
}

static void verbs_mail(struct smtpd_session *s, const char *arg, size_t alen, size_t wirelen)
{
	struct addr_path p;
	struct smtpd_mail_params mp;
	const char *reply;
	size_t used;
	uint32_t rate;

	if (s->cf->helo_required && s->helo.len == 0) {
		smtpd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->cf->tls_required && s->ssl == NULL) {	/* smtpd_tls_security_level = encrypt */
		smtpd_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (s->in_mail) {
		smtpd_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if ((rate = verbs_rate(s, SCREEN_RATE_MAIL, s->cf->mail_rate_limit)) > 0) {
		smtpd_reply(s, "450 4.7.1 Error: too much mail from %s", s->addr);
		msg_warn("Message delivery request rate limit exceeded: %u from %s[%s] for service %s",
			 rate, s->name, s->addr, s->st->service);
		return;
	}
	addr_path_init(&p);
	if (verbs_path(s, V_MAIL, arg, alen, wirelen, &p, &used) < 0)
		goto out;
	if (smtpd_cmd_mail_params(arg + used, alen - used, &mp, &reply) < 0) {
		smtpd_reply(s, "%s", reply);
		goto out;
	}
	if ((p.flags & ADDR_F_UTF8) && !mp.smtputf8) {
		smtpd_reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
		goto out;
	}
	if (s->cf->size_limit && mp.size > s->cf->size_limit) {
		smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		goto out;
	}
	buf_set(&s->sender, p.addr.data ? p.addr.data : "", p.addr.len);
	s->sender_flags = p.flags;
	s->discard = s->hold = 0;	/* actions of a MAIL FROM refused before */
	buf_reset(&s->redirect);
	buf_reset(&s->bcc);
	s->mp = mp;
	if (verbs_early(s, L_CLIENT, "MAIL") < 0 || verbs_early(s, L_SENDER, "MAIL") < 0) {
		buf_reset(&s->sender);
		goto out;
	}
	s->in_mail = 1;
	smtpd_reply(s, "250 2.1.0 Ok");
out:
	addr_path_free(&p);
}

/* verbs_rcpt_accept - hand an accepted recipient to cleanup (opening at the first). */
static void verbs_rcpt_accept(struct smtpd_session *s, const struct addr_path *p, struct buf *reply)
{
	if (!s->cleanup_open) {
		if (smtpd_cleanup_open(s, reply) < 0) {
			smtpd_log_reject(s, "RCPT", buf_str(reply), buf_str(&p->addr));
			smtpd_reply(s, "%s", buf_str(reply));
			return;
		}
		msg_info("%s: client=%s", buf_str(&s->qid), buf_str(&s->namaddr));
	}
	if (smtpd_cleanup_rcpt(s, buf_str(&p->addr)) < 0) {
		s->cleanup_open = 0;
		s->nrcpt = 0;
		buf_reset(&s->qid);
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
		return;
	}
	s->nrcpt++;
	smtpd_reply(s, "250 2.1.5 Ok");
}

static void verbs_rcpt(struct smtpd_session *s, const char *arg, size_t alen, size_t wirelen)
{
	struct addr_path p;
	struct buf reply = BUF_INIT;
	size_t used;
	uint32_t rate;

	if (!s->in_mail) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if ((rate = verbs_rate(s, SCREEN_RATE_RCPT, s->cf->rcpt_rate_limit)) > 0) {
		msg_warn("Recipient address rate limit exceeded: %u from %s[%s] for service %s",
			 rate, s->name, s->addr, s->st->service);
		smtpd_reply(s, "450 4.7.1 Error: too many recipients from %s", s->addr);
		return;
	}
	addr_path_init(&p);
	if (verbs_path(s, V_RCPT, arg, alen, wirelen, &p, &used) < 0)
		goto out;
	if (used < alen) {
		smtpd_reply(s, "555 5.5.4 Unsupported option");
		goto out;
	}
	if ((p.flags & ADDR_F_UTF8) && !s->mp.smtputf8) {
		smtpd_reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
		goto out;
	}
	if (s->nrcpt >= s->cf->rcpt_limit) {
		/* Postfix: the session goes on; past the overshoot limit they are errors */
		if (s->rcpt_overshoot++ < s->cf->rcpt_overshoot)
			smtpd_reply_uncounted(s, "452 4.5.3 Error: too many recipients");
		else
			smtpd_reply(s, "452 4.5.3 Error: too many recipients");
		goto out;
	}
	if (smtpd_check_rcpt(s, &p, &reply) < 0 || smtpd_rcptmaps_check(s, &p, &reply) < 0) {
		s->rejected_rcpts++;
		smtpd_log_reject(s, "RCPT", buf_str(&reply), buf_str(&p.addr));
		smtpd_reply(s, "%s", buf_str(&reply));
		goto out;
	}
	verbs_rcpt_accept(s, &p, &reply);
out:
	buf_free(&reply);
	addr_path_free(&p);
}

void smtpd_verb_run(struct smtpd_session *s, enum smtpd_verb v, const char *arg, size_t alen,
		    size_t wirelen)
{
	switch (v) {
	case V_HELO:
	case V_EHLO:
		verbs_helo(s, v, arg, alen);
		break;
	case V_MAIL:
		verbs_mail(s, arg, alen, wirelen);
		break;
	case V_RCPT:
		verbs_rcpt(s, arg, alen, wirelen);
		break;
	case V_DATA:
		smtpd_data_cmd(s, arg, alen);
		break;
	case V_RSET:
		verbs_junk(s);
		if (alen > 0) {
			smtpd_reply(s, "501 5.5.4 Syntax: RSET");
			break;
		}
		smtpd_mail_reset(s);
		smtpd_reply(s, "250 2.0.0 Ok");
		break;
	case V_NOOP:
		verbs_junk(s);
		smtpd_reply(s, "250 2.0.0 Ok");
		break;
	case V_QUIT:
		smtpd_reply(s, "221 2.0.0 Bye");
		(void)smtpd_flush(s);
		s->quit = 1;
		break;
	case V_HELP:
		smtpd_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP");
		break;
	case V_VRFY:
		verbs_junk(s);
		if (s->cf->disable_vrfy)
			smtpd_reply(s, "502 5.5.1 VRFY command is disabled");
		else if (alen == 0)
			smtpd_reply(s, "501 5.5.4 Syntax: VRFY address");
		else
			smtpd_reply(s, "252 2.0.0 Cannot verify addresses; send mail to find out");
		break;
	case V_EXPN:
		smtpd_reply(s, "502 5.5.1 EXPN command is disabled");
		break;
	case V_STARTTLS:
		smtpd_tls_cmd(s, alen);
		break;
	case V_UNKNOWN:
	case V_COUNT:
		smtpd_reply(s, "502 5.5.2 Error: command not recognized");
		break;
	}
}
