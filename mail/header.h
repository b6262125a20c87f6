/*
 * header.h - small helpers for RFC 5322 message header fields.
 *
 * A "raw header" here is one logical header field exactly as it travels:
 * "Name: value\r\n" possibly followed by continuation lines that start with
 * a space or tab. Nothing here allocates except into a struct buf, and
 * nothing reads past the length it is given: the callers (cleanup, bounce,
 * fuzz_header) hand in bytes a remote client chose.
 */
#ifndef MOAT_MAIL_HEADER_H
#define MOAT_MAIL_HEADER_H

#include <stddef.h>

#include "lib/buf.h"

/* header_name_char - 1 if c may appear in a field name (RFC 5322 ftext). */
static inline int header_name_char(int c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/*
 * header_name_len - the length of the field name if raw starts a header
 * field ("Name:" or the obsolete "Name :"), else 0. *colon (optional) gets
 * the offset of the colon.
 */
size_t header_name_len(const char *raw, size_t len, size_t *colon);

/* header_is_name - 1 if raw is a header field named name (ASCII, any case). */
int header_is_name(const char *raw, size_t len, const char *name);

/*
 * header_value - the unfolded value of a raw header field into out: the
 * text after the colon with line breaks of folding removed, leading and
 * trailing white space trimmed. -1 if raw is not a header field or out is
 * full (out keeps what fitted).
 */
int header_value(struct buf *out, const char *raw, size_t len);

/* header_unfold - raw with every CRLF (or LF) that precedes WSP removed, and
 * the final line break dropped (RFC 5322 section 2.2.3). */
int header_unfold(struct buf *out, const char *raw, size_t len);

/* header_in_list - 1 if raw's field name is one of list (NULL-terminated,
 * any case), e.g. message_drop_headers. */
int header_in_list(const char *raw, size_t len, char *const *list);

#endif
