/*
 * dns.c - the dns stage: the only moat process that sends DNS queries.
 *
 * Serves IPC_CHAN_DNS channels (side B) that the broker hands over from
 * smtp and smtpd processes. A client sends MSG_DNS_QUERY{id, name, type};
 * the answer is zero or more MSG_DNS_RR{id, ...} and one MSG_DNS_END{id,
 * status, reason, secure}; a TLSA answer comes as MSG_DNS_TLSA records
 * instead of MSG_DNS_RR. secure is the resolver's AD bit: every query asks
 * for it (RFC 6840 5.7) and, with smtp_dns_support_level = dnssec, sets the
 * DO bit too (EDNS0), as Postfix does. Trusting AD is sound only when the
 * resolver validates and runs on this host (docs/dane.md). Many queries from many clients are in flight at once in
 * one event loop; a small cache (dns_cache.c) answers repeats. The wire work
 * is in dns_query.c, the packet format in mail/dns_pkt.c.
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty,
 * no capabilities; it shares the host network namespace and may create
 * UDP/TCP sockets of family AF_INET/AF_INET6 and connect them (to the
 * resolvers read before confinement), nothing else. It opens no file after
 * confinement. It trusts nothing a DNS server sends (strict parser, id and
 * question checks) and nothing a client sends beyond the IPC schema: a
 * malformed name is answered with DNS_PERMFAIL, never sent.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemons/dns/dns.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"
#include "skeleton/stage_peer.h"
#include "skeleton/stage_test.h"

#define DNS_MAX_INFLIGHT	256	/* per client: a flood is cut off */

struct dns_client {
	struct stage_peer *peer;
	struct dns_query *queries;
	int nqueries;
};

static struct dns_state dns_state;

/* dns_client_closed - the channel is gone; its queries finish unanswered. */
static void dns_client_closed(struct stage_peer *p)
{
	struct dns_client *cl = p->app;

	for (struct dns_query *q = cl->queries, *next; q; q = next) {
		next = q->next;
		dns_query_free(q);
	}
	xfree(cl);
}

/* dns_client_send - -1 if the client's channel is full or gone. */
static int dns_client_send(struct dns_client *cl, enum ipc_type type, const void *msg)
{
	struct ipc_chan *ch = &cl->peer->ch;

	if (ipc_chan_send(ch, type, msg) < 0) {
		msg_warn("dns channel to %s[%ld]: %s", ch->peer_stage, (long)ch->peer_pid,
			 buf_str(&ch->why));
		return -1;
	}
	return 0;
}

/* dns_reply_tlsa - one TLSA record; data too big for the message is left out. */
static int dns_reply_tlsa(struct dns_client *cl, uint32_t id, const struct dns_result *res,
			  const struct dns_rr *r)
{
	struct ipc_dns_tlsa t = { 0 };

	if (r->dlen > DNS_TLSA_DATA_MAX) {
		msg_info("TLSA record of %zu bytes left out (more than %d)", r->dlen,
			 DNS_TLSA_DATA_MAX);
		return 0;
	}
	t.id = id;
	t.usage = stage_test_dns_lie("tlsa-usage", r->usage);
	t.selector = r->selector;
	t.mtype = r->mtype;
	t.data = res->blob + r->doff;
	t.data_len = (uint32_t)r->dlen;
	return dns_client_send(cl, MSG_DNS_TLSA, &t);
}

/* dns_reply - the RRs and the END of one answer. */
static int dns_reply(struct dns_client *cl, uint32_t id, const struct dns_result *res)
{
	struct ipc_dns_end end = { 0 };

	for (size_t i = 0; i < res->nrr; i++) {
		struct ipc_dns_rr rr = { 0 };

		if (res->rr[i].type == DNS_T_TLSA) {
			if (dns_reply_tlsa(cl, id, res, &res->rr[i]) < 0)
				return -1;
			continue;
		}

		rr.id = id;
		rr.type = stage_test_dns_lie("rr-type", res->rr[i].type);
		rr.pref = stage_test_dns_lie("mx-pref", res->rr[i].pref);
		rr.ttl = res->rr[i].ttl;
		rr.value = res->rr[i].value;
		if (dns_client_send(cl, MSG_DNS_RR, &rr) < 0)
			return -1;
	}
	end.id = id;
	end.status = stage_test_dns_lie("status", (uint32_t)res->status);
	end.reason = res->status == DNS_OK ? "" : (res->reason ? res->reason : "failed");
	end.secure = stage_test_dns_lie("secure", res->secure != 0);
	return dns_client_send(cl, MSG_DNS_END, &end);
}

