/*
 * smtpd_tls.c - STARTTLS for the SMTP server (RFC 3207), with a key it
 * does not hold.
 *
 * smtpd_tls_init builds the server context before the jail: protocols and
 * ciphers (tls/), the certificate chains (smtpd_tls_chain_files, or
 * smtpd_tls_cert_file and smtpd_tls_eccert_file: RSA and ECDSA at once,
 * each chain's order checked by tls/tls_chain.c), and as each one's private
 * key a remote key (tls/tls_remote_key.h) whose every signature is made by
 * the tlskey stage over the IPC_CHAN_TLSKEY channel. smtpd_tls_cmd
 * runs the STARTTLS command: 220, the handshake on the client socket, and
 * a session reset (the client must say EHLO again; no envelope survives).
 *
 * SECURITY: the private key never enters this process. Only the
 * certificate blocks of the files are parsed; their bytes, which may hold
 * keys too (smtpd_tls_key_file's default is the certificate file; a chain
 * file holds keys), are wiped before the jail. Whatever the client pipelined after
 * STARTTLS is discarded unread, never executed as if it came over TLS
 * (CVE-2011-0411). A failed handshake ends the session.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"
#include "skeleton/stage_tlskey.h"
#include "lib/xmem.h"
#include "tls/tls_chain.h"
#include "tls/tls_cipher.h"
#include "tls/tls_level.h"
#include "tls/tls_log.h"
#include "tls/tls_proto.h"
#include "tls/tls_remote_key.h"

#define TLS_CERT_FILE_MAX	((size_t)1 << 20)

/* The one signer of this process: the tlskey stage, for every certificate's key. */
static struct tlskey_client tls_keyholder;

/* One certificate's key, named by its public key id (kept for the process's life). */
struct tls_keyref {
	unsigned char id[TLS_REMOTE_KEY_ID_LEN];
};

static int tls_sign(void *arg, const struct tls_sign_req *req, unsigned char *sig,
		    size_t sig_max, size_t *sig_len)
{
	struct tls_keyref *ref = arg;
	struct tlskey_request r = { ref->id, req->alg, req->md, req->digest, req->digest_len };
	int st = tlskey_client_sign(&tls_keyholder, &r, sig, sig_max, sig_len);

	if (st == TLSKEY_OK)
		return 0;
	msg_warn("TLS key stage: no signature (status %d)", st);
	return -1;
}

/* tls_refuse - a setting moat cannot honour: "main.cf:12: name: why", exit. */
static void tls_refuse(const struct conf *c, const char *name, const char *why)
{
	const char *w = conf_where(c, name);

	msg_fatal("%s%s%s: %s", w ? w : "", w ? ": " : "", name, why);
}

/* tls_read_file - the whole file into b (at most TLS_CERT_FILE_MAX); -1 and errno. */
static int tls_read_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		if (buf_reserve(b, 4096) < 0) {
			errno = EFBIG;
			r = -1;
			break;
		}
		n = read(fd, b->data + b->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -1 : 0;
			break;
		}
		b->len += (size_t)n;
	}
	(void)close(fd);
	return r;
}

/* What the certificates of one context have taken: one chain per key type. */
struct tls_certs {
	SSL_CTX *ctx;
	unsigned types;		/* 1: RSA, 2: EC */
};

/* tls_use_chain - one chain (leaf first) into the context, with a remote key. */
static int tls_use_chain(STACK_OF(X509) *chain, void *arg, struct buf *why)
{
	struct tls_certs *tc = arg;
	X509 *leaf = sk_X509_value(chain, 0);
	EVP_PKEY *pub = X509_get0_pubkey(leaf), *key;
	unsigned type = pub && EVP_PKEY_is_a(pub, "RSA") ? 1 : pub && EVP_PKEY_is_a(pub, "EC") ? 2 : 0;
	struct tls_keyref *ref;

	if (type == 0)
		return buf_append_str(why, "the certificate's key is neither RSA nor EC"), -1;
	if (tc->types & type)
		return buf_printf(why, "a second %s certificate (one per key type)",
				  type == 1 ? "RSA" : "ECDSA"), -1;
	if (!SSL_CTX_use_certificate(tc->ctx, leaf))
		return buf_append_str(why, "certificate refused by OpenSSL"), -1;
	for (int i = 1; i < sk_X509_num(chain); i++)
		if (!SSL_CTX_add1_chain_cert(tc->ctx, sk_X509_value(chain, i)))
			return buf_append_str(why, "chain certificate refused by OpenSSL"), -1;
	ref = xcalloc(1, sizeof(*ref));
	if (tls_remote_key_id(pub, ref->id) < 0 || (key = tls_remote_key_new(leaf, tls_sign, ref)) == NULL)
		return xfree(ref), buf_append_str(why, "the certificate's key cannot be used remotely"), -1;
	if (!SSL_CTX_use_PrivateKey(tc->ctx, key)) {
		EVP_PKEY_free(key);
		return buf_append_str(why, "OpenSSL refused the certificate's key"), -1;
	}
	EVP_PKEY_free(key);
	tc->types |= type;
	return 0;
}

