/*
 * smtp_reply.h - strict parsing of SMTP server replies and EHLO keywords.
 *
 * A reply is one or more lines "DDD-text" ending with one "DDD text" (or a
 * bare "DDD"), every line with the same three-digit code, first digit 2..5.
 * The parser works on a receive buffer that may hold a partial reply, the
 * next replies (pipelining) or garbage: it says "complete, used n bytes",
 * "need more" or "malformed", never allocates more than the caps below, and
 * never trusts a length or count the server sends.
 */
#ifndef MOAT_MAIL_SMTP_REPLY_H
#define MOAT_MAIL_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define SMTP_REPLY_MAX_LINE	2048	/* bytes per line, CRLF included */
#define SMTP_REPLY_MAX_LINES	100	/* lines per reply */

struct smtp_reply {
	int code;		/* 250 */
	char dsn[16];		/* "2.1.5" from the first line, or "" */
	int nlines;
	struct buf text;	/* line texts (after "DDD-"), joined with '\n' */
};

#define SMTP_REPLY_DONE	1
#define SMTP_REPLY_MORE	0
#define SMTP_REPLY_BAD	(-1)

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);

/*
 * smtp_reply_parse - parse the reply at the start of data[0..len). DONE:
 * *r holds it and *used says how many bytes it took; MORE: the reply is not
 * complete yet (and still within the caps); BAD: not an SMTP reply, and why
 * says how (the connection is useless).
 */
int smtp_reply_parse(struct smtp_reply *r, const char *data, size_t len, size_t *used,
		     struct buf *why);

/* smtp_reply_oneline - "550 5.1.1 text text" for logs and DSNs (printable). */
void smtp_reply_oneline(const struct smtp_reply *r, struct buf *out);

/* smtp_reply_dsn - the enhanced code, else "X.0.0" from the reply code. */
const char *smtp_reply_dsn(const struct smtp_reply *r, char out[16]);

/* EHLO keywords the client uses. */
#define SMTP_EXT_PIPELINING	0x01
#define SMTP_EXT_SIZE		0x02
#define SMTP_EXT_8BITMIME	0x04
#define SMTP_EXT_SMTPUTF8	0x08
#define SMTP_EXT_DSN		0x10
#define SMTP_EXT_ENHANCED	0x20
#define SMTP_EXT_STARTTLS	0x40

struct smtp_ehlo {
	unsigned flags;
	uint64_t size;		/* SIZE n; 0 = announced without a limit */
};

/*
 * smtp_reply_ehlo - keywords of a 250 EHLO reply (the first line is the
 * server's name, not a keyword). discard: keywords to ignore (NULL-terminated,
 * case-insensitive), may be NULL.
 */
void smtp_reply_ehlo(const struct smtp_reply *r, char *const *discard, struct smtp_ehlo *e);

#endif
