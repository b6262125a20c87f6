/*
 * bounce_dsn.c - one bounce request: read the original queue file and the
 * per-recipient log, build the RFC 3464 report (mail/dsn_report.c), and
 * submit it to cleanup like any message (null sender, CLEANUP_F_BOUNCE).
 *
 * Called by bounce.c for each MSG_BOUNCE_REQUEST from qmgr.
 *
 * SECURITY: the queue file, the log and everything in them came from remote
 * peers: they are parsed by the strict queue readers, and only
 * bounce_size_limit bytes of the original are ever held in memory. A notice
 * is never sent for a message whose sender is the null address (that would
 * bounce a bounce); at most the postmaster gets one when notify_classes asks
 * for 2bounce, itself sent from the null sender. notify_classes bounce and
 * delay send the postmaster a copy (headers only) of each failure notice and
 * delay warning; a postmaster notice that fails is dropped, never noticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daemons/bounce/bounce.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "mail/dsn_report.h"
#include "mail/statuslog.h"
#include "queue/qcontent.h"
#include "queue/qenv.h"
#include "queue/qfile.h"

struct bounce_list {
	int kind;
	struct dsn_rcpt *r;
	size_t n;
	struct buf strings;	/* NUL-separated copies; r[] holds offsets until done */
};

static size_t bounce_keep(struct bounce_list *l, const char *s)
{
	size_t off = l->strings.len;

	buf_append(&l->strings, s ? s : "", strlen(s ? s : "") + 1);
	return off;
}

/* bounce_collect - statuslog callback: keep the entries that want a report. */
static int bounce_collect(const struct statuslog_entry *e, void *ctx)
{
	struct bounce_list *l = ctx;
	struct dsn_rcpt *r;

	if (!dsn_report_wants(l->kind, e->notify))
		return 0;
	l->r = xreallocarray(l->r, l->n + 1, sizeof(*l->r));
	r = &l->r[l->n++];
	/* Offsets for now: the strings buffer may move while it grows. */
	r->addr = (const char *)(uintptr_t)bounce_keep(l, e->rcpt);
	r->orcpt = (const char *)(uintptr_t)bounce_keep(l, e->orcpt);
	r->status = (const char *)(uintptr_t)bounce_keep(l, e->dsn);
	r->reason = (const char *)(uintptr_t)bounce_keep(l, e->reason);
	r->relay = (const char *)(uintptr_t)bounce_keep(l, e->relay);
	return 0;
}

static void bounce_list_fix(struct bounce_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct dsn_rcpt *r = &l->r[i];

		r->addr = l->strings.data + (uintptr_t)r->addr;
		r->orcpt = l->strings.data + (uintptr_t)r->orcpt;
		r->status = l->strings.data + (uintptr_t)r->status;
		r->reason = l->strings.data + (uintptr_t)r->reason;
		r->relay = l->strings.data + (uintptr_t)r->relay;
	}
}

static const char *bounce_attr(const struct queue_env *env, const char *name)
{
	for (size_t i = 0; i < env->nattrs; i++)
		if (strcmp(env->attrs[i].name, name) == 0)
			return env->attrs[i].value;
	return "";
}

static int bounce_queue(const char *name, enum queue_name *q)
{
	static const enum queue_name ok[] = { QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_INCOMING, QUEUE_HOLD };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(name, queue_dir_name(ok[i])) == 0)
			return *q = ok[i], 0;
	return -1;
}

/* bounce_content - the first size_limit + 1 bytes of the original. */
static int bounce_content(int fd, const struct queue_env *env, size_t limit, struct buf *out)
{
	struct queue_content qc;
	size_t want = env->content_length < limit + 1 ? (size_t)env->content_length : limit + 1;
	ssize_t n;

	if (buf_reserve(out, want) < 0)
		return -1;
	queue_content_init(&qc, fd, env);
	while (out->len < want && (n = queue_content_read(&qc, out->data + out->len, want - out->len)) > 0)
		out->len += (size_t)n;
	out->data[out->len] = 0;
	return out->len == want ? 0 : -1;
}

/* bounce_wait - the next message from cleanup, within the time limit. */
static int bounce_wait(struct bounce_srv *bs, struct ipc_msg *m, enum ipc_type want)
{
	if (iox_poll_read(bs->cleanup.fd, bs->cfg.timeout_ms) <= 0
	    || ipc_chan_recv(&bs->cleanup, m) != IPC_RECV_MSG || m->type != want)
		return -1;
	return 0;
}

