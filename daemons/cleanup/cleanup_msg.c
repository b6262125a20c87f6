/*
 * cleanup_msg.c - the envelope half of the cleanup core: open a queue file,
 * record sender, attributes and recipients, stream the content through the
 * MIME checks (cleanup_mime.c) and the header scanner (cleanup_hdr.c) and
 * commit (see cleanup_msg.h). When the queue file system is short of
 * space, the files kept in spare/ go before a message is refused.
 *
 * Called by cleanup.c for each message on a client channel, and by the unit
 * tests on a temporary queue tree.
 *
 * SECURITY: every field comes from smtpd or bounce, which may be
 * compromised: strings that end up in headers are cleaned of control
 * characters, notify masks are normalised, and no input can make a buffer
 * grow past its cap (header_size_limit per header, message_size_limit for
 * the message, which is never held in memory). A message that breaks a limit
 * is refused with an SMTP code; a message out of protocol order makes the
 * caller drop the channel. Nothing is left in incoming/ unless committed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/time.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "queue/qspare.h"

#define CM_FIELD_MAX	1024	/* envelope strings we keep (IPC caps them lower) */

void cleanup_msg_init(struct cleanup_msg *cm, const struct cleanup_cfg *cfg)
{
	memset(cm, 0, sizeof(*cm));
	cm->cfg = cfg;
	buf_init(&cm->helo, CM_FIELD_MAX);
	buf_init(&cm->client_name, CM_FIELD_MAX);
	buf_init(&cm->client_addr, CM_FIELD_MAX);
	buf_init(&cm->protocol, CM_FIELD_MAX);
	buf_init(&cm->tls, CM_FIELD_MAX);
	buf_init(&cm->sender, CM_FIELD_MAX);
	buf_init(&cm->rcpt1, CM_FIELD_MAX);
	/* Room for the CRLF that ends a truncated header. */
	buf_init(&cm->hdr, cfg->header_size_limit + 2);
	buf_init(&cm->out, 0);
	buf_init(&cm->msgid, 998);
	buf_init(&cm->reason, 600);
	buf_init(&cm->chk_key, 0);	/* bounded by the header or line it is made of */
	buf_init(&cm->chk_out, 0);
	buf_init(&cm->redirect, 1024);
	buf_init(&cm->bcc, 64 * 1024);
	buf_init(&cm->body.line, cfg->mime.line_limit + 2);
	buf_init(&cm->body.hdr, cfg->header_size_limit + 2);
	cleanup_virtual_seen_init(&cm->rcpt_seen);
	cleanup_mime_init(&cm->mime, &cfg->mime);
	cleanup_rw_init(&cm->rw);
}

void cleanup_msg_free(struct cleanup_msg *cm)
{
	cleanup_msg_abort(cm);
	buf_free(&cm->helo);
	buf_free(&cm->client_name);
	buf_free(&cm->client_addr);
	buf_free(&cm->protocol);
	buf_free(&cm->tls);
	buf_free(&cm->sender);
	buf_free(&cm->rcpt1);
	buf_free(&cm->hdr);
	buf_free(&cm->out);
	buf_free(&cm->msgid);
	buf_free(&cm->reason);
	buf_free(&cm->chk_key);
	buf_free(&cm->chk_out);
	buf_free(&cm->redirect);
	buf_free(&cm->bcc);
	buf_free(&cm->body.line);
	buf_free(&cm->body.hdr);
	cleanup_virtual_seen_free(&cm->rcpt_seen);
	cleanup_mime_free(&cm->mime);
	cleanup_rw_free(&cm->rw);
}

int cleanup_msg_busy(const struct cleanup_msg *cm)
{
	return cm->state != CM_IDLE;
}

/* cleanup_fail - remember the first error; from now on nothing is written. */
void cleanup_fail(struct cleanup_msg *cm, uint32_t code, const char *reason)
{
	if (cm->status != 0)
		return;
	cm->status = code;
	buf_set_str(&cm->reason, reason);
}

