/*
 * smtpd_check_action.c - an access action applied to the command being
 * checked: what a policy service answers (and, once tables exist, what an
 * access table returns), read by mail/access_action.c.
 *
 * Called by the policy client (smtpd_policy.c) with the answer or the
 * configured default action. OK permits, DUNNO goes on, REJECT/DEFER/4NN/
 * 5NN reject with "<subject>: Class rejected: text", DEFER_IF_* remember a
 * deferral, DISCARD accepts and later drops the message, HOLD, REDIRECT
 * and BCC are remembered for the transaction and handed to cleanup with
 * the message (smtpd_cleanup.c), PREPEND adds a header, WARN/INFO log, a
 * restriction list is applied in place. Each logs Postfix's line
 * ("NOQUEUE: hold: RCPT from host[addr]: <rcpt>: Recipient address
 * triggers HOLD action; from=<...> ...").
 *
 * SECURITY: the answer comes from the policy stage, which relays a server
 * moat does not control. It is parsed strictly; anything unreadable is a
 * 451 4.3.5 "Server configuration error" and a warning, never an accept.
 * A PREPEND header is one printable line (the policy stage refuses control
 * bytes), so it cannot start the body or smuggle a second header; a
 * REDIRECT or BCC address is one word with an '@', shorter than the IPC
 * field, and cleanup parses it again as a hostile address.
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

/* action_log - Postfix's "warn:", "info:" lines: the text as given. */
static void action_log(struct smtpd_check *ck, const char *what, const char *text)
{
	smtpd_log_what(ck->s, what, ck->s->where, text,
		       ck->rcpt ? buf_str(&ck->rcpt->addr) : NULL);
}

/* action_triggers - "<subject>: Class triggers HOLD action" (or the table's
 * text) in Postfix's "hold:", "discard:", "redirect:", "bcc:" lines. */
static void action_triggers(struct smtpd_check *ck, const char *what, const char *text)
{
	struct buf subj = BUF_INIT, line = BUF_INIT;
	const char *cls;

	smtpd_check_subject(ck, &subj, &cls);
	buf_printf(&line, "<%s>: %s %s", buf_str(&subj), cls, text);
	action_log(ck, what, buf_str(&line));
	buf_free(&subj);
	buf_free(&line);
}

/*
 * action_message - HOLD, DISCARD, REDIRECT, BCC: what becomes of the whole
 * message, so only once there is one (MAIL FROM given: not at CONNECT or
 * HELO with smtpd_delay_reject = no, where Postfix ignores them too).
 * REDIRECT and BCC take user@domain; cleanup checks it again.
 */
static int action_message(struct smtpd_check *ck, const struct access_action *a,
			  const char *from)
{
	struct smtpd_session *s = ck->s;
	static const char *const word[] = { [ACCESS_HOLD] = "HOLD", [ACCESS_DISCARD] = "DISCARD",
					    [ACCESS_REDIRECT] = "REDIRECT", [ACCESS_BCC] = "BCC" };
	static const char *const what[] = { [ACCESS_HOLD] = "hold", [ACCESS_DISCARD] = "discard",
					    [ACCESS_REDIRECT] = "redirect", [ACCESS_BCC] = "bcc" };
	struct buf text = BUF_INIT;
	const char *at = strrchr(a->text, '@');

	if (!s->in_mail && strcmp(s->where, "MAIL") != 0) {
		msg_warn("%s: %s: action %s is unavailable before MAIL FROM (smtpd_delay_reject = no)",
			 buf_str(&s->namaddr), from, word[a->kind]);
		return CHECK_DUNNO;
	}
	if ((a->kind == ACCESS_REDIRECT || a->kind == ACCESS_BCC)
	    && (at == NULL || at == a->text || at[1] == 0 || strpbrk(a->text, " \t") != NULL
		|| strlen(a->text) >= 512))
		return action_error(ck, from, "REDIRECT and BCC need user@domain");
	if ((a->kind == ACCESS_HOLD || a->kind == ACCESS_DISCARD) && *a->text)
		buf_append_str(&text, a->text);
	else if (a->kind == ACCESS_HOLD || a->kind == ACCESS_DISCARD)
		buf_printf(&text, "triggers %s action", word[a->kind]);
	else
		buf_printf(&text, "triggers %s %s", word[a->kind], a->text);
	if (a->kind == ACCESS_HOLD)
		s->hold = 1;
	else if (a->kind == ACCESS_DISCARD)
		s->discard = 1;
	else if (a->kind == ACCESS_REDIRECT)
		(void)buf_set_str(&s->redirect, a->text);	/* a later one overrides */
	else if (buf_append(&s->bcc, a->text, strlen(a->text) + 1) < 0)
		msg_warn("%s: %s: too many BCC actions: %s not added", buf_str(&s->namaddr), from,
			 a->text);
	action_triggers(ck, what[a->kind], buf_str(&text));
	buf_free(&text);
	return a->kind == ACCESS_DISCARD ? CHECK_OK : CHECK_DUNNO;
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
	case ACCESS_HOLD:
	case ACCESS_DISCARD:
	case ACCESS_REDIRECT:
	case ACCESS_BCC:
		return action_message(ck, &a, from);
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
	}
	return r;
}
