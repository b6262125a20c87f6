/*
 * smtpd_dns.c - the client's host name: PTR lookup, then forward confirmation.
 *
 * Called by smtpd.c once per connection, before the "connect from" line
 * (screen has sent the greeting already). As in Postfix, the PTR name of the client address becomes
 * the client name only if a forward lookup of that name (A for an IPv4
 * client, AAAA for IPv6) returns the client's own address; otherwise the
 * name is "unknown", and the unverified PTR name is kept as the reverse
 * client name. smtpd has no network: every query goes to the dns stage
 * over IPC, on a channel asked from the broker once and kept across the
 * sessions of this process. The whole lookup has one time budget; a
 * missing, refusing, broken or silent dns stage makes the name "unknown"
 * and never holds the client longer than that.
 *
 * SECURITY: a PTR name is chosen by whoever controls the reverse zone of
 * the client's address. It is used only after hostname_valid (letters,
 * digits, '-', dots, DNS lengths, not numeric); when refused it is logged
 * with anything unprintable masked. Answers are matched by query id; an
 * answer to an older query (one that ran out of time) is skipped, never
 * believed. This file must never wait past the budget, and never let a PTR
 * record name the client without the forward check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/mailproto.h"
#include "lib/event.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "mail/hostname.h"

#define SMTPD_DNS_BUDGET_MS	5000	/* PTR and forward lookup together */
#define SMTPD_DNS_RETRY_MS	60000	/* after the broker had no dns channel for us */

static struct ipc_chan dns_chan;
static int dns_have;
static uint32_t dns_id;
static int64_t dns_retry_at;	/* no new channel request before this time */

/* dns_connect - the kept channel, or a new one; -1 at once if there is none to be had. */
static int dns_connect(struct smtpd_session *s)
{
	pid_t pid = 0;
	int fd;

	if (dns_have)
		return 0;
	if (event_now_ms() < dns_retry_at)
		return -1;
	/* Without a dns service the broker says no at once; don't ask for every client. */
	if ((fd = stage_request_peer(s->st, "dns", &pid)) < 0) {
		dns_retry_at = event_now_ms() + SMTPD_DNS_RETRY_MS;
		return -1;
	}
	if (iox_set_nonblock(fd, 1) < 0) {
		msg_warn("dns channel: %m");
		if (close(fd) < 0)
			msg_warn("close dns channel: %m");
		return -1;
	}
	ipc_chan_init(&dns_chan, fd, IPC_CHAN_DNS, IPC_SIDE_A, "dns", pid);
	dns_have = 1;
	return 0;
}

/* dns_drop - the channel is broken (r: IPC_RECV_*); the next lookup asks again. */
static void dns_drop(struct smtpd_session *s, int r)
{
	if (r == IPC_RECV_VIOLATION)
		stage_report_violation(s->st, &dns_chan, buf_str(&dns_chan.why));
	else
		msg_warn("dns channel: %s", r == IPC_RECV_EOF ? "closed by the dns service"
			 : buf_str(&dns_chan.why));
	ipc_chan_close(&dns_chan);
	dns_have = 0;
}