/* cleanup_io_fail - a queue file write failed: say why in SMTP terms. */
static void cleanup_io_fail(struct cleanup_msg *cm, int err)
{
	if (err == ENOSPC || err == EDQUOT)
		cleanup_fail(cm, 452, "4.3.1 Insufficient system storage");
	else
		cleanup_fail(cm, 451, "4.3.0 Error: queue file write error");
	if (cm->qid[0])
		msg_warn("%s: queue file write error: %s", cm->qid, strerror(err));
}

/* cleanup_put - content bytes to the queue file, unless the message failed. */
void cleanup_put(struct cleanup_msg *cm, const void *p, size_t n)
{
	if (cm->status != 0 || cm->qf == NULL || n == 0)
		return;
	if (queue_file_put_content(cm->qf, p, n) < 0)
		cleanup_io_fail(cm, errno);
}

/* cleanup_clean - s into out with control characters replaced: it goes into headers. */
static void cleanup_clean(struct buf *out, const char *s)
{
	buf_reset(out);
	for (; *s; s++)
		if (buf_putc(out, (unsigned char)*s < 32 || *s == 127 ? '?' : *s) < 0)
			break;
}

/* cleanup_is_local - does Postfix's default local_header_rewrite_clients
 * (permit_inet_interfaces) match? Approximated as: a loopback client, a
 * local submission, or a DSN of our own. */
static int cleanup_is_local(const struct ipc_cleanup_open *o)
{
	return (o->flags & CLEANUP_F_BOUNCE) || strcmp(o->protocol, "local") == 0
	       || strncmp(o->client_addr, "127.", 4) == 0 || strcmp(o->client_addr, "::1") == 0;
}

