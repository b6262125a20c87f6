/*
 * cidr.c - IPv4/IPv6 network lists (see cidr.h).
 *
 * Used by smtpd for mynetworks: the list decides which clients may relay,
 * so a malformed entry is refused at start-up with the text of the entry,
 * never skipped. Matching is a linear scan over a few entries: mynetworks
 * is short, and the scan runs once per session.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/strnum.h"
#include "lib/xmem.h"
#include "mail/cidr.h"

void cidr_list_init(struct cidr_list *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void cidr_list_free(struct cidr_list *l)
{
	xfree(l->v);
	cidr_list_init(l);
}

static void cidr_mask(unsigned char *a, size_t alen, unsigned bits)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = bits >= 8 ? 8 : bits;

		a[i] &= (unsigned char)(0xff << (8 - keep));
		bits -= keep;
	}
}

/*
 * cidr_unmap - an IPv4-mapped IPv6 network (::ffff:192.0.2.0/120) is kept as
 * the IPv4 network it names: cidr_list_match turns mapped client addresses
 * into IPv4 ones, so in IPv6 form the entry (Postfix's default mynetworks
 * has [::ffff:127.0.0.0]/104) could never match, and "!" could never exclude.
 */
static void cidr_unmap(struct cidr_entry *e)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (e->family != AF_INET6 || e->bits < 96 || memcmp(e->net, mapped, 12) != 0)
		return;
	e->family = AF_INET;
	memmove(e->net, e->net + 12, 4);
	memset(e->net + 4, 0, 12);
	e->bits -= 96;
}

static void cidr_push(struct cidr_list *l, const struct cidr_entry *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n] = *e;
	cidr_unmap(&l->v[l->n++]);
}

int cidr_parse_addr(const char *text, int *family, unsigned char out[16])
{
	struct buf tmp;
	size_t len = strlen(text);
	int ok = -1;

	if (len == 0 || len > 64)
		return -1;
	buf_init(&tmp, 64);
	if (text[0] == '[') {
		if (len < 3 || text[len - 1] != ']')
			goto out;
		(void)buf_set(&tmp, text + 1, len - 2);
	} else {
		(void)buf_set(&tmp, text, len);
	}
	if (inet_pton(AF_INET, buf_str(&tmp), out) == 1) {
		*family = AF_INET;
		ok = 0;
	} else if (inet_pton(AF_INET6, buf_str(&tmp), out) == 1) {
		*family = AF_INET6;
		ok = 0;
	}
out:
	buf_free(&tmp);
	return ok;
}

int cidr_list_add(struct cidr_list *l, const char *text, struct buf *err)
{
	struct cidr_entry e;
	struct buf host;
	const char *slash;
	unsigned char chk[16];
	size_t alen;
	int r;

	memset(&e, 0, sizeof(e));
	if (*text == '!') {
		e.negate = 1;
		text++;
	}
	buf_init(&host, 80);
	slash = strrchr(text, '/');
	if (buf_set(&host, text, slash ? (size_t)(slash - text) : strlen(text)) < 0
	    || cidr_parse_addr(buf_str(&host), &e.family, e.net) < 0) {
		buf_free(&host);
		buf_printf(err, "\"%s\": not an IP address or network", text);
		return -1;
	}
	buf_free(&host);
	alen = e.family == AF_INET ? 4 : 16;
	e.bits = (unsigned)alen * 8;
	if (slash) {
		int bits;

		r = strnum_int(slash + 1, 0, (int)alen * 8, &bits);
		if (r < 0) {
			buf_printf(err, "\"%s\": bad prefix length", text);
			return -1;
		}
		e.bits = (unsigned)bits;
	}
	memcpy(chk, e.net, alen);
	cidr_mask(chk, alen, e.bits);
	if (memcmp(chk, e.net, alen) != 0) {
		buf_printf(err, "\"%s\": non-null host address bits", text);
		return -1;
	}
	cidr_push(l, &e);
	return 0;
}

void cidr_list_add_addr(struct cidr_list *l, int family, const unsigned char *addr, unsigned bits)
{
	struct cidr_entry e;
	size_t alen = family == AF_INET ? 4 : 16;

	memset(&e, 0, sizeof(e));
	e.family = family;
	memcpy(e.net, addr, alen);
	e.bits = bits > alen * 8 ? (unsigned)alen * 8 : bits;
	cidr_mask(e.net, alen, e.bits);
	cidr_push(l, &e);
}

static int cidr_entry_match(const struct cidr_entry *e, int family, const unsigned char *addr)
{
	size_t full = e->bits / 8;
	unsigned rest = e->bits % 8;

	if (e->family != family)
		return 0;
	if (memcmp(e->net, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return (addr[full] & (unsigned char)(0xff << (8 - rest))) == e->net[full];
}

int cidr_list_match(const struct cidr_list *l, int family, const unsigned char *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	for (size_t i = 0; i < l->n; i++)
		if (cidr_entry_match(&l->v[i], family, addr))
			return !l->v[i].negate;
	return 0;
}

void cidr_format(const struct cidr_entry *e, struct buf *out)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(e->family, e->net, text, sizeof(text)) == NULL)
		text[0] = 0;
	if (e->family == AF_INET6)
		buf_printf(out, "[%s]/%u", text, e->bits);
	else
		buf_printf(out, "%s/%u", text, e->bits);
}
