/*
 * tls_log.c - what a finished handshake negotiated, in Postfix's words.
 *
 * Reads only what OpenSSL parsed and checked; the names it prints come
 * from OpenSSL's tables, never from the peer's bytes.
 */
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "tls/tls_log.h"

/* log_kex - the ephemeral key's group: X25519, prime256v1, DHE (bits). */
static void log_kex(SSL *ssl, struct buf *out)
{
	EVP_PKEY *k = NULL;
	char group[64];
	size_t glen = 0;

	if (!SSL_get_peer_tmp_key(ssl, &k) || k == NULL) {
		/* a TLS 1.2 server keeps no key of the exchange: the group's name */
		int nid = SSL_get_negotiated_group(ssl);
		const char *name = nid > 0 ? OBJ_nid2sn(nid) : NULL;

		if (name)
			(void)buf_printf(out, " key-exchange %s", name);
		return;
	}
	if (EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) && glen > 0
	    && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC)
		(void)buf_printf(out, " key-exchange %s", group);
	else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_DH)
		(void)buf_printf(out, " key-exchange DHE (%d bits)", EVP_PKEY_get_bits(k));
	else
		(void)buf_printf(out, " key-exchange %s", OBJ_nid2sn(EVP_PKEY_get_base_id(k)));
	EVP_PKEY_free(k);
}

/* log_sig_of - a signature scheme (type), its key (pk) size and digest (md). */
static void log_sig_of(EVP_PKEY *pk, int type, int md, const char *side, struct buf *out)
{
	(void)buf_printf(out, " %s-signature %s", side, type == EVP_PKEY_RSA_PSS ? "RSA-PSS"
			 : type == EVP_PKEY_EC ? "ECDSA" : OBJ_nid2sn(type));
	if (type != EVP_PKEY_ED25519 && type != EVP_PKEY_ED448)
		(void)buf_printf(out, " (%d bits)", EVP_PKEY_get_bits(pk));
	if (md != NID_undef)
		(void)buf_printf(out, " %s-digest %s", side, OBJ_nid2sn(md));
}

/* log_sig - the peer's signature scheme, its key size and digest. */
static void log_sig(SSL *ssl, const char *peer, struct buf *out)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
	int type = NID_undef, md = NID_undef;

	if (pk == NULL || !SSL_get_peer_signature_type_nid(ssl, &type))
		return;
	if (!SSL_get_peer_signature_nid(ssl, &md))
		md = NID_undef;
	log_sig_of(pk, type, md, peer, out);
}

void tls_log_own_sig(SSL *ssl, const char *side, struct buf *out)
{
	X509 *cert = SSL_get_certificate(ssl);
	EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
	int type = NID_undef, md = NID_undef;

	if (pk == NULL || !SSL_get_signature_type_nid(ssl, &type))
		return;
	if (!SSL_get_signature_nid(ssl, &md))
		md = NID_undef;
	log_sig_of(pk, type, md, side, out);
}

void tls_log_summary(SSL *ssl, const char *peer, struct buf *out)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int alg = 0, used = c ? SSL_CIPHER_get_bits(c, &alg) : 0;

	(void)buf_printf(out, "%s with cipher %s (%d/%d bits)", SSL_get_version(ssl),
			 c ? SSL_CIPHER_get_name(c) : "none", used, alg);
	log_kex(ssl, out);
	log_sig(ssl, peer, out);
}
