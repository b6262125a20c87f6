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

#define DNS_NS_MAX		8	/* nameservers used, in order */
#define DNS_TIMEOUT_MS		2000	/* per attempt, unless resolv.conf says */
#define DNS_ATTEMPTS		2	/* rounds over all nameservers */
#define DNS_TLSA_DATA_MAX	4096	/* MSG_DNS_TLSA's data field */

struct dns_ns {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[80];
};

struct dns_state {
	struct stage *st;
	struct event_loop *loop;
	struct dns_ns ns[DNS_NS_MAX];
	int nns;
	int first;		/* the nameserver that answered last: asked first */
	int64_t timeout_ms;	/* one attempt at one nameserver */
	uint16_t ports[DNS_NS_MAX];	/* their TCP ports (Landlock connect rules) */
	size_t nports;
	int attempts;		/* rounds over all nameservers */
	int dnssec;		/* smtp_dns_support_level = dnssec: queries set DO */
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
	int tries;			/* sends so far, over all nameservers */
	int ns;				/* the nameserver of the current try */
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
int dns_conf_resolver(char *const *param, struct dns_state *ds);
void dns_conf_text(const struct dns_state *ds, struct buf *out);
void dns_conf_warn_remote(const struct dns_state *ds);

#endif
