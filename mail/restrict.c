/*
 * restrict.c - restriction names, list parsing, restriction classes and the
 * open-relay analysis (see restrict.h).
 *
 * Called by the smtpd stage when it loads its configuration and when a
 * policy service answers with a restriction list, and by moatd's start-up
 * check, through stagecf/smtpd_policy.c. Lists from main.cf are trusted,
 * but every item is still checked: the only way through is a name in the
 * table below, with an argument of the form its check accepts.
 */
#include <string.h>
#include <strings.h>

#include "lib/xmem.h"
#include "mail/dnsbl.h"
#include "mail/policy_endpoint.h"
#include "mail/restrict.h"

static const char *const restrict_names[RESTRICT_COUNT] = {
	[RESTRICT_PERMIT_MYNETWORKS] = "permit_mynetworks",
	[RESTRICT_PERMIT_SASL] = "permit_sasl_authenticated",
	[RESTRICT_REJECT_UNAUTH_DEST] = "reject_unauth_destination",
	[RESTRICT_DEFER_UNAUTH_DEST] = "defer_unauth_destination",
	[RESTRICT_PERMIT_AUTH_DEST] = "permit_auth_destination",
	[RESTRICT_PERMIT] = "permit",
	[RESTRICT_REJECT] = "reject",
	[RESTRICT_DEFER] = "defer",
	[RESTRICT_REJECT_NON_FQDN_SENDER] = "reject_non_fqdn_sender",
	[RESTRICT_REJECT_NON_FQDN_RCPT] = "reject_non_fqdn_recipient",
	[RESTRICT_REJECT_NON_FQDN_HELO] = "reject_non_fqdn_helo_hostname",
	[RESTRICT_REJECT_INVALID_HELO] = "reject_invalid_helo_hostname",
	[RESTRICT_REJECT_UNAUTH_PIPELINING] = "reject_unauth_pipelining",
	[RESTRICT_REJECT_UNKNOWN_CLIENT] = "reject_unknown_client_hostname",
	[RESTRICT_REJECT_UNKNOWN_REVERSE] = "reject_unknown_reverse_client_hostname",
	[RESTRICT_WARN_IF_REJECT] = "warn_if_reject",
	[RESTRICT_REJECT_UNKNOWN_SENDER_DOMAIN] = "reject_unknown_sender_domain",
	[RESTRICT_REJECT_UNKNOWN_RCPT_DOMAIN] = "reject_unknown_recipient_domain",
	[RESTRICT_REJECT_UNKNOWN_HELO] = "reject_unknown_helo_hostname",
	[RESTRICT_CHECK_RELAY_DOMAINS] = "check_relay_domains",
	[RESTRICT_REJECT_UNLISTED_SENDER] = "reject_unlisted_sender",
	[RESTRICT_REJECT_UNLISTED_RCPT] = "reject_unlisted_recipient",
	[RESTRICT_REJECT_RBL_CLIENT] = "reject_rbl_client",
	[RESTRICT_REJECT_RHSBL_CLIENT] = "reject_rhsbl_client",
	[RESTRICT_REJECT_RHSBL_REVERSE] = "reject_rhsbl_reverse_client",
	[RESTRICT_REJECT_RHSBL_HELO] = "reject_rhsbl_helo",
	[RESTRICT_REJECT_RHSBL_SENDER] = "reject_rhsbl_sender",
	[RESTRICT_REJECT_RHSBL_RCPT] = "reject_rhsbl_recipient",
	[RESTRICT_PERMIT_DNSWL_CLIENT] = "permit_dnswl_client",
	[RESTRICT_PERMIT_RHSWL_CLIENT] = "permit_rhswl_client",
	[RESTRICT_CHECK_CLIENT_ACCESS] = "check_client_access",
	[RESTRICT_CHECK_HELO_ACCESS] = "check_helo_access",
	[RESTRICT_CHECK_SENDER_ACCESS] = "check_sender_access",
	[RESTRICT_CHECK_RCPT_ACCESS] = "check_recipient_access",
	[RESTRICT_CHECK_REVERSE_ACCESS] = "check_reverse_client_hostname_access",
	[RESTRICT_CHECK_CLIENT_A_ACCESS] = "check_client_a_access",
	[RESTRICT_CHECK_CLIENT_MX_ACCESS] = "check_client_mx_access",
	[RESTRICT_CHECK_CLIENT_NS_ACCESS] = "check_client_ns_access",
	[RESTRICT_CHECK_REVERSE_A_ACCESS] = "check_reverse_client_hostname_a_access",
	[RESTRICT_CHECK_REVERSE_MX_ACCESS] = "check_reverse_client_hostname_mx_access",
	[RESTRICT_CHECK_REVERSE_NS_ACCESS] = "check_reverse_client_hostname_ns_access",
	[RESTRICT_CHECK_HELO_A_ACCESS] = "check_helo_a_access",
	[RESTRICT_CHECK_HELO_MX_ACCESS] = "check_helo_mx_access",
	[RESTRICT_CHECK_HELO_NS_ACCESS] = "check_helo_ns_access",
	[RESTRICT_CHECK_SENDER_A_ACCESS] = "check_sender_a_access",
	[RESTRICT_CHECK_SENDER_MX_ACCESS] = "check_sender_mx_access",
	[RESTRICT_CHECK_SENDER_NS_ACCESS] = "check_sender_ns_access",
	[RESTRICT_CHECK_RCPT_A_ACCESS] = "check_recipient_a_access",
	[RESTRICT_CHECK_RCPT_MX_ACCESS] = "check_recipient_mx_access",
	[RESTRICT_CHECK_RCPT_NS_ACCESS] = "check_recipient_ns_access",
	[RESTRICT_CHECK_POLICY] = "check_policy_service",
	[RESTRICT_CLASS] = "(restriction class)",
};

