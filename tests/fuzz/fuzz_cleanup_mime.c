/*
 * fuzz_cleanup_mime.c - libFuzzer target for the cleanup stage's MIME
 * scanner (daemons/cleanup/cleanup_mime.c, linked in by tests/fuzz/build.mk).
 *
 * The first byte picks small limits (so that nesting, boundary and line
 * limits are reached quickly); the rest is message content, fed whole and
 * then in pieces of 1 and 3 bytes. The verdict must not depend on the
 * pieces, and must be one known error or none. A crash, a sanitizer report,
 * a leak or an abort is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemons/cleanup/cleanup_mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned run(const struct cleanup_mime_params *p, const char *s, size_t n, size_t piece)
{
	struct cleanup_mime cm;
	unsigned err;

	cleanup_mime_init(&cm, p);
	for (size_t off = 0; off < n; off += piece)
		cleanup_mime_feed(&cm, s + off, n - off < piece ? n - off : piece);
	err = cleanup_mime_error(&cm);
	cleanup_mime_free(&cm);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cleanup_mime_params p;
	unsigned whole;

	if (size < 1)
		return 0;
	p.line_limit = 8 + (data[0] & 0x3f);
	p.boundary_limit = 1 + (data[0] >> 4);
	p.header_limit = 16 + data[0];
	p.nesting_limit = 1 + (data[0] & 7);
	p.report = data[0] & 0xf;
	whole = run(&p, (const char *)data + 1, size - 1, size);
	if (whole & (whole - 1) || whole > CLEANUP_MIME_ERR_DOMAIN)
		abort();
	if (run(&p, (const char *)data + 1, size - 1, 1) != whole
	    || run(&p, (const char *)data + 1, size - 1, 3) != whole)
		abort();
	return 0;
}
