/*
 * smtpd.h - the smtpd stage's shared types: configuration, session, modules.
 *
 *   smtpd.c          stage entry, pre-jail, the loop that takes clients, process limits
 *   smtpd_screen.c   the channel from screen: clients in, DONE/RETIRE/RATE out
 *   smtpd_attack.c   test build only: hostile messages to screen
 *   smtpd_conf.c     reads main.cf into struct smtpd_conf (stagecf/smtpd_policy.c)
 *   smtpd_io.c       buffered client I/O: line reader, reply buffer, timeouts
 *   smtpd_session.c  one SMTP session: command loop, logging
 *   smtpd_verbs.c    HELO/EHLO/MAIL/RCPT/RSET/NOOP/VRFY/... handlers
 *   smtpd_dataphase.c DATA: restrictions, 354, stream to cleanup, result
 *   smtpd_check.c    restriction lists: the evaluator, relay policy, simple restrictions
 *   smtpd_check_dns.c DNS lists and reject_unknown_*_domain/helo (via the dns stage)
 *   smtpd_check_action.c what a policy service answers, applied (mail/access_action.h)
 *   smtpd_policy.c   check_policy_service: requests to the policy stage
 *   smtpd_check_access.c check_*_access: table lookups (lookup stage), answers applied
 *   smtpd_check_server.c their _a_/_mx_/_ns_ forms: the hosts' addresses from DNS
 *   smtpd_domains.c  mydestination and relay_domains with their tables (lookup stage)
 *   smtpd_opts.c     reject footer, EHLO keywords, NOOP commands, client logging
 *   smtpd_cleanup.c  the channel to cleanup
 *   smtpd_tls.c      STARTTLS: the server context (key in the tlskey stage), the handshake
 *   smtpd_dns.c      the client's host name (PTR + forward check, via the dns stage)
 *   smtpd_cmd.c      command-line parsing (pure)
 *   smtpd_data.c     DATA terminator/normalisation state machine (pure)
 */
#ifndef MOAT_SMTPD_H
#define MOAT_SMTPD_H

#include <stdint.h>
#include <netinet/in.h>

#include "daemons/smtpd/smtpd_cmd.h"
#include "lib/buf.h"
#include "mail/access_action.h"
#include "mail/addr.h"
#include "skeleton/stage.h"
#include "stagecf/smtpd_policy.h"

/*
 * What stress changes: Postfix gives these parameters ${stress?{x}:{y}}
 * defaults. smtpd_conf.c reads one set as configured and one as it reads
 * with stress = yes; each session uses the set its screen chose.
 */
struct smtpd_limits {
	int timeout;		/* smtpd_timeout, seconds */
	int starttls_timeout;	/* smtpd_starttls_timeout: each read or write of the handshake */
	int hard_limit;		/* smtpd_hard_error_limit */
	int junk_limit;		/* smtpd_junk_command_limit */
	int deadline;		/* smtpd_per_request_deadline: timeout bounds a whole request */
	int min_data_rate;	/* smtpd_min_data_rate: bytes/s that extend the DATA deadline */
};

struct smtpd_conf {
	struct smtpd_policy pol;	/* networks, domains, restriction lists (stagecf/) */
	const char *myhostname;
	uint64_t size_limit;
	struct smtpd_limits normal, stress;
	int rcpt_limit, rcpt_overshoot, soft_limit, error_sleep;
	int helo_required, strict, disable_vrfy, delay_reject, forbid_unauth_pipe;
	int reject_code, defer_code, relay_code, non_fqdn_code, invalid_hostname_code;
	int unknown_client_code;
	int rbl_code;			/* maps_rbl_reject_code */
	int unknown_addr_code;		/* unknown_address_reject_code */
	int unknown_helo_code;		/* unknown_hostname_reject_code */
	int addr_tempfail_defer;	/* unknown_address_tempfail_action = defer */
	int helo_tempfail_defer;	/* unknown_helo_hostname_tempfail_action = defer */
	struct access_codes access;	/* access_map_reject_code, access_map_defer_code */
	const char *policy_default;	/* smtpd_policy_service_default_action */
	const char *policy_context;	/* smtpd_policy_service_policy_context */
	int policy_wait_ms;		/* longest the policy stage may take for a request */
	int max_use, max_idle;
	int peername_lookup;		/* smtpd_peername_lookup */
	int mail_rate_limit;		/* smtpd_client_message_rate_limit */
	int rcpt_rate_limit;		/* smtpd_client_recipient_rate_limit */
	int port_logging;		/* smtpd_client_port_logging */
	struct ssl_ctx_st *tls_ctx;	/* NULL: no STARTTLS (smtpd_tls_security_level = none) */
	int tls_level;			/* enum tls_level */
	int tls_required;		/* level encrypt: no mail without TLS */
	int tls_loglevel;		/* smtpd_tls_loglevel */
	int tls_received_header;	/* smtpd_tls_received_header */
};

