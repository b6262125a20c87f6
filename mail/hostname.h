/*
 * hostname.h - host names that come from DNS: validation and PTR query names.
 *
 * A name from a PTR record is chosen by whoever controls the reverse zone of
 * the client's address; it is hostile until it passes hostname_valid.
 */
#ifndef MOAT_MAIL_HOSTNAME_H
#define MOAT_MAIL_HOSTNAME_H

#include <stddef.h>

#include "lib/buf.h"

#define HOSTNAME_MAX	253	/* RFC 1035 2.3.4, in text form without the root dot */

/*
 * hostname_valid - 1 if s[0..len) is a usable host name: ASCII letters,
 * digits and '-' (never at either end of a label), labels of 1..63 bytes
 * separated by single dots, at most HOSTNAME_MAX bytes in all, and not
 * numeric (a last label of digits only: an address posing as a name).
 */
int hostname_valid(const char *s, size_t len);

/* hostname_from_dns - name minus one trailing dot into out; -1 (out empty) if not valid. */
int hostname_from_dns(const char *name, struct buf *out);

/*
 * hostname_reverse - the PTR query name of an address into out:
 * "4.3.2.1.in-addr.arpa" for 1.2.3.4, 32 nibbles then ".ip6.arpa" for IPv6.
 * -1 for any other family.
 */
int hostname_reverse(int family, const unsigned char ip[16], struct buf *out);

#endif
