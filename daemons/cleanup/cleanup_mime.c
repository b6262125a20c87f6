/*
 * cleanup_mime.c - the MIME structure scanner of the cleanup stage (see
 * cleanup_mime.h).
 *
 * Called by cleanup_msg.c with every content byte of a message, and by the
 * unit test and the fuzzer. The bytes are a remote client's: memory is
 * bounded by line_limit for a line split across chunks, header_limit for a
 * part header, and nesting_limit open multiparts of boundary_limit bytes
 * each; the scanner reads each byte once or twice and never outside the
 * chunk it was given. It must never change the message, only judge it.
 */
#include <string.h>
#include <strings.h>

#include "daemons/cleanup/cleanup_mime.h"
#include "lib/xmem.h"
#include "mail/header.h"

enum { CM_CT_OTHER, CM_CT_MULTIPART, CM_CT_MESSAGE };

#define CM_EXCERPT	100	/* bytes of the offending line kept for the log */

static void cm_entity_reset(struct cleanup_mime *cm, int digest_part);

void cleanup_mime_init(struct cleanup_mime *cm, const struct cleanup_mime_params *p)
{
	memset(cm, 0, sizeof(*cm));
	cm->p = p;
	cm->in_header = 1;
	buf_init(&cm->boundary, p->boundary_limit);
	buf_init(&cm->hdr, p->header_limit);
	/* a line split across chunks: all that anything looks at */
	cm->keep = p->line_limit > p->header_limit ? p->line_limit : p->header_limit;
	buf_init(&cm->line, cm->keep);
	buf_init(&cm->bounds, 0);
	buf_init(&cm->excerpt, CM_EXCERPT);
	cleanup_mime_reset(cm, p->report);
}

/* cleanup_mime_reset - a new message (the allocations are kept). */
void cleanup_mime_reset(struct cleanup_mime *cm, unsigned report)
{
	cm->report = report;
	cm->error = 0;
	cm->depth = 0;
	cm->eight = 0;
	cm->nframes = 0;
	cm->line_len = 0;
	cm->line_8bit = 0;
	buf_reset(&cm->bounds);
	buf_reset(&cm->line);
	buf_reset(&cm->excerpt);
	cm_entity_reset(cm, 0);
	cm->entity = CLEANUP_MIME_PRIMARY;
	cm->segment = 0;
}

void cleanup_mime_free(struct cleanup_mime *cm)
{
	buf_free(&cm->boundary);
	buf_free(&cm->hdr);
	buf_free(&cm->line);
	buf_free(&cm->bounds);
	buf_free(&cm->excerpt);
	xfree(cm->frames);
	cm->frames = NULL;
	cm->nframes = cm->cap = 0;
}

unsigned cleanup_mime_error(const struct cleanup_mime *cm)
{
	return cm->error;
}

const char *cleanup_mime_error_text(unsigned err)
{
	switch (err) {
	case CLEANUP_MIME_ERR_NESTING:
		return "MIME nesting exceeds safety limit";
	case CLEANUP_MIME_ERR_8BIT_HEADER:
		return "improper use of 8-bit data in message header";
	case CLEANUP_MIME_ERR_8BIT_BODY:
		return "improper use of 8-bit data in message body";
	case CLEANUP_MIME_ERR_DOMAIN:
		return "invalid message/* or multipart/* encoding domain";
	}
	return "no MIME error";
}

/* cm_fail - the first error that params.report asks for; a printable excerpt. */
static void cm_fail(struct cleanup_mime *cm, unsigned err, const char *s, size_t len)
{
	if (cm->error || !(cm->report & err))
		return;
	cm->error = err;
	buf_reset(&cm->excerpt);
	for (size_t i = 0; i < len && i < CM_EXCERPT && s[i] != '\r' && s[i] != '\n'; i++)
		buf_putc(&cm->excerpt, (unsigned char)s[i] < 32 || (unsigned char)s[i] > 126 ? '?' : s[i]);
}

static int cm_has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] & 0x80)
			return 1;
	return 0;
}

/* cm_entity_reset - a new entity's headers begin (a part defaults by its multipart). */
static void cm_entity_reset(struct cleanup_mime *cm, int digest_part)
{
	cm->in_header = 1;
	cm->ctype = digest_part ? CM_CT_MESSAGE : CM_CT_OTHER;
	cm->composite = digest_part;
	cm->digest = cm->cte_eight = cm->cte_other = 0;
	buf_reset(&cm->boundary);
	buf_reset(&cm->hdr);
}

/* cm_token - the next token of v (RFC 2045: up to a tspecial or blank), lowered span. */
static const char *cm_token(const char *v, size_t *len)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	while (v[n] && !strchr(" \t()<>@,;:\\\"/[]?=", v[n]))
		n++;
	*len = n;
	return v;
}

/* cm_append_capped - as much of s as the buffer's cap allows (the rest is not examined). */
static void cm_append_capped(struct buf *b, const char *s, size_t len)
{
	size_t room = b->max > b->len ? b->max - b->len : 0;

	(void)buf_append(b, s, len < room ? len : room);
}

