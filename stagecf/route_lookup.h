/*
 * route_lookup.h - mail/resolve.c's tables asked of the lookup stage, in
 * Postfix's orders: qmgr routes with it, and the smtp stage asks the same
 * questions again before it trusts a next hop that leads inward.
 */
#ifndef MOAT_STAGECF_ROUTE_LOOKUP_H
#define MOAT_STAGECF_ROUTE_LOOKUP_H

#include "mail/resolve.h"
#include "skeleton/stage_lookup.h"

struct route_lookup {
	struct lookup_client lc;
	const char *delim;	/* recipient_delimiter */
	int transport_parent;	/* transport_maps in parent_domain_matches_subdomains */
};

/* route_lookup_init - r's tables are asked through rl (on st's lookup channel). */
void route_lookup_init(struct route_lookup *rl, struct stage *st, struct resolve *r);
/* route_lookup_done - end of a message: forget the cached answers. */
void route_lookup_done(struct route_lookup *rl);

#endif
