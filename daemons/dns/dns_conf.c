/*
 * dns_conf.c - which resolvers the dns stage asks, and how patiently.
 *
 * Called once from the dns stage's pre_jail hook (as root, before
 * confinement): the nameservers of dns_resolver_address from main.cf, a
 * list ("127.0.0.1:5353, [::1]:53, 192.0.2.1"), or else every "nameserver"
 * line of /etc/resolv.conf (up to DNS_NS_MAX), or else 127.0.0.1. Port
 * default 53. From resolv.conf also "options timeout:N attempts:N" (glibc's
 * meaning: seconds per try, rounds over all servers; capped at 30 and 5);
 * without them DNS_TIMEOUT_MS and DNS_ATTEMPTS. The file is the host's own
 * configuration, but it is still parsed with bounds and checks.
 *
 * SECURITY: runs before confinement; reads only /etc/resolv.conf.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "daemons/dns/dns.h"
#include "lib/msg.h"
#include "lib/strnum.h"

/* dns_conf_set - host text (no brackets) and port as the next nameserver; -1 if bad. */
static int dns_conf_set(struct dns_state *ds, const char *host, unsigned port)
{
	struct dns_ns *ns = &ds->ns[ds->nns];
	struct sockaddr_in *sin = (struct sockaddr_in *)&ns->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ns->addr;

	if (ds->nns >= DNS_NS_MAX)
		return 0;	/* more than we use: ignored, as the resolver does */
	memset(ns, 0, sizeof(*ns));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ns->len = sizeof(*sin);
		snprintf(ns->text, sizeof(ns->text), "%s:%u", host, port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ns->len = sizeof(*sin6);
		snprintf(ns->text, sizeof(ns->text), "[%s]:%u", host, port);
	} else
		return -1;
	ds->nns++;
	for (size_t i = 0; i < ds->nports; i++)
		if (ds->ports[i] == port)
			return 0;
	ds->ports[ds->nports++] = (uint16_t)port;
	return 0;
}

/* dns_conf_parse - "addr", "addr:port", "[addr]" or "[addr]:port". */
static int dns_conf_parse(const char *text, struct dns_state *ds)
{
	char host[64];
	const char *port = NULL, *h = text;
	size_t n;
	uint64_t p = 53;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || (close[1] && close[1] != ':'))
			return -1;
		h = text + 1;
		n = (size_t)(close - h);
		if (close[1] == ':')
			port = close + 2;
	} else {
		const char *colon = strchr(text, ':');

		/* One colon: IPv4 with a port; more: a bare IPv6 address. */
		if (colon && strchr(colon + 1, ':') == NULL) {
			n = (size_t)(colon - text);
			port = colon + 1;
		} else
			n = strlen(text);
	}
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, h, n);
	host[n] = 0;
	if (port && strnum_u64(port, 1, 65535, &p) < 0)
		return -1;
	return dns_conf_set(ds, host, (unsigned)p);
}

/* dns_conf_option - "timeout:N" or "attempts:N" of an options line. */
static void dns_conf_option(struct dns_state *ds, const char *opt, size_t len)
{
	char val[16];
	uint64_t v;

	if (len > 8 && strncmp(opt, "timeout:", 8) == 0 && len - 8 < sizeof(val)) {
		memcpy(val, opt + 8, len - 8);
		val[len - 8] = 0;
		if (strnum_u64(val, 1, 30, &v) == 0)
			ds->timeout_ms = (int64_t)v * 1000;
	} else if (len > 9 && strncmp(opt, "attempts:", 9) == 0 && len - 9 < sizeof(val)) {
		memcpy(val, opt + 9, len - 9);
		val[len - 9] = 0;
		if (strnum_u64(val, 1, 5, &v) == 0)
			ds->attempts = (int)v;
	}
}

/* dns_conf_line - one line of resolv.conf: a nameserver or options. */
static void dns_conf_line(struct dns_state *ds, char *p)
{
	char *end;

	if (strncmp(p, "options", 7) == 0 && (p[7] == ' ' || p[7] == '\t')) {
		for (p += 7; *(p += strspn(p, " \t\r\n")); p += strcspn(p, " \t\r\n"))
			dns_conf_option(ds, p, strcspn(p, " \t\r\n"));
		return;
	}
	if (strncmp(p, "nameserver", 10) != 0 || (p[10] != ' ' && p[10] != '\t'))
		return;
	p += 10;
	p += strspn(p, " \t");
	end = p + strcspn(p, " \t\r\n%");	/* no IPv6 zone ids */
	if (end == p || end - p >= 64)
		return;
	*end = 0;
	if (dns_conf_set(ds, p, 53) < 0)
		msg_warn("/etc/resolv.conf: nameserver %s: not an address", p);
}

/* dns_conf_resolv - every nameserver and the options of a resolv.conf. */
static void dns_conf_resolv(struct dns_state *ds, const char *path)
{
	FILE *fp = fopen(path, "re");
	char line[512];

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp))
		dns_conf_line(ds, line);
	fclose(fp);
}

int dns_conf_resolver(char *const *param, struct dns_state *ds)
{
	ds->nns = 0;
	ds->nports = 0;
	ds->timeout_ms = DNS_TIMEOUT_MS;
	ds->attempts = DNS_ATTEMPTS;
	if (param && *param) {
		for (; *param; param++)
			if (dns_conf_parse(*param, ds) < 0) {
				msg_error("dns_resolver_address = %s: not an address[:port]", *param);
				return -1;
			}
		return 0;
	}
	dns_conf_resolv(ds, "/etc/resolv.conf");
	if (ds->nns > 0)
		return 0;
	msg_warn("no usable nameserver in /etc/resolv.conf; using 127.0.0.1");
	return dns_conf_set(ds, "127.0.0.1", 53);
}

/* dns_conf_text - "a:53, b:53 (timeout 2 s, 2 attempts)" for the start-up line. */
void dns_conf_text(const struct dns_state *ds, struct buf *out)
{
	for (int i = 0; i < ds->nns; i++)
		(void)buf_printf(out, "%s%s", i ? ", " : "", ds->ns[i].text);
	(void)buf_printf(out, " (timeout %lld ms, %d attempts)", (long long)ds->timeout_ms,
			 ds->attempts);
}

/* dns_conf_warn_remote - with DNSSEC the AD bit is believed: say so when a
 * resolver is not on this host, where the path to it could forge the bit. */
void dns_conf_warn_remote(const struct dns_state *ds)
{
	for (int i = 0; i < ds->nns; i++) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ds->ns[i].addr;
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ds->ns[i].addr;
		int local = sin->sin_family == AF_INET
			? (ntohl(sin->sin_addr.s_addr) >> 24) == 127
			: IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);

		if (!local)
			msg_warn("smtp_dns_support_level = dnssec: resolver %s is not on this host: "
				 "the AD bit of its answers is believed, and the network can forge it",
				 ds->ns[i].text);
	}
}
