/*
 * fuzz_maincf.c - libFuzzer target for the configuration parsers.
 *
 * The input is parsed as main.cf (conf_load_text, which runs expansion and
 * every type check); the same bytes are then parsed as master.cf against
 * the resulting (or a default) configuration, which also exercises -o
 * overrides through conf_dup and conf_set. Warnings are discarded. A crash,
 * a sanitizer report, a leak or a hang here is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/msg.h"

static void fuzz_quiet(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)level;
	(void)text;
	(void)len;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct conf *c;
	struct master_cf *m;

	msg_set_sink(fuzz_quiet, NULL);
	c = conf_load_text((const char *)data, size, "main.cf", &err);
	if (!c)
		c = conf_load_text("", 0, "main.cf", &err);
	m = master_load_text((const char *)data, size, "master.cf", c, &err);
	master_free(m);
	conf_free(c);
	buf_free(&err);
	return 0;
}
