/*
 * smtp_dane.c - DANE (RFC 7672, RFC 7671) for the smtp client: the TLSA
 * records of an MX host, looked up through the dns stage, decide the TLS
 * level of each connection, and OpenSSL's DANE verifier checks the server's
 * chain against them.
 *
 * smtp_dane_init (before the jail) reads smtp_dns_support_level,
 * smtp_tls_dane_insecure_mx_policy and tls_dane_digests, turns DANE on in
 * both OpenSSL contexts and refuses a dane or dane-only level without
 * smtp_dns_support_level = dnssec. smtp_dane_prepare runs before each
 * connection at a dane level and gives the level that connection really
 * has, as Postfix 3.7 does:
 *   - MX answer not validated (insecure) and the policy is may, or the
 *     host's address answer not validated, or no validated TLSA records
 *     at _port._tcp.host: dane falls back to may, dane-only is deferred;
 *   - TLSA records, none usable (usage 0/1 are ignored as RFC 7672 3.1.3
 *     says; selector, matching type or digest length we cannot use): dane
 *     falls back to encrypt, dane-only is deferred;
 *   - usable records: TLS is required and the chain must match one of them
 *     (DANE-EE(3): the server's certificate or key, no name check; DANE-TA(2):
 *     an issuer, and the certificate must name the MX host or the next-hop
 *     domain). An insecure MX at policy encrypt only encrypts; at policy
 *     dane a match is logged "Trusted", not "Verified" (the MX host name
 *     could be forged).
 *   - the TLSA lookup fails (SERVFAIL, timeout): this host is deferred.
 * smtp_dane_ssl arms one handshake; smtp_dane_matched judges it.
 *
 * The AD bit is the only evidence of DNSSEC: it is believed as Postfix does,
 * which is sound only with a validating resolver on this host (docs/dane.md).
 *
 * SECURITY: TLSA records come from the dns stage (smtp_dns.c checks their
 * fields) and originally from DNS: their data reaches OpenSSL only through
 * SSL_dane_tlsa_add, which parses it; no record ever lowers the level below
 * what the rules above give, and no failure sends mail in cleartext at a
 * level that requires TLS.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/strnum.h"
#include "mail/nexthop.h"
#include "tls/tls_level.h"

/* dane_refuse - a setting that would weaken DANE: "main.cf:12: name: why", exit. */
static void dane_refuse(const struct conf *c, const char *name, const char *why)
{
	const char *w = conf_where(c, name);

	msg_fatal("%s%s%s: %s", w ? w : "", w ? ": " : "", name, why);
}

/* dane_digest_one - one tls_dane_digests entry ("sha256", "sha512", "name=N")
 * into mtype and digest; -1 with why. */
static int dane_digest_one(const char *item, int *mtype, const EVP_MD **md, struct buf *why)
{
	char name[64];
	const char *eq = strchr(item, '=');
	size_t n = eq ? (size_t)(eq - item) : strlen(item);
	int num = -1;

	if (n == 0 || n >= sizeof(name))
		return buf_printf(why, "bad entry \"%s\"", item), -1;
	memcpy(name, item, n);
	name[n] = 0;
	if (eq && strnum_int(eq + 1, 1, 254, &num) < 0)
		return buf_printf(why, "bad matching type number in \"%s\"", item), -1;
	if (num < 0)
		num = strcasecmp(name, "sha256") == 0 ? 1 : strcasecmp(name, "sha512") == 0 ? 2 : -1;
	if (num < 0)
		return buf_printf(why, "digest %s needs an explicit number (name=N)", name), -1;
	if ((num == 1 && strcasecmp(name, "sha256") != 0)
	    || (num == 2 && strcasecmp(name, "sha512") != 0))
		return buf_printf(why, "matching type %d can only be %s", num,
				  num == 1 ? "sha256" : "sha512"), -1;
	if ((*md = EVP_get_digestbyname(name)) == NULL)
		return buf_printf(why, "unknown digest algorithm %s", name), -1;
	*mtype = num;
	return 0;
}

