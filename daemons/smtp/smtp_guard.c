/*
 * smtp_guard.c - where the SMTP client may connect: the next hops the
 * administrator configured, and the addresses that must never be tried when
 * they come from anyone else.
 *
 * smtp_guard_init runs in pre_jail (as root, in the host network namespace,
 * with the configuration directory still in reach). It records:
 *   - the configured next hops: relayhost and the next hops of
 *     default_transport and relay_transport, as qmgr writes them into jobs,
 *     and smtp_fallback_relay.
 *     Only these may lead to special addresses (a content filter at
 *     relayhost = [127.0.0.1]:10025 is normal);
 *   - moat's own addresses: inet_interfaces (every interface address of the
 *     host when it is "all"), proxy_interfaces and the hosts named by
 *     master.cf inet services;
 *   - the TCP ports the configured transports use (smtp_tcp_port, the ports
 *     of the configured next hops), which become the Landlock connect rules.
 * A next hop from a table (transport_maps, sender_dependent_relayhost_maps)
 * cannot be listed at start: smtp_guard_named believes it only when this
 * stage, asking the lookup stage itself with qmgr's routing rules
 * (mail/resolve.c), routes every recipient of the job to it. Such tables
 * can name any port, so Landlock then leaves TCP connect to this file: a
 * next hop that is not named gets only smtp_tcp_port.
 * smtp_guard_check judges one address of a next hop that is not configured:
 * loopback, unspecified and moat's own addresses "loop back to myself" as in
 * Postfix; link-local, multicast, broadcast and reserved addresses are never
 * tried either.
 *
 * SECURITY: the next hop comes from qmgr and the addresses from DNS or from
 * a recipient's address literal; neither is trusted here: what qmgr says
 * about where a recipient goes is checked against the configuration and the
 * lookup stage's answers, never taken as a proof that a hop is named.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "daemons/smtp/smtp.h"
#include "stagecf/routes.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "mail/ipclass.h"
#include "mail/nexthop.h"
#include "mail/resolve.h"

/* guard_own_add - one address of ours, 16 bytes (IPv4 as mapped IPv6). */
static void guard_own_add(struct smtp_state *s, int family, const void *a)
{
	unsigned char *slot;

	if (s->nown >= SMTP_OWN_MAX) {
		if (s->nown++ == SMTP_OWN_MAX)	/* once */
			msg_warn("more than %d own addresses: the rest are not refused as ours",
				 SMTP_OWN_MAX);
		return;
	}
	slot = s->own[s->nown++];
	if (family == AF_INET) {
		memset(slot, 0, 10);
		slot[10] = slot[11] = 0xff;
		memcpy(slot + 12, a, 4);
	} else
		memcpy(slot, a, 16);
}

/* guard_own_text - "1.2.3.4", "[::1]", "::1"; names are skipped (the
 * broker binds numeric addresses only). */
static void guard_own_text(struct smtp_state *s, const char *text)
{
	char host[64];
	unsigned char a[16];
	size_t n = strlen(text);

	if (text[0] == '[' && n > 2 && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return;
	memcpy(host, text, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, a) == 1)
		guard_own_add(s, AF_INET, a);
	else if (inet_pton(AF_INET6, host, a) == 1)
		guard_own_add(s, AF_INET6, a);
}

/* guard_own_ifaddrs - every address of every interface (inet_interfaces = all). */
static void guard_own_ifaddrs(struct smtp_state *s)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0) {
		msg_warn("getifaddrs: %m (own interface addresses are not refused)");
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			guard_own_add(s, AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			guard_own_add(s, AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
	}
	freeifaddrs(ifa);
}

/* guard_own_master - the hosts that master.cf inet services listen on. */
static void guard_own_master(struct smtp_state *s, struct conf *c)
{
	struct buf err = BUF_INIT;
	struct master_cf *m = master_load(conf_dir(c), c, &err);

	if (m == NULL) {
		msg_warn("%s", buf_str(&err));
		buf_free(&err);
		return;
	}
	for (size_t i = 0; i < m->nsvc; i++) {
		char *name = m->svc[i].name, *colon = strrchr(name, ':');

		if (strcmp(m->svc[i].type, "inet") != 0 || colon == NULL)
			continue;
		*colon = 0;
		guard_own_text(s, name);
		*colon = ':';
	}
	master_free(m);
	buf_free(&err);
}

/* guard_port_add - a TCP port the configured transports use. */
static void guard_port_add(struct smtp_state *s, unsigned port)
{
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i] == port)
			return;
	if (s->nports < SMTP_PORTS_MAX)
		s->ports[s->nports++] = (uint16_t)port;
}