/* bounce_submit - the report to cleanup; 0 and its queue id, or -1. */
static int bounce_submit(struct bounce_srv *bs, const char *to, uint32_t flags,
			 const struct buf *text, struct buf *dsn_qid, struct buf *why)
{
	struct ipc_cleanup_open o = {
		.flags = flags, .client_name = "localhost", .client_addr = "127.0.0.1",
		.helo = "localhost", .protocol = "local", .sasl_user = "", .sender = "",
		.envid = "", .ret = 0, .body_type = 0, .size_hint = text->len,
	};
	struct ipc_cleanup_rcpt r = { .addr = to, .orcpt = "", .notify = 0 };
	struct ipc_cleanup_end e = { .flags = 0 };
	struct ipc_msg m;
	int rc = -1;

	if (bs->cleanup.fd < 0) {
		pid_t pid = 0;
		int fd = stage_request_peer(bs->st, "cleanup", &pid);

		if (fd < 0)
			return buf_printf(why, "cleanup unreachable"), -1;
		ipc_chan_init(&bs->cleanup, fd, IPC_CHAN_CLEANUP, IPC_SIDE_A, "cleanup", pid);
	}
	ipc_msg_init(&m);
	if (ipc_chan_send(&bs->cleanup, MSG_CLEANUP_OPEN, &o) < 0
	    || bounce_wait(bs, &m, MSG_CLEANUP_OPENED) < 0)
		goto broken;
	if (m.u.cleanup_opened.status != 0) {
		buf_printf(why, "cleanup: %u %s", m.u.cleanup_opened.status, m.u.cleanup_opened.reason);
		goto out;
	}
	if (ipc_chan_send(&bs->cleanup, MSG_CLEANUP_RCPT, &r) < 0)
		goto broken;
	for (size_t off = 0; off < text->len; off += 32768) {
		struct ipc_cleanup_data d = {
			.data = (const unsigned char *)text->data + off,
			.data_len = (uint32_t)(text->len - off < 32768 ? text->len - off : 32768),
		};

		if (ipc_chan_send(&bs->cleanup, MSG_CLEANUP_DATA, &d) < 0)
			goto broken;
	}
	if (ipc_chan_send(&bs->cleanup, MSG_CLEANUP_END, &e) < 0
	    || bounce_wait(bs, &m, MSG_CLEANUP_DONE) < 0)
		goto broken;
	if (m.u.cleanup_done.status != 0) {
		buf_printf(why, "cleanup: %u %s", m.u.cleanup_done.status, m.u.cleanup_done.reason);
		goto out;
	}
	buf_set_str(dsn_qid, m.u.cleanup_done.queue_id);
	rc = 0;
	goto out;
broken:
	buf_printf(why, "cleanup channel: %s", buf_str(&bs->cleanup.why)[0]
		   ? buf_str(&bs->cleanup.why) : "no answer");
	ipc_chan_close(&bs->cleanup);
	bs->cleanup.fd = -1;
out:
	ipc_msg_free(&m);
	return rc;
}

/* bounce_notice_to - a notice recipient parameter, qualified with myorigin. */
static const char *bounce_notice_to(struct bounce_srv *bs, const char *rcpt, struct buf *tmp)
{
	buf_set_str(tmp, rcpt);
	if (strchr(rcpt, '@') == NULL)
		buf_printf(tmp, "@%s", bs->cfg.myorigin);
	return buf_str(tmp);
}

/*
 * bounce_recipient - who gets the notice itself; NULL: nobody (logged). A
 * message from the null sender or made by bounce gets none: the postmaster
 * gets a failed one (2bounce), except a failed postmaster notice, which
 * would loop.
 */
static const char *bounce_recipient(struct bounce_srv *bs, const struct queue_env *env,
				    const char *qid, int kind, struct buf *tmp)
{
	const char *made = bounce_attr(env, "bounce");

	if (*env->sender && *made == 0)
		return env->sender;
	if (kind == DSN_REPORT_DELAYED)
		return NULL;	/* a late notice is no news; the postmaster may get a copy */
	if (!bs->cfg.notify_2bounce || strcmp(made, "2") == 0) {
		msg_info("%s: undeliverable postmaster notification discarded", qid);
		return NULL;
	}
	return bounce_notice_to(bs, bs->cfg.twobounce_rcpt, tmp);
}

/* bounce_copy_recipient - the postmaster's copy (notify_classes bounce, delay); NULL: none. */
static const char *bounce_copy_recipient(struct bounce_srv *bs, const struct queue_env *env,
					 int kind, struct buf *tmp)
{
	if (strcmp(bounce_attr(env, "bounce"), "2") == 0)
		return NULL;	/* never a notice about a notice */
	if (kind == DSN_REPORT_DELAYED)
		return bs->cfg.notify_delay ? bounce_notice_to(bs, bs->cfg.delay_rcpt, tmp) : NULL;
	return bs->cfg.notify_bounce ? bounce_notice_to(bs, bs->cfg.bounce_rcpt, tmp) : NULL;
}

struct bounce_job {
	const struct ipc_bounce_request *req;
	const struct queue_env *env;
	const struct bounce_list *l;
	const struct buf *content;
};

