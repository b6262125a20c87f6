/*
 * domlist.c - domain list matching as Postfix does it (see domlist.h).
 *
 * Used by smtpd's relay control: whether a recipient domain is ours
 * (mydestination) or one we relay to (relay_domains). The domain comes from
 * a client, the list from main.cf; matching only compares lower-cased
 * strings and never allocates per lookup. Table entries are the caller's
 * to ask; a table that cannot answer is -1, which no caller may take for
 * a match or for a miss.
 */
#include <string.h>
#include <strings.h>

#include "lib/xmem.h"
#include "mail/domlist.h"

/* domlist_table - "type:name" (after any '!'): a lookup table, not a name. */
static int domlist_table(const char *e)
{
	return strchr(e, ':') != NULL;
}

static int domlist_build(struct domlist *d, char *const *items, int parent_sub, int tables,
			 struct buf *err)
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

		if ((!tables && domlist_table(it)) || it[0] == '/' || it[it[0] == '!'] == '/') {
			buf_printf(err, "\"%s\": %s are not supported here yet", it,
				   tables ? "files" : "lookup tables and files");
			domlist_free(d);
			return -1;
		}
		d->v[d->n] = xstrdup(it);
		for (char *p = d->v[d->n]; *p && !domlist_table(it); p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		d->n++;
	}
	return 0;
}

int domlist_init(struct domlist *d, char *const *items, int parent_sub, struct buf *err)
{
	return domlist_build(d, items, parent_sub, 0, err);
}

int domlist_init_tables(struct domlist *d, char *const *items, int parent_sub, struct buf *err)
{
	return domlist_build(d, items, parent_sub, 1, err);
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

int domlist_match_tables(const struct domlist *d, const char *domain, domlist_table_fn *fn,
			 void *ctx)
{
	size_t len = strlen(domain);
	int hit;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < d->n; i++) {
		const char *e = d->v[i];
		int neg = e[0] == '!';

		if (e[neg] == 0)
			continue;
		if (!domlist_table(e))
			hit = domlist_entry_match(d, e + neg, domain, len);
		else if (fn == NULL || (hit = fn(ctx, e + neg, domain, d->parent_sub)) < 0)
			return -1;
		if (hit)
			return !neg;
	}
	return 0;
}

int domlist_match(const struct domlist *d, const char *domain)
{
	return domlist_match_tables(d, domain, NULL, NULL) == 1;
}

int domlist_param_in(char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}
