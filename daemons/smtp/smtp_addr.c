/*
 * smtp_addr.c - from a next hop to the ordered list of addresses to try.
 *
 * Called by smtp.c once per job (unless a cached connection serves it).
 * "[host]" and disable_dns_lookups: the host's own A/AAAA records; an IP
 * literal: itself; "host": its MX records sorted by preference (equal
 * preferences shuffled), each MX host's addresses in turn, up to
 * smtp_mx_address_limit; no MX records: the domain's own addresses (RFC 5321
 * 5.1 implicit MX). An MX list that names this host (myhostname) keeps only
 * the MX hosts better than us; none left means the mail loops back to us.
 * Results that end the job (bounce, defer) come back with a Postfix-style
 * reason and DSN code. A next hop that the configuration does not name
 * (smtp_guard.c) never leads to loopback, link-local, multicast, reserved
 * or our own addresses: they are dropped, and when none is left the mail
 * "loops back to myself"; nor to a port but smtp_tcp_port. Whether a next
 * hop from a table is named is asked only when it leads to such an address
 * or port, so mail to public MX hosts costs no lookups here.
 *
 * SECURITY: names and addresses come from DNS via the dns stage and are
 * untrusted; host names are checked, addresses parsed with inet_pton later.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "mail/nexthop.h"

#define SMTP_MX_MAX	32

static const char *addr_type_name(uint32_t type)
{
	return type == DNS_T_A ? "A" : type == DNS_T_AAAA ? "AAAA" : "MX";
}

/* addr_fail - the reason text Postfix gives for a failed lookup. */
static void addr_fail(struct buf *reason, const char *name, uint32_t type, const char *why)
{
	buf_reset(reason);
	(void)buf_printf(reason, "Host or domain name not found. Name service error for "
			 "name=%s type=%s: %s", name, addr_type_name(type), why);
}

static uint32_t addr_random(void)
{
	uint32_t r = 0;

	(void)getrandom(&r, sizeof(r), GRND_NONBLOCK);
	return r;
}

/* addr_shuffle - a host's addresses in random order (equal preference). */
static void addr_shuffle(struct smtp_dns_rr *rr, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = addr_random() % i;
		struct smtp_dns_rr t = rr[i - 1];

		rr[i - 1] = rr[j];
		rr[j] = t;
	}
}

/* addr_host - append the addresses of one host; the worst DNS status. */
static int addr_host(struct smtp_state *s, const char *host, unsigned port, unsigned pref,
		     struct smtp_addr *out, size_t *n, size_t max, struct buf *reason)
{
	struct smtp_dns_rr *rr = xcalloc(SMTP_ADDR_MAX, sizeof(*rr));
	uint32_t types[2];
	int ntypes = 0, tempfail = 0, found = 0;

	if (s->want4 && !(s->prefer6 && s->want6))
		types[ntypes++] = DNS_T_A;
	if (s->want6)
		types[ntypes++] = DNS_T_AAAA;
	if (s->want4 && s->prefer6 && s->want6)
		types[ntypes++] = DNS_T_A;
	for (int t = 0; t < ntypes; t++) {
		struct buf why = BUF_INIT;
		size_t nrr = 0;
		int st = smtp_dns_lookup(s, host, types[t], rr, SMTP_ADDR_MAX, &nrr, &why);

		if (st == DNS_OK) {
			if (s->randomize)
				addr_shuffle(rr, nrr);
			for (size_t i = 0; i < nrr && *n < max; i++) {
				struct smtp_addr *a = &out[(*n)++];

				snprintf(a->host, sizeof(a->host), "%s", host);
				snprintf(a->addr, sizeof(a->addr), "%s", rr[i].value);
				a->family = types[t] == DNS_T_A ? AF_INET : AF_INET6;
				a->port = port;
				a->pref = pref;
				a->mx_secure = -1;
				a->host_secure = s->dns_secure;
				found = 1;
			}
		} else if (st == DNS_TEMPFAIL || !tempfail) {
			tempfail |= st == DNS_TEMPFAIL;
			addr_fail(reason, host, types[t], buf_str(&why));
		}
		buf_free(&why);
	}
	xfree(rr);
	return found ? DNS_OK : tempfail ? DNS_TEMPFAIL : DNS_NOTFOUND;
}

/* addr_sort_mx - by preference; equal preferences in random order
 * (smtp_randomize_addresses), else in the order DNS gave them. */
