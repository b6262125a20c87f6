/*
 * smtpd_check_dns.c - the restrictions that ask DNS: reject_rbl_client,
 * reject_rhsbl_{client,reverse_client,helo,sender,recipient},
 * permit_dnswl_client, permit_rhswl_client, reject_unknown_sender_domain,
 * reject_unknown_recipient_domain and reject_unknown_helo_hostname.
 *
 * Called by the evaluator (smtpd_check.c). Every query goes to the dns
 * stage (smtpd_dns_query); smtpd has no network. Answers are cached for the
 * session's current command only by not asking twice within one list.
 *
 * SECURITY: a DNS list's server is not ours: its A answers are only
 * compared with the list's filter, and its TXT reason reaches the client
 * only as printable text (the dns stage replaced the rest) inside a reply
 * moat formats. A lookup that fails for now never rejects for good (450, or
 * defer_if_permit), and a whitelist never overrides relay control: it is
 * ignored for a recipient this host may not relay to, as in Postfix.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/strnum.h"
#include "mail/dnsbl.h"
#include "skeleton/stage_lookup.h"

#define CHECK_DNS_MS	15000	/* one lookup, all the dns stage's retries included */

/* What one DNS list lookup found. */
struct dnsbl_hit {
	const char *filter;
	int listed;
	struct buf reason;
};

static void dnsbl_a(const char *value, uint32_t pref, void *ctx)
{
	struct dnsbl_hit *h = ctx;

	(void)pref;
	if (dnsbl_filter_match(h->filter, value))
		h->listed = 1;
}

static void dnsbl_txt(const char *value, uint32_t pref, void *ctx)
{
	struct dnsbl_hit *h = ctx;

	(void)pref;
	if (h->reason.len == 0)
		(void)buf_append_str(&h->reason, value);
}

/* dnsbl_lookup - 1 if name is listed (with a reason if the list gives one),
 * 0 if not, -1 if DNS failed for now. */
static int dnsbl_lookup(struct smtpd_session *s, const char *name, const struct dnsbl_site *site,
			struct dnsbl_hit *h)
{
	int r;

	h->filter = site->filter;
	h->listed = 0;
	r = smtpd_dns_query(s, name, DNS_T_A, CHECK_DNS_MS, dnsbl_a, h);
	if (r == DNS_TEMPFAIL)
		return -1;
	if (r != DNS_OK || !h->listed)
		return 0;
	(void)smtpd_dns_query(s, name, DNS_T_TXT, CHECK_DNS_MS, dnsbl_txt, h);
	return 1;
}

/* The $rbl_* names of one reply. */
struct dnsbl_vars {
	struct smtpd_check *ck;
	const char *cls, *what, *domain, *reason;
	char code[8];
};

static const char *dnsbl_addr_part(const char *addr, int domain)
{
	const char *at = strrchr(addr, '@');

	if (domain)
		return at ? at + 1 : "";
	return addr;
}

static const char *dnsbl_var(const char *name, void *ctx)
{
	struct dnsbl_vars *v = ctx;
	const struct smtpd_session *s = v->ck->s;
	const char *rcpt = v->ck->rcpt ? buf_str(&v->ck->rcpt->addr) : "";
	static const struct { const char *n; size_t off; } direct[] = {
		{ "rbl_class", offsetof(struct dnsbl_vars, cls) },
		{ "rbl_what", offsetof(struct dnsbl_vars, what) },
		{ "rbl_domain", offsetof(struct dnsbl_vars, domain) },
		{ "rbl_reason", offsetof(struct dnsbl_vars, reason) },
	};

	for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		if (strcmp(name, direct[i].n) == 0)
			return *(const char *const *)((const char *)v + direct[i].off);
	if (strcmp(name, "rbl_code") == 0)
		return v->code;
	if (strcmp(name, "client_address") == 0)
		return s->addr;
	if (strcmp(name, "client_name") == 0)
		return s->name;
	if (strcmp(name, "reverse_client_name") == 0)
		return s->reverse_name;
	if (strcmp(name, "helo_name") == 0)
		return buf_str(&s->helo);
	if (strncmp(name, "sender", 6) == 0 || strncmp(name, "recipient", 9) == 0) {
		const char *a = name[0] == 's' ? buf_str(&s->sender) : rcpt;

		if (strstr(name, "_domain"))
			return dnsbl_addr_part(a, 1);
		return a;	/* $sender_name: the localpart is not split out */
	}
	return dnsbl_var_known(name, NULL);
}

