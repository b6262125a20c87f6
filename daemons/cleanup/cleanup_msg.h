/*
 * cleanup_msg.h - one message on its way into the queue: the cleanup
 * stage's core, free of any channel or event-loop code so that the unit
 * tests drive it directly (tests/unit/test_cleanup.c).
 *
 *	cleanup_msg_init(&cm, &cfg);
 *	cleanup_msg_open(&cm, &open)    status 0: queue file created, cm.qid set
 *	cleanup_msg_rcpt(&cm, &rcpt)    any number
 *	cleanup_msg_data(&cm, p, n)     any number, any chunk boundaries
 *	cleanup_msg_action(&cm, &act)   smtpd's HOLD/REDIRECT/BCC, any number
 *	cleanup_msg_end(&cm)            commit; status 0 = on disk, say 250
 *	(or cleanup_msg_abort(&cm) at any point: nothing stays in incoming/)
 *
 * Each call returns 0, or -1 when the client broke the order of the
 * protocol or sent an address its own checks should have refused
 * (cm.violation says which; treat the peer as broken). A problem with the message itself
 * (size, hops, disk) is not -1: it is remembered in cm.status/cm.reason and
 * reported by cleanup_msg_end, as SMTP reports it after the final dot.
 *
 * Queue file attributes written for the readers (qmgr, bounce, mailq):
 *   client_name client_addr client_port helo protocol   always
 *   sasl_user envid                                     when not empty
 *   ret        "FULL" or "HDRS"                          when given
 *   body       "7BIT" or "8BITMIME"                      when given
 *   smtputf8   "1"                                       CLEANUP_F_SMTPUTF8
 *   bounce     "1"                                       CLEANUP_F_BOUNCE: a DSN; never bounce it
 *              "2"                                       CLEANUP_F_NOTICE too: a notice to the
 *                                                        postmaster; if it fails, it is dropped
 *   warn_time  15 digits                                 when delay_warning_time > 0: the epoch
 *                                                        second a delay warning is due; qmgr
 *                                                        rewrites it to zeros once it is sent
 *   After the content (queue_file_begin_extract), from header_checks and
 *   smtpd's access actions (cleanup_msg_action):
 *   redirect   user@domain                               REDIRECT: queue_env sends every
 *                                                        recipient there
 *   and one recipient per BCC action, NOTIFY=NEVER. HOLD commits the file
 *   into hold/; DISCARD commits nothing and answers 250.
 * Recipients carry QUEUE_NOTIFY_* bits (converted from DSN_NOTIFY_*).
 */
#ifndef MOAT_CLEANUP_MSG_H
#define MOAT_CLEANUP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "daemons/cleanup/cleanup_canon.h"
#include "daemons/cleanup/cleanup_check.h"
#include "daemons/cleanup/cleanup_mime.h"
#include "daemons/cleanup/cleanup_virtual.h"
#include "ipc/ipc.h"
#include "lib/buf.h"
#include "queue/qfile.h"

struct cleanup_cfg {
	int qdirfd;			/* AT_FDCWD in the stage (chroot = queue dir) */
	int statfd;			/* O_PATH fd of incoming/ for fstatfs, or -1 */
	const char *myhostname;
	const char *mail_name;
	uint64_t message_size_limit;	/* 0 = none */
	uint64_t queue_minfree;		/* bytes that must stay free */
	int64_t delay_warning_time;	/* seconds; 0 = no delay warnings */
	size_t header_size_limit;	/* per logical header; the excess is discarded */
	int hopcount_limit;
	int always_add;			/* always_add_missing_headers */
	char *const *drop_headers;	/* message_drop_headers */
	int mime_disabled;		/* disable_mime_input_processing */
	struct cleanup_mime_params mime;	/* limits and strict_* checks */
	int original_recipient;		/* enable_original_recipient */
	struct cleanup_checks checks;	/* header_checks(5) */
	uint64_t body_checks_size_limit;	/* bytes of each body segment body_checks see; 0: all */
	struct cleanup_virtual_cfg virt;	/* virtual_alias_maps, the duplicate filter */
	struct canon_params canon;	/* canonical maps, masquerading, BCC (cleanup_canon.h) */
	struct lookup_client *canon_lc;	/* NULL: canon names no table */
};

/* The content after the message's headers, line by line (cleanup_body.c). */
struct cleanup_body {
	int lines;			/* content checks need the lines: else bytes pass through */
	struct buf line;		/* the current record: a line or line_length_limit of it */
	size_t fed;			/* its first bytes the MIME scanner has seen already */
	int cont;			/* the current line had pieces before this record */
	int class;			/* what the current line is */
	int entity;			/* whose header it is (CLEANUP_MIME_*) */
	int force_body;			/* the first body line: body, whatever it looks like */
	int at_start;			/* what was written so far ends a line */
	struct buf hdr;			/* a part's logical header, up to header_size_limit */
	int hdr_entity;
	int hdr_trunc;
	uint64_t off;			/* bytes of the current body segment so far */
	unsigned seg;			/* which segment (cleanup_mime.h) */
};

