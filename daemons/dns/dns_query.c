/*
 * dns_query.c - one query: UDP to each nameserver in turn, TCP on TC=1.
 *
 * Called by dns.c for every query that the cache cannot answer. Each
 * attempt uses a fresh connected UDP socket (a kernel-chosen random source
 * port; a connected socket only receives from the resolver's address) and a
 * fresh random 16-bit id. A reply that does not match id and question is
 * ignored, not believed: we keep waiting until the timer fires. A
 * nameserver that does not answer in time, answers with ICMP unreachable
 * or with SERVFAIL/REFUSED is left for the next one, in order, for
 * "attempts" rounds over all of them (resolv.conf's meaning); the one that
 * answers is asked first from then on, so one dead nameserver costs one
 * timeout, not one per query. On a truncated reply the same question goes
 * over TCP to the same nameserver (2-byte length prefix, DNS_TCP_MS).
 *
 * SECURITY: the packets parsed here come from the network and are hostile;
 * only mail/dns_pkt.c looks inside them.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/dns/dns.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define DNS_TCP_MS	3000
#define DNS_TCP_MAX	65535

static uint16_t dns_random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		msg_fatal("getrandom: %m");
	return id;
}

static void dns_query_close(struct dns_query *q)
{
	if (q->timer) {
		event_timer_cancel(q->ds->loop, q->timer);
		q->timer = 0;
	}
	if (q->fd >= 0) {
		event_del(q->ds->loop, q->fd);
		(void)close(q->fd);
		q->fd = -1;
	}
}

void dns_query_free(struct dns_query *q)
{
	dns_query_close(q);
	buf_free(&q->out);
	buf_free(&q->in);
	xfree(q);
}

static void dns_query_fail(struct dns_query *q, int status, const char *reason)
{
	struct dns_result res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.reason = reason;
	dns_query_close(q);
	dns_query_done(q, &res);
}

/* dns_query_answer - a packet arrived: believe it only if it answers us.
 * 1: the query went on (finished and freed, or moved on); 0: ignored. */
static int dns_query_answer(struct dns_query *q, const unsigned char *p, size_t len);

static void dns_tcp_start(struct dns_query *q);
static void dns_query_try(struct dns_query *q);

static struct dns_ns *dns_query_ns(struct dns_query *q)
{
	return &q->ds->ns[q->ns];
}

/*
 * dns_query_next - this nameserver failed (timeout, ICMP unreachable, a
 * refusal): ask the next one, round after round, until attempts rounds
 * over all nameservers are used up. May finish and free q.
 */
static void dns_query_next(struct dns_query *q)
{
	struct dns_state *ds = q->ds;

	dns_query_close(q);
	if (q->tries >= ds->attempts * ds->nns) {
		dns_query_fail(q, DNS_TEMPFAIL, "Host not found, try again (timeout)");
		return;
	}
	q->ns = (q->ns + 1) % ds->nns;
	dns_query_try(q);
}

static void dns_udp_read(int fd, unsigned events, void *ctx)
{
	struct dns_query *q = ctx;
	unsigned char pkt[4096];
	ssize_t n;

	(void)events;
	n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* ICMP port unreachable and friends: that server is dead now. */
		msg_info("query %s to %s: %m", q->name, dns_query_ns(q)->text);
		dns_query_next(q);
		return;
	}
	(void)dns_query_answer(q, pkt, (size_t)n);
}

/* dns_udp_send - one attempt over a fresh socket: 0, -1 no socket, -2 bad
 * name, -3 this nameserver cannot be reached now. */
static int dns_udp_send(struct dns_query *q)
{
	struct dns_ns *ns = dns_query_ns(q);
	struct buf why = BUF_INIT;
	int fd;

	q->qid = dns_random_id();
	if (dns_pkt_query(&q->out, q->qid, q->name, q->type, &why) < 0) {
		buf_free(&why);
		return -2;
	}
	dns_pkt_dnssec(&q->out, q->ds->dnssec);
	buf_free(&why);
	fd = socket(ns->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ns->addr, ns->len) < 0
	    || send(fd, q->out.data, q->out.len, MSG_NOSIGNAL) < 0
	    || event_add(q->ds->loop, fd, EVENT_READ, dns_udp_read, q) < 0) {
		msg_info("query %s to %s: %m", q->name, ns->text);
		(void)close(fd);
		return -3;
	}
	q->fd = fd;
	return 0;
}

static void dns_query_timeout(void *ctx)
{
	struct dns_query *q = ctx;

	q->timer = 0;
	msg_info("query %s type %u to %s: timeout", q->name, q->type, dns_query_ns(q)->text);
	if (q->tcp) {
		dns_query_fail(q, DNS_TEMPFAIL, "Host not found, try again (timeout)");
		return;
	}
	dns_query_next(q);
}

