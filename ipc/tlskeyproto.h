/*
 * tlskeyproto.h - constants of the tlskey channel (MSG_TLSKEY_SIGN, _SIG).
 *
 * smtpd and smtp ask the tlskey stage, which alone holds the certificates'
 * private keys, to sign one TLS handshake digest. A key is named by the
 * SHA-256 of its SubjectPublicKeyInfo (DER), which the asker computes from
 * the certificate it holds and the stage from each key it loaded, so no
 * name or index has to agree between configurations. The scheme and digest
 * values are those of tls/tls_remote_key.h (enum tls_sign_alg, tls_sign_md).
 */
#ifndef MOAT_IPC_TLSKEYPROTO_H
#define MOAT_IPC_TLSKEYPROTO_H

#define TLSKEY_ID_LEN		32	/* SHA-256 of the public key's DER */
#define TLSKEY_DIGEST_MAX	64	/* SHA-512 */
#define TLSKEY_SIG_MAX		1024	/* RSA-8192 */

/* MSG_TLSKEY_SIG status. */
#define TLSKEY_OK		0	/* sig holds the signature */
#define TLSKEY_REFUSED		1	/* not a request a TLS handshake makes */
#define TLSKEY_NOKEY		2	/* no key with that id */
#define TLSKEY_RATE		3	/* the asker is over its rate; sig is empty */
#define TLSKEY_FAILED		4	/* the signing itself failed */

#endif