/*
 * dnsbl_template - the reply template for the list as written (zone, with
 * its =filter): rbl_reply_maps' answer, else default_rbl_reply. -1 when
 * the table failed (Postfix's server error: 451 4.3.5).
 */
static int dnsbl_template(struct smtpd_check *ck, const char *list, struct buf *tmpl,
			  const char **from)
{
	const char *maps = conf_str(ck->s->st->conf, "rbl_reply_maps");
	struct lookup_key k = { .tables = maps, .key = list, .order = LOOKUP_ORDER_KEY,
				.delim = "" };
	struct lookup_answer a;
	int r = LOOKUP_NOTFOUND;

	*from = "default_rbl_reply";
	if (*maps) {
		lookup_answer_init(&a);
		if ((r = smtpd_tables_query(ck->s->st, &k, &a)) == LOOKUP_FOUND
		    && buf_set(tmpl, a.value.data, a.value.len) == 0)
			*from = "rbl_reply_maps";
		lookup_answer_free(&a);
	}
	if (r == LOOKUP_NOTFOUND)
		(void)buf_set_str(tmpl, ck->s->cf->pol.rbl_reply);
	return r == LOOKUP_FOUND || r == LOOKUP_NOTFOUND ? 0 : -1;
}

/* dnsbl_reject - the list's template, expanded: "code text"; the dsn is 5.7.1 (4.7.1). */
static int dnsbl_reject(struct dnsbl_vars *v, const char *list)
{
	struct buf out = BUF_INIT, why = BUF_INIT, tmpl = BUF_INIT;
	const char *from;
	int code = 0, r;

	snprintf(v->code, sizeof(v->code), "%d", v->ck->s->cf->rbl_code);
	if (dnsbl_template(v->ck, list, &tmpl, &from) < 0) {
		r = smtpd_check_reject(v->ck, 451, "4.3.5", "Server configuration error");
	} else if (dnsbl_expand(buf_str(&tmpl), dnsbl_var, v, &out, &why) < 0
		   || out.len < 5 || out.data[3] != ' '
		   || strnum_u64n(out.data, 3, 400, 599, &(uint64_t){ 0 }) < 0) {
		msg_warn("%s: %s does not give \"4NN text\" or \"5NN text\"", from,
			 why.len ? buf_str(&why) : "the template");
		r = smtpd_check_reject(v->ck, 451, "4.3.5", "Server configuration error");
	} else {
		const char *text = buf_str(&out) + 4;
		size_t n = access_dsn_len(text);
		char dsn[12] = "5.7.1";

		if (n > 0 && n < sizeof(dsn)) {
			memcpy(dsn, text, n);
			dsn[n] = 0;
			text += n + strspn(text + n, " ");
		}
		code = (out.data[0] - '0') * 100 + (out.data[1] - '0') * 10 + (out.data[2] - '0');
		r = smtpd_check_reject(v->ck, code, dsn, "%s", text);
	}
	buf_free(&out);
	buf_free(&why);
	buf_free(&tmpl);
	return r;
}

/* The subject of each list kind: the name to look up, what logs call it. */
static const char *dnsbl_subject(struct smtpd_check *ck, enum restrict_id id, const char **cls)
{
	const struct smtpd_session *s = ck->s;
	const char *snd = buf_str(&s->sender), *h = buf_str(&s->helo);

	switch (id) {
	case RESTRICT_REJECT_RHSBL_CLIENT:
	case RESTRICT_PERMIT_RHSWL_CLIENT:
		*cls = "Client host";
		return s->name_status == SMTPD_PEER_OK ? s->name : NULL;
	case RESTRICT_REJECT_RHSBL_REVERSE:
		*cls = "Unverified Client host";
		return s->reverse_status == SMTPD_PEER_OK ? s->reverse_name : NULL;
	case RESTRICT_REJECT_RHSBL_HELO:
		*cls = "Helo command";
		return s->helo.len && h[0] != '[' ? h : NULL;
	case RESTRICT_REJECT_RHSBL_SENDER:
		*cls = "Sender address";
		return s->sender.len && strchr(snd, '@') && !(s->sender_flags & ADDR_F_LITERAL)
		       ? strrchr(snd, '@') + 1 : NULL;
	default:	/* RESTRICT_REJECT_RHSBL_RCPT */
		*cls = "Recipient address";
		return ck->rcpt && !(ck->rcpt->flags & (ADDR_F_LITERAL | ADDR_F_NODOMAIN))
		       ? addr_domain(ck->rcpt) : NULL;
	}
}

