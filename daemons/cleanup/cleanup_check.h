/*
 * cleanup_check.h - header_checks, mime_header_checks, nested_header_checks
 * and body_checks (Postfix's header_checks(5)) for one message in cleanup.
 *
 *	cleanup_check(cm, CHECK_HEADER, raw, len, &out)
 *
 * asks the lookup stage about one logical header (or one body line) and
 * leaves in out what must be written instead of raw: raw itself, nothing
 * (IGNORE, STRIP), a replacement (REPLACE), or a new line then raw
 * (PREPEND). raw is wire form (CRLF, dot-stuffed); flags CHECK_F_PIECE: raw
 * is a piece of a long line after its first (no stuffed dot, no line end).
 * Actions that concern the whole message (REJECT, HOLD, DISCARD, REDIRECT,
 * BCC) are remembered in the message (cleanup_msg.h) and acted on at its
 * end; WARN and INFO only log. A table that cannot answer fails the message
 * with 451 4.3.0: a check that did not finish never lets a message past.
 */
#ifndef MOAT_CLEANUP_CHECK_H
#define MOAT_CLEANUP_CHECK_H

#include <stddef.h>

#include "lib/buf.h"

enum cleanup_check_class { CHECK_HEADER, CHECK_MIME, CHECK_NESTED, CHECK_BODY, CHECK_NCLASS };

struct lookup_client;

struct cleanup_checks {
	struct lookup_client *lc;		/* NULL: no checks at all */
	char *tables[CHECK_NCLASS];		/* a parameter's specs joined by '\n', NULL if none */
};

struct cleanup_msg;

#define CHECK_F_PIECE	0x1

void cleanup_check(struct cleanup_msg *cm, enum cleanup_check_class cls, const char *raw,
		   size_t len, unsigned flags, struct buf *out);
/* cleanup_check_on - is there a table for this class (and a lookup stage to ask)? */
int cleanup_check_on(const struct cleanup_msg *cm, enum cleanup_check_class cls);

/* cleanup_check_mime_header - a MIME header (Postfix's list): mime_header_checks' wherever it is. */
int cleanup_check_mime_header(const char *raw, size_t len);

#endif
