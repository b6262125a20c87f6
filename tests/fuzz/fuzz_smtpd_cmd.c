/*
 * fuzz_smtpd_cmd.c - libFuzzer target for smtpd's command parser
 * (daemons/smtpd/smtpd_cmd.c, compiled in by tests/fuzz/build.mk).
 *
 * The input is split into lines as a client sends them (CRLF or bare LF)
 * and each is parsed as a command: verb, the length rule, and for MAIL and
 * RCPT the path and the ESMTP parameters, in the order the session uses
 * them. Offsets must stay inside the line, a path must stay inside its
 * limits, and a MAIL parameter list that parses must not claim more than
 * SMTPD_MAIL_EXTRA octets to be legal. A crash, a sanitizer report, a leak
 * or an abort here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/smtpd/smtpd_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_path - MAIL/RCPT argument: the path, then the parameters after it. */
static void fuzz_path(enum smtpd_verb v, const char *a, size_t alen, struct addr_path *p)
{
	unsigned pflags = ADDR_P_STRICT | (v == V_MAIL ? ADDR_P_NULL_OK : 0);
	struct smtpd_mail_params mp;
	const char *why, *reply = NULL;
	size_t used;

	if (addr_parse_path(a, alen, pflags, p, &used, &why) != ADDR_OK)
		return;
	if (used > alen || p->addr.len > ADDR_PATH_MAX || p->at > p->addr.len)
		abort();
	if (smtpd_cmd_mail_params(a + used, alen - used, &mp, &reply) < 0) {
		if (reply == NULL || (strncmp(reply, "501 ", 4) != 0 && strncmp(reply, "555 ", 4) != 0))
			abort();
		return;
	}
	if (mp.size > UINT64_MAX / 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct addr_path p;
	size_t start = 0;

	addr_path_init(&p);
	while (start < size) {
		const char *nl = memchr(in + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - in - start) : size - start;
		size_t end = len, arg;
		int syntax;
		enum smtpd_verb v;

		if (end > 0 && in[start + end - 1] == '\r')
			end--;		/* the session strips CRLF or a bare LF */
		v = smtpd_cmd_verb(in + start, end, &arg, &syntax);
		if (arg > end || v >= V_COUNT || (syntax && v != V_UNKNOWN))
			abort();
		if (v == V_MAIL || v == V_RCPT)
			fuzz_path(v, in + start + arg, end - arg, &p);
		if (smtpd_cmd_len_ok(v, end + 2, end - arg) && end + 2 > SMTPD_LINE_MAX)
			abort();
		start += len + 1;
	}
	addr_path_free(&p);
	return 0;
}
