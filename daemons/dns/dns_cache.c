/*
 * dns_cache.c - a small TTL-bounded cache of answers in the dns stage.
 *
 * Called by dns.c before a query goes out and after an answer arrives.
 * Positive answers live for the smallest TTL of their records (at most
 * DNS_CACHE_MAX_TTL), NXDOMAIN/NODATA for DNS_CACHE_NEG_TTL; temporary
 * failures are never cached. The table is a fixed array: when it is full
 * the entry that expires first is replaced, so a flood of distinct names
 * costs a fixed amount of memory.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemons/dns/dns.h"
#include "ipc/mailproto.h"

#define DNS_CACHE_SIZE		256
#define DNS_CACHE_MAX_TTL	3600
#define DNS_CACHE_NEG_TTL	60

struct dns_cache_entry {
	char name[256];
	uint16_t type;
	time_t expires;		/* 0: empty slot */
	struct dns_result res;
};

static struct dns_cache_entry *dns_cache;

void dns_cache_init(void)
{
	static struct dns_cache_entry table[DNS_CACHE_SIZE];

	dns_cache = table;
}

static time_t dns_cache_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

const struct dns_result *dns_cache_get(const char *name, uint16_t type)
{
	time_t now = dns_cache_now();

	for (size_t i = 0; dns_cache && i < DNS_CACHE_SIZE; i++) {
		struct dns_cache_entry *e = &dns_cache[i];

		if (e->expires > now && e->type == type && strcasecmp(e->name, name) == 0)
			return &e->res;
	}
	return NULL;
}

void dns_cache_put(const char *name, uint16_t type, const struct dns_result *res)
{
	struct dns_cache_entry *victim = NULL;
	time_t now = dns_cache_now();
	uint32_t ttl = DNS_CACHE_MAX_TTL;

	/* TLSA data lives on the heap with the answer: not kept (the local
	 * validating resolver that DANE needs caches it anyway). */
	if (dns_cache == NULL || strlen(name) >= sizeof(victim->name) || res->blob != NULL)
		return;
	if (res->status == DNS_OK) {
		for (size_t i = 0; i < res->nrr; i++)
			if (res->rr[i].ttl < ttl)
				ttl = res->rr[i].ttl;
	} else if (res->status == DNS_NOTFOUND || res->status == DNS_NODATA)
		ttl = DNS_CACHE_NEG_TTL;
	else
		return;
	if (ttl == 0)
		return;
	for (size_t i = 0; i < DNS_CACHE_SIZE; i++) {
		struct dns_cache_entry *e = &dns_cache[i];

		if (e->expires <= now || (e->type == type && strcasecmp(e->name, name) == 0)) {
			victim = e;
			break;
		}
		if (victim == NULL || e->expires < victim->expires)
			victim = e;
	}
	memcpy(victim->name, name, strlen(name) + 1);
	victim->type = type;
	victim->expires = now + (time_t)ttl;
	victim->res = *res;
}