/* cm_param_boundary - the boundary parameter among a Content-Type's parameters. */
static void cm_param_boundary(struct cleanup_mime *cm, const char *v)
{
	while ((v = strchr(v, ';')) != NULL) {
		size_t n;
		const char *name = cm_token(v + 1, &n), *val;

		v = name + n;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=' || n != 8 || strncasecmp(name, "boundary", 8) != 0)
			continue;
		for (val = v + 1; *val == ' ' || *val == '\t'; val++)
			;
		buf_reset(&cm->boundary);
		if (*val != '"') {
			val = cm_token(val, &n);
			cm_append_capped(&cm->boundary, val, n);
			return;
		}
		for (val++; *val && *val != '"'; val++) {
			if (*val == '\\' && val[1])
				val++;	/* a quoted pair */
			cm_append_capped(&cm->boundary, val, 1);
		}
		return;
	}
}

/* cm_content_type - type/subtype and boundary of a Content-Type value. */
static void cm_content_type(struct cleanup_mime *cm, const char *v)
{
	size_t tlen, slen;
	const char *type = cm_token(v, &tlen), *sub;

	if (type[tlen] != '/')
		return;
	sub = cm_token(type + tlen + 1, &slen);
	cm->ctype = CM_CT_OTHER;
	cm->digest = 0;
	cm->composite = (tlen == 9 && strncasecmp(type, "multipart", 9) == 0)
			|| (tlen == 7 && strncasecmp(type, "message", 7) == 0);
	if (tlen == 9 && strncasecmp(type, "multipart", 9) == 0) {
		cm->ctype = CM_CT_MULTIPART;
		cm->digest = slen == 6 && strncasecmp(sub, "digest", 6) == 0;
		cm_param_boundary(cm, sub + slen);
	} else if (cm->composite && slen == 6
		   && (strncasecmp(sub, "rfc822", 6) == 0 || strncasecmp(sub, "global", 6) == 0)) {
		cm->ctype = CM_CT_MESSAGE;	/* message/partial and the like are leaves */
	}
}

/* cm_cte - Content-Transfer-Encoding: which domain. */
static void cm_cte(struct cleanup_mime *cm, const char *v)
{
	size_t n;
	const char *t = cm_token(v, &n);

	cm->cte_eight = (n == 4 && strncasecmp(t, "8bit", 4) == 0)
			|| (n == 6 && strncasecmp(t, "binary", 6) == 0);
	cm->cte_other = !cm->cte_eight && !(n == 4 && strncasecmp(t, "7bit", 4) == 0);
}

/* cm_flush_header - the current logical header is complete: is it one of ours? */
static void cm_flush_header(struct cleanup_mime *cm)
{
	struct buf v = BUF_INIT;
	int ct;

	if (cm->hdr.len == 0)
		return;
	ct = header_is_name(cm->hdr.data, cm->hdr.len, "Content-Type");
	if (ct || header_is_name(cm->hdr.data, cm->hdr.len, "Content-Transfer-Encoding")) {
		buf_init(&v, cm->p->header_limit);
		(void)header_value(&v, cm->hdr.data, cm->hdr.len);	/* cut if huge: still judged */
		if (ct)
			cm_content_type(cm, buf_str(&v));
		else
			cm_cte(cm, buf_str(&v));
		buf_free(&v);
	}
	buf_reset(&cm->hdr);
}

/* cm_push - a multipart body starts: remember its boundary (its first boundary_limit bytes). */
static void cm_push(struct cleanup_mime *cm)
{
	struct cleanup_mime_frame *f;
	size_t blen = cm->boundary.len < cm->p->boundary_limit ? cm->boundary.len : cm->p->boundary_limit;

	if (cm->nframes == cm->cap) {
		cm->cap = cm->cap ? cm->cap * 2 : 4;
		cm->frames = xreallocarray(cm->frames, cm->cap, sizeof(*cm->frames));
	}
	f = &cm->frames[cm->nframes++];
	f->boff = cm->bounds.len;
	f->blen = blen;
	f->depth = cm->depth;
	f->eight = cm->cte_eight;
	f->digest = cm->digest;
	(void)buf_append(&cm->bounds, cm->boundary.data, blen);
}

/* cm_begin_body - the entity's headers are over: what its body is. */
static void cm_begin_body(struct cleanup_mime *cm, const char *s, size_t len)
{
	cm_flush_header(cm);
	if (cm->composite && cm->cte_other)
		cm_fail(cm, CLEANUP_MIME_ERR_DOMAIN, s, len);
	cm->in_header = 0;
	cm->eight = cm->cte_eight;
	cm->segment++;
	if (!((cm->ctype == CM_CT_MULTIPART && cm->boundary.len > 0) || cm->ctype == CM_CT_MESSAGE))
		return;
	/* Too deep: refused if reported, else the rest is examined as one body. */
	if (cm->depth >= cm->p->nesting_limit) {
		cm_fail(cm, CLEANUP_MIME_ERR_NESTING, s, len);
		return;
	}
	cm->depth++;
	if (cm->ctype == CM_CT_MESSAGE) {
		cm_entity_reset(cm, 0);	/* the enclosed message's own headers */
		cm->entity = CLEANUP_MIME_NESTED;
	} else
		cm_push(cm);
}

