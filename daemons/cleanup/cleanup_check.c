/*
 * cleanup_check.c - content checks: one header or body line against a
 * parameter's tables, and the action the table answers (header_checks(5),
 * cleanup_check.h).
 *
 * Called by cleanup_hdr.c for the primary headers (MIME ones go to
 * mime_header_checks) and by cleanup_body.c for the headers of MIME parts
 * and attached messages and for body lines (each line, or each
 * line_length_limit piece of a longer one, as Postfix's records).
 *
 * Postfix semantics kept: the key is the logical header as one string, its
 * folded lines joined by "\n" (so patterns see "\n\t" where the message
 * folds); the action word is case-insensitive; REJECT's text may start
 * with its own 4.x.x or 5.x.x code (default 5.7.1); REDIRECT and BCC need
 * user@domain; PREPEND and REPLACE of a header need "name: value"; an
 * unknown action is logged and treated as DUNNO; once a message is
 * rejected or discarded, or a PASS action fired, nothing more is asked;
 * an empty line is never looked up ("empty lines never match"); STRIP
 * deletes the line as IGNORE does, and logs. The content is in wire form:
 * a line's stuffed dot is not part of the key, and a PREPEND or REPLACE
 * text that starts with a dot is stuffed. Messages cleanup's own bounce
 * stage makes are not checked (Postfix's empty internal_mail_filter_classes). Each action is logged as
 * Postfix's cleanup does: "QUEUEID: reject: header Subject: ... from
 * client[addr]; from=<s> to=<r> proto=ESMTP helo=<h>: text".
 *
 * Where moat differs: a table error (a pcre match limit, a broken table,
 * no lookup stage) fails the message with 451 4.3.0, as Postfix does for
 * a map lookup error; Postfix itself takes a pcre match-limit error as "no
 * match", which would let a message past a REJECT. moat has no content
 * filter: a FILTER answer, in any of the four classes, defers the message
 * (451 4.3.0, a warning naming the parameter), so no message passes a
 * FILTER rule unfiltered. It is not refused at start-up: the lookup stage
 * cannot list a table's answers (maps/ has no such call) and a pattern
 * table's answer may be built from the message ($1).
 *
 * SECURITY: the header or line and the table's answer are both untrusted
 * text. Keys are bounded by header_size_limit (checked against the lookup
 * protocol's key bound at start-up), NULs never reach the key (a NUL would
 * end the key early and hide the rest from the patterns), and log lines
 * carry at most 200 bytes of content with control characters replaced.
 */
#include <string.h>
#include <strings.h>

#include "daemons/cleanup/cleanup_check.h"
#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "mail/header.h"
#include "skeleton/stage_lookup.h"

static const char *const check_param[CHECK_NCLASS] = {
	"header_checks", "mime_header_checks", "nested_header_checks", "body_checks",
};

int cleanup_check_mime_header(const char *raw, size_t len)
{
	static char *const mime[] = {
		"Content-Description", "Content-Disposition", "Content-ID",
		"Content-Transfer-Encoding", "Content-Type", "MIME-Version", NULL,
	};

	return header_in_list(raw, len, mime);
}

int cleanup_check_on(const struct cleanup_msg *cm, enum cleanup_check_class cls)
{
	const struct cleanup_checks *c = &cm->cfg->checks;

	return c->lc != NULL && c->tables[cls] != NULL && !(cm->flags & CLEANUP_F_BOUNCE);
}

/* check_key - the line as patterns see it: no line end or stuffed dot, folds joined by "\n", no NUL. */
static void check_key(struct buf *key, const char *raw, size_t len, unsigned flags)
{
	buf_reset(key);
	if (!(flags & CHECK_F_PIECE) && len >= 2 && raw[0] == '.' && raw[1] == '.') {
		raw++;
		len--;
	}
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			continue;
		(void)buf_putc(key, raw[i] == 0 ? ' ' : raw[i]);
	}
}