/* cleanup_space_left - is there room for this message and the reserve? */
static int cleanup_space_left(const struct cleanup_msg *cm, uint64_t size_hint)
{
	struct statfs sf;
	uint64_t avail;

	if (cm->cfg->statfd < 0 || fstatfs(cm->cfg->statfd, &sf) < 0)
		return 1;	/* cannot tell: let the writes find out */
	avail = (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize;
	return avail >= cm->cfg->queue_minfree && avail - cm->cfg->queue_minfree >= size_hint;
}

/*
 * cleanup_space_ok - room, counting what spare/ holds as free: files kept
 * for reuse must never be why mail is refused (seen: 196 spare files kept
 * every message at 452, across restarts), so they go before a 452 does.
 */
static int cleanup_space_ok(struct cleanup_msg *cm, uint64_t size_hint)
{
	uint64_t bytes;
	int n;

	if (cleanup_space_left(cm, size_hint))
		return 1;
	if ((n = queue_spare_purge(cm->cfg->qdirfd, &bytes)) <= 0)
		return 0;
	msg_warn("queue file system short of space: removed %d spare files (%llu bytes)", n,
		 (unsigned long long)bytes);
	return cleanup_space_left(cm, size_hint);
}

/* cleanup_put_warn - when the delay warning is due, fixed width: qmgr zeros it in place. */
static int cleanup_put_warn(struct cleanup_msg *cm)
{
	char when[32];

	if (cm->cfg->delay_warning_time <= 0)
		return 0;
	snprintf(when, sizeof(when), "%015lld",
		 (long long)cm->arrival.tv_sec + (long long)cm->cfg->delay_warning_time);
	return queue_file_put_attr(cm->qf, "warn_time", when);
}

static int cleanup_put_attrs(struct cleanup_msg *cm, const struct ipc_cleanup_open *o)
{
	char port[16];
	struct queue_file *qf = cm->qf;

	snprintf(port, sizeof(port), "%u", o->client_port);
	if (queue_file_put_attr(qf, "client_name", o->client_name) < 0
	    || queue_file_put_attr(qf, "client_addr", o->client_addr) < 0
	    || queue_file_put_attr(qf, "client_port", port) < 0
	    || queue_file_put_attr(qf, "helo", o->helo) < 0
	    || queue_file_put_attr(qf, "protocol", o->protocol) < 0)
		return -1;
	if (*o->sasl_user && queue_file_put_attr(qf, "sasl_user", o->sasl_user) < 0)
		return -1;
	if (*o->envid && queue_file_put_attr(qf, "envid", o->envid) < 0)
		return -1;
	if ((o->ret == DSN_RET_FULL || o->ret == DSN_RET_HDRS)
	    && queue_file_put_attr(qf, "ret", o->ret == DSN_RET_FULL ? "FULL" : "HDRS") < 0)
		return -1;
	if ((o->body_type == BODY_7BIT || o->body_type == BODY_8BITMIME)
	    && queue_file_put_attr(qf, "body", o->body_type == BODY_7BIT ? "7BIT" : "8BITMIME") < 0)
		return -1;
	if ((o->flags & CLEANUP_F_SMTPUTF8) && queue_file_put_attr(qf, "smtputf8", "1") < 0)
		return -1;
	if ((o->flags & CLEANUP_F_BOUNCE)
	    && queue_file_put_attr(qf, "bounce", (o->flags & CLEANUP_F_NOTICE) ? "2" : "1") < 0)
		return -1;
	return cleanup_put_warn(cm);
}

/* cleanup_reset - forget the last message (keep the allocations). */
static void cleanup_reset(struct cleanup_msg *cm)
{
	cm->state = CM_IDLE;
	cm->qf = NULL;
	cm->qid[0] = 0;
	cm->flags = 0;
	cm->nrcpt = 0;
	cm->size = 0;
	cm->status = 0;
	cm->violation = NULL;
	cm->check = 0;
	buf_reset(&cm->redirect);
	buf_reset(&cm->bcc);
	cleanup_virtual_seen_reset(&cm->rcpt_seen);
	buf_reset(&cm->reason);
	buf_reset(&cm->rcpt1);
	buf_reset(&cm->hdr);
	buf_reset(&cm->out);
	buf_reset(&cm->msgid);
	cleanup_rw_reset(&cm->rw);
}

/*
 * cleanup_mime_begin - check this message's MIME structure, unless MIME
 * processing is off or bounce made it (its own notices quote the original,
 * which may break the rules it reports on). SMTPUTF8 allows 8-bit headers.
 */
static void cleanup_mime_begin(struct cleanup_msg *cm)
{
	unsigned report = cm->cfg->mime.report;

	cm->mime_on = !cm->cfg->mime_disabled && !(cm->flags & CLEANUP_F_BOUNCE);
	if (cm->flags & CLEANUP_F_SMTPUTF8)
		report &= ~CLEANUP_MIME_ERR_8BIT_HEADER;
	if (cm->mime_on)
		cleanup_mime_reset(&cm->mime, report);
}

/* cleanup_mime_data - content bytes through the MIME checks; a break refuses the message. */
void cleanup_mime_data(struct cleanup_msg *cm, const char *p, size_t n)
{
	struct buf why = BUF_INIT;
	unsigned err;

	if (!cm->mime_on)
		return;
	cleanup_mime_feed(&cm->mime, p, n);
	if ((err = cleanup_mime_error(&cm->mime)) == 0)
		return;
	cm->mime_on = 0;
	msg_info("%s: reject: mime-error %s: %s from %s[%s]; from=<%s> to=<%s>", cm->qid,
		 cleanup_mime_error_text(err), buf_str(&cm->mime.excerpt), buf_str(&cm->client_name),
		 buf_str(&cm->client_addr), buf_str(&cm->sender), buf_str(&cm->rcpt1));
	buf_printf(&why, "5.6.0 Error: %s", cleanup_mime_error_text(err));
	cleanup_fail(cm, 550, buf_str(&why));
	buf_free(&why);
}

int cleanup_msg_open(struct cleanup_msg *cm, const struct ipc_cleanup_open *o)
{
	if (cm->state != CM_IDLE)
		return -1;
	cleanup_reset(cm);
	if (*o->sender && (cm->violation = cleanup_addr_bad(o->sender, o->flags)) != NULL)
		return -1;
	if (!cleanup_space_ok(cm, o->size_hint)) {
		cleanup_fail(cm, 452, "4.3.1 Insufficient system storage");
		msg_warn("not enough free space in the queue file system for a new message");
		return 0;
	}
	if (queue_file_create(cm->cfg->qdirfd, QUEUE_INCOMING, &cm->qf) < 0) {
		cm->qf = NULL;
		cleanup_io_fail(cm, errno);
		return 0;
	}
	snprintf(cm->qid, sizeof(cm->qid), "%s", queue_file_id(cm->qf));
	gettimeofday(&cm->arrival, NULL);
	cm->flags = o->flags;
	cm->local = cm->cfg->always_add || cleanup_is_local(o);
	cleanup_mime_begin(cm);
	cleanup_clean(&cm->helo, o->helo);
	cleanup_clean(&cm->client_name, *o->client_name ? o->client_name : "unknown");
	cleanup_clean(&cm->client_addr, o->client_addr);
	cleanup_clean(&cm->protocol, *o->protocol ? o->protocol : "SMTP");
	cleanup_clean(&cm->tls, o->tls ? o->tls : "");
	cleanup_clean(&cm->sender, o->sender);
	cm->rw.hdr_rewrite = cleanup_is_local(o);
	if (cleanup_canon_addr(cm, CANON_ENV_FROM, &cm->sender) < 0
	    || queue_file_put_time(cm->qf, &cm->arrival) < 0
	    || queue_file_put_sender(cm->qf, buf_str(&cm->sender)) < 0 || cleanup_put_attrs(cm, o) < 0) {
		if (cm->status == 0)	/* else the rewriting failed, and said why */
			cleanup_io_fail(cm, errno);
		queue_file_abort(cm->qf);
		cm->qf = NULL;
		cm->qid[0] = 0;
		return 0;
	}
	cm->state = CM_ENVELOPE;
	return 0;
}

/* cleanup_notify - DSN_NOTIFY_* (IPC) to QUEUE_NOTIFY_* (queue file). */
static unsigned cleanup_notify(uint32_t n)
{
	unsigned q = 0;

	if (n & DSN_NOTIFY_NEVER)
		return QUEUE_NOTIFY_NEVER;	/* NEVER excludes the others */
	if (n & DSN_NOTIFY_SUCCESS)
		q |= QUEUE_NOTIFY_SUCCESS;
	if (n & DSN_NOTIFY_FAILURE)
		q |= QUEUE_NOTIFY_FAILURE;
	if (n & DSN_NOTIFY_DELAY)
		q |= QUEUE_NOTIFY_DELAY;
	return q;
}

int cleanup_msg_rcpt(struct cleanup_msg *cm, const struct ipc_cleanup_rcpt *r)
{
	if (cm->state == CM_IDLE && cm->status != 0)
		return 0;	/* the open failed; the client may still go on */
	if (cm->state != CM_ENVELOPE)
		return -1;
	if (*r->addr == 0) {
		cleanup_fail(cm, 554, "5.1.3 Error: empty recipient address");
		return 0;
	}
	if ((cm->violation = cleanup_addr_bad(r->addr, cm->flags)) != NULL) {
		if (!(cm->flags & CLEANUP_F_BOUNCE))
			return -1;
		cleanup_fail(cm, 554, "5.1.3 Error: bad recipient address");
		cm->violation = NULL;
		return 0;
	}
	buf_set_str(&cm->rw.addr, r->addr);
	(void)cleanup_canon_addr(cm, CANON_ENV_RCPT, &cm->rw.addr);	/* a failure is in status */
	if (cm->status == 0
	    && cleanup_virtual_rcpt(cm, buf_str(&cm->rw.addr), r->addr, r->orcpt,
				    cleanup_notify(r->notify)) < 0)
		cleanup_io_fail(cm, errno);
	cleanup_bcc_rcpt(cm, buf_str(&cm->rw.addr));
	if (cm->nrcpt++ == 0)
		cleanup_clean(&cm->rcpt1, r->addr);
	return 0;
}

/* cleanup_begin - the first content byte is near: start the content section. */
static void cleanup_begin(struct cleanup_msg *cm)
{
	cleanup_bcc_envelope_end(cm);
	if (cm->status == 0 && queue_file_begin_content(cm->qf) < 0)
		cleanup_io_fail(cm, errno);
	cm->state = CM_HEADERS;
	cleanup_hdr_begin(cm);
}

int cleanup_msg_data(struct cleanup_msg *cm, const void *p, size_t n)
{
	const char *s = p;
	size_t used = 0;

	if (cm->state == CM_IDLE && cm->status != 0)
		return 0;
	if (cm->state == CM_ENVELOPE)
		cleanup_begin(cm);
	if (cm->state != CM_HEADERS && cm->state != CM_BODY)
		return -1;
	cm->size += n;
	if (cm->cfg->message_size_limit && cm->size > cm->cfg->message_size_limit)
		cleanup_fail(cm, 552, "5.3.4 Message size exceeds fixed limit");
	if (cm->status != 0)
		return 0;	/* keep reading until END, write nothing */
	if (cm->state == CM_HEADERS) {
		/* the MIME scanner sees the header bytes, then the body's as they are taken */
		if (cleanup_hdr_data(cm, s, n, &used) == 0) {
			cleanup_mime_data(cm, s, n);
			return 0;
		}
		cleanup_mime_data(cm, s, used);
	}
	if (cm->status == 0)
		cleanup_body_data(cm, s + used, n - used);
	return 0;
}

/*
 * cleanup_checked_end - what the content checks decided for the whole
 * message: REDIRECT and BCC go after the content (the recipients are
 * written already), HOLD moves the file into hold/ before it is complete.
 * BCC copies ask for no DSN: the sender must not learn of them.
 */
static void cleanup_checked_end(struct cleanup_msg *cm)
{
	int r = 0;

	if (cm->check & CM_CHECK_DISCARD)
		return;
	if (cm->redirect.len || cm->bcc.len)
		r = queue_file_begin_extract(cm->qf);
	if (r == 0 && cm->redirect.len)
		r = queue_file_put_attr(cm->qf, "redirect", buf_str(&cm->redirect));
	for (size_t off = 0; r == 0 && off < cm->bcc.len; off += strlen(cm->bcc.data + off) + 1) {
		r = queue_file_put_rcpt(cm->qf, cm->bcc.data + off, "", "", QUEUE_NOTIFY_NEVER);
		cm->nrcpt++;
	}
	if (r == 0 && (cm->check & CM_CHECK_HOLD))
		r = queue_file_hold(cm->qf);
	if (r < 0)
		cleanup_io_fail(cm, errno);
}

int cleanup_msg_end(struct cleanup_msg *cm)
{
	if (cm->state == CM_IDLE && cm->status != 0)
		return 0;	/* open failed: the status says so */
	if (cm->state == CM_ENVELOPE)
		cleanup_begin(cm);
	if (cm->state != CM_HEADERS && cm->state != CM_BODY)
		return -1;
	if (cm->state == CM_HEADERS && cm->status == 0)
		cleanup_hdr_finish(cm);
	if (cm->status == 0)
		cleanup_body_finish(cm);
	if (cm->nrcpt == 0)
		cleanup_fail(cm, 554, "5.5.1 Error: no valid recipients");
	if (cm->hops >= cm->cfg->hopcount_limit)
		cleanup_fail(cm, 554, "5.4.6 Too many hops");
	if (cm->status == 0)
		cleanup_checked_end(cm);
	if (cm->status != 0 || (cm->check & CM_CHECK_DISCARD)) {
		queue_file_abort(cm->qf);
	} else if (queue_file_commit(cm->qf) < 0) {
		int err = errno;

		cm->qf = NULL;
		cleanup_io_fail(cm, err);
	}
	cm->qf = NULL;
	cm->state = CM_IDLE;
	return 0;
}

void cleanup_msg_abort(struct cleanup_msg *cm)
{
	if (cm->qf)
		queue_file_abort(cm->qf);
	cleanup_reset(cm);
}
