/*
 * dsn_report.c - RFC 3464 delivery status notifications (see dsn_report.h).
 *
 * Called by the bounce stage with what qmgr logged for each recipient and
 * the first bytes of the original message. The reasons and addresses came
 * from remote servers and clients: every generated line goes through
 * dsn_line, which removes control characters, folds anything longer than
 * RFC 5322 allows, and dot-stuffs, so no input can add a header, end a MIME
 * part or end the SMTP DATA early.
 */
#include <stdio.h>
#include <string.h>

#include "ipc/mailproto.h"
#include "mail/dsn_report.h"
#include "mail/rfc822date.h"

#define DSN_LINE_MAX	900	/* fold generated lines before RFC 5322's 998 */

int dsn_report_wants(int kind, uint32_t notify)
{
	if (notify == 0)
		return 1;
	if (notify & DSN_NOTIFY_NEVER)
		return 0;
	return (notify & (kind == DSN_REPORT_DELAYED ? DSN_NOTIFY_DELAY : DSN_NOTIFY_FAILURE)) != 0;
}

/* dsn_line - one generated line, cleaned, folded and dot-stuffed, plus CRLF. */
static void dsn_line(struct buf *out, const char *s)
{
	size_t col = 0;

	if (*s == '.')
		buf_putc(out, '.');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (col >= DSN_LINE_MAX && (c == ' ' || c == '\t')) {
			buf_append_str(out, "\r\n");	/* the blank starts the continuation */
			col = 0;
		}
		buf_putc(out, c < 32 && c != '\t' ? '?' : c == 127 ? '?' : c);
		col++;
	}
	buf_append_str(out, "\r\n");
}

static void dsn_linef(struct buf *out, struct buf *tmp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dsn_linef(struct buf *out, struct buf *tmp, const char *fmt, ...)
{
	va_list ap;

	buf_reset(tmp);
	va_start(ap, fmt);
	buf_vprintf(tmp, fmt, ap);
	va_end(ap);
	dsn_line(out, buf_str(tmp));
}

/* dsn_relay_host - "mx.example.com" from "mx.example.com[192.0.2.1]:25". */
static void dsn_relay_host(struct buf *out, const char *relay)
{
	buf_reset(out);
	buf_append(out, relay, strcspn(relay, "[:"));
}

static int dsn_has_relay(const char *relay)
{
	return relay && *relay && strcmp(relay, "none") != 0;
}

size_t dsn_report_header_end(const char *p, size_t len)
{
	size_t i = 0, last = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);

		if (nl == NULL)
			break;
		size_t end = (size_t)(nl - p) + 1;

		if (end - i <= 2 && (end - i == 1 || p[i] == '\r'))
			return last;	/* the empty line: the header section ends before it */
		last = i = end;
	}
	return last;
}

static void dsn_headers(struct buf *out, struct buf *tmp, const struct dsn_report *r,
			const char *boundary)
{
	dsn_linef(out, tmp, "From: MAILER-DAEMON@%s (Mail Delivery System)", r->myhostname);
	static const char *const subject[2][2] = {
		{ "Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)" },
		{ "Postmaster Copy: Undelivered Mail", "Postmaster Warning: Delayed Mail" },
	};

	dsn_linef(out, tmp, "Subject: %s",
		  subject[r->postmaster != 0][r->kind == DSN_REPORT_DELAYED]);
	dsn_linef(out, tmp, "To: %s", r->to);
	dsn_line(out, "Auto-Submitted: auto-replied");
	dsn_line(out, "MIME-Version: 1.0");
	dsn_line(out, "Content-Type: multipart/report; report-type=delivery-status;");
	dsn_linef(out, tmp, "\tboundary=\"%s\"", boundary);
	dsn_linef(out, tmp, "Content-Transfer-Encoding: %s", r->eightbit ? "8bit" : "7bit");
	dsn_line(out, "");
	dsn_line(out, "This is a MIME-encapsulated message.");
	dsn_line(out, "");
}

static void dsn_text(struct buf *out, struct buf *tmp, const struct dsn_report *r,
		     const char *boundary)
{
	dsn_linef(out, tmp, "--%s", boundary);
	dsn_line(out, "Content-Description: Notification");
	dsn_line(out, "Content-Type: text/plain; charset=us-ascii");
	dsn_line(out, "");
	dsn_linef(out, tmp, "This is the mail system at host %s.", r->myhostname);
	dsn_line(out, "");
	if (r->kind == DSN_REPORT_DELAYED) {
		dsn_line(out, "This is a warning only: there is no need to send your message again.");
		dsn_line(out, "It could not yet be delivered to the recipients below, and delivery");
		dsn_line(out, "will be tried again until it succeeds or the message expires.");
	} else {
		dsn_line(out, "Your message could not be delivered to the recipients below, and");
		dsn_line(out, "delivery has stopped. The report and the message (or its headers)");
		dsn_line(out, "are attached.");
	}
	dsn_line(out, "");
	dsn_line(out, "For help, write to your postmaster and include this report.");
	dsn_line(out, "");
	dsn_line(out, "                   The mail system");
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct dsn_rcpt *rc = &r->rcpts[i];

		dsn_line(out, "");
		if (dsn_has_relay(rc->relay))
			dsn_linef(out, tmp, "<%s>: host %s said: %s", rc->addr, rc->relay, rc->reason);
		else
			dsn_linef(out, tmp, "<%s>: %s", rc->addr, rc->reason);
	}
	dsn_line(out, "");
}

