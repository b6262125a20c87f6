/*
 * fuzz_smtpd_cmd.c - libFuzzer target for smtpd's command parser and DATA reader.
 *
 * The input is split into lines and each is parsed as a command (verb,
 * MAIL parameters, length rule, and the path for MAIL/RCPT); then the same
 * bytes are run through the DATA state machine, whole and in 3-byte
 * pieces, which must agree, and whose output must never contain an
 * end-of-data sequence nor a CR or LF outside CRLF. A crash, a sanitizer
 * report, a leak or an abort here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/smtpd/smtpd_cmd.c"
#include "daemons/smtpd/smtpd_data.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_commands(const char *in, size_t n)
{
	struct addr_path p;
	size_t start = 0;

	addr_path_init(&p);
	while (start < n) {
		const char *nl = memchr(in + start, '\n', n - start);
		size_t len = nl ? (size_t)(nl - in - start) : n - start;
		size_t arg, used;
		int syntax;
		const char *why, *reply;
		struct smtpd_mail_params mp;
		enum smtpd_verb v = smtpd_cmd_verb(in + start, len, &arg, &syntax);

		if (arg > len)
			abort();
		if (v == V_MAIL || v == V_RCPT) {
			if (addr_parse_path(in + start + arg, len - arg, ADDR_P_STRICT | ADDR_P_NULL_OK,
					    &p, &used, &why) == ADDR_OK) {
				if (used > len - arg || p.addr.len > ADDR_PATH_MAX)
					abort();
				(void)smtpd_cmd_mail_params(in + start + arg + used, len - arg - used,
							    &mp, &reply);
			}
		}
		(void)smtpd_cmd_len_ok(v, len + 2, len / 2);
		start += len + 1;
	}
	addr_path_free(&p);
}

static long fuzz_data(const char *in, size_t n, size_t step, struct buf *all)
{
	struct smtpd_data d;
	struct buf chunk = BUF_INIT;
	size_t pos = 0;
	int done = 0;

	smtpd_data_init(&d);
	while (pos < n && !done) {
		size_t used = smtpd_data_feed(&d, in + pos, n - pos < step ? n - pos : step, &chunk,
					      64, &done);

		pos += used;
		(void)buf_append(all, chunk.data ? chunk.data : "", chunk.len);
		buf_reset(&chunk);
	}
	buf_free(&chunk);
	return done ? (long)pos : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	long ea, eb;

	fuzz_commands((const char *)data, size);
	ea = fuzz_data((const char *)data, size, size ? size : 1, &a);
	eb = fuzz_data((const char *)data, size, 3, &b);
	if (ea != eb || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	for (size_t i = 0; i < a.len; i++) {
		if (a.data[i] == '\r' && (i + 1 >= a.len || a.data[i + 1] != '\n'))
			abort();
		if (a.data[i] == '\n' && (i == 0 || a.data[i - 1] != '\r'))
			abort();
	}
	if (a.len && memmem(a.data, a.len, "\r\n.\r\n", 5) != NULL)
		abort();
	if (a.len >= 3 && memcmp(a.data, ".\r\n", 3) == 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
