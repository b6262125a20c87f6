/*
 * tls_proto.h - Postfix's TLS protocol lists (smtp_tls_protocols and the
 * like) as the set of versions a context may negotiate.
 *
 * Postfix accepts three forms, mixed freely in one list: names to include
 * ("TLSv1.2 TLSv1.3"), names to exclude ("!SSLv3, !TLSv1") and bounds
 * (">=TLSv1.2", "<=TLSv1.3"). SSLv2 and SSLv3 are recognised and never
 * enabled. A list that leaves no version, or names an unknown one, is an
 * error: a TLS parameter moat cannot honour stops start-up.
 */
#ifndef MOAT_TLS_PROTO_H
#define MOAT_TLS_PROTO_H

#include <openssl/ssl.h>

#include "lib/buf.h"

#define TLS_P_SSLv2	0x01u
#define TLS_P_SSLv3	0x02u
#define TLS_P_TLSv1	0x04u
#define TLS_P_TLSv1_1	0x08u
#define TLS_P_TLSv1_2	0x10u
#define TLS_P_TLSv1_3	0x20u
#define TLS_P_USABLE	(TLS_P_TLSv1 | TLS_P_TLSv1_1 | TLS_P_TLSv1_2 | TLS_P_TLSv1_3)

/* tls_proto_parse - a NULL-terminated list of items into a mask of
 * TLS_P_* bits; -1 with why on an unknown name or an empty result. */
int tls_proto_parse(char *const *items, unsigned *mask, struct buf *why);

/* tls_proto_apply - min and max version on ctx, and the gaps between as
 * SSL_OP_NO_* options; -1 if OpenSSL refuses. */
int tls_proto_apply(SSL_CTX *ctx, unsigned mask);

/* tls_proto_name - "TLSv1.2" for one bit. */
const char *tls_proto_name(unsigned bit);

#endif