static void addr_sort_mx(struct smtp_state *s, struct smtp_dns_rr *mx, size_t n, uint32_t *key)
{
	for (size_t i = 0; i < n; i++)
		key[i] = s->randomize ? addr_random() : 0;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && (mx[j].pref < mx[j - 1].pref
			|| (mx[j].pref == mx[j - 1].pref && key[j] < key[j - 1])); j--) {
			struct smtp_dns_rr t = mx[j];
			uint32_t k = key[j];

			mx[j] = mx[j - 1];
			mx[j - 1] = t;
			key[j] = key[j - 1];
			key[j - 1] = k;
		}
}

/* addr_strip_self - drop MX hosts no better than us; 0 if none is left. */
static size_t addr_strip_self(struct smtp_state *s, struct smtp_dns_rr *mx, size_t n)
{
	int self = -1;
	size_t keep = 0;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(mx[i].value, s->myhostname) == 0 && (self < 0 || mx[i].pref < self))
			self = mx[i].pref;
	if (self < 0)
		return n;
	for (size_t i = 0; i < n; i++)
		if (mx[i].pref < self)
			mx[keep++] = mx[i];
	return keep;
}

/* addr_mx - MX lookup and the addresses of each MX host. */
static int addr_mx(struct smtp_state *s, const char *domain, unsigned port, struct smtp_addr *out,
		   size_t *n, size_t max, struct buf *reason, char dsn[16])
{
	struct smtp_dns_rr *mx = xcalloc(SMTP_MX_MAX, sizeof(*mx));
	uint32_t key[SMTP_MX_MAX];
	struct buf why = BUF_INIT;
	size_t nmx = 0;
	int st = smtp_dns_lookup(s, domain, DNS_T_MX, mx, SMTP_MX_MAX, &nmx, &why), result;
	int mx_secure = s->dns_secure;	/* also for NODATA: the implicit MX */

	if (st == DNS_NODATA || (st == DNS_OK && nmx == 0)) {
		/* RFC 5321 5.1: no MX records, the domain is its own MX. */
		nmx = 1;
		mx[0].pref = 0;
		snprintf(mx[0].value, sizeof(mx[0].value), "%s", domain);
	} else if (st != DNS_OK) {
		addr_fail(reason, domain, DNS_T_MX, buf_str(&why));
		memcpy(dsn, st == DNS_TEMPFAIL ? "4.4.3" : "5.1.2", 6);
		result = st == DNS_TEMPFAIL ? DELIVER_DEFER : DELIVER_BOUNCE;
		goto out;
	}
	if (nmx == 1 && strcmp(mx[0].value, ".") == 0) {
		buf_reset(reason);
		(void)buf_printf(reason, "Domain %s does not accept mail (nullMX)", domain);
		memcpy(dsn, "5.1.10", 7);
		result = DELIVER_BOUNCE;
		goto out;
	}
	addr_sort_mx(s, mx, nmx, key);
	if ((nmx = addr_strip_self(s, mx, nmx)) == 0) {
		buf_reset(reason);
		(void)buf_printf(reason, "mail for %s loops back to myself", domain);
		memcpy(dsn, "5.4.6", 6);
		result = DELIVER_BOUNCE;
		goto out;
	}
	result = DELIVER_BOUNCE;
	memcpy(dsn, "5.4.4", 6);
	for (size_t i = 0; i < nmx && *n < max; i++) {
		size_t first = *n;

		if (!nexthop_valid_hostname(mx[i].value, strlen(mx[i].value)))
			continue;
		st = addr_host(s, mx[i].value, port, mx[i].pref, out, n, max, reason);
		for (size_t j = first; j < *n; j++)
			out[j].mx_secure = mx_secure;
		if (st == DNS_TEMPFAIL) {
			result = DELIVER_DEFER;
			memcpy(dsn, "4.4.3", 6);
		}
	}
	if (*n > 0)
		result = DELIVER_SENT;
	else if (reason->len == 0)
		addr_fail(reason, domain, DNS_T_MX, "no usable MX host");
	if (result == DELIVER_BOUNCE && s->defer_no_mx_addr) {
		result = DELIVER_DEFER;		/* smtp_defer_if_no_mx_address_found */
		memcpy(dsn, "4.4.4", 6);
	}
out:
	buf_free(&why);
	xfree(mx);
	return result;
}

/*
 * addr_guard - drop the addresses a next hop that is not configured must
 * never lead to. As in Postfix, one of our own addresses (or loopback) at
 * some MX preference means we are an MX host of the destination: only
 * better MX hosts are left. Nothing left: "mail for X loops back to myself",
 * a bounce when the mail would come back to us (as Postfix), else deferred.
 */
static int addr_guard(struct smtp_state *s, struct smtp_job *job, const char *dest,
		      struct smtp_addr *out, size_t *n, struct buf *reason, char dsn[16])
{
	unsigned self_pref = UINT_MAX;
	const char *what;
	size_t keep = 0;

