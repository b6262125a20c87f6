/*
 * map_htab.h - the in-memory key/value table behind texthash and inline.
 *
 * Open addressing, power-of-two size, at most half full. The keys come from
 * the administrator's table, so a fixed hash key is enough: a client's
 * lookup key can only land on chains the table itself made.
 */
#ifndef MOAT_MAPS_MAP_HTAB_H
#define MOAT_MAPS_MAP_HTAB_H

#include <stddef.h>

struct map_htab_slot {
	char *key;
	char *value;
};

struct map_htab {
	struct map_htab_slot *slot;
	size_t n, cap;
};

void map_htab_init(struct map_htab *h);
void map_htab_free(struct map_htab *h);
/* map_htab_add - 0 if added, 1 if key was already there (kept as it was). */
int map_htab_add(struct map_htab *h, const char *key, const char *value);
/* map_htab_get - the value of key, or NULL. */
const char *map_htab_get(const struct map_htab *h, const char *key);

#endif
