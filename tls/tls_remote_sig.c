/*
 * tls_remote_sig.c - signature operation of the remote-key provider.
 *
 * libssl signs its handshake messages with EVP_DigestSign (TLS 1.2
 * ServerKeyExchange and CertificateVerify, TLS 1.3 CertificateVerify).
 * This hashes the data here, with the default provider's digest, and
 * hands only the digest to the key's signer with the scheme libssl set up
 * (PKCS#1 v1.5 or PSS for RSA, ECDSA for EC). Plain EVP_PKEY_sign of a
 * digest goes the same way.
 *
 * Never sign what TLS would not ask for: a PSS salt other than the digest
 * length, an MGF1 digest other than the message digest, or a digest that
 * tls_sign_req_check refuses fails here, before any signer is called.
 * Verification is not offered: a peer's signature is checked by the
 * default provider with the peer's public key.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "lib/xmem.h"
#include "tls/tls_remote_internal.h"

struct rsig {
	struct tls_remote_kd *kd;
	EVP_MD_CTX *mdctx;	/* digest_sign_* only */
	unsigned md;		/* enum tls_sign_md; 0: not set */
	unsigned mgf1_md;	/* 0: the same as md */
	int pss;
	int salt_ok;		/* the salt length asked for is the digest length */
};

static void *rsig_newctx(void *provctx, const char *propq)
{
	struct rsig *ctx = xcalloc(1, sizeof(*ctx));

	(void)provctx;
	(void)propq;
	ctx->salt_ok = 1;
	return ctx;
}

static void rsig_freectx(void *vctx)
{
	struct rsig *ctx = vctx;

	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->mdctx);
	xfree(ctx);
}

static void *rsig_dupctx(void *vctx)
{
	struct rsig *ctx = vctx, *dup = xmemdup(ctx, sizeof(*ctx));

	dup->mdctx = NULL;
	if (ctx->mdctx != NULL) {
		dup->mdctx = EVP_MD_CTX_new();
		if (dup->mdctx == NULL || !EVP_MD_CTX_copy_ex(dup->mdctx, ctx->mdctx)) {
			rsig_freectx(dup);
			return NULL;
		}
	}
	return dup;
}

static int rsig_set_md(unsigned *slot, const OSSL_PARAM *p)
{
	const char *name = NULL;

	if (!OSSL_PARAM_get_utf8_string_ptr(p, &name))
		return 0;
	*slot = tls_sign_md_from_name(name);
	return *slot != 0;
}

/* "pkcs1"/"pss" or RSA_PKCS1_PADDING/RSA_PKCS1_PSS_PADDING, as EVP sends it. */
static int rsig_set_pad(struct rsig *ctx, const OSSL_PARAM *p)
{
	const char *s = NULL;
	int mode;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
			return 0;
		mode = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING
		    : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0 ? RSA_PKCS1_PSS_PADDING : -1;
	} else if (!OSSL_PARAM_get_int(p, &mode))
		return 0;
	if (mode != RSA_PKCS1_PADDING && mode != RSA_PKCS1_PSS_PADDING)
		return 0;
	ctx->pss = mode == RSA_PKCS1_PSS_PADDING;
	return 1;
}

/* TLS asks for a salt as long as the digest: "digest" or RSA_PSS_SALTLEN_DIGEST. */
static int rsig_set_salt(struct rsig *ctx, const OSSL_PARAM *p)
{
	const char *s = NULL;
	int len;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
			return 0;
		ctx->salt_ok = strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0;
	} else {
		if (!OSSL_PARAM_get_int(p, &len))
			return 0;
		ctx->salt_ok = len == RSA_PSS_SALTLEN_DIGEST;
	}
	return ctx->salt_ok;
}

static int rsig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct rsig *ctx = vctx;
	const OSSL_PARAM *p;

	if (ctx == NULL)
		return 0;
	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL
	    && !rsig_set_md(&ctx->md, p))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL
	    && !rsig_set_md(&ctx->mgf1_md, p))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL
	    && !rsig_set_pad(ctx, p))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL
	    && !rsig_set_salt(ctx, p))
		return 0;
	return 1;
}

static const OSSL_PARAM *rsig_settable_ctx_params(void *vctx, void *provctx)
{
	static const OSSL_PARAM settable[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
		OSSL_PARAM_END
	};

	(void)vctx;
	(void)provctx;
	return settable;
}

static int rsig_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct rsig *ctx = vctx;
	OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);

	if (ctx == NULL)
		return 0;
	if (p != NULL && ctx->md != 0
	    && !OSSL_PARAM_set_utf8_string(p, tls_sign_md_name(ctx->md)))
		return 0;
	return 1;
}