/* check_whitelisted - a DNS whitelist's OK, unless it would open relaying:
 * in the list that does relay control (smtpd_relay_restrictions, or the
 * recipient list when that one is empty), for a destination not ours. */
static int check_whitelisted(struct smtpd_check *ck, const char *zone)
{
	int relay_list = ck->which == L_RELAY
			 || (ck->which == L_RCPT && ck->s->cf->pol.lists[L_RELAY].n == 0);

	if (relay_list && ck->rcpt && smtpd_check_auth_dest(ck->s, ck->rcpt) <= 0) {
		msg_info("%s: %s listed in %s, ignored for unauthorised destination %s",
			 ck->s->where, buf_str(&ck->s->namaddr), zone, buf_str(&ck->rcpt->addr));
		return CHECK_DUNNO;
	}
	return CHECK_OK;
}

/* check_dnsbl - one list lookup, and what it means for the restriction. */
static int check_dnsbl(struct smtpd_check *ck, const struct restrict_item *it)
{
	struct dnsbl_vars v = { .ck = ck };
	struct dnsbl_hit hit = { NULL, 0, BUF_INIT };
	struct dnsbl_site site;
	struct buf name = BUF_INIT, why = BUF_INIT;
	int addr_list = it->id == RESTRICT_REJECT_RBL_CLIENT || it->id == RESTRICT_PERMIT_DNSWL_CLIENT;
	const char *subject = addr_list ? ck->s->addr : dnsbl_subject(ck, it->id, &v.cls);
	int r = CHECK_DUNNO, listed = 0;

	if (dnsbl_site_parse(it->arg, &site, &why) < 0)
		goto out;	/* checked at start-up */
	if (addr_list)
		v.cls = "Client host";
	buf_init(&hit.reason, 256);
	if (subject && (addr_list ? dnsbl_name_addr(ck->s->family, ck->s->ip, site.zone, &name)
			: dnsbl_name_domain(subject, site.zone, &name)) == 0)
		listed = dnsbl_lookup(ck->s, buf_str(&name), &site, &hit);
	if (it->id == RESTRICT_PERMIT_DNSWL_CLIENT || it->id == RESTRICT_PERMIT_RHSWL_CLIENT) {
		if (listed > 0)
			r = check_whitelisted(ck, site.zone);
		else if (listed < 0)
			smtpd_check_defer_if(ck, &ck->if_reject, 450, "4.7.1", "<%s>: %s rejected: "
					     "Service unavailable", ck->s->addr, v.cls);
	} else if (listed > 0) {
		v.what = subject;
		v.domain = site.zone;
		v.reason = buf_str(&hit.reason);
		r = dnsbl_reject(&v, it->arg);
	}
out:
	dnsbl_site_free(&site);
	buf_free(&hit.reason);
	buf_free(&name);
	buf_free(&why);
	return r;
}

/* What the MX/A/AAAA lookups of a domain found. */
struct mailhost {
	int any;
	int nullmx;
};

static void mailhost_rr(const char *value, uint32_t pref, void *ctx)
{
	struct mailhost *m = ctx;

	m->any = 1;
	if (pref == 0 && strcmp(value, ".") == 0)
		m->nullmx = 1;
}

/* Postfix's lookup orders: an address domain, then a HELO name. */
static const uint32_t mailhost_addr[] = { DNS_T_MX, DNS_T_A, DNS_T_AAAA, 0 };
static const uint32_t mailhost_helo[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, 0 };

/* mailhost_lookup - DNS_OK when the name has a record of one of types
 * (asked in that order, up to the first found); else the status that decided. */
static int mailhost_lookup(struct smtpd_session *s, const char *dom, const uint32_t *types,
			   struct mailhost *m)
{
	int st = DNS_NOTFOUND;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; types[i] && !m->any; i++) {
		st = smtpd_dns_query(s, dom, types[i], CHECK_DNS_MS, mailhost_rr, m);
		if (st == DNS_NOTFOUND || st == DNS_TEMPFAIL)
			break;	/* NXDOMAIN: no other type can exist; a failing DNS fails again */
	}
	return m->any ? DNS_OK : st;
}

