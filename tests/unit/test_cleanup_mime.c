/*
 * test_cleanup_mime.c - the cleanup stage's MIME structure scanner
 * (daemons/cleanup/cleanup_mime.c, compiled in here): nesting, boundaries
 * and their length limit, the line length limit, encoding domains, 8-bit
 * checks in headers and bodies, multipart/digest defaults; and that the
 * verdict never depends on how the content is cut into chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemons/cleanup/cleanup_mime.c"

#define ALL (CLEANUP_MIME_ERR_NESTING | CLEANUP_MIME_ERR_8BIT_HEADER | CLEANUP_MIME_ERR_8BIT_BODY \
	     | CLEANUP_MIME_ERR_DOMAIN)

static struct cleanup_mime_params params(void)
{
	struct cleanup_mime_params p = { 2048, 2048, 102400, 100, ALL };

	return p;
}

/* verdict - the error for text fed in pieces of `piece` bytes (0: all at once). */
static unsigned verdict_in(const struct cleanup_mime_params *p, const char *text, size_t piece,
			   struct buf *excerpt)
{
	struct cleanup_mime cm;
	size_t len = strlen(text);
	unsigned err;

	cleanup_mime_init(&cm, p);
	if (piece == 0)
		piece = len ? len : 1;
	for (size_t off = 0; off < len; off += piece)
		cleanup_mime_feed(&cm, text + off, len - off < piece ? len - off : piece);
	err = cleanup_mime_error(&cm);
	if (excerpt)
		buf_set_str(excerpt, buf_str(&cm.excerpt));
	cleanup_mime_free(&cm);
	return err;
}

/* verdict - the same whatever the chunks: whole, byte by byte, 7 at a time. */
static unsigned verdict(const struct cleanup_mime_params *p, const char *text)
{
	unsigned a = verdict_in(p, text, 0, NULL);

	assert_int_equal(verdict_in(p, text, 1, NULL), a);
	assert_int_equal(verdict_in(p, text, 7, NULL), a);
	return a;
}

static const char *MIXED =
	"From: a@example.com\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed;\r\n\tboundary=\"=_outer \\\"q\\\"\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--=_outer \"q\"\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"plain ascii\r\n"
	"--=_outer \"q\"\r\n"
	"content-transfer-encoding: 8BIT\r\n"
	"\r\n"
	"caf\xc3\xa9 in an 8bit part\r\n"
	"--=_outer \"q\"--\r\n"
	"epilogue\r\n";

/* 8-bit data where the part says 8bit is fine; where nothing says so it is not. */
static void test_8bit_body(void **state)
{
	struct cleanup_mime_params p = params();
	struct buf ex = BUF_INIT;

	(void)state;
	assert_int_equal(verdict(&p, MIXED), 0);
	assert_int_equal(verdict(&p, "Subject: x\r\n\r\nplain\r\n"), 0);
	assert_int_equal(verdict(&p, "Subject: x\r\n\r\ncaf\xc3\xa9\r\n"), CLEANUP_MIME_ERR_8BIT_BODY);
	assert_int_equal(verdict(&p, "Content-Transfer-Encoding: binary\r\n\r\ncaf\xc3\xa9\r\n"), 0);
	assert_int_equal(verdict(&p, "Content-Transfer-Encoding: base64\r\n\r\ncaf\xc3\xa9\r\n"),
			 CLEANUP_MIME_ERR_8BIT_BODY);
	/* the 8-bit part of MIXED without its declaration */
	char *bad = xstrdup(MIXED);
	char *cte = strstr(bad, "content-transfer-encoding: 8BIT");

	memcpy(cte, "X-Nothing-To-See-Here-At-All: 8", 31);
	assert_int_equal(verdict_in(&p, bad, 0, &ex), CLEANUP_MIME_ERR_8BIT_BODY);
	assert_string_equal(buf_str(&ex), "caf?? in an 8bit part");
	assert_int_equal(verdict(&p, bad), CLEANUP_MIME_ERR_8BIT_BODY);
	/* not reported: nothing to say */
	p.report = CLEANUP_MIME_ERR_NESTING;
	assert_int_equal(verdict(&p, bad), 0);
	xfree(bad);
	buf_free(&ex);
}

/* 8-bit text in a header, top level or in a part. */
static void test_8bit_header(void **state)
{
	struct cleanup_mime_params p = params();
	char *in_part = xstrdup(MIXED);

	(void)state;
	assert_int_equal(verdict(&p, "Subject: caf\xc3\xa9\r\n\r\nbody\r\n"), CLEANUP_MIME_ERR_8BIT_HEADER);
	memcpy(strstr(in_part, "text/plain"), "text/pl\xe4in", 10);
	assert_int_equal(verdict(&p, in_part), CLEANUP_MIME_ERR_8BIT_HEADER);
	p.report &= ~CLEANUP_MIME_ERR_8BIT_HEADER;
	assert_int_equal(verdict(&p, "Subject: caf\xc3\xa9\r\n\r\nbody\r\n"), 0);
	xfree(in_part);
}

