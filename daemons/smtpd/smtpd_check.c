/*
 * smtpd_check.c - smtpd's access policy: restriction lists and relay control.
 *
 * Lists are parsed once at start-up by stagecf/smtpd_policy.c (the code
 * moatd's start-up check runs too): an unknown or unsupported restriction
 * name is fatal there, with file and line, so that a policy is never
 * silently weaker than written. At RCPT time (smtpd_delay_reject = yes, the default)
 * the client, helo and sender lists run, then smtpd_relay_restrictions,
 * then smtpd_recipient_restrictions; each list stops at its first OK
 * (permit...) or reject/defer; DUNNO goes on; every list must end without
 * reject for the recipient to pass. Then moat's own rule: a recipient this
 * host would deliver locally is refused, since moat has no local delivery.
 *
 * Relay control: a recipient is an authorised destination only if its
 * domain is in mydestination or relay_domains (or it is an address literal
 * of this host, or it has no domain) AND it carries no routing trick
 * (user%host@, host!user@, "a@b"@, @route:). Address literals of other
 * hosts are never authorised destinations.
 *
 * SECURITY: decides who may relay. It trusts main.cf and the kernel's view
 * of the client address (getpeername), never what the client claims. The
 * client name comes from DNS, which the client's owner controls: it is
 * only ever a reason to reject (reject_unknown_*), never to permit.
 */
#include <string.h>
#include <sys/socket.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

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
	return domlist_match(&s->cf->pol.mydest, dom);
}

int smtpd_check_auth_dest(const struct smtpd_session *s, const struct addr_path *rcpt)
{
	if (rcpt->flags & ADDR_F_TRICKS)
		return 0;
	if (smtpd_check_is_local(s, rcpt))
		return 1;
	if (rcpt->flags & ADDR_F_LITERAL)
		return 0;
	return domlist_match(&s->cf->pol.relay_domains, addr_domain(rcpt));
}

/* check_what - "<x>: Y rejected" parts for a list. */
static void check_subject(struct smtpd_session *s, enum smtpd_list which,
			  const struct addr_path *rcpt, struct buf *out, const char **cls)
{
	switch (which) {
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
		buf_append_str(out, rcpt ? buf_str(&rcpt->addr) : "");
		*cls = "Recipient address";
		break;
	}
}

static int check_reject(struct smtpd_session *s, enum smtpd_list which,
			const struct addr_path *rcpt, struct buf *reply, int code,
			const char *dsn, const char *why)
{
	struct buf subj = BUF_INIT;
	const char *cls;

	check_subject(s, which, rcpt, &subj, &cls);
	buf_reset(reply);
	buf_printf(reply, "%d %c%s <%s>: %s rejected: %s", code, code >= 500 ? '5' : '4', dsn + 1,
		   buf_str(&subj), cls, why);
	buf_free(&subj);
	return CHECK_REJECT;
}

static int check_relay(struct smtpd_session *s, const struct addr_path *rcpt,
		       struct buf *reply, int code)
{
	if (rcpt == NULL || smtpd_check_auth_dest(s, rcpt))
		return CHECK_DUNNO;
	buf_reset(reply);
	buf_printf(reply, "%d %c.7.1 <%s>: Relay access denied", code, code >= 500 ? '5' : '4',
		   buf_str(&rcpt->addr));
	return CHECK_REJECT;
}

/*
 * check_unknown_client - Postfix's reject_unknown_(reverse_)client_hostname:
 * a name that DNS could not give for now is always a 450, whatever
 * unknown_client_reject_code says, so that a DNS hiccup never bounces mail.
 */
static int check_unknown_client(struct smtpd_session *s, enum smtpd_peer_status status,
				const char *which, struct buf *reply)
{
	int code = status == SMTPD_PEER_TEMP ? 450 : s->cf->unknown_client_code;

	if (status == SMTPD_PEER_OK)
		return CHECK_DUNNO;
	buf_reset(reply);
	buf_printf(reply, "%d %c.7.25 Client host rejected: cannot find your %shostname, [%s]",
		   code, code >= 500 ? '5' : '4', which, s->addr);
	return CHECK_REJECT;
}

