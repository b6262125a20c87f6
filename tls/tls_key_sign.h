/*
 * tls_key_sign.h - sign a TLS handshake digest with a private key held in
 * this process (the tlskey stage's side of tls_remote_key.h).
 */
#ifndef MOAT_TLS_KEY_SIGN_H
#define MOAT_TLS_KEY_SIGN_H

#include "tls/tls_remote_key.h"

/* 0 and the signature, or -1 and *why; key must fit req->alg. */
int tls_key_sign(EVP_PKEY *key, const struct tls_sign_req *req,
		 unsigned char *sig, size_t sig_max, size_t *sig_len, const char **why);

#endif
