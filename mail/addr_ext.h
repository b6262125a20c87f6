/*
 * addr_ext.h - where an address's extension starts, as Postfix splits
 * user+ext@domain at recipient_delimiter: the one rule the lookup orders
 * (maps/map_keys.c) and the rewriting that propagates an unmatched
 * extension (cleanup's canonical maps) both follow.
 */
#ifndef MOAT_MAIL_ADDR_EXT_H
#define MOAT_MAIL_ADDR_EXT_H

#include <stddef.h>

/*
 * addr_ext_split - the length of the user part of addr's localpart when it
 * is split at the first of the delimiter characters delims, or 0 when it is
 * not split: no delimiter, the null address, postmaster, mailer-daemon,
 * double-bounce, and with '-' among the delimiters owner-foo and
 * foo-request; never a split that leaves the user part empty.
 */
size_t addr_ext_split(const char *addr, const char *delims);

#endif
