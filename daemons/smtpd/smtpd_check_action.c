/*
 * smtpd_check_action.c - an access action applied to the command being
 * checked: what a policy service answers (and, once tables exist, what an
 * access table returns), read by mail/access_action.c.
 *
 * Called by the policy client (smtpd_policy.c) with the answer or the
 * configured default action. OK permits, DUNNO goes on, REJECT/DEFER/4NN/
 * 5NN reject with "<subject>: Class rejected: text", DEFER_IF_* remember a
 * deferral, DISCARD accepts and later drops the message, PREPEND adds a
 * header, WARN/INFO log, a restriction list is applied in place. HOLD,
 * REDIRECT and BCC need the queue to carry them, which moat's cleanup does
 * not yet do: they defer (451 4.3.5) with a warning rather than pass mail
 * the policy meant to stop or divert.
 *
 * SECURITY: the answer comes from the policy stage, which relays a server
 * moat does not control. It is parsed strictly; anything unreadable is a
 * 451 4.3.5 "Server configuration error" and a warning, never an accept.
 * A PREPEND header is one printable line (the policy stage refuses control
 * bytes), so it cannot start the body or smuggle a second header.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

static int action_error(struct smtpd_check *ck, const char *from, const char *why)
{
	msg_warn("%s: %s: %s", buf_str(&ck->s->namaddr), from, why);
	return smtpd_check_reject(ck, 451, "4.3.5", "Server configuration error");
}

/* action_reply - "<subject>: Class rejected: text" with the action's code. */
static int action_reply(struct smtpd_check *ck, const struct access_action *a,
			struct check_defer *d)
{
	struct buf subj = BUF_INIT;
	const char *cls;
	int r = CHECK_DUNNO;

	smtpd_check_subject(ck, &subj, &cls);
	if (d)
		smtpd_check_defer_if(ck, d, a->code, a->dsn, "<%s>: %s rejected: %s",
				     buf_str(&subj), cls, a->text);
	else
		r = smtpd_check_reject(ck, a->code, a->dsn, "<%s>: %s rejected: %s",
				       buf_str(&subj), cls, a->text);
	buf_free(&subj);
	return r;
}

/* action_log - Postfix's "warn:", "info:", "discard:" lines. */
static void action_log(struct smtpd_check *ck, const char *what, const char *text)
{
	smtpd_log_what(ck->s, what, ck->s->where, text,
		       ck->rcpt ? buf_str(&ck->rcpt->addr) : NULL);
}

static int action_prepend(struct smtpd_check *ck, const char *header, const char *from)
{
	struct buf *p = &ck->s->prepend;
	size_t len = p->len;

	if ((header[0] == '.' && buf_putc(p, '.') < 0) || buf_append_str(p, header) < 0
	    || buf_append_str(p, "\r\n") < 0) {
		buf_truncate(p, len);
		msg_warn("%s: %s: PREPEND ignored: the headers added so far are too long",
			 buf_str(&ck->s->namaddr), from);
	}
	return CHECK_DUNNO;
}

/* action_list - a restriction list for an answer, applied in place. */
static int action_list(struct smtpd_check *ck, const char *text, const char *from)
{
	struct restrict_list l;
	struct buf why = BUF_INIT;
	int r;

	if (restrict_parse_text(&l, from, text, &ck->s->cf->pol.classes, &why) < 0) {
		r = action_error(ck, from, buf_str(&why));
	} else {
		r = smtpd_check_items(ck, &l);
		restrict_free(&l);
	}
	buf_free(&why);
	return r;
}

int smtpd_check_action(struct smtpd_check *ck, const char *answer, const char *from)
{
	struct access_action a;
	struct buf why = BUF_INIT;
	int r = CHECK_DUNNO;

	if (access_action_parse(answer, &ck->s->cf->access, &a, &why) < 0) {
		buf_printf(&why, " (answer \"%.100s\")", answer);
		r = action_error(ck, from, buf_str(&why));
		buf_free(&why);
		return r;
	}
	buf_free(&why);
	switch (a.kind) {
	case ACCESS_OK:
		return CHECK_OK;
	case ACCESS_DUNNO:
		return CHECK_DUNNO;
	case ACCESS_REJECT:
		return action_reply(ck, &a, NULL);
	case ACCESS_DEFER_IF_PERMIT:
		return action_reply(ck, &a, &ck->if_permit);
	case ACCESS_DEFER_IF_REJECT:
		return action_reply(ck, &a, &ck->if_reject);
	case ACCESS_DISCARD:
		action_log(ck, "discard", *a.text ? a.text : "discard");
		ck->s->discard = 1;
		return CHECK_OK;
	case ACCESS_PREPEND:
		return action_prepend(ck, a.text, from);
	case ACCESS_WARN:
		action_log(ck, "warn", a.text);
		return CHECK_DUNNO;
	case ACCESS_INFO:
		action_log(ck, "info", a.text);
		return CHECK_DUNNO;
	case ACCESS_RESTRICTIONS:
		return action_list(ck, a.text, from);
	case ACCESS_HOLD:
	case ACCESS_REDIRECT:
	case ACCESS_BCC:
		break;
	}
	return action_error(ck, from, "HOLD, REDIRECT and BCC answers are not supported by "
			    "moat yet (the message is deferred instead)");
}
