/*
 * cleanup_masq.c - address masquerading (masquerade_domains): the host
 * part below a listed domain is hidden, user@host.example.com becomes
 * user@example.com.
 *
 * Postfix semantics kept: the list is tried in order and the first entry
 * that is the address's domain or one of its parents decides: a parent
 * replaces the domain, the domain itself leaves the address alone, and an
 * entry with a leading '!' (each further '!' negates again) leaves it
 * alone too, so "!sub.example.com, example.com" masquerades every host
 * of example.com but those of sub.example.com. A user named in
 * masquerade_exceptions (case does not matter) is never masqueraded.
 * Comparisons ignore case; the replacement is the entry as listed.
 *
 * SECURITY: pure string work on an address already checked; the result is
 * never longer than the address.
 */
#include <string.h>
#include <strings.h>

#include "daemons/cleanup/cleanup_canon.h"

/* masq_excepted - is the localpart addr[0..len) in masquerade_exceptions? */
static int masq_excepted(char *const *exc, const char *addr, size_t len)
{
	for (size_t i = 0; exc && exc[i]; i++) {
		const char *e = exc[i];
		int neg = 0;

		for (; *e == '!'; e++)
			neg = !neg;
		if (strlen(e) == len && strncasecmp(e, addr, len) == 0)
			return !neg;
	}
	return 0;
}

int cleanup_masq(const struct canon_params *p, struct buf *addr)
{
	const char *s = buf_str(addr), *at = strrchr(s, '@');
	const char *dom;
	size_t dlen;

	if (at == NULL || masq_excepted(p->masq_exceptions, s, (size_t)(at - s)))
		return 0;
	dom = at + 1;
	dlen = strlen(dom);
	for (size_t i = 0; p->masq_domains && p->masq_domains[i]; i++) {
		const char *m = p->masq_domains[i];
		int truncate = 1;
		size_t mlen;

		for (; *m == '!'; m++)
			truncate = !truncate;
		if ((mlen = strlen(m)) == 0 || mlen > dlen)
			continue;
		if (mlen == dlen) {
			if (strcasecmp(m, dom) == 0)
				return 0;
			continue;
		}
		if (dom[dlen - mlen - 1] != '.' || strcasecmp(m, dom + dlen - mlen) != 0)
			continue;
		if (!truncate)
			return 0;
		buf_truncate(addr, (size_t)(dom - s));
		buf_append_str(addr, m);
		return 1;
	}
	return 0;
}
