/*
 * fuzz_smtp_reply.c - libFuzzer target for mail/smtp_reply.c.
 *
 * The input is what a hostile SMTP server sends: the parser is run over it
 * reply after reply, as the smtp client does on its receive buffer with
 * pipelining, and each complete reply also goes through the one-line
 * formatter, the DSN helper and the EHLO keyword parser (with and without
 * a list of keywords to discard). A crash, a sanitizer report, a hang or a
 * parse that consumes nothing is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include "mail/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *discard[] = { "pipelining", "SIZE", "dsn", "", NULL };
	struct smtp_reply r;
	struct smtp_ehlo e;
	struct buf why = BUF_INIT, one = BUF_INIT;
	const char *p = (const char *)data;
	char dsn[16];
	size_t used;

	smtp_reply_init(&r);
	while (size > 0 && smtp_reply_parse(&r, p, size, &used, &why) == SMTP_REPLY_DONE) {
		if (used == 0 || used > size)
			__builtin_trap();
		smtp_reply_oneline(&r, &one);
		(void)smtp_reply_dsn(&r, dsn);
		smtp_reply_ehlo(&r, NULL, &e);
		smtp_reply_ehlo(&r, discard, &e);	/* smtp_discard_ehlo_keywords */
		p += used;
		size -= used;
	}
	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&one);
	return 0;
}
