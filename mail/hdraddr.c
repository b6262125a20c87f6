/*
 * hdraddr.c - address spans in a header value (hdraddr.h).
 *
 * Called by the smtp stage (smtp_generic_maps) on headers a remote client
 * wrote: every index stays below n, an unclosed quote, comment or bracket
 * just ends the scan, and nothing is allocated but into a struct buf.
 */
#include <string.h>

#include "mail/hdraddr.h"

/* One mailbox being scanned. */
struct hdr_box {
	size_t angle_lo, angle_hi;	/* inside <...>; angle_hi 0: none */
	size_t lo, hi;		/* the bare tokens outside comments; hi 0: none */
	int gap;		/* white space between bare tokens */
	int ws;			/* white space seen since the last bare token */
};

static void box_reset(struct hdr_box *b)
{
	memset(b, 0, sizeof(*b));
}

/* box_end - report the mailbox's address, if it has one worth rewriting. */
static int box_end(const char *v, struct hdr_box *b, hdraddr_fn fn, void *ctx)
{
	size_t lo = b->angle_hi ? b->angle_lo : b->lo, hi = b->angle_hi ? b->angle_hi : b->hi;
	int r = 0;

	if (hi > lo && (b->angle_hi || !b->gap) && v[lo] != '@' && memchr(v + lo, ':', hi - lo) == NULL)
		r = fn(ctx, lo, hi - lo);
	box_reset(b);
	return r;
}

/* skip_quoted - past the closing quote (or bracket) from v[i] = open; 0 if none. */
static size_t skip_quoted(const char *v, size_t n, size_t i, char close)
{
	for (i++; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n)
			i++;
		else if (v[i] == close)
			return i + 1;
	}
	return 0;
}

/* skip_comment - past the comment opened at v[i] (comments nest). */
static size_t skip_comment(const char *v, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n)
			i++;
		else if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth == 0)
			return i + 1;
	}
	return n;
}

/* box_token - a bare token from i to j: extend the mailbox's span. */
static void box_token(struct hdr_box *b, size_t i, size_t j)
{
	if (b->hi == 0) {
		b->lo = i;
	} else if (b->ws)
		b->gap = 1;
	b->hi = j;
	b->ws = 0;
}

int hdraddr_scan(const char *v, size_t n, hdraddr_fn fn, void *ctx)
{
	struct hdr_box b;
	size_t i = 0, j;

	box_reset(&b);
	while (i < n) {
		char c = v[i];

		if (c == '(') {
			i = skip_comment(v, n, i);
			b.ws = b.hi != 0;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			b.ws = b.hi != 0;
			i++;
		} else if (c == '<') {
			if ((j = skip_quoted(v, n, i, '>')) == 0)
				return 0;	/* unclosed: nothing more is an address */
			b.angle_lo = i + 1;
			b.angle_hi = j - 1;
			i = j;
		} else if (c == ',' || c == ';') {
			if (box_end(v, &b, fn, ctx) < 0)
				return -1;
			i++;
		} else if (c == ':' && b.angle_hi == 0) {
			box_reset(&b);	/* a group's name */
			i++;
		} else {
			j = c == '"' ? skip_quoted(v, n, i, '"') : c == '[' ? skip_quoted(v, n, i, ']') : i + 1;
			if (j == 0)
				return 0;
			box_token(&b, i, j);
			i = j;
		}
	}
	return box_end(v, &b, fn, ctx);
}

static int atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		|| (c & 0x80) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

int hdraddr_internal(const char *span, size_t len, struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	if (memchr(span, '\r', len) || memchr(span, '\n', len) || memchr(span, 0, len))
		return -1;
	if (len > 0 && span[0] == '"') {
		for (i = 1; i < len && span[i] != '"'; i++) {
			if (span[i] == '\\' && i + 1 < len)
				i++;
			if (buf_putc(out, span[i]) < 0)
				return -1;
		}
		i++;
	}
	return i < len && buf_append(out, span + i, len - i) < 0 ? -1 : 0;
}

/* ext_needs_quote - a local part that is not a dot-atom. */
static int ext_needs_quote(const char *p, size_t n)
{
	if (n == 0 || p[0] == '.' || p[n - 1] == '.')
		return n > 0;
	for (size_t i = 0; i < n; i++)
		if (!(atext((unsigned char)p[i]) || (p[i] == '.' && p[i + 1] != '.')))
			return 1;
	return 0;
}

int hdraddr_external(const char *addr, struct buf *out)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	buf_reset(out);
	if (!ext_needs_quote(addr, n))
		return buf_append_str(out, addr);
	if (buf_putc(out, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((addr[i] == '"' || addr[i] == '\\') ? buf_putc(out, '\\') < 0 : 0)
			return -1;
		else if (buf_putc(out, addr[i]) < 0)
			return -1;
	return buf_putc(out, '"') < 0 || (at && buf_append_str(out, at) < 0) ? -1 : 0;
}