/* dane_digests - tls_dane_digests into both contexts: the types listed, most
 * preferred first (OpenSSL prefers the higher ordinal); 1 and 2 are off
 * unless listed, as in Postfix. */
static void dane_digests(struct smtp_state *s, struct conf *c)
{
	char *const *list = conf_list(c, "tls_dane_digests");
	SSL_CTX *ctx[2] = { s->tls_ctx_may, s->tls_ctx_must };
	struct buf why = BUF_INIT;
	size_t n = 0;

	while (list && list[n])
		n++;
	memset(s->dane.mtype_ok, 0, sizeof(s->dane.mtype_ok));
	for (int k = 0; k < 2; k++) {
		if (SSL_CTX_dane_enable(ctx[k]) <= 0)
			msg_fatal("OpenSSL DANE initialization failed");
		(void)SSL_CTX_dane_mtype_set(ctx[k], NULL, 1, 0);
		(void)SSL_CTX_dane_mtype_set(ctx[k], NULL, 2, 0);
		for (size_t i = 0; i < n; i++) {
			const EVP_MD *md;
			int mt;

			if (dane_digest_one(list[i], &mt, &md, &why) < 0)
				dane_refuse(c, "tls_dane_digests", buf_str(&why));
			if (s->dane.mtype_ok[mt] && k == 0)
				dane_refuse(c, "tls_dane_digests", "a matching type is listed twice");
			if (SSL_CTX_dane_mtype_set(ctx[k], md, (uint8_t)mt, (uint8_t)(n - i)) <= 0)
				dane_refuse(c, "tls_dane_digests", "refused by OpenSSL");
			s->dane.mtype_ok[mt] = (unsigned char)EVP_MD_get_size(md);
		}
	}
	buf_free(&why);
}

void smtp_dane_init(struct smtp_state *s, struct conf *c)
{
	const char *dns = conf_str(c, "smtp_dns_support_level");
	const char *pol = conf_str(c, "smtp_tls_dane_insecure_mx_policy");

	s->dane.dnssec = strcmp(dns, "dnssec") == 0;
	if (strcmp(dns, "disabled") == 0)
		s->disable_dns = 1;
	/* Postfix >= 3.6: dane at level dane, else may. */
	s->dane.insecure_mx = *pol ? tls_level_parse(pol)
		: s->tls_level == TLS_LEV_DANE ? TLS_LEV_DANE : TLS_LEV_MAY;
	if (TLS_LEV_DANE_BASED(s->tls_level) && (!s->dane.dnssec || s->disable_dns))
		dane_refuse(c, "smtp_tls_security_level", "dane and dane-only need "
			    "smtp_dns_support_level = dnssec (a validating resolver on this host)");
	if (s->tls_ctx_may != NULL)
		dane_digests(s, c);
}

/* dane_hex - the first and last bytes of TLSA data, as Postfix logs them. */
static void dane_hex(const unsigned char *p, size_t n, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		if (n > 64 && i == 32) {
			(void)buf_append_str(out, "...");
			i = n - 32;
		}
		(void)buf_printf(out, "%02X", p[i]);
	}
	if (n == 0)
		(void)buf_append_str(out, "...");
}

static void dane_carp(const char *who, const char *what, const struct smtp_tlsa *t)
{
	struct buf hex = BUF_INIT;

	dane_hex(t->data, t->len, &hex);
	msg_warn("%s %s: %u %u %u %s", who, what, t->usage, t->selector, t->mtype, buf_str(&hex));
	buf_free(&hex);
}

/* dane_usable - can OpenSSL's DANE verifier use this record? Unusable ones
 * are logged as Postfix does: the usage by the TLSA name, the rest by host. */
static int dane_usable(const struct smtp_state *s, const struct smtp_tlsa *t, const char *qname,
		       const char *namaddr)
{
	if (t->usage != 2 && t->usage != 3) {
		dane_carp(qname, "unsupported TLSA certificate usage", t);
		return 0;
	}
	if (t->mtype == 255) {
		dane_carp(qname, "reserved private-use matching type", t);
		return 0;
	}
	if (t->selector > 1 || (t->mtype != 0 && (s->dane.mtype_ok[t->mtype] == 0
						  || t->len != s->dane.mtype_ok[t->mtype]))
	    || t->len == 0) {
		dane_carp(namaddr, "unusable TLSA RR", t);
		return 0;
	}
	return 1;
}

