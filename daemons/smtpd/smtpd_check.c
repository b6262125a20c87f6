/*
 * smtpd_check.c - smtpd's access policy: the restriction list evaluator,
 * relay control and the restrictions that need nothing but the session.
 *
 * Lists are parsed once at start-up by stagecf/smtpd_policy.c (the code
 * moatd's start-up check runs too): an unknown or unsupported restriction
 * name is fatal there, with file and line, so that a policy is never
 * silently weaker than written. At RCPT time (smtpd_delay_reject = yes, the
 * default) the client, helo and sender lists run, then
 * smtpd_relay_restrictions, then smtpd_recipient_restrictions; each list
 * stops at its first OK (permit...) or reject/defer; DUNNO goes on; every
 * list must end without reject for the recipient to pass. A restriction
 * class stands for its list, nested at most RESTRICT_DEPTH_MAX deep (loops
 * are refused at start-up; a policy answer naming a class counts too).
 * As in Postfix, a temporary failure that could have rejected turns a
 * later permit into a 450 (defer_if_permit), DEFER_IF_REJECT turns a later
 * reject into one, and warn_if_reject makes the next restriction's reject
 * a log line. Then smtpd_rcptmaps.c checks the address class (and refuses
 * a recipient this host would deliver locally, since moat has no local
 * delivery, unless a virtual alias sends it elsewhere).
 *
 * Relay control: a recipient is an authorised destination only if its
 * domain is in mydestination, virtual_alias_domains or relay_domains (or it is an address literal
 * of this host, or it has no domain) AND it carries no routing trick
 * (user%host@, host!user@, "a@b"@, @route:). Address literals of other
 * hosts are never authorised destinations.
 *
 * SECURITY: decides who may relay. It trusts main.cf and the kernel's view
 * of the client address (getpeername), never what the client claims. The
 * client name comes from DNS: the PTR name is chosen by the client's owner
 * and is only ever a reason to reject; the verified name (forward lookup
 * agrees) permits only through check_relay_domains, as in Postfix.
 */
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

#define RESTRICT_DEPTH_MAX	16

/* check_literal_local - an address literal that names this host. */
static int check_literal_local(const struct smtpd_session *s, const char *dom)
{
	unsigned char ip[16];
	int fam;

	if (addr_literal_ip(dom, strlen(dom), &fam, ip) < 0)
		return 0;
	if (s->lfamily == fam && memcmp(ip, s->lip, fam == AF_INET ? 4 : 16) == 0)
		return 1;
	return cidr_list_match(&s->cf->pol.mynetworks.local, fam, ip);
}

/* smtpd_check_is_local - where Postfix would deliver locally. */
int smtpd_check_is_local(const struct smtpd_session *s, const struct addr_path *rcpt)
{
	const char *dom = addr_domain(rcpt);

	if (rcpt->flags & ADDR_F_NODOMAIN)
		return 1;
	if (rcpt->flags & ADDR_F_LITERAL)
		return check_literal_local(s, dom);
	return smtpd_domain_listed(s, &s->cf->pol.mydest, dom);
}

int smtpd_check_auth_dest(const struct smtpd_session *s, const struct addr_path *rcpt)
{
	int r;

	if (rcpt->flags & ADDR_F_TRICKS)
		return 0;
	if ((r = smtpd_check_is_local(s, rcpt)) != 0)
		return r;
	if (rcpt->flags & ADDR_F_LITERAL)
		return 0;
	if ((r = smtpd_domain_listed(s, &s->cf->pol.relay_domains, addr_domain(rcpt))) != 0)
		return r;
	/* ours too: cleanup rewrites its addresses, qmgr bounces what is left */
	return smtpd_rcptmaps_virtual_domain(s, addr_domain(rcpt));
}

void smtpd_check_subject(const struct smtpd_check *ck, struct buf *out, const char **cls)
{
	const struct smtpd_session *s = ck->s;

	if (ck->subj_cls) {	/* an access check names what it looked up */
		buf_append_str(out, ck->subj_name);
		*cls = ck->subj_cls;
		return;
	}
	switch (ck->which) {
	case L_CLIENT:
		buf_append_str(out, buf_str(&s->namaddr));
		*cls = "Client host";
		break;
	case L_HELO:
		buf_append_str(out, buf_str(&s->helo));
		*cls = "Helo command";
		break;
	case L_SENDER:
		buf_append_str(out, buf_str(&s->sender));
		*cls = "Sender address";
		break;
	case L_DATA:
		buf_append_str(out, "DATA");
		*cls = "Data command";
		break;
	case L_EOD:
		buf_append_str(out, "END-OF-MESSAGE");
		*cls = "End-of-data";
		break;
	default:
		buf_append_str(out, ck->rcpt ? buf_str(&ck->rcpt->addr) : "");
		*cls = "Recipient address";
		break;
	}
}

