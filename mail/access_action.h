/*
 * access_action.h - what an access table or a policy service answers, read
 * as Postfix reads it: OK, DUNNO, REJECT [text], DEFER [text],
 * DEFER_IF_REJECT [text], DEFER_IF_PERMIT [text], 4NN/5NN text, an
 * all-numeric result (OK), HOLD, DISCARD, PREPEND header, REDIRECT address,
 * BCC address, WARN text, INFO text, FILTER (refused: moat has no content
 * filters), or else a restriction list (restriction names and classes) to
 * apply in its place.
 *
 * A pure function: smtpd applies the result (smtpd_check.c); the same code
 * will read access table results. The answer comes from a policy server
 * or a table, not from the SMTP client, but it is still parsed strictly:
 * an answer it cannot read is an error the caller turns into a 451 4.3.5,
 * never into an accept.
 */
#ifndef MOAT_MAIL_ACCESS_ACTION_H
#define MOAT_MAIL_ACCESS_ACTION_H

#include <stddef.h>

#include "lib/buf.h"

enum access_kind {
	ACCESS_OK, ACCESS_DUNNO, ACCESS_REJECT, ACCESS_DEFER_IF_PERMIT, ACCESS_DEFER_IF_REJECT,
	ACCESS_HOLD, ACCESS_DISCARD, ACCESS_PREPEND, ACCESS_REDIRECT, ACCESS_BCC, ACCESS_WARN,
	ACCESS_INFO, ACCESS_RESTRICTIONS,
};

/* The reply codes the caller's configuration gives REJECT and DEFER. */
struct access_codes {
	int reject;		/* access_map_reject_code */
	int defer;		/* access_map_defer_code */
};

struct access_action {
	enum access_kind kind;
	int code;		/* REJECT (also DEFER and 4NN/5NN), DEFER_IF_*: the SMTP code */
	char dsn[12];		/* its enhanced status code, class digit matching code */
	const char *text;	/* the rest of the answer (never NULL; may be ""): reply
				 * text, header, address, restriction list; points into
				 * the answer parsed */
};

/* access_action_parse - 0 with *a set, or -1 and a reason in why. */
int access_action_parse(const char *value, const struct access_codes *codes,
			struct access_action *a, struct buf *why);

/* access_dsn_len - the length of an RFC 3463 code x.y.z at s (then a blank or
 * the end), or 0: the enhanced status code a reply text may start with. */
size_t access_dsn_len(const char *s);

#endif
