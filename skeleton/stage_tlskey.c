/*
 * stage_tlskey.c - a stage's client side of the tlskey channel
 * (stage_tlskey.h). Called by smtpd and smtp through the signer of their
 * remote keys (tls/tls_remote_key.h).
 *
 * SECURITY: the tlskey stage is another process and may be compromised: a
 * reply is taken only if it answers our request (same id, a known status, a
 * signature only with TLSKEY_OK and no longer than the caller's room); a
 * violation ends the channel and is reported to the broker; a stage that
 * does not answer within TLSKEY_TIMEOUT fails the handshake, never hangs
 * the client. A bad signature is not our problem to find: the peer
 * verifies it, and the handshake fails.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/msg.h"
#include "skeleton/stage_tlskey.h"

#define CLIENT_EOF	(-100)

void tlskey_client_init(struct tlskey_client *tc, struct stage *st)
{
	memset(tc, 0, sizeof(*tc));
	tc->st = st;
	tc->ch.fd = -1;
	buf_init(&tc->ch.why, 0);
	ipc_msg_init(&tc->m);
}

void tlskey_client_adopt(struct tlskey_client *tc, int fd, pid_t peer_pid)
{
	struct timeval tv = { TLSKEY_TIMEOUT, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		msg_warn("tlskey channel: cannot bound waits: %m");
	ipc_chan_init(&tc->ch, fd, IPC_CHAN_TLSKEY, IPC_SIDE_A, "tlskey", peer_pid);
}

void tlskey_client_free(struct tlskey_client *tc)
{
	if (tc->ch.fd >= 0)
		ipc_chan_close(&tc->ch);
	tc->ch.fd = -1;
	buf_free(&tc->ch.why);
	ipc_msg_free(&tc->m);
}

static int client_connect(struct tlskey_client *tc)
{
	pid_t pid = 0;
	int fd;

	if (tc->ch.fd >= 0)
		return 0;
	if (tc->st == NULL || (fd = stage_request_peer(tc->st, "tlskey", &pid)) < 0)
		return -1;
	tlskey_client_adopt(tc, fd, pid);
	return 0;
}

static void client_drop(struct tlskey_client *tc, int r)
{
	if (r == IPC_RECV_VIOLATION && tc->st)
		stage_report_violation(tc->st, &tc->ch, buf_str(&tc->ch.why));
	else if (r != CLIENT_EOF)
		msg_warn("tlskey channel to %s[%ld]: %s", tc->ch.peer_stage, (long)tc->ch.peer_pid,
			 buf_str(&tc->ch.why));
	ipc_chan_close(&tc->ch);
	tc->ch.fd = -1;
}

/* client_reply - a reply that does not answer our request is a violation. */
static int client_reply(struct tlskey_client *tc, uint32_t id, unsigned char *sig,
			size_t sig_max, size_t *sig_len)
{
	const struct ipc_tlskey_sig *r = &tc->m.u.tlskey_sig;
	int ok = r->status == TLSKEY_OK;

	if (r->id != id || r->status > TLSKEY_FAILED || ok != (r->sig_len > 0)) {
		buf_reset(&tc->ch.why);
		(void)buf_printf(&tc->ch.why, "reply id %u status %u with %u signature bytes to "
				 "request %u", r->id, r->status, r->sig_len, id);
		return IPC_RECV_VIOLATION;
	}
	if (ok && r->sig_len > sig_max) {
		msg_warn("tlskey: a signature of %u bytes, room for %zu", r->sig_len, sig_max);
		return TLSKEY_FAILED;
	}
	if (ok)
		memcpy(sig, r->sig, r->sig_len);
	*sig_len = ok ? r->sig_len : 0;
	return (int)r->status;
}

static int client_ask(struct tlskey_client *tc, const struct tlskey_request *req,
		      unsigned char *sig, size_t sig_max, size_t *sig_len)
{
	struct ipc_tlskey_sign q = {
		.id = ++tc->next_id, .key_id = req->key_id, .key_id_len = TLSKEY_ID_LEN,
		.alg = req->alg, .md = req->md, .digest = req->digest,
		.digest_len = (uint32_t)req->digest_len,
	};
	int r;

	if (ipc_chan_send(&tc->ch, MSG_TLSKEY_SIGN, &q) < 0)
		return IPC_RECV_ERROR;
	r = ipc_chan_recv(&tc->ch, &tc->m);
	if (r != IPC_RECV_MSG)
		return r == IPC_RECV_EOF ? CLIENT_EOF : r;
	return client_reply(tc, q.id, sig, sig_max, sig_len);
}

int tlskey_client_sign(struct tlskey_client *tc, const struct tlskey_request *req,
		       unsigned char *sig, size_t sig_max, size_t *sig_len)
{
	int r = CLIENT_EOF;

	*sig_len = 0;
	if (req->digest_len > TLSKEY_DIGEST_MAX)
		return TLSKEY_REFUSED;
	/* a second try on a new channel: the tlskey stage may have restarted */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (client_connect(tc) < 0)
			return TLSKEY_FAILED;
		r = client_ask(tc, req, sig, sig_max, sig_len);
		if (r >= TLSKEY_OK && r <= TLSKEY_FAILED)
			return r;
		client_drop(tc, r);
		if (r == IPC_RECV_VIOLATION)
			return TLSKEY_FAILED;
	}
	return TLSKEY_FAILED;
}
