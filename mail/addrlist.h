/*
 * addrlist.h - the mailbox addresses of an RFC 5322 address-list header
 * (From, To, Cc, Reply-To, ...), found where they stand so that a caller
 * can replace one address and leave every other byte as the sender wrote
 * it: display names, comments, groups, folding.
 *
 *	addrlist_scan(value, len, &key, fn, ctx)
 *
 * calls fn(ctx, off, len, key) for each address: value[off..off+len) is
 * the addr-spec (inside <...> when there are angle brackets, after any
 * source route; else the mailbox with its surrounding comments and white
 * space left out) and key is that text without comments and folding, as a
 * table would be asked. A group's display name and the phrase before <...>
 * are never addresses. A mailbox that is no clean addr-spec (white space
 * between its words, an unclosed quote, comment or bracket, a NUL or a
 * control character) is skipped, never guessed at. fn returns 0 to go on,
 * -1 to stop; addrlist_scan returns the number of addresses seen, or -1 if
 * fn stopped it.
 *
 * SECURITY: value is a remote client's header; the scan reads each byte at
 * most twice, never outside [0, len), and allocates only into key.
 */
#ifndef MOAT_MAIL_ADDRLIST_H
#define MOAT_MAIL_ADDRLIST_H

#include <stddef.h>

#include "lib/buf.h"

typedef int (*addrlist_fn)(void *ctx, size_t off, size_t len, const char *key);

int addrlist_scan(const char *value, size_t len, struct buf *key, addrlist_fn fn, void *ctx);

#endif
