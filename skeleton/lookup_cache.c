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
	char *tables, *key, *delim, *value, *matched;
	uint32_t order, flags;
	int status;
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

	(void)buf_append(&b, k->tables, strlen(k->tables) + 1);
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
	       && strcmp(e->tables, k->tables) == 0 && strcmp(e->delim, k->delim) == 0;
}

int lookup_cache_get(struct lookup_cache *c, const struct lookup_key *k, struct lookup_answer *a)
{
	for (struct lookup_cache_entry *e = c->bucket[cache_bucket(c, k)]; e; e = e->next) {
		if (cache_same(e, k)) {
			a->status = e->status;
			if (buf_set_str(&a->value, e->value) < 0 || buf_set_str(&a->matched, e->matched) < 0)
				return 0;	/* the caller's buffer is smaller: ask again */
			c->hits++;
			return 1;
		}
	}
	c->misses++;
	return 0;
}

void lookup_cache_put(struct lookup_cache *c, const struct lookup_key *k,
		      const struct lookup_answer *a)
{
	size_t size = strlen(k->tables) + strlen(k->key) + strlen(k->delim) + a->value.len
		      + a->matched.len + 5 + sizeof(struct lookup_cache_entry);
	size_t i = cache_bucket(c, k);
	struct lookup_cache_entry *e;

	if (c->entries >= LOOKUP_CACHE_ENTRIES || size > LOOKUP_CACHE_BYTES - c->bytes)
		return;
	for (e = c->bucket[i]; e; e = e->next)
		if (cache_same(e, k))
			return;
	e = xcalloc(1, sizeof(*e));
	e->tables = xstrdup(k->tables);
	e->key = xstrdup(k->key);
	e->delim = xstrdup(k->delim);
	e->value = xstrdup(buf_str(&a->value));
	e->matched = xstrdup(buf_str(&a->matched));
	e->order = k->order;
	e->flags = k->flags;
	e->status = a->status;
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
			xfree(e->tables);
			xfree(e->key);
			xfree(e->delim);
			xfree(e->value);
			xfree(e->matched);
			xfree(e);
		}
		c->bucket[i] = NULL;
	}
	c->entries = 0;
	c->bytes = 0;
}
