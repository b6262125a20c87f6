/*
 * record.h - typed, length-prefixed records: the queue file's only syntax.
 *
 * A record is
 *
 *   type    1 byte (one of REC_TYPE_* below)
 *   length  unsigned varint: 7 bits per byte, least significant group first,
 *           high bit set = another byte follows; 1 to RECORD_VARINT_MAX
 *           bytes, minimal (no trailing zero group), value < 2^32
 *   data    length bytes, binary-safe
 *
 * Nothing is line-oriented, so no byte of an address or of the message can
 * be mistaken for structure. The reader is handed a memory region and a
 * maximum length and checks everything before it trusts a byte: a bad
 * varint, a length past the maximum, or a record that runs past the region
 * is an error code, never a read out of bounds.
 *
 * Record types, in file order (queue/qenv.c enforces the grammar):
 *
 *   'V' REC_TYPE_VERSION  first record: "MOAT1" (format magic and version)
 *   'C' REC_TYPE_SIZE     second record, fixed width so it can be rewritten
 *                         in place: four 15-digit decimals separated by one
 *                         space: data_offset data_end content_length
 *                         rcpt_count (see queue/qenv.h). Written with zeros
 *                         at create and rewritten just before commit.
 *   'T' REC_TYPE_TIME     arrival time "SECONDS.UUUUUU" (exactly 6 digits)
 *   'A' REC_TYPE_ATTR     attribute "name=value": name [a-z0-9_]{1,64},
 *                         value any bytes but NUL (client name/address, helo,
 *                         protocol, sasl user, ...: a free list)
 *   'S' REC_TYPE_SENDER   envelope sender; empty = the null sender <>
 *   'R' REC_TYPE_RCPT     recipient: four fields separated by NUL:
 *                         address NUL original-recipient NUL dsn-orcpt NUL
 *                         dsn-notify (decimal bit mask, see qenv.h). Marked
 *                         done by rewriting its type byte to 'D' in place:
 *                         the length and data stay as they are.
 *   'D' REC_TYPE_DONE     a recipient already delivered or bounced
 *   'M' REC_TYPE_MESSAGE  start of content (empty); last envelope record
 *   'B' REC_TYPE_BODY     a chunk of content: raw bytes, the message exactly
 *                         as it goes on the wire (CRLF, dot-stuffed)
 *   'X' REC_TYPE_EXTRACT  start of trailing envelope records (empty,
 *                         optional): A, R, D found after the content
 *   'E' REC_TYPE_END      end (empty); mandatory last record: a file
 *                         without it is incomplete
 */
#ifndef MOAT_QUEUE_RECORD_H
#define MOAT_QUEUE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define REC_TYPE_VERSION	'V'
#define REC_TYPE_SIZE		'C'
#define REC_TYPE_TIME		'T'
#define REC_TYPE_ATTR		'A'
#define REC_TYPE_SENDER		'S'
#define REC_TYPE_RCPT		'R'
#define REC_TYPE_DONE		'D'
#define REC_TYPE_MESSAGE	'M'
#define REC_TYPE_BODY		'B'
#define REC_TYPE_EXTRACT	'X'
#define REC_TYPE_END		'E'

#define RECORD_VARINT_MAX	5	/* bytes; 5 x 7 bits hold any uint32 */
#define RECORD_HEADER_MAX	(1 + RECORD_VARINT_MAX)

/* One record as found by record_get: data points into the caller's region. */
struct record {
	int type;			/* the type byte, 0..255 */
	const unsigned char *data;	/* len bytes, not NUL-terminated */
	size_t len;
	size_t off;			/* offset of the type byte in the region */
	size_t end;			/* offset just past the data */
};

/* record_get results. */
#define RECORD_OK	1	/* a whole record was found */
#define RECORD_SHORT	0	/* the region ends inside the record (or at off) */
#define RECORD_BAD	(-1)	/* bad varint or length > max */

size_t record_varint_put(unsigned char *out, uint32_t v);
int record_varint_get(const unsigned char *p, size_t avail, uint32_t *v, size_t *used);
int record_put(struct buf *b, int type, const void *data, size_t len);
int record_header_get(const unsigned char *p, size_t avail, size_t max,
		      int *type, size_t *len, size_t *hdrlen);
int record_get(const unsigned char *p, size_t plen, size_t off, size_t max,
	       struct record *rec);

#endif
