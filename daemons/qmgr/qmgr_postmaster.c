/*
 * qmgr_postmaster.c - the start-up warning for postmaster@ and abuse@:
 * RFC 5321 4.5.1 wants postmaster to work for every domain a host takes
 * mail for, and abuse@ is what the world writes to. moat has no local
 * delivery, so for a domain of mydestination or virtual_alias_domains
 * these addresses are refused at RCPT unless virtual_alias_maps sends
 * them somewhere; the administrator is told once, with the names.
 *
 * Called by qmgr.c once its event loop exists (the lookup stage answers
 * through the broker). Only the names written in the two lists are looked
 * at: a table's domains cannot be listed, ".domain" patterns name no
 * address, and localhost is nobody's mail domain.
 *
 * SECURITY: reads the configuration and asks the lookup stage, whose
 * answers only decide whether a line is logged. Opens no table.
 */
#include <string.h>

#include "daemons/qmgr/qmgr.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"

/* postmaster_skip - a list entry that names no mail domain of ours to check. */
static int postmaster_skip(const struct resolve_entry *e)
{
	return e->table || e->name[0] == '.' || e->name[0] == '!' || strcmp(e->name, "localhost") == 0
	       || strncmp(e->name, "localhost.", 10) == 0;
}

/* postmaster_ask - 1 aliased, 0 not, -1 the table failed. */
static int postmaster_ask(struct qmgr *q, const char *tables, const char *addr, int local)
{
	struct lookup_key k = {
		.tables = tables, .key = addr, .order = LOOKUP_ORDER_REWRITE,
		.flags = local ? LOOKUP_F_LOCAL : 0, .delim = q->route.delim,
	};
	struct lookup_answer a;
	int r;

	lookup_answer_init(&a);
	r = lookup_query(&q->route.lc, &k, &a);
	lookup_answer_free(&a);
	return r == LOOKUP_FOUND ? 1 : r == LOOKUP_NOTFOUND ? 0 : -1;
}

/* postmaster_list - the unaliased addresses of one domain list into out. */
static void postmaster_list(struct qmgr *q, const char *tables, const struct resolve_entry *e,
			    int local, struct buf *out, int *failed)
{
	static const char *const users[] = { "postmaster", "abuse" };
	struct buf addr = BUF_INIT;

	for (; e && e->name; e++) {
		if (postmaster_skip(e))
			continue;
		for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
			int r;

			buf_reset(&addr);
			buf_printf(&addr, "%s@%s", users[i], e->name);
			r = tables ? postmaster_ask(q, tables, buf_str(&addr), local) : 0;
			if (r < 0)
				*failed = 1;
			else if (r == 0)
				buf_printf(out, "%s%s", out->len ? ", " : "", buf_str(&addr));
		}
	}
	buf_free(&addr);
}

void qmgr_postmaster_check(struct qmgr *q)
{
	char *const *maps = conf_list(q->st->conf, "virtual_alias_maps");
	struct buf tables = BUF_INIT, out = BUF_INIT;
	int failed = 0;

	for (size_t i = 0; maps && maps[i]; i++)
		buf_printf(&tables, "%s%s", i ? "\n" : "", maps[i]);
	postmaster_list(q, tables.len ? buf_str(&tables) : NULL, q->res.mydest, 1, &out, &failed);
	postmaster_list(q, tables.len ? buf_str(&tables) : NULL, q->res.virt, 0, &out, &failed);
	if (out.len)
		msg_warn("mail to %s would be refused: no virtual alias sends it anywhere and moat "
			 "has no local delivery (RFC 5321 4.5.1: add them to virtual_alias_maps)",
			 buf_str(&out));
	if (failed)
		msg_warn("virtual_alias_maps lookup failure: cannot tell whether postmaster@ and "
			 "abuse@ of this host's domains are taken");
	route_lookup_done(&q->route);
	buf_free(&tables);
	buf_free(&out);
}