/* How a client name lookup ended (Postfix's SMTPD_PEER_CODE_*). */
enum smtpd_peer_status {
	SMTPD_PEER_OK,			/* found (and, for the name, verified) */
	SMTPD_PEER_TEMP,		/* DNS failed for now, or no answer in time */
	SMTPD_PEER_PERM,		/* no usable PTR record, or no lookup at all */
	SMTPD_PEER_FORGED,		/* PTR name whose addresses do not include the client */
};

/* Per-command counters for the "disconnect from" line (Postfix order). */
struct smtpd_count { uint32_t ok, total; };

struct smtpd_session {
	struct stage *st;
	const struct smtpd_conf *cf;
	const struct smtpd_limits *lim;	/* cf->normal, or cf->stress */
	int fd;
	/* client */
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	int family;
	unsigned char ip[16];
	const char *name;		/* verified host name, or "unknown" */
	const char *reverse_name;	/* PTR name, not verified, or "unknown" */
	enum smtpd_peer_status name_status, reverse_status;
	struct buf namebuf;		/* holds the names when not "unknown" */
	struct buf namaddr;		/* "name[addr]" (":port" too with port logging) for logs */
	char laddr[INET6_ADDRSTRLEN];
	int lfamily;
	unsigned char lip[16];
	int trusted;			/* client in mynetworks */
	int excepted;			/* client in smtpd_client_event_limit_exceptions */
	/* I/O */
	struct buf in;			/* raw input; bytes before inpos are used */
	size_t inpos;
	struct buf out;			/* pending replies */
	struct ssl_st *ssl;		/* after STARTTLS: all I/O goes through it */
	struct buf tls;			/* after STARTTLS: "TLSv1.3 with cipher ..." */
	struct buf reply;		/* one reply being formatted */
	int eof, io_error, timed_out;
	int64_t deadline;		/* ms: the request being read must be complete by then */
	int reply_ok;			/* the last reply was 2xx/3xx */
	int rejected_rcpts;		/* RCPTs refused in this transaction */
	int rcpt_overshoot;		/* RCPTs past smtpd_recipient_limit in this transaction */
	const char *where;		/* last command, for "after X" */
	/* protocol */
	struct buf helo;
	int esmtp;
	int unauth_pipelined;
	int errors, junk;
	int quit;
	/* transaction */
	int in_mail;
	struct buf sender;
	unsigned sender_flags;
	struct smtpd_mail_params mp;
	int nrcpt;
	int cleanup_open;
	struct buf qid;
	uint64_t data_bytes;
	int in_data;			/* reading message content */
	int discard;			/* a DISCARD action: accept, then drop the message */
	int hold;			/* a HOLD action: cleanup commits into hold/ */
	struct buf redirect;		/* a REDIRECT action's address, empty if none */
	struct buf bcc;			/* BCC actions' addresses, each NUL-terminated */
	uint32_t transaction;		/* MAIL transactions so far (policy "instance") */
	int64_t started_ms;		/* when the session began */
	struct buf prepend;		/* headers PREPEND actions added (CRLF-terminated) */
	struct smtpd_count count[V_COUNT + 1];	/* [V_COUNT] = all commands */
	struct buf line;		/* scratch for log text */
};

/* A client connection as screen hands it over. */
struct smtpd_conn {
	uint32_t session;
	unsigned flags;			/* SCREEN_F_* */
	const char *input;		/* what the client sent so far (valid until the next read) */
	size_t input_len;
	int fd;
};

/* smtpd_screen.c */
void smtpd_screen_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd);
int smtpd_screen_fd(void);
/* smtpd_screen_generation - how many screen channels were accepted so far. */
unsigned smtpd_screen_generation(void);
int smtpd_screen_next(struct stage *st, struct smtpd_conn *conn);
void smtpd_screen_done(struct stage *st);
void smtpd_screen_retire(struct stage *st, uint32_t uses);
void smtpd_screen_close(void);
uint32_t smtpd_screen_rate(struct smtpd_session *s, uint32_t event);

/* smtpd_attack.c: the test build's compromised smtpd (nothing otherwise). */
void smtpd_attack_screen(struct stage *st, int fd);

/* smtpd_conf.c */
void smtpd_conf_load(struct smtpd_conf *cf, struct stage *st);