static void dsn_status(struct buf *out, struct buf *tmp, const struct dsn_report *r,
		       const char *boundary)
{
	struct buf host = BUF_INIT;

	dsn_linef(out, tmp, "--%s", boundary);
	dsn_line(out, "Content-Description: Delivery report");
	dsn_line(out, "Content-Type: message/delivery-status");
	dsn_line(out, "");
	dsn_linef(out, tmp, "Reporting-MTA: dns; %s", r->myhostname);
	dsn_linef(out, tmp, "X-Moat-Queue-ID: %s", r->queue_id);
	dsn_linef(out, tmp, "X-Moat-Sender: rfc822; %s", r->sender);
	if (r->envid && *r->envid)
		dsn_linef(out, tmp, "Original-Envelope-Id: %s", r->envid);
	buf_reset(tmp);
	buf_append_str(tmp, "Arrival-Date: ");
	rfc822date_append(tmp, r->arrival);
	dsn_line(out, buf_str(tmp));
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct dsn_rcpt *rc = &r->rcpts[i];
		int remote = dsn_has_relay(rc->relay);

		dsn_line(out, "");
		dsn_linef(out, tmp, "Final-Recipient: rfc822; %s", rc->addr);
		if (rc->orcpt && strchr(rc->orcpt, ';'))
			dsn_linef(out, tmp, "Original-Recipient: %s", rc->orcpt);
		else if (rc->orcpt && *rc->orcpt && strcmp(rc->orcpt, rc->addr) != 0)
			dsn_linef(out, tmp, "Original-Recipient: rfc822; %s", rc->orcpt);
		dsn_linef(out, tmp, "Action: %s", r->kind == DSN_REPORT_DELAYED ? "delayed" : "failed");
		dsn_linef(out, tmp, "Status: %s", rc->status);
		if (remote) {
			dsn_relay_host(&host, rc->relay);
			dsn_linef(out, tmp, "Remote-MTA: dns; %s", buf_str(&host));
		}
		dsn_linef(out, tmp, "Diagnostic-Code: %s; %s", remote ? "smtp" : "X-Moat", rc->reason);
	}
	dsn_line(out, "");
	buf_free(&host);
}

/* dsn_original - the returned message or its headers: already wire form. */
static void dsn_original(struct buf *out, struct buf *tmp, const struct dsn_report *r,
			 const char *boundary)
{
	int whole = !r->ret_hdrs && r->content_total <= r->size_limit
		    && r->content_len >= r->content_total;
	size_t len = whole ? (size_t)r->content_total
			   : dsn_report_header_end(r->content, r->content_len);

	dsn_linef(out, tmp, "--%s", boundary);
	dsn_linef(out, tmp, "Content-Description: %s", whole ? "Undelivered Message"
		  : "Undelivered Message Headers");
	dsn_linef(out, tmp, "Content-Type: %s", whole ? "message/rfc822" : "text/rfc822-headers");
	if (r->eightbit)
		dsn_line(out, "Content-Transfer-Encoding: 8bit");
	dsn_line(out, "");
	buf_append(out, r->content, len);
	if (len > 0 && r->content[len - 1] != '\n')
		buf_append_str(out, "\r\n");
	dsn_line(out, "");
	dsn_linef(out, tmp, "--%s--", boundary);
}

int dsn_report_build(struct buf *out, const struct dsn_report *r)
{
	struct buf tmp = BUF_INIT, boundary = BUF_INIT;

	/* Unique per report, and no line of the original can equal it by chance
	 * without knowing the queue id and the second. */
	buf_printf(&boundary, "%s.%lld/%s", r->queue_id, (long long)r->now, r->myhostname);
	dsn_headers(out, &tmp, r, buf_str(&boundary));
	dsn_text(out, &tmp, r, buf_str(&boundary));
	dsn_status(out, &tmp, r, buf_str(&boundary));
	dsn_original(out, &tmp, r, buf_str(&boundary));
	buf_free(&tmp);
	buf_free(&boundary);
	return 0;
}