/* cm_find_boundary - the open multipart whose delimiter s is (innermost first), or -1. */
static long cm_find_boundary(const struct cleanup_mime *cm, const char *s, size_t len, int *close)
{
	if (cm->nframes == 0 || len < 2 || s[0] != '-' || s[1] != '-')
		return -1;
	for (size_t i = cm->nframes; i-- > 0;) {
		const struct cleanup_mime_frame *f = &cm->frames[i];

		if (len < 2 + f->blen || memcmp(s + 2, cm->bounds.data + f->boff, f->blen) != 0)
			continue;
		*close = len >= 4 + f->blen && s[2 + f->blen] == '-' && s[3 + f->blen] == '-';
		return (long)i;
	}
	return -1;
}

int cleanup_mime_is_boundary(const struct cleanup_mime *cm, const char *s, size_t len)
{
	int close;

	return cm_find_boundary(cm, s, len < cm->p->line_limit ? len : cm->p->line_limit, &close) >= 0;
}

/* cm_boundary - is s a delimiter line of an open multipart? Acts on it: 1 if so. */
static int cm_boundary(struct cleanup_mime *cm, const char *s, size_t len)
{
	int close;
	long found = cm_find_boundary(cm, s, len, &close);
	const struct cleanup_mime_frame *f;
	size_t i;

	if (found < 0)
		return 0;
	i = (size_t)found;
	f = &cm->frames[i];
	if (close) {
		/* the close: what follows is the epilogue of that multipart */
		cm->depth = f->depth - 1;
		cm->in_header = 0;
		cm->eight = f->eight;
		cm->nframes = i;
		cm->segment++;
	} else {
		cm->depth = f->depth;
		cm->nframes = i + 1;
		cm_entity_reset(cm, f->digest);
		cm->entity = CLEANUP_MIME_PART;
	}
	buf_truncate(&cm->bounds, f->boff + (cm->nframes > i ? f->blen : 0));
	return 1;
}

static void cm_line(struct cleanup_mime *cm, const char *s, size_t len, int has8);

/* cm_header_line - a line of an entity's header section. */
static void cm_header_line(struct cleanup_mime *cm, const char *s, size_t len, int has8)
{
	if (has8)
		cm_fail(cm, CLEANUP_MIME_ERR_8BIT_HEADER, s, len);
	if (len == 0) {
		cm_begin_body(cm, s, len);
		return;
	}
	if (s[0] == ' ' || s[0] == '\t') {
		if (cm->hdr.len > 0)
			cm_append_capped(&cm->hdr, s, len);
		return;
	}
	cm_flush_header(cm);
	if (header_name_len(s, len, NULL) > 0) {
		cm_append_capped(&cm->hdr, s, len);
		return;
	}
	/* Not a header: the headers are over and this line is the body's first. */
	cm_begin_body(cm, s, len);
	if (!cm->error)
		cm_line(cm, s, len, has8);
}

/*
 * cm_line - one line, line end removed (len: what is kept of it). Only its
 * first line_limit bytes can make it a boundary (Postfix looks for one in a
 * long line's first piece only); a header line is kept whole, up to
 * header_limit, as Postfix joins a header's pieces.
 */
static void cm_line(struct cleanup_mime *cm, const char *s, size_t len, int has8)
{
	if (cm_boundary(cm, s, len < cm->p->line_limit ? len : cm->p->line_limit))
		return;
	if (cm->in_header)
		cm_header_line(cm, s, len, has8);
	else if (has8 && !cm->eight)
		cm_fail(cm, CLEANUP_MIME_ERR_8BIT_BODY, s, len);
}

/* cm_examine - the first avail bytes of a line; whole: they include its line end. */
static void cm_examine(struct cleanup_mime *cm, const char *s, size_t avail, int whole, int has8)
{
	size_t len = avail < cm->keep ? avail : cm->keep;

	if (whole && len == avail) {	/* the line end is not text */
		if (len > 0 && s[len - 1] == '\n')
			len--;
		if (len > 0 && s[len - 1] == '\r')
			len--;
	}
	cm_line(cm, s, len, has8);
}

/* cleanup_mime_feed - content bytes, any chunk boundaries. */
void cleanup_mime_feed(struct cleanup_mime *cm, const char *p, size_t n)
{
	while (n > 0 && !cm->error) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) + 1 : n;

		if (cm->line_len == 0 && nl) {
			cm_examine(cm, p, k, 1, cm_has_8bit(p, k));
		} else {
			/* a line split across chunks: keep what will be examined */
			cm_append_capped(&cm->line, p, k);
			cm->line_len += k;
			cm->line_8bit |= cm_has_8bit(p, k);
			if (nl) {
				cm_examine(cm, cm->line.data, cm->line.len, cm->line.len == cm->line_len,
					   cm->line_8bit);
				buf_reset(&cm->line);
				cm->line_len = 0;
				cm->line_8bit = 0;
			}
		}
		p += k;
		n -= k;
	}
}
