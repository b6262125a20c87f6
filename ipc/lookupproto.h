/*
 * lookupproto.h - constants carried in the lookup messages of schema.def
 * (IPC_CHAN_LOOKUP: a stage asks the lookup stage about one table).
 */
#ifndef MOAT_IPC_LOOKUPPROTO_H
#define MOAT_IPC_LOOKUPPROTO_H

/*
 * MSG_LOOKUP_QUERY.order: which keys the stage tries, in Postfix's order
 * (maps/map_keys.h builds them; every key on every table of the query
 * before the next key).
 */
#define LOOKUP_ORDER_KEY	0	/* the key as given, once (header_checks, ...) */
#define LOOKUP_ORDER_ACCESS	1	/* access(5) address: user+ext@domain, user@domain, domain..., user+ext@, user@ */
#define LOOKUP_ORDER_REWRITE	2	/* virtual(5), canonical(5): ... user+ext, user (LOOKUP_F_LOCAL), @domain */
#define LOOKUP_ORDER_DOMAIN	3	/* a domain, then its parents */
#define LOOKUP_ORDER_NETADDR	4	/* access(5) client address: 192.0.2.1, 192.0.2, 192.0, 192 */
#define LOOKUP_ORDER_TRANSPORT	5	/* transport(5): user+ext@domain, user@domain, domain..., "*" */
#define LOOKUP_ORDER_MAX	5

/* MSG_LOOKUP_QUERY.flags */
#define LOOKUP_F_PARENT		0x01	/* parent_domain_matches_subdomains names the feature: parents as
					 * "example.com", not ".example.com" */
#define LOOKUP_F_LOCAL		0x02	/* REWRITE: the address's domain is local (user and user+ext keys) */
#define LOOKUP_F_ALL		0x03

/* MSG_LOOKUP_QUERY.tables: specs separated by this (a parameter's list). */
#define LOOKUP_TABLE_SEP	'\n'

/* MSG_LOOKUP_REPLY.status */
#define LOOKUP_FOUND		0	/* value holds the result */
#define LOOKUP_NOTFOUND		1
#define LOOKUP_FAIL		2	/* table error: try again later (Postfix's DICT_ERR) */
#define LOOKUP_NOTABLE		3	/* the stage serves no such table: a configuration mismatch */

/* Field bounds (schema.def); a whole query fits one IPC_MAX_PACKET. The key
 * holds a whole header (header_checks) of the default header_size_limit. */
#define LOOKUP_TABLE_MAX	4096
#define LOOKUP_KEY_MAX		110000
#define LOOKUP_VALUE_MAX	60000
#define LOOKUP_DELIM_MAX	32
#define LOOKUP_MATCHED_MAX	1024	/* keys of orders other than KEY are at most this long */

#endif