/* check_log - Postfix's cleanup_act_log line. */
static void check_log(struct cleanup_msg *cm, const char *action, enum cleanup_check_class cls,
		      const char *text)
{
	struct buf line = BUF_INIT;
	const char *addr = buf_str(&cm->client_addr);
	const char *key = buf_str(&cm->chk_key);

	buf_printf(&line, "%s: %s: %s ", cm->qid, action, cls == CHECK_BODY ? "body" : "header");
	for (size_t i = 0; i < 200 && key[i]; i++)
		buf_putc(&line, (unsigned char)key[i] < 32 || key[i] == 127 ? '?' : key[i]);
	if (*addr)
		buf_printf(&line, " from %s[%s];", buf_str(&cm->client_name), addr);
	else
		buf_append_str(&line, " from local;");
	buf_printf(&line, " from=<%s> to=<%s> proto=%s helo=<%s>", buf_str(&cm->sender),
		   buf_str(&cm->rcpt1), buf_str(&cm->protocol), buf_str(&cm->helo));
	if (text && *text)
		buf_printf(&line, ": %s", text);
	msg_info("%s", buf_str(&line));
	buf_free(&line);
}

/* check_defer - the check could not be finished: the message must wait. */
static void check_defer(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *why)
{
	msg_warn("%s: %s map lookup problem (%s) -- message not accepted, try again later",
		 cm->qid, check_param[cls], why);
	cleanup_fail(cm, 451, "4.3.0 Error: temporary failure of a content check");
	cm->check |= CM_CHECK_LOGGED;
}

/* check_dsn - "5.7.1 text", or the text's own 4.x.x/5.x.x code. */
static void check_dsn(struct buf *out, const char *text)
{
	size_t n = strspn(text, "0123456789.");
	int coded = n >= 5 && (text[n] == ' ' || text[n] == 0) && text[1] == '.'
		    && strchr(text + 2, '.') < text + n;

	buf_reset(out);
	if (*text == 0)
		buf_append_str(out, "5.7.1 message content rejected");
	else if (coded)
		buf_append_str(out, text);
	else
		buf_printf(out, "5.7.1 %s", text);
	if (out->data[0] != '4' && out->data[0] != '5')
		out->data[0] = '4';	/* as Postfix: only a failure code may reject */
}

static void check_reject(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *text)
{
	struct buf dsn = BUF_INIT;

	check_dsn(&dsn, text);
	check_log(cm, "reject", cls, buf_str(&dsn));
	cleanup_fail(cm, dsn.data[0] == '4' ? 451 : 550, buf_str(&dsn));
	cm->check |= CM_CHECK_LOGGED;
	buf_free(&dsn);
}

/* check_address - REDIRECT and BCC take user@domain, as Postfix requires. */
static int check_address(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *cmd,
			 const char *text)
{
	if (strchr(text, '@') != NULL && strlen(text) < 1000 && strpbrk(text, " \t\r\n") == NULL)
		return 1;
	msg_warn("%s: bad %s address \"%.100s\" in %s map -- need user@domain", cm->qid, cmd, text,
		 check_param[cls]);
	return 0;
}

/* check_line_text - PREPEND/REPLACE text: for a header it must be one. */
static int check_line_text(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *cmd,
			   const char *text)
{
	size_t colon;

	if (strpbrk(text, "\r\n") == NULL
	    && (cls == CHECK_BODY || header_name_len(text, strlen(text), &colon) > 0))
		return 1;
	msg_warn("%s: bad %s text \"%.100s\" in %s map -- need \"headername: headervalue\"", cm->qid,
		 cmd, text, check_param[cls]);
	return 0;
}

/* check_text_line - a PREPEND or REPLACE text as a wire line (a leading dot stuffed). */
static void check_text_line(struct buf *out, const char *text, int line_start, const char *end)
{
	if (line_start && text[0] == '.')
		buf_putc(out, '.');
	buf_append_str(out, text);
	buf_append_str(out, end);
}

/* check_edit - PREPEND, REPLACE, IGNORE, STRIP: what goes to the queue file instead of raw. */
static int check_edit(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *cmd,
		      const char *text, const char *raw, size_t len, unsigned flags, struct buf *out)
{
	int prepend = strcasecmp(cmd, "PREPEND") == 0;

	if (strcasecmp(cmd, "IGNORE") == 0 || strcasecmp(cmd, "STRIP") == 0) {
		if (cmd[0] == 'S' || cmd[0] == 's')
			check_log(cm, "strip", cls, text);
		buf_reset(out);
		return 1;
	}
	if (!prepend && strcasecmp(cmd, "REPLACE") != 0)
		return 0;
	if (!check_line_text(cm, cls, cmd, text))
		return 1;
	check_log(cm, prepend ? "prepend" : "replace", cls, text);
	buf_reset(out);
	if (prepend) {
		check_text_line(out, text, !(flags & CHECK_F_PIECE), "\r\n");
		if ((flags & CHECK_F_PIECE) && len > 0 && raw[0] == '.')
			buf_putc(out, '.');	/* the piece now starts a line: stuff its dot */
		buf_append(out, raw, len);
	} else {
		/* a piece of a longer line has no line end of its own */
		check_text_line(out, text, !(flags & CHECK_F_PIECE),
				len > 0 && raw[len - 1] == '\n' ? "\r\n" : "");
	}
	return 1;
}

