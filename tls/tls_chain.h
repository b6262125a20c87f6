/*
 * tls_chain.h - certificate chains out of PEM files that may also hold
 * private keys, for a process that must never parse a key.
 *
 * Postfix's chain files (smtpd_tls_chain_files) hold, per key, the key
 * followed by its chain, leaf first; a certificate file
 * (smtpd_tls_cert_file) may hold the key too. Here a private key block is a
 * boundary between chains and nothing more: its bytes are never handed to
 * a parser. Each chain's order is checked: every certificate after the
 * leaf must be the issuer of the one before it, as a client building the
 * path expects.
 */
#ifndef MOAT_TLS_CHAIN_H
#define MOAT_TLS_CHAIN_H

#include <stddef.h>
#include <openssl/x509.h>

#include "lib/buf.h"

/* tls_chain_fn - one chain (leaf first, at least one certificate); 0 or -1
 * to stop (then why says what is wrong). The callee may keep references. */
typedef int (*tls_chain_fn)(STACK_OF(X509) *chain, void *arg, struct buf *why);

/*
 * tls_chain_each - each chain of pem, in file order, to fn. With
 * split_at_keys (a chain file) a chain starts at a private key block, or at
 * the first certificate before any key; without (a certificate file, whose
 * key may come before or after) key blocks are skipped and all the
 * certificates are one chain. Returns the number of chains, or -1 and why:
 * no certificate at all, a key with no certificate after it, a certificate
 * OpenSSL cannot parse, a chain out of order, or fn's refusal.
 */
int tls_chain_each(const char *pem, size_t len, int split_at_keys, tls_chain_fn fn, void *arg,
		   struct buf *why);

#endif
