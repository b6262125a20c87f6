/*
 * nexthop.c - parse "[host]:port", "host:port", "host" and IP literals.
 *
 * Called by the smtp stage for MSG_DELIVER_JOB.nexthop (which qmgr built from
 * relayhost, transport_maps or the recipient domain) and by tests. The text
 * comes from configuration or from a recipient domain, so it is checked as
 * untrusted: a host name must be a syntactically valid DNS name, a bracketed
 * address must parse with inet_pton, a port must be 1..65535.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/strnum.h"
#include "mail/nexthop.h"

int nexthop_port(const char *s, unsigned *port)
{
	static const struct { const char *name; unsigned port; } svc[] = {
		{ "smtp", 25 }, { "lmtp", 24 }, { "submission", 587 }, { "smtps", 465 },
		{ "submissions", 465 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++)
		if (strcasecmp(s, svc[i].name) == 0) {
			*port = svc[i].port;
			return 0;
		}
	if (strnum_u64(s, 1, 65535, &v) < 0)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int nexthop_valid_hostname(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		      || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* nexthop_literal - the inside of [...]: an address, or a host name. */
static int nexthop_literal(const char *in, size_t n, struct nexthop *nh, struct buf *why)
{
	unsigned char tmp[16];

	if (n >= 5 && strncasecmp(in, "ipv6:", 5) == 0) {
		in += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(nh->host)) {
		buf_set_str(why, "bad host in brackets");
		return -1;
	}
	memcpy(nh->host, in, n);
	nh->host[n] = 0;
	if (inet_pton(AF_INET, nh->host, tmp) == 1)
		nh->family = AF_INET;
	else if (inet_pton(AF_INET6, nh->host, tmp) == 1)
		nh->family = AF_INET6;
	else if (!nexthop_valid_hostname(nh->host, n)) {
		buf_set_str(why, "bad host in brackets");
		return -1;
	}
	return 0;
}

int nexthop_parse(const char *s, unsigned default_port, struct nexthop *nh, struct buf *why)
{
	const char *port = NULL;
	size_t n;

	memset(nh, 0, sizeof(*nh));
	nh->port = default_port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || (close[1] != 0 && close[1] != ':')) {
			buf_set_str(why, "malformed [host] next hop");
			return -1;
		}
		if (nexthop_literal(s + 1, (size_t)(close - s - 1), nh, why) < 0)
			return -1;
		nh->no_mx = 1;
		if (close[1] == ':')
			port = close + 2;
	} else {
		const char *colon = strchr(s, ':');

		n = colon ? (size_t)(colon - s) : strlen(s);
		if (!nexthop_valid_hostname(s, n) || n >= sizeof(nh->host)) {
			buf_set_str(why, "malformed next-hop host name");
			return -1;
		}
		memcpy(nh->host, s, n);
		nh->host[n] = 0;
		if (colon)
			port = colon + 1;
	}
	if (port && nexthop_port(port, &nh->port) < 0) {
		buf_set_str(why, "bad next-hop port");
		return -1;
	}
	return 0;
}
