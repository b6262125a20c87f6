/*
 * tls_key_sign.c - sign a TLS handshake digest with a private key held here.
 *
 * The other half of tls_remote_key.c: what the tlskey stage runs for each
 * MSG_TLSKEY_SIGN it accepts (and the unit tests run in-process). It signs
 * only a request tls_sign_req_check accepts, with the scheme fixed by the
 * request (PKCS#1 v1.5 DigestInfo, PSS with a digest-long salt and MGF1 of
 * the same digest, or ECDSA), and only with a key of the matching type.
 * It never returns anything but the signature.
 */
#include <openssl/rsa.h>

#include "tls/tls_key_sign.h"

static int tls_key_sign_setup(EVP_PKEY_CTX *ctx, const struct tls_sign_req *req)
{
	EVP_MD *md = EVP_MD_fetch(NULL, tls_sign_md_name(req->md), NULL);
	int ok;

	if (md == NULL)
		return 0;
	ok = EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_CTX_set_signature_md(ctx, md) > 0;
	if (ok && req->alg == TLS_SIGN_RSA_PKCS1)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	if (ok && req->alg == TLS_SIGN_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0
		    && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0
		    && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
	EVP_MD_free(md);
	return ok;
}

int tls_key_sign(EVP_PKEY *key, const struct tls_sign_req *req,
		 unsigned char *sig, size_t sig_max, size_t *sig_len, const char **why)
{
	int is_ec = EVP_PKEY_is_a(key, "EC");
	EVP_PKEY_CTX *ctx;
	size_t len = 0;
	int ok;

	if (tls_sign_req_check(req, why) < 0)
		return -1;
	if (is_ec != (req->alg == TLS_SIGN_ECDSA)) {
		*why = "signature algorithm does not fit the key";
		return -1;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	ok = tls_key_sign_setup(ctx, req)
	    && EVP_PKEY_sign(ctx, NULL, &len, req->digest, req->digest_len) > 0
	    && len <= sig_max
	    && EVP_PKEY_sign(ctx, sig, &len, req->digest, req->digest_len) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		*why = "signing failed";
		return -1;
	}
	*sig_len = len;
	return 0;
}
