/*
 * test_hdraddr.c - address spans in header values (mail/hdraddr.c): what
 * smtp_generic_maps may replace, and nothing else; hostile values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mail/hdraddr.h"

static int collect(void *ctx, size_t off, size_t len)
{
	struct buf *b = ((struct buf **)ctx)[0];
	const char *v = (const char *)((struct buf **)ctx)[1];

	if (b->len)
		(void)buf_putc(b, '|');
	return buf_append(b, v + off, len);
}

/* spans_of - the spans of v joined with '|'. */
static const char *spans_of(const char *v, struct buf *out)
{
	void *ctx[2] = { out, (void *)v };

	buf_reset(out);
	assert_int_equal(hdraddr_scan(v, strlen(v), collect, ctx), 0);
	return buf_str(out);
}

static void test_hdraddr_forms(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(spans_of(" a@b.example", &b), "a@b.example");
	assert_string_equal(spans_of(" \"x, y\" <a@b> (c, d), e@f (g)", &b), "a@b|e@f");
	assert_string_equal(spans_of(" grp: a@b, <c@d>; e@f", &b), "a@b|c@d|e@f");
	assert_string_equal(spans_of(" undisclosed-recipients:;", &b), "");
	assert_string_equal(spans_of(" <>, <@route:a@b>, @x", &b), "");
	assert_string_equal(spans_of(" \"q u\"@x.example", &b), "\"q u\"@x.example");
	assert_string_equal(spans_of(" a@[192.0.2.1]", &b), "a@[192.0.2.1]");
	assert_string_equal(spans_of(" John Doe a@b", &b), "");	/* obsolete: left alone */
	assert_string_equal(spans_of(" a@b (x (nested) y)\r\n\tc@d", &b), "");
	assert_string_equal(spans_of(" a@b,\r\n c@d", &b), "a@b|c@d");
	buf_free(&b);
}

static void test_hdraddr_hostile(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(spans_of(" \"unclosed a@b", &b), "");
	assert_string_equal(spans_of(" (unclosed a@b", &b), "");
	assert_string_equal(spans_of(" <a@b", &b), "");
	assert_string_equal(spans_of(" a@b \\", &b), "");
	assert_string_equal(spans_of("", &b), "");
	buf_free(&b);
}

static void test_hdraddr_quoting(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(hdraddr_internal("\"q \\\"u\"@x", 9, &b), 0);
	assert_string_equal(buf_str(&b), "q \"u@x");
	assert_int_equal(hdraddr_internal("a\r\n@x", 6, &b), -1);
	assert_int_equal(hdraddr_external("q \"u@x", &b), 0);
	assert_string_equal(buf_str(&b), "\"q \\\"u\"@x");
	assert_int_equal(hdraddr_external("a.b+c@x", &b), 0);
	assert_string_equal(buf_str(&b), "a.b+c@x");
	assert_int_equal(hdraddr_external("a..b@x", &b), 0);
	assert_string_equal(buf_str(&b), "\"a..b\"@x");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdraddr_forms),
		cmocka_unit_test(test_hdraddr_hostile),
		cmocka_unit_test(test_hdraddr_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
