/*
 * cleanup_mime.h - the MIME structure of a message on its way into the
 * queue, as Postfix's cleanup checks it: multipart nesting, boundaries,
 * message/rfc822 parts, and which parts may hold 8-bit data. No I/O and no
 * channel code, so that the unit test and the fuzzer drive it directly.
 *
 *	cleanup_mime_init(&cm, &params);
 *	cleanup_mime_reset(&cm, report)    per message: the errors to report
 *	cleanup_mime_feed(&cm, p, n)       the content as received (wire form,
 *	                                   headers first), any chunk boundaries
 *	cleanup_mime_error(&cm)            0, or the first CLEANUP_MIME_ERR_*
 *	cleanup_mime_free(&cm);
 *
 * What it knows (RFC 2045, 2046):
 *   - an entity's Content-Type (multipart/... with its boundary, message/
 *     rfc822 and message/global, anything else) and Content-Transfer-
 *     Encoding (7bit, quoted-printable, base64: the 7-bit domain; 8bit,
 *     binary: the 8-bit domain); parts of multipart/digest default to
 *     message/rfc822, all others to text/plain in the 7-bit domain;
 *   - a line "--boundary" opens the next part of any multipart still open
 *     (inner ones close with it), "--boundary--" closes it; boundaries are
 *     told apart by their first boundary_limit bytes only
 *     (mime_boundary_length_limit);
 *   - a line is a boundary only if the delimiter fits in its first
 *     line_limit bytes (line_length_limit): Postfix stores a longer line in
 *     pieces and looks for a boundary in the first one only; every byte
 *     still counts for the 8-bit checks;
 *   - a header of a part is examined up to header_limit bytes
 *     (header_size_limit), whatever its lines' length.
 *
 * Errors, the first one only, each only if its bit is in the report mask
 * (params.report, or what cleanup_mime_reset set for this message):
 *   NESTING        multipart or message/rfc822 deeper than nesting_limit
 *   8BIT_HEADER    a byte over 127 in a header (strict_7bit_headers)
 *   8BIT_BODY      a byte over 127 in a part of the 7-bit domain
 *                  (strict_8bitmime_body)
 *   DOMAIN         multipart/... or message/... with an encoding other than
 *                  7bit, 8bit or binary (strict_mime_encoding_domain)
 * After an error nothing more is examined.
 *
 * For the content checks (cleanup_body.c), which see the same lines:
 *   in_header, entity    whose headers a new line would belong to: the
 *                        message's, a multipart part's, or those of a
 *                        message/rfc822 (or message/global) attachment;
 *   segment              counts body segments (each part's body, each
 *                        preamble and epilogue), for body_checks_size_limit;
 *   cleanup_mime_is_boundary(&cm, s, len)   would line s be a delimiter of
 *                        an open multipart (nothing changes)?
 */
#ifndef MOAT_CLEANUP_MIME_H
#define MOAT_CLEANUP_MIME_H

#include <stddef.h>

#include "lib/buf.h"

#define CLEANUP_MIME_ERR_NESTING	0x1
#define CLEANUP_MIME_ERR_8BIT_HEADER	0x2
#define CLEANUP_MIME_ERR_8BIT_BODY	0x4
#define CLEANUP_MIME_ERR_DOMAIN		0x8

enum cleanup_mime_entity { CLEANUP_MIME_PRIMARY, CLEANUP_MIME_PART, CLEANUP_MIME_NESTED };

struct cleanup_mime_params {
	size_t line_limit;		/* line_length_limit */
	size_t boundary_limit;		/* mime_boundary_length_limit */
	size_t header_limit;		/* header_size_limit */
	unsigned nesting_limit;		/* mime_nesting_limit */
	unsigned report;		/* CLEANUP_MIME_ERR_* that are errors */
};

/* One open multipart. */
struct cleanup_mime_frame {
	size_t boff, blen;		/* its boundary in the frames' string buffer */
	unsigned depth;			/* nesting level of the multipart itself */
	int eight;			/* its own body is of the 8-bit domain */
	int digest;			/* multipart/digest: parts default to message/rfc822 */
};

struct cleanup_mime {
	const struct cleanup_mime_params *p;
	int in_header;			/* reading an entity's headers (else a body) */
	int entity;			/* CLEANUP_MIME_*: whose headers */
	unsigned segment;		/* body segments begun so far */
	int eight;			/* the body being read is of the 8-bit domain */
	unsigned depth;			/* nesting level of the current entity */
	/* the current entity's headers */
	int ctype;			/* CM_CT_* */
	int composite;			/* multipart/... or message/...: the domain rule applies */
	int digest, cte_eight, cte_other;
	struct buf boundary;		/* from its Content-Type */
	struct buf hdr;			/* the current logical header, up to header_limit */
	/* the current line, when it spans chunks */
	size_t keep;			/* the most of a line examined: line or header limit */
	struct buf line;		/* its first keep bytes */
	size_t line_len;		/* all its bytes so far */
	int line_8bit;
	/* open multiparts, innermost last */
	struct cleanup_mime_frame *frames;
	size_t nframes, cap;
	struct buf bounds;		/* their boundaries, back to back */
	unsigned report;		/* CLEANUP_MIME_ERR_* reported for this message */
	unsigned error;
	struct buf excerpt;		/* the start of the line that broke a rule */
};

void cleanup_mime_init(struct cleanup_mime *cm, const struct cleanup_mime_params *p);
void cleanup_mime_reset(struct cleanup_mime *cm, unsigned report);
void cleanup_mime_free(struct cleanup_mime *cm);
void cleanup_mime_feed(struct cleanup_mime *cm, const char *p, size_t n);
unsigned cleanup_mime_error(const struct cleanup_mime *cm);
int cleanup_mime_is_boundary(const struct cleanup_mime *cm, const char *s, size_t len);
const char *cleanup_mime_error_text(unsigned err);

#endif
