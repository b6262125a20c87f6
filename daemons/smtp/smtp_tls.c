/*
 * smtp_tls.c - STARTTLS for the smtp client, by smtp_tls_security_level.
 *
 * smtp_tls_init builds the OpenSSL contexts before the stage enters its
 * jail: protocols and ciphers (tls/), and the CA certificates of
 * smtp_tls_CAfile and every file of smtp_tls_CApath, read whole then,
 * since the empty root has none to read later. smtp_tls_session runs after
 * the first EHLO: it says STARTTLS, shakes hands over the connected socket
 * within smtp_starttls_timeout, checks the peer (smtp_tls_peer.c) and
 * logs the Postfix summary line; smtp_session.c then says EHLO again.
 *
 * Levels: none never starts TLS; may starts it when offered and falls back
 * to a new plaintext session when the handshake fails; encrypt and above
 * never send a command of the mail transaction in cleartext: a server that
 * does not offer STARTTLS, refuses it, fails the handshake or (fingerprint,
 * verify, secure, dane) fails the certificate check is left with Postfix's
 * reason, and the next server, if any, is tried. dane and dane-only become
 * one of may, encrypt or dane per connection (smtp_dane.c).
 *
 * SECURITY: everything the server sends before and after the handshake is
 * hostile. Bytes it pipelined after its reply to STARTTLS are dropped,
 * never read as TLS-protected replies (CVE-2011-0411 in the client
 * direction). OpenSSL runs confined: no file is opened once in the jail.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "daemons/smtp/smtp.h"
#include "lib/msg.h"
#include "tls/tls_cipher.h"
#include "tls/tls_level.h"
#include "tls/tls_log.h"
#include "tls/tls_proto.h"

/* tls_refuse - a setting OpenSSL or moat cannot honour: "main.cf:12: name: why", and exit
 * (at start-up this is moatd's check run, which quotes the line in its refusal). */
static void tls_refuse(const struct conf *c, const char *name, const char *why)
{
	const char *w = conf_where(c, name);

	msg_fatal("%s%s%s: %s", w ? w : "", w ? ": " : "", name, why);
}

/* tls_load_ca - the CA certificates into ctx's store, now. */
static void tls_load_ca(SSL_CTX *ctx, const struct conf *c)
{
	const char *file = conf_str(c, "smtp_tls_CAfile"), *dir = conf_str(c, "smtp_tls_CApath");
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	DIR *d;
	struct dirent *e;

	if (*file && X509_STORE_load_file(st, file) != 1)
		tls_refuse(c, "smtp_tls_CAfile", "cannot load CA certificates");
	if (*dir == 0)
		return;
	if ((d = opendir(dir)) == NULL)
		tls_refuse(c, "smtp_tls_CApath", strerror(errno));
	/* Every PEM file, not the hash lookup OpenSSL does later: there is no
	 * later, the directory is outside the jail. Non-certificates are skipped. */
	while ((e = readdir(d)) != NULL) {
		char path[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (X509_STORE_load_file(st, path) != 1)
			ERR_clear_error();
	}
	(void)closedir(d);
}

static SSL_CTX *tls_ctx(struct conf *c, const char *protos, const char *grade)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct buf why = BUF_INIT, list = BUF_INIT;
	unsigned mask;

	if (ctx == NULL)
		msg_fatal("cannot create a TLS context");
	if (tls_proto_parse(conf_list(c, protos), &mask, &why) < 0
	    || tls_proto_apply(ctx, mask) < 0)
		tls_refuse(c, protos, why.len ? buf_str(&why) : "refused by OpenSSL");
	/* the grade, then the exclusions, each named by the parameter at fault */
	if (tls_cipher_list(conf_str(c, grade), NULL, &list, &why) < 0)
		tls_refuse(c, grade, buf_str(&why));
	if (tls_cipher_list(conf_str(c, grade), conf_list(c, "smtp_tls_exclude_ciphers"), &list,
			    &why) < 0)
		tls_refuse(c, "smtp_tls_exclude_ciphers", buf_str(&why));
	if (tls_cipher_apply(ctx, conf_str(c, grade), conf_list(c, "smtp_tls_exclude_ciphers"),
			     &why) < 0)
		tls_refuse(c, grade, buf_str(&why));
	/* The chain is checked by OpenSSL in every handshake; whether it must
	 * be trusted is the level's business, decided after it (smtp_tls_peer.c). */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
				  | SSL_OP_NO_TICKET);
	tls_load_ca(ctx, c);
	buf_free(&why);
	buf_free(&list);
	return ctx;
}

void smtp_tls_init(struct smtp_state *s, struct conf *c)
{
	int lev = tls_level_client(conf_str(c, "smtp_tls_security_level"),
				   conf_bool(c, "smtp_use_tls"), conf_bool(c, "smtp_enforce_tls"),
				   conf_bool(c, "smtp_tls_enforce_peername"));

	if (lev < 0)
		msg_fatal("smtp_tls_security_level = %s: not supported",
			  conf_str(c, "smtp_tls_security_level"));
	s->tls_level = lev;
	s->tls_loglevel = (int)conf_int(c, "smtp_tls_loglevel");
	s->tls_note_offer = conf_bool(c, "smtp_tls_note_starttls_offer");
	s->t_starttls = conf_time(c, "smtp_starttls_timeout");
	s->tls_servername = conf_str(c, "smtp_tls_servername");
	s->tls_match = lev == TLS_LEV_FINGERPRINT ? conf_list(c, "smtp_tls_fingerprint_cert_match")
		: lev == TLS_LEV_SECURE ? conf_list(c, "smtp_tls_secure_cert_match")
		: conf_list(c, "smtp_tls_verify_cert_match");
	smtp_tls_peer_init(s, c);
	if (lev == TLS_LEV_NONE) {
		smtp_dane_init(s, c);
		return;
	}
	/* Before the jail: OpenSSL reads its configuration file once, here. */
	if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL))
		msg_fatal("cannot initialise OpenSSL");
	s->tls_ctx_may = tls_ctx(c, CONF_NAME("smtp_tls_protocols"), CONF_NAME("smtp_tls_ciphers"));
	s->tls_ctx_must = tls_ctx(c, CONF_NAME("smtp_tls_mandatory_protocols"),
				CONF_NAME("smtp_tls_mandatory_ciphers"));
	smtp_dane_init(s, c);
}

