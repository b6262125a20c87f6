/*
 * route_lookup.c - struct resolve_lookup on the lookup stage (route_lookup.h).
 *
 * mydestination and relay_domains tables in the domain order (relay_domains
 * with parents, as Postfix's default parent_domain_matches_subdomains),
 * transport_maps in transport(5) order, virtual_alias_domains tables by the
 * domain alone, sender_dependent_relayhost_maps and relocated_maps in the
 * rewrite order (relocated with "user" keys for local domains). Answers are cached until route_lookup_done.
 *
 * SECURITY: a value from the lookup stage is a string resolve.c parses as
 * untrusted; a lookup that fails or gets no answer is -1 (the caller defers).
 */
#include <string.h>

#include "ipc/lookupproto.h"
#include "stagecf/route_lookup.h"

static int route_lookup_fn(void *ctx, enum resolve_table which, const char *tables,
			   const char *key, struct buf *value)
{
	struct route_lookup *rl = ctx;
	struct lookup_key k = { .tables = tables, .key = key, .delim = rl->delim };
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
		k.flags = rl->transport_parent ? LOOKUP_F_PARENT : 0;
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
	r = lookup_query(&rl->lc, &k, &a);
	if (r == LOOKUP_FOUND && buf_set(value, a.value.data, a.value.len) < 0)
		r = LOOKUP_FAIL;
	lookup_answer_free(&a);
	return r == LOOKUP_FOUND ? 1 : r == LOOKUP_NOTFOUND ? 0 : -1;
}

void route_lookup_init(struct route_lookup *rl, struct stage *st, struct resolve *r)
{
	char *const *parents = conf_list(st->conf, "parent_domain_matches_subdomains");

	lookup_client_init(&rl->lc, st);
	rl->delim = conf_str(st->conf, "recipient_delimiter");
	rl->transport_parent = 0;
	for (size_t i = 0; parents && parents[i]; i++)
		if (strcmp(parents[i], "transport_maps") == 0)
			rl->transport_parent = 1;
	r->lookup.fn = route_lookup_fn;
	r->lookup.ctx = rl;
}

void route_lookup_done(struct route_lookup *rl)
{
	lookup_client_clear(&rl->lc);
}
