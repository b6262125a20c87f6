/*
 * addr.c - RFC 5321 envelope path syntax and address-trick flags (see addr.h).
 *
 * Called by smtpd for every MAIL FROM and RCPT TO. Everything here reads
 * bytes a remote client chose: every index is checked against len before it
 * is used, nothing is copied anywhere but into the capped struct buf of the
 * result, and a malformed path is an error return, never a guess. Relay
 * control depends on the flags: a form whose routing is not simply "the
 * domain after the last @" is flagged so that it can never be mistaken for
 * mail to an authorised destination.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"

void addr_path_init(struct addr_path *p)
{
	buf_init(&p->addr, ADDR_PATH_MAX + 1);
	p->at = 0;
	p->flags = 0;
}

void addr_path_free(struct addr_path *p)
{
	buf_free(&p->addr);
}

static int addr_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* atext (RFC 5322) plus UTF8-non-ascii octets (RFC 6531), checked later as UTF-8. */
static int addr_is_atext(unsigned char c)
{
	return addr_is_alnum(c) || c >= 0x80 || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* qtextSMTP (RFC 5321) plus UTF8-non-ascii. */
static int addr_is_qtext(unsigned char c)
{
	return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
}

/* addr_utf8_valid - well-formed UTF-8 per RFC 3629. */
int addr_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff
		    || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* addr_domain_valid - sub-domain *("." sub-domain), LDH labels (U-labels allowed). */
int addr_domain_valid(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > ADDR_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!addr_is_alnum(c) && c < 0x80 && !(c == '-' && label > 0))
			return 0;
		if (++label > ADDR_LABEL_MAX)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

int addr_domain_fqdn(const char *s)
{
	size_t len = strlen(s);

	if (len > 2 && s[0] == '[')
		return 1;
	return addr_domain_valid(s, len) && memchr(s, '.', len) != NULL;
}

/* addr_literal_ip - "[d.d.d.d]" or "[IPv6:...]" to an address. */
int addr_literal_ip(const char *s, size_t len, int *family, unsigned char out[16])
{
	struct buf tmp;
	int ok = -1;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' || len > 64)
		return -1;
	buf_init(&tmp, 64);
	if (len > 7 && strncasecmp(s + 1, "IPv6:", 5) == 0) {
		if (buf_set(&tmp, s + 6, len - 7) == 0 && inet_pton(AF_INET6, tmp.data, out) == 1) {
			*family = AF_INET6;
			ok = 0;
		}
	} else if (buf_set(&tmp, s + 1, len - 2) == 0 && inet_pton(AF_INET, tmp.data, out) == 1) {
		*family = AF_INET;
		ok = 0;
	}
	buf_free(&tmp);
	return ok;
}

/* addr_scan_domain - a Domain or address literal at s[i..]; returns its end or 0. */
static size_t addr_scan_domain(const char *s, size_t len, size_t i, int *literal)
{
	size_t start = i;
	int fam;
	unsigned char ip[16];

	*literal = 0;
	if (i < len && s[i] == '[') {
		while (i < len && s[i] != ']') {
			unsigned char c = (unsigned char)s[i];

			if (i > start && (c < 33 || c > 126 || c == '[' || c == '\\'))
				return 0;
			i++;
		}
		if (i >= len)
			return 0;
		i++;
		if (addr_literal_ip(s + start, i - start, &fam, ip) < 0)
			return 0;
		*literal = 1;
		return i;
	}
	while (i < len && (addr_is_alnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'
			   || (unsigned char)s[i] >= 0x80))
		i++;
	if (!addr_domain_valid(s + start, i - start))
		return 0;
	return i;
}

/* addr_scan_route - "@a,@b:" source route; returns its end, or 0 if malformed. */
static size_t addr_scan_route(const char *s, size_t len, size_t i)
{
	int lit;

	for (;;) {
		if (i >= len || s[i] != '@')
			return 0;
		i = addr_scan_domain(s, len, i + 1, &lit);
		if (i == 0 || i >= len)
			return 0;
		if (s[i] == ':')
			return i + 1;
		if (s[i] != ',')
			return 0;
		i++;
	}
}

/* addr_scan_local - Dot-string or Quoted-string; returns its end or 0; sets flags. */
static size_t addr_scan_local(const char *s, size_t len, size_t i, unsigned *flags)
{
	if (i < len && s[i] == '"') {
		*flags |= ADDR_F_QUOTED;
		for (i++; i < len && s[i] != '"'; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				if (++i >= len || s[i] < 32 || s[i] > 126)
					return 0;
				c = (unsigned char)s[i];
			} else if (!addr_is_qtext(c)) {
				return 0;
			}
			if (c == '@')
				*flags |= ADDR_F_QUOTED_AT;
			if (c == '%')
				*flags |= ADDR_F_PERCENT;
			if (c == '!')
				*flags |= ADDR_F_BANG;
		}
		return i < len ? i + 1 : 0;
	}
	size_t start = i;

	while (i < len && (addr_is_atext((unsigned char)s[i]) || s[i] == '.')) {
		if (s[i] == '.' && (i == start || s[i - 1] == '.'))
			return 0;
		if (s[i] == '%')
			*flags |= ADDR_F_PERCENT;
		if (s[i] == '!')
			*flags |= ADDR_F_BANG;
		i++;
	}
	if (i == start || s[i - 1] == '.')
		return 0;
	return i;
}

