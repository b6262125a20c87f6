/*
 * smtp.h - the smtp stage's internal interfaces (daemons/smtp only).
 */
#ifndef MOAT_DAEMONS_SMTP_H
#define MOAT_DAEMONS_SMTP_H

#include <stdint.h>
#include <sys/socket.h>

#include "ipc/ipc.h"
#include "lib/buf.h"
#include "mail/resolve.h"
#include "mail/smtp_reply.h"
#include "skeleton/stage.h"
#include "stagecf/route_lookup.h"

struct smtp_rcpt {
	char *addr;
	char *send_addr;	/* smtp_generic_maps' rewrite for RCPT TO, or NULL */
	char *orcpt;
	uint32_t notify;
	uint32_t index;
	int done;		/* a status was sent */
	int sent;		/* RCPT sent in the current transaction */
	int accepted;		/* RCPT got 2xx in the current transaction */
};

struct smtp_job {
	uint32_t job_id;
	char queue_id[33];
	int fd;
	char *transport;
	char *nexthop;
	char *sender;
	char *mail_from;	/* smtp_generic_maps' rewrite of sender, or NULL */
	struct buf head;	/* rewritten header section, sent instead of... */
	uint64_t head_skip;	/* ...this many bytes of the content (0: none) */
	char *envid;
	uint64_t arrival_us, active_us, recv_us, conn_us;
	uint64_t content_offset, content_size;
	uint64_t file_size;	/* fstat at job start: the content reader's bound */
	uint32_t ret, body_type, nrcpt, ngot;
	struct smtp_rcpt *rcpt;
	int site_defer;		/* no server could be reached */
	int smtputf8;		/* received with SMTPUTF8 (queue file attribute) */
	int named;		/* smtp_guard_named's answer; 0: not asked yet */
	int ndone;
};

/* One SMTP connection (live or cached). */
struct smtp_conn {
	int fd;			/* -1: none */
	char host[256];
	char addr[64];
	unsigned port;
	char relay[320];	/* "host[addr]:port" (the IPC field size) */
	char key[400];		/* transport/nexthop it was opened for */
	struct buf rbuf;	/* bytes received, not yet parsed */
	struct smtp_ehlo ehlo;
	int64_t idle_since_ms;
	int reused;
	int inward;		/* smtp_guard_inward: reused only for a named next hop */
	struct ssl_st *ssl;	/* after STARTTLS: every byte goes through it */
	int tls;		/* TLS is up (for the log and the cache) */
};

/* One TLSA record (smtp_dns.c, smtp_dane.c). */
#define SMTP_TLSA_MAX	32
struct smtp_tlsa {
	uint8_t usage, selector, mtype;
	size_t len;
	unsigned char *data;	/* heap: smtp_dns_tlsa_free */
};

/* One address to try. */
struct smtp_addr {
	char host[256];
	char addr[64];
	int family;
	unsigned port;
	unsigned pref;		/* MX preference (0 without MX) */
	int mx_secure;		/* the MX answer was validated (AD): 1, 0; -1 no MX lookup */
	int host_secure;	/* the address answer was validated (AD) */
};

#define SMTP_HOPS_MAX	32
#define SMTP_OWN_MAX	256
#define SMTP_PORTS_MAX	16

