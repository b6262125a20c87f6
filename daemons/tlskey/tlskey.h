/*
 * tlskey.h - what the files of the tlskey stage share: the keys it holds.
 */
#ifndef MOAT_DAEMONS_TLSKEY_H
#define MOAT_DAEMONS_TLSKEY_H

#include <stddef.h>
#include <openssl/evp.h>

#include "ipc/tlskeyproto.h"
#include "skeleton/stage.h"

struct tlskey_key {
	EVP_PKEY *key;
	unsigned char id[TLSKEY_ID_LEN];	/* SHA-256 of the public key's DER */
	char *where;				/* "smtpd_tls_key_file /etc/moat/key.pem" */
};

struct tlskey_keys {
	struct tlskey_key *v;
	size_t n;
	size_t broken;		/* files with no usable key */
};

/* tlskey_keys_load - every private key of the files the broker handed st. */
void tlskey_keys_load(struct stage *st, struct tlskey_keys *k);
/* tlskey_keys_find - the key whose id is id (id_len bytes), or NULL. */
const struct tlskey_key *tlskey_keys_find(const struct tlskey_keys *k, const unsigned char *id,
					  size_t id_len);

#endif