enum cleanup_state { CM_IDLE, CM_ENVELOPE, CM_HEADERS, CM_BODY, CM_FAILED };

/* Where the header scanner is inside the current line. */
enum cleanup_line { CL_START, CL_NAME, CL_NAME_WSP, CL_TEXT, CL_CR };

struct cleanup_msg {
	const struct cleanup_cfg *cfg;
	enum cleanup_state state;
	struct queue_file *qf;		/* NULL when no file is open */
	char qid[QUEUE_ID_LEN + 1];
	uint32_t flags;
	int local;			/* add missing headers (a local client) */
	struct timeval arrival;
	struct buf helo, client_name, client_addr, protocol, sender, rcpt1;
	struct buf tls;		/* what TLS the client used, for Received (may be empty) */
	size_t nrcpt;
	/* header section */
	enum cleanup_line line;
	struct buf hdr;			/* the current logical header, raw */
	int hdr_trunc;			/* part of it was discarded */
	struct buf out;			/* headers waiting for queue_file_put_content */
	unsigned seen;			/* CM_SEEN_* */
	int hops;
	struct buf msgid;		/* for the log line */
	uint64_t size;			/* content bytes received */
	struct cleanup_mime mime;	/* the MIME structure checks */
	int mime_on;			/* this message is checked */
	struct cleanup_body body;
	/* content checks (cleanup_check.c) and what they decided */
	struct buf chk_key;		/* the key of the last check, for its log line */
	struct buf chk_out;		/* what a checked header becomes */
	unsigned check;			/* CM_CHECK_* */
	struct buf redirect;		/* REDIRECT address, empty if none */
	struct buf bcc;			/* BCC addresses, each NUL-terminated */
	struct cleanup_virtual_seen rcpt_seen;	/* recipients written (cleanup_virtual.c) */
	struct cleanup_rw rw;		/* address rewriting (cleanup_canon.h) */
	/* outcome */
	uint32_t status;		/* 0, or an SMTP code */
	struct buf reason;		/* "4.3.0 text" */
	const char *violation;		/* why the last call returned -1, or NULL */
};

#define CM_CHECK_HOLD		0x01	/* commit into hold/ */
#define CM_CHECK_DISCARD	0x02	/* say 250, keep nothing */
#define CM_CHECK_LOGGED		0x04	/* the failure is logged already */
#define CM_CHECK_PASS		0x08	/* PASS: no more content checks for this message */

#define CM_SEEN_MSGID		0x01
#define CM_SEEN_DATE		0x02
#define CM_SEEN_FROM		0x04
#define CM_SEEN_RESENT		0x08
#define CM_SEEN_RESENT_MSGID	0x10
#define CM_SEEN_RESENT_DATE	0x20
#define CM_SEEN_RESENT_FROM	0x40

void cleanup_msg_init(struct cleanup_msg *cm, const struct cleanup_cfg *cfg);
void cleanup_msg_free(struct cleanup_msg *cm);
int cleanup_msg_open(struct cleanup_msg *cm, const struct ipc_cleanup_open *o);
int cleanup_msg_rcpt(struct cleanup_msg *cm, const struct ipc_cleanup_rcpt *r);
int cleanup_msg_data(struct cleanup_msg *cm, const void *p, size_t n);
int cleanup_msg_end(struct cleanup_msg *cm);
/* cleanup_action.c: smtpd's HOLD, REDIRECT or BCC for the open message. */
int cleanup_msg_action(struct cleanup_msg *cm, const struct ipc_cleanup_action *a);
void cleanup_msg_abort(struct cleanup_msg *cm);
int cleanup_msg_busy(const struct cleanup_msg *cm);

/* cleanup_addr.c: why an envelope address must not be queued, or NULL. */
const char *cleanup_addr_bad(const char *addr, uint32_t flags);

/* cleanup_hdr.c: the header section. */
void cleanup_hdr_begin(struct cleanup_msg *cm);
int cleanup_hdr_data(struct cleanup_msg *cm, const char *p, size_t n, size_t *used);
void cleanup_hdr_finish(struct cleanup_msg *cm);
void cleanup_hdr_truncated(struct cleanup_msg *cm, struct buf *h);
void cleanup_fail(struct cleanup_msg *cm, uint32_t code, const char *reason);
void cleanup_put(struct cleanup_msg *cm, const void *p, size_t n);
void cleanup_out(struct cleanup_msg *cm, const char *p, size_t n);
void cleanup_flush(struct cleanup_msg *cm);
void cleanup_mime_data(struct cleanup_msg *cm, const char *p, size_t n);

/* cleanup_body.c: the content after the headers. */
void cleanup_body_begin(struct cleanup_msg *cm);
void cleanup_body_first(struct cleanup_msg *cm, const char *p, size_t n);
void cleanup_body_data(struct cleanup_msg *cm, const char *p, size_t n);
void cleanup_body_finish(struct cleanup_msg *cm);

#endif
