/*
 * cleanup_hdr.c - the header section of a message on its way into the queue.
 *
 * Called by cleanup_msg.c with the content as it arrives (wire form: CRLF,
 * dot-stuffed, chunk boundaries anywhere). It writes our Received: header
 * first, then the client's headers as received, one logical header at a time
 * (unfolded only to look at them), then the headers Postfix adds for local
 * clients when missing (Message-Id, Date, From), then the empty line; the
 * body then goes to cleanup_body.c. Postfix semantics kept:
 *   - header_size_limit bounds one logical header; the excess is discarded;
 *   - message_drop_headers (Bcc, Content-Length, Resent-Bcc, Return-Path)
 *     are removed;
 *   - Received: headers, ours included, count against hopcount_limit;
 *   - the section ends at an empty line or at the first line that is not a
 *     header (an empty line is then inserted so that line stays body).
 *
 * SECURITY: the bytes are the remote client's. Memory is bounded by
 * header_size_limit for the current header plus at most CM_OUT_FLUSH bytes
 * waiting to be written; the scanner reads each byte once and never looks
 * outside the chunk it was given.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "mail/header.h"
#include "mail/rfc822date.h"

#define CM_OUT_FLUSH	16384	/* header bytes gathered per content record */
#define CM_NAME_MAX	998	/* a longer "name" is not a header field */

void cleanup_flush(struct cleanup_msg *cm)
{
	cleanup_put(cm, cm->out.data, cm->out.len);
	buf_reset(&cm->out);
}

void cleanup_out(struct cleanup_msg *cm, const char *p, size_t n)
{
	if (buf_append(&cm->out, p, n) < 0)
		msg_fatal("header output buffer full");	/* unbounded buf: out of memory */
	if (cm->out.len >= CM_OUT_FLUSH)
		cleanup_flush(cm);
}

/* received_tls - Postfix's smtpd_tls_received_header lines, folded where it folds them. */
static void received_tls(const struct cleanup_msg *cm, struct buf *o)
{
	const char *t = buf_str(&cm->tls), *kex = strstr(t, " key-exchange ");

	if (*t == 0)
		return;
	if (kex)
		buf_printf(o, "(using %.*s\r\n\t %s)\r\n\t", (int)(kex - t), t, kex + 1);
	else
		buf_printf(o, "(using %s)\r\n\t", t);
	buf_append_str(o, "(No client certificate requested)\r\n\t");
}

/*
 * cleanup_received - our trace header, Postfix's shape. It goes through
 * header_checks like the client's headers, as Postfix's own does (a rule
 * on "Received: from ... [10." must see it); its addresses are not
 * rewritten and it counts as one hop.
 */
static void cleanup_received(struct cleanup_msg *cm)
{
	const char *addr = buf_str(&cm->client_addr);
	const struct cleanup_cfg *cfg = cm->cfg;
	struct buf o = BUF_INIT;

	if (*addr) {
		buf_printf(&o, "Received: from %s (%s [%s%s])\r\n\t",
			   cm->helo.len ? buf_str(&cm->helo) : buf_str(&cm->client_name),
			   buf_str(&cm->client_name), strchr(addr, ':') ? "IPv6:" : "", addr);
		received_tls(cm, &o);
		buf_printf(&o, "by %s (%s) with %s id %s", cfg->myhostname, cfg->mail_name,
			   buf_str(&cm->protocol), cm->qid);
	} else
		buf_printf(&o, "Received: by %s (%s) with %s id %s", cfg->myhostname,
			   cfg->mail_name, buf_str(&cm->protocol), cm->qid);
	if (cm->nrcpt == 1)
		buf_printf(&o, "\r\n\tfor <%s>; ", buf_str(&cm->rcpt1));
	else
		buf_append_str(&o, ";\r\n\t");
	rfc822date_append(&o, cm->arrival.tv_sec);
	buf_append_str(&o, "\r\n");
	if (cleanup_check_on(cm, CHECK_HEADER)) {
		cleanup_check(cm, CHECK_HEADER, o.data, o.len, 0, &cm->chk_out);
		buf_set(&o, cm->chk_out.data, cm->chk_out.len);
	}
	cleanup_out(cm, o.data, o.len);
	buf_free(&o);
	cm->hops++;
}

void cleanup_hdr_begin(struct cleanup_msg *cm)
{
	cm->line = CL_START;
	cm->hdr_trunc = 0;
	cm->seen = 0;
	cm->hops = 0;
	buf_reset(&cm->hdr);
	buf_reset(&cm->out);
	buf_reset(&cm->msgid);
	/* A DSN of our own gets no trace header, as Postfix's bounces get none. */
	if (!(cm->flags & CLEANUP_F_BOUNCE))
		cleanup_received(cm);
}

