/*
 * dns_conf.c - which resolver the dns stage asks.
 *
 * Called once from the dns stage's pre_jail hook (as root, before
 * confinement): dns_resolver_address from main.cf ("127.0.0.1:5353",
 * "[::1]:53", "192.0.2.1", "::1"), or else the first "nameserver" line of
 * /etc/resolv.conf, or else 127.0.0.1. Port default 53. The file is the
 * host's own configuration, but it is still parsed with bounds and checks.
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

/* dns_conf_set - host text (no brackets) and port into ds->ns; -1 if bad. */
static int dns_conf_set(struct dns_state *ds, const char *host, unsigned port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ds->ns;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ds->ns;

	memset(&ds->ns, 0, sizeof(ds->ns));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ds->nslen = sizeof(*sin);
		snprintf(ds->ns_text, sizeof(ds->ns_text), "%s:%u", host, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ds->nslen = sizeof(*sin6);
		snprintf(ds->ns_text, sizeof(ds->ns_text), "[%s]:%u", host, port);
		return 0;
	}
	return -1;
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

/* dns_conf_resolv - the first nameserver of /etc/resolv.conf into buf. */
static int dns_conf_resolv(char *out, size_t outlen)
{
	FILE *fp = fopen("/etc/resolv.conf", "re");
	char line[512];
	int found = -1;

	if (fp == NULL)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), fp)) {
		char *p = line, *end;

		if (strncmp(p, "nameserver", 10) != 0 || (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		p += strspn(p, " \t");
		end = p + strcspn(p, " \t\r\n%");	/* no IPv6 zone ids */
		if (end == p || (size_t)(end - p) >= outlen)
			continue;
		memcpy(out, p, (size_t)(end - p));
		out[end - p] = 0;
		found = 0;
	}
	fclose(fp);
	return found;
}

int dns_conf_resolver(const char *param, struct dns_state *ds)
{
	char ns[64];

	if (param && param[0]) {
		if (dns_conf_parse(param, ds) < 0) {
			msg_error("dns_resolver_address = %s: not an address[:port]", param);
			return -1;
		}
		return 0;
	}
	if (dns_conf_resolv(ns, sizeof(ns)) == 0 && dns_conf_set(ds, ns, 53) == 0)
		return 0;
	msg_warn("no usable nameserver in /etc/resolv.conf; using 127.0.0.1");
	return dns_conf_set(ds, "127.0.0.1", 53);
}
