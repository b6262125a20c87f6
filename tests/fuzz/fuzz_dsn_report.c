/*
 * fuzz_dsn_report.c - libFuzzer target for mail/dsn_report.c: the bounce
 * message built from a queue file and a status log, whose addresses,
 * reasons (a remote server's reply text) and content came from peers.
 *
 * Input: byte 0 chooses the kind, RET=HDRS, 8-bit and bounce_size_limit;
 * byte 1 the number of recipients (1..4) and whether the content stored is
 * shorter than the message; then NUL-separated fields: myhostname, queue
 * id, sender, to, envid, then addr, orcpt, status, reason, relay per
 * recipient; what follows is the original content, first put in the wire
 * form the queue holds (CRLF lines, dot-stuffed). Whatever the fields hold,
 * the report must be wire form too (CRLF only, no line that ends the DATA
 * phase), headers first, and end with its closing boundary; the
 * header-section helper must cut at a line end. A crash, a sanitizer
 * report, a leak or an abort here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mail/dsn_report.h"

#define FUZZ_FIELDS	(5 + 5 * 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_wire - p[0..n) as queue content: CRLF line ends, dot-stuffed. */
static void fuzz_wire(const char *p, size_t n, struct buf *out)
{
	int bol = 1;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (bol && c == '.')
			buf_putc(out, '.');
		if (c == '\n' || c == '\r') {
			buf_append_str(out, "\r\n");
			bol = 1;
			continue;
		}
		buf_putc(out, c);
		bol = 0;
	}
}

/* fuzz_check_wire - CRLF only, no lone "." line, ends with the boundary. */
static void fuzz_check_wire(const struct buf *o, const struct dsn_report *r)
{
	struct buf end = BUF_INIT;

	if (o->len < 2 || memcmp(o->data + o->len - 2, "\r\n", 2) != 0
	    || strncmp(o->data, "From: ", 6) != 0)
		abort();
	for (size_t i = 0; i < o->len; i++) {
		if (o->data[i] == '\r' && o->data[i + 1] != '\n')
			abort();
		if (o->data[i] == '\n' && (i == 0 || o->data[i - 1] != '\r'))
			abort();
	}
	if (memmem(o->data, o->len, "\r\n.\r\n", 5) != NULL || strncmp(o->data, ".\r\n", 3) == 0)
		abort();
	buf_printf(&end, "\r\n--%s.%lld/%s--\r\n", r->queue_id, (long long)r->now, r->myhostname);
	for (size_t i = 4; i < end.len - 4; i++)
		if (((unsigned char)end.data[i] < 32 && end.data[i] != '\t') || end.data[i] == 127)
			end.data[i] = '?';	/* as dsn_line writes it */
	if (end.len < 900	/* a longer one may be folded */
	    && (o->len < end.len || memcmp(o->data + o->len - end.len, end.data, end.len) != 0))
		abort();
	buf_free(&end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[FUZZ_FIELDS];
	struct dsn_rcpt rc[4];
	struct buf out = BUF_INIT, content = BUF_INIT, copy = BUF_INIT;
	size_t nf = 0, off = 2, nrcpt, cut;

	if (size < 2)
		return 0;
	nrcpt = 1 + data[1] % 4;
	(void)buf_set(&copy, data, size);	/* NUL-terminated, so fields are strings */
	while (nf < 5 + 5 * nrcpt) {
		f[nf++] = copy.data + off;
		if (off < size)
			off += strnlen(copy.data + off, size - off) + 1;
		if (off > size)
			off = size;
	}
	for (size_t i = 0; i < nrcpt; i++)
		rc[i] = (struct dsn_rcpt){ f[5 + 5 * i], f[6 + 5 * i], f[7 + 5 * i], f[8 + 5 * i],
					   f[9 + 5 * i] };
	fuzz_wire((const char *)data + off, size - off, &content);
	struct dsn_report r = {
		.kind = data[0] & 1 ? DSN_REPORT_DELAYED : DSN_REPORT_FAILED,
		.myhostname = f[0], .queue_id = f[1], .sender = f[2], .to = f[3], .envid = f[4],
		.arrival = 1700000000, .now = 1700003600, .ret_hdrs = (data[0] >> 1) & 1,
		.eightbit = (data[0] >> 2) & 1, .rcpts = rc, .nrcpts = nrcpt,
		.content = content.data ? content.data : "", .content_len = content.len,
		.content_total = content.len + (data[1] & 0x80 ? 1000 : 0),
		.size_limit = (size_t)(data[0] >> 3) * 40,
	};
	if (dsn_report_build(&out, &r) != 0)
		abort();
	fuzz_check_wire(&out, &r);
	cut = dsn_report_header_end(r.content, r.content_len);
	if (cut > r.content_len || (cut > 0 && r.content[cut - 1] != '\n'))
		abort();
	buf_free(&out);
	buf_free(&content);
	buf_free(&copy);
	return 0;
}