/* The old names Postfix 3.7 still accepts, and what it takes them for. */
static const struct { const char *old; enum restrict_id id; } restrict_aliases[] = {
	{ "reject_invalid_hostname", RESTRICT_REJECT_INVALID_HELO },
	{ "reject_non_fqdn_hostname", RESTRICT_REJECT_NON_FQDN_HELO },
	{ "reject_unknown_hostname", RESTRICT_REJECT_UNKNOWN_HELO },
	{ "reject_unknown_client", RESTRICT_REJECT_UNKNOWN_CLIENT },
	{ "check_recipient_maps", RESTRICT_REJECT_UNLISTED_RCPT },
};

/* Postfix names moat knows but cannot honour yet, and why. */
static const struct { const char *prefix; const char *why; } restrict_later[] = {
	{ "check_ccert_access", "moat has no TLS yet, so no client certificate could ever match" },
	{ "check_sasl_access", "moat has no SASL" },
	{ "check_", "this lookup table check is not implemented by moat yet" },
	{ "permit_tls_", "moat has no TLS yet, so no client certificate could ever match" },
	{ "reject_unverified_", "moat has no address verification" },
	{ "reject_sender_login_mismatch", "moat has no SASL" },
	{ "reject_authenticated_sender_login_mismatch", "moat has no SASL" },
	{ "reject_unauthenticated_sender_login_mismatch", "moat has no SASL" },
	{ "permit_mx_backup", "moat has no MX-backup check" },
	{ "reject_multi_recipient_bounce", "not implemented by moat" },
	{ "reject_plaintext_session", "moat has no TLS yet" },
	{ "sleep", "not implemented by moat" },
	{ "{", "per-service settings in { } are not implemented by moat" },
};

const char *restrict_name(enum restrict_id r)
{
	return r < RESTRICT_COUNT ? restrict_names[r] : "?";
}

const char *restrict_item_name(const struct restrict_item *it, const struct restrict_classes *c)
{
	if (it->id == RESTRICT_CLASS && c && it->cls < c->n)
		return c->names[it->cls];
	return restrict_name(it->id);
}

int restrict_takes_arg(enum restrict_id r)
{
	return r >= RESTRICT_REJECT_RBL_CLIENT && r <= RESTRICT_CHECK_POLICY;
}

