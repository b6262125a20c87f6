/*
 * test_conf_util.h - helpers shared by the conf unit tests: capturing
 * warnings through msg_set_sink, and loading main.cf text from a string.
 */
#ifndef MOAT_TEST_CONF_UTIL_H
#define MOAT_TEST_CONF_UTIL_H

#include <string.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/msg.h"

static struct buf test_warnings;	/* every warning since the last reset */

static inline void test_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)level;
	(void)ctx;
	buf_append(&test_warnings, text, len);
	buf_putc(&test_warnings, '\n');
}

/* test_capture - start collecting warnings (forgetting earlier ones). */
static inline void test_capture(void)
{
	buf_reset(&test_warnings);
	msg_set_sink(test_sink, NULL);
}

static inline int test_warned(const char *needle)
{
	return strstr(buf_str(&test_warnings), needle) != NULL;
}

/* test_load - parse text as "main.cf"; err gets the reason on failure. */
static inline struct conf *test_load(const char *text, struct buf *err)
{
	buf_reset(err);
	return conf_load_text(text, strlen(text), "main.cf", err);
}

static inline int test_conf_teardown(void **state)
{
	(void)state;
	msg_set_sink(NULL, NULL);
	buf_free(&test_warnings);
	return 0;
}

#endif
