/*
 * tls_cipher.h - Postfix's cipher grades (high, medium, low, null) and
 * *_exclude_ciphers as OpenSSL 3 cipher settings.
 *
 * A grade names a TLS 1.2 cipher list; TLS 1.3 suites are a list of their
 * own in OpenSSL, which the exclusions also trim (an exclusion naming a
 * TLS 1.3 suite, "TLS_AES_128_GCM_SHA256", removes it there). moat's grades
 * are narrower than Postfix's: no anonymous, RC4, 3DES, export, static-RSA
 * or SHA-1 MAC suites in high or medium (docs/secure-defaults.md).
 */
#ifndef MOAT_TLS_CIPHER_H
#define MOAT_TLS_CIPHER_H

#include <openssl/ssl.h>

#include "lib/buf.h"

/* tls_cipher_list - the OpenSSL cipher string of grade with exclusions;
 * -1 with why for an unknown grade or an exclusion that is not a name. */
int tls_cipher_list(const char *grade, char *const *exclude, struct buf *out, struct buf *why);

/* tls_cipher_suites - the TLS 1.3 suites left after exclude. */
void tls_cipher_suites(char *const *exclude, struct buf *out);

/* tls_cipher_apply - both on ctx; -1 with why when no cipher is left. */
int tls_cipher_apply(SSL_CTX *ctx, const char *grade, char *const *exclude, struct buf *why);

#endif
