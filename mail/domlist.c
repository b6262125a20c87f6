/*
 * domlist.c - domain list matching as Postfix does it (see domlist.h).
 *
 * Used by smtpd's relay control: whether a recipient domain is ours
 * (mydestination) or one we relay to (relay_domains). The domain comes from
 * a client, the list from main.cf; matching only compares lower-cased
 * strings and never allocates per lookup.
 */
#include <string.h>
#include <strings.h>

#include "lib/xmem.h"
#include "mail/domlist.h"

int domlist_init(struct domlist *d, char *const *items, int parent_sub, struct buf *err)
{
	size_t n = 0;

	d->v = NULL;
	d->n = 0;
	d->parent_sub = parent_sub;
	while (items && items[n])
		n++;
	d->v = xcalloc(n + 1, sizeof(*d->v));
	for (size_t i = 0; i < n; i++) {
		const char *it = items[i];

		if (strchr(it, ':') != NULL || it[0] == '/' || it[it[0] == '!'] == '/') {
			buf_printf(err, "\"%s\": lookup tables and files are not supported here yet", it);
			domlist_free(d);
			return -1;
		}
		d->v[d->n] = xstrdup(it);
		for (char *p = d->v[d->n]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		d->n++;
	}
	return 0;
}

void domlist_free(struct domlist *d)
{
	for (size_t i = 0; i < d->n; i++)
		xfree(d->v[i]);
	xfree(d->v);
	d->v = NULL;
	d->n = 0;
}

/* domlist_entry_match - one entry (without '!') against domain[0..len). */
static int domlist_entry_match(const struct domlist *d, const char *e, const char *dom, size_t len)
{
	size_t elen = strlen(e);

	if (elen > 0 && e[elen - 1] == '.')
		elen--;
	if (elen == 0)
		return 0;	/* "." is the root, no mail domain: as Postfix, it matches nothing */
	if (e[0] == '.') {
		/* ".example.com": any subdomain */
		return len > elen && strncasecmp(dom + len - elen, e, elen) == 0;
	}
	if (len == elen && strncasecmp(dom, e, elen) == 0)
		return 1;
	return d->parent_sub && len > elen && dom[len - elen - 1] == '.'
	       && strncasecmp(dom + len - elen, e, elen) == 0;
}

int domlist_match(const struct domlist *d, const char *domain)
{
	size_t len = strlen(domain);

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < d->n; i++) {
		const char *e = d->v[i];
		int neg = e[0] == '!';

		if (e[neg] == 0)
			continue;
		if (domlist_entry_match(d, e + neg, domain, len))
			return !neg;
	}
	return 0;
}

int domlist_param_in(char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}
