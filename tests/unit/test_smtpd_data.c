/*
 * test_smtpd_data.c - unit tests for the smtpd DATA reader (daemons/smtpd/smtpd_data.c):
 * where a message ends, and the normalised wire form it hands to cleanup.
 * Every case is fed whole, one byte at a time and through a tiny output
 * limit, and must give the same answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemons/smtpd/smtpd_data.c"

/* feed - run the machine over in; returns bytes consumed up to the end (or -1). */
static long feed(const char *in, size_t n, size_t step, size_t outmax, struct buf *out)
{
	struct smtpd_data d;
	struct buf chunk = BUF_INIT;
	size_t pos = 0;
	int done = 0;

	smtpd_data_init(&d);
	buf_reset(out);
	while (pos < n && !done) {
		size_t len = n - pos < step ? n - pos : step;
		size_t used = smtpd_data_feed(&d, in + pos, len, &chunk, outmax, &done);

		pos += used;
		buf_append(out, chunk.data ? chunk.data : "", chunk.len);
		buf_reset(&chunk);
	}
	buf_free(&chunk);
	assert_int_equal(d.out_bytes, out->len);
	return done ? (long)pos : -1;
}

/*
 * check - every way of feeding gives want_out (wlen bytes) and ends after
 * consuming n - rest bytes (rest < 0: no end is found).
 */
static void check(const char *in, size_t n, const char *want_out, size_t wlen, long rest)
{
	static const size_t steps[] = { 1, 2, 3, 7, 65536 };
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (size_t outmax = 5; outmax <= 65536; outmax = outmax == 5 ? 65536 : outmax * 2) {
			long end = feed(in, n, steps[i], outmax, &out);

			assert_int_equal(end, rest < 0 ? -1 : (long)n - rest);
			assert_int_equal(out.len, wlen);
			assert_memory_equal(out.data ? out.data : "", want_out, out.len);
			/* the safety property: never an end-of-data sequence in the output */
			assert_null(memmem(out.data ? out.data : "", out.len, "\r\n.\r\n", 5));
		}
	}
	buf_free(&out);
}

/* ENDS: the message ends exactly at the end of the input; NOEND: it does not end. */
#define ENDS 0
#define NOEND (-1)
#define CHECK(in, out, rest) check(in, sizeof(in) - 1, out, sizeof(out) - 1, rest)

static void test_data_plain_end(void **state)
{
	(void)state;
	CHECK("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n", ENDS);
	CHECK(".\r\n", "", ENDS);					/* empty message */
	CHECK("a\r\n.\r\nMAIL FROM:<x>\r\n", "a\r\n", 15);	/* nothing after the end is read */
	CHECK("a\r\n..\r\n.\r\n", "a\r\n..\r\n", ENDS);	/* stuffing kept */
	CHECK("a\r\n.b\r\n.\r\n", "a\r\n.b\r\n", ENDS);
	CHECK("no end\r\n", "no end\r\n", NOEND);
}

static void test_data_smuggling_variants(void **state)
{
	(void)state;
	/* <LF>.<LF> */
	CHECK("a\n.\nMAIL FROM:<e@x>\r\n.\r\n", "a\r\n\r\nMAIL FROM:<e@x>\r\n", ENDS);
	/* <CR>.<CR> */
	CHECK("a\r.\rMAIL FROM:<e@x>\r\n.\r\n", "a . MAIL FROM:<e@x>\r\n", ENDS);
	/* <LF>.<CR><LF> */
	CHECK("a\n.\r\nMAIL FROM:<e@x>\r\n.\r\n", "a\r\n\r\nMAIL FROM:<e@x>\r\n", ENDS);
	/* <CR><LF>.<LF> */
	CHECK("a\r\n.\nMAIL FROM:<e@x>\r\n.\r\n", "a\r\n\r\nMAIL FROM:<e@x>\r\n", ENDS);
	/* <CR><LF>.<CR><CR><LF> */
	CHECK("a\r\n.\r\r\nX\r\n.\r\n", "a\r\n. \r\nX\r\n", ENDS);
	/* <CR><LF>.<CR>x */
	CHECK("a\r\n.\rx\r\n.\r\n", "a\r\n. x\r\n", ENDS);
	/* <LF>.<CR><LF> then a real end: only the real one counts */
	CHECK("a\n.\r\n.\r\n", "a\r\n\r\n", ENDS);
	/* a lone "." with bare LF at the very start, then CRLF-less end */
	CHECK(".\n.\r\n", "\r\n\r\n", NOEND);
	/* every smuggling variant, with no real end at all */
	CHECK("a\n.\n\r.\rb\r\n.\nc\n.\r\n", "a\r\n\r\n . b\r\n\r\nc\r\n\r\n", NOEND);
}

static void test_data_bare_newlines(void **state)
{
	(void)state;
	CHECK("a\nb\n\r\n.\r\n", "a\r\nb\r\n\r\n", ENDS);	/* a true CRLF.CRLF ends */
	CHECK("a\nb\r\n.\r\n", "a\r\nb\r\n", ENDS);
	CHECK("a\nb\n.\r\n", "a\r\nb\r\n\r\n", NOEND);	/* LF.CRLF never ends */
	CHECK("a\rb\r\n.\r\n", "a b\r\n", ENDS);			/* bare CR becomes a space */
	CHECK("a\r\r\n.\r\n", "a \r\n", ENDS);
	CHECK("\r\n\r\n.\r\n", "\r\n\r\n", ENDS);
}

static void test_data_binary_and_long(void **state)
{
	char big[200000];
	struct buf out = BUF_INIT;

	(void)state;
	CHECK("a\0b\r\n.\r\n", "a\0b\r\n", ENDS);
	memset(big, 'x', sizeof(big));
	memcpy(big + sizeof(big) - 7, "\r\n.\r\n", 5);
	assert_int_equal(feed(big, sizeof(big) - 2, 65536, 32768, &out), (long)sizeof(big) - 2);
	assert_int_equal(out.len, sizeof(big) - 7 + 2);
	buf_free(&out);
}

/* A line longer than the output chunk: feed must stop when out is full and
 * resume after the caller ships it, never spin in place. */
static void test_data_output_full_resumes(void **state)
{
	static char in[100000 + 5];
	struct smtpd_data d;
	struct buf out = BUF_INIT;
	size_t pos = 0, total = 0, len = 100000 + 5;
	int done = 0, rounds = 0;

	(void)state;
	memset(in, 'x', 100000);
	memcpy(in + 100000, "\r\n.\r\n", 5);
	smtpd_data_init(&d);
	while (!done && rounds++ < 1000) {
		size_t used = smtpd_data_feed(&d, in + pos, len - pos, &out, 32768, &done);

		assert_true(used > 0 || done || out.len + 4 >= 32768);
		pos += used;
		total += out.len;
		buf_reset(&out);
	}
	assert_true(done);
	assert_int_equal(pos, len);
	assert_int_equal(total, 100002);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_plain_end),
		cmocka_unit_test(test_data_smuggling_variants),
		cmocka_unit_test(test_data_bare_newlines),
		cmocka_unit_test(test_data_binary_and_long),
		cmocka_unit_test(test_data_output_full_resumes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