/* check_envelope - REDIRECT, BCC, HOLD, DISCARD: the message's fate, acted on at its end. */
static int check_envelope(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *cmd,
			  const char *text)
{
	if (strcasecmp(cmd, "HOLD") == 0) {
		cm->check |= CM_CHECK_HOLD;
		check_log(cm, "hold", cls, text);
	} else if (strcasecmp(cmd, "DISCARD") == 0) {
		cm->check |= CM_CHECK_DISCARD;
		check_log(cm, "discard", cls, text);
	} else if (strcasecmp(cmd, "REDIRECT") == 0) {
		if (check_address(cm, cls, cmd, text)) {
			buf_set_str(&cm->redirect, text);	/* a later REDIRECT overrides */
			check_log(cm, "redirect", cls, text);
		}
	} else if (strcasecmp(cmd, "BCC") == 0) {
		if (check_address(cm, cls, cmd, text) && buf_append(&cm->bcc, text, strlen(text) + 1) < 0)
			msg_warn("%s: too many BCC actions: %s not added", cm->qid, text);
	} else {
		return 0;
	}
	return 1;
}

/* check_act - one table answer: "ACTION [text]". */
static void check_act(struct cleanup_msg *cm, enum cleanup_check_class cls, char *value,
		      const char *raw, size_t len, unsigned flags, struct buf *out)
{
	char *text = value + strcspn(value, " \t");

	if (*text)
		*text++ = 0;
	text += strspn(text, " \t");
	if (strcasecmp(value, "REJECT") == 0)
		check_reject(cm, cls, text);
	else if (strcasecmp(value, "WARN") == 0)
		check_log(cm, "warning", cls, text);
	else if (strcasecmp(value, "INFO") == 0)
		check_log(cm, "info", cls, text);
	else if (strcasecmp(value, "FILTER") == 0)
		check_defer(cm, cls, "FILTER: moat has no content filter");
	else if (strcasecmp(value, "PASS") == 0) {
		check_log(cm, "pass", cls, text);
		cm->check |= CM_CHECK_PASS;
	} else if (check_edit(cm, cls, value, text, raw, len, flags, out)
		   || check_envelope(cm, cls, value, text)
		 || strcasecmp(value, "DUNNO") == 0)
		return;
	else if (strcasecmp(value, "OK") == 0)
		msg_warn("%s: OK action in %s map is DUNNO (header and body checks cannot accept)",
			 cm->qid, check_param[cls]);
	else
		msg_warn("%s: unknown command in %s map: %.100s", cm->qid, check_param[cls], value);
}

void cleanup_check(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *raw,
		   size_t len, unsigned flags, struct buf *out)
{
	const struct cleanup_checks *c = &cm->cfg->checks;
	struct lookup_key k = { .tables = c->tables[cls], .order = LOOKUP_ORDER_KEY, .delim = "" };
	struct lookup_answer a;

	buf_reset(out);
	buf_append(out, raw, len);
	if (!cleanup_check_on(cm, cls) || cm->status != 0
	    || (cm->check & (CM_CHECK_DISCARD | CM_CHECK_PASS)))
		return;
	check_key(&cm->chk_key, raw, len, flags);
	if (cm->chk_key.len == 0)
		return;
	k.key = buf_str(&cm->chk_key);
	lookup_answer_init(&a);
	switch (lookup_query(c->lc, &k, &a)) {
	case LOOKUP_FOUND:
		check_act(cm, cls, a.value.data ? a.value.data : (char *)"", raw, len, flags, out);
		break;
	case LOOKUP_NOTFOUND:
		break;
	case LOOKUP_NOTABLE:
		check_defer(cm, cls, "the lookup stage holds no such table");
		break;
	default:
		check_defer(cm, cls, "the table failed or did not answer");
		break;
	}
	lookup_answer_free(&a);
}
