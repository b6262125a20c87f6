/*
 * tls_remote_key.h - a private key that OpenSSL can sign with but does not
 * hold.
 *
 * tls_remote_key_new() turns a certificate into an EVP_PKEY that libssl
 * accepts as the certificate's private key (SSL_CTX_use_PrivateKey,
 * SSL_CTX_use_cert_and_key). Its only secret is a callback: every signature
 * libssl asks of it is handed to the signer as (algorithm, digest,
 * digest bytes), and the signer, normally a client of the tlskey stage,
 * returns the signature. The key is served by a small built-in OpenSSL 3
 * provider (tls_remote_prov.c) with key management and signature for RSA
 * (PKCS#1 v1.5 and PSS) and ECDSA; see "The key stage" in
 * docs/architecture.md.
 *
 * The request vocabulary below is also what the tlskey stage accepts on
 * the wire (MSG_TLSKEY_SIGN), and tls_sign_req_check() is the one check of
 * it both ends apply.
 */
#ifndef MOAT_TLS_REMOTE_KEY_H
#define MOAT_TLS_REMOTE_KEY_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Signature schemes TLS 1.2 and 1.3 handshakes use with RSA and EC keys. */
enum tls_sign_alg {
	TLS_SIGN_RSA_PKCS1 = 1,	/* TLS 1.2 rsa_pkcs1_* */
	TLS_SIGN_RSA_PSS = 2,	/* rsa_pss_rsae_*: salt = digest length, MGF1 = digest */
	TLS_SIGN_ECDSA = 3,	/* ecdsa_*; DER-encoded (r, s) */
};

/* Digests of those schemes. SHA-1 and MD5-SHA1 are not among them. */
enum tls_sign_md {
	TLS_SIGN_SHA256 = 1,
	TLS_SIGN_SHA384 = 2,
	TLS_SIGN_SHA512 = 3,
};

#define TLS_SIGN_DIGEST_MAX 64	/* SHA-512 */
#define TLS_SIGN_SIG_MAX 1024	/* RSA-8192 */

struct tls_sign_req {
	unsigned alg;			/* enum tls_sign_alg */
	unsigned md;			/* enum tls_sign_md */
	const unsigned char *digest;
	size_t digest_len;		/* the digest's own length, exactly */
};

/*
 * tls_remote_signer - sign req's digest with the key of the certificate the
 * EVP_PKEY was made from; write at most sig_max bytes to sig and their
 * number to *sig_len. Returns 0, or -1 (the handshake then fails).
 */
typedef int (*tls_remote_signer)(void *arg, const struct tls_sign_req *req,
				 unsigned char *sig, size_t sig_max, size_t *sig_len);

/* NULL (with a warning) if the certificate's key is neither RSA nor EC. */
EVP_PKEY *tls_remote_key_new(X509 *cert, tls_remote_signer fn, void *arg);

/*
 * tls_remote_key_id - how a key is named between its holder and its users:
 * SHA-256 of the SubjectPublicKeyInfo (the same from the private key and
 * from the certificate). 0, or -1 on error.
 */
#define TLS_REMOTE_KEY_ID_LEN 32
int tls_remote_key_id(EVP_PKEY *pub, unsigned char id[TLS_REMOTE_KEY_ID_LEN]);

/* 0 if req is a request TLS could make, else -1 (*why says what is wrong). */
int tls_sign_req_check(const struct tls_sign_req *req, const char **why);

/* The digest's length (0 for an unknown md) and its OpenSSL name (or NULL). */
size_t tls_sign_md_size(unsigned md);
const char *tls_sign_md_name(unsigned md);
unsigned tls_sign_md_from_name(const char *name);
const char *tls_sign_alg_name(unsigned alg);

#endif
