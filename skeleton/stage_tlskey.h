/*
 * stage_tlskey.h - the one way smtpd and smtp have a TLS handshake digest
 * signed: by the tlskey stage, which alone holds the private keys.
 *
 * tlskey_client_sign sends the key's id (SHA-256 of the certificate's
 * SubjectPublicKeyInfo), the scheme, the digest name and the digest, and
 * waits at most TLSKEY_TIMEOUT for the signature. The channel is asked of
 * the broker on first use, and asked again once if the tlskey stage
 * restarted. It has the shape of a tls_remote_signer (tls/tls_remote_key.h)
 * once the key id is bound: see tls_remote_key_new's arg.
 */
#ifndef MOAT_SKELETON_STAGE_TLSKEY_H
#define MOAT_SKELETON_STAGE_TLSKEY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/ipc.h"
#include "ipc/tlskeyproto.h"
#include "skeleton/stage.h"

#define TLSKEY_TIMEOUT	20	/* seconds to wait for a signature */

struct tlskey_client {
	struct stage *st;	/* to ask the broker for channels; NULL: fixed channel */
	struct ipc_chan ch;	/* fd -1 until the first request */
	struct ipc_msg m;
	uint32_t next_id;
};

struct tlskey_request {
	const unsigned char *key_id;	/* TLSKEY_ID_LEN bytes */
	unsigned alg, md;		/* enum tls_sign_alg, enum tls_sign_md */
	const unsigned char *digest;
	size_t digest_len;		/* at most TLSKEY_DIGEST_MAX */
};

void tlskey_client_init(struct tlskey_client *tc, struct stage *st);
/* tlskey_client_adopt - a client on a channel handed over otherwise (tests). */
void tlskey_client_adopt(struct tlskey_client *tc, int fd, pid_t peer_pid);
void tlskey_client_free(struct tlskey_client *tc);

/* tlskey_client_sign - TLSKEY_OK and the signature (at most sig_max bytes)
 * in sig and *sig_len, or another TLSKEY_* status (TLSKEY_FAILED when the
 * stage could not be reached or broke the protocol). */
int tlskey_client_sign(struct tlskey_client *tc, const struct tlskey_request *r,
		       unsigned char *sig, size_t sig_max, size_t *sig_len);

#endif
