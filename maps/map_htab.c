/*
 * map_htab.c - in-memory key/value table for texthash and inline (see
 * map_htab.h). Never stores a peer's bytes: only lookups see them.
 */
#include <string.h>

#include "lib/siphash.h"
#include "lib/xmem.h"
#include "maps/map_htab.h"

static const unsigned char map_htab_key[16] = "moat-map-htab-k";

void map_htab_init(struct map_htab *h)
{
	h->slot = NULL;
	h->n = h->cap = 0;
}

void map_htab_free(struct map_htab *h)
{
	for (size_t i = 0; i < h->cap; i++) {
		xfree(h->slot[i].key);
		xfree(h->slot[i].value);
	}
	xfree(h->slot);
	map_htab_init(h);
}

static size_t map_htab_find(const struct map_htab *h, const char *key)
{
	size_t i = (size_t)siphash(map_htab_key, key, strlen(key)) & (h->cap - 1);

	while (h->slot[i].key != NULL && strcmp(h->slot[i].key, key) != 0)
		i = (i + 1) & (h->cap - 1);
	return i;
}

static void map_htab_grow(struct map_htab *h)
{
	struct map_htab old = *h;

	h->cap = old.cap ? old.cap * 2 : 16;
	h->slot = xcalloc(h->cap, sizeof(*h->slot));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i].key != NULL)
			h->slot[map_htab_find(h, old.slot[i].key)] = old.slot[i];
	xfree(old.slot);
}

int map_htab_add(struct map_htab *h, const char *key, const char *value)
{
	size_t i;

	if (2 * (h->n + 1) > h->cap)
		map_htab_grow(h);
	i = map_htab_find(h, key);
	if (h->slot[i].key != NULL)
		return 1;
	h->slot[i].key = xstrdup(key);
	h->slot[i].value = xstrdup(value);
	h->n++;
	return 0;
}

const char *map_htab_get(const struct map_htab *h, const char *key)
{
	size_t i;

	if (h->cap == 0)
		return NULL;
	i = map_htab_find(h, key);
	return h->slot[i].key ? h->slot[i].value : NULL;
}