/* check_format - "code dsn text" into out, the dsn's class digit following the code. */
static void check_format(struct buf *out, int code, const char *dsn, const char *fmt, va_list ap)
{
	buf_reset(out);
	buf_printf(out, "%d %c%s ", code, '0' + code / 100, dsn + 1);
	buf_vprintf(out, fmt, ap);
}

int smtpd_check_reject(struct smtpd_check *ck, int code, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_format(ck->reply, code, dsn, fmt, ap);
	va_end(ap);
	if (ck->warn) {
		smtpd_log_what(ck->s, "reject_warning", ck->s->where, buf_str(ck->reply),
			       ck->rcpt ? buf_str(&ck->rcpt->addr) : NULL);
		return CHECK_DUNNO;
	}
	if (code >= 500 && ck->if_reject.active)
		buf_set(ck->reply, ck->if_reject.reply.data, ck->if_reject.reply.len);
	return CHECK_REJECT;
}

void smtpd_check_defer_if(struct smtpd_check *ck, struct check_defer *d, int code,
			  const char *dsn, const char *fmt, ...)
{
	struct buf tmp = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	check_format(d->active ? &tmp : &d->reply, code, dsn, fmt, ap);
	va_end(ap);
	if (ck->warn && d == &ck->if_permit)
		smtpd_log_what(ck->s, "reject_warning", ck->s->where,
			       buf_str(d->active ? &tmp : &d->reply),
			       ck->rcpt ? buf_str(&ck->rcpt->addr) : NULL);
	else
		d->active = 1;
	buf_free(&tmp);
}

/* check_access - reject/defer: "<x>: Class rejected: why". */
static int check_access(struct smtpd_check *ck, int code, const char *dsn, const char *why)
{
	struct buf subj = BUF_INIT;
	const char *cls;
	int r;

	smtpd_check_subject(ck, &subj, &cls);
	r = smtpd_check_reject(ck, code, dsn, "<%s>: %s rejected: %s", buf_str(&subj), cls, why);
	buf_free(&subj);
	return r;
}

/* check_tempfail - a mydestination or relay_domains table failed: Postfix's 451. */
static int check_tempfail(struct smtpd_check *ck, const char *what)
{
	return smtpd_check_reject(ck, 451, "4.3.0", "<%s>: Temporary lookup failure", what);
}

static int check_relay(struct smtpd_check *ck, int code)
{
	int r = ck->rcpt ? smtpd_check_auth_dest(ck->s, ck->rcpt) : 1;

	if (r < 0)
		return check_tempfail(ck, buf_str(&ck->rcpt->addr));
	if (r > 0)
		return CHECK_DUNNO;
	return smtpd_check_reject(ck, code, "5.7.1", "<%s>: Relay access denied",
				  buf_str(&ck->rcpt->addr));
}

/* check_permit_auth_dest - permit_auth_destination. */
static int check_permit_auth_dest(struct smtpd_check *ck)
{
	int r = ck->rcpt ? smtpd_check_auth_dest(ck->s, ck->rcpt) : 0;

	if (r < 0)
		return check_tempfail(ck, buf_str(&ck->rcpt->addr));
	return r > 0 ? CHECK_OK : CHECK_DUNNO;
}

/* check_relay_domains - Postfix 3.7's old check_relay_domains: a verified
 * client name in relay_domains, or an authorised destination, or reject. */
static int check_relay_domains(struct smtpd_check *ck)
{
	const struct smtpd_session *s = ck->s;
	int r = s->name_status == SMTPD_PEER_OK
		? smtpd_domain_listed(s, &s->cf->pol.relay_domains, s->name) : 0;

	if (r < 0)
		return check_tempfail(ck, s->name);
	if (r > 0)
		return CHECK_OK;
	if (ck->rcpt == NULL)
		return CHECK_DUNNO;
	if ((r = smtpd_check_auth_dest(s, ck->rcpt)) < 0)
		return check_tempfail(ck, buf_str(&ck->rcpt->addr));
	if (r > 0)
		return CHECK_OK;
	return smtpd_check_reject(ck, s->cf->relay_code, "5.7.1",
				  "<%s>: Recipient address rejected: Relay access denied",
				  buf_str(&ck->rcpt->addr));
}