void smtp_dane_clear(struct smtp_state *s)
{
	smtp_dns_tlsa_free(s->dane.tlsa, s->dane.ntlsa);
	s->dane.ntlsa = 0;
	s->dane.active = 0;
	s->dane.trusted_only = 0;
}

/* dane_lookup - the usable TLSA records of host:port into s->dane;
 * DNS_OK (some, maybe none usable: *found), DNS_NODATA (none secure), or
 * DNS_TEMPFAIL. */
static int dane_lookup(struct smtp_state *s, const struct smtp_addr *a, int *found)
{
	struct smtp_tlsa got[SMTP_TLSA_MAX];
	struct smtp_dns_answer ans = { .tlsa = got, .max = SMTP_TLSA_MAX };
	struct buf name = BUF_INIT, why = BUF_INIT, namaddr = BUF_INIT;
	int st;

	*found = 0;
	(void)buf_printf(&name, "_%u._tcp.%s", a->port, a->host);
	(void)buf_printf(&namaddr, "%s[%s]:%u:", a->host, a->addr, a->port);
	st = smtp_dns_ask(s, buf_str(&name), DNS_T_TLSA, &ans, &why);
	if (st == DNS_TEMPFAIL || st == DNS_PERMFAIL) {
		msg_warn("DANE TLSA lookup problem: %s: %s", buf_str(&name), buf_str(&why));
		st = DNS_TEMPFAIL;
	} else if (st != DNS_OK || !ans.secure || ans.ntlsa == 0) {
		st = DNS_NODATA;	/* not found, or not validated: as none */
	} else {
		*found = 1;
		for (size_t i = 0; i < ans.ntlsa; i++) {
			if (!dane_usable(s, &got[i], buf_str(&name), buf_str(&namaddr)))
				continue;
			s->dane.tlsa[s->dane.ntlsa++] = got[i];
			got[i].data = NULL;	/* now owned by s->dane */
		}
	}
	smtp_dns_tlsa_free(got, ans.ntlsa);
	buf_free(&name);
	buf_free(&why);
	buf_free(&namaddr);
	return st;
}

/* dane_incompat - no DANE for this host: dane falls back to fallback,
 * dane-only is deferred with why. */
static int dane_incompat(struct smtp_state *s, int fallback, const char *why, struct buf *out)
{
	if (s->tls_level == TLS_LEV_DANE)
		return fallback;
	buf_set_str(out, why);
	return -1;
}

/* dane_level - the level of one connection at a dane level; -1 with why. */
static int dane_level(struct smtp_state *s, const struct smtp_addr *a, struct buf *why)
{
	int found, st;

	if (a->mx_secure == 0 && (s->tls_level == TLS_LEV_DANE_ONLY
				  || s->dane.insecure_mx <= TLS_LEV_MAY))
		return dane_incompat(s, TLS_LEV_MAY, "non DNSSEC destination", why);
	/* No TLSA lookup for a host in an unsigned zone (RFC 7672 2.2.2). */
	if (!a->host_secure)
		return dane_incompat(s, TLS_LEV_MAY, "no TLSA records found", why);
	st = dane_lookup(s, a, &found);
	if (st == DNS_TEMPFAIL) {
		(void)buf_printf(why, "TLSA lookup error for %s:%u", a->host, a->port);
		return -1;
	}
	if (!found)
		return dane_incompat(s, TLS_LEV_MAY, "no TLSA records found", why);
	if (s->dane.ntlsa == 0)
		return dane_incompat(s, TLS_LEV_ENCRYPT, "TLSA records unusable", why);
	if (a->mx_secure == 0 && s->dane.insecure_mx == TLS_LEV_ENCRYPT) {
		msg_info("TLSA RRs found, MX RRset insecure: just encrypt");
		return TLS_LEV_ENCRYPT;
	}
	s->dane.active = 1;
	s->dane.trusted_only = a->mx_secure == 0;
	snprintf(s->dane.base, sizeof(s->dane.base), "%s", a->host);
	return s->tls_level;
}