/* cleanup_hdr_note - look at one complete header; 0 = keep it, 1 = drop it. */
static int cleanup_hdr_note(struct cleanup_msg *cm, const char *h, size_t n)
{
	static const struct { const char *name; unsigned bit; } seen[] = {
		{ "Message-ID", CM_SEEN_MSGID }, { "Date", CM_SEEN_DATE }, { "From", CM_SEEN_FROM },
		{ "Resent-Message-ID", CM_SEEN_RESENT | CM_SEEN_RESENT_MSGID },
		{ "Resent-Date", CM_SEEN_RESENT | CM_SEEN_RESENT_DATE },
		{ "Resent-From", CM_SEEN_RESENT | CM_SEEN_RESENT_FROM },
	};

	if (header_in_list(h, n, cm->cfg->drop_headers))
		return 1;
	if (header_is_name(h, n, "Received")) {
		cm->hops++;
		return 0;
	}
	if (header_name_len(h, n, NULL) > 7 && strncasecmp(h, "Resent-", 7) == 0)
		cm->seen |= CM_SEEN_RESENT;
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
		if (!header_is_name(h, n, seen[i].name))
			continue;
		if ((seen[i].bit & CM_SEEN_MSGID) && !(cm->seen & CM_SEEN_MSGID)) {
			buf_reset(&cm->msgid);
			(void)header_value(&cm->msgid, h, n);	/* truncated if huge: log only */
		}
		cm->seen |= seen[i].bit;
	}
	return 0;
}

/*
 * cleanup_hdr_write - one primary header through header_checks, or
 * mime_header_checks for a MIME header (Postfix sends those there even
 * with MIME processing off), then its addresses rewritten
 * (cleanup_canon_hdr.c), then noted and written as the checks left it.
 */
static void cleanup_hdr_write(struct cleanup_msg *cm, const char *h, size_t n)
{
	enum cleanup_check_class cls = cleanup_check_mime_header(h, n) ? CHECK_MIME : CHECK_HEADER;

	if (cleanup_check_on(cm, cls)) {
		cleanup_check(cm, cls, h, n, 0, &cm->chk_out);
		h = cm->chk_out.data;
		n = cm->chk_out.len;
	}
	if (n > 0 && cleanup_canon_header(cm, h, n)) {
		h = cm->rw.out.data;
		n = cm->rw.out.len;
	}
	if (n > 0 && cleanup_hdr_note(cm, h, n) == 0)
		cleanup_out(cm, h, n);
}

/* cleanup_hdr_truncated - a header cut at header_size_limit: say so, end its line. */
void cleanup_hdr_truncated(struct cleanup_msg *cm, struct buf *h)
{
	msg_info("%s: header truncated to header_size_limit (%zu bytes)", cm->qid,
		 cm->cfg->header_size_limit);
	if (h->data[h->len - 1] != '\n')
		buf_append_str(h, "\r\n");	/* the cap leaves room */
}

/* cleanup_hdr_flush - the current logical header is complete: note and write it. */
static void cleanup_hdr_flush(struct cleanup_msg *cm)
{
	if (cm->hdr.len == 0)
		return;
	if (cm->hdr_trunc)
		cleanup_hdr_truncated(cm, &cm->hdr);
	cleanup_hdr_write(cm, cm->hdr.data, cm->hdr.len);
	buf_reset(&cm->hdr);
	cm->hdr_trunc = 0;
}

/* cleanup_hdr_text - header text: keep what fits under the limit, drop the rest. */
static void cleanup_hdr_text(struct cleanup_msg *cm, const char *p, size_t n)
{
	size_t room = cm->cfg->header_size_limit > cm->hdr.len
		      ? cm->cfg->header_size_limit - cm->hdr.len : 0;

	if (n > room) {
		n = room;
		cm->hdr_trunc = 1;
	}
	(void)buf_append(&cm->hdr, p, n);
}