/* check_one - evaluate one restriction. */
static int check_one(struct smtpd_session *s, enum smtpd_list which, enum restrict_id r,
		     const struct addr_path *rcpt, struct buf *reply)
{
	const struct smtpd_conf *cf = s->cf;
	const char *h = buf_str(&s->helo);

	switch (r) {
	case RESTRICT_PERMIT_MYNETWORKS:
		return s->trusted ? CHECK_OK : CHECK_DUNNO;
	case RESTRICT_PERMIT_SASL:
		return CHECK_DUNNO;	/* no SASL in moat yet */
	case RESTRICT_REJECT_UNAUTH_DEST:
		return check_relay(s, rcpt, reply, cf->relay_code);
	case RESTRICT_DEFER_UNAUTH_DEST:
		return check_relay(s, rcpt, reply, cf->defer_code);
	case RESTRICT_PERMIT_AUTH_DEST:
		return rcpt && smtpd_check_auth_dest(s, rcpt) ? CHECK_OK : CHECK_DUNNO;
	case RESTRICT_PERMIT:
		return CHECK_OK;
	case RESTRICT_REJECT:
		return check_reject(s, which, rcpt, reply, cf->reject_code, "5.7.1", "Access denied");
	case RESTRICT_DEFER:
		return check_reject(s, which, rcpt, reply, cf->defer_code, "4.7.1", "Access denied");
	case RESTRICT_REJECT_NON_FQDN_SENDER:
		if (s->sender.len == 0 || addr_domain_fqdn(strchr(buf_str(&s->sender), '@')
							   ? strrchr(buf_str(&s->sender), '@') + 1 : ""))
			return CHECK_DUNNO;
		return check_reject(s, L_SENDER, rcpt, reply, cf->non_fqdn_code, "5.5.2",
				    "need fully-qualified address");
	case RESTRICT_REJECT_NON_FQDN_RCPT:
		if (rcpt == NULL || addr_domain_fqdn(addr_domain(rcpt)))
			return CHECK_DUNNO;
		return check_reject(s, L_RCPT, rcpt, reply, cf->non_fqdn_code, "5.5.2",
				    "need fully-qualified address");
	case RESTRICT_REJECT_NON_FQDN_HELO:
		if (s->helo.len == 0 || addr_domain_fqdn(h))
			return CHECK_DUNNO;
		return check_reject(s, L_HELO, rcpt, reply, cf->non_fqdn_code, "5.5.2",
				    "need fully-qualified hostname");
	case RESTRICT_REJECT_INVALID_HELO:
		if (s->helo.len == 0 || addr_domain_valid(h, s->helo.len)
		    || (h[0] == '[' && addr_domain_fqdn(h)))
			return CHECK_DUNNO;
		return check_reject(s, L_HELO, rcpt, reply, cf->invalid_hostname_code, "5.5.2",
				    "Invalid name");
	case RESTRICT_REJECT_UNAUTH_PIPELINING:
		if (!s->unauth_pipelined)
			return CHECK_DUNNO;
		return check_reject(s, which, rcpt, reply, 503, "5.5.0",
				    "Improper use of SMTP command pipelining");
	case RESTRICT_REJECT_UNKNOWN_CLIENT:
		return check_unknown_client(s, s->name_status, "", reply);
	case RESTRICT_REJECT_UNKNOWN_REVERSE:
		return check_unknown_client(s, s->reverse_status, "reverse ", reply);
	case RESTRICT_WARN_IF_REJECT:
	case RESTRICT_COUNT:
		break;
	}
	return CHECK_DUNNO;
}

/* smtpd_check_list - run one restriction list; CHECK_OK, _DUNNO or _REJECT. */
int smtpd_check_list(struct smtpd_session *s, enum smtpd_list which,
		     const struct addr_path *rcpt, struct buf *reply)
{
	const struct restrict_list *l = &s->cf->pol.lists[which];
	int warn = 0;

	for (size_t i = 0; i < l->n; i++) {
		int r;

		if (l->v[i] == RESTRICT_WARN_IF_REJECT) {
			warn = 1;
			continue;
		}
		r = check_one(s, which, l->v[i], rcpt, reply);
		if (r == CHECK_REJECT && warn) {
			msg_info("reject_warning: %s from %s: %s", s->where, buf_str(&s->namaddr),
				 buf_str(reply));
			r = CHECK_DUNNO;
		}
		warn = 0;
		if (r != CHECK_DUNNO)
			return r;
	}
	return CHECK_DUNNO;
}

int smtpd_check_rcpt(struct smtpd_session *s, const struct addr_path *rcpt, struct buf *reply)
{
	static const enum smtpd_list order[] = { L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RCPT };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!s->cf->delay_reject && order[i] <= L_SENDER)
			continue;	/* already applied at connect/HELO/MAIL time */
		if (smtpd_check_list(s, order[i], rcpt, reply) == CHECK_REJECT)
			return -1;
	}
	if (smtpd_check_is_local(s, rcpt)) {
		buf_reset(reply);
		buf_printf(reply, "550 5.1.1 <%s>: Recipient address rejected: "
			   "local delivery is not supported by moat", buf_str(&rcpt->addr));
		return -1;
	}
	return 0;
}
