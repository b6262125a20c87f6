/*
 * fuzz_smtpd_data.c - libFuzzer target for smtpd's DATA state machine
 * (daemons/smtpd/smtpd_data.c, compiled in by tests/fuzz/build.mk).
 *
 * The input is what a client sends after "354": it is fed whole, in 3-byte
 * pieces and in pieces whose sizes the input's first byte chooses, with a
 * small output cap so the "output full" path is taken too. Every split
 * must end the message at the same byte and give the same output, and the
 * output must be CRLF-only with no end-of-data sequence in it (nothing a
 * strict or lenient next hop could read as the end of the message). A
 * crash, a sanitizer report, a leak or an abort here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/smtpd/smtpd_data.h"

#define FUZZ_OUTMAX	64	/* small, so a chunk fills up mid-input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_feed - the whole input in pieces of step bytes; -1 if no end of data. */
static long fuzz_feed(const char *in, size_t n, size_t step, struct buf *all)
{
	struct smtpd_data d;
	struct buf chunk = BUF_INIT;
	size_t pos = 0;
	int done = 0;

	smtpd_data_init(&d);
	while (pos < n && !done) {
		size_t piece = n - pos < step ? n - pos : step;
		size_t used = smtpd_data_feed(&d, in + pos, piece, &chunk, FUZZ_OUTMAX, &done);

		if (used > piece || (used == 0 && chunk.len == 0 && !done))
			abort();	/* no progress: the session would spin */
		pos += used;
		if (chunk.len > FUZZ_OUTMAX)
			abort();
		(void)buf_append(all, chunk.data ? chunk.data : "", chunk.len);
		buf_reset(&chunk);
	}
	buf_free(&chunk);
	if (d.out_bytes != all->len)
		abort();
	return done ? (long)pos : -1;
}

/* fuzz_check_output - CRLF only, and nothing that could end the data early. */
static void fuzz_check_output(const struct buf *o)
{
	for (size_t i = 0; i < o->len; i++) {
		if (o->data[i] == '\r' && (i + 1 >= o->len || o->data[i + 1] != '\n'))
			abort();
		if (o->data[i] == '\n' && (i == 0 || o->data[i - 1] != '\r'))
			abort();
	}
	if (o->len && memmem(o->data, o->len, "\r\n.\r\n", 5) != NULL)
		abort();
	if (o->len >= 3 && memcmp(o->data, ".\r\n", 3) == 0)
		abort();
}

static void fuzz_same(long ea, const struct buf *a, long eb, const struct buf *b)
{
	if (ea != eb || a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	long ea, eb, ec;

	ea = fuzz_feed((const char *)data, size, size ? size : 1, &a);
	eb = fuzz_feed((const char *)data, size, 3, &b);
	ec = fuzz_feed((const char *)data, size, size ? 1 + data[0] % 17 : 1, &c);
	fuzz_same(ea, &a, eb, &b);
	fuzz_same(ea, &a, ec, &c);
	fuzz_check_output(&a);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