void dns_query_done(struct dns_query *q, const struct dns_result *res)
{
	struct dns_client *cl = q->cl;

	dns_cache_put(q->name, q->type, res);
	for (struct dns_query **pp = &cl->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	cl->nqueries--;
	if (!cl->peer->ending && dns_reply(cl, q->client_id, res) < 0)
		stage_peer_end(cl->peer, 0);
	dns_query_free(q);
}

/* dns_client_query - one MSG_DNS_QUERY: from the cache or to the resolver. */
static int dns_client_query(struct dns_client *cl, const struct ipc_dns_query *dq)
{
	const struct dns_result *cached;
	struct dns_query *q;

	if (dq->type != DNS_T_A && dq->type != DNS_T_AAAA && dq->type != DNS_T_MX
	    && dq->type != DNS_T_NS && dq->type != DNS_T_PTR && dq->type != DNS_T_TXT
	    && dq->type != DNS_T_TLSA) {
		struct dns_result res = { .status = DNS_PERMFAIL, .reason = "unsupported query type" };

		return dns_reply(cl, dq->id, &res);
	}
	if ((cached = dns_cache_get(dq->name, (uint16_t)dq->type)) != NULL)
		return dns_reply(cl, dq->id, cached);
	if (cl->nqueries >= DNS_MAX_INFLIGHT) {
		struct dns_result res = { .status = DNS_TEMPFAIL, .reason = "too many queries" };

		return dns_reply(cl, dq->id, &res);
	}
	q = xcalloc(1, sizeof(*q));
	q->ds = &dns_state;
	q->cl = cl;
	q->client_id = dq->id;
	q->type = (uint16_t)dq->type;
	memcpy(q->name, dq->name, dq->name_len + 1);	/* schema caps it at 255 */
	buf_init(&q->out, 65535 + 2);
	buf_init(&q->in, 65535 + 2);
	q->next = cl->queries;
	cl->queries = q;
	cl->nqueries++;
	dns_query_start(q);	/* may answer (and end the peer) at once */
	return 0;
}

static int dns_client_msg(struct stage_peer *p, struct ipc_msg *m)
{
	return dns_client_query(p->app, &m->u.dns_query) < 0 ? IPC_RECV_ERROR : 0;
}

static const struct stage_peer_ops dns_peer_ops = {
	.kind = IPC_CHAN_DNS, .message = dns_client_msg, .closed = dns_client_closed,
};

static void dns_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct dns_client *cl = xcalloc(1, sizeof(*cl));
	struct stage_peer *p = stage_peer_accept(st, dns_state.loop, &dns_peer_ops, peer_stage,
						 peer_pid, fd, cl);

	if (p != NULL)		/* else cl is already freed by dns_client_closed */
		cl->peer = p;
}

/* dns_pre_jail - learn the resolver while /etc/resolv.conf is still visible. */
static void dns_pre_jail(struct stage *st)
{
	dns_state.st = st;
	if (dns_conf_resolver(conf_list(st->conf, "dns_resolver_address"), &dns_state) < 0)
		msg_fatal("no usable DNS resolver address");
	/* DO bit as Postfix's smtp_dns_support_level = dnssec (the AD bit is always asked). */
	dns_state.dnssec = strcmp(conf_str(st->conf, "smtp_dns_support_level"), "dnssec") == 0;
	/* TCP (truncated answers) only to the resolvers' ports. */
	st->connect_ports = dns_state.ports;
	st->nconnect_ports = dns_state.nports;
	dns_cache_init();
}

static void dns_run(struct stage *st)
{
	struct buf text = BUF_INIT;

	dns_state.loop = event_loop_new();
	dns_conf_text(&dns_state, &text);
	msg_info("resolver %s", buf_str(&text));
	buf_free(&text);
	if (dns_state.dnssec)
		dns_conf_warn_remote(&dns_state);
	if (event_add(dns_state.loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	while (!st->stopping)
		if (event_run_once(dns_state.loop, -1) < 0)
			msg_fatal("event loop: %m");
}

static const struct stage_ops dns_ops = {
	.pre_jail = dns_pre_jail,
	.peer_accept = dns_peer_accept,
	.run = dns_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "dns", &dns_ops);
}
