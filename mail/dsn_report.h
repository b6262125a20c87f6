/*
 * dsn_report.h - build an RFC 3464 delivery status notification.
 *
 * The output is a whole message in wire form (CRLF line ends, dot-stuffed,
 * no final dot), ready for MSG_CLEANUP_DATA: headers (From, To, Subject,
 * Auto-Submitted, MIME), then multipart/report with the human text, the
 * message/delivery-status part, and the original message: message/rfc822
 * when it fits in size_limit and RET is not HDRS, else text/rfc822-headers
 * (its header section only, cut at size_limit). Message-Id and Date are
 * left to cleanup, which adds them for local submissions.
 */
#ifndef MOAT_MAIL_DSN_REPORT_H
#define MOAT_MAIL_DSN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"

#define DSN_REPORT_FAILED	1
#define DSN_REPORT_DELAYED	2

struct dsn_rcpt {
	const char *addr;
	const char *orcpt;	/* "rfc822;addr" (ORCPT) or a plain original address, or "" */
	const char *status;	/* "5.1.1" */
	const char *reason;	/* one line */
	const char *relay;	/* "host[addr]:port", or "none"/"" */
};

struct dsn_report {
	int kind;			/* DSN_REPORT_* */
	const char *myhostname;
	const char *queue_id;
	const char *sender;		/* original envelope sender */
	const char *to;			/* who gets the report (sender or postmaster) */
	const char *envid;		/* "" if none */
	time_t arrival;
	time_t now;			/* boundary uniqueness */
	int ret_hdrs;			/* RET=HDRS */
	int postmaster;			/* the postmaster's copy (its own Subject) */
	int eightbit;			/* the original may hold 8-bit data */
	const struct dsn_rcpt *rcpts;
	size_t nrcpts;
	const char *content;		/* the original's first bytes, wire form */
	size_t content_len;		/* how many of them are here (<= size_limit + 1) */
	uint64_t content_total;		/* the original's full size */
	size_t size_limit;		/* bounce_size_limit */
};

int dsn_report_build(struct buf *out, const struct dsn_report *r);

/* dsn_report_wants - does a recipient with these DSN_NOTIFY_* bits want a
 * report of this kind? (NOTIFY not given: failures yes, delays yes.) */
int dsn_report_wants(int kind, uint32_t notify);

/* dsn_report_header_end - length of the header section of wire-form
 * content within its first len bytes, cut at a line end (0 if none). */
size_t dsn_report_header_end(const char *p, size_t len);

#endif
