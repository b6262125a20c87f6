/*
 * resolve.h - where a recipient goes: delivery class, transport service and
 * next hop, by Postfix's trivial-rewrite rules for the parameters moat has.
 *
 *   domain in mydestination        RESOLVE_LOCAL: moat has no local delivery
 *   no domain at all ("user")      RESOLVE_LOCAL (Postfix would append
 *                                  $myorigin and deliver locally)
 *   domain in virtual_alias_domains RESOLVE_ERROR 5.1.1 "User unknown in
 *                                  virtual alias table": cleanup rewrote
 *                                  every address virtual_alias_maps knows,
 *                                  so what is left has no mailbox (not
 *                                  routed by transport_maps)
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
 * subdomains. A "type:name" entry in either list is a lookup table, asked in
 * list order through the caller's struct resolve_lookup (the domain, then its
 * parents; the value is ignored, as in Postfix). A "/file" entry is refused.
 *
 * Then, as Postfix's trivial-rewrite does for every class but "no domain":
 *   sender_dependent_relayhost_maps (sender, rewrite order) replaces relayhost
 *   transport_maps (recipient, transport(5) order: user+ext@domain,
 *   user@domain, domain, .parent..., "*"): "transport:nexthop" where an
 *   empty transport keeps the class's transport and nexthop (but a given
 *   nexthop replaces it), and a given transport with an empty nexthop goes
 *   to the recipient domain. "error:text" bounces with text, "retry:text"
 *   defers, as Postfix's error(8) and retry services.
 * Last, for every class, relocated_maps (rewrite order, "user" keys for
 * a local domain): a listed recipient bounces with 5.1.6 "User has moved
 * to <value>", as Postfix's trivial-rewrite does.
 * virtual_alias_domains is a string list: a name matches itself only,
 * a table is asked for the domain alone (RESOLVE_T_VIRTUAL).
 * A table that fails gives RESOLVE_DEFER (Postfix defers on a table error).
 */
#ifndef MOAT_MAIL_RESOLVE_H
#define MOAT_MAIL_RESOLVE_H

#include "lib/buf.h"

enum resolve_class {
	RESOLVE_LOCAL, RESOLVE_RELAY, RESOLVE_DEFAULT, RESOLVE_BAD,
	RESOLVE_ERROR,		/* transport_maps said error:text: bounce with reason */
	RESOLVE_DEFER,		/* a table failed, or retry:text: defer with reason */
};

/* What the caller asks its tables (the lookup stage, for qmgr). */
enum resolve_table {
	RESOLVE_T_MYDEST,	/* domain order, ".parent" keys */
	RESOLVE_T_RELAY,	/* domain order, parents as "example.com" */
	RESOLVE_T_TRANSPORT,	/* transport(5) order */
	RESOLVE_T_SENDER_RELAY,	/* rewrite order, on the sender */
	RESOLVE_T_VIRTUAL,	/* the domain alone (virtual_alias_domains) */
	RESOLVE_T_RELOCATED,	/* rewrite order, on the recipient */
	RESOLVE_T_RELOCATED_LOCAL,	/* the same, for a local domain ("user" keys too) */
};

/*
 * fn: 1 and value if a table in tables (specs separated by '\n') has key,
 * 0 if none has, -1 if a table failed.
 */
struct resolve_lookup {
	int (*fn)(void *ctx, enum resolve_table which, const char *tables, const char *key,
		  struct buf *value);
	void *ctx;
};

struct resolve_params {
	char *const *mydestination;	/* NULL-terminated, as conf_list gives it */
	char *const *relay_domains;
	const char *relayhost;
	const char *default_transport;
	const char *relay_transport;
	char *const *transport_maps;	/* NULL or empty: none */
	char *const *sender_relayhost_maps;	/* sender_dependent_relayhost_maps */
	const char *null_sender_key;	/* empty_address_relayhost_maps_lookup_key */
	char *const *virtual_alias_domains;	/* NULL or empty: none */
	char *const *relocated_maps;
};

/* A domain list entry: a name (lower case) or a table spec. */
struct resolve_entry {
	char *name;
	int table;
};

struct resolve {
	struct resolve_entry *mydest, *relay, *virt;	/* name NULL ends each list */
	char *relocated_maps;	/* specs separated by '\n'; NULL: none */
	char *transport_maps;	/* specs separated by '\n'; NULL: none */
	char *sender_relay_maps;
	char *null_sender_key;
	struct resolve_lookup lookup;	/* set by the caller after resolve_init */
	char *relayhost;	/* "" if none */
	char *def_service, *def_nexthop;	/* from default_transport */
	char *rel_service, *rel_nexthop;	/* from relay_transport */
};

struct resolve_result {
	enum resolve_class cls;
	const char *service;	/* points into struct resolve; NULL for LOCAL/BAD */
	const char *nexthop;	/* into struct resolve, or into a buffer below */
	char dsn[16];		/* RESOLVE_ERROR, RESOLVE_DEFER: "5.1.1" */
	const char *reason;	/* and the text */
	struct buf domain;	/* the recipient's domain, normalised */
	struct buf value;	/* scratch: a table's answer */
	struct buf service_buf, nexthop_buf, reason_buf;
};

int resolve_init(struct resolve *r, const struct resolve_params *p, struct buf *err);
void resolve_free(struct resolve *r);

void resolve_result_init(struct resolve_result *res);
void resolve_result_free(struct resolve_result *res);
/* resolve_addr - classify addr (no angle brackets) sent by sender; never fails: see cls. */
void resolve_addr(const struct resolve *r, const char *sender, const char *addr,
		  struct resolve_result *res);

/*
 * resolve_nexthop_named - 1 if res's next hop comes from the configuration
 * (relayhost, a transport's nexthop, a table's answer), 0 if it is the
 * recipient's own domain (or there is none).
 */
int resolve_nexthop_named(const struct resolve_result *res);

/*
 * resolve_domain_listed - is domain in list (a struct resolve list, with
 * its tables asked as which)? 1, 0, or -1 if a table failed.
 */
int resolve_domain_listed(const struct resolve *r, const struct resolve_entry *list,
			  enum resolve_table which, const char *domain);

/*
 * resolve_split_transport - "service[:nexthop]" into its parts; -1 if the
 * service name is empty or not [A-Za-z0-9._-]{1,64}.
 */
int resolve_split_transport(const char *value, struct buf *service, struct buf *nexthop);

#endif
