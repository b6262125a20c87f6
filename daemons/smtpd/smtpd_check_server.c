/*
 * smtpd_check_server.c - the access checks whose keys come from DNS:
 * check_{client,reverse_client_hostname,helo,sender,recipient}_a_access
 * (the addresses of the name itself), ..._mx_access (its MX hosts: each
 * host's name, then its addresses) and ..._ns_access (its name servers,
 * likewise), as Postfix 3.7 does them.
 *
 * The domain is the subject's name, or the part of an address after its
 * last '@'. An address literal is its own server (its IP address is the
 * key) except for NS, which has none. A domain without MX records is its
 * own MX host; one with a null MX (RFC 7505) is skipped; a domain without
 * NS records takes its parent's. A DNS failure skips the check with a
 * warning, as Postfix's does: these checks only ever make things
 * stricter, never looser (an OK is refused by the caller).
 *
 * SECURITY: every name and address here comes from DNS, that is from
 * whoever runs the subject's zone. Names reach the lookup stage only as
 * keys (the dns stage let through only host-name bytes), never as part of
 * a reply; the number of hosts and addresses asked about per check is
 * capped, so a zone with a thousand MX records costs a bounded amount.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "mail/addr.h"

#define SERVER_DNS_MS		15000	/* one lookup, all the dns stage's retries included */
#define SERVER_HOSTS_MAX	20	/* MX or NS hosts asked about per check */
#define SERVER_ADDRS_MAX	50	/* addresses per host */

/* Names from DNS, each NUL-terminated, in one buffer; nullmx for MX 0 ".". */
struct server_names {
	struct buf v;
	size_t n, max;
	int nullmx;
};

static void server_collect(const char *value, uint32_t pref, void *ctx)
{
	struct server_names *s = ctx;

	if (pref == 0 && strcmp(value, ".") == 0)
		s->nullmx = 1;
	else if (s->n < s->max && buf_append(&s->v, value, strlen(value) + 1) == 0)
		s->n++;
}

static const char *server_type_name(uint32_t type)
{
	return type == DNS_T_MX ? "MX" : type == DNS_T_NS ? "NS" : "A";
}

static const char *server_status_text(int st)
{
	switch (st) {
	case DNS_NOTFOUND:
		return "Host not found";
	case DNS_NODATA:
		return "No address associated with hostname";
	case DNS_TEMPFAIL:
		return "Host not found, try again";
	default:
		return "Non-recoverable error";
	}
}

/* server_addrs - the A and AAAA records of host into out; a DNS_* status. */
static int server_addrs(struct smtpd_check *ck, const char *host, struct server_names *out)
{
	int st4, st6;

	out->max = SERVER_ADDRS_MAX;
	st4 = smtpd_dns_query(ck->s, host, DNS_T_A, SERVER_DNS_MS, server_collect, out);
	if (st4 == DNS_NOTFOUND)
		return st4;
	st6 = smtpd_dns_query(ck->s, host, DNS_T_AAAA, SERVER_DNS_MS, server_collect, out);
	return out->n ? DNS_OK : st4 == DNS_NODATA ? st6 : st4;
}

/* server_check_addrs - each address of host as a client address key. */
static int server_check_addrs(struct smtpd_check *ck, const struct restrict_item *it,
			      const char *host, uint32_t type)
{
	struct server_names a = { BUF_INIT, 0, 0, 0 };
	int r = CHECK_DUNNO, found = 0, st;

	buf_init(&a.v, 256);
	if ((st = server_addrs(ck, host, &a)) != DNS_OK)
		msg_warn("Unable to look up %s host %s for %s %s: %s", server_type_name(type), host,
			 ck->subj_cls, ck->subj_name, server_status_text(st));
	for (size_t off = 0; off < a.v.len && r == CHECK_DUNNO; off += strlen(a.v.data + off) + 1)
		r = smtpd_access_lookup(ck, it, a.v.data + off, LOOKUP_ORDER_NETADDR, 0, &found);
	buf_free(&a.v);
	return r;
}

/* server_list - the MX or NS host names of dom into out; a DNS_* status. */
static int server_list(struct smtpd_check *ck, const char *dom, uint32_t type,
		       struct server_names *out)
{
	int st;

