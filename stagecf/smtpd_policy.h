/*
 * smtpd_policy.h - what the SMTP server makes of main.cf: who is trusted,
 * which domains are ours or relayed to, the restriction lists, and the
 * session options that need more than a type check.
 *
 * One loader for the smtpd stage and for moatd's start-up check
 * (stagecf/check.c), so the two always agree: a configuration moatd
 * accepts is one every smtpd process accepts, and one it refuses stops
 * moatd with "file:line: parameter name: reason" before anything forks.
 */
#ifndef MOAT_STAGECF_SMTPD_POLICY_H
#define MOAT_STAGECF_SMTPD_POLICY_H

#include "conf/conf.h"
#include "lib/buf.h"
#include "mail/cidr.h"
#include "mail/domlist.h"
#include "mail/hostlist.h"
#include "mail/mynetworks.h"
#include "mail/restrict.h"

/* The restriction lists, in the order smtpd applies them. */
enum smtpd_list { L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RCPT, L_DATA, L_EOD, L_ETRN, L_COUNT };
/* The lists mail goes through (smtpd_etrn_restrictions is checked, never applied: no ETRN). */
#define L_MAIL_COUNT	L_ETRN

struct smtpd_policy {
	struct mynetworks mynetworks;	/* trusted clients; .local: this host (and proxy_interfaces) */
	struct domlist mydest, relay_domains;
	struct restrict_list lists[L_COUNT];
	struct restrict_classes classes;	/* smtpd_restriction_classes */
	const char *rbl_reply;		/* default_rbl_reply as written */
	struct hostlist debug_peers;	/* debug_peer_list */
	int debug_peer_level;
	const char *reject_footer;	/* smtpd_reject_footer as written; "" = none */
	char *const *noop_commands;	/* smtpd_noop_commands, owned by the conf */
	char *const *ehlo_discard;	/* smtpd_discard_ehlo_keywords, owned by the conf */
};

/* SMTPD_POLICY_INTERFACES: add this host's interface addresses (getifaddrs:
 * the stage does it before its sandbox; moatd's check does not, it may run
 * under the broker's seccomp filter on reload). SMTPD_POLICY_WARN: log the
 * warnings that belong to start-up once (moatd), not per process. */
#define SMTPD_POLICY_INTERFACES	0x1
#define SMTPD_POLICY_WARN	0x2

/* smtpd_policy_load - 0, or -1 and "where: parameter name: reason" in err. */
int smtpd_policy_load(struct smtpd_policy *p, const struct conf *c, unsigned flags,
		      struct buf *err);
void smtpd_policy_free(struct smtpd_policy *p);

/* smtpd_policy_endpoint - 1 if a list or class names endpoint in
 * check_policy_service (NULL endpoint: any). */
int smtpd_policy_endpoint(const struct smtpd_policy *p, const char *endpoint);

/* smtpd_policy_list_name - the parameter of a restriction list. */
const char *smtpd_policy_list_name(enum smtpd_list which);

#endif
