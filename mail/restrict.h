/*
 * restrict.h - the SMTP server's restriction vocabulary: Postfix's names for
 * the restrictions moat implements, parsing a smtpd_*_restrictions list, and
 * the open-relay analysis of a set of lists.
 *
 * One parser for the smtpd stage and for moatd's start-up check, so the two
 * can never disagree on what a list means. A name moat does not implement
 * (check_*_access, reject_rbl_client, a restriction class, a typo) is an
 * error, never skipped: a policy is never silently weaker than written.
 */
#ifndef MOAT_MAIL_RESTRICT_H
#define MOAT_MAIL_RESTRICT_H

#include <stddef.h>

#include "lib/buf.h"

enum restrict_id {
	RESTRICT_PERMIT_MYNETWORKS, RESTRICT_PERMIT_SASL, RESTRICT_REJECT_UNAUTH_DEST,
	RESTRICT_DEFER_UNAUTH_DEST, RESTRICT_PERMIT_AUTH_DEST, RESTRICT_PERMIT, RESTRICT_REJECT,
	RESTRICT_DEFER, RESTRICT_REJECT_NON_FQDN_SENDER, RESTRICT_REJECT_NON_FQDN_RCPT,
	RESTRICT_REJECT_NON_FQDN_HELO, RESTRICT_REJECT_INVALID_HELO, RESTRICT_REJECT_UNAUTH_PIPELINING,
	RESTRICT_REJECT_UNKNOWN_CLIENT, RESTRICT_REJECT_UNKNOWN_REVERSE, RESTRICT_WARN_IF_REJECT,
	RESTRICT_COUNT
};

struct restrict_list {
	const char *param;	/* "smtpd_relay_restrictions": not owned */
	enum restrict_id *v;
	size_t n;
};

/* restrict_name - Postfix's name of a restriction. */
const char *restrict_name(enum restrict_id r);

/* restrict_parse - items (NULL-terminated, as conf_list gives them) into l;
 * -1 and a reason naming the bad item in why (l is then empty). */
int restrict_parse(struct restrict_list *l, const char *param, char *const *items,
		   struct buf *why);
void restrict_free(struct restrict_list *l);

/*
 * restrict_open_relay - 1 if the lists, applied in turn as smtpd applies them
 * to one recipient, let a stranger relay: a client outside mynetworks that
 * has not authenticated, sending to a domain that is neither ours nor in
 * relay_domains, and choosing its HELO name, sender and DNS freely. Then why
 * says which lists let it through and at which restriction. 0 if some list
 * rejects (or defers) such a recipient.
 */
int restrict_open_relay(const struct restrict_list *lists, size_t n, struct buf *why);

#endif
