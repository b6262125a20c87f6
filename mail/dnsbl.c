/*
 * dnsbl.c - DNS list arguments, query names, answer filters and the reply
 * template (see dnsbl.h).
 *
 * Called by the start-up check (a bad zone or filter stops moatd with file
 * and line) and by smtpd for every list lookup. Nothing here touches the
 * network or a file.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/strnum.h"
#include "lib/xmem.h"
#include "mail/addr.h"
#include "mail/dnsbl.h"

#define DNSBL_NAME_MAX	253	/* a DNS name in text, without the final dot */

/* filter_octet - one "d" of the filter: a number or [n;n..m]; the match against v. */
static int filter_octet(const char *p, size_t len, int v)
{
	int lo, hi, hit = 0;
	char tmp[16];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	if (p[0] != '[') {
		memcpy(tmp, p, len);
		tmp[len] = 0;
		return strnum_int(tmp, 0, 255, &lo) < 0 ? -1 : lo == v;
	}
	if (len < 3 || p[len - 1] != ']')
		return -1;
	for (size_t i = 1, end; i < len - 1; i = end + 1) {
		const char *dots;

		end = i + strcspn(p + i, ";]");
		if (end - i >= sizeof(tmp) || end == i)
			return -1;
		memcpy(tmp, p + i, end - i);
		tmp[end - i] = 0;
		if ((dots = strstr(tmp, "..")) != NULL) {
			tmp[dots - tmp] = 0;
			if (strnum_int(tmp, 0, 255, &lo) < 0 || strnum_int(dots + 2, 0, 255, &hi) < 0
			    || lo > hi)
				return -1;
		} else if (strnum_int(tmp, 0, 255, &lo) < 0) {
			return -1;
		} else {
			hi = lo;
		}
		hit |= v >= lo && v <= hi;
	}
	return hit;
}

/* filter_run - -1 if filter is malformed, else whether addr's octets match (v: 4 octets, or -1s). */
static int filter_run(const char *filter, const int v[4])
{
	const char *p = filter;
	int all = 1;

	for (int k = 0; k < 4; k++) {
		size_t len = p[0] == '[' ? strcspn(p, "]") + (strchr(p, ']') != NULL) : strcspn(p, ".");
		int r = filter_octet(p, len, v[k]);

		if (r < 0 || (k < 3) != (p[len] == '.'))
			return -1;
		all &= r;
		p += len + (k < 3);
	}
	return *p ? -1 : all;
}