struct smtp_state {
	struct stage *st;
	struct ipc_chan qch;
	int have_q;
	struct ipc_chan dns;
	int have_dns;
	uint32_t dns_id;
	int dns_secure;		/* the last smtp_dns_lookup's AD bit */
	struct smtp_conn conn;
	struct smtp_reply reply;
	struct buf wbuf;
	struct buf fold;	/* content with long lines folded */
	struct buf text;	/* scratch for reply text */
	uint32_t uses;
	/* parameters, read once */
	int64_t t_connect, t_helo, t_mail, t_rcpt, t_data_init, t_data_xfer, t_data_done,
		t_quit, t_rset, cache_time;
	int skip_4xx, skip_5xx, never_ehlo, want4, want6, prefer6, disable_dns;
	int addr_limit, session_limit, randomize, defer_no_mx_addr, always_ehlo, cache_on_demand;
	char *const *cache_dests;
	size_t line_limit;
	const char *helo_name, *myhostname;
	char *const *discard_ehlo;
	char *const *fallback;	/* smtp_fallback_relay */
	unsigned default_port;
	/* smtp_guard.c: configured next hops, our own addresses, allowed ports */
	char *hops[SMTP_HOPS_MAX];
	size_t nhops;
	int relayhost;		/* index in hops, or -1 */
	unsigned char own[SMTP_OWN_MAX][16];
	size_t nown;
	uint16_t ports[SMTP_PORTS_MAX];
	size_t nports;
	int route_tables;	/* transport_maps or sender_dependent_relayhost_maps set */
	struct resolve res;	/* qmgr's routing, to check a next hop from a table */
	struct resolve_result rr;
	struct route_lookup route;	/* also smtp_generic_maps' lookup client */
	/* smtp_tls.c */
	int tls_level;		/* enum tls_level */
	int tls_loglevel, tls_note_offer;
	int64_t t_starttls;
	struct ssl_ctx_st *tls_ctx_may;	/* smtp_tls_protocols, smtp_tls_ciphers */
	struct ssl_ctx_st *tls_ctx_must;	/* the _mandatory_ ones */
	char *const *tls_match;	/* the level's *_cert_match */
	const char *tls_servername;
	const struct evp_md_st *tls_fpt_md;	/* smtp_tls_fingerprint_digest */
	const char *hop;	/* the next hop being tried (job's or a fallback relay) */
	/* smtp_dane.c: the current connection's TLSA records */
	struct smtp_dane {
		int dnssec;		/* smtp_dns_support_level = dnssec */
		int insecure_mx;	/* smtp_tls_dane_insecure_mx_policy, a level */
		unsigned char mtype_ok[256];	/* tls_dane_digests: digest length, 0 off */
		int active;		/* this connection verifies by TLSA */
		int trusted_only;	/* ...found through an insecure MX: "Trusted" */
		char base[256];		/* the TLSA base domain: the MX host */
		struct smtp_tlsa tlsa[SMTP_TLSA_MAX];
		size_t ntlsa;
	} dane;
	/* smtp_generic.c */
	struct buf generic;	/* smtp_generic_maps as one query's table list */
	const char *myorigin, *delim;
};

/* smtp_io.c: the connection's bytes, with deadlines. */
#define SMTP_IO_OK	0
#define SMTP_IO_TIMEOUT	(-1)
#define SMTP_IO_LOST	(-2)
#define SMTP_IO_BAD	(-3)
#define SMTP_IO_FILE	(-4)	/* the queue file could not be read */
int64_t smtp_io_deadline(int64_t timeout_s);
int smtp_io_wait(int fd, short ev, int64_t deadline_ms);
int smtp_io_connect(const struct smtp_addr *a, int64_t timeout_s, struct buf *why);
int smtp_io_write(struct smtp_conn *c, const void *p, size_t n, int64_t timeout_s);
int smtp_io_reply(struct smtp_conn *c, struct smtp_reply *r, int64_t timeout_s, struct buf *why);
struct smtp_content {
	uint64_t off, len;	/* the content in the queue file */
	uint64_t end;		/* the file size */
	size_t fold_limit;	/* smtp_line_length_limit; 0 = never fold */
	const struct buf *head;	/* sent first instead of the content's first... */
	uint64_t skip;		/* ...skip bytes (smtp_generic_maps) */
};
/* smtp_io_head - the content's first bytes, through its header section or max. */
int smtp_io_head(int fd, const struct smtp_content *ct, struct buf *out, size_t max);
int smtp_io_content(struct smtp_conn *c, int fd, const struct smtp_content *ct,
		    struct buf *tmp, struct buf *fold, int64_t timeout_s);
void smtp_conn_close(struct smtp_conn *c);
int smtp_io_header_8bit(int fd, const struct smtp_content *ct, struct buf *tmp);
int smtp_io_smtputf8(int fd);
uint64_t smtp_now_us(void);

/* smtp_dns.c: lookups through the dns stage. */
struct smtp_dns_rr {
	uint16_t pref;
	char value[256];
};
/* smtp_dns_lookup - also sets s->dns_secure (the answer's AD bit). */
int smtp_dns_lookup(struct smtp_state *s, const char *name, uint32_t type,
		    struct smtp_dns_rr *rr, size_t max, size_t *nrr, struct buf *reason);
/* One answer: rr (MX, A, ...) or tlsa list, up to max entries. */
struct smtp_dns_answer {
	struct smtp_dns_rr *rr;
	struct smtp_tlsa *tlsa;
	size_t max, nrr, ntlsa;
	int secure;		/* the resolver validated it (AD) */
};
int smtp_dns_ask(struct smtp_state *s, const char *name, uint32_t type,
		 struct smtp_dns_answer *a, struct buf *reason);