/*
 * tls_load_file - the certificate chains of one file named by param (a
 * chain file with split_at_keys). The bytes may hold private keys: only
 * certificate blocks are parsed, and the copy is wiped before the jail.
 */
static void tls_load_file(struct tls_certs *tc, const struct conf *c, const char *param,
			  const char *path, int split_at_keys)
{
	struct buf raw, why = BUF_INIT, msg = BUF_INIT;
	int r;

	buf_init(&raw, TLS_CERT_FILE_MAX);
	if ((r = tls_read_file(path, &raw)) < 0)
		(void)buf_append_str(&why, strerror(errno));
	else
		r = tls_chain_each(raw.data, raw.len, split_at_keys, tls_use_chain, tc, &why);
	if (raw.data != NULL)
		OPENSSL_cleanse(raw.data, raw.cap);	/* it may hold a private key */
	buf_free(&raw);
	ERR_clear_error();
	if (r < 0) {
		(void)buf_printf(&msg, "%s: %s", path, buf_str(&why));
		tls_refuse(c, param, buf_str(&msg));
	}
	buf_free(&why);
}

/* tls_load_certs - smtpd_tls_chain_files, or else smtpd_tls_cert_file and
 * smtpd_tls_eccert_file, as Postfix chooses between them. */
static void tls_load_certs(SSL_CTX *ctx, const struct conf *c)
{
	struct tls_certs tc = { ctx, 0 };
	char *const *chains = conf_list(c, "smtpd_tls_chain_files");
	const char *ec = conf_str(c, "smtpd_tls_eccert_file");

	if (chains && *chains) {
		for (; *chains; chains++)
			tls_load_file(&tc, c, CONF_NAME("smtpd_tls_chain_files"), *chains, 1);
		return;
	}
	tls_load_file(&tc, c, CONF_NAME("smtpd_tls_cert_file"), conf_str(c, "smtpd_tls_cert_file"), 0);
	if (*ec)
		tls_load_file(&tc, c, CONF_NAME("smtpd_tls_eccert_file"), ec, 0);
}

/* tls_ctx - the context with the protocols and cipher grade these two parameters name. */
static SSL_CTX *tls_ctx(const struct conf *c, const char *protos, const char *grade)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct buf why = BUF_INIT;
	unsigned mask;
	char *const *excl = conf_list(c, "smtpd_tls_exclude_ciphers");

	if (ctx == NULL)
		msg_fatal("cannot create a TLS context");
	if (tls_proto_parse(conf_list(c, protos), &mask, &why) < 0
	    || tls_proto_apply(ctx, mask) < 0)
		tls_refuse(c, protos, why.len ? buf_str(&why) : "refused by OpenSSL");
	if (tls_cipher_apply(ctx, conf_str(c, grade), excl, &why) < 0)
		tls_refuse(c, grade, buf_str(&why));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
				  | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* no session cache yet: every handshake is a full one */
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	tls_load_certs(ctx, c);
	buf_free(&why);
	return ctx;
}

