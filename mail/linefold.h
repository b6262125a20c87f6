/*
 * linefold.h - break lines longer than a limit, as Postfix's SMTP client
 * does with smtp_line_length_limit: a line with more than `limit` octets
 * before its CRLF is broken by inserting CRLF SPACE, so that every line on
 * the wire stays within the limit (RFC 5321 4.5.3.1.6 allows 998 plus CRLF)
 * and a folded header line stays one header. The continuation starts with a
 * space, so it can never start with the end-of-data dot.
 *
 * Streaming: the input arrives in chunks of any size, a CR at the end of one
 * chunk is held until the next byte shows whether it ends the line.
 *
 *	struct linefold f;
 *	linefold_init(&f, 998);
 *	linefold_run(&f, chunk, n, &out);   any number of times
 *	linefold_finish(&f, &out);          a held CR, if any
 */
#ifndef MOAT_MAIL_LINEFOLD_H
#define MOAT_MAIL_LINEFOLD_H

#include <stddef.h>

#include "lib/buf.h"

struct linefold {
	size_t limit;		/* > 0 */
	size_t col;		/* octets of the current output line */
	int cr;			/* a CR is held back */
};

void linefold_init(struct linefold *f, size_t limit);
/* linefold_run - append in[0..n) to out, folded; -1 if out cannot grow. */
int linefold_run(struct linefold *f, const char *in, size_t n, struct buf *out);
int linefold_finish(struct linefold *f, struct buf *out);

#endif
