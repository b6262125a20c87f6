/*
 * smtpd_policy.c - the SMTP server's reading of main.cf (see smtpd_policy.h).
 *
 * Called by the smtpd stage before its sandbox and by moatd's start-up
 * check for every smtpd service, with that service's -o overrides applied.
 * Whatever it cannot honour exactly it refuses, naming file and line: an
 * unknown or unimplemented restriction, a domain list entry that needs a
 * table, a restriction set that makes this host an open relay (unless
 * smtpd_open_relay_acknowledged = yes). A relay policy is never half
 * applied.
 *
 * SECURITY: reads only the configuration (trusted) and, with
 * SMTPD_POLICY_INTERFACES, the kernel's interface list. No client input.
 */
#include <string.h>

#include "lib/msg.h"
#include "mail/access_action.h"
#include "mail/dnsbl.h"
#include "mail/reply_footer.h"
#include "stagecf/smtpd_networks.h"
#include "stagecf/smtpd_policy.h"
#include "stagecf/stagecf.h"

static const char *const policy_lists[L_COUNT] = {
	[L_CLIENT] = CONF_NAME("smtpd_client_restrictions"),
	[L_HELO] = CONF_NAME("smtpd_helo_restrictions"),
	[L_SENDER] = CONF_NAME("smtpd_sender_restrictions"),
	[L_RELAY] = CONF_NAME("smtpd_relay_restrictions"),
	[L_RCPT] = CONF_NAME("smtpd_recipient_restrictions"),
	[L_DATA] = CONF_NAME("smtpd_data_restrictions"),
	[L_EOD] = CONF_NAME("smtpd_end_of_data_restrictions"),
	[L_ETRN] = CONF_NAME("smtpd_etrn_restrictions"),
};

const char *smtpd_policy_list_name(enum smtpd_list which)
{
	return which < L_COUNT ? policy_lists[which] : "?";
}

static int policy_domains(struct smtpd_policy *p, const struct conf *c, struct buf *err)
{
	char *const *pdms = conf_list(c, "parent_domain_matches_subdomains");
	struct buf why = BUF_INIT;
	const char *bad = NULL;

	if (domlist_init_tables(&p->mydest, conf_list(c, "mydestination"),
			 domlist_param_in(pdms, "mydestination"), &why) < 0)
		bad = "mydestination";
	else if (domlist_init_tables(&p->relay_domains, conf_list(c, "relay_domains"),
			      domlist_param_in(pdms, "relay_domains"), &why) < 0)
		bad = "relay_domains";
	if (bad)
		stagecf_fail(err, c, bad, "%s", buf_str(&why));
	buf_free(&why);
	return bad ? -1 : 0;
}

/* policy_rbl_reply - default_rbl_reply knows only the $rbl_* and client names. */
static int policy_rbl_reply(const struct smtpd_policy *p, const struct conf *c, struct buf *err)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	int r = dnsbl_expand(p->rbl_reply, dnsbl_var_known, NULL, &out, &why);

	if (r < 0)
		stagecf_fail(err, c, "default_rbl_reply", "%s", buf_str(&why));
	buf_free(&out);
	buf_free(&why);
	return r;
}

/* policy_default_action - smtpd_policy_service_default_action is an action smtpd can apply. */
static int policy_default_action(const struct conf *c, struct buf *err)
{
	static const struct access_codes codes = { 554, 450 };
	const char *v = conf_str(c, "smtpd_policy_service_default_action");
	struct access_action a;
	struct buf why = BUF_INIT;
	int r = access_action_parse(v, &codes, &a, &why);

	if (r == 0 && (a.kind == ACCESS_HOLD || a.kind == ACCESS_REDIRECT || a.kind == ACCESS_BCC))
		buf_append_str(&why, "HOLD, REDIRECT and BCC are not supported by moat yet"), r = -1;
	if (r < 0)
		stagecf_fail(err, c, "smtpd_policy_service_default_action", "%s", buf_str(&why));
	buf_free(&why);
	return r;
}

/* policy_class_value - a class's list, main.cf's value expanded (NULL: not defined). */
struct policy_class_ctx {
	const struct conf *c;
	struct buf text;
};

static const char *policy_class_value(const char *name, void *ctx)
{
	struct policy_class_ctx *cc = ctx;
	const char *raw = NULL, *n;
	struct buf err = BUF_INIT;

	for (size_t i = 0; (n = conf_extra(cc->c, i, &raw)) != NULL; i++)
		if (strcmp(n, name) == 0)
			break;
	buf_reset(&cc->text);
	if (n == NULL || conf_expand(cc->c, raw, &cc->text, &err) < 0)
		n = NULL;
	buf_free(&err);
	return n ? buf_str(&cc->text) : NULL;
}

static int policy_classes(struct smtpd_policy *p, const struct conf *c, struct buf *err)
{
	struct policy_class_ctx cc = { c, BUF_INIT };
	struct buf why = BUF_INIT;
	const char *bad = NULL;
	int r = restrict_classes_init(&p->classes, conf_list(c, "smtpd_restriction_classes"),
				      policy_class_value, &cc, &bad, &why);

	if (r < 0)
		stagecf_fail(err, c, "smtpd_restriction_classes", "%s", buf_str(&why));
	buf_free(&why);
	buf_free(&cc.text);
	return r;
}