void smtpd_tls_init(struct smtpd_conf *cf, struct stage *st)
{
	const struct conf *c = st->conf;
	const char *level = conf_str(c, "smtpd_tls_security_level");
	/* Postfix's mapping of the obsolete booleans, used when the level is empty */
	int enforce = conf_bool(c, "smtpd_enforce_tls");
	int lev = *level ? tls_level_parse(level) : enforce ? TLS_LEV_ENCRYPT
		: conf_bool(c, "smtpd_use_tls") ? TLS_LEV_MAY : TLS_LEV_NONE;
	const char *by = *level ? "smtpd_tls_security_level"	/* what set the level */
		: enforce ? "smtpd_enforce_tls" : "smtpd_use_tls";
	char *const *chains;

	cf->tls_loglevel = (int)conf_int(c, "smtpd_tls_loglevel");
	cf->tls_received_header = conf_bool(c, "smtpd_tls_received_header");
	cf->tls_level = lev;
	cf->tls_required = TLS_LEV_REQUIRED(lev);
	if (lev != TLS_LEV_NONE && lev != TLS_LEV_MAY && lev != TLS_LEV_ENCRYPT)
		tls_refuse(c, by, "not supported");
	if (lev == TLS_LEV_NONE)
		return;
	chains = conf_list(c, "smtpd_tls_chain_files");
	if (*conf_str(c, "smtpd_tls_cert_file") == 0 && (chains == NULL || *chains == NULL))
		tls_refuse(c, by, "TLS needs smtpd_tls_cert_file or smtpd_tls_chain_files");
	/* Before the jail: OpenSSL reads its configuration file once, here. */
	if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL))
		msg_fatal("cannot initialise OpenSSL");
	tlskey_client_init(&tls_keyholder, st);
	cf->tls_ctx = cf->tls_required
		? tls_ctx(c, CONF_NAME("smtpd_tls_mandatory_protocols"),
			  CONF_NAME("smtpd_tls_mandatory_ciphers"))
		: tls_ctx(c, CONF_NAME("smtpd_tls_protocols"), CONF_NAME("smtpd_tls_ciphers"));
}

/* tls_error - OpenSSL's reason for a failed handshake, one line. */
static void tls_error(SSL *ssl, int r, struct buf *out)
{
	unsigned long code = ERR_peek_last_error();
	int e = SSL_get_error(ssl, r);
	char text[256];

	buf_reset(out);
	if (code) {
		ERR_error_string_n(code, text, sizeof(text));
		(void)buf_append_str(out, text);
	} else if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
		   || (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)))
		(void)buf_append_str(out, "timeout");	/* the socket's SO_RCVTIMEO/SO_SNDTIMEO */
	else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		(void)buf_append_str(out, "lost connection");
	else
		(void)buf_printf(out, "SSL error %d", e);
	ERR_clear_error();
}

/* tls_accept - the handshake on the blocking socket, each read or write bounded by
 * smtpd_starttls_timeout; 0 or -1. */
static int tls_accept(struct smtpd_session *s)
{
	int r;

	if ((s->ssl = SSL_new(s->cf->tls_ctx)) == NULL || !SSL_set_fd(s->ssl, s->fd)) {
		msg_warn("cannot create a TLS session");
		return -1;
	}
	ERR_clear_error();
	if (smtpd_io_timeouts(s->fd, s->lim->starttls_timeout) < 0)
		return -1;
	r = SSL_accept(s->ssl);
	if (r == 1)
		return smtpd_io_timeouts(s->fd, s->lim->timeout);
	tls_error(s->ssl, r, &s->line);
	msg_info("SSL_accept error from %s: %s", buf_str(&s->namaddr), buf_str(&s->line));
	SSL_free(s->ssl);
	s->ssl = NULL;
	return -1;
}

void smtpd_tls_cmd(struct smtpd_session *s, size_t alen)
{
	if (s->cf->tls_ctx == NULL) {
		smtpd_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (s->ssl) {
		smtpd_reply(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (alen > 0) {
		smtpd_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	if (smtpd_flush(s) < 0)
		return;
	s->inpos = s->in.len;	/* pipelined cleartext: dropped, never run (CVE-2011-0411) */
	if (tls_accept(s) < 0) {
		s->io_error = 1;	/* the stream is in an unknown state: the session ends */
		return;
	}
	buf_reset(&s->tls);
	tls_log_summary(s->ssl, "client", &s->tls);
	tls_log_own_sig(s->ssl, "server", &s->tls);
	if (s->cf->tls_loglevel >= 1)
		msg_info("Anonymous TLS connection established from %s: %s", buf_str(&s->namaddr),
			 buf_str(&s->tls));
	/* RFC 3207 4.2: forget all the client said before, EHLO included */
	smtpd_mail_reset(s);
	buf_reset(&s->helo);
	s->esmtp = 0;
}

void smtpd_tls_end(struct smtpd_session *s)
{
	if (s->ssl == NULL)
		return;
	if (!s->io_error && !s->timed_out)
		(void)SSL_shutdown(s->ssl);	/* close_notify, not waiting for the client's */
	SSL_free(s->ssl);
	s->ssl = NULL;
	ERR_clear_error();
}