static const OSSL_PARAM *rsig_gettable_ctx_params(void *vctx, void *provctx)
{
	static const OSSL_PARAM gettable[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_END
	};

	(void)vctx;
	(void)provctx;
	return gettable;
}

static int rsig_sign_init(void *vctx, void *keydata, const OSSL_PARAM params[])
{
	struct rsig *ctx = vctx;
	struct tls_remote_kd *kd = keydata;

	if (ctx == NULL || kd == NULL || kd->fn == NULL)
		return 0;
	ctx->kd = kd;
	ctx->pss = 0;
	ctx->salt_ok = 1;
	ctx->md = ctx->mgf1_md = 0;
	return rsig_set_ctx_params(ctx, params);
}

static int rsig_req_fill(const struct rsig *ctx, struct tls_sign_req *req)
{
	if (ctx->kd->is_ec)
		req->alg = TLS_SIGN_ECDSA;
	else
		req->alg = ctx->pss ? TLS_SIGN_RSA_PSS : TLS_SIGN_RSA_PKCS1;
	req->md = ctx->md;
	if (ctx->pss && (!ctx->salt_ok || (ctx->mgf1_md != 0 && ctx->mgf1_md != ctx->md)))
		return -1;
	return 0;
}

/* The signer's answer for a digest, or the size a signature may take. */
static int rsig_sign_digest(struct rsig *ctx, unsigned char *sig, size_t *siglen,
			    size_t sigsize, const unsigned char *dgst, size_t dlen)
{
	struct tls_sign_req req;
	const char *why;
	int max = EVP_PKEY_get_size(ctx->kd->pub);

	if (max <= 0)
		return 0;
	if (sig == NULL) {
		*siglen = (size_t)max;
		return 1;
	}
	req.digest = dgst;
	req.digest_len = dlen;
	if (ctx->md == 0)	/* a bare EVP_PKEY_sign: the length names the digest */
		ctx->md = dlen == 32 ? TLS_SIGN_SHA256 : dlen == 48 ? TLS_SIGN_SHA384
		    : dlen == 64 ? TLS_SIGN_SHA512 : 0;
	if (rsig_req_fill(ctx, &req) < 0 || tls_sign_req_check(&req, &why) < 0)
		return 0;
	if (sigsize > (size_t)max)
		sigsize = (size_t)max;
	return ctx->kd->fn(ctx->kd->arg, &req, sig, sigsize, siglen) == 0
	    && *siglen > 0 && *siglen <= sigsize;
}

static int rsig_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
		     const unsigned char *tbs, size_t tbslen)
{
	return rsig_sign_digest(vctx, sig, siglen, sigsize, tbs, tbslen);
}

static int rsig_digest_sign_init(void *vctx, const char *mdname, void *keydata,
				 const OSSL_PARAM params[])
{
	struct rsig *ctx = vctx;
	EVP_MD *md;
	int ok;

	if (!rsig_sign_init(vctx, keydata, params))
		return 0;
	if (mdname != NULL && (ctx->md = tls_sign_md_from_name(mdname)) == 0)
		return 0;
	if (ctx->md == 0)
		ctx->md = TLS_SIGN_SHA256;
	md = EVP_MD_fetch(NULL, tls_sign_md_name(ctx->md), TLS_REMOTE_NOT_US);
	if (md == NULL)
		return 0;
	if (ctx->mdctx == NULL)
		ctx->mdctx = EVP_MD_CTX_new();
	ok = ctx->mdctx != NULL && EVP_DigestInit_ex(ctx->mdctx, md, NULL);
	EVP_MD_free(md);
	return ok;
}

static int rsig_digest_sign_update(void *vctx, const unsigned char *data, size_t len)
{
	struct rsig *ctx = vctx;

	return ctx != NULL && ctx->mdctx != NULL && EVP_DigestUpdate(ctx->mdctx, data, len);
}

static int rsig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen,
				  size_t sigsize)
{
	struct rsig *ctx = vctx;
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (ctx == NULL || ctx->mdctx == NULL)
		return 0;
	if (sig == NULL)
		return rsig_sign_digest(ctx, NULL, siglen, 0, NULL, 0);
	if (!EVP_DigestFinal_ex(ctx->mdctx, dgst, &dlen))
		return 0;
	return rsig_sign_digest(ctx, sig, siglen, sigsize, dgst, dlen);
}

const OSSL_DISPATCH tls_remote_signature[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))rsig_newctx },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))rsig_freectx },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))rsig_dupctx },
	{ OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))rsig_sign_init },
	{ OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))rsig_sign },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))rsig_digest_sign_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))rsig_digest_sign_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))rsig_digest_sign_final },
	{ OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))rsig_get_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))rsig_gettable_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))rsig_set_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))rsig_settable_ctx_params },
	{ 0, NULL }
};