int smtp_dane_prepare(struct smtp_state *s, const struct smtp_addr *a, struct buf *why,
		      char dsn[16])
{
	int lev;

	smtp_dane_clear(s);
	if (!TLS_LEV_DANE_BASED(s->tls_level))
		return s->tls_level;
	buf_reset(why);
	if (!s->dane.dnssec) {
		/* a per-destination dane level (the global one is refused at start) */
		msg_warn("%s: %s configured with dnssec lookups disabled", s->hop,
			 tls_level_name(s->tls_level));
		lev = dane_incompat(s, TLS_LEV_MAY, "client TLS configuration problem", why);
	} else
		lev = dane_level(s, a, why);
	if (lev >= 0)
		return lev;
	msg_warn("TLS policy lookup for %s/%s: %s", s->hop, a->host, buf_str(why));
	memcpy(dsn, "4.7.5", 6);
	snprintf(s->conn.relay, sizeof(s->conn.relay), "none");	/* nothing was connected */
	return -1;
}

/* dane_hop_domain - the next-hop domain, a reference identifier with the
 * MX host name (RFC 7672 3.2.2); "" for an address literal. */
static void dane_hop_domain(const struct smtp_state *s, char *out, size_t n)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;

	out[0] = 0;
	if (s->hop && nexthop_parse(s->hop, s->default_port, &nh, &why) == 0 && !nh.family)
		snprintf(out, n, "%s", nh.host);
	buf_free(&why);
}

int smtp_dane_ssl(struct smtp_state *s, SSL *ssl, struct buf *err)
{
	char hop[256];
	int usable = 0;

	if (!s->dane.active)
		return 0;
	if (SSL_dane_enable(ssl, s->dane.base) <= 0
	    || !SSL_set_tlsext_host_name(ssl, s->dane.base)) {
		buf_set_str(err, "cannot enable DANE");
		return -1;
	}
	/* DANE-EE(3) binds the key to the TLSA name: no name check (RFC 7672 3.1.1). */
	(void)SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	dane_hop_domain(s, hop, sizeof(hop));
	if (hop[0] && strcasecmp(hop, s->dane.base) != 0 && !SSL_add1_host(ssl, hop)) {
		buf_set_str(err, "cannot enable DANE");
		return -1;
	}
	for (size_t i = 0; i < s->dane.ntlsa; i++) {
		const struct smtp_tlsa *t = &s->dane.tlsa[i];
		int r = SSL_dane_tlsa_add(ssl, t->usage, t->selector, t->mtype, t->data, t->len);

		if (r > 0)
			usable++;
		else
			dane_carp(s->conn.relay, "unusable TLSA RR", t);
	}
	ERR_clear_error();
	if (usable == 0) {
		buf_set_str(err, "no usable TLSA record");
		return -1;
	}
	return 0;
}

int smtp_dane_matched(struct smtp_state *s, SSL *ssl)
{
	EVP_PKEY *spki = NULL;
	uint8_t u, sel, m;
	const unsigned char *data;
	size_t dlen;
	int depth;

	if (!s->dane.active || SSL_get_verify_result(ssl) != X509_V_OK
	    || (depth = SSL_get0_dane_authority(ssl, NULL, &spki)) < 0)
		return 0;
	if (s->tls_loglevel >= 2 && SSL_get0_dane_tlsa(ssl, &u, &sel, &m, &data, &dlen) >= 0) {
		struct buf hex = BUF_INIT;

		dane_hex(data, dlen, &hex);
		msg_info("%s: Matched DANE %s at depth %d: %u %u %u %s", s->conn.relay,
			 spki ? "TA public key verified certificate" : depth ? "TA certificate"
			 : "EE certificate", depth, u, sel, m, buf_str(&hex));
		buf_free(&hex);
	}
	return 1;
}
