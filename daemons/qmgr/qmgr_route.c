/*
 * qmgr_route.c - qmgr's routing tables: mail/resolve.c decides the class,
 * transport and next hop; the tables it names (transport_maps,
 * sender_dependent_relayhost_maps, relocated_maps, type:name entries of
 * mydestination, relay_domains and virtual_alias_domains) are asked of the
 * lookup stage in Postfix's orders (stagecf/route_lookup.c, shared with the
 * smtp stage's next-hop check).
 *
 * Answers are cached for one message (route_lookup_done when its
 * recipients are resolved), as Postfix caches per request.
 *
 * SECURITY: qmgr opens no table; a value from the lookup stage is a string
 * resolve.c parses as untrusted, and the smtp stage parses the next hop
 * again. A lookup stage that fails or does not answer defers the recipient.
 */
#include "daemons/qmgr/qmgr.h"

void qmgr_route_init(struct qmgr *q)
{
	route_lookup_init(&q->route, q->st, &q->res);
}

void qmgr_route_rcpt(struct qmgr *q, const char *sender, const char *rcpt)
{
	resolve_addr(&q->res, sender, rcpt, &q->rr);
}

void qmgr_route_done(struct qmgr *q)
{
	route_lookup_done(&q->route);
}
