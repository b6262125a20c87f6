/*
 * ipclass.h - which IP addresses the SMTP client must never be sent to.
 *
 * An address that comes from DNS (MX, A, AAAA) or from a recipient's address
 * literal is chosen by whoever controls that zone or sends that mail. Aimed
 * at this host (loopback, the unspecified address, which Linux connects to
 * the local host) it makes moat talk to itself or to services that trust
 * localhost; aimed at link-local space (169.254.169.254 is the metadata
 * service of most clouds), multicast, broadcast or reserved space it makes
 * moat a probe of the local network. ipclass_of says which of these an
 * address is; IPv4 addresses embedded in IPv6 (mapped ::ffff:a.b.c.d,
 * compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the
 * IPv4 address they carry. Private ranges (10/8, 172.16/12, 192.168/16,
 * fc00::/7) are ordinary: internal relays live there.
 */
#ifndef MOAT_MAIL_IPCLASS_H
#define MOAT_MAIL_IPCLASS_H

enum ipclass {
	IPCLASS_ROUTABLE = 0,	/* fine to connect to */
	IPCLASS_LOOPBACK,	/* 127/8, ::1: this host */
	IPCLASS_UNSPECIFIED,	/* 0/8, ::: this host (Linux) or nothing */
	IPCLASS_LINK_LOCAL,	/* 169.254/16, fe80::/10 */
	IPCLASS_MULTICAST,	/* 224/4, ff00::/8 */
	IPCLASS_BROADCAST,	/* 255.255.255.255 */
	IPCLASS_RESERVED,	/* 240/4, fec0::/10 (site-local), 100::/64 (discard) */
};

/* ipclass_of - the class of a 4-byte (AF_INET) or 16-byte (AF_INET6) address. */
enum ipclass ipclass_of(int family, const unsigned char *addr);

/* ipclass_of_text - the same for a printable address; -1 if it is not one. */
int ipclass_of_text(const char *text);

/* ipclass_is_self - loopback or unspecified: a connection reaches this host. */
int ipclass_is_self(enum ipclass c);

/* ipclass_name - "loopback", "link-local", ... for log lines. */
const char *ipclass_name(enum ipclass c);

#endif
