/*
 * cleanup_body.c - the content after the message's headers, on its way
 * into the queue: through the MIME checks, and line by line through the
 * content checks when a table asks for them (mime_header_checks and
 * nested_header_checks for the headers of MIME parts and of attached
 * messages, body_checks for everything else: body lines of every part,
 * whatever its type, boundaries, preambles and epilogues).
 *
 * Called by cleanup_msg.c and cleanup_hdr.c. Without such tables the
 * content goes to the queue file as it came (no line is looked at here:
 * only the MIME scanner reads it). With them, Postfix's records are
 * rebuilt: a line, or each line_length_limit piece of a longer one, is
 * checked and written as the check left it; a part's logical header (its
 * folded lines joined) is gathered up to header_size_limit (the excess is
 * dropped, as for the message's headers) and checked as one. Which line is
 * what is decided from the MIME scanner's state before the line, then the
 * line is fed to it: the scanner sees every byte once, in order. Only the
 * first body_checks_size_limit bytes of each body segment are looked up.
 *
 * SECURITY: the bytes are the remote client's. Memory is bounded by
 * line_length_limit for a record, header_size_limit for a part's header,
 * and the header writer's flush size for output not yet written.
 */
#include <string.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "mail/header.h"

/* What the current line is. */
enum { BL_BODY, BL_BOUNDARY, BL_HEADER, BL_HEADER_CONT, BL_HEADER_END };

static void body_record(struct cleanup_msg *cm, int final);

void cleanup_body_begin(struct cleanup_msg *cm)
{
	struct cleanup_body *b = &cm->body;

	b->lines = cleanup_check_on(cm, CHECK_BODY)
		   || (cm->mime_on && (cleanup_check_on(cm, CHECK_MIME)
				       || cleanup_check_on(cm, CHECK_NESTED)));
	b->fed = 0;
	b->cont = 0;
	b->force_body = 0;
	b->hdr_trunc = 0;
	b->off = 0;
	b->seg = 0;
	b->at_start = 1;
	buf_reset(&b->line);
	buf_reset(&b->hdr);
}