int restrict_access(enum restrict_id r, enum restrict_subject *subj, enum restrict_server *srv)
{
	static const enum restrict_subject plain[] = { RS_CLIENT, RS_HELO, RS_SENDER, RS_RCPT,
						       RS_REVERSE };
	static const enum restrict_subject server[] = { RS_CLIENT, RS_REVERSE, RS_HELO, RS_SENDER,
							RS_RCPT };
	enum restrict_subject j;
	enum restrict_server v;

	if (r >= RESTRICT_CHECK_CLIENT_ACCESS && r <= RESTRICT_CHECK_REVERSE_ACCESS) {
		j = plain[r - RESTRICT_CHECK_CLIENT_ACCESS];
		v = RS_SELF;
	} else if (r >= RESTRICT_CHECK_CLIENT_A_ACCESS && r <= RESTRICT_CHECK_RCPT_NS_ACCESS) {
		j = server[(r - RESTRICT_CHECK_CLIENT_A_ACCESS) / 3];
		v = (enum restrict_server)(RS_A + (r - RESTRICT_CHECK_CLIENT_A_ACCESS) % 3);
	} else {
		return 0;
	}
	if (subj)
		*subj = j;
	if (srv)
		*srv = v;
	return 1;
}

/* restrict_lookup - the id of a name (or old name), or RESTRICT_COUNT. */
static enum restrict_id restrict_lookup(const char *name)
{
	for (int k = 0; k < RESTRICT_CLASS; k++)
		if (strcasecmp(name, restrict_names[k]) == 0)
			return (enum restrict_id)k;
	for (size_t k = 0; k < sizeof(restrict_aliases) / sizeof(restrict_aliases[0]); k++)
		if (strcasecmp(name, restrict_aliases[k].old) == 0)
			return restrict_aliases[k].id;
	return RESTRICT_COUNT;
}

/* restrict_class_index - the class called name, or c->n. */
static size_t restrict_class_index(const struct restrict_classes *c, const char *name)
{
	size_t k = 0;

	while (c && k < c->n && strcasecmp(c->names[k], name) != 0)
		k++;
	return c ? k : 0;
}

static void restrict_unknown(const char *name, struct buf *why)
{
	buf_printf(why, "unknown or unsupported restriction \"%.80s\"", name);
	for (size_t k = 0; k < sizeof(restrict_later) / sizeof(restrict_later[0]); k++)
		if (strncasecmp(name, restrict_later[k].prefix, strlen(restrict_later[k].prefix)) == 0) {
			buf_printf(why, " (%s; moat refuses to start without the check rather "
				   "than skip it)", restrict_later[k].why);
			return;
		}
	if (strchr(name, ':'))
		buf_append_str(why, " (lookup tables are not implemented by moat yet)");
}

/* restrict_arg_check - the argument of r, as its check will read it. */
static int restrict_arg_check(enum restrict_id r, const char *arg, struct buf *why)
{
	struct buf tmp = BUF_INIT;
	int ok;

	if (restrict_access(r, NULL, NULL)) {
		/* the table itself is opened and checked by the lookup stage's start-up check */
		ok = strchr(arg, ':') != NULL && arg[0] != ':' ? 0 : -1;
		if (ok < 0)
			buf_append_str(&tmp, "need a table as type:name");
	} else if (r == RESTRICT_CHECK_POLICY) {
		struct policy_endpoint e;

		ok = policy_endpoint_parse(arg, &e, &tmp);
	} else {
		struct dnsbl_site site;

		ok = dnsbl_site_parse(arg, &site, &tmp);
		dnsbl_site_free(&site);
	}
	if (ok < 0)
		buf_printf(why, "%s %.200s: %s", restrict_name(r), arg, buf_str(&tmp));
	buf_free(&tmp);
	return ok;
}