/* check_unknown_domain - reject_unknown_{sender,recipient}_domain. */
static int check_unknown_domain(struct smtpd_check *ck, int sender)
{
	struct smtpd_session *s = ck->s;
	const char *addr = sender ? buf_str(&s->sender) : ck->rcpt ? buf_str(&ck->rcpt->addr) : "";
	const char *at = strrchr(addr, '@'), *cls = sender ? "Sender address" : "Recipient address";
	const char *dsn = sender ? "4.1.8" : "4.1.2";
	struct mailhost m;
	int st;

	if (at == NULL || at[1] == '[' || (!sender && smtpd_check_is_local(s, ck->rcpt) != 0))
		return CHECK_DUNNO;
	st = mailhost_lookup(s, at + 1, mailhost_addr, &m);
	if (st == DNS_OK && m.nullmx)
		return smtpd_check_reject(ck, sender ? 550 : 556, sender ? "5.7.27" : "5.1.10",
					  "<%s>: %s rejected: Domain %s does not accept mail "
					  "(nullMX)", addr, cls, at + 1);
	if (st == DNS_OK)
		return CHECK_DUNNO;
	if (st != DNS_TEMPFAIL)
		return smtpd_check_reject(ck, s->cf->unknown_addr_code, dsn,
					  "<%s>: %s rejected: Domain not found", addr, cls);
	if (s->cf->addr_tempfail_defer)
		return smtpd_check_reject(ck, 450, dsn, "<%s>: %s rejected: Domain not found",
					  addr, cls);
	smtpd_check_defer_if(ck, &ck->if_permit, 450, dsn, "<%s>: %s rejected: Domain not found",
			     addr, cls);
	return CHECK_DUNNO;
}

/* check_unknown_helo - reject_unknown_helo_hostname: no A, AAAA or MX record. */
static int check_unknown_helo(struct smtpd_check *ck)
{
	struct smtpd_session *s = ck->s;
	const char *h = buf_str(&s->helo);
	struct mailhost m;
	int st;

	if (s->helo.len == 0 || h[0] == '[')
		return CHECK_DUNNO;
	st = mailhost_lookup(s, h, mailhost_helo, &m);
	if (st == DNS_OK)
		return CHECK_DUNNO;
	if (st != DNS_TEMPFAIL)
		return smtpd_check_reject(ck, s->cf->unknown_helo_code, "4.7.1",
					  "<%s>: Helo command rejected: Host not found", h);
	if (s->cf->helo_tempfail_defer)
		return smtpd_check_reject(ck, 450, "4.7.1",
					  "<%s>: Helo command rejected: Host not found", h);
	smtpd_check_defer_if(ck, &ck->if_permit, 450, "4.7.1",
			     "<%s>: Helo command rejected: Host not found", h);
	return CHECK_DUNNO;
}

int smtpd_check_dns(struct smtpd_check *ck, const struct restrict_item *it)
{
	switch (it->id) {
	case RESTRICT_REJECT_UNKNOWN_SENDER_DOMAIN:
		return ck->s->sender.len ? check_unknown_domain(ck, 1) : CHECK_DUNNO;
	case RESTRICT_REJECT_UNKNOWN_RCPT_DOMAIN:
		return ck->rcpt ? check_unknown_domain(ck, 0) : CHECK_DUNNO;
	case RESTRICT_REJECT_UNKNOWN_HELO:
		return check_unknown_helo(ck);
	case RESTRICT_REJECT_RBL_CLIENT:
	case RESTRICT_REJECT_RHSBL_CLIENT:
	case RESTRICT_REJECT_RHSBL_REVERSE:
	case RESTRICT_REJECT_RHSBL_HELO:
	case RESTRICT_REJECT_RHSBL_SENDER:
	case RESTRICT_REJECT_RHSBL_RCPT:
	case RESTRICT_PERMIT_DNSWL_CLIENT:
	case RESTRICT_PERMIT_RHSWL_CLIENT:
		return check_dnsbl(ck, it);
	default:
		return CHECK_DUNNO;
	}
}
