/*
 * cleanup_virtual.h - virtual_alias_maps (Postfix's virtual(5)) for the
 * envelope recipients of one message, and the duplicate filter every
 * recipient goes through before it is written.
 *
 *	cleanup_virtual_rcpt(cm, addr, orig, orcpt, notify)
 *
 * expands addr (the recipient after canonical mapping) recursively through
 * the lookup stage and writes each resulting address into the queue file,
 * with orig (the recipient as the client gave it) as its original
 * recipient (enable_original_recipient) and the client's ORCPT. A table
 * that fails, a loop deeper than virtual_alias_recursion_limit, an
 * expansion larger than virtual_alias_expansion_limit or a result that is
 * no address defers the whole message (451, cleanup_fail): mail never goes
 * to the unrewritten address when its rewriting could not be finished.
 */
#ifndef MOAT_CLEANUP_VIRTUAL_H
#define MOAT_CLEANUP_VIRTUAL_H

#include <stddef.h>
#include <stdint.h>

#include "mail/domlist.h"

struct lookup_client;
struct conf;
struct stage;

struct cleanup_virtual_cfg {
	struct lookup_client *lc;	/* NULL: no virtual_alias_maps */
	char *tables;			/* virtual_alias_maps, specs joined by '\n' */
	const char *delim;		/* recipient_delimiter */
	const char *myorigin;		/* appended to a result without a domain */
	struct domlist mydest;		/* the names of mydestination: "user" keys for them */
	unsigned recursion_limit;	/* virtual_alias_recursion_limit */
	size_t expansion_limit;		/* virtual_alias_expansion_limit */
	size_t dup_limit;		/* duplicate_filter_limit: 0 = no limit, as Postfix */
	int propagate;			/* propagate_unmatched_extensions names virtual */
};

/* The duplicate filter of one message: SipHash-keyed, at most dup_limit entries (if not 0). */
struct cleanup_virtual_seen {
	unsigned char seed[16];
	char **slot;
	size_t n, cap;
};

struct cleanup_msg;

/* cleanup_virtual_configure - from main.cf; lc is the stage's lookup client. */
void cleanup_virtual_configure(struct cleanup_virtual_cfg *v, const struct conf *c,
			       struct lookup_client *lc);
void cleanup_virtual_seen_init(struct cleanup_virtual_seen *s);
void cleanup_virtual_seen_reset(struct cleanup_virtual_seen *s);
void cleanup_virtual_seen_free(struct cleanup_virtual_seen *s);

/*
 * cleanup_virtual_rcpt - expand, filter and write one recipient (notify:
 * QUEUE_NOTIFY_*). A failed expansion goes to cm->status; -1 (errno set)
 * only when the queue file could not be written.
 */
int cleanup_virtual_rcpt(struct cleanup_msg *cm, const char *addr, const char *orig,
			 const char *orcpt, unsigned notify);

#endif