/* restrict_item_parse - items[*i] (and its argument) into it; *i moves past them. */
static int restrict_item_parse(struct restrict_item *it, char *const *items, size_t *i,
			       const struct restrict_classes *cls, struct buf *why)
{
	const char *name = items[(*i)++];
	enum restrict_id r = restrict_lookup(name);

	memset(it, 0, sizeof(*it));
	if (r == RESTRICT_COUNT) {
		size_t k = restrict_class_index(cls, name);

		if (cls == NULL || k == cls->n) {
			restrict_unknown(name, why);
			return -1;
		}
		it->id = RESTRICT_CLASS;
		it->cls = k;
		return 0;
	}
	it->id = r;
	if (!restrict_takes_arg(r))
		return 0;
	if (items[*i] == NULL || restrict_lookup(items[*i]) != RESTRICT_COUNT) {
		buf_printf(why, "restriction \"%s\" needs an argument", restrict_name(r));
		return -1;
	}
	if (restrict_arg_check(r, items[*i], why) < 0)
		return -1;
	it->arg = xstrdup(items[(*i)++]);
	return 0;
}

int restrict_parse(struct restrict_list *l, const char *param, char *const *items,
		   const struct restrict_classes *cls, struct buf *why)
{
	size_t n = 0, i = 0;

	while (items && items[n])
		n++;
	l->param = param;
	l->n = 0;
	l->v = xcalloc(n + 1, sizeof(*l->v));
	while (i < n) {
		if (restrict_item_parse(&l->v[l->n], items, &i, cls, why) < 0) {
			restrict_free(l);
			return -1;
		}
		l->n++;
	}
	return 0;
}

int restrict_parse_text(struct restrict_list *l, const char *param, const char *text,
			const struct restrict_classes *cls, struct buf *why)
{
	static const char sep[] = ", \t\r\n";
	char *copy = xstrdup(text), *save = NULL, **items;
	size_t n = 0;
	int r;

	items = xcalloc(strlen(text) / 2 + 2, sizeof(*items));
	for (char *t = strtok_r(copy, sep, &save); t; t = strtok_r(NULL, sep, &save))
		items[n++] = t;
	r = restrict_parse(l, param, items, cls, why);
	xfree(items);
	xfree(copy);
	return r;
}

void restrict_free(struct restrict_list *l)
{
	for (size_t i = 0; l->v && i < l->n; i++)
		xfree(l->v[i].arg);
	xfree(l->v);
	l->v = NULL;
	l->n = 0;
}

/* classes_loop - 1 if class k reaches itself; state: 0 new, 1 on the path, 2 done. */
static int classes_loop(const struct restrict_classes *c, size_t k, unsigned char *state)
{
	if (state[k] == 1)
		return 1;
	if (state[k] == 2)
		return 0;
	state[k] = 1;
	for (size_t i = 0; i < c->lists[k].n; i++)
		if (c->lists[k].v[i].id == RESTRICT_CLASS && classes_loop(c, c->lists[k].v[i].cls, state))
			return 1;
	state[k] = 2;
	return 0;
}

/* classes_names - the names, each defined and no restriction's name. */
static int classes_names(struct restrict_classes *c, char *const *names,
			 restrict_class_value_fn *value, void *ctx, const char **bad,
			 struct buf *why)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	c->names = xcalloc(n + 1, sizeof(*c->names));
	c->lists = xcalloc(n + 1, sizeof(*c->lists));
	for (size_t k = 0; k < n; k++) {
		*bad = names[k];
		if (restrict_lookup(names[k]) != RESTRICT_COUNT) {
			buf_printf(why, "restriction class \"%.80s\" has the name of a restriction",
				   names[k]);
			return -1;
		}
		if (value(names[k], ctx) == NULL) {
			buf_printf(why, "restriction class \"%.80s\" needs a definition (a main.cf "
				   "parameter of that name)", names[k]);
			return -1;
		}
		c->names[c->n++] = xstrdup(names[k]);
	}
	return 0;
}

int restrict_classes_init(struct restrict_classes *c, char *const *names,
			  restrict_class_value_fn *value, void *ctx, const char **bad,
			  struct buf *why)
{
	unsigned char *state;
	size_t k;

	memset(c, 0, sizeof(*c));
	if (classes_names(c, names, value, ctx, bad, why) < 0)
		goto fail;
	for (k = 0; k < c->n; k++) {
		*bad = c->names[k];
		if (restrict_parse_text(&c->lists[k], c->names[k], value(c->names[k], ctx), c,
					why) < 0)
			goto fail;
	}
	state = xcalloc(c->n + 1, 1);
	for (k = 0; k < c->n && !classes_loop(c, k, state); k++)
		;
	xfree(state);
	if (k < c->n) {
		*bad = c->names[k];
		buf_printf(why, "restriction class \"%s\" uses itself (directly or through "
			   "other classes)", c->names[k]);
		goto fail;
	}
	return 0;
fail:
	restrict_classes_free(c);
	return -1;
}

