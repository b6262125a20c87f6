/*
 * linefold.c - fold over-long lines on their way to the next hop (see
 * linefold.h).
 *
 * Called by the smtp stage for every chunk of message content it sends.
 * Whole lines that fit are copied at once (memchr per line); only a line
 * that is too long goes byte by byte.
 */
#include <string.h>

#include "mail/linefold.h"

void linefold_init(struct linefold *f, size_t limit)
{
	f->limit = limit;
	f->col = 0;
	f->cr = 0;
}

/* fold_byte - one content octet, after CRLF SPACE when the line is full. */
static int fold_byte(struct linefold *f, char c, struct buf *out)
{
	if (f->col >= f->limit) {
		if (buf_append(out, "\r\n ", 3) < 0)
			return -1;
		f->col = 1;
	}
	f->col++;
	return buf_putc(out, c);
}

/* fold_slow - one segment (at most one line end) byte by byte. */
static int fold_slow(struct linefold *f, const char *in, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (f->cr) {
			f->cr = 0;
			if (c == '\n') {
				f->col = 0;
				if (buf_append(out, "\r\n", 2) < 0)
					return -1;
				continue;
			}
			if (fold_byte(f, '\r', out) < 0)
				return -1;
		}
		if (c == '\r') {
			f->cr = 1;
		} else if (c == '\n') {
			f->col = 0;
			if (buf_putc(out, '\n') < 0)
				return -1;
		} else if (fold_byte(f, c, out) < 0)
			return -1;
	}
	return 0;
}

/* fold_fast - the segment fits as it is: copy it; 1 done, 0 it does not fit. */
static int fold_fast(struct linefold *f, const char *in, size_t n, int eol, struct buf *out)
{
	size_t body = n, hold = 0;

	if (f->cr)
		return 0;
	if (eol)
		body -= n >= 2 && in[n - 2] == '\r' ? 2 : 1;
	else if (in[n - 1] == '\r')
		body -= hold = 1;
	if (f->col + body > f->limit)
		return 0;
	if (buf_append(out, in, n - hold) < 0)
		return -1;
	f->col = eol ? 0 : f->col + body;
	f->cr = (int)hold;
	return 1;
}

int linefold_run(struct linefold *f, const char *in, size_t n, struct buf *out)
{
	while (n > 0) {
		const char *nl = memchr(in, '\n', n);
		size_t seg = nl ? (size_t)(nl - in) + 1 : n;
		int r = fold_fast(f, in, seg, nl != NULL, out);

		if (r < 0 || (r == 0 && fold_slow(f, in, seg, out) < 0))
			return -1;
		in += seg;
		n -= seg;
	}
	return 0;
}

int linefold_finish(struct linefold *f, struct buf *out)
{
	if (!f->cr)
		return 0;
	f->cr = 0;
	return fold_byte(f, '\r', out);
}
