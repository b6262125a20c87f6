/*
 * hostlist.h - lists of client hosts by name or address, as Postfix reads
 * debug_peer_list and the like: each item is an address or network
 * (192.0.2.1, 10.0.0.0/8, [2001:db8::]/32) or a host name or domain
 * (example.com, .example.com); "!item" excludes; the first matching item
 * decides, whatever its kind. A domain matches its subdomains when the
 * list's parameter is in parent_domain_matches_subdomains. Tables
 * (type:name) and /file items are refused by hostlist_init, so a list is
 * never half-applied.
 */
#ifndef MOAT_MAIL_HOSTLIST_H
#define MOAT_MAIL_HOSTLIST_H

#include <stddef.h>

#include "lib/buf.h"
#include "mail/cidr.h"
#include "mail/domlist.h"

struct hostlist_item {
	int negate;
	int is_net;
	struct cidr_list net;	/* one entry, when is_net */
	struct domlist dom;	/* one entry, otherwise */
};

struct hostlist {
	struct hostlist_item *v;
	size_t n;
};

/* hostlist_init - from NULL-terminated items; -1 and a reason in why. */
int hostlist_init(struct hostlist *h, char *const *items, int parent_sub, struct buf *why);
void hostlist_free(struct hostlist *h);
/* hostlist_match - 1 if the client (verified name or "unknown", address) is listed. */
int hostlist_match(const struct hostlist *h, const char *name, int family,
		   const unsigned char *ip);

#endif