void smtp_dns_tlsa_free(struct smtp_tlsa *t, size_t n);

/* smtp_addr.c: the next hop into an ordered address list. */
#define SMTP_ADDR_MAX	64
int smtp_addr_list(struct smtp_state *s, struct smtp_job *job, const char *nexthop,
		   struct smtp_addr *out, size_t *n, struct buf *reason, char dsn[16]);

/* smtp_guard.c: configured next hops and addresses never to try. */
#define SMTP_GUARD_OK		0
#define SMTP_GUARD_SELF		1	/* this host: loopback, unspecified, our own */
#define SMTP_GUARD_SPECIAL	2	/* link-local, multicast, broadcast, reserved */
void smtp_guard_init(struct smtp_state *s, struct conf *c);
int smtp_guard_configured(const struct smtp_state *s, const char *nexthop);
int smtp_guard_is_relayhost(const struct smtp_state *s, const char *nexthop);
#define SMTP_NAMED_YES	1
#define SMTP_NAMED_NO	2
#define SMTP_NAMED_FAIL	3	/* a table failed: defer */
int smtp_guard_named(struct smtp_state *s, struct smtp_job *job, struct buf *why);
int smtp_guard_check(const struct smtp_state *s, const struct smtp_addr *a, const char **what);
/* smtp_guard_inward - a special address or a port but smtp_tcp_port: named hops only. */
int smtp_guard_inward(const struct smtp_state *s, const struct smtp_addr *a);

/* smtp_generic.c: smtp_generic_maps; -1 when the job was deferred. */
void smtp_generic_init(struct smtp_state *s, struct conf *c);
int smtp_generic_job(struct smtp_state *s, struct smtp_job *job);

/* smtp_tls.c: STARTTLS after EHLO, by smtp_tls_security_level. */
void smtp_tls_init(struct smtp_state *s, struct conf *c);
#define SMTP_TLS_PLAIN	3	/* may: the handshake failed, retry in plaintext */
int smtp_tls_session(struct smtp_state *s, const char *hop, int plain, struct buf *why,
		     char dsn[16]);

/* smtp_dane.c: DANE (RFC 7672) at levels dane and dane-only. */
void smtp_dane_init(struct smtp_state *s, struct conf *c);
/* smtp_dane_prepare - the TLS level of a connection to a (the level itself
 * unless dane-based); -1: do not connect, why and dsn say why. */
int smtp_dane_prepare(struct smtp_state *s, const struct smtp_addr *a, struct buf *why,
		      char dsn[16]);
void smtp_dane_clear(struct smtp_state *s);
/* smtp_dane_ssl - arm ssl with the TLSA records (if any); -1 with err. */
int smtp_dane_ssl(struct smtp_state *s, struct ssl_st *ssl, struct buf *err);
/* smtp_dane_matched - the handshake's chain matched a TLSA record. */
int smtp_dane_matched(struct smtp_state *s, struct ssl_st *ssl);

/* smtp_tls_peer.c: who the server is, by the level's *_cert_match. */
void smtp_tls_peer_init(struct smtp_state *s, struct conf *c);
void smtp_tls_servername(const struct smtp_state *s, const char *hop, char *out, size_t n);
/* smtp_tls_peer_check - log the handshake; 0, or -1 with Postfix's reason. */
int smtp_tls_peer_check(struct smtp_state *s, const char *hop, struct buf *why);

/* smtp.c */
int smtp_has_ctl(const char *p);

/* smtp_session.c: deliver one job over one connection. */
#define SMTP_SESS_DONE		0	/* every recipient has a status */
#define SMTP_SESS_NEXT		1	/* this server failed: try the next one */
int smtp_session_open(struct smtp_state *s, struct smtp_job *job, const struct smtp_addr *a,
		      struct buf *why, char dsn[16]);
int smtp_session_deliver(struct smtp_state *s, struct smtp_job *job, int reused);
void smtp_session_quit(struct smtp_state *s);

/* smtp_status.c: per-recipient results, log lines, DONE. */
void smtp_status_rcpt(struct smtp_state *s, struct smtp_job *job, struct smtp_rcpt *r,
		      int status, const char *dsn, const char *relay, const char *reply);
void smtp_status_rest(struct smtp_state *s, struct smtp_job *job, int status, const char *dsn,
		      const char *relay, const char *reply);
void smtp_status_delay(struct buf *out, uint64_t us);

#endif
