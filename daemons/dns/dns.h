/*
 * dns.h - the dns stage's internal interfaces (daemons/dns only).
 */
#ifndef MOAT_DAEMONS_DNS_H
#define MOAT_DAEMONS_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "ipc/ipc.h"
#include "lib/event.h"
#include "mail/dns_pkt.h"

struct dns_state {
	struct stage *st;
	struct event_loop *loop;
	struct sockaddr_storage ns;	/* the resolver */
	socklen_t nslen;
	char ns_text[80];
};

struct dns_client;

/* One query in flight to the resolver. */
struct dns_query {
	struct dns_state *ds;
	struct dns_client *cl;		/* NULL once the client went away */
	struct dns_query *next;		/* the client's list */
	uint32_t client_id;
	char name[256];
	uint16_t type;
	uint16_t qid;
	int fd;
	int tcp;
	int tries;
	uint64_t timer;
	struct buf out;			/* the query packet (TCP: length prefixed) */
	size_t out_done;
	struct buf in;			/* TCP answer as it arrives */
};

/* dns_query.c */
void dns_query_start(struct dns_query *q);
void dns_query_free(struct dns_query *q);

/* dns.c: a query is finished; answer the client (if still there) and free it. */
void dns_query_done(struct dns_query *q, const struct dns_result *res);

/* dns_cache.c */
void dns_cache_init(void);
const struct dns_result *dns_cache_get(const char *name, uint16_t type);
void dns_cache_put(const char *name, uint16_t type, const struct dns_result *res);

/* dns_conf.c */
int dns_conf_resolver(const char *param, struct dns_state *ds);

#endif
