/*
 * lookup_query.c - the lookup stage answers one query: its tables, its
 * keys in Postfix's order (maps/map_keys.h), the first value found.
 *
 * SECURITY: everything here comes from a client stage that may be
 * compromised; the schema bounded each field already. A table list that
 * names a table the stage does not hold gets LOOKUP_NOTABLE, a key too long
 * for its order gets LOOKUP_FAIL, and nothing a query holds can make the
 * stage open anything or stop.
 */
#include <string.h>

#include "daemons/lookup/lookup.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "maps/map_keys.h"

#define QUERY_TABLES_MAX	64	/* tables in one query */

/* query_keys - the keys of q's order into k. */
static void query_keys(const struct ipc_lookup_query *q, struct map_keys *k)
{
	int parent = (q->flags & LOOKUP_F_PARENT) != 0;

	switch (q->order) {
	case LOOKUP_ORDER_ACCESS:
		map_keys_access(k, q->key, q->delim, parent);
		break;
	case LOOKUP_ORDER_REWRITE:
		map_keys_rewrite(k, q->key, q->delim, (q->flags & LOOKUP_F_LOCAL) != 0);
		break;
	case LOOKUP_ORDER_DOMAIN:
		map_keys_domain(k, q->key, parent);
		break;
	case LOOKUP_ORDER_NETADDR:
		map_keys_netaddr(k, q->key);
		break;
	case LOOKUP_ORDER_TRANSPORT:
		map_keys_transport(k, q->key, q->delim, parent);
		break;
	default:	/* LOOKUP_ORDER_KEY; the caller refused anything else */
		k->v = xcalloc(1, sizeof(*k->v));
		k->v[0].key = xstrdup(q->key);
		k->n = k->cap = 1;
		break;
	}
}

/* query_tables - the maps q names, in order; a LOOKUP_* status if one is missing or broken. */
static int query_tables(struct lookup_tables *t, const char *list, struct map **maps, size_t *n,
			const char **missing)
{
	const char *p = list;
	int status = LOOKUP_FOUND;

	*n = 0;
	while (*p && *n < QUERY_TABLES_MAX) {
		size_t len = strcspn(p, "\n");
		char *spec = xstrndup(p, len);
		struct lookup_table *tb = lookup_table_find(t, spec);

		xfree(spec);
		if (tb == NULL) {
			*missing = p;
			return LOOKUP_NOTABLE;
		}
		if (tb->map == NULL)
			status = LOOKUP_FAIL;	/* logged at start: it could not be opened */
		maps[(*n)++] = tb->map;
		p += len + (p[len] == '\n');
	}
	if (*p || *n == 0) {
		*missing = list;
		return LOOKUP_NOTABLE;
	}
	return status;
}

int lookup_query_answer(struct lookup_tables *t, const struct ipc_lookup_query *q,
			struct buf *value, struct buf *matched, const char **missing)
{
	struct map *maps[QUERY_TABLES_MAX];
	struct map_keys keys;
	size_t n, which = 0;
	int status = query_tables(t, q->tables, maps, &n, missing);

	if (status != LOOKUP_FOUND)
		return status;
	if (q->order != LOOKUP_ORDER_KEY && q->key_len > LOOKUP_MATCHED_MAX) {
		msg_warn("lookup of a %u-byte address or domain: longer than any (%d): failed",
			 q->key_len, LOOKUP_MATCHED_MAX);
		return LOOKUP_FAIL;
	}
	map_keys_init(&keys);
	query_keys(q, &keys);
	switch (map_lookup_keys(maps, n, &keys, value, &which)) {
	case MAP_FOUND:
		status = LOOKUP_FOUND;
		if (q->order != LOOKUP_ORDER_KEY && which < keys.n)
			(void)buf_set_str(matched, keys.v[which].key);
		break;
	case MAP_NOTFOUND:
		status = LOOKUP_NOTFOUND;
		break;
	default:
		status = LOOKUP_FAIL;
		break;
	}
	map_keys_free(&keys);
	return status;
}
