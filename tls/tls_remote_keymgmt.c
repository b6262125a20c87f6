/*
 * tls_remote_keymgmt.c - key management of the remote-key provider.
 *
 * A key of this provider is the certificate's public key (an EVP_PKEY of
 * the default provider) plus a signer callback. Every question about the
 * key (bits, size, group, encoded point) is answered by the public key;
 * the private half does not exist in this process.
 *
 * Never export anything when asked for the private key: libssl would
 * otherwise move the key to the default provider as a public key and try
 * to sign with it there. Refusing makes OpenSSL use this provider's own
 * signature implementation (tls_remote_sig.c). Never import private key
 * material either: a key of this provider holds none.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "lib/xmem.h"
#include "tls/tls_remote_internal.h"

static void *rkey_new(void *provctx)
{
	(void)provctx;
	return xcalloc(1, sizeof(struct tls_remote_kd));
}

static void rkey_free(void *keydata)
{
	struct tls_remote_kd *kd = keydata;

	if (kd == NULL)
		return;
	EVP_PKEY_free(kd->pub);
	xfree(kd);
}

static int rkey_has(const void *keydata, int selection)
{
	const struct tls_remote_kd *kd = keydata;

	if (kd == NULL || kd->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && kd->fn == NULL)
		return 0;
	return 1;
}

/* Private key parameters of RSA and EC keys, none of which we accept. */
static int rkey_params_private(const OSSL_PARAM params[])
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_PRIV_KEY,
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (OSSL_PARAM_locate_const(params, names[i]) != NULL)
			return 1;
	return 0;
}

/* A public key of the default provider from another provider's params. */
static EVP_PKEY *rkey_pub_fromdata(const char *type, const OSSL_PARAM params[])
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pub = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, TLS_REMOTE_NOT_US);
	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) <= 0
	    || EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY,
				 (OSSL_PARAM *)params) <= 0)
		pub = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pub;
}

static int rkey_import_src(struct tls_remote_kd *kd, const OSSL_PARAM *p)
{
	struct tls_remote_src src;

	if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size != sizeof(src))
		return 0;
	memcpy(&src, p->data, sizeof(src));
	if (src.pub == NULL || src.fn == NULL || !EVP_PKEY_up_ref(src.pub))
		return 0;
	kd->pub = src.pub;
	kd->fn = src.fn;
	kd->arg = src.arg;
	return 1;
}

static int rkey_import(struct tls_remote_kd *kd, const char *type,
		       int selection, const OSSL_PARAM params[])
{
	const OSSL_PARAM *p;

	if (kd == NULL || kd->pub != NULL)
		return 0;
	kd->is_ec = strcmp(type, "EC") == 0;
	p = OSSL_PARAM_locate_const(params, TLS_REMOTE_PARAM_SRC);
	if (p != NULL)
		return rkey_import_src(kd, p);
	/* Another provider's key moved here to be compared with ours. */
	if (rkey_params_private(params)
	    || !(selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY))
		return 0;
	kd->pub = rkey_pub_fromdata(type, params);
	return kd->pub != NULL;
}

static int rkey_import_rsa(void *kd, int selection, const OSSL_PARAM params[])
{
	return rkey_import(kd, "RSA", selection, params);
}

static int rkey_import_ec(void *kd, int selection, const OSSL_PARAM params[])
{
	return rkey_import(kd, "EC", selection, params);
}

static int rkey_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct tls_remote_kd *kd = keydata;

	if (kd == NULL || kd->pub == NULL
	    || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	return EVP_PKEY_export(kd->pub, selection, cb, cbarg);
}

static const OSSL_PARAM *rkey_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_octet_string(TLS_REMOTE_PARAM_SRC, NULL, 0),
		OSSL_PARAM_END
	};

	(void)selection;
	return types;
}

static int rkey_get_params(void *keydata, OSSL_PARAM params[])
{
	struct tls_remote_kd *kd = keydata;

	if (kd == NULL || kd->pub == NULL)
		return 0;
	return EVP_PKEY_get_params(kd->pub, params);
}

static const OSSL_PARAM *rkey_gettable_params(void *provctx)
{
	static const OSSL_PARAM gettable[] = {
		OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
		OSSL_PARAM_END
	};

	(void)provctx;
	return gettable;
}

/* Public parts only: two keys match if their public keys are the same. */
static int rkey_match(const void *kd1, const void *kd2, int selection)
{
	const struct tls_remote_kd *a = kd1, *b = kd2;

	(void)selection;
	if (a == NULL || b == NULL || a->pub == NULL || b->pub == NULL)
		return 0;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

static const char *rkey_opname_rsa(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}

static const char *rkey_opname_ec(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define RKEY_COMMON_FUNCS \
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rkey_new }, \
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))rkey_free }, \
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))rkey_has }, \
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))rkey_match }, \
	{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))rkey_export }, \
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rkey_types }, \
	{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rkey_types }, \
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))rkey_get_params }, \
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rkey_gettable_params }

const OSSL_DISPATCH tls_remote_keymgmt_rsa[] = {
	RKEY_COMMON_FUNCS,
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))rkey_import_rsa },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rkey_opname_rsa },
	{ 0, NULL }
};

const OSSL_DISPATCH tls_remote_keymgmt_ec[] = {
	RKEY_COMMON_FUNCS,
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))rkey_import_ec },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rkey_opname_ec },
	{ 0, NULL }
};
