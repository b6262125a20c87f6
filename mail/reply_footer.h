/*
 * reply_footer.h - smtpd_reject_footer: text appended to every 4xx/5xx
 * reply of the SMTP server, as Postfix does it.
 *
 * The template is taken as written (no main.cf $name expansion); it knows
 * four attributes of the session: $client_address, $client_port,
 * $localtime and $server_name (also as ${name} or $(name)); "$$" is a "$".
 * The two characters \n break the footer into lines, each of which gets
 * the reply's code and enhanced status code; \c at the start joins the
 * first footer line to the reply's last line instead.
 */
#ifndef MOAT_MAIL_REPLY_FOOTER_H
#define MOAT_MAIL_REPLY_FOOTER_H

#include <stddef.h>

#include "lib/buf.h"

struct reply_footer_vars {
	const char *client_address;
	const char *client_port;
	const char *localtime;
	const char *server_name;
};

/* reply_footer_check - 0 if every $name in tmpl is one of the four; else
 * -1 and a reason in why (a configuration error, found at start-up). */
int reply_footer_check(const char *tmpl, struct buf *why);

/* reply_footer_add - out[start..] is one complete reply (lines ending in
 * CRLF); append the footer. -1 (and the reply untouched) if it does not
 * look like a reply or the result would not fit in out. */
int reply_footer_add(struct buf *out, size_t start, const char *tmpl,
		     const struct reply_footer_vars *v);

#endif
