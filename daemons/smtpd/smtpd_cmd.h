/*
 * smtpd_cmd.h - SMTP command lines: verbs, length limits, MAIL/RCPT arguments.
 *
 * Pure (no I/O, no stage state) so that unit tests and the fuzzer include it.
 */
#ifndef MOAT_SMTPD_CMD_H
#define MOAT_SMTPD_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "mail/addr.h"

/*
 * RFC 5321 4.5.3.1.4: a command line is at most 512 octets with its CRLF.
 * MAIL may be longer only by the parameters the extensions we announce
 * add: SIZE (26, RFC 1870), BODY (16, RFC 6152), SMTPUTF8 (10, RFC 6531).
 * RCPT carries no parameter we support, so it stays at 512. The reader
 * therefore never needs more than SMTPD_LINE_MAX octets of one line.
 */
#define SMTPD_CMD_MAX		512
#define SMTPD_MAIL_EXTRA	(26 + 16 + 10)
#define SMTPD_LINE_MAX		(SMTPD_CMD_MAX + SMTPD_MAIL_EXTRA)

enum smtpd_verb {
	V_UNKNOWN, V_HELO, V_EHLO, V_MAIL, V_RCPT, V_DATA, V_RSET, V_NOOP, V_QUIT,
	V_HELP, V_VRFY, V_EXPN, V_STARTTLS, V_COUNT
};

extern const char *const smtpd_verb_names[V_COUNT];

/*
 * smtpd_cmd_verb - the verb of line[0..len) (no CRLF); *arg points after the
 * verb and its blanks. MAIL and RCPT are recognised with their "FROM:" /
 * "TO:" keyword, which *arg skips (with blanks after the colon).
 * A MAIL/RCPT without its keyword gives V_UNKNOWN with *syntax = 1.
 */
enum smtpd_verb smtpd_cmd_verb(const char *line, size_t len, size_t *arg, int *syntax);

/* MAIL FROM parameters. */
struct smtpd_mail_params {
	uint64_t size;		/* SIZE=, 0 if absent */
	int body;		/* BODY_NONE / BODY_7BIT / BODY_8BITMIME */
	int smtputf8;
};

/*
 * smtpd_cmd_mail_params - parse " KEY[=VALUE]..." at p[0..len). 0 on
 * success; -1 with a full reply text in *reply (555/501) otherwise.
 */
int smtpd_cmd_mail_params(const char *p, size_t len, struct smtpd_mail_params *mp,
			  const char **reply);

/*
 * smtpd_cmd_len_ok - the length rule for a whole command line of wirelen
 * octets (with its line end) whose parameters take paramlen octets: 1 if
 * it may be accepted.
 */
int smtpd_cmd_len_ok(enum smtpd_verb v, size_t wirelen, size_t paramlen);

#endif
