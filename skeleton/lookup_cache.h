/*
 * lookup_cache.h - the answers one request has had from the lookup stage.
 *
 * Postfix caches table answers for the life of one SMTP transaction or one
 * message (the same sender, recipient domain or client asked of the same
 * table again gives the same answer, with no round trip). The caller says
 * when that life ends with lookup_cache_clear. Keys and values come from
 * peers: the table is keyed with SipHash and a random key, and holds at most
 * LOOKUP_CACHE_ENTRIES answers and LOOKUP_CACHE_BYTES of text; past that a
 * new answer is simply not cached (the next query asks again).
 */
#ifndef MOAT_SKELETON_LOOKUP_CACHE_H
#define MOAT_SKELETON_LOOKUP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define LOOKUP_CACHE_ENTRIES	1024
#define LOOKUP_CACHE_BYTES	((size_t)1 << 20)
#define LOOKUP_CACHE_BUCKETS	256

/* What a query is: the same tables, key and order get the same answer. */
struct lookup_key {
	const char *tables;	/* one spec, or a parameter's specs separated by '\n' */
	const char *key;
	uint32_t order;		/* LOOKUP_ORDER_* */
	uint32_t flags;		/* LOOKUP_F_* */
	const char *delim;	/* recipient_delimiter, "" if none */
};

struct lookup_cache_entry;

struct lookup_cache {
	struct lookup_cache_entry *bucket[LOOKUP_CACHE_BUCKETS];
	unsigned char seed[16];
	size_t entries, bytes;
	uint64_t hits, misses;	/* for tests and debug lines */
};

void lookup_cache_init(struct lookup_cache *c);
/* What the lookup stage answered: a LOOKUP_* status; for LOOKUP_FOUND the
 * value and the key of the order that matched ("" for LOOKUP_ORDER_KEY). */
struct lookup_answer {
	int status;
	struct buf value;
	struct buf matched;
};

/* lookup_cache_get - 1 and the cached answer for k, or 0. */
int lookup_cache_get(struct lookup_cache *c, const struct lookup_key *k, struct lookup_answer *a);
/* lookup_cache_put - remember an answer; silently not cached past the caps. */
void lookup_cache_put(struct lookup_cache *c, const struct lookup_key *k,
		      const struct lookup_answer *a);
/* lookup_cache_clear - forget every answer (end of a transaction or message). */
void lookup_cache_clear(struct lookup_cache *c);

#endif