/* nest - n multiparts, one inside the other, then an 8-bit part declared 8bit. */
static char *nest(unsigned n, const char *inner_type)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, "Subject: deep\r\n");
	for (unsigned i = 0; i < n; i++)
		buf_printf(&b, "Content-Type: %s; boundary=b%u\r\n\r\n--b%u\r\n",
			   inner_type, i, i);
	buf_append_str(&b, "Content-Transfer-Encoding: 8bit\r\n\r\n\xff\r\n");
	for (unsigned i = n; i-- > 0;)
		buf_printf(&b, "--b%u--\r\n", i);
	return buf_steal(&b);
}

/* mime_nesting_limit: deeper multipart or message/rfc822 nesting is refused. */
static void test_nesting_limit(void **state)
{
	struct cleanup_mime_params p = params();
	char *five = nest(5, "multipart/mixed");
	const char *msg3 = "Content-Type: message/rfc822\r\n\r\n"
			   "Content-Type: message/rfc822\r\n\r\n"
			   "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n";

	(void)state;
	p.nesting_limit = 5;
	assert_int_equal(verdict(&p, five), 0);
	p.nesting_limit = 4;
	assert_int_equal(verdict(&p, five), CLEANUP_MIME_ERR_NESTING);
	p.nesting_limit = 3;
	assert_int_equal(verdict(&p, msg3), 0);
	p.nesting_limit = 2;
	assert_int_equal(verdict(&p, msg3), CLEANUP_MIME_ERR_NESTING);
	/* not reported: the rest is one body (and here its 8-bit byte is not declared) */
	p.report = CLEANUP_MIME_ERR_8BIT_BODY;
	p.nesting_limit = 4;
	assert_int_equal(verdict(&p, five), CLEANUP_MIME_ERR_8BIT_BODY);
	xfree(five);
}

/* An outer boundary closes the inner multipart; the close leads to the epilogue. */
static void test_outer_boundary_closes_inner(void **state)
{
	struct cleanup_mime_params p = params();
	const char *text =
		"Content-Type: multipart/mixed; boundary=OUT\r\n\r\n"
		"--OUT\r\n"
		"Content-Type: multipart/alternative; boundary=IN\r\n\r\n"
		"--IN\r\n\r\nascii\r\n"
		"--OUT\r\n"			/* IN was never closed */
		"Content-Transfer-Encoding: 8bit\r\n\r\n\xe9\r\n"
		"--OUT--\r\n"
		"epilogue\r\n";
	char *late = NULL;

	(void)state;
	assert_int_equal(verdict(&p, text), 0);
	/* 8-bit in the epilogue of a 7bit multipart */
	late = xmalloc(strlen(text) + 8);
	strcpy(late, text);
	strcat(late, "\xe9\r\n");
	assert_int_equal(verdict(&p, late), CLEANUP_MIME_ERR_8BIT_BODY);
	xfree(late);
}

/*
 * mime_boundary_length_limit: boundaries are told apart by that many bytes.
 * "--abcdefQQQ" is not the boundary "abcdefXYZ", unless only 6 bytes count.
 */
static void test_boundary_length_limit(void **state)
{
	struct cleanup_mime_params p = params();
	const char *text =
		"Content-Type: multipart/mixed; boundary=abcdefXYZ\r\n\r\n"
		"--abcdefXYZ\r\n\r\nascii\r\n"
		"--abcdefQQQ\r\n"
		"Content-Transfer-Encoding: 8bit\r\n\r\n\xe9\r\n"
		"--abcdefXYZ--\r\n";

	(void)state;
	assert_int_equal(verdict(&p, text), CLEANUP_MIME_ERR_8BIT_BODY);
	p.boundary_limit = 6;
	assert_int_equal(verdict(&p, text), 0);
}

/*
 * line_length_limit: a line is examined on its first that many bytes, so a
 * boundary longer than that is never seen; 8-bit bytes past it still count.
 */
static void test_line_length_limit(void **state)
{
	struct cleanup_mime_params p = params();
	const char *text =
		"Content-Type: multipart/mixed; boundary=0123456789012345678901234567890123456789\r\n\r\n"
		"--0123456789012345678901234567890123456789\r\n"
		"Content-Transfer-Encoding: 8bit\r\n\r\n\xe9\r\n"
		"--0123456789012345678901234567890123456789--\r\n";
	struct buf longline = BUF_INIT;

	(void)state;
	assert_int_equal(verdict(&p, text), 0);
	p.line_limit = 30;
	assert_int_equal(verdict(&p, text), CLEANUP_MIME_ERR_8BIT_BODY);
	p.line_limit = 40;
	buf_append_str(&longline, "Subject: x\r\n\r\n");
	for (int i = 0; i < 100; i++)
		buf_append_str(&longline, "a");
	buf_append_str(&longline, "\xe9\r\n");
	assert_int_equal(verdict(&p, buf_str(&longline)), CLEANUP_MIME_ERR_8BIT_BODY);
	buf_free(&longline);
}