/* smtpd_io.c */
int64_t smtpd_io_now_ms(void);
int smtpd_io_timeouts(int fd, int seconds);
void smtpd_io_deadline(struct smtpd_session *s);
int smtpd_io_fill(struct smtpd_session *s);
int smtpd_io_getline(struct smtpd_session *s, const char **line, size_t *len, size_t *wirelen);
size_t smtpd_io_pending(const struct smtpd_session *s);
/* smtpd_reply - queue a reply; a 4xx/5xx counts as a client error (limits, tarpit). */
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* smtpd_reply_uncounted - the same, never counted (recipients over the limit, up to
 * smtpd_recipient_overshoot_limit). */
void smtpd_reply_uncounted(struct smtpd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int smtpd_flush(struct smtpd_session *s);
#define SMTPD_LINE_TOOLONG	(-2)
#define SMTPD_LINE_NUL		(-3)

/* smtpd_session.c */
void smtpd_session_run(struct smtpd_session *s);
void smtpd_log_reject(struct smtpd_session *s, const char *cmd, const char *reply,
		      const char *rcpt);
/* smtpd_log_what - "QUEUEID: what: CMD from client: text; from=<> to=<> ..." */
void smtpd_log_what(struct smtpd_session *s, const char *what, const char *cmd,
		    const char *text, const char *rcpt);
void smtpd_mail_reset(struct smtpd_session *s);

/* smtpd_verbs.c */
void smtpd_verb_run(struct smtpd_session *s, enum smtpd_verb v, const char *arg, size_t alen,
		    size_t wirelen);

/* smtpd_dataphase.c */
void smtpd_data_cmd(struct smtpd_session *s, const char *arg, size_t alen);

/* smtpd_check.c */
/* smtpd_check_rcpt - all RCPT-time checks; 0 = accept, else *reply is set. */
int smtpd_check_rcpt(struct smtpd_session *s, const struct addr_path *rcpt, struct buf *reply);
/* smtpd_check_cmd - one list at its own command (client, helo, sender with
 * smtpd_delay_reject = no; data; end of data): CHECK_REJECT with *reply set, else CHECK_OK. */
int smtpd_check_cmd(struct smtpd_session *s, enum smtpd_list which, struct buf *reply);
/* smtpd_check_auth_dest, smtpd_check_is_local - 1 yes, 0 no, -1 a table of
 * mydestination or relay_domains failed (say 451 4.3.0, never guess). */
int smtpd_check_auth_dest(const struct smtpd_session *s, const struct addr_path *rcpt);
int smtpd_check_is_local(const struct smtpd_session *s, const struct addr_path *rcpt);
/* smtpd_domains.c: a mydestination/relay_domains list with its tables; 1, 0 or -1. */
int smtpd_domain_listed(const struct smtpd_session *s, const struct domlist *d, const char *dom);
void smtpd_domains_clear(void);
/* smtpd_tables_query - lookup_query for a table parameter, cached for the
 * transaction; a failure (any status but FOUND/NOTFOUND) is logged. */
struct lookup_key;
struct lookup_answer;
int smtpd_tables_query(struct stage *st, const struct lookup_key *k, struct lookup_answer *a);

/* smtpd_rcptmaps.c: unlisted recipients and senders at RCPT; -1 and reply if refused. */
int smtpd_rcptmaps_check(struct smtpd_session *s, const struct addr_path *rcpt, struct buf *reply);
/* smtpd_rcptmaps_virtual_domain - in virtual_alias_domains? 1, 0, or -1 (a table failed). */
int smtpd_rcptmaps_virtual_domain(const struct smtpd_session *s, const char *domain);
void smtpd_rcptmaps_clear(void);
#define CHECK_DUNNO	0
#define CHECK_OK	1
#define CHECK_REJECT	2

/* One command's checks (Postfix's defer_if_permit/defer_if_reject, warn_if_reject). */
struct check_defer {
	int active;
	struct buf reply;
};
struct smtpd_check {
	struct smtpd_session *s;
	enum smtpd_list which;		/* the list applied (names the reply's class) */
	const struct addr_path *rcpt;	/* NULL outside RCPT */
	struct buf *reply;
	int warn;			/* warn_if_reject: the next reject is only logged */
	int depth;			/* restriction classes and answers in use */
	const char *subj_name;		/* set by an access check: what its replies name */
	const char *subj_cls;		/* ... and their class ("Sender address"); NULL: the list's */
	struct check_defer if_permit, if_reject;
};
/* smtpd_check_reject - set the reply "code dsn text" (the dsn's class digit
 * follows the code); CHECK_REJECT, or CHECK_DUNNO when only warned. */
int smtpd_check_reject(struct smtpd_check *ck, int code, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* smtpd_rcptmaps_unlisted - the reject_unlisted_sender (sender = 1) and
 * reject_unlisted_recipient restrictions (smtpd_rcptmaps.c); CHECK_*. */
int smtpd_rcptmaps_unlisted(struct smtpd_check *ck, int sender);
/* smtpd_check_defer_if - remember a DEFER_IF_PERMIT/_REJECT reply (the first counts). */
void smtpd_check_defer_if(struct smtpd_check *ck, struct check_defer *d, int code,
			  const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* smtpd_check_subject - "<x>" and "Client host" etc. for the list ck applies. */
void smtpd_check_subject(const struct smtpd_check *ck, struct buf *out, const char **cls);
/* smtpd_check_items - apply a list (a class, an answer's list) within ck. */
int smtpd_check_items(struct smtpd_check *ck, const struct restrict_list *l);

/* smtpd_check_dns.c: the restrictions that ask DNS (restrict_id in it->id). */
int smtpd_check_dns(struct smtpd_check *ck, const struct restrict_item *it);

/* smtpd_check_action.c: a policy service's answer, applied; CHECK_*. */
int smtpd_check_action(struct smtpd_check *ck, const char *answer, const char *from);

/* smtpd_policy.c: check_policy_service endpoint, through the policy stage; CHECK_*. */
int smtpd_check_policy(struct smtpd_check *ck, const char *endpoint);
/* smtpd_check_access.c: every check_*_access restriction; CHECK_*. */
int smtpd_check_access(struct smtpd_check *ck, const struct restrict_item *it);
void smtpd_check_access_clear(void);
/* smtpd_access_lookup - key in it's table (in order), its answer applied; *found
 * is 0 when the table had no entry (CHECK_DUNNO). A failed lookup is a 451. */
int smtpd_access_lookup(struct smtpd_check *ck, const struct restrict_item *it, const char *key,
			uint32_t order, uint32_t flags, int *found);
/* smtpd_access_parent - LOOKUP_F_PARENT if parent_domain_matches_subdomains
 * names smtpd_access_maps. */
uint32_t smtpd_access_parent(const struct smtpd_session *s);
/* smtpd_check_server.c: the _a_, _mx_ and _ns_ forms, keys from DNS; CHECK_*. */
int smtpd_check_server(struct smtpd_check *ck, const struct restrict_item *it,
		       enum restrict_subject subj, enum restrict_server srv);

/* smtpd_cleanup.c: 0 ok; -1 = no cleanup (reply set to a 4xx/5xx text). */
int smtpd_cleanup_open(struct smtpd_session *s, struct buf *reply);
int smtpd_cleanup_rcpt(struct smtpd_session *s, const char *addr);
int smtpd_cleanup_data(struct smtpd_session *s, const char *p, size_t n);
int smtpd_cleanup_end(struct smtpd_session *s, struct buf *reply);
void smtpd_cleanup_abort(struct smtpd_session *s);
void smtpd_cleanup_release(void);

/* smtpd_opts.c: reply footer, EHLO keywords, NOOP commands, namaddr, debug peers */
void smtpd_opts_namaddr(struct smtpd_session *s);
int smtpd_opts_debug_level(const struct smtpd_session *s);
int smtpd_opts_noop(const struct smtpd_session *s, const char *line, size_t len);
void smtpd_opts_ehlo(struct smtpd_session *s);
void smtpd_opts_trace(struct smtpd_session *s, size_t start);
void smtpd_opts_footer(struct smtpd_session *s, size_t start);

/* smtpd_tls.c: the context before the jail; STARTTLS; the end of a TLS session. */
void smtpd_tls_init(struct smtpd_conf *cf, struct stage *st);
void smtpd_tls_cmd(struct smtpd_session *s, size_t alen);
void smtpd_tls_end(struct smtpd_session *s);

/* smtpd_dns.c: sets name, reverse_name and their status (lookup bounded in time). */
void smtpd_dns_client_name(struct smtpd_session *s);
/* smtpd_dns_query - one lookup within ms milliseconds; each record's value
 * goes to fn. A DNS_* status (no answer in time: DNS_TEMPFAIL). */
typedef void smtpd_dns_fn(const char *value, uint32_t pref, void *ctx);
int smtpd_dns_query(struct smtpd_session *s, const char *name, uint32_t type, int ms,
		    smtpd_dns_fn *fn, void *ctx);

#endif
