/*
 * dnsbl.h - DNS lists (Postfix's reject_rbl_client, reject_rhsbl_*,
 * permit_dnswl_client, permit_rhswl_client): the "zone[=filter]" argument,
 * the name to look up, which answers count, and default_rbl_reply's
 * $rbl_* template.
 *
 * Pure functions: no DNS here (the dns stage sends every query). What a
 * list's DNS server answers is hostile: an answer is only ever compared
 * with the filter, and a TXT reason is put into a reply by the caller
 * only after it removed what a reply line cannot hold.
 */
#ifndef MOAT_MAIL_DNSBL_H
#define MOAT_MAIL_DNSBL_H

#include <stddef.h>

#include "lib/buf.h"

struct dnsbl_site {
	char *zone;		/* the list's domain, without a final dot */
	char *filter;		/* "127.0.0.[2..11]", or NULL: any address counts */
};

/* dnsbl_site_parse - "zone[=d.d.d.d]" where each d is a number or [] with
 * ';'-separated numbers and n..m ranges. -1 with a reason in why. */
int dnsbl_site_parse(const char *arg, struct dnsbl_site *s, struct buf *why);
void dnsbl_site_free(struct dnsbl_site *s);

/* dnsbl_filter_match - 1 if the IPv4 answer addr matches filter (NULL: always). */
int dnsbl_filter_match(const char *filter, const char *addr);

/* dnsbl_name_addr - the client address reversed under zone (octets for
 * IPv4, nibbles for IPv6) into out; -1 if it would not be a DNS name. */
int dnsbl_name_addr(int family, const unsigned char ip[16], const char *zone, struct buf *out);
/* dnsbl_name_domain - domain under zone; -1 if too long for DNS. */
int dnsbl_name_domain(const char *domain, const char *zone, struct buf *out);

/*
 * dnsbl_expand - a default_rbl_reply template: $name, ${name}, $(name),
 * ${name?text} (text when name is not empty), ${name:text} (text when it
 * is), "$$" for "$". var(name, ctx) gives a value, or NULL for a name the
 * template may not use. -1 and a reason in why on a bad template (with
 * var from dnsbl_vars_check: the start-up check).
 */
typedef const char *dnsbl_var_fn(const char *name, void *ctx);
int dnsbl_expand(const char *tmpl, dnsbl_var_fn *var, void *ctx, struct buf *out,
		 struct buf *why);
/* dnsbl_var_known - for dnsbl_expand at start-up: "" for every name a reply may use. */
const char *dnsbl_var_known(const char *name, void *ctx);

#endif