	for (size_t i = 0; i < *n; i++)
		if (smtp_guard_check(s, &out[i], &what) == SMTP_GUARD_SELF && out[i].pref < self_pref)
			self_pref = out[i].pref;
	for (size_t i = 0; i < *n; i++) {
		int g = smtp_guard_check(s, &out[i], &what);

		if (g == SMTP_GUARD_OK && out[i].pref < self_pref)
			out[keep++] = out[i];
		else if (g != SMTP_GUARD_OK)
			msg_warn("%s: mail for %s: not connecting to %s[%s]: %s address", job->queue_id,
				 dest, out[i].host, out[i].addr, what);
	}
	*n = keep;
	if (keep > 0)
		return DELIVER_SENT;
	buf_reset(reason);
	(void)buf_printf(reason, "mail for %s loops back to myself", dest);
	memcpy(dsn, self_pref != UINT_MAX ? "5.4.6" : "4.4.6", 6);
	return self_pref != UINT_MAX ? DELIVER_BOUNCE : DELIVER_DEFER;
}

/* addr_lookup - the addresses of a parsed next hop, unfiltered. */
static int addr_lookup(struct smtp_state *s, const struct nexthop *nh, struct smtp_addr *out,
		       size_t *n, struct buf *reason, char dsn[16])
{
	size_t max = SMTP_ADDR_MAX;
	int st;

	if (s->addr_limit > 0 && (size_t)s->addr_limit < max)
		max = (size_t)s->addr_limit;
	if (nh->family) {
		snprintf(out[0].host, sizeof(out[0].host), "%s", nh->host);
		snprintf(out[0].addr, sizeof(out[0].addr), "%.63s", nh->host);
		out[0].family = nh->family;
		out[0].port = nh->port;
		out[0].pref = 0;
		out[0].mx_secure = -1;
		out[0].host_secure = 0;		/* no name: no TLSA */
		*n = 1;
		return DELIVER_SENT;
	}
	if (!nh->no_mx && !s->disable_dns)
		return addr_mx(s, nh->host, nh->port, out, n, max, reason, dsn);
	st = addr_host(s, nh->host, nh->port, 0, out, n, max, reason);
	if (st == DNS_OK)
		return DELIVER_SENT;
	memcpy(dsn, st == DNS_TEMPFAIL ? "4.4.3" : "5.4.4", 6);
	return st == DNS_TEMPFAIL ? DELIVER_DEFER : DELIVER_BOUNCE;
}

/* addr_inward - an address or a port only a named next hop may lead to? */
static int addr_inward(const struct smtp_state *s, const struct nexthop *nh,
		       const struct smtp_addr *out, size_t n)
{
	if (nh->port != s->default_port)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (smtp_guard_inward(s, &out[i]))
			return 1;
	return 0;
}

/* addr_unnamed_port - a port the configuration does not give this next hop. */
static int addr_unnamed_port(const struct smtp_job *job, const struct nexthop *nh,
			     struct buf *reason, char dsn[16])
{
	msg_warn("%s: next hop %s: port %u is not one the configuration names for it",
		 job->queue_id, job->nexthop, nh->port);
	buf_reset(reason);
	(void)buf_printf(reason, "next-hop destination \"%s\" is not in the configuration",
			 job->nexthop);
	memcpy(dsn, "4.3.5", 6);
	return DELIVER_DEFER;
}

int smtp_addr_list(struct smtp_state *s, struct smtp_job *job, const char *nexthop,
		   struct smtp_addr *out, size_t *n, struct buf *reason, char dsn[16])
{
	struct nexthop nh;
	int st, named;

	*n = 0;
	if (nexthop_parse(nexthop, s->default_port, &nh, reason) < 0) {
		buf_reset(reason);
		(void)buf_printf(reason, "malformed next-hop destination \"%s\"", nexthop);
		memcpy(dsn, "4.3.5", 6);
		return DELIVER_DEFER;
	}
	st = addr_lookup(s, &nh, out, n, reason, dsn);
	if (st != DELIVER_SENT || smtp_guard_configured(s, nexthop) || !addr_inward(s, &nh, out, *n))
		return st;
	named = smtp_guard_named(s, job, reason);
	if (named == SMTP_NAMED_FAIL) {
		*n = 0;
		memcpy(dsn, "4.3.0", 6);
		return DELIVER_DEFER;
	}
	if (named == SMTP_NAMED_YES)
		return st;
	if (nh.port != s->default_port) {
		*n = 0;
		return addr_unnamed_port(job, &nh, reason, dsn);
	}
	return addr_guard(s, job, nh.host, out, n, reason, dsn);
}
