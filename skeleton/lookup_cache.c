/*
 * lookup_cache.c - per-request cache of lookup answers (lookup_cache.h).
 *
 * Called by the lookup client (stage_lookup.c) in every stage that asks
 * about tables, and by its unit test. It holds copies of what it is given
 * and never grows past its caps, whatever keys a client sends.
 */
#include <string.h>
#include <sys/random.h>

#include "lib/msg.h"
#include "lib/siphash.h"
#include "lib/xmem.h"
#include "skeleton/lookup_cache.h"

struct lookup_cache_entry {
	char *table, *key, *delim, *value;
	uint32_t order, flags, status;
	size_t size;
	struct lookup_cache_entry *next;
};

void lookup_cache_init(struct lookup_cache *c)
{
	memset(c, 0, sizeof(*c));
	if (getrandom(c->seed, sizeof(c->seed), 0) != (ssize_t)sizeof(c->seed))
		msg_fatal("getrandom: %m");
}

/* cache_bucket - the chain k belongs to: every part of the query, NUL-separated. */
static size_t cache_bucket(const struct lookup_cache *c, const struct lookup_key *k)
{
	struct buf b = BUF_INIT;
	uint64_t h;

	(void)buf_append(&b, k->table, strlen(k->table) + 1);
	(void)buf_append(&b, k->key, strlen(k->key) + 1);
	(void)buf_append(&b, k->delim, strlen(k->delim) + 1);
	(void)buf_append(&b, &k->order, sizeof(k->order));
	(void)buf_append(&b, &k->flags, sizeof(k->flags));
	h = siphash(c->seed, b.data, b.len);
	buf_free(&b);
	return (size_t)(h % LOOKUP_CACHE_BUCKETS);
}

static int cache_same(const struct lookup_cache_entry *e, const struct lookup_key *k)
{
	return e->order == k->order && e->flags == k->flags && strcmp(e->key, k->key) == 0
	       && strcmp(e->table, k->table) == 0 && strcmp(e->delim, k->delim) == 0;
}

int lookup_cache_get(struct lookup_cache *c, const struct lookup_key *k, uint32_t *status,
		     struct buf *value)
{
	for (struct lookup_cache_entry *e = c->bucket[cache_bucket(c, k)]; e; e = e->next) {
		if (cache_same(e, k)) {
			*status = e->status;
			if (buf_set_str(value, e->value) < 0)
				return 0;	/* the caller's buffer is smaller: ask again */
			c->hits++;
			return 1;
		}
	}
	c->misses++;
	return 0;
}

void lookup_cache_put(struct lookup_cache *c, const struct lookup_key *k, uint32_t status,
		      const char *value)
{
	size_t size = strlen(k->table) + strlen(k->key) + strlen(k->delim) + strlen(value) + 4
		      + sizeof(struct lookup_cache_entry);
	size_t i = cache_bucket(c, k);
	struct lookup_cache_entry *e;

	if (c->entries >= LOOKUP_CACHE_ENTRIES || size > LOOKUP_CACHE_BYTES - c->bytes)
		return;
	for (e = c->bucket[i]; e; e = e->next)
		if (cache_same(e, k))
			return;
	e = xcalloc(1, sizeof(*e));
	e->table = xstrdup(k->table);
	e->key = xstrdup(k->key);
	e->delim = xstrdup(k->delim);
	e->value = xstrdup(value);
	e->order = k->order;
	e->flags = k->flags;
	e->status = status;
	e->size = size;
	e->next = c->bucket[i];
	c->bucket[i] = e;
	c->entries++;
	c->bytes += size;
}

void lookup_cache_clear(struct lookup_cache *c)
{
	for (size_t i = 0; i < LOOKUP_CACHE_BUCKETS; i++) {
		for (struct lookup_cache_entry *e = c->bucket[i], *next; e; e = next) {
			next = e->next;
			xfree(e->table);
			xfree(e->key);
			xfree(e->delim);
			xfree(e->value);
			xfree(e);
		}
		c->bucket[i] = NULL;
	}
	c->entries = 0;
	c->bytes = 0;
}
