/*
 * smtpd_domains.c - mydestination and relay_domains with their lookup
 * tables: a type:name entry is asked of the lookup stage, in list order,
 * with the domain and then its parents (relay_domains, as named in
 * parent_domain_matches_subdomains) or ".parent" keys (mydestination), as
 * qmgr asks the same tables (qmgr_route.c), so that smtpd and qmgr never
 * disagree on where a domain goes. Answers are cached for the transaction.
 * smtpd_tables_query asks any other table parameter (rbl_reply_maps) on
 * the same channel and cache.
 *
 * SECURITY: these lists decide who may relay. A table that cannot answer
 * is -1 for the caller, who turns it into a 451 4.3.0 ("Temporary lookup
 * failure"), never into a permit or a miss. smtpd opens no table.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"
#include "skeleton/stage_lookup.h"

static struct lookup_client domains_client;
static int domains_ready;

int smtpd_tables_query(struct stage *st, const struct lookup_key *k, struct lookup_answer *a)
{
	int r;

	if (!domains_ready) {
		lookup_client_init(&domains_client, st);
		domains_ready = 1;
	}
	r = lookup_query(&domains_client, k, a);
	if (r != LOOKUP_FOUND && r != LOOKUP_NOTFOUND)
		msg_warn("%s: table lookup problem for \"%.100s\"", k->tables, k->key);
	return r;
}

/* domains_ask - domlist_table_fn on the lookup stage; ctx is the stage. */
static int domains_ask(void *ctx, const char *spec, const char *domain, int parent_sub)
{
	struct buf key = BUF_INIT;
	struct lookup_key k = { .tables = spec, .order = LOOKUP_ORDER_DOMAIN,
				.flags = parent_sub ? LOOKUP_F_PARENT : 0, .delim = "" };
	struct lookup_answer a;
	int r;

	(void)buf_set(&key, domain, strlen(domain) - (domain[strlen(domain) - 1] == '.'));
	k.key = buf_str(&key);
	lookup_answer_init(&a);
	r = smtpd_tables_query(ctx, &k, &a);
	lookup_answer_free(&a);
	buf_free(&key);
	return r == LOOKUP_FOUND ? 1 : r == LOOKUP_NOTFOUND ? 0 : -1;
}

int smtpd_domain_listed(const struct smtpd_session *s, const struct domlist *d, const char *dom)
{
	return *dom ? domlist_match_tables(d, dom, domains_ask, s->st) : 0;
}

void smtpd_domains_clear(void)
{
	if (domains_ready)
		lookup_client_clear(&domains_client);
}