int dnsbl_filter_match(const char *filter, const char *addr)
{
	unsigned a[4];
	int v[4];
	char tail;

	if (filter == NULL)
		return 1;
	if (sscanf(addr, "%3u.%3u.%3u.%3u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4)
		return 0;
	for (int k = 0; k < 4; k++) {
		if (a[k] > 255)
			return 0;
		v[k] = (int)a[k];
	}
	return filter_run(filter, v) == 1;
}

int dnsbl_site_parse(const char *arg, struct dnsbl_site *s, struct buf *why)
{
	const char *eq = strchr(arg, '=');
	size_t zlen = eq ? (size_t)(eq - arg) : strlen(arg);
	static const int probe[4] = { 127, 0, 0, 2 };

	s->zone = s->filter = NULL;
	if (zlen > 0 && arg[zlen - 1] == '.')
		zlen--;
	if (zlen == 0 || zlen > DNSBL_NAME_MAX - 10 || !addr_domain_valid(arg, zlen)) {
		buf_append_str(why, "not a DNS list domain");
		return -1;
	}
	if (eq && filter_run(eq + 1, probe) < 0) {
		buf_printf(why, "bad reply filter \"%.60s\" (d.d.d.d, each d a number or "
			   "[n;n..m])", eq + 1);
		return -1;
	}
	s->zone = xstrndup(arg, zlen);
	s->filter = eq ? xstrdup(eq + 1) : NULL;
	return 0;
}

void dnsbl_site_free(struct dnsbl_site *s)
{
	xfree(s->zone);
	xfree(s->filter);
	s->zone = s->filter = NULL;
}

int dnsbl_name_addr(int family, const unsigned char ip[16], const char *zone, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";

	buf_reset(out);
	if (family == AF_INET)
		buf_printf(out, "%u.%u.%u.%u.", ip[3], ip[2], ip[1], ip[0]);
	else
		for (int i = 15; i >= 0; i--)
			buf_printf(out, "%c.%c.", hex[ip[i] & 15], hex[ip[i] >> 4]);
	buf_append_str(out, zone);
	return out->len <= DNSBL_NAME_MAX ? 0 : -1;
}

int dnsbl_name_domain(const char *domain, const char *zone, struct buf *out)
{
	size_t dlen = strlen(domain);

	buf_reset(out);
	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	if (dlen == 0 || !addr_domain_valid(domain, dlen))
		return -1;
	buf_append(out, domain, dlen);
	buf_printf(out, ".%s", zone);
	return out->len <= DNSBL_NAME_MAX ? 0 : -1;
}

static const char *const dnsbl_vars[] = {
	"client_address", "client_name", "reverse_client_name", "helo_name", "rbl_class",
	"rbl_code", "rbl_domain", "rbl_reason", "rbl_what", "recipient", "recipient_domain",
	"recipient_name", "sender", "sender_domain", "sender_name", NULL,
};

const char *dnsbl_var_known(const char *name, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; dnsbl_vars[i]; i++)
		if (strcmp(name, dnsbl_vars[i]) == 0)
			return "";
	return NULL;
}

/* expand_end - the index of the '}' or ')' that closes a ${...} opened before s[0]. */
static size_t expand_end(const char *s, char close)
{
	char open = close == '}' ? '{' : '(';
	size_t i = 0;
	int depth = 1;

	for (; s[i]; i++) {
		if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return i;
	}
	return (size_t)-1;
}

static int expand_text(const char *t, size_t len, dnsbl_var_fn *var, void *ctx,
		       struct buf *out, struct buf *why, int depth);

/* expand_macro - the macro after a '$' at s; *used = bytes read. */
static int expand_macro(const char *s, size_t *used, dnsbl_var_fn *var, void *ctx,
			struct buf *out, struct buf *why, int depth)
{
	char close = s[0] == '{' ? '}' : s[0] == '(' ? ')' : 0;
	size_t nlen, end = close ? expand_end(s + 1, close) : 0;
	const char *name = s + (close != 0), *value, *op;
	char nbuf[64];

	nlen = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if ((close && end == (size_t)-1) || nlen == 0 || nlen >= sizeof(nbuf)) {
		buf_append_str(why, "bad $name in the template");
		return -1;
	}
	memcpy(nbuf, name, nlen);
	nbuf[nlen] = 0;
	if ((value = var(nbuf, ctx)) == NULL) {
		buf_printf(why, "unknown name $%s in the template", nbuf);
		return -1;
	}
	*used = close ? end + 2 : nlen;
	op = name + nlen;
	if (!close || *op == close)
		return buf_append_str(out, value) < 0 ? -1 : 0;
	if (*op != '?' && *op != ':') {
		buf_printf(why, "bad ${%s...} in the template", nbuf);
		return -1;
	}
	if ((*op == '?') != (*value != 0))
		return 0;
	return expand_text(op + 1, (size_t)(s + 1 + end - (op + 1)), var, ctx, out, why, depth + 1);
}

static int expand_text(const char *t, size_t len, dnsbl_var_fn *var, void *ctx,
		       struct buf *out, struct buf *why, int depth)
{
	if (depth > 8) {
		buf_append_str(why, "template nested too deeply");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		size_t used;

		if (t[i] != '$') {
			(void)buf_putc(out, t[i]);
			continue;
		}
		if (i + 1 < len && t[i + 1] == '$') {
			(void)buf_putc(out, '$');
			i++;
			continue;
		}
		if (i + 1 >= len || expand_macro(t + i + 1, &used, var, ctx, out, why, depth) < 0) {
			if (why->len == 0)
				buf_append_str(why, "'$' at the end of the template");
			return -1;
		}
		i += used;
	}
	return 0;
}

int dnsbl_expand(const char *tmpl, dnsbl_var_fn *var, void *ctx, struct buf *out,
		 struct buf *why)
{
	return expand_text(tmpl, strlen(tmpl), var, ctx, out, why, 0);
}
