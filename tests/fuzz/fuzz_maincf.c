/*
 * fuzz_maincf.c - libFuzzer target for main.cf (conf/maincf.c, expand.c,
 * value.c, access.c).
 *
 * The input is parsed as main.cf (conf_load_text: lines, continuations,
 * $expansion with its loop and size limits, every type check). A refusal
 * must say why. An accepted file is then read back the way the stages read
 * it: every parameter through its typed accessor (a number must lie within
 * the table's bounds), a copy made and freed, and the input itself expanded
 * as text against the result. Warnings are discarded. A crash, a panic, a
 * sanitizer report, a leak or a hang here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/xmem.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_read_all - every parameter as its type says; numbers within bounds.
 * An unimplemented parameter reads as its default unexpanded, and 0 when
 * that does not parse (conf_resolve_one: "${stress?{10}:{300}}s" is no
 * time): no stage reads it, so only its own bounds are not promised.
 */
static void fuzz_read_all(const struct conf *c)
{
	for (size_t i = 0; i < conf_nparams; i++) {
		const struct conf_param_def *d = &conf_params[i];
		int64_t v, min = d->flags & CONF_F_UNIMPLEMENTED ? 0 : d->min;

		switch (d->type) {
		case CONF_BOOL:
			if ((unsigned)conf_bool(c, d->name) > 1)
				abort();
			break;
		case CONF_INT:
			v = conf_int(c, d->name);
			if (v < min || v > d->max)
				abort();
			break;
		case CONF_TIME:
			v = conf_time(c, d->name);
			if (v < min || v > d->max)
				abort();
			break;
		case CONF_SIZE:
			if (conf_size(c, d->name) > (uint64_t)d->max)
				abort();
			break;
		case CONF_LIST:
		case CONF_TABLES:
			/* Items are strings; "{ }" is an empty one, as in Postfix. */
			for (char *const *l = conf_list(c, d->name); l && *l; l++)
				(void)strlen(*l);
			break;
		case CONF_STR:
			(void)conf_str(c, d->name);
			break;
		}
		(void)conf_raw(c, d->name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct conf *c, *dup;
	char *text;

	msg_set_sink(fuzz_quiet, NULL);
	c = conf_load_text((const char *)data, size, "main.cf", &err);
	if (c == NULL) {
		if (err.len == 0)
			abort();	/* a refusal names its reason */
		buf_free(&err);
		return 0;
	}
	fuzz_read_all(c);
	dup = conf_dup(c);
	fuzz_read_all(dup);
	conf_free(dup);
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;		/* as a string: up to the first NUL */
	buf_reset(&err);
	if (conf_expand(c, text, &out, &err) < 0 && err.len == 0)
		abort();
	xfree(text);
	conf_free(c);
	buf_free(&err);
	buf_free(&out);
	return 0;
}