/* cleanup_hdr_missing - what a local client left out, as Postfix adds it. */
static void cleanup_hdr_missing(struct cleanup_msg *cm)
{
	int resent = (cm->seen & CM_SEEN_RESENT) != 0;
	const char *pfx = resent ? "Resent-" : "";
	unsigned want_id = resent ? CM_SEEN_RESENT_MSGID : CM_SEEN_MSGID;
	unsigned want_date = resent ? CM_SEEN_RESENT_DATE : CM_SEEN_DATE;
	unsigned want_from = resent ? CM_SEEN_RESENT_FROM : CM_SEEN_FROM;
	struct buf *o = &cm->out;

	if (!cm->local)
		return;
	if (!(cm->seen & want_id)) {
		size_t start;

		buf_printf(o, "%sMessage-Id: ", pfx);
		start = o->len;
		buf_putc(o, '<');
		rfc822date_stamp(o, cm->arrival.tv_sec);
		buf_printf(o, ".%s@%s>", cm->qid, cm->cfg->myhostname);
		if (!resent)
			buf_set(&cm->msgid, o->data + start, o->len - start);
		buf_append_str(o, "\r\n");
	}
	if (!(cm->seen & want_date)) {
		buf_printf(o, "%sDate: ", pfx);
		rfc822date_append(o, cm->arrival.tv_sec);
		buf_append_str(o, "\r\n");
	}
	if (!(cm->seen & want_from))
		buf_printf(o, "%sFrom: %s\r\n", pfx,
			   cm->sender.len ? buf_str(&cm->sender) : "MAILER-DAEMON");
}

/*
 * cleanup_hdr_end - the header section is over. hdr holds the line that
 * ended it (empty, or the first body line so far); sep says whether an empty
 * line must be inserted before it. That first body line goes on as body.
 */
static void cleanup_hdr_end(struct cleanup_msg *cm, int sep)
{
	cleanup_hdr_missing(cm);
	if (sep)
		buf_append_str(&cm->out, "\r\n");
	else
		buf_append(&cm->out, cm->hdr.data, cm->hdr.len);
	cleanup_flush(cm);
	cm->state = CM_BODY;
	msg_info("%s: message-id=%s", cm->qid, cm->msgid.len ? buf_str(&cm->msgid) : "<>");
	cleanup_body_begin(cm);
	if (sep)
		cleanup_body_first(cm, cm->hdr.data, cm->hdr.len);
	buf_reset(&cm->hdr);
}

/*
 * cleanup_hdr_data - scan content bytes; returns 1 and *used when the header
 * section ended inside them (p[*used..] is body), 0 when all were taken.
 */
int cleanup_hdr_data(struct cleanup_msg *cm, const char *p, size_t n, size_t *used)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		switch (cm->line) {
		case CL_TEXT: {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t k = nl ? (size_t)(nl - (p + i)) + 1 : n - i;

			cleanup_hdr_text(cm, p + i, k);
			i += k;
			if (nl)
				cm->line = CL_START;
			continue;
		}
		case CL_START:
			if (c == ' ' || c == '\t') {
				if (cm->hdr.len == 0)
					goto other;	/* a continuation of nothing */
				cm->line = CL_TEXT;
				continue;		/* CL_TEXT takes the byte */
			}
			cleanup_hdr_flush(cm);
			if (c == '\n') {
				buf_putc(&cm->hdr, c);
				i++;
				goto empty;
			}
			if (c != '\r' && !header_name_char(c))
				goto other;
			buf_putc(&cm->hdr, c);
			cm->line = c == '\r' ? CL_CR : CL_NAME;
			i++;
			continue;
		case CL_CR:
			if (c != '\n')
				goto other;
			buf_putc(&cm->hdr, c);
			i++;
			goto empty;
		case CL_NAME:
		case CL_NAME_WSP:
			if (c == ':') {
				cm->line = CL_TEXT;
				continue;
			}
			if (c == ' ' || c == '\t')
				cm->line = CL_NAME_WSP;
			else if (!header_name_char(c) || cm->line == CL_NAME_WSP)
				goto other;
			if (cm->hdr.len >= CM_NAME_MAX || buf_putc(&cm->hdr, c) < 0)
				goto other;
			i++;
			continue;
		}
	}
	return 0;
empty:
	cleanup_hdr_end(cm, 0);
	*used = i;
	return 1;
other:
	cleanup_hdr_end(cm, 1);
	*used = i;
	return 1;
}

/* cleanup_hdr_finish - the content ended inside the header section. */
void cleanup_hdr_finish(struct cleanup_msg *cm)
{
	int partial = cm->line == CL_NAME || cm->line == CL_NAME_WSP;

	/* The last line lacks its line end: give it one (the cap leaves room). */
	if (cm->line == CL_TEXT && cm->hdr.len && cm->hdr.data[cm->hdr.len - 1] != '\n')
		buf_append_str(&cm->hdr, "\r\n");
	if (cm->line == CL_CR) {
		buf_append_str(&cm->hdr, "\n");	/* a lone CR: the empty line */
		cleanup_hdr_end(cm, 0);
		return;
	}
	if (partial) {
		/* An unfinished line that is no header: it is the body. */
		buf_append_str(&cm->hdr, "\r\n");
		cleanup_hdr_end(cm, 1);
		return;
	}
	cleanup_hdr_flush(cm);
	cleanup_hdr_end(cm, 0);
}
