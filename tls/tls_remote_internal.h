/*
 * tls_remote_internal.h - what the three files of the remote key share:
 * the key data the provider keeps, and the provider's dispatch tables.
 * Nothing outside tls/tls_remote_*.c includes this.
 */
#ifndef MOAT_TLS_REMOTE_INTERNAL_H
#define MOAT_TLS_REMOTE_INTERNAL_H

#include <openssl/core_dispatch.h>
#include "tls/tls_remote_key.h"

#define TLS_REMOTE_PROV_NAME "moatremote"
/* How the provider's own code fetches the real algorithms: never itself. */
#define TLS_REMOTE_NOT_US "provider!=" TLS_REMOTE_PROV_NAME
/* The import parameter that carries a struct tls_remote_src. */
#define TLS_REMOTE_PARAM_SRC "moat-remote-key-source"

/* What tls_remote_key_new hands the key management through that parameter. */
struct tls_remote_src {
	EVP_PKEY *pub;
	tls_remote_signer fn;
	void *arg;
};

/* The provider's key: a public key held by another provider, and a signer. */
struct tls_remote_kd {
	EVP_PKEY *pub;
	int is_ec;
	tls_remote_signer fn;	/* NULL: a public key only (imported for a compare) */
	void *arg;
};

extern const OSSL_DISPATCH tls_remote_keymgmt_rsa[];
extern const OSSL_DISPATCH tls_remote_keymgmt_ec[];
extern const OSSL_DISPATCH tls_remote_signature[];

int tls_remote_prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out, void **provctx);

#endif
