/*
 * map_keys.c - Postfix's table lookup orders for addresses, domains,
 * client addresses and transports (see map_keys.h; access(5), virtual(5),
 * canonical(5), transport(5)). Pure string work: no table is touched
 * except in map_lookup_keys.
 */
#include <string.h>
#include <strings.h>

#include "lib/xmem.h"
#include "mail/addr_ext.h"
#include "maps/map_keys.h"

void map_keys_init(struct map_keys *k)
{
	k->v = NULL;
	k->n = k->cap = 0;
	k->ext = NULL;
}

void map_keys_free(struct map_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		xfree(k->v[i].key);
	xfree(k->v);
	xfree(k->ext);
	map_keys_init(k);
}

static void map_keys_addn(struct map_keys *k, const char *a, size_t alen, const char *b,
			  int partial)
{
	size_t blen = b ? strlen(b) : 0;
	char *s = xmalloc(alen + blen + 1);

	memcpy(s, a, alen);
	if (blen)
		memcpy(s + alen, b, blen);
	s[alen + blen] = 0;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		k->v = xreallocarray(k->v, k->cap, sizeof(*k->v));
	}
	k->v[k->n].key = s;
	k->v[k->n++].partial = partial;
}

size_t map_keys_split(const char *addr, const char *delims)
{
	return addr_ext_split(addr, delims);
}

/* map_keys_note_ext - remember the extension the split removed. */
static void map_keys_note_ext(struct map_keys *k, const char *addr, size_t user, size_t len)
{
	xfree(k->ext);
	k->ext = user ? xstrndup(addr + user, len - user) : NULL;
}

/*
 * map_keys_head - the keys every address order starts with: the whole
 * address, then without its extension. The user part's length is returned
 * (0: not split); *at is the '@' or NULL, *len the localpart's length.
 */
static size_t map_keys_head(struct map_keys *k, const char *addr, const char *delims,
			    const char **at, size_t *len)
{
	size_t user = map_keys_split(addr, delims);

	*at = strrchr(addr, '@');
	*len = *at ? (size_t)(*at - addr) : strlen(addr);
	map_keys_note_ext(k, addr, user, *len);
	map_keys_addn(k, addr, strlen(addr), NULL, 0);
	if (user)
		map_keys_addn(k, addr, user, *at ? *at : "", 1);
	return user;
}

void map_keys_domain(struct map_keys *k, const char *domain, int parent_matches)
{
	const char *name = domain, *next;
	int partial = 0;

	while (*name) {
		map_keys_addn(k, name, strlen(name), NULL, partial);
		partial = 1;
		if ((next = strchr(name + 1, '.')) == NULL || next[1] == 0)
			break;
		name = parent_matches ? next + 1 : next;
	}
}

void map_keys_netaddr(struct map_keys *k, const char *addr)
{
	char delim = strchr(addr, ':') ? ':' : '.';
	size_t len = strlen(addr);
	int partial = 0;

	while (len > 0) {
		const char *cut;

		map_keys_addn(k, addr, len, NULL, partial);
		partial = 1;
		cut = memrchr(addr, delim, len);
		if (cut == NULL)
			break;
		len = (size_t)(cut - addr);
	}
}

void map_keys_access(struct map_keys *k, const char *addr, const char *delims,
		     int parent_matches)
{
	const char *at;
	size_t len, user = map_keys_head(k, addr, delims, &at, &len);

	if (at && at[1]) {
		size_t first = k->n;

		map_keys_domain(k, at + 1, parent_matches);
		k->v[first].partial = 1;	/* only the whole address is not partial */
	}
	map_keys_addn(k, addr, len, "@", 1);
	if (user)
		map_keys_addn(k, addr, user, "@", 1);
}

void map_keys_rewrite(struct map_keys *k, const char *addr, const char *delims,
		      int local_domain)
{
	const char *at;
	size_t len, user = map_keys_head(k, addr, delims, &at, &len);

	if (at == NULL)
		return;
	if (local_domain) {
		map_keys_addn(k, addr, len, NULL, 1);
		if (user)
			map_keys_addn(k, addr, user, NULL, 1);
	}
	map_keys_addn(k, at, strlen(at), NULL, 1);
}

void map_keys_transport(struct map_keys *k, const char *addr, const char *delims,
			int parent_matches)
{
	const char *at = strrchr(addr, '@');
	size_t user = map_keys_split(addr, delims);

	if (at != NULL && at != addr) {
		map_keys_note_ext(k, addr, user, (size_t)(at - addr));
		map_keys_addn(k, addr, strlen(addr), NULL, 0);
		if (user)
			map_keys_addn(k, addr, user, at, 1);
	}
	/* The domain itself and "*" are whole keys: a pcre transport map sees them. */
	map_keys_domain(k, at ? at + 1 : addr, parent_matches);
	map_keys_addn(k, "*", 1, NULL, 0);
}

enum map_result map_lookup_keys(struct map *const *maps, size_t nmaps, const struct map_keys *k,
				struct buf *value, size_t *which)
{
	for (size_t i = 0; i < k->n; i++) {
		for (size_t j = 0; j < nmaps; j++) {
			enum map_result r;

			if (k->v[i].partial && map_is_pattern(maps[j]))
				continue;
			r = map_lookup(maps[j], k->v[i].key, value);
			if (r == MAP_NOTFOUND)
				continue;
			if (which != NULL)
				*which = i;
			return r;
		}
	}
	buf_reset(value);
	return MAP_NOTFOUND;
}