/* tls_ssl_error - OpenSSL's reason for a failed handshake, one line. */
static void tls_ssl_error(int e, struct buf *out)
{
	unsigned long code = ERR_peek_last_error();
	char text[256];

	buf_reset(out);
	if (code) {
		ERR_error_string_n(code, text, sizeof(text));
		(void)buf_append_str(out, text);
	} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		(void)buf_append_str(out, "lost connection");
	else
		(void)buf_printf(out, "SSL error %d", e);
	ERR_clear_error();
}

/* tls_handshake - SSL_connect until done or the deadline; 0 or -1. */
static int tls_handshake(struct smtp_state *s, struct buf *err)
{
	struct smtp_conn *c = &s->conn;
	int64_t deadline = smtp_io_deadline(s->t_starttls);

	for (;;) {
		int r, e;

		ERR_clear_error();
		if ((r = SSL_connect(c->ssl)) == 1)
			return 0;
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			tls_ssl_error(e, err);
			return -1;
		}
		r = smtp_io_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (r <= 0) {
			buf_set_str(err, r == 0 ? "timed out" : "lost connection");
			return -1;
		}
	}
}

/* tls_start - STARTTLS, its reply, the handshake. 0 up, 1 refused
 * (the reply is in s->reply), -1 failed (err says why). */
static int tls_start(struct smtp_state *s, const char *hop, struct buf *err)
{
	struct smtp_conn *c = &s->conn;
	char sni[256];
	int io = smtp_io_write(c, "STARTTLS\r\n", 10, s->t_helo);

	if (io == SMTP_IO_OK)
		io = smtp_io_reply(c, &s->reply, s->t_helo, err);
	if (io != SMTP_IO_OK) {
		buf_set_str(err, io == SMTP_IO_TIMEOUT ? "timed out while sending STARTTLS"
			    : "lost connection while sending STARTTLS");
		return -1;
	}
	if (s->reply.code / 100 != 2)
		return 1;
	buf_reset(&c->rbuf);	/* pipelined cleartext: never read as a TLS reply */
	c->ssl = SSL_new(TLS_LEV_REQUIRED(s->tls_level) ? s->tls_ctx_must : s->tls_ctx_may);
	if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) {
		buf_set_str(err, "cannot create a TLS session");
		return -1;
	}
	if (smtp_dane_ssl(s, c->ssl, err) < 0)
		return -1;
	smtp_tls_servername(s, hop, sni, sizeof(sni));
	if (sni[0] && !SSL_set_tlsext_host_name(c->ssl, sni)) {
		buf_printf(err, "bad smtp_tls_servername \"%s\"", sni);
		return -1;
	}
	return tls_handshake(s, err);
}

/* tls_fail - an encrypted level could not have TLS: the session ends. */
static int tls_fail(struct smtp_state *s, const char *dsn_code, struct buf *why, char dsn[16])
{
	msg_info("%s", buf_str(why));
	memcpy(dsn, dsn_code, 6);
	smtp_session_quit(s);
	return SMTP_SESS_NEXT;
}

int smtp_tls_session(struct smtp_state *s, const char *hop, int plain, struct buf *why,
		     char dsn[16])
{
	struct smtp_conn *c = &s->conn;
	struct buf err = BUF_INIT;
	int offered = (c->ehlo.flags & SMTP_EXT_STARTTLS) != 0, must = TLS_LEV_REQUIRED(s->tls_level);
	int r;

	buf_reset(why);
	if (s->tls_level == TLS_LEV_NONE || plain) {
		if (offered && s->tls_note_offer)
			msg_info("Host offered STARTTLS: [%s]", c->host);
		return 0;
	}
	if (!offered) {
		if (!must)
			return 0;
		(void)buf_printf(why, "TLS is required, but was not offered by host %s[%s]", c->host,
				 c->addr);
		return tls_fail(s, "4.7.4", why, dsn);
	}
	r = tls_start(s, hop, &err);
	if (r == 1 && !must) {
		buf_free(&err);
		return 0;	/* may: the transaction goes on in plaintext */
	}
	if (r == 1) {
		smtp_reply_oneline(&s->reply, &s->text);
		(void)buf_printf(why, "TLS is required, but host %s[%s] refused to start TLS: %s",
				 c->host, c->addr, buf_str(&s->text));
		(void)smtp_reply_dsn(&s->reply, dsn);
		buf_free(&err);
		smtp_session_quit(s);
		return SMTP_SESS_NEXT;
	}
	if (r < 0) {
		msg_info("SSL_connect error to %s: %s", c->relay, buf_str(&err));
		buf_free(&err);
		smtp_conn_close(c);	/* no QUIT: the stream is in an unknown state */
		if (!must)
			return SMTP_TLS_PLAIN;
		(void)buf_printf(why, "Cannot start TLS: handshake failure");
		memcpy(dsn, "4.7.5", 6);
		return SMTP_SESS_NEXT;
	}
	buf_free(&err);
	c->tls = 1;
	if ((r = smtp_tls_peer_check(s, hop, why)) != 0)
		return tls_fail(s, "4.7.5", why, dsn);
	return 0;
}