static void dns_query_arm(struct dns_query *q, int64_t ms)
{
	q->timer = event_timer_add(q->ds->loop, ms, dns_query_timeout, q);
}

/* dns_query_try - one more send, to nameserver q->ns. May finish and free q. */
static void dns_query_try(struct dns_query *q)
{
	q->tries++;
	switch (dns_udp_send(q)) {
	case -2:
		dns_query_fail(q, DNS_PERMFAIL, "malformed domain name");
		return;
	case -1:
		dns_query_fail(q, DNS_TEMPFAIL, "cannot create a socket");
		return;
	case -3:
		dns_query_next(q);
		return;
	}
	dns_query_arm(q, q->ds->timeout_ms);
}

void dns_query_start(struct dns_query *q)
{
	q->fd = -1;
	q->tries = 0;
	q->ns = q->ds->first < q->ds->nns ? q->ds->first : 0;
	dns_query_try(q);
}

static int dns_query_answer(struct dns_query *q, const unsigned char *p, size_t len)
{
	struct dns_result res;
	struct buf why = BUF_INIT;

	if (dns_pkt_parse(p, len, q->qid, q->name, q->type, &res, &why) < 0) {
		msg_info("query %s to %s: ignoring a packet: %s", q->name, dns_query_ns(q)->text,
			 buf_str(&why));
		buf_free(&why);
		return 0;
	}
	buf_free(&why);
	if (res.tc && !q->tcp) {
		dns_pkt_result_free(&res);
		dns_tcp_start(q);
		return 1;
	}
	/* SERVFAIL or REFUSED: another nameserver may know better (as glibc). */
	if (res.status == DNS_TEMPFAIL && !q->tcp && q->tries < q->ds->attempts * q->ds->nns
	    && q->ds->nns > 1) {
		msg_info("query %s to %s: %s", q->name, dns_query_ns(q)->text, res.reason);
		dns_pkt_result_free(&res);
		dns_query_next(q);
		return 1;
	}
	q->ds->first = q->ns;	/* it answers: ask it first from now on */
	dns_query_close(q);
	dns_query_done(q, &res);
	dns_pkt_result_free(&res);
	return 1;
}

/* TCP: connect, write the length-prefixed query, read the answer. */
static void dns_tcp_io(int fd, unsigned events, void *ctx)
{
	struct dns_query *q = ctx;

	(void)events;
	if (q->out_done < q->out.len) {
		int err = 0;
		socklen_t elen = sizeof(err);
		ssize_t n;

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			dns_query_fail(q, DNS_TEMPFAIL, "TCP connection to the resolver failed");
			return;
		}
		n = send(fd, q->out.data + q->out_done, q->out.len - q->out_done, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			dns_query_fail(q, DNS_TEMPFAIL, "TCP write to the resolver failed");
			return;
		}
		if (n > 0)
			q->out_done += (size_t)n;
		if (q->out_done == q->out.len)
			(void)event_mod(q->ds->loop, fd, EVENT_READ);
		return;
	}
	for (;;) {
		unsigned char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		size_t want;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || buf_append(&q->in, tmp, (size_t)n) < 0) {
			dns_query_fail(q, DNS_TEMPFAIL, "TCP answer from the resolver failed");
			return;
		}
		if (q->in.len < 2)
			continue;
		want = 2 + (((size_t)(unsigned char)q->in.data[0] << 8) | (unsigned char)q->in.data[1]);
		if (q->in.len >= want) {
			/* Not our answer: nothing else will come on this connection. */
			if (!dns_query_answer(q, (unsigned char *)q->in.data + 2, want - 2))
				dns_query_fail(q, DNS_TEMPFAIL, "bad TCP answer from the resolver");
			return;
		}
	}
}

static void dns_tcp_start(struct dns_query *q)
{
	unsigned char len[2] = { (unsigned char)(q->out.len >> 8), (unsigned char)q->out.len };
	struct buf pkt = BUF_INIT;
	int fd;

	dns_query_close(q);
	q->tcp = 1;
	(void)buf_append(&pkt, len, 2);
	(void)buf_append(&pkt, q->out.data, q->out.len);
	buf_free(&q->out);
	q->out = pkt;
	q->out_done = 0;
	buf_init(&q->in, DNS_TCP_MAX + 2);
	fd = socket(dns_query_ns(q)->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&dns_query_ns(q)->addr, dns_query_ns(q)->len) < 0
		       && errno != EINPROGRESS)
	    || event_add(q->ds->loop, fd, EVENT_WRITE, dns_tcp_io, q) < 0) {
		if (fd >= 0)
			(void)close(fd);
		dns_query_fail(q, DNS_TEMPFAIL, "cannot connect to the resolver over TCP");
		return;
	}
	q->fd = fd;
	dns_query_arm(q, DNS_TCP_MS);
}
