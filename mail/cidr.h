/*
 * cidr.h - lists of IPv4/IPv6 networks (mynetworks and the like).
 *
 * Entries are written as Postfix writes them: 192.0.2.1, 192.0.2.0/24,
 * [2001:db8::]/32, 2001:db8::/32, [::1]; a leading '!' excludes a network
 * (the first matching entry decides). Host bits set below the prefix are an
 * error, as in Postfix. IPv4-mapped IPv6 client addresses (::ffff:a.b.c.d)
 * match IPv4 entries.
 */
#ifndef MOAT_MAIL_CIDR_H
#define MOAT_MAIL_CIDR_H

#include <stddef.h>

#include "lib/buf.h"

struct cidr_entry {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char net[16];
	unsigned bits;
	int negate;
};

struct cidr_list {
	struct cidr_entry *v;
	size_t n, cap;
};

void cidr_list_init(struct cidr_list *l);
void cidr_list_free(struct cidr_list *l);
/* cidr_list_add - parse one entry; -1 and a reason in err if malformed. */
int cidr_list_add(struct cidr_list *l, const char *text, struct buf *err);
/* cidr_list_add_addr - add one network from binary form (host bits are cleared). */
void cidr_list_add_addr(struct cidr_list *l, int family, const unsigned char *addr, unsigned bits);
/* cidr_list_match - 1 if the address matches a positive entry first, else 0. */
int cidr_list_match(const struct cidr_list *l, int family, const unsigned char *addr);
/* cidr_parse_addr - a printable IPv4/IPv6 address (optionally in [ ]); 0 or -1. */
int cidr_parse_addr(const char *text, int *family, unsigned char out[16]);
/* cidr_list_public - how many public (global unicast) addresses of family
 * (AF_INET or AF_INET6) the list matches; mail/cidr_public.c says which. */
double cidr_list_public(const struct cidr_list *l, int family);
/* cidr_format - "a.b.c.d/n" or "[x::]/n" into out (for logging). */
void cidr_format(const struct cidr_entry *e, struct buf *out);

#endif
