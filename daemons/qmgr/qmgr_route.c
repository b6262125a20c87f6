/*
 * qmgr_route.c - qmgr's routing tables: mail/resolve.c decides the class,
 * transport and next hop; the tables it names (transport_maps,
 * sender_dependent_relayhost_maps, relocated_maps, type:name entries of
 * mydestination, relay_domains and virtual_alias_domains) are asked here
 * of the lookup stage, in Postfix's orders.
 *
 * Answers are cached for one message (lookup_client_clear when its
 * recipients are resolved), as Postfix caches per request.
 *
 * SECURITY: qmgr opens no table; a value from the lookup stage is a string
 * resolve.c parses as untrusted, and the smtp stage parses the next hop
 * again. A lookup stage that fails or does not answer defers the recipient.
 */
#include <string.h>

#include "daemons/qmgr/qmgr.h"
#include "ipc/lookupproto.h"

/* route_lookup - resolve.c's struct resolve_lookup on the lookup stage. */
static int route_lookup(void *ctx, enum resolve_table which, const char *tables,
			const char *key, struct buf *value)
{
	struct qmgr *q = ctx;
	struct lookup_key k = { .tables = tables, .key = key, .delim = q->delim };
	struct lookup_answer a;
	int r;

	switch (which) {
	case RESOLVE_T_MYDEST:
		k.order = LOOKUP_ORDER_DOMAIN;
		break;
	case RESOLVE_T_RELAY:
		k.order = LOOKUP_ORDER_DOMAIN;
		k.flags = LOOKUP_F_PARENT;
		break;
	case RESOLVE_T_TRANSPORT:
		k.order = LOOKUP_ORDER_TRANSPORT;
		k.flags = q->transport_parent ? LOOKUP_F_PARENT : 0;
		break;
	case RESOLVE_T_VIRTUAL:
		k.order = LOOKUP_ORDER_KEY;	/* virtual_alias_domains is a string list */
		break;
	case RESOLVE_T_RELOCATED_LOCAL:
		k.order = LOOKUP_ORDER_REWRITE;
		k.flags = LOOKUP_F_LOCAL;
		break;
	default:
		k.order = LOOKUP_ORDER_REWRITE;
		break;
	}
	lookup_answer_init(&a);
	r = lookup_query(&q->lookup, &k, &a);
	if (r == LOOKUP_FOUND && buf_set(value, a.value.data, a.value.len) < 0)
		r = LOOKUP_FAIL;
	lookup_answer_free(&a);
	return r == LOOKUP_FOUND ? 1 : r == LOOKUP_NOTFOUND ? 0 : -1;
}

void qmgr_route_init(struct qmgr *q)
{
	char *const *parents = conf_list(q->st->conf, "parent_domain_matches_subdomains");

	lookup_client_init(&q->lookup, q->st);
	q->delim = conf_str(q->st->conf, "recipient_delimiter");
	for (size_t i = 0; parents && parents[i]; i++)
		if (strcmp(parents[i], "transport_maps") == 0)
			q->transport_parent = 1;
	q->res.lookup.fn = route_lookup;
	q->res.lookup.ctx = q;
}

void qmgr_route_rcpt(struct qmgr *q, const char *sender, const char *rcpt)
{
	resolve_addr(&q->res, sender, rcpt, &q->rr);
}

void qmgr_route_done(struct qmgr *q)
{
	lookup_client_clear(&q->lookup);
}