/*
 * check_unknown_client - Postfix's reject_unknown_(reverse_)client_hostname:
 * a name that DNS could not give for now is always a 450, whatever
 * unknown_client_reject_code says, so that a DNS hiccup never bounces mail.
 */
static int check_unknown_client(struct smtpd_check *ck, enum smtpd_peer_status status,
				const char *which)
{
	int code = status == SMTPD_PEER_TEMP ? 450 : ck->s->cf->unknown_client_code;

	if (status == SMTPD_PEER_OK)
		return CHECK_DUNNO;
	return smtpd_check_reject(ck, code, "4.7.25", "Client host rejected: cannot find your "
				  "%shostname, [%s]", which, ck->s->addr);
}

/* check_fqdn - reject_non_fqdn_*: value names the subject of which. */
static int check_fqdn(struct smtpd_check *ck, enum smtpd_list which, const char *value,
		      const char *dom, const char *what)
{
	static const char *const cls[] = { [L_HELO] = "Helo command", [L_SENDER] = "Sender address",
					   [L_RCPT] = "Recipient address" };

	if (addr_domain_fqdn(dom))
		return CHECK_DUNNO;
	return smtpd_check_reject(ck, ck->s->cf->non_fqdn_code, "5.5.2",
				  "<%s>: %s rejected: need fully-qualified %s", value, cls[which], what);
}

static int check_invalid_helo(struct smtpd_check *ck)
{
	const struct smtpd_session *s = ck->s;
	const char *h = buf_str(&s->helo);

	if (s->helo.len == 0 || addr_domain_valid(h, s->helo.len)
	    || (h[0] == '[' && addr_domain_fqdn(h)))
		return CHECK_DUNNO;
	return smtpd_check_reject(ck, s->cf->invalid_hostname_code, "5.5.2",
				  "<%s>: Helo command rejected: Invalid name", h);
}

static int check_class(struct smtpd_check *ck, const struct restrict_item *it);

/* check_simple - the restrictions that need no lookup; -1 for the others. */
static int check_simple(struct smtpd_check *ck, const struct restrict_item *it)
{
	struct smtpd_session *s = ck->s;
	const struct smtpd_conf *cf = s->cf;
	const char *snd = buf_str(&s->sender), *at = strrchr(snd, '@');

	switch (it->id) {
	case RESTRICT_PERMIT_MYNETWORKS:
		return s->trusted ? CHECK_OK : CHECK_DUNNO;
	case RESTRICT_PERMIT_SASL:
		return CHECK_DUNNO;	/* no SASL in moat yet */
	case RESTRICT_REJECT_UNAUTH_DEST:
		return check_relay(ck, cf->relay_code);
	case RESTRICT_DEFER_UNAUTH_DEST:
		return check_relay(ck, cf->defer_code);
	case RESTRICT_PERMIT_AUTH_DEST:
		return check_permit_auth_dest(ck);
	case RESTRICT_CHECK_RELAY_DOMAINS:
		return check_relay_domains(ck);
	case RESTRICT_PERMIT:
		return CHECK_OK;
	case RESTRICT_REJECT:
		return check_access(ck, cf->reject_code, "5.7.1", "Access denied");
	case RESTRICT_DEFER:
		return check_access(ck, cf->defer_code, "4.7.1", "Access denied");
	case RESTRICT_REJECT_NON_FQDN_SENDER:
		return s->sender.len == 0 ? CHECK_DUNNO
		       : check_fqdn(ck, L_SENDER, snd, at ? at + 1 : "", "address");
	case RESTRICT_REJECT_NON_FQDN_RCPT:
		return ck->rcpt == NULL ? CHECK_DUNNO
		       : check_fqdn(ck, L_RCPT, buf_str(&ck->rcpt->addr), addr_domain(ck->rcpt),
				    "address");
	case RESTRICT_REJECT_NON_FQDN_HELO:
		return s->helo.len == 0 ? CHECK_DUNNO
		       : check_fqdn(ck, L_HELO, buf_str(&s->helo), buf_str(&s->helo), "hostname");
	case RESTRICT_REJECT_INVALID_HELO:
		return check_invalid_helo(ck);
	case RESTRICT_REJECT_UNAUTH_PIPELINING:
		return s->unauth_pipelined ? check_access(ck, 503, "5.5.0", "Improper use of SMTP "
							  "command pipelining") : CHECK_DUNNO;
	case RESTRICT_REJECT_UNKNOWN_CLIENT:
		return check_unknown_client(ck, s->name_status, "");
	case RESTRICT_REJECT_UNKNOWN_REVERSE:
		return check_unknown_client(ck, s->reverse_status, "reverse ");
	case RESTRICT_CLASS:
		return check_class(ck, it);
	case RESTRICT_REJECT_UNLISTED_SENDER:
		return smtpd_rcptmaps_unlisted(ck, 1);
	case RESTRICT_REJECT_UNLISTED_RCPT:
		return smtpd_rcptmaps_unlisted(ck, 0);
	default:
		return -1;
	}
}

