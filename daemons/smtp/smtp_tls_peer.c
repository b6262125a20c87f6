/*
 * smtp_tls_peer.c - after the handshake: is the server's certificate
 * trusted, does it name the server the level expects, and the Postfix
 * "... TLS connection established to ..." line.
 *
 * Trusted: OpenSSL verified the chain to a CA of smtp_tls_CAfile/_CApath.
 * Matched: at fingerprint, the certificate's or its public key's digest
 * (smtp_tls_fingerprint_digest) is one of smtp_tls_fingerprint_cert_match;
 * at verify and secure, the chain is trusted and the certificate names
 * one of the level's *_cert_match strings: "hostname" (the server's name
 * as found, from MX at verify), "nexthop" (the next hop's domain),
 * "dot-nexthop" (any name under it), or a literal name (".example.com":
 * any name under it). The log says Verified (matched), Trusted, Untrusted,
 * or Anonymous (no certificate). At dane and dane-only the chain must match
 * a TLSA record (smtp_dane.c); through an insecure MX that is "Trusted".
 *
 * SECURITY: the certificate is the server's and hostile; it is only read
 * through OpenSSL's parsed, checked objects, and the name check is
 * OpenSSL's (X509_check_host: no partial wildcards, no NUL tricks).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "daemons/smtp/smtp.h"
#include "lib/msg.h"
#include "mail/nexthop.h"
#include "tls/tls_level.h"
#include "tls/tls_log.h"

void smtp_tls_peer_init(struct smtp_state *s, struct conf *c)
{
	const char *md = conf_str(c, "smtp_tls_fingerprint_digest");

	if ((s->tls_fpt_md = EVP_get_digestbyname(md)) == NULL)
		msg_fatal("smtp_tls_fingerprint_digest = %s: unknown digest", md);
}

/* peer_hop_host - the next hop's domain or host, without [] and port. */
static void peer_hop_host(const struct smtp_state *s, const char *hop, char *out, size_t n)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;

	if (nexthop_parse(hop, s->default_port, &nh, &why) == 0)
		snprintf(out, n, "%s", nh.host);
	else
		out[0] = 0;
	buf_free(&why);
}

void smtp_tls_servername(const struct smtp_state *s, const char *hop, char *out, size_t n)
{
	const char *v = s->tls_servername;
	unsigned char tmp[16];

	if (strcasecmp(v, "hostname") == 0)
		snprintf(out, n, "%s", s->conn.host);
	else if (strcasecmp(v, "nexthop") == 0)
		peer_hop_host(s, hop, out, n);
	else
		snprintf(out, n, "%s", v);
	/* An address literal is no server name (RFC 6066 3). */
	if (inet_pton(AF_INET, out, tmp) == 1 || inet_pton(AF_INET6, out, tmp) == 1)
		out[0] = 0;
}

/* peer_name_match - the certificate names one of the level's strings. */
static int peer_name_match(const struct smtp_state *s, X509 *cert, const char *hop)
{
	char host[300];

	for (char *const *m = s->tls_match; m && *m; m++) {
		if (strcasecmp(*m, "hostname") == 0)
			snprintf(host, sizeof(host), "%s", s->conn.host);
		else if (strcasecmp(*m, "nexthop") == 0)
			peer_hop_host(s, hop, host, sizeof(host));
		else if (strcasecmp(*m, "dot-nexthop") == 0) {
			host[0] = '.';
			peer_hop_host(s, hop, host + 1, sizeof(host) - 1);
		} else
			snprintf(host, sizeof(host), "%s", *m);
		if (host[0] && host[strlen(host) - 1] != '.'
		    && X509_check_host(cert, host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
			return 1;
	}
	return 0;
}

/* peer_hex_eq - a fingerprint as configured ("AB:cd:..." or "abcd...")
 * against a digest. */
static int peer_hex_eq(const char *want, const unsigned char *md, unsigned len)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned i = 0;

	for (const char *p = want; *p; p++) {
		if (*p == ':')
			continue;
		if (i >= 2 * len || toupper((unsigned char)*p) != hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15])
			return 0;
		i++;
	}
	return i == 2 * len;
}

/* peer_fpt_match - the certificate's or its public key's digest is listed. */
static int peer_fpt_match(const struct smtp_state *s, X509 *cert)
{
	unsigned char c_md[EVP_MAX_MD_SIZE], k_md[EVP_MAX_MD_SIZE], *spki = NULL;
	unsigned c_len = 0, k_len = 0;
	/* The key's fingerprint is over its whole SubjectPublicKeyInfo, as
	 * Postfix's (and DANE's SPKI selector), not the bare key bits. */
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
	int ok = n > 0 && X509_digest(cert, s->tls_fpt_md, c_md, &c_len)
		&& EVP_Digest(spki, (size_t)n, k_md, &k_len, s->tls_fpt_md, NULL);

	OPENSSL_free(spki);
	if (!ok)
		return 0;
	for (char *const *m = s->tls_match; m && *m; m++)
		if (peer_hex_eq(*m, c_md, c_len) || peer_hex_eq(*m, k_md, k_len))
			return 1;
	return 0;
}

int smtp_tls_peer_check(struct smtp_state *s, const char *hop, struct buf *why)
{
	struct smtp_conn *c = &s->conn;
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	long vr = SSL_get_verify_result(c->ssl);
	int trusted = cert && vr == X509_V_OK, lev = s->tls_level, matched = 0;
	struct buf line = BUF_INIT;

	if (cert && lev == TLS_LEV_FINGERPRINT)
		matched = peer_fpt_match(s, cert);
	else if (cert && TLS_LEV_DANE_BASED(lev))
		matched = smtp_dane_matched(s, c->ssl);
	else if (trusted && (lev == TLS_LEV_VERIFY || lev == TLS_LEV_SECURE))
		matched = peer_name_match(s, cert, hop);
	if (cert && !trusted && (s->tls_loglevel >= 2 || lev == TLS_LEV_VERIFY
				 || lev == TLS_LEV_SECURE || TLS_LEV_DANE_BASED(lev)))
		msg_info("server certificate verification failed for %s: num=%ld:%s", c->relay, vr,
			 X509_verify_cert_error_string(vr));
	if (s->tls_loglevel >= 1) {
		tls_log_summary(c->ssl, "server", &line);
		msg_info("%s TLS connection established to %s: %s",
			 !cert ? "Anonymous" : matched && !s->dane.trusted_only ? "Verified"
			 : matched || trusted ? "Trusted" : "Untrusted",
			 c->relay, buf_str(&line));
	}
	buf_free(&line);
	if ((lev == TLS_LEV_VERIFY || lev == TLS_LEV_SECURE) && !trusted)
		return buf_set_str(why, "Server certificate not trusted"), -1;
	if (TLS_LEV_CHECKS_CERT(lev) && !matched)
		return buf_set_str(why, "Server certificate not verified"), -1;
	return 0;
}
