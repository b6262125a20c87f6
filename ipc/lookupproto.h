/*
 * lookupproto.h - constants carried in the lookup messages of schema.def
 * (IPC_CHAN_LOOKUP: a stage asks the lookup stage about one table).
 */
#ifndef MOAT_IPC_LOOKUPPROTO_H
#define MOAT_IPC_LOOKUPPROTO_H

/* MSG_LOOKUP_QUERY.order: which keys the stage tries, in Postfix's order. */
#define LOOKUP_ORDER_KEY	0	/* the key as given, once */
#define LOOKUP_ORDER_ADDR	1	/* user+ext@domain, user@domain, user+ext, user, @domain */
#define LOOKUP_ORDER_DOMAIN	2	/* domain, then its parents (.parent, or parent with LOOKUP_F_PARENT) */
#define LOOKUP_ORDER_MAX	2

/* MSG_LOOKUP_QUERY.flags */
#define LOOKUP_F_PARENT		0x01	/* parent_domain_matches_subdomains names the feature */
#define LOOKUP_F_ALL		0x01

/* MSG_LOOKUP_REPLY.status */
#define LOOKUP_FOUND		0	/* value holds the result */
#define LOOKUP_NOTFOUND		1
#define LOOKUP_FAIL		2	/* table error: try again later (Postfix's DICT_ERR) */
#define LOOKUP_NOTABLE		3	/* the stage serves no such table: a configuration mismatch */

/* Field bounds (schema.def); a whole query fits one 64 KiB packet. */
#define LOOKUP_TABLE_MAX	4096
#define LOOKUP_KEY_MAX		60000
#define LOOKUP_VALUE_MAX	60000
#define LOOKUP_DELIM_MAX	32

#endif
