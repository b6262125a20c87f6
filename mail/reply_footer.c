/*
 * reply_footer.c - the SMTP server's reject footer (see reply_footer.h).
 *
 * Called by smtpd for each 4xx/5xx reply it queues, and by the start-up
 * check (reply_footer_check). The reply is moat's own text, the template
 * is the administrator's, the attribute values are the session's (an
 * address moat printed, its own host name, the time): still, nothing but
 * printable bytes from them reaches the client, so a footer can never
 * split or forge a reply line.
 */
#include <ctype.h>
#include <string.h>

#include "lib/xmem.h"
#include "mail/reply_footer.h"

static const char *const footer_names[] = {
	"client_address", "client_port", "localtime", "server_name", NULL,
};

/* footer_name - length of the attribute reference at s (after '$'), its
 * index in *which (-1 if unknown); 0 if s is no reference at all. */
static size_t footer_name(const char *s, int *which)
{
	size_t open = (s[0] == '{' || s[0] == '(') ? 1 : 0, n = 0;

	while (isalnum((unsigned char)s[open + n]) || s[open + n] == '_')
		n++;
	if (n == 0 || (open && s[open + n] != (s[0] == '{' ? '}' : ')')))
		return 0;
	*which = -1;
	for (int i = 0; footer_names[i]; i++)
		if (strlen(footer_names[i]) == n && memcmp(footer_names[i], s + open, n) == 0)
			*which = i;
	return open + n + open;
}

int reply_footer_check(const char *tmpl, struct buf *why)
{
	for (const char *p = strchr(tmpl, '$'); p; p = strchr(p + 1, '$')) {
		int which;
		size_t n;

		if (p[1] == '$') {
			p++;
			continue;
		}
		if ((n = footer_name(p + 1, &which)) == 0 || which < 0) {
			buf_printf(why, "\"$%.40s\": the footer knows only $client_address, "
				   "$client_port, $localtime and $server_name (write $$ for a $)", p + 1);
			return -1;
		}
		p += n;
	}
	return 0;
}

/* footer_put - append text, every byte that is not printable as a space. */
static int footer_put(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf_putc(out, isprint((unsigned char)s[i]) ? s[i] : ' ') < 0)
			return -1;
	return 0;
}

/* footer_expand - the template with its attributes replaced. */
static int footer_expand(const char *tmpl, const struct reply_footer_vars *v, struct buf *out)
{
	const char *val[] = { v->client_address, v->client_port, v->localtime, v->server_name };
	const char *p = tmpl;

	while (*p) {
		const char *d = strchr(p, '$');
		int which = -1;
		size_t n;

		if (!d)
			return footer_put(out, p, strlen(p));
		if (footer_put(out, p, (size_t)(d - p)) < 0)
			return -1;
		if (d[1] == '$') {
			n = 1;
			if (buf_putc(out, '$') < 0)
				return -1;
		} else if ((n = footer_name(d + 1, &which)) > 0 && which >= 0) {
			if (footer_put(out, val[which], strlen(val[which])) < 0)
				return -1;
		} else if (buf_putc(out, '$') < 0) {
			return -1;
		}
		p = d + 1 + n;
	}
	return 0;
}

/* footer_digits - 1 to 3 digits at s[*i]; 0 if none. */
static int footer_digits(const char *s, size_t len, size_t *i)
{
	size_t n = 0;

	while (*i < len && n < 3 && isdigit((unsigned char)s[*i])) {
		(*i)++;
		n++;
	}
	return n > 0;
}

/* footer_dsn - the enhanced status code ("5.7.1") that starts s, into dsn
 * (room for 16 bytes); "" if there is none. */
static void footer_dsn(const char *s, size_t len, char *dsn)
{
	size_t i = 2;

	dsn[0] = 0;
	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return;
	if (!footer_digits(s, len, &i) || i == len || s[i++] != '.' || !footer_digits(s, len, &i))
		return;
	if (i < len && s[i] != ' ')
		return;
	memcpy(dsn, s, i);
	dsn[i] = 0;
}

/* footer_body - the reply at r[0..len) (CRLF-terminated lines) as bodies
 * "text" without "DDD-"; *last = where the last body starts in out. */
static int footer_body(const char *r, size_t len, struct buf *bodies, size_t *last)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(r + pos, '\n', len - pos);
		size_t end = (size_t)(nl - r);

		if (!nl || end < pos + 4 || r[end - 1] != '\r' || memcmp(r, r + pos, 3) != 0)
			return -1;
		*last = bodies->len;
		if (buf_append(bodies, r + pos + 4, end - 1 - pos - 4) < 0 || buf_putc(bodies, '\n') < 0)
			return -1;
		pos = end + 1;
	}
	return 0;
}

/* footer_emit - bodies ('\n'-separated) as reply lines with code. */
static int footer_emit(struct buf *out, const char *code, const char *bodies, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(bodies + pos, '\n', len - pos);
		size_t end = (size_t)(nl - bodies);

		if (buf_append(out, code, 3) < 0 || buf_putc(out, end + 1 < len ? '-' : ' ') < 0
		    || buf_append(out, bodies + pos, end - pos) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -1;
		pos = end + 1;
	}
	return 0;
}

/* footer_add_lines - the expanded footer, split at \n, onto bodies. */
static int footer_add_lines(struct buf *bodies, const char *f, const char *dsn)
{
	size_t dlen = strlen(dsn);
	int join = strncmp(f, "\\c", 2) == 0;

	if (join) {
		f += 2;
		buf_truncate(bodies, bodies->len - 1);	/* continue the last line */
	}
	for (;;) {
		const char *brk = strstr(f, "\\n");
		size_t n = brk ? (size_t)(brk - f) : strlen(f);

		if (!join && dlen && (buf_append(bodies, dsn, dlen) < 0 || buf_putc(bodies, ' ') < 0))
			return -1;
		join = 0;
		if (buf_append(bodies, f, n) < 0 || buf_putc(bodies, '\n') < 0)
			return -1;
		if (!brk)
			return 0;
		f = brk + 2;
	}
}

int reply_footer_add(struct buf *out, size_t start, const char *tmpl,
		     const struct reply_footer_vars *v)
{
	struct buf bodies = BUF_INIT, foot = BUF_INIT, orig = BUF_INIT;
	size_t last = 0;
	char code[4], dsn[16];
	int ret = -1;

	if (!out->data || start >= out->len || out->len - start < 5
	    || !isdigit((unsigned char)out->data[start]))
		return -1;
	memcpy(code, out->data + start, 3);
	code[3] = 0;
	buf_init(&bodies, out->max);
	buf_init(&orig, out->max);
	if (buf_set(&orig, out->data + start, out->len - start) < 0
	    || footer_body(orig.data, orig.len, &bodies, &last) < 0
	    || footer_expand(tmpl, v, &foot) < 0)
		goto done;
	footer_dsn(bodies.data + last, bodies.len - 1 - last, dsn);
	if (footer_add_lines(&bodies, buf_str(&foot), dsn) < 0)
		goto done;
	buf_truncate(out, start);
	if (footer_emit(out, code, bodies.data, bodies.len) == 0) {
		ret = 0;
	} else {	/* out is full: put the plain reply back */
		buf_truncate(out, start);
		(void)buf_append(out, orig.data, orig.len);
	}
done:
	buf_free(&bodies);
	buf_free(&foot);
	buf_free(&orig);
	return ret;
}
