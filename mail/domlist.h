/*
 * domlist.h - domain lists with Postfix matching (relay_domains, mydestination).
 *
 * "example.com" matches the domain itself, and also its subdomains when the
 * list's parameter is named in parent_domain_matches_subdomains;
 * ".example.com" matches subdomains only; "!example.com" excludes (the first
 * matching entry decides). Matching ignores case and one trailing dot.
 * Lookup tables (type:name, also "!type:name") are kept only by
 * domlist_init_tables, for a caller that can ask them (smtpd, through the
 * lookup stage); domlist_init refuses them, and /file entries always, so
 * that a list is never half-applied.
 */
#ifndef MOAT_MAIL_DOMLIST_H
#define MOAT_MAIL_DOMLIST_H

#include <stddef.h>

#include "lib/buf.h"

struct domlist {
	char **v;		/* lower-cased entries, '!' kept */
	size_t n;
	int parent_sub;		/* example.com also matches sub.example.com */
};

/* domlist_init - from a NULL-terminated item list; -1 and err on an unsupported entry. */
int domlist_init(struct domlist *d, char *const *items, int parent_sub, struct buf *err);
/* domlist_init_tables - the same, with type:name entries kept (their case too). */
int domlist_init_tables(struct domlist *d, char *const *items, int parent_sub, struct buf *err);
void domlist_free(struct domlist *d);
/* domlist_match - 1 if the domain is in a list made by domlist_init. */
int domlist_match(const struct domlist *d, const char *domain);

/* A table entry asked about domain (its parents per parent_sub): 1 listed,
 * 0 not, -1 the lookup failed. */
typedef int domlist_table_fn(void *ctx, const char *spec, const char *domain, int parent_sub);
/* domlist_match_tables - in list order, table entries through fn: 1, 0, or
 * -1 when a table failed before any entry decided (never a guess). */
int domlist_match_tables(const struct domlist *d, const char *domain, domlist_table_fn *fn,
			 void *ctx);
/* domlist_param_in - 1 if name appears in a parent_domain_matches_subdomains-like list. */
int domlist_param_in(char *const *list, const char *name);

#endif
