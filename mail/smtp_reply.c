/*
 * smtp_reply.c - strict, bounded parsing of SMTP replies (RFC 5321 4.2) and
 * of the EHLO keyword list (RFC 1869, 2920, 1870, 6152, 6531, 3461, 2034).
 *
 * Called by the smtp client stage on its receive buffer and by tests. All
 * input is hostile: a line longer than SMTP_REPLY_MAX_LINE, a reply of more
 * than SMTP_REPLY_MAX_LINES lines, a code that changes between lines, or a
 * line that does not start with three digits ends the parse with BAD. Line
 * text is stored with control characters (NUL included) replaced by blanks,
 * so it is always safe to log and to put in an IPC string.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/strnum.h"
#include "mail/smtp_reply.h"

void smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->dsn[0] = 0;
	r->nlines = 0;
	buf_init(&r->text, SMTP_REPLY_MAX_LINE * SMTP_REPLY_MAX_LINES);
}

void smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
	r->code = 0;
	r->nlines = 0;
}

/* reply_code - three digits, first 2..5, second 0..5; -1 otherwise. */
static int reply_code(const char *p)
{
	if (p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' || !isdigit((unsigned char)p[2]))
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* reply_append_text - the text of one line, control bytes made blanks. */
static void reply_append_text(struct smtp_reply *r, const char *p, size_t n)
{
	if (r->nlines > 0)
		(void)buf_putc(&r->text, '\n');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		(void)buf_putc(&r->text, c < 0x20 || c == 0x7f ? ' ' : c);
	}
	r->nlines++;
}

/*
 * reply_enhanced - an RFC 3463 code "c.sss.ddd" at the start of text whose
 * class matches the reply's first digit, copied into dsn; else dsn = "".
 */
static void reply_enhanced(struct smtp_reply *r)
{
	const char *t = buf_str(&r->text);
	size_t i = 0, n1 = 0, n2 = 0;

	r->dsn[0] = 0;
	if (t[0] != '0' + r->code / 100 || t[1] != '.')
		return;
	for (i = 2; isdigit((unsigned char)t[i]) && n1 < 3; i++)
		n1++;
	if (n1 == 0 || t[i] != '.')
		return;
	for (i++; isdigit((unsigned char)t[i]) && n2 < 3; i++)
		n2++;
	if (n2 == 0 || (t[i] != 0 && t[i] != ' ' && t[i] != '\n'))
		return;
	memcpy(r->dsn, t, i);
	r->dsn[i] = 0;
}

int smtp_reply_parse(struct smtp_reply *r, const char *data, size_t len, size_t *used,
		     struct buf *why)
{
	size_t off = 0;

	buf_reset(&r->text);
	r->code = 0;
	r->nlines = 0;
	r->dsn[0] = 0;
	for (;;) {
		const char *line = data + off, *nl = memchr(line, '\n', len - off);
		size_t n, end;
		int code;

		if (nl == NULL) {
			if (len - off >= SMTP_REPLY_MAX_LINE)
				goto toolong;
			return SMTP_REPLY_MORE;
		}
		n = (size_t)(nl - line) + 1;
		if (n > SMTP_REPLY_MAX_LINE)
			goto toolong;
		end = n - 1;
		if (end > 0 && line[end - 1] == '\r')
			end--;
		if (end < 3 || (code = reply_code(line)) < 0
		    || (end > 3 && line[3] != ' ' && line[3] != '-')) {
			buf_set_str(why, "malformed reply line");
			return SMTP_REPLY_BAD;
		}
		if (r->nlines > 0 && code != r->code) {
			buf_set_str(why, "reply code changed within a multi-line reply");
			return SMTP_REPLY_BAD;
		}
		if (r->nlines >= SMTP_REPLY_MAX_LINES) {
			buf_set_str(why, "too many reply lines");
			return SMTP_REPLY_BAD;
		}
		r->code = code;
		reply_append_text(r, end > 4 ? line + 4 : line + end, end > 4 ? end - 4 : 0);
		off += n;
		if (end == 3 || line[3] == ' ')
			break;
	}
	reply_enhanced(r);
	*used = off;
	return SMTP_REPLY_DONE;
toolong:
	buf_set_str(why, "reply line too long");
	return SMTP_REPLY_BAD;
}

void smtp_reply_oneline(const struct smtp_reply *r, struct buf *out)
{
	const char *t = buf_str(&r->text);

	buf_reset(out);
	(void)buf_printf(out, "%d", r->code);
	if (r->text.len > 0)
		(void)buf_putc(out, ' ');
	for (; *t; t++)
		(void)buf_putc(out, *t == '\n' ? ' ' : *t);
}

const char *smtp_reply_dsn(const struct smtp_reply *r, char out[16])
{
	if (r->dsn[0])
		memcpy(out, r->dsn, sizeof(r->dsn));
	else {
		out[0] = (char)('0' + (r->code / 100 >= 2 && r->code / 100 <= 5 ? r->code / 100 : 4));
		memcpy(out + 1, ".0.0", 5);
	}
	return out;
}

/* ehlo_discarded - is the keyword kw[0..n) listed in discard? */
static int ehlo_discarded(char *const *discard, const char *kw, size_t n)
{
	for (; discard && *discard; discard++)
		if (strlen(*discard) == n && strncasecmp(*discard, kw, n) == 0)
			return 1;
	return 0;
}

/* ehlo_keyword - one line "KEYWORD params" of the EHLO reply. */
static void ehlo_keyword(const char *line, size_t len, char *const *discard, struct smtp_ehlo *e)
{
	static const struct { const char *kw; unsigned flag; } tab[] = {
		{ "PIPELINING", SMTP_EXT_PIPELINING }, { "SIZE", SMTP_EXT_SIZE },
		{ "8BITMIME", SMTP_EXT_8BITMIME }, { "SMTPUTF8", SMTP_EXT_SMTPUTF8 },
		{ "DSN", SMTP_EXT_DSN }, { "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCED },
		{ "STARTTLS", SMTP_EXT_STARTTLS },
	};
	size_t kwlen = 0;

	while (kwlen < len && line[kwlen] != ' ')
		kwlen++;
	if (ehlo_discarded(discard, line, kwlen))
		return;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strlen(tab[i].kw) != kwlen || strncasecmp(tab[i].kw, line, kwlen) != 0)
			continue;
		e->flags |= tab[i].flag;
		if (tab[i].flag == SMTP_EXT_SIZE) {
			size_t p = kwlen;
			uint64_t v = 0;

			while (p < len && line[p] == ' ')
				p++;
			/* "SIZE" alone or a value we cannot read: no limit known. */
			if (p < len && strnum_u64n(line + p, len - p, 0, UINT64_MAX, &v) == 0)
				e->size = v;
		}
	}
}

void smtp_reply_ehlo(const struct smtp_reply *r, char *const *discard, struct smtp_ehlo *e)
{
	const char *t = buf_str(&r->text), *nl;

	e->flags = 0;
	e->size = 0;
	/* The first line greets; keywords start on the second. */
	if ((nl = strchr(t, '\n')) == NULL)
		return;
	for (t = nl + 1; *t; t = nl + 1) {
		nl = strchr(t, '\n');
		ehlo_keyword(t, nl ? (size_t)(nl - t) : strlen(t), discard, e);
		if (nl == NULL)
			break;
	}
}