static int addr_fail(const char **why, const char *text, int err)
{
	*why = text;
	return err;
}

int addr_parse_path(const char *s, size_t len, unsigned pflags, struct addr_path *p,
		    size_t *used, const char **why)
{
	size_t i = 0, lstart, lend, dend;
	int bracket = len > 0 && s[0] == '<', lit = 0;

	buf_reset(&p->addr);
	p->flags = 0;
	p->at = 0;
	*used = 0;
	if (!bracket && (pflags & ADDR_P_STRICT))
		return addr_fail(why, "address must be enclosed in <>", ADDR_ERR_NOBRACKET);
	i = bracket;
	if (bracket && len > 1 && s[1] == '>') {
		if (!(pflags & ADDR_P_NULL_OK))
			return addr_fail(why, "null address not allowed here", ADDR_ERR_NULL);
		p->flags = ADDR_F_NULL;
		*used = 2;
		return ADDR_OK;
	}
	if (i < len && s[i] == '@') {
		if ((i = addr_scan_route(s, len, i)) == 0)
			return addr_fail(why, "bad source route", ADDR_ERR_SYNTAX);
		p->flags |= ADDR_F_ROUTE;
	}
	lstart = i;
	if ((lend = addr_scan_local(s, len, i, &p->flags)) == 0)
		return addr_fail(why, "bad local part syntax", ADDR_ERR_SYNTAX);
	if (lend - lstart > ADDR_LOCAL_MAX)
		return addr_fail(why, "local part too long", ADDR_ERR_TOOLONG);
	dend = lend;
	if (lend < len && s[lend] == '@') {
		if ((dend = addr_scan_domain(s, len, lend + 1, &lit)) == 0)
			return addr_fail(why, "bad domain syntax", ADDR_ERR_SYNTAX);
		if (lit)
			p->flags |= ADDR_F_LITERAL;
	} else {
		p->flags |= ADDR_F_NODOMAIN;
	}
	i = dend;
	if (bracket) {
		if (i >= len || s[i] != '>')
			return addr_fail(why, "missing > or junk in address", ADDR_ERR_SYNTAX);
		i++;
	} else if (i < len && s[i] != ' ') {
		return addr_fail(why, "junk in address", ADDR_ERR_SYNTAX);
	}
	if (i + (bracket ? 0 : 2) > ADDR_PATH_MAX)
		return addr_fail(why, "address too long", ADDR_ERR_TOOLONG);
	if (buf_set(&p->addr, s + lstart, dend - lstart) < 0)
		return addr_fail(why, "address too long", ADDR_ERR_TOOLONG);
	p->at = lend - lstart;
	for (size_t k = 0; k < p->addr.len; k++)
		if ((unsigned char)p->addr.data[k] >= 0x80)
			p->flags |= ADDR_F_UTF8;
	if ((p->flags & ADDR_F_UTF8)
	    && !addr_utf8_valid((const unsigned char *)p->addr.data, p->addr.len))
		return addr_fail(why, "malformed UTF-8 in address", ADDR_ERR_SYNTAX);
	*used = i;
	return ADDR_OK;
}

const char *addr_domain(const struct addr_path *p)
{
	if (p->at >= p->addr.len)
		return "";
	return p->addr.data + p->at + 1;
}
