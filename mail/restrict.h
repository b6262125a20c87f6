/*
 * restrict.h - the SMTP server's restriction vocabulary: Postfix's names for
 * the restrictions moat implements, parsing a smtpd_*_restrictions list
 * (arguments, restriction classes, the old names Postfix 3.7 still takes),
 * and the open-relay analysis of a set of lists.
 *
 * One parser for the smtpd stage, for moatd's start-up check and for the
 * restriction lists a policy service (or, later, an access table) answers
 * with, so they can never disagree on what a list means. A name moat does
 * not implement (check_ccert_access, permit_mx_backup, a typo) is an error,
 * never skipped: a policy is never silently weaker than written.
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
	RESTRICT_REJECT_UNKNOWN_SENDER_DOMAIN, RESTRICT_REJECT_UNKNOWN_RCPT_DOMAIN,
	RESTRICT_REJECT_UNKNOWN_HELO, RESTRICT_CHECK_RELAY_DOMAINS, RESTRICT_REJECT_UNLISTED_SENDER,
	RESTRICT_REJECT_UNLISTED_RCPT,
	/* These take one argument, the next item of the list. */
	RESTRICT_REJECT_RBL_CLIENT, RESTRICT_REJECT_RHSBL_CLIENT, RESTRICT_REJECT_RHSBL_REVERSE,
	RESTRICT_REJECT_RHSBL_HELO, RESTRICT_REJECT_RHSBL_SENDER, RESTRICT_REJECT_RHSBL_RCPT,
	RESTRICT_PERMIT_DNSWL_CLIENT, RESTRICT_PERMIT_RHSWL_CLIENT, RESTRICT_CHECK_CLIENT_ACCESS,
	RESTRICT_CHECK_HELO_ACCESS, RESTRICT_CHECK_SENDER_ACCESS, RESTRICT_CHECK_RCPT_ACCESS,
	RESTRICT_CHECK_REVERSE_ACCESS,
	/* The server forms: the subject's own addresses (_a_), its MX or NS hosts. */
	RESTRICT_CHECK_CLIENT_A_ACCESS, RESTRICT_CHECK_CLIENT_MX_ACCESS,
	RESTRICT_CHECK_CLIENT_NS_ACCESS, RESTRICT_CHECK_REVERSE_A_ACCESS,
	RESTRICT_CHECK_REVERSE_MX_ACCESS, RESTRICT_CHECK_REVERSE_NS_ACCESS,
	RESTRICT_CHECK_HELO_A_ACCESS, RESTRICT_CHECK_HELO_MX_ACCESS, RESTRICT_CHECK_HELO_NS_ACCESS,
	RESTRICT_CHECK_SENDER_A_ACCESS, RESTRICT_CHECK_SENDER_MX_ACCESS,
	RESTRICT_CHECK_SENDER_NS_ACCESS, RESTRICT_CHECK_RCPT_A_ACCESS,
	RESTRICT_CHECK_RCPT_MX_ACCESS, RESTRICT_CHECK_RCPT_NS_ACCESS,
	RESTRICT_CHECK_POLICY,
	RESTRICT_CLASS,		/* a smtpd_restriction_classes name; item.cls says which */
	RESTRICT_COUNT
};

struct restrict_item {
	enum restrict_id id;
	char *arg;		/* zone[=filter], table spec or policy endpoint; NULL without one */
	size_t cls;		/* RESTRICT_CLASS: index in the class table */
};

struct restrict_list {
	const char *param;	/* "smtpd_relay_restrictions": not owned */
	struct restrict_item *v;
	size_t n;
};

/* smtpd_restriction_classes: names and the lists they stand for. */
struct restrict_classes {
	size_t n;
	char **names;
	struct restrict_list *lists;
};

/* restrict_name - Postfix's name of a restriction (not of a class). */
const char *restrict_name(enum restrict_id r);

/* restrict_item_name - what an item is called in logs and messages. */
const char *restrict_item_name(const struct restrict_item *it, const struct restrict_classes *c);

/* restrict_takes_arg - 1 if r reads the next list item as its argument. */
int restrict_takes_arg(enum restrict_id r);

/* What an access table restriction looks up: whose name or address, and how. */
enum restrict_subject { RS_CLIENT, RS_REVERSE, RS_HELO, RS_SENDER, RS_RCPT };
enum restrict_server { RS_SELF, RS_A, RS_MX, RS_NS };	/* RS_SELF: the subject itself */

/*
 * restrict_access - 1 if r is a check_*_access restriction (its argument a
 * table), with its subject and server form in *subj and *srv (may be NULL).
 */
int restrict_access(enum restrict_id r, enum restrict_subject *subj, enum restrict_server *srv);

/*
 * restrict_parse - items (NULL-terminated, as conf_list gives them) into l;
 * names are case-insensitive, as in Postfix; a class name of cls (may be
 * NULL) stands for its list. -1 and a reason naming the bad item in why (l
 * is then empty).
 */
int restrict_parse(struct restrict_list *l, const char *param, char *const *items,
		   const struct restrict_classes *cls, struct buf *why);
/* restrict_parse_text - the same for a list written as text ("a, b c"). */
int restrict_parse_text(struct restrict_list *l, const char *param, const char *text,
			const struct restrict_classes *cls, struct buf *why);
void restrict_free(struct restrict_list *l);

/*
 * restrict_classes_init - the classes named in names (NULL-terminated);
 * value(name, ctx) gives each one's list text, or NULL when main.cf does
 * not define it. Refuses a class without a definition, one named like a
 * restriction, and classes that use each other in a loop. -1 with the
 * reason (and the offending class in *bad) in why.
 */
typedef const char *restrict_class_value_fn(const char *name, void *ctx);
int restrict_classes_init(struct restrict_classes *c, char *const *names,
			  restrict_class_value_fn *value, void *ctx, const char **bad,
			  struct buf *why);
void restrict_classes_free(struct restrict_classes *c);

/*
 * restrict_open_relay - 1 if the lists, applied in turn as smtpd applies them
 * to one recipient, let a stranger relay: a client outside mynetworks that
 * has not authenticated, sending to a domain that is neither ours nor in
 * relay_domains, and choosing its HELO name, sender and DNS freely. A
 * policy service is assumed to say OK. Then why says which lists let it
 * through and at which restriction. 0 if some list rejects (or defers)
 * such a recipient.
 */
int restrict_open_relay(const struct restrict_list *lists, size_t n,
			const struct restrict_classes *cls, struct buf *why);

#endif
