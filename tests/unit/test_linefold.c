/*
 * test_linefold.c - unit tests for mail/linefold.c: lines over the limit get
 * CRLF SPACE, nothing else changes, and the result is the same whatever the
 * chunk boundaries (a CR at the end of one chunk, the LF in the next).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mail/linefold.h"

/* tlf_fold - in folded at limit, fed in pieces of `piece` octets. */
static char *tlf_fold(const char *in, size_t n, size_t limit, size_t piece, size_t *outlen)
{
	struct linefold f;
	struct buf out = BUF_INIT;
	char *r;

	linefold_init(&f, limit);
	for (size_t off = 0; off < n; off += piece)
		assert_int_equal(linefold_run(&f, in + off, n - off < piece ? n - off : piece, &out), 0);
	assert_int_equal(linefold_finish(&f, &out), 0);
	*outlen = out.len;
	r = malloc(out.len + 1);
	memcpy(r, out.data ? out.data : "", out.len);
	r[out.len] = 0;
	buf_free(&out);
	return r;
}

static void tlf_expect(const char *in, size_t limit, const char *want)
{
	for (size_t piece = 1; piece <= strlen(in) + 1; piece++) {
		size_t len;
		char *got = tlf_fold(in, strlen(in), limit, piece, &len);

		if (len != strlen(want) || memcmp(got, want, len) != 0)
			fail_msg("limit %zu piece %zu: got \"%s\"", limit, piece, got);
		free(got);
	}
}

static void test_cases(void **state)
{
	(void)state;
	tlf_expect("0123456789\r\n", 10, "0123456789\r\n");
	tlf_expect("0123456789A\r\n", 10, "0123456789\r\n A\r\n");
	tlf_expect("0123456789ABCDEFGHIJKLMN\r\nok\r\n", 10,
		   "0123456789\r\n ABCDEFGHI\r\n JKLMN\r\nok\r\n");
	tlf_expect("0123456789", 10, "0123456789");
	tlf_expect("0123456789AB", 10, "0123456789\r\n AB");
	/* A CR that does not end a line is content, and counts. */
	tlf_expect("012345678\r9\r\n", 10, "012345678\r\r\n 9\r\n");
	tlf_expect("0123456789\r", 10, "0123456789\r\n \r");
	tlf_expect("short\r\n.dot\r\n\r\n", 4, "shor\r\n t\r\n.dot\r\n\r\n");
	tlf_expect("", 10, "");
}

/* Every line of a long mixed text stays within the limit, and chunking
 * never changes the result. */
static void test_chunking_and_bound(void **state)
{
	size_t n = 200000, wlen, len;
	char *in = malloc(n), *want, *got;

	(void)state;
	srand(7);
	for (size_t i = 0; i < n; i++) {
		int r = rand() % 100;

		in[i] = r < 2 ? '\n' : r < 5 ? '\r' : (char)('a' + r % 26);
	}
	want = tlf_fold(in, n, 998, n, &wlen);
	for (size_t line = 0, i = 0; i < wlen; i++) {
		if (want[i] == '\n')
			line = 0;
		else if (want[i] != '\r' || i + 1 >= wlen || want[i + 1] != '\n')
			assert_true(++line <= 998);
	}
	static const size_t pieces[] = { 1, 2, 3, 7, 64, 997, 998, 999, 65536 };
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		got = tlf_fold(in, n, 998, pieces[k], &len);
		assert_int_equal(len, wlen);
		assert_memory_equal(got, want, len);
		free(got);
	}
	free(want);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_chunking_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
