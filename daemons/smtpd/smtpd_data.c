/*
 * smtpd_data.c - the DATA reader's line and terminator state machine.
 *
 * Called by the smtpd session for every byte of message content, and by
 * tests/unit/test_smtpd_data.c and tests/fuzz/fuzz_smtpd_cmd.c directly.
 *
 * The rules (Postfix smtpd_forbid_bare_newline = normal, made smuggling-proof
 * for the next hop):
 *
 *  - End of data is "." alone on a line that ended in CRLF AND whose
 *    preceding line also ended in CRLF: the five bytes CR LF . CR LF (the
 *    DATA command's own line end counts as the first CRLF). No other
 *    variant (LF.LF, CR.CR, LF.CRLF, CRLF.LF, ...) ends the message; they
 *    are content, and nothing after them is ever read as a command.
 *  - A bare LF ends a content line as if it were CRLF: the output has CRLF.
 *  - A bare CR (CR not followed by LF) is replaced by a space. Keeping it
 *    would let "\r.\r" reach a next hop that treats CR as a line end.
 *  - Lines starting with "." keep their stuffing dot, as the client sent
 *    them (the consumer unstuffs). A line that is "." alone but does not
 *    end the data (it touches a bare LF) stands for an empty line and is
 *    written as an empty line, so the output never contains CRLF.CRLF.
 *
 * Hence the output is CRLF-only, holds no bare CR or LF, and never contains
 * a sequence that a strict or lenient next hop could take as end of data.
 *
 * SECURITY: every byte here comes from the client. The machine keeps O(1)
 * state between calls, never looks back into earlier input, and never
 * writes past outmax.
 */
#include <string.h>

#include "daemons/smtpd/smtpd_data.h"

enum {
	D_BOL,		/* start of a line */
	D_MID,		/* inside a line */
	D_CR,		/* inside a line, just saw CR */
	D_DOT,		/* line so far is "." */
	D_DOT_CR,	/* line so far is "." CR */
};

void smtpd_data_init(struct smtpd_data *d)
{
	d->state = D_BOL;
	d->bare_prev = 0;
	d->out_bytes = 0;
}

static void data_put(struct smtpd_data *d, struct buf *out, const char *p, size_t n)
{
	/* The caller keeps 4 bytes of room per step: this cannot fail. */
	(void)buf_append(out, p, n);
	d->out_bytes += n;
}

/* data_eol - a content line ended; bare says whether its end was a bare LF. */
static void data_eol(struct smtpd_data *d, struct buf *out, int bare)
{
	data_put(d, out, "\r\n", 2);
	d->bare_prev = bare;
	d->state = D_BOL;
}

/* data_span - the longest run of ordinary bytes at in[0..n) (no CR, no LF). */
static size_t data_span(const char *in, size_t n)
{
	size_t i = 0;

	while (i < n && in[i] != '\r' && in[i] != '\n')
		i++;
	return i;
}

size_t smtpd_data_feed(struct smtpd_data *d, const char *in, size_t n, struct buf *out,
		       size_t outmax, int *done)
{
	size_t i = 0;

	*done = 0;
	while (i < n && out->len + 4 <= outmax) {
		char c = in[i];

		switch (d->state) {
		case D_BOL:
			if (c == '.') {
				d->state = D_DOT;
				i++;
				continue;
			}
			d->state = D_MID;
			continue;
		case D_MID: {
			size_t room = outmax - out->len - 4;
			size_t k = data_span(in + i, n - i < room ? n - i : room);

			if (k > 0) {
				data_put(d, out, in + i, k);
				i += k;
				continue;
			}
			if (c == '\r')
				d->state = D_CR;
			else if (c == '\n')
				data_eol(d, out, 1);
			else
				return i;	/* out is full: the caller ships it and calls again */
			i++;
			continue;
		}
		case D_CR:
			if (c == '\n') {
				data_eol(d, out, 0);
				i++;
				continue;
			}
			data_put(d, out, " ", 1);	/* bare CR */
			d->state = D_MID;
			continue;
		case D_DOT:
			if (c == '\r') {
				d->state = D_DOT_CR;
				i++;
				continue;
			}
			if (c == '\n') {
				/* ".\n": not an end; an empty line */
				data_eol(d, out, 1);
				i++;
				continue;
			}
			data_put(d, out, ".", 1);
			d->state = D_MID;
			continue;
		case D_DOT_CR:
			if (c == '\n') {
				i++;
				if (!d->bare_prev) {
					*done = 1;
					return i;
				}
				data_eol(d, out, 0);	/* "\n.\r\n": an empty line */
				continue;
			}
			data_put(d, out, ". ", 2);	/* "." then a bare CR */
			d->state = D_MID;
			continue;
		}
		break;
	}
	return i;
}