/* guard_hop_add - a configured next hop ("" is none) and its port. */
static void guard_hop_add(struct smtp_state *s, const char *hop)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;
	size_t n;

	hop += strspn(hop, " \t");
	n = strlen(hop);
	while (n > 0 && (hop[n - 1] == ' ' || hop[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	if (s->nhops >= SMTP_HOPS_MAX) {
		msg_warn("more than %d configured next hops: %s is guarded as one from DNS",
			 SMTP_HOPS_MAX, hop);
		return;
	}
	s->hops[s->nhops] = xmalloc(n + 1);
	memcpy(s->hops[s->nhops], hop, n);
	s->hops[s->nhops][n] = 0;
	if (nexthop_parse(s->hops[s->nhops], s->default_port, &nh, &why) == 0)
		guard_port_add(s, nh.port);
	s->nhops++;
	buf_free(&why);
}

static void guard_transport_hop(struct smtp_state *s, const char *transport)
{
	struct buf service = BUF_INIT, hop = BUF_INIT;

	if (resolve_split_transport(transport, &service, &hop) == 0)
		guard_hop_add(s, buf_str(&hop));
	buf_free(&service);
	buf_free(&hop);
}

/* guard_routes - qmgr's routing, to check next hops that come from tables. */
static void guard_routes(struct smtp_state *s, struct conf *c)
{
	struct buf err = BUF_INIT;
	char *const *tm = conf_list(c, "transport_maps");
	char *const *sdr = conf_list(c, "sender_dependent_relayhost_maps");

	s->route_tables = (tm && *tm) || (sdr && *sdr);
	if (!s->route_tables && s->generic.len == 0)
		return;		/* smtp_generic_maps needs mydestination and the client */
	if (routes_load(&s->res, c, &err) < 0)	/* moatd checked it: main.cf changed since */
		msg_fatal("%s", buf_str(&err));
	resolve_result_init(&s->rr);
	route_lookup_init(&s->route, s->st, &s->res);
	buf_free(&err);
}

void smtp_guard_init(struct smtp_state *s, struct conf *c)
{
	char *const *ifs = conf_list(c, "inet_interfaces");
	char *const *proxy = conf_list(c, "proxy_interfaces");

	guard_port_add(s, s->default_port);
	s->relayhost = (int)s->nhops;
	guard_hop_add(s, conf_str(c, "relayhost"));
	if ((size_t)s->relayhost == s->nhops)
		s->relayhost = -1;
	guard_transport_hop(s, conf_str(c, "default_transport"));
	guard_transport_hop(s, conf_str(c, "relay_transport"));
	for (char *const *fb = conf_list(c, "smtp_fallback_relay"); fb && *fb; fb++)
		guard_hop_add(s, *fb);
	for (; ifs && *ifs; ifs++) {
		if (strcmp(*ifs, "all") == 0)
			guard_own_ifaddrs(s);
		else
			guard_own_text(s, *ifs);
	}
	for (; proxy && *proxy; proxy++)
		guard_own_text(s, *proxy);
	guard_own_master(s, c);
	guard_routes(s, c);
}

int smtp_guard_configured(const struct smtp_state *s, const char *nexthop)
{
	for (size_t i = 0; i < s->nhops; i++)
		if (strcmp(s->hops[i], nexthop) == 0)
			return 1;
	return 0;
}

/* guard_rcpt_routed - does this stage route rcpt to job's next hop too? */
static int guard_rcpt_routed(struct smtp_state *s, struct smtp_job *job, const char *rcpt,
			     struct buf *why)
{
	resolve_addr(&s->res, job->sender, rcpt, &s->rr);
	if (s->rr.cls == RESOLVE_DEFER && strcmp(s->rr.dsn, "4.3.0") == 0) {
		(void)buf_set_str(why, s->rr.reason);
		return SMTP_NAMED_FAIL;
	}
	if ((s->rr.cls != RESOLVE_RELAY && s->rr.cls != RESOLVE_DEFAULT)
	    || !resolve_nexthop_named(&s->rr) || strcmp(s->rr.service, job->transport) != 0
	    || strcmp(s->rr.nexthop, job->nexthop) != 0)
		return SMTP_NAMED_NO;
	return SMTP_NAMED_YES;
}

int smtp_guard_named(struct smtp_state *s, struct smtp_job *job, struct buf *why)
{
	if (job->named) {
		if (job->named == SMTP_NAMED_FAIL)	/* the reason is still the last resolve's */
			(void)buf_set_str(why, s->rr.reason ? s->rr.reason : "table lookup failure");
		return job->named;
	}
	job->named = smtp_guard_configured(s, job->nexthop) ? SMTP_NAMED_YES : SMTP_NAMED_NO;
	if (job->named == SMTP_NAMED_YES || !s->route_tables)
		return job->named;
	for (uint32_t i = 0; i < job->nrcpt; i++)
		if (!job->rcpt[i].done
		    && (job->named = guard_rcpt_routed(s, job, job->rcpt[i].addr, why)) != SMTP_NAMED_YES)
			break;
	route_lookup_done(&s->route);
	return job->named;
}

int smtp_guard_is_relayhost(const struct smtp_state *s, const char *nexthop)
{
	return s->relayhost >= 0 && strcmp(s->hops[s->relayhost], nexthop) == 0;
}

/* guard_is_own - one of the addresses recorded at start. */
static int guard_is_own(const struct smtp_state *s, const struct smtp_addr *a)
{
	unsigned char b[16];

	if (a->family == AF_INET) {
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
		if (inet_pton(AF_INET, a->addr, b + 12) != 1)
			return 0;
	} else if (inet_pton(AF_INET6, a->addr, b) != 1)
		return 0;
	for (size_t i = 0; i < s->nown && i < SMTP_OWN_MAX; i++)
		if (memcmp(s->own[i], b, 16) == 0)
			return 1;
	return 0;
}

int smtp_guard_inward(const struct smtp_state *s, const struct smtp_addr *a)
{
	const char *what;

	return a->port != s->default_port || smtp_guard_check(s, a, &what) != SMTP_GUARD_OK;
}

int smtp_guard_check(const struct smtp_state *s, const struct smtp_addr *a, const char **what)
{
	int cls = ipclass_of_text(a->addr);

	if (cls < 0) {
		*what = "malformed";
		return SMTP_GUARD_SPECIAL;
	}
	if (ipclass_is_self((enum ipclass)cls)) {
		*what = ipclass_name((enum ipclass)cls);
		return SMTP_GUARD_SELF;
	}
	if (guard_is_own(s, a)) {
		*what = "own";
		return SMTP_GUARD_SELF;
	}
	if (cls != IPCLASS_ROUTABLE) {
		*what = ipclass_name((enum ipclass)cls);
		return SMTP_GUARD_SPECIAL;
	}
	return SMTP_GUARD_OK;
}