/* bounce_one - build and submit one report to `to`; copy: the postmaster's, headers only. */
static int bounce_one(struct bounce_srv *bs, const struct bounce_job *job, const char *to,
		      int copy, struct buf *dsn_qid, struct buf *why)
{
	const struct queue_env *env = job->env;
	struct buf text = BUF_INIT;
	struct dsn_report r = {
		.kind = job->l->kind, .myhostname = bs->cfg.myhostname,
		.queue_id = job->req->queue_id, .sender = env->sender, .to = to,
		.envid = bounce_attr(env, "envid"), .arrival = env->arrival.tv_sec, .now = time(NULL),
		/* Postfix: warnings and postmaster copies carry the headers only */
		.ret_hdrs = copy || job->l->kind == DSN_REPORT_DELAYED
			    || strcmp(bounce_attr(env, "ret"), "HDRS") == 0,
		.postmaster = copy,
		.eightbit = strcmp(bounce_attr(env, "body"), "8BITMIME") == 0
			    || strcmp(bounce_attr(env, "smtputf8"), "1") == 0,
		.rcpts = job->l->r, .nrcpts = job->l->n, .content = buf_str(job->content),
		.content_len = job->content->len, .content_total = env->content_length,
		.size_limit = bs->cfg.size_limit,
	};
	uint32_t flags = CLEANUP_F_BOUNCE | (to != env->sender ? CLEANUP_F_NOTICE : 0);
	int rc;

	dsn_report_build(&text, &r);
	buf_reset(dsn_qid);
	if ((rc = bounce_submit(bs, to, flags, &text, dsn_qid, why)) == 0)
		msg_info("%s: %s %s notification: %s", job->req->queue_id,
			 to == env->sender ? "sender" : "postmaster",
			 job->l->kind == DSN_REPORT_DELAYED ? "delay" : "non-delivery", buf_str(dsn_qid));
	buf_free(&text);
	return rc;
}

/*
 * bounce_make - the notice, then the postmaster's copy. Only the notice
 * decides the answer: a copy that fails is logged, never retried (a retry
 * would send the notice twice).
 */
static int bounce_make(struct bounce_srv *bs, const struct ipc_bounce_request *req, int fd,
		       struct queue_env *env, struct bounce_list *l, struct buf *dsn_qid,
		       struct buf *why)
{
	struct buf to = BUF_INIT, cto = BUF_INIT, content = BUF_INIT, cqid = BUF_INIT, cwhy = BUF_INIT;
	const char *rcpt = bounce_recipient(bs, env, req->queue_id, l->kind, &to);
	const char *copy = bounce_copy_recipient(bs, env, l->kind, &cto);
	struct bounce_job job = { req, env, l, &content };
	int rc = 0;

	if (rcpt != NULL && rcpt != env->sender)
		copy = NULL;	/* the notice already goes to the postmaster (2bounce) */
	if (rcpt == NULL && copy == NULL)
		goto out;
	if (bounce_content(fd, env, bs->cfg.size_limit, &content) < 0) {
		buf_printf(why, "%s: cannot read the message content", req->queue_id);
		rc = -1;
		goto out;
	}
	if (rcpt != NULL && (rc = bounce_one(bs, &job, rcpt, 0, dsn_qid, why)) < 0)
		goto out;
	if (copy != NULL && bounce_one(bs, &job, copy, 1, &cqid, &cwhy) < 0)
		msg_warn("%s: postmaster copy not sent: %s", req->queue_id, buf_str(&cwhy));
out:
	buf_free(&to);
	buf_free(&cto);
	buf_free(&content);
	buf_free(&cqid);
	buf_free(&cwhy);
	return rc;
}

int bounce_dsn_send(struct bounce_srv *bs, const struct ipc_bounce_request *req,
		    struct buf *dsn_qid, struct buf *why)
{
	struct bounce_list l = { .kind = req->kind == BOUNCE_DELAYED ? DSN_REPORT_DELAYED
						  : DSN_REPORT_FAILED };
	struct queue_env env;
	enum queue_name q;
	int fd = -1, rc = -1;

	memset(&env, 0, sizeof(env));
	buf_init(&l.strings, 0);
	if (!queue_id_ok(req->queue_id) || bounce_queue(req->queue_name, &q) < 0
	    || (req->kind != BOUNCE_FAILED && req->kind != BOUNCE_DELAYED)) {
		buf_printf(why, "bad request");
		goto out;
	}
	if ((fd = queue_file_open(AT_FDCWD, q, req->queue_id, O_RDONLY)) < 0) {
		buf_printf(why, "%s/%s: %s", req->queue_name, req->queue_id, strerror(errno));
		goto out;
	}
	if (queue_env_read(fd, 0, &env) != QUEUE_ENV_OK) {
		buf_printf(why, "%s: %s", req->queue_id, buf_str(&env.why));
		goto out;
	}
	if (statuslog_read(AT_FDCWD, req->kind == BOUNCE_DELAYED ? QUEUE_DEFER : QUEUE_BOUNCE,
			   req->queue_id, bounce_collect, &l, why) < 0)
		goto out;
	bounce_list_fix(&l);
	rc = l.n == 0 ? 0 : bounce_make(bs, req, fd, &env, &l, dsn_qid, why);
out:
	if (fd >= 0)
		close(fd);
	queue_env_free(&env);
	xfree(l.r);
	buf_free(&l.strings);
	return rc;
}
