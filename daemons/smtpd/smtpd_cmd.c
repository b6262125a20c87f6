/*
 * smtpd_cmd.c - SMTP command-line parsing for smtpd (see smtpd_cmd.h).
 *
 * Called by the session for each command line the client sends, and by
 * tests/unit/test_smtpd_cmd.c and tests/fuzz/fuzz_smtpd_cmd.c directly.
 *
 * SECURITY: the line is client input. Nothing here allocates or copies; it
 * only returns offsets into the line, checked against its length. Numbers
 * go through strnum; unknown parameters are refused, never ignored.
 */
#include <string.h>
#include <strings.h>

#include "ipc/mailproto.h"
#include "lib/strnum.h"
#include "daemons/smtpd/smtpd_cmd.h"

const char *const smtpd_verb_names[V_COUNT] = {
	"UNKNOWN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT",
	"HELP", "VRFY", "EXPN", "STARTTLS",
};

static size_t cmd_skip_blanks(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* cmd_keyword - "FROM:" / "TO:" right after the verb's blank; end offset or 0. */
static size_t cmd_keyword(const char *s, size_t len, size_t i, const char *kw)
{
	size_t k = strlen(kw);

	if (len - i < k || strncasecmp(s + i, kw, k) != 0)
		return 0;
	return cmd_skip_blanks(s, len, i + k);
}

enum smtpd_verb smtpd_cmd_verb(const char *line, size_t len, size_t *arg, int *syntax)
{
	size_t w = 0, i;
	enum smtpd_verb v = V_UNKNOWN;

	*syntax = 0;
	*arg = len;
	while (w < len && line[w] != ' ' && line[w] != '\t')
		w++;
	for (int k = V_HELO; k < V_COUNT; k++)
		if (w == strlen(smtpd_verb_names[k]) && strncasecmp(line, smtpd_verb_names[k], w) == 0)
			v = (enum smtpd_verb)k;
	if (v == V_UNKNOWN)
		return v;
	i = cmd_skip_blanks(line, len, w);
	if (v == V_MAIL || v == V_RCPT) {
		size_t a = w < len && line[w] == ' '
			   ? cmd_keyword(line, len, w + 1, v == V_MAIL ? "FROM:" : "TO:") : 0;

		if (a == 0) {
			*syntax = 1;
			return V_UNKNOWN;
		}
		i = a;
	}
	*arg = i;
	return v;
}

/* cmd_param - one "KEY[=VALUE]" at p[i..len); sets the key/value spans. */
static size_t cmd_param(const char *p, size_t len, size_t i, size_t *klen, size_t *vstart,
			size_t *vlen)
{
	size_t start = i;

	while (i < len && p[i] != ' ' && p[i] != '=')
		i++;
	*klen = i - start;
	*vstart = i;
	*vlen = 0;
	if (i < len && p[i] == '=') {
		*vstart = ++i;
		while (i < len && p[i] != ' ')
			i++;
		*vlen = i - *vstart;
	}
	return i;
}

static int cmd_is(const char *k, size_t klen, const char *name)
{
	return klen == strlen(name) && strncasecmp(k, name, klen) == 0;
}

int smtpd_cmd_mail_params(const char *p, size_t len, struct smtpd_mail_params *mp,
			  const char **reply)
{
	size_t i = 0;

	memset(mp, 0, sizeof(*mp));
	while ((i = cmd_skip_blanks(p, len, i)) < len) {
		size_t k = i, klen, vs, vl;
		int seen_eq;

		i = cmd_param(p, len, i, &klen, &vs, &vl);
		seen_eq = vs > k + klen;
		if (cmd_is(p + k, klen, "SIZE") && seen_eq) {
			if (strnum_u64n(p + vs, vl, 0, UINT64_MAX / 2, &mp->size) < 0) {
				*reply = "501 5.5.4 Bad message size syntax";
				return -1;
			}
		} else if (cmd_is(p + k, klen, "BODY") && seen_eq) {
			if (cmd_is(p + vs, vl, "8BITMIME"))
				mp->body = BODY_8BITMIME;
			else if (cmd_is(p + vs, vl, "7BIT"))
				mp->body = BODY_7BIT;
			else {
				*reply = "501 5.5.4 Unsupported BODY parameter value";
				return -1;
			}
		} else if (cmd_is(p + k, klen, "SMTPUTF8") && !seen_eq) {
			mp->smtputf8 = 1;
		} else {
			*reply = "555 5.5.4 Unsupported option";
			return -1;
		}
	}
	return 0;
}

int smtpd_cmd_len_ok(enum smtpd_verb v, size_t wirelen, size_t paramlen)
{
	if (wirelen <= SMTPD_CMD_MAX)
		return 1;
	if (v != V_MAIL || wirelen > SMTPD_LINE_MAX || paramlen > SMTPD_MAIL_EXTRA)
		return 0;
	return wirelen - paramlen <= SMTPD_CMD_MAX;
}
