/*
 * resolve.h - where a recipient goes: delivery class, transport service and
 * next hop, by Postfix's trivial-rewrite rules for the parameters moat has.
 *
 *   domain in mydestination        RESOLVE_LOCAL: moat has no local delivery
 *   no domain at all ("user")      RESOLVE_LOCAL (Postfix would append
 *                                  $myorigin and deliver locally)
 *   domain in relay_domains        RESOLVE_RELAY, transport from relay_transport
 *   any other domain               RESOLVE_DEFAULT, transport from default_transport
 *   "user@" (empty domain)         RESOLVE_BAD
 *
 * A transport value is "service" or "service:nexthop" ("smtp:[10.0.0.1]:2525");
 * the next hop is, in decreasing precedence, the transport's own, relayhost,
 * the recipient's domain (lower case, trailing dots removed).
 *
 * relay_domains: "example.com" matches the domain and its subdomains (Postfix's
 * default parent_domain_matches_subdomains includes relay_domains); ".example.com"
 * matches subdomains only. mydestination: exact names, and ".example.com" for
 * subdomains. Lookup tables ("type:name") in either list are refused by
 * resolve_init (the lookup stage will bring them).
 */
#ifndef MOAT_MAIL_RESOLVE_H
#define MOAT_MAIL_RESOLVE_H

#include "lib/buf.h"

enum resolve_class { RESOLVE_LOCAL, RESOLVE_RELAY, RESOLVE_DEFAULT, RESOLVE_BAD };

struct resolve_params {
	char *const *mydestination;	/* NULL-terminated, as conf_list gives it */
	char *const *relay_domains;
	const char *relayhost;
	const char *default_transport;
	const char *relay_transport;
};

struct resolve {
	char **mydest;		/* lower case, NULL-terminated */
	char **relay;
	char *relayhost;	/* "" if none */
	char *def_service, *def_nexthop;	/* from default_transport */
	char *rel_service, *rel_nexthop;	/* from relay_transport */
};

struct resolve_result {
	enum resolve_class cls;
	const char *service;	/* points into struct resolve; NULL for LOCAL/BAD */
	const char *nexthop;	/* into struct resolve or into domain below */
	struct buf domain;	/* the recipient's domain, normalised */
};

int resolve_init(struct resolve *r, const struct resolve_params *p, struct buf *err);
void resolve_free(struct resolve *r);

void resolve_result_init(struct resolve_result *res);
void resolve_result_free(struct resolve_result *res);
/* resolve_addr - classify addr (no angle brackets); never fails: see cls. */
void resolve_addr(const struct resolve *r, const char *addr, struct resolve_result *res);

/*
 * resolve_split_transport - "service[:nexthop]" into its parts; -1 if the
 * service name is empty or not [A-Za-z0-9._-]{1,64}.
 */
int resolve_split_transport(const char *value, struct buf *service, struct buf *nexthop);

#endif