static int policy_restrictions(struct smtpd_policy *p, const struct conf *c, struct buf *err)
{
	struct buf why = BUF_INIT;

	if (policy_classes(p, c, err) < 0)
		return -1;
	for (int i = 0; i < L_COUNT; i++) {
		if (restrict_parse(&p->lists[i], policy_lists[i], conf_list(c, policy_lists[i]),
				   &p->classes, &why) < 0) {
			stagecf_fail(err, c, policy_lists[i], "%s", buf_str(&why));
			buf_free(&why);
			return -1;
		}
	}
	p->rbl_reply = conf_str(c, "default_rbl_reply");
	buf_free(&why);
	return policy_rbl_reply(p, c, err) < 0 ? -1 : policy_default_action(c, err);
}

/* policy_relay - refuse restrictions that let a stranger relay (restrict.h). */
static int policy_relay(const struct smtpd_policy *p, const struct conf *c, unsigned flags,
			struct buf *err)
{
	struct buf why = BUF_INIT;
	int open = restrict_open_relay(p->lists, L_MAIL_COUNT, &p->classes, &why);

	if (open && conf_bool(c, "smtpd_open_relay_acknowledged")) {
		if (flags & SMTPD_POLICY_WARN)
			msg_warn("the restriction lists make this host an open relay (%s); accepted "
				 "because smtpd_open_relay_acknowledged = yes", buf_str(&why));
		open = 0;
	}
	if (open)
		stagecf_fail(err, c, "smtpd_relay_restrictions",
			     "a client outside mynetworks that has not authenticated could send mail "
			     "to any domain (an open relay): %s; put reject_unauth_destination before "
			     "any permit (moat's default is permit_mynetworks, permit_sasl_authenticated, "
			     "reject_unauth_destination), or set smtpd_open_relay_acknowledged = yes",
			     buf_str(&why));
	buf_free(&why);
	return open ? -1 : 0;
}

/* policy_words - every item of a list parameter is one word (letters,
 * digits, '-', '_'), as SMTP commands and EHLO keywords are. */
static int policy_words(const struct conf *c, const char *name, char *const **out,
			struct buf *err)
{
	char *const *items = conf_list(c, name);

	for (size_t i = 0; items && items[i]; i++)
		if (strlen(items[i]) > 64 || strspn(items[i], "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(items[i]))
			return stagecf_fail(err, c, name, "\"%.80s\": not a command or keyword", items[i]);
	*out = items;
	return 0;
}

/* policy_options - debug_peer_list, the reject footer, NOOP and EHLO lists. */
static int policy_options(struct smtpd_policy *p, const struct conf *c, struct buf *err)
{
	char *const *pdms = conf_list(c, "parent_domain_matches_subdomains");
	struct buf why = BUF_INIT;
	const char *bad = NULL;

	if (hostlist_init(&p->debug_peers, conf_list(c, "debug_peer_list"),
			  domlist_param_in(pdms, "debug_peer_list"), &why) < 0)
		bad = "debug_peer_list";
	p->debug_peer_level = (int)conf_int(c, "debug_peer_level");
	p->reject_footer = conf_str(c, "smtpd_reject_footer");
	if (!bad && reply_footer_check(p->reject_footer, &why) < 0)
		bad = "smtpd_reject_footer";
	if (bad)
		stagecf_fail(err, c, bad, "%s", buf_str(&why));
	buf_free(&why);
	if (bad || policy_words(c, CONF_NAME("smtpd_noop_commands"), &p->noop_commands, err) < 0
	    || policy_words(c, CONF_NAME("smtpd_discard_ehlo_keywords"), &p->ehlo_discard, err) < 0)
		return -1;
	return 0;
}

int smtpd_policy_load(struct smtpd_policy *p, const struct conf *c, unsigned flags,
		      struct buf *err)
{
	memset(p, 0, sizeof(*p));
	mynetworks_empty(&p->mynetworks);
	if (smtpd_networks_load(p, c, flags, err) < 0 || policy_domains(p, c, err) < 0
	    || policy_restrictions(p, c, err) < 0 || policy_relay(p, c, flags, err) < 0
	    || policy_options(p, c, err) < 0) {
		smtpd_policy_free(p);
		return -1;
	}
	return 0;
}

static int policy_list_endpoint(const struct restrict_list *l, const char *endpoint)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == RESTRICT_CHECK_POLICY
		    && (endpoint == NULL || strcmp(l->v[i].arg, endpoint) == 0))
			return 1;
	return 0;
}

int smtpd_policy_endpoint(const struct smtpd_policy *p, const char *endpoint)
{
	for (int i = 0; i < L_COUNT; i++)
		if (policy_list_endpoint(&p->lists[i], endpoint))
			return 1;
	for (size_t k = 0; k < p->classes.n; k++)
		if (policy_list_endpoint(&p->classes.lists[k], endpoint))
			return 1;
	return 0;
}

void smtpd_policy_free(struct smtpd_policy *p)
{
	mynetworks_free(&p->mynetworks);
	domlist_free(&p->mydest);
	domlist_free(&p->relay_domains);
	for (int i = 0; i < L_COUNT; i++)
		restrict_free(&p->lists[i]);
	restrict_classes_free(&p->classes);
	hostlist_free(&p->debug_peers);
}