/* check_item - evaluate one restriction. */
static int check_item(struct smtpd_check *ck, const struct restrict_item *it)
{
	int r = check_simple(ck, it);

	if (r >= 0)
		return r;
	if (it->id == RESTRICT_CHECK_POLICY)
		return smtpd_check_policy(ck, it->arg);
	if (restrict_access(it->id, NULL, NULL))
		return smtpd_check_access(ck, it);
	return smtpd_check_dns(ck, it);
}

/* check_class - a restriction class: its list, one level deeper. */
static int check_class(struct smtpd_check *ck, const struct restrict_item *it)
{
	const struct restrict_classes *c = &ck->s->cf->pol.classes;

	if (it->cls >= c->n)
		return CHECK_DUNNO;
	return smtpd_check_items(ck, &c->lists[it->cls]);
}

int smtpd_check_items(struct smtpd_check *ck, const struct restrict_list *l)
{
	int r = CHECK_DUNNO;

	if (ck->depth >= RESTRICT_DEPTH_MAX) {
		msg_warn("restriction classes and policy answers nested more than %d deep",
			 RESTRICT_DEPTH_MAX);
		return smtpd_check_reject(ck, 451, "4.3.5", "Server configuration error");
	}
	ck->depth++;
	for (size_t i = 0; i < l->n && r == CHECK_DUNNO; i++) {
		int warn_next = l->v[i].id == RESTRICT_WARN_IF_REJECT;

		if (!warn_next)
			r = check_item(ck, &l->v[i]);
		ck->warn = warn_next;
	}
	ck->depth--;
	return r;
}

static void check_init(struct smtpd_check *ck, struct smtpd_session *s,
		       const struct addr_path *rcpt, struct buf *reply)
{
	memset(ck, 0, sizeof(*ck));
	ck->s = s;
	ck->rcpt = rcpt;
	ck->reply = reply;
	buf_init(&ck->if_permit.reply, 1024);
	buf_init(&ck->if_reject.reply, 1024);
}

/* check_done - the command's verdict: a permit under defer_if_permit is its 450. */
static int check_done(struct smtpd_check *ck, int r)
{
	if (r != CHECK_REJECT && ck->if_permit.active) {
		buf_set(ck->reply, ck->if_permit.reply.data, ck->if_permit.reply.len);
		r = CHECK_REJECT;
	}
	buf_free(&ck->if_permit.reply);
	buf_free(&ck->if_reject.reply);
	return r;
}

/* check_list - one list within ck; each list starts with no warn pending. */
static int check_list(struct smtpd_check *ck, enum smtpd_list which)
{
	ck->which = which;
	ck->warn = 0;
	return smtpd_check_items(ck, &ck->s->cf->pol.lists[which]);
}

int smtpd_check_cmd(struct smtpd_session *s, enum smtpd_list which, struct buf *reply)
{
	struct smtpd_check ck;

	check_init(&ck, s, NULL, reply);
	return check_done(&ck, check_list(&ck, which)) == CHECK_REJECT ? CHECK_REJECT : CHECK_OK;
}

int smtpd_check_rcpt(struct smtpd_session *s, const struct addr_path *rcpt, struct buf *reply)
{
	static const enum smtpd_list order[] = { L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RCPT };
	struct smtpd_check ck;
	int r = CHECK_DUNNO;

	check_init(&ck, s, rcpt, reply);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && r != CHECK_REJECT; i++) {
		if (!s->cf->delay_reject && order[i] <= L_SENDER)
			continue;	/* already applied at connect/HELO/MAIL time */
		r = check_list(&ck, order[i]);
	}
	/* the recipient's address class (smtpd_rcptmaps.c) comes next */
	return check_done(&ck, r) == CHECK_REJECT ? -1 : 0;
}
