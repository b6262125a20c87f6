/*
 * nexthop.h - parse a Postfix next-hop destination.
 *
 *   host           MX lookup of host, port default
 *   host:port      MX lookup of host, that port
 *   [host]         no MX lookup: the host's own addresses
 *   [host]:port
 *   [1.2.3.4]:port an IPv4 literal, no DNS at all
 *   [2001:db8::1]  an IPv6 literal ("[ipv6:2001:db8::1]" too)
 *
 * port is decimal or a service name (smtp = 25, lmtp = 24, submission = 587).
 */
#ifndef MOAT_MAIL_NEXTHOP_H
#define MOAT_MAIL_NEXTHOP_H

#include "lib/buf.h"

struct nexthop {
	char host[256];		/* name or printable address, no brackets */
	unsigned port;
	int no_mx;		/* brackets: no MX lookup */
	int family;		/* AF_INET/AF_INET6 for a literal, else 0 */
};

/* nexthop_port - "25" or a service name into *port; -1 if neither. */
int nexthop_port(const char *s, unsigned *port);

/* nexthop_parse - 0, or -1 with why set. default_port is used when none given. */
int nexthop_parse(const char *s, unsigned default_port, struct nexthop *nh, struct buf *why);

/* nexthop_valid_hostname - letters, digits, '-', '_', dots; labels 1..63; <= 253. */
int nexthop_valid_hostname(const char *s, size_t len);

#endif