/* body_text_len - a record's length without its line end. */
static size_t body_text_len(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

/* body_classify - the first record of a line, by the scanner's state before it. */
static int body_classify(struct cleanup_msg *cm, const char *s, size_t len)
{
	size_t t = body_text_len(s, len);

	if (!cm->mime_on || cm->body.force_body)
		return BL_BODY;
	if (cleanup_mime_is_boundary(&cm->mime, s, t))
		return BL_BOUNDARY;
	if (!cm->mime.in_header)
		return BL_BODY;
	if (t == 0)
		return BL_HEADER_END;
	if (s[0] == ' ' || s[0] == '\t')
		return BL_HEADER_CONT;
	return header_name_len(s, t, NULL) > 0 ? BL_HEADER : BL_BODY;
}

/* body_hdr_flush - a part's logical header is complete: check it, write it. */
static void body_hdr_flush(struct cleanup_msg *cm)
{
	struct cleanup_body *b = &cm->body;
	enum cleanup_check_class cls = CHECK_MIME;

	if (b->hdr.len == 0)
		return;
	if (b->hdr_trunc)
		cleanup_hdr_truncated(cm, &b->hdr);
	if (b->hdr_entity == CLEANUP_MIME_NESTED && !cleanup_check_mime_header(b->hdr.data, b->hdr.len))
		cls = CHECK_NESTED;
	if (cleanup_check_on(cm, cls)) {
		cleanup_check(cm, cls, b->hdr.data, b->hdr.len, 0, &cm->chk_out);
		cleanup_out(cm, cm->chk_out.data, cm->chk_out.len);
	} else {
		cleanup_out(cm, b->hdr.data, b->hdr.len);
	}
	buf_reset(&b->hdr);
	b->hdr_trunc = 0;
}

/* body_hdr_add - header text: what fits under header_size_limit. */
static void body_hdr_add(struct cleanup_body *b, const char *s, size_t len, size_t limit)
{
	size_t room = limit > b->hdr.len ? limit - b->hdr.len : 0;

	if (len > room) {
		len = room;
		b->hdr_trunc = 1;
	}
	(void)buf_append(&b->hdr, s, len);
}

/* body_line - a body record: body_checks on the first bytes of each segment. */
static void body_line(struct cleanup_msg *cm, const char *s, size_t len, int final)
{
	struct cleanup_body *b = &cm->body;
	uint64_t limit = cm->cfg->body_checks_size_limit;

	if (cm->mime.segment != b->seg) {
		b->seg = cm->mime.segment;
		b->off = 0;
	}
	if (cleanup_check_on(cm, CHECK_BODY) && (limit == 0 || b->off < limit)) {
		cleanup_check(cm, CHECK_BODY, s, len, b->cont ? CHECK_F_PIECE : 0, &cm->chk_out);
		s = cm->chk_out.data;
		len = cm->chk_out.len;
		if (len == 0 && final && b->cont)
			s = "\r\n", len = 2;	/* a dropped last piece: the line still ends */
	}
	/*
	 * A later piece whose line start was dropped or replaced by a full
	 * line now starts a line itself: its dot must be stuffed, or a lone
	 * "." would end the message at the next hop.
	 */
	if (b->cont && b->at_start && len > 0 && s[0] == '.')
		cleanup_out(cm, ".", 1);
	b->off += len;
	cleanup_out(cm, s, len);
	if (len > 0)
		b->at_start = s[len - 1] == '\n';
}

/* body_record - the current record is complete (final: it ends its line). */
static void body_record(struct cleanup_msg *cm, int final)
{
	struct cleanup_body *b = &cm->body;
	const char *s = b->line.data;
	size_t len = b->line.len;

	if (!b->cont) {
		b->class = body_classify(cm, s, len);
		b->force_body = 0;
		if (b->class == BL_HEADER)
			b->entity = cm->mime.entity;
	}
	if (b->fed < len)
		cleanup_mime_data(cm, s + b->fed, len - b->fed);
	b->fed = 0;
	if (cm->status == 0) {
		if (b->class == BL_HEADER && !b->cont) {
			body_hdr_flush(cm);
			b->hdr_entity = b->entity;
		}
		if (b->class == BL_HEADER || b->class == BL_HEADER_CONT) {
			body_hdr_add(b, s, len, cm->cfg->header_size_limit);
		} else {
			body_hdr_flush(cm);
			if (b->class == BL_HEADER_END) {
				cleanup_out(cm, s, len);
				b->at_start = 1;
			} else
				body_line(cm, s, len, final);
		}
	}
	b->cont = !final;
	buf_reset(&b->line);
}

/*
 * body_take - split content into records: a line, or line_length_limit
 * bytes of it (its line end may go past). fed: the MIME scanner has seen
 * these bytes already (the start of the first body line, read while the
 * headers were).
 */
static void body_take(struct cleanup_msg *cm, const char *p, size_t n, int fed)
{
	struct cleanup_body *b = &cm->body;
	size_t limit = cm->cfg->mime.line_limit;

	while (n > 0 && cm->status == 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) + 1 : n;
		size_t text = nl ? body_text_len(p, k) : k;
		size_t room = limit > b->line.len ? limit - b->line.len : 0;

		if (text > room) {
			k = room;
			nl = NULL;
		}
		(void)buf_append(&b->line, p, k);	/* fits: limit + 2 */
		if (fed)
			b->fed += k;
		p += k;
		n -= k;
		if (nl)
			body_record(cm, 1);
		else if (b->line.len >= limit)
			body_record(cm, 0);
	}
}

void cleanup_body_data(struct cleanup_msg *cm, const char *p, size_t n)
{
	if (!cm->body.lines) {
		cleanup_mime_data(cm, p, n);
		cleanup_put(cm, p, n);
		return;
	}
	body_take(cm, p, n, 0);
}

/* cleanup_body_first - the start of the first body line, taken for a header
 * and seen by the MIME scanner already: a body line, whatever it looks like. */
void cleanup_body_first(struct cleanup_msg *cm, const char *p, size_t n)
{
	if (!cm->body.lines) {
		cleanup_put(cm, p, n);
		return;
	}
	cm->body.force_body = 1;
	body_take(cm, p, n, 1);
}

void cleanup_body_finish(struct cleanup_msg *cm)
{
	if (!cm->body.lines)
		return;
	if (cm->status == 0 && cm->body.line.len > 0)
		body_record(cm, 1);
	if (cm->status == 0)
		body_hdr_flush(cm);
	cleanup_flush(cm);
}