/* dns_wait - 1 when the channel is readable, 0 when the deadline passed. */
static int dns_wait(int64_t deadline)
{
	struct pollfd p = { dns_chan.fd, POLLIN, 0 };
	int64_t left;
	int r;

	do {
		if ((left = deadline - event_now_ms()) <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		msg_warn("poll dns channel: %m");
	return r > 0;
}

/* dns_lookup - one query; each record's value goes to fn. A DNS_* status (no answer: TEMPFAIL). */
static int dns_lookup(struct smtpd_session *s, const char *name, uint32_t type,
		      int64_t deadline, smtpd_dns_fn *fn, void *ctx)
{
	struct ipc_dns_query q = { .id = ++dns_id, .name = name, .type = type };
	struct ipc_msg m;
	int status = -1, r;

	if (dns_connect(s) < 0)
		return DNS_TEMPFAIL;
	if (ipc_chan_send(&dns_chan, MSG_DNS_QUERY, &q) < 0) {
		dns_drop(s, IPC_RECV_ERROR);
		return DNS_TEMPFAIL;
	}
	ipc_msg_init(&m);
	while (status < 0 && dns_wait(deadline)) {
		if ((r = ipc_chan_recv(&dns_chan, &m)) == IPC_RECV_AGAIN)
			continue;
		if (r != IPC_RECV_MSG) {
			dns_drop(s, r);
			status = DNS_TEMPFAIL;
		} else if (m.type == MSG_DNS_RR && m.u.dns_rr.id == q.id && m.u.dns_rr.type == type) {
			fn(m.u.dns_rr.value, m.u.dns_rr.pref, ctx);
		} else if (m.type == MSG_DNS_END && m.u.dns_end.id == q.id) {
			status = (int)m.u.dns_end.status;
		}
	}
	ipc_msg_free(&m);
	if (status < 0) {
		msg_warn("%s: no answer from the dns service about %s in time", s->addr, name);
		status = DNS_TEMPFAIL;
	}
	return status;
}

/* The PTR value: the first record, as getnameinfo would give it. */
struct dns_ptr {
	struct buf value;
	int got;
};

static void dns_ptr_first(const char *value, uint32_t pref, void *ctx)
{
	(void)pref;
	struct dns_ptr *p = ctx;

	if (!p->got && buf_set_str(&p->value, value) == 0)
		p->got = 1;
}

/* The forward check: does any address record hold the client's address? */
struct dns_fwd {
	const struct smtpd_session *s;
	int match;
};

static void dns_fwd_match(const char *value, uint32_t pref, void *ctx)
{
	struct dns_fwd *f = ctx;
	unsigned char a[16] = { 0 };

	(void)pref;
	if (inet_pton(f->s->family, value, a) == 1
	    && memcmp(a, f->s->ip, f->s->family == AF_INET ? 4 : 16) == 0)
		f->match = 1;
}

/* dns_warn_malformed - a PTR value we will not use, logged with only printable bytes. */
static void dns_warn_malformed(struct smtpd_session *s, const char *value)
{
	buf_reset(&s->line);
	for (const char *p = value; *p && s->line.len < HOSTNAME_MAX + 2; p++)
		(void)buf_putc(&s->line, *p > 32 && *p < 127 ? *p : '?');
	msg_warn("%s: malformed or numeric hostname in PTR record: %s", s->addr, buf_str(&s->line));
}

/* dns_gai_text - the getaddrinfo text Postfix logs for a failed forward lookup. */
static const char *dns_gai_text(int status)
{
	switch (status) {
	case DNS_NOTFOUND:
		return "Name or service not known";
	case DNS_NODATA:
		return "No address associated with hostname";
	case DNS_TEMPFAIL:
		return "Temporary failure in name resolution";
	default:
		return "Non-recoverable failure in name resolution";
	}
}

/* dns_reverse - the PTR step: 0 with s->reverse_name set, or -1. */
static int dns_reverse(struct smtpd_session *s, int64_t deadline)
{
	struct dns_ptr ptr = { BUF_INIT, 0 };
	int r, ok = -1;

	if (hostname_reverse(s->family, s->ip, &s->line) < 0)
		return -1;
	buf_init(&ptr.value, 512);
	r = dns_lookup(s, buf_str(&s->line), DNS_T_PTR, deadline, dns_ptr_first, &ptr);
	if (r != DNS_OK || !ptr.got) {
		s->reverse_status = s->name_status = r == DNS_TEMPFAIL ? SMTPD_PEER_TEMP
						     : SMTPD_PEER_PERM;
	} else if (hostname_from_dns(buf_str(&ptr.value), &s->namebuf) < 0) {
		dns_warn_malformed(s, buf_str(&ptr.value));
	} else {
		s->reverse_name = buf_str(&s->namebuf);
		s->reverse_status = SMTPD_PEER_OK;
		ok = 0;
	}
	buf_free(&ptr.value);
	return ok;
}

void smtpd_dns_client_name(struct smtpd_session *s)
{
	int64_t deadline = event_now_ms() + SMTPD_DNS_BUDGET_MS;
	struct dns_fwd fwd = { s, 0 };
	int r;

	s->name = s->reverse_name = "unknown";
	s->name_status = s->reverse_status = SMTPD_PEER_PERM;
	buf_reset(&s->namebuf);
	if (!s->cf->peername_lookup || dns_reverse(s, deadline) < 0)
		return;
	r = dns_lookup(s, s->reverse_name, s->family == AF_INET ? DNS_T_A : DNS_T_AAAA, deadline,
		       dns_fwd_match, &fwd);
	if (r != DNS_OK) {
		msg_warn("%s: hostname %s verification failed: %s", s->addr, s->reverse_name,
			 dns_gai_text(r));
		s->name_status = r == DNS_TEMPFAIL ? SMTPD_PEER_TEMP : SMTPD_PEER_FORGED;
	} else if (!fwd.match) {
		msg_warn("%s: address not listed for hostname %s", s->addr, s->reverse_name);
		s->name_status = SMTPD_PEER_FORGED;
	} else {
		s->name = s->reverse_name;
		s->name_status = SMTPD_PEER_OK;
	}
}

int smtpd_dns_query(struct smtpd_session *s, const char *name, uint32_t type, int ms,
		    smtpd_dns_fn *fn, void *ctx)
{
	return dns_lookup(s, name, type, event_now_ms() + ms, fn, ctx);
}