void restrict_classes_free(struct restrict_classes *c)
{
	for (size_t k = 0; k < c->n; k++) {
		xfree(c->names[k]);
		restrict_free(&c->lists[k]);
	}
	xfree(c->names);
	xfree(c->lists);
	memset(c, 0, sizeof(*c));
}

/* Outcomes of one restriction, or of one list, for the stranger below. */
enum restrict_verdict { VERDICT_DUNNO, VERDICT_OK, VERDICT_REJECT };

static enum restrict_verdict restrict_list_stranger(const struct restrict_list *l,
						    const struct restrict_classes *cls,
						    size_t *at);

/*
 * restrict_stranger - what an item does to the worst case: a client outside
 * mynetworks, not authenticated, relaying to a foreign domain. Everything
 * else (HELO name, sender, the client's own DNS, its pipelining) is the
 * attacker's choice, so a restriction that tests it never stops him. A
 * policy service may say OK; a DNS whitelist never overrides relay
 * control (smtpd ignores it for an unauthorised destination).
 */
static enum restrict_verdict restrict_stranger(const struct restrict_item *it,
					       const struct restrict_classes *cls)
{
	size_t at;

	switch (it->id) {
	case RESTRICT_PERMIT:
	case RESTRICT_CHECK_POLICY:
	case RESTRICT_CHECK_HELO_ACCESS:	/* the stranger picks the key: it may say OK */
	case RESTRICT_CHECK_SENDER_ACCESS:
	case RESTRICT_CHECK_RCPT_ACCESS:
		return VERDICT_OK;
	case RESTRICT_REJECT:
	case RESTRICT_DEFER:
	case RESTRICT_REJECT_UNAUTH_DEST:
	case RESTRICT_DEFER_UNAUTH_DEST:
	case RESTRICT_CHECK_RELAY_DOMAINS:
		return VERDICT_REJECT;
	case RESTRICT_CLASS:
		return cls && it->cls < cls->n
		       ? restrict_list_stranger(&cls->lists[it->cls], cls, &at) : VERDICT_DUNNO;
	default:
		return VERDICT_DUNNO;
	}
}

/* restrict_list_stranger - a whole list for the stranger; *at = the
 * restriction that decided (or l->n). warn_if_reject turns the next
 * restriction's reject into a log line, as smtpd does. */
static enum restrict_verdict restrict_list_stranger(const struct restrict_list *l,
						    const struct restrict_classes *cls,
						    size_t *at)
{
	int warn = 0;

	for (size_t i = 0; i < l->n; i++) {
		enum restrict_verdict v;

		if (l->v[i].id == RESTRICT_WARN_IF_REJECT) {
			warn = 1;
			continue;
		}
		v = restrict_stranger(&l->v[i], cls);
		if (v == VERDICT_REJECT && warn)
			v = VERDICT_DUNNO;
		warn = 0;
		if (v != VERDICT_DUNNO) {
			*at = i;
			return v;
		}
	}
	*at = l->n;
	return VERDICT_DUNNO;
}

int restrict_open_relay(const struct restrict_list *lists, size_t n,
			const struct restrict_classes *cls, struct buf *why)
{
	size_t i, at, said = 0;

	for (i = 0; i < n; i++)
		if (restrict_list_stranger(&lists[i], cls, &at) == VERDICT_REJECT)
			return 0;
	for (i = 0; i < n; i++) {
		if (restrict_list_stranger(&lists[i], cls, &at) != VERDICT_OK)
			continue;
		buf_printf(why, "%s%s accepts it at \"%s\"", said++ ? "; " : "", lists[i].param,
			   restrict_item_name(&lists[i].v[at], cls));
	}
	if (said == 0)
		buf_append_str(why, "no restriction list rejects it");
	return 1;
}
