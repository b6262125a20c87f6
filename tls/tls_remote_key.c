/*
 * tls_remote_key.c - make an EVP_PKEY whose signatures are made elsewhere.
 *
 * Registers the built-in "moatremote" provider (key management for RSA and
 * EC, signature for RSA and ECDSA: tls_remote_keymgmt.c, tls_remote_sig.c)
 * in the default library context on first use, keeping the default
 * provider as the fallback for everything else, and builds keys of it from
 * a certificate and a signer. Also the one check of a signature request
 * that the tlskey stage and this library both apply.
 *
 * Its implementations carry the property provider=moatremote and are
 * registered after the default provider's, so a fetch without a property
 * query (every verification libssl does) still gets the default provider's;
 * only keys made here reach this provider.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "lib/msg.h"
#include "tls/tls_remote_internal.h"

#define RPROP "provider=" TLS_REMOTE_PROV_NAME

static const OSSL_ALGORITHM rprov_keymgmt[] = {
	{ "RSA:rsaEncryption:1.2.840.113549.1.1.1", RPROP, tls_remote_keymgmt_rsa, NULL },
	{ "EC:id-ecPublicKey:1.2.840.10045.2.1", RPROP, tls_remote_keymgmt_ec, NULL },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM rprov_signature[] = {
	{ "RSA:rsaEncryption:1.2.840.113549.1.1.1", RPROP, tls_remote_signature, NULL },
	{ "ECDSA", RPROP, tls_remote_signature, NULL },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *rprov_query(void *provctx, int operation_id, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	switch (operation_id) {
	case OSSL_OP_KEYMGMT:
		return rprov_keymgmt;
	case OSSL_OP_SIGNATURE:
		return rprov_signature;
	}
	return NULL;
}

static const OSSL_DISPATCH rprov_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))rprov_query },
	{ 0, NULL }
};

int tls_remote_prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out, void **provctx)
{
	static int dummy_ctx;

	(void)handle;
	(void)in;
	*out = rprov_dispatch;
	*provctx = &dummy_ctx;
	return 1;
}

/* Loaded once for the process; "retain fallbacks" keeps the default provider. */
static int rprov_load(void)
{
	static OSSL_PROVIDER *prov;

	if (prov != NULL)
		return 0;
	if (!OSSL_PROVIDER_available(NULL, "default")
	    && OSSL_PROVIDER_try_load(NULL, "default", 1) == NULL)
		return -1;
	if (!OSSL_PROVIDER_add_builtin(NULL, TLS_REMOTE_PROV_NAME, tls_remote_prov_init))
		return -1;
	prov = OSSL_PROVIDER_try_load(NULL, TLS_REMOTE_PROV_NAME, 1);
	return prov != NULL ? 0 : -1;
}

/*
 * The certificate's public key as a key of its own. An X509 made with
 * X509_set_pubkey holds the very EVP_PKEY it was given, private half and
 * all; going through the DER SubjectPublicKeyInfo keeps only the public one.
 */
static EVP_PKEY *rkey_public_copy(X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub;
	int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);

	if (len <= 0)
		return NULL;
	p = der;
	pub = d2i_PUBKEY(NULL, &p, len);
	OPENSSL_free(der);
	return pub;
}

static EVP_PKEY *rkey_build(const char *type, struct tls_remote_src *src)
{
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *key = NULL;

	params[0] = OSSL_PARAM_construct_octet_string(TLS_REMOTE_PARAM_SRC, src, sizeof(*src));
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, RPROP);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
	    || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

EVP_PKEY *tls_remote_key_new(X509 *cert, tls_remote_signer fn, void *arg)
{
	struct tls_remote_src src = { NULL, fn, arg };
	EVP_PKEY *key = NULL;
	const char *type;

	if (fn == NULL || rprov_load() < 0 || (src.pub = rkey_public_copy(cert)) == NULL)
		return NULL;
	type = EVP_PKEY_is_a(src.pub, "RSA") ? "RSA" : EVP_PKEY_is_a(src.pub, "EC") ? "EC" : NULL;
	if (type == NULL)
		msg_warn("certificate key type %s: only RSA and EC keys can be remote",
			 EVP_PKEY_get0_type_name(src.pub));
	else
		key = rkey_build(type, &src);
	EVP_PKEY_free(src.pub);	/* the key data holds its own reference */
	return key;
}

int tls_remote_key_id(EVP_PKEY *pub, unsigned char id[TLS_REMOTE_KEY_ID_LEN])
{
	unsigned char *der = NULL;
	unsigned int len = 0;
	int n = i2d_PUBKEY(pub, &der), ok;

	if (n <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)n, id, &len, EVP_sha256(), NULL) && len == TLS_REMOTE_KEY_ID_LEN;
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

static const struct {
	unsigned md;
	const char *name;
	size_t size;
} tls_sign_mds[] = {
	{ TLS_SIGN_SHA256, "SHA256", 32 },
	{ TLS_SIGN_SHA384, "SHA384", 48 },
	{ TLS_SIGN_SHA512, "SHA512", 64 },
};
#define TLS_SIGN_NMDS (sizeof(tls_sign_mds) / sizeof(tls_sign_mds[0]))

size_t tls_sign_md_size(unsigned md)
{
	for (size_t i = 0; i < TLS_SIGN_NMDS; i++)
		if (tls_sign_mds[i].md == md)
			return tls_sign_mds[i].size;
	return 0;
}

const char *tls_sign_md_name(unsigned md)
{
	for (size_t i = 0; i < TLS_SIGN_NMDS; i++)
		if (tls_sign_mds[i].md == md)
			return tls_sign_mds[i].name;
	return NULL;
}

/* OpenSSL's names and aliases for the three (SHA256, SHA2-256, sha256...). */
unsigned tls_sign_md_from_name(const char *name)
{
	EVP_MD *md = EVP_MD_fetch(NULL, name, TLS_REMOTE_NOT_US);
	unsigned found = 0;

	if (md == NULL)
		return 0;
	for (size_t i = 0; i < TLS_SIGN_NMDS && found == 0; i++)
		if (EVP_MD_is_a(md, tls_sign_mds[i].name))
			found = tls_sign_mds[i].md;
	EVP_MD_free(md);
	return found;
}

const char *tls_sign_alg_name(unsigned alg)
{
	switch (alg) {
	case TLS_SIGN_RSA_PKCS1:
		return "rsa-pkcs1";
	case TLS_SIGN_RSA_PSS:
		return "rsa-pss";
	case TLS_SIGN_ECDSA:
		return "ecdsa";
	}
	return "unknown";
}

int tls_sign_req_check(const struct tls_sign_req *req, const char **why)
{
	size_t want = tls_sign_md_size(req->md);

	if (req->alg < TLS_SIGN_RSA_PKCS1 || req->alg > TLS_SIGN_ECDSA) {
		*why = "signature algorithm not used by TLS";
		return -1;
	}
	if (want == 0) {
		*why = "digest not used by TLS signatures";
		return -1;
	}
	if (req->digest_len != want || req->digest == NULL) {
		*why = "digest length does not match its algorithm";
		return -1;
	}
	return 0;
}
