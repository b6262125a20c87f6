/*
 * tlskey.c - the tlskey stage: the one moat process that holds the TLS
 * private keys.
 *
 * Loads every private key of the files main.cf names (smtpd_tls_key_file,
 * smtpd_tls_chain_files, smtp_tls_key_file, smtp_tls_chain_files), opened
 * by the broker and handed over as fds (tlskey_keys.c), and answers
 * MSG_TLSKEY_SIGN{id, key_id, alg, md, digest} on IPC_CHAN_TLSKEY channels
 * from smtpd and smtp with MSG_TLSKEY_SIG{id, status, sig}: the signature
 * of one TLS handshake digest, made with tls/tls_key_sign.c. Each request
 * is logged at debug level.
 *
 * SECURITY: runs alone as tlskey_user (owns no file), chrooted in <queue>/empty,
 * no capabilities, an empty network namespace; it cannot open a file or a
 * socket. Every request comes from a network stage that may be
 * compromised, so it is validated as OpenSSH's monitor validates its
 * children's: only the schemes and digests TLS 1.2/1.3 handshakes use
 * (PKCS#1 v1.5, PSS with a digest-long salt, ECDSA; SHA-256/384/512), a
 * digest of exactly its algorithm's length, a scheme that fits the key,
 * and at most TLSKEY_RATE_BURST signatures at once then one per
 * TLSKEY_RATE_MS per requesting channel; anything else is refused with a
 * status, and what the schema refuses (an oversize digest, a wrong type)
 * ends that channel. It never sends key material: a reply carries a
 * status and a signature, nothing else. No request can end the stage.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "daemons/tlskey/tlskey.h"
#include "lib/event.h"
#include "lib/msg.h"
#include "lib/ratelimit.h"
#include "lib/xmem.h"
#include "skeleton/stage_peer.h"
#include "tls/tls_key_sign.h"

/*
 * A handshake costs one signature. An smtpd serves one session at a time,
 * so 100 at once then 500 a second is more than a busy process makes, and
 * bounds what one compromised requester takes of the stage's time (an
 * RSA-2048 signature costs about a millisecond).
 */
#define TLSKEY_RATE_BURST	100
#define TLSKEY_RATE_MS		2

struct tlskey_state {
	struct event_loop *loop;
	struct tlskey_keys keys;
	struct ratelimit warnings;	/* refusal warnings, all requesters together */
};

struct tlskey_peer {
	struct ratelimit rate;
};

static struct tlskey_state tlskey_state;

static const char *const tlskey_status_word[] = {	/* by TLSKEY_OK.. TLSKEY_FAILED */
	"signed", "refused", "no such key", "over its rate", "failed",
};

/* tlskey_sign_one - the status of one request; the signature in sig. */
static int tlskey_sign_one(const struct ipc_tlskey_sign *q, unsigned char *sig, size_t *sig_len,
			   const char **why)
{
	const struct tlskey_key *k = tlskey_keys_find(&tlskey_state.keys, q->key_id, q->key_id_len);
	struct tls_sign_req req = { q->alg, q->md, q->digest, q->digest_len };

	if (tls_sign_req_check(&req, why) < 0)
		return TLSKEY_REFUSED;
	if (k == NULL) {
		*why = "no key with that public key id";
		return TLSKEY_NOKEY;
	}
	if (tls_key_sign(k->key, &req, sig, TLSKEY_SIG_MAX, sig_len, why) < 0) {
		ERR_clear_error();
		return strcmp(*why, "signing failed") == 0 ? TLSKEY_FAILED : TLSKEY_REFUSED;
	}
	return TLSKEY_OK;
}

static void tlskey_log(const struct ipc_chan *ch, const struct ipc_tlskey_sign *q, int status,
		       const char *why)
{
	msg_debug("sign request %u from %s[%ld]: %s %s, %u digest bytes: %s%s%s", q->id,
		  ch->peer_stage, (long)ch->peer_pid, tls_sign_alg_name(q->alg),
		  tls_sign_md_name(q->md) ? tls_sign_md_name(q->md) : "unknown digest",
		  q->digest_len, tlskey_status_word[status], why ? ": " : "", why ? why : "");
	if (status != TLSKEY_OK && status != TLSKEY_RATE
	    && ratelimit_take(&tlskey_state.warnings, event_now_ms()))
		msg_warn("sign request from %s[%ld] refused: %s", ch->peer_stage,
			 (long)ch->peer_pid, why);
}

static int tlskey_client_msg(struct stage_peer *p, struct ipc_msg *m)
{
	struct tlskey_peer *tp = p->app;
	const struct ipc_tlskey_sign *q = &m->u.tlskey_sign;
	unsigned char sig[TLSKEY_SIG_MAX];
	struct ipc_tlskey_sig rep = { .id = q->id, .sig = sig };
	const char *why = NULL;
	size_t len = 0;

	if (!ratelimit_take(&tp->rate, event_now_ms()))
		rep.status = TLSKEY_RATE;
	else
		rep.status = (uint32_t)tlskey_sign_one(q, sig, &len, &why);
	tlskey_log(&p->ch, q, (int)rep.status, why);
	rep.sig_len = rep.status == TLSKEY_OK ? (uint32_t)len : 0;
	if (ipc_chan_send(&p->ch, MSG_TLSKEY_SIG, &rep) < 0) {
		msg_warn("tlskey channel to %s[%ld]: %s", p->ch.peer_stage, (long)p->ch.peer_pid,
			 buf_str(&p->ch.why));
		return IPC_RECV_ERROR;
	}
	return 0;
}

static void tlskey_client_closed(struct stage_peer *p)
{
	xfree(p->app);
}

static const struct stage_peer_ops tlskey_peer_ops = {
	.kind = IPC_CHAN_TLSKEY, .message = tlskey_client_msg, .closed = tlskey_client_closed,
};

static void tlskey_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct tlskey_peer *tp = xcalloc(1, sizeof(*tp));

	ratelimit_init(&tp->rate, TLSKEY_RATE_BURST, TLSKEY_RATE_MS, event_now_ms());
	(void)stage_peer_accept(st, tlskey_state.loop, &tlskey_peer_ops, peer_stage, peer_pid, fd, tp);
}

static void tlskey_run(struct stage *st)
{
	struct tlskey_state *ts = &tlskey_state;

	ts->loop = event_loop_new();
	/* Parsed here, confined: the files are root's, but PEM is a parser. */
	tlskey_keys_load(st, &ts->keys);
	if (st->start_flags & STAGE_START_CHECK)
		exit(ts->keys.broken ? 1 : 0);	/* moatd's check run: the errors are logged */
	if (ts->keys.n == 0)
		msg_info("no TLS private key configured: every sign request is refused");
	if (event_add(ts->loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("event loop: %m");
	while (!st->stopping)
		if (event_run_once(ts->loop, -1) < 0)
			msg_fatal("event loop: %m");
}

/*
 * OpenSSL reads openssl.cnf on first use: do it now, as root and before
 * the chroot, so nothing tries to open a file once confined.
 */
static void tlskey_pre_jail(struct stage *st)
{
	(void)st;
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL))
		msg_fatal("OpenSSL initialisation failed");
	ratelimit_init(&tlskey_state.warnings, 10, 10000, event_now_ms());
}

static const struct stage_ops tlskey_ops = {
	.pre_jail = tlskey_pre_jail, .peer_accept = tlskey_peer_accept, .run = tlskey_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "tlskey", &tlskey_ops);
}