/* strict_mime_encoding_domain: multipart and message types are 7bit, 8bit or binary. */
static void test_encoding_domain(void **state)
{
	struct cleanup_mime_params p = params();
	const char *b64 = "Content-Type: multipart/mixed; boundary=x\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n";
	const char *qp = "Content-Type: message/partial; id=1\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n\r\nhi\r\n";
	const char *leaf = "Content-Type: text/plain\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n";

	(void)state;
	assert_int_equal(verdict(&p, b64), CLEANUP_MIME_ERR_DOMAIN);
	assert_int_equal(verdict(&p, qp), CLEANUP_MIME_ERR_DOMAIN);
	assert_int_equal(verdict(&p, leaf), 0);
	p.report &= ~CLEANUP_MIME_ERR_DOMAIN;
	assert_int_equal(verdict(&p, b64), 0);
}

/* multipart/digest: a part without headers is a message/rfc822 with its own headers. */
static void test_digest(void **state)
{
	struct cleanup_mime_params p = params();
	const char *text = "Content-Type: multipart/digest; boundary=d\r\n\r\n"
			   "--d\r\n\r\n"
			   "Subject: enclosed\r\n\r\n\xe9\r\n"
			   "--d--\r\n";
	const char *hdr = "Content-Type: multipart/digest; boundary=d\r\n\r\n"
			  "--d\r\n\r\nSubject: caf\xe9\r\n\r\nx\r\n--d--\r\n";

	(void)state;
	assert_int_equal(verdict(&p, text), CLEANUP_MIME_ERR_8BIT_BODY);
	assert_int_equal(verdict(&p, hdr), CLEANUP_MIME_ERR_8BIT_HEADER);
	p.nesting_limit = 1;
	assert_int_equal(verdict(&p, text), CLEANUP_MIME_ERR_NESTING);
}

/* Odd input never upsets the scanner: no line end, lone CRs, huge headers, NULs. */
static void test_odd_input(void **state)
{
	struct cleanup_mime_params p = params();
	struct buf big = BUF_INIT;
	struct cleanup_mime cm;

	(void)state;
	p.header_limit = 64;
	p.line_limit = 16;
	buf_append_str(&big, "Content-Type: multipart/mixed; boundary=");
	for (int i = 0; i < 10000; i++)
		buf_putc(&big, 'b');
	buf_append_str(&big, "\r\n\r\n\r\r\n--bbb\r\n");
	assert_int_equal(verdict(&p, buf_str(&big)), 0);
	assert_int_equal(verdict(&p, "no line end at all"), 0);
	assert_int_equal(verdict(&p, ""), 0);
	cleanup_mime_init(&cm, &p);
	cleanup_mime_feed(&cm, "A: b\r\n\r\n\0\0\0\r\n", 12);
	assert_int_equal(cleanup_mime_error(&cm), 0);
	/* a new message starts clean */
	cleanup_mime_feed(&cm, "\xff\r\n", 3);
	assert_int_equal(cleanup_mime_error(&cm), CLEANUP_MIME_ERR_8BIT_BODY);
	cleanup_mime_reset(&cm, p.report);
	cleanup_mime_feed(&cm, "Subject: x\r\n\r\nok\r\n", 18);
	assert_int_equal(cleanup_mime_error(&cm), 0);
	cleanup_mime_free(&cm);
	buf_free(&big);
}

/*
 * The state content checks read before each line: whose headers a line
 * would belong to, which body segment, and whether it is a delimiter.
 * Codes per line: P/M/N = a header of the message, a MIME part, an attached
 * message; b = body; '|' = a delimiter.
 */
static void test_line_state(void **state)
{
	static const char *text =
		"Subject: s\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
		"pre\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: inner\r\n\r\ninner body\r\n--B\r\nX: y\r\n\r\nbody\r\n--B--\r\nepi\r\n";
	static const char *want = "PPPb|MMNNb|MMb|b";
	static const unsigned segs[] = { 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5 };
	struct cleanup_mime_params p = params();
	struct cleanup_mime cm;
	const char *line = text;
	size_t i = 0;

	(void)state;
	cleanup_mime_init(&cm, &p);
	for (const char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, i++) {
		size_t len = (size_t)(nl + 1 - line);
		char got = cleanup_mime_is_boundary(&cm, line, len - 2) ? '|'
			   : !cm.in_header ? 'b' : "PMN"[cm.entity];

		assert_true(i < strlen(want));
		assert_int_equal(got, want[i]);
		assert_int_equal(cm.segment, segs[i]);
		cleanup_mime_feed(&cm, line, len);
	}
	assert_int_equal(i, strlen(want));
	assert_int_equal(cleanup_mime_error(&cm), 0);
	cleanup_mime_free(&cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_8bit_body),
		cmocka_unit_test(test_8bit_header),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_outer_boundary_closes_inner),
		cmocka_unit_test(test_boundary_length_limit),
		cmocka_unit_test(test_line_length_limit),
		cmocka_unit_test(test_encoding_domain),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_line_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
