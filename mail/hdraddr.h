/*
 * hdraddr.h - the addresses in an RFC 5322 address header, as spans of
 * the raw bytes, so that a rewriter can replace them and leave every other
 * byte (display names, comments, folding) as it was.
 *
 * hdraddr_scan walks a header value (the bytes after the colon, folding
 * included): mailboxes separated by commas, groups ("name: a, b;"),
 * display names, quoted strings, nested comments, <angle-addr> and
 * [domain-literal]. For each mailbox it calls fn with the span of its
 * address: the inside of <...>, or the addr-spec of a bare mailbox without
 * its comments. A bare mailbox whose tokens are separated by white space
 * (obsolete forms), an empty <> and a source route are skipped.
 *
 * hdraddr_internal turns a span into the address a table is asked about
 * (a quoted local part unquoted); hdraddr_external does the reverse, with
 * the local part quoted when RFC 5322 requires it.
 */
#ifndef MOAT_MAIL_HDRADDR_H
#define MOAT_MAIL_HDRADDR_H

#include <stddef.h>

#include "lib/buf.h"

/* fn returns 0 to go on, -1 to stop the scan (hdraddr_scan returns -1). */
typedef int (*hdraddr_fn)(void *ctx, size_t off, size_t len);
int hdraddr_scan(const char *v, size_t n, hdraddr_fn fn, void *ctx);

/* hdraddr_internal - -1 if the span holds CR, LF or NUL or out is full. */
int hdraddr_internal(const char *span, size_t len, struct buf *out);
int hdraddr_external(const char *addr, struct buf *out);

#endif
