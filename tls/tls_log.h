/*
 * tls_log.h - the text of Postfix's "TLS connection established" lines.
 */
#ifndef MOAT_TLS_LOG_H
#define MOAT_TLS_LOG_H

#include <openssl/ssl.h>

#include "lib/buf.h"

/*
 * tls_log_summary - "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256
 * bits)", then, when OpenSSL knows them, " key-exchange X25519
 * server-signature RSA-PSS (2048 bits) server-digest SHA256" (peer is
 * "server" or "client"). Appended to out.
 */
void tls_log_summary(SSL *ssl, const char *peer, struct buf *out);

/*
 * tls_log_own_sig - " server-signature RSA-PSS (2048 bits) server-digest
 * SHA256" for the signature this end made (side: "server"), which
 * Postfix's server appends to its summary; nothing if none was made.
 */
void tls_log_own_sig(SSL *ssl, const char *side, struct buf *out);

#endif