	out->max = SERVER_HOSTS_MAX;
	st = smtpd_dns_query(ck->s, dom, type, SERVER_DNS_MS, server_collect, out);
	if (st == DNS_OK && (out->n || out->nullmx))
		return DNS_OK;
	if (st != DNS_OK && st != DNS_NODATA && st != DNS_NOTFOUND)
		return st;
	if (type == DNS_T_MX) {		/* no MX: the domain is its own mail host */
		out->n = 1;
		return buf_append(&out->v, dom, strlen(dom) + 1) < 0 ? DNS_TEMPFAIL : DNS_OK;
	}
	while ((dom = strchr(dom, '.')) != NULL && dom[1]) {	/* no NS: the parent's */
		dom++;
		st = smtpd_dns_query(ck->s, dom, type, SERVER_DNS_MS, server_collect, out);
		if (st == DNS_OK && out->n)
			return DNS_OK;
		if (st != DNS_OK && st != DNS_NODATA && st != DNS_NOTFOUND)
			return st;
	}
	return DNS_NOTFOUND;
}

/* server_hosts - MX or NS: each host's name (and parents), then its addresses. */
static int server_hosts(struct smtpd_check *ck, const struct restrict_item *it, const char *dom,
			uint32_t type)
{
	struct server_names h = { BUF_INIT, 0, 0, 0 };
	int r = CHECK_DUNNO, found = 0, st;

	buf_init(&h.v, 1024);
	if ((st = server_list(ck, dom, type, &h)) != DNS_OK)
		msg_warn("Unable to look up %s host for %s: %s", server_type_name(type), dom,
			 server_status_text(st));
	for (size_t off = 0; off < h.v.len && r == CHECK_DUNNO; off += strlen(h.v.data + off) + 1) {
		const char *host = h.v.data + off;

		r = smtpd_access_lookup(ck, it, host, LOOKUP_ORDER_DOMAIN, smtpd_access_parent(ck->s),
					&found);
		if (r == CHECK_DUNNO)
			r = server_check_addrs(ck, it, host, type);
	}
	buf_free(&h.v);
	return r;
}

/* server_domain - the name the check is about, or NULL when there is none. */
static const char *server_domain(struct smtpd_check *ck, enum restrict_subject subj)
{
	const struct smtpd_session *s = ck->s;
	const char *v, *at;

	switch (subj) {
	case RS_CLIENT:
		return strcmp(s->name, "unknown") ? s->name : NULL;
	case RS_REVERSE:
		return strcmp(s->reverse_name, "unknown") ? s->reverse_name : NULL;
	case RS_HELO:
		v = s->helo.len ? buf_str(&s->helo) : NULL;
		break;
	case RS_SENDER:
		v = s->sender.len ? buf_str(&s->sender) : NULL;
		break;
	default:
		v = ck->rcpt ? buf_str(&ck->rcpt->addr) : NULL;
		break;
	}
	if (v && subj != RS_HELO && (at = strrchr(v, '@')) != NULL)
		v = at + 1;
	return v && *v ? v : NULL;
}

/* server_literal - [address]: its own A and MX server, with no NS. */
static int server_literal(struct smtpd_check *ck, const struct restrict_item *it,
			  const char *dom, enum restrict_server srv)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char ip[16];
	int fam, found;

	if (srv == RS_NS || addr_literal_ip(dom, strlen(dom), &fam, ip) < 0
	    || inet_ntop(fam, ip, text, sizeof(text)) == NULL)
		return CHECK_DUNNO;
	return smtpd_access_lookup(ck, it, text, LOOKUP_ORDER_NETADDR, 0, &found);
}

int smtpd_check_server(struct smtpd_check *ck, const struct restrict_item *it,
		       enum restrict_subject subj, enum restrict_server srv)
{
	const char *dom = server_domain(ck, subj);

	if (dom == NULL)
		return CHECK_DUNNO;
	if (dom[0] == '[')
		return server_literal(ck, it, dom, srv);
	if (!addr_domain_valid(dom, strlen(dom)))
		return CHECK_DUNNO;
	if (srv == RS_A)
		return server_check_addrs(ck, it, dom, DNS_T_A);
	return server_hosts(ck, it, dom, srv == RS_MX ? DNS_T_MX : DNS_T_NS);
}
