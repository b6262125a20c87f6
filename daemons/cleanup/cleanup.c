/*
 * cleanup.c - the cleanup stage: takes messages from smtpd and bounce over
 * IPC, writes each into incoming/ with the durability rule, answers, then
 * tells qmgr.
 *
 * Channels: clients (smtpd, bounce) arrive through ops.peer_accept, one per
 * process as the broker hands them out (so fsyncs of different clients run
 * in parallel processes), but the event loop serves any number. Per client
 * one message at a time: OPEN -> OPENED, RCPT*, DATA*, END -> DONE (or
 * ABORT, or EOF: the file is removed). The core is cleanup_msg.c and
 * cleanup_hdr.c (headers), cleanup_body.c (the rest), cleanup_mime.c (MIME
 * structure) and cleanup_check.c (content checks); address rewriting and
 * BCC are cleanup_canon*.c, cleanup_masq.c, cleanup_bcc.c (cleanup_canon.h)
 * and cleanup_virtual.c. After DONE
 * with status 0, MSG_QMGR_NEW goes to qmgr over a channel asked for once;
 * if qmgr is away the file waits in incoming/ for its start-up scan, and
 * the message never fails for that. qmgr's answers name spare files and
 * are the tokens of in_flow_delay (cleanup_flow_wait).
 *
 * SECURITY: runs as mail_owner, chrooted in the queue directory, in an empty
 * network namespace, no capabilities; Landlock lets it create and write
 * files in incoming/ only. It trusts no message content and no envelope
 * field from its clients: a client that breaks the message order or the
 * channel allowlist is cut off and reported to the broker as compromised.
 * It must never answer 250 (DONE status 0) before queue_file_commit
 * returned 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "lib/event.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "queue/qspare.h"
#include "skeleton/stage.h"
#include "skeleton/stage_lookup.h"
#include "skeleton/stage_peer.h"

#define CLEANUP_QMGR_RETRY	5	/* seconds between channel requests to an absent qmgr */

struct cleanup_srv {
	struct stage *st;
	struct event_loop *loop;
	struct cleanup_cfg cfg;
	int nclients;
	int leaving;			/* max_use or max_idle: exit once no client is left */
	uint32_t uses;
	int64_t max_use;
	int64_t max_idle;
	uint64_t idle_timer;
	struct ipc_chan qmgr;
	struct ipc_msg qmsg;	/* hints read from qmgr */
	time_t qmgr_retry;
	/* in_flow_delay (see cleanup_flow_wait) */
	int64_t flow_delay_ms;
	unsigned unanswered;	/* notices qmgr has not answered since its last answer */
	struct cleanup_peer *waiting;	/* clients whose OPENED waits for a token */
	struct lookup_client lookup;	/* content checks', rewriting's and virtual_alias_maps' tables */
};

struct cleanup_peer {
	struct cleanup_srv *cs;
	struct ipc_chan *ch;		/* the channel, kept by skeleton/stage_peer.c */
	struct stage_peer *sp;
	struct cleanup_msg cm;
	struct cleanup_peer *next_waiting;
	uint64_t flow_timer;		/* set while this client waits */
};

static struct cleanup_srv cleanup_srv_state;

static void cleanup_idle_expired(void *ctx)
{
	struct cleanup_srv *cs = ctx;

	cs->idle_timer = 0;
	if (cs->nclients == 0) {
		msg_debug("idle for %lld s: exiting", (long long)cs->max_idle);
		cs->leaving = 1;
	}
}

/* cleanup_clients - the number of clients changed: tell the broker, arm the idle timer. */
static void cleanup_clients(struct cleanup_srv *cs, int delta)
{
	cs->nclients += delta;
	stage_status(cs->st, cs->nclients, cs->uses);
	if (cs->idle_timer) {
		event_timer_cancel(cs->loop, cs->idle_timer);
		cs->idle_timer = 0;
	}
	if (cs->nclients == 0) {
		if (cs->uses >= (uint64_t)cs->max_use)
			cs->leaving = 1;
		else
			cs->idle_timer = event_timer_add(cs->loop, cs->max_idle * 1000,
							 cleanup_idle_expired, cs);
	}
}

static void cleanup_qmgr_readable(int fd, unsigned events, void *ctx);
static void cleanup_flow_release(struct cleanup_srv *cs);
static void cleanup_flow_unlink(struct cleanup_peer *p);

/* cleanup_qmgr_close - the qmgr channel is gone; nobody waits for its tokens. */
static void cleanup_qmgr_close(struct cleanup_srv *cs)
{
	event_del(cs->loop, cs->qmgr.fd);
	ipc_chan_close(&cs->qmgr);
	cs->qmgr.fd = -1;
	cs->unanswered = 0;
	cleanup_flow_release(cs);
}

/* cleanup_qmgr_send - tell qmgr about a new file; a failure only delays it. */
static void cleanup_qmgr_new(struct cleanup_srv *cs, const char *qid)
{
	struct ipc_qmgr_new n = { .queue_id = qid };

	for (int attempt = 0; attempt < 2; attempt++) {
		if (cs->qmgr.fd < 0) {
			pid_t pid = 0;
			int fd;

			if (time(NULL) < cs->qmgr_retry)
				return;
			if ((fd = stage_request_peer(cs->st, "qmgr", &pid)) < 0
			    || iox_set_nonblock(fd, 1) < 0) {
				if (fd >= 0)
					close(fd);
				cs->qmgr_retry = time(NULL) + CLEANUP_QMGR_RETRY;
				return;
			}
			ipc_chan_init(&cs->qmgr, fd, IPC_CHAN_QMGR, IPC_SIDE_A, "qmgr", pid);
		}
		if (ipc_chan_send(&cs->qmgr, MSG_QMGR_NEW, &n) == 0) {
			cs->unanswered++;
			return;
		}
		if (errno == EAGAIN) {
			msg_warn("%s: qmgr is not keeping up; it will find the file by its scan", qid);
			return;
		}
		/* qmgr restarted: the old channel is dead; ask for a new one once. */
		cleanup_qmgr_close(cs);
	}
}

/* cleanup_peer_closed - the client is gone: a message in progress is dropped. */
static void cleanup_peer_closed(struct stage_peer *sp)
{
	struct cleanup_peer *p = sp->app;
	struct cleanup_srv *cs = p->cs;

	if (cleanup_msg_busy(&p->cm) && p->cm.qid[0])
		msg_info("%s: lost connection with %s[%ld] before the end of the message",
			 p->cm.qid, sp->ch.peer_stage, (long)sp->ch.peer_pid);
	cleanup_flow_unlink(p);
	cleanup_msg_free(&p->cm);
	xfree(p);
	cleanup_clients(cs, -1);
}

/* cleanup_reply - OPENED or DONE with the message's status. */
static int cleanup_reply(struct cleanup_peer *p, enum ipc_type type)
{
	struct cleanup_msg *cm = &p->cm;
	struct ipc_cleanup_done d = {
		.status = cm->status, .queue_id = cm->qid, .reason = buf_str(&cm->reason),
	};
	struct ipc_cleanup_opened o = {
		.status = cm->status, .queue_id = cm->qid, .reason = buf_str(&cm->reason),
	};

	if (ipc_chan_send(p->ch, type, type == MSG_CLEANUP_DONE ? (void *)&d : (void *)&o) < 0) {
		msg_warn("reply to %s[%ld]: %s", p->ch->peer_stage, (long)p->ch->peer_pid,
			 buf_str(&p->ch->why));
		return -1;
	}
	return 0;
}

/* cleanup_end - commit, answer, then (only then) tell qmgr. */
static int cleanup_end(struct cleanup_peer *p)
{
	struct cleanup_msg *cm = &p->cm;

	if (cleanup_msg_end(cm) < 0)
		return -1;
	if (p->cs->cfg.checks.lc || p->cs->cfg.virt.lc || p->cs->cfg.canon_lc)
		lookup_client_clear(&p->cs->lookup);	/* Postfix's per-message cache */
	if (cm->status != 0 && cm->qid[0] && !(cm->check & CM_CHECK_LOGGED))
		msg_info("%s: reject: %u %s", cm->qid, cm->status, buf_str(&cm->reason));
	if (cleanup_reply(p, MSG_CLEANUP_DONE) < 0)
		return -2;
	/* held mail waits for the administrator; discarded mail is gone */
	if (cm->status == 0 && (cm->check & (CM_CHECK_HOLD | CM_CHECK_DISCARD)))
		p->cs->uses++;
	else if (cm->status == 0) {
		p->cs->uses++;
		cleanup_qmgr_new(p->cs, cm->qid);
	}
	return 0;
}

/*
 * cleanup_qmgr_hints - take qmgr's answers to our notices (reading never
 * waits): each may name a spare file for our next message (queue/qspare.h),
 * and each is a flow token: qmgr answers a notice only while it keeps up
 * (nothing waits in its pending list), so an answer means every earlier
 * notice was taken too. A channel that breaks or breaks the protocol is
 * closed here and asked for again at the next notice.
 */
static int cleanup_qmgr_hint(struct ipc_msg *m, void *ctx)
{
	struct cleanup_srv *cs = ctx;

	queue_spare_hint(m->u.qmgr_spare.queue_id);
	cs->unanswered = 0;
	return 0;
}

static void cleanup_qmgr_hints(struct cleanup_srv *cs)
{
	int r;

	if (cs->qmgr.fd < 0)
		return;
	if ((r = ipc_chan_drain(&cs->qmgr, &cs->qmsg, cleanup_qmgr_hint, cs)) != IPC_RECV_AGAIN) {
		if (r == IPC_RECV_VIOLATION)
			stage_report_violation(cs->st, &cs->qmgr, buf_str(&cs->qmgr.why));
		cleanup_qmgr_close(cs);
	}
	if (cs->unanswered == 0)
		cleanup_flow_release(cs);
}

static void cleanup_qmgr_readable(int fd, unsigned events, void *ctx)
{
	(void)fd;
	(void)events;
	cleanup_qmgr_hints(ctx);
}

/*
 * in_flow_delay, Postfix's inflow control: when qmgr did not take our last
 * messages at once (more of our notices unanswered than we have clients:
 * mail arrives faster than it is delivered), a new message waits for
 * qmgr's next answer, at most in_flow_delay, before cleanup answers
 * OPENED; then it goes on either way. The file is already open; only the
 * client waits, and the event loop serves everyone else.
 */
static void cleanup_flow_unlink(struct cleanup_peer *p)
{
	struct cleanup_srv *cs = p->cs;

	for (struct cleanup_peer **pp = &cs->waiting; *pp; pp = &(*pp)->next_waiting)
		if (*pp == p) {
			*pp = p->next_waiting;
			break;
		}
	if (p->flow_timer)
		event_timer_cancel(cs->loop, p->flow_timer);
	p->flow_timer = 0;
	p->next_waiting = NULL;
	/* qmgr's answers are read at each OPEN; watched only while a client waits */
	if (cs->waiting == NULL && cs->qmgr.fd >= 0)
		event_del(cs->loop, cs->qmgr.fd);
}

static int cleanup_reply(struct cleanup_peer *p, enum ipc_type type);

/* cleanup_flow_go - this client waited enough: its OPENED now. */
static void cleanup_flow_go(struct cleanup_peer *p)
{
	cleanup_flow_unlink(p);
	if (cleanup_reply(p, MSG_CLEANUP_OPENED) < 0)
		stage_peer_end(p->sp, 0);
}

static void cleanup_flow_timeout(void *ctx)
{
	struct cleanup_peer *p = ctx;

	p->flow_timer = 0;
	cleanup_flow_go(p);
}

static void cleanup_flow_release(struct cleanup_srv *cs)
{
	while (cs->waiting)
		cleanup_flow_go(cs->waiting);
}

/* cleanup_flow_wait - 1 if this client's OPENED must wait for a token. */
static int cleanup_flow_wait(struct cleanup_peer *p)
{
	struct cleanup_srv *cs = p->cs;

	/* One answer per client may be on its way: only more than that is a backlog. */
	if (cs->flow_delay_ms <= 0 || cs->unanswered <= (unsigned)cs->nclients || p->cm.status != 0
	    || cs->qmgr.fd < 0)
		return 0;
	if (cs->waiting == NULL
	    && event_add(cs->loop, cs->qmgr.fd, EVENT_READ, cleanup_qmgr_readable, cs) < 0)
		msg_warn("qmgr channel: %m (a waiting client waits the whole in_flow_delay)");
	p->flow_timer = event_timer_add(cs->loop, cs->flow_delay_ms, cleanup_flow_timeout, p);
	p->next_waiting = cs->waiting;
	cs->waiting = p;
	return 1;
}

/*
 * cleanup_dispatch - one client message. A message out of the protocol's
 * order is a violation; a reply that cannot be sent ends the channel quietly.
 */
static int cleanup_dispatch(struct stage_peer *sp, struct ipc_msg *m)
{
	struct cleanup_peer *p = sp->app;
	struct cleanup_msg *cm = &p->cm;
	int r = -1;

	switch (m->type) {
	case MSG_CLEANUP_OPEN:
		cleanup_qmgr_hints(p->cs);
		if ((r = cleanup_msg_open(cm, &m->u.cleanup_open)) == 0 && !cleanup_flow_wait(p))
			r = cleanup_reply(p, MSG_CLEANUP_OPENED) < 0 ? -2 : 0;
		break;
	case MSG_CLEANUP_RCPT:
		r = cleanup_msg_rcpt(cm, &m->u.cleanup_rcpt);
		break;
	case MSG_CLEANUP_DATA:
		r = cleanup_msg_data(cm, m->u.cleanup_data.data, m->u.cleanup_data.data_len);
		break;
	case MSG_CLEANUP_END:
		r = cleanup_end(p);
		break;
	case MSG_CLEANUP_ACTION:
		r = cleanup_msg_action(cm, &m->u.cleanup_action);
		break;
	case MSG_CLEANUP_ABORT:
		cleanup_msg_abort(cm);
		r = 0;
		break;
	default:
		break;	/* the channel allowlist lets nothing else through */
	}
	if (r == -1 && cm->violation) {
		buf_printf(&sp->ch.why, "%s: %s", ipc_type_name(m->type), cm->violation);
		return IPC_RECV_VIOLATION;
	}
	if (r == -1) {
		buf_printf(&sp->ch.why, "%s out of order", ipc_type_name(m->type));
		return IPC_RECV_VIOLATION;
	}
	return r == -2 ? IPC_RECV_ERROR : 0;
}

static const struct stage_peer_ops cleanup_peer_ops = {
	.kind = IPC_CHAN_CLEANUP, .message = cleanup_dispatch, .closed = cleanup_peer_closed,
};

static void cleanup_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct cleanup_peer *p = xcalloc(1, sizeof(*p));
	struct stage_peer *sp;

	p->cs = &cleanup_srv_state;
	cleanup_msg_init(&p->cm, &cleanup_srv_state.cfg);
	cleanup_clients(&cleanup_srv_state, +1);	/* cleanup_peer_closed counts it out */
	sp = stage_peer_accept(st, cleanup_srv_state.loop, &cleanup_peer_ops, peer_stage,
			       peer_pid, fd, p);
	if (sp != NULL) {
		p->ch = &sp->ch;
		p->sp = sp;
	}
}

/* cleanup_mime_configure - Postfix's MIME limits and strict_* checks (cleanup_mime.h). */
static void cleanup_mime_configure(struct cleanup_cfg *cfg, const struct conf *c)
{
	int strict = conf_bool(c, "strict_8bitmime");

	cfg->mime_disabled = conf_bool(c, "disable_mime_input_processing");
	cfg->mime.line_limit = (size_t)conf_int(c, "line_length_limit");
	cfg->mime.boundary_limit = (size_t)conf_int(c, "mime_boundary_length_limit");
	cfg->mime.header_limit = (size_t)conf_size(c, "header_size_limit");
	cfg->mime.nesting_limit = (unsigned)conf_int(c, "mime_nesting_limit");
	cfg->mime.report = CLEANUP_MIME_ERR_NESTING
		| (strict || conf_bool(c, "strict_7bit_headers") ? CLEANUP_MIME_ERR_8BIT_HEADER : 0)
		| (strict || conf_bool(c, "strict_8bitmime_body") ? CLEANUP_MIME_ERR_8BIT_BODY : 0)
		| (conf_bool(c, "strict_mime_encoding_domain") ? CLEANUP_MIME_ERR_DOMAIN : 0);
}

/*
 * cleanup_checks_configure - header_checks(5) tables (header_checks,
 * mime_header_checks, nested_header_checks, body_checks), asked through
 * the lookup stage; body_checks_size_limit.
 */
static void cleanup_checks_configure(struct cleanup_srv *cs, const struct conf *c)
{
	static const char *const param[CHECK_NCLASS] = {
		[CHECK_HEADER] = CONF_NAME("header_checks"),
		[CHECK_MIME] = CONF_NAME("mime_header_checks"),
		[CHECK_NESTED] = CONF_NAME("nested_header_checks"),
		[CHECK_BODY] = CONF_NAME("body_checks"),
	};
	struct cleanup_checks *k = &cs->cfg.checks;
	int any = 0;

	cs->cfg.body_checks_size_limit = conf_size(c, "body_checks_size_limit");
	for (int i = 0; i < CHECK_NCLASS; i++) {
		k->tables[i] = canon_tables_join(conf_list(c, param[i]));
		any |= k->tables[i] != NULL;
	}
	if (!any)
		return;
	k->lc = &cs->lookup;
}

/* cleanup_canon_configure - canonical maps, masquerading, BCC (stagecf/canon.h). */
static void cleanup_canon_configure(struct cleanup_srv *cs, const struct conf *c)
{
	struct buf err = BUF_INIT;

	if (canon_load(&cs->cfg.canon, c, &err) < 0)
		msg_fatal("%s", buf_str(&err));	/* moatd's start-up check said so first */
	buf_free(&err);
	if (canon_any_table(&cs->cfg.canon))
		cs->cfg.canon_lc = &cs->lookup;
}

/* cleanup_pre_jail - settings, and the time zone while /etc/localtime is in reach. */
static void cleanup_pre_jail(struct stage *st)
{
	struct cleanup_srv *cs = &cleanup_srv_state;
	struct cleanup_cfg *cfg = &cs->cfg;

	tzset();
	cs->st = st;
	cfg->qdirfd = AT_FDCWD;
	cfg->statfd = -1;
	cfg->myhostname = conf_str(st->conf, "myhostname");
	cfg->mail_name = conf_str(st->conf, "mail_name");
	cfg->message_size_limit = conf_size(st->conf, "message_size_limit");
	cfg->queue_minfree = conf_size(st->conf, "queue_minfree");
	if (cfg->queue_minfree == 0)
		cfg->queue_minfree = cfg->message_size_limit / 2 * 3;
	cfg->delay_warning_time = conf_time(st->conf, "delay_warning_time");
	cfg->header_size_limit = (size_t)conf_size(st->conf, "header_size_limit");
	cfg->hopcount_limit = (int)conf_int(st->conf, "hopcount_limit");
	cfg->always_add = conf_bool(st->conf, "always_add_missing_headers");
	cfg->drop_headers = conf_list(st->conf, "message_drop_headers");
	cfg->original_recipient = conf_bool(st->conf, "enable_original_recipient");
	cleanup_mime_configure(cfg, st->conf);
	lookup_client_init(&cs->lookup, st);	/* connects on its first query only */
	cleanup_checks_configure(cs, st->conf);
	cleanup_virtual_configure(&cfg->virt, st->conf, &cs->lookup);
	cleanup_canon_configure(cs, st->conf);
	cs->max_use = conf_int(st->conf, "max_use");
	cs->max_idle = conf_time(st->conf, "max_idle");
	cs->flow_delay_ms = conf_time(st->conf, "in_flow_delay") * 1000;
	cs->qmgr.fd = -1;
	ipc_msg_init(&cs->qmsg);
}

static void cleanup_run(struct stage *st)
{
	struct cleanup_srv *cs = &cleanup_srv_state;

	/* Inside the chroot now: "incoming" is <queue>/incoming. O_PATH: only for fstatfs. */
	cs->cfg.statfd = open("incoming", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cs->cfg.statfd < 0)
		msg_warn("incoming: %m (no free-space check)");
	cs->loop = event_loop_new();
	if (iox_set_nonblock(st->broker.fd, 0) < 0
	    || event_add(cs->loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	cs->idle_timer = event_timer_add(cs->loop, cs->max_idle * 1000, cleanup_idle_expired, cs);
	/*
	 * XXX a stop drops messages in progress: their clients see the channel
	 * close (a 4xx for SMTP), and the uncommitted files are removed by
	 * queue recovery; nothing acknowledged is lost.
	 */
	for (;;) {
		/* leaving on our own: a client the broker sent before it heard is served first */
		if (cs->leaving && cs->nclients == 0 && stage_leave(st, cs->uses) == 0)
			break;
		if (st->stopping && !cs->leaving)
			break;
		if (event_run_once(cs->loop, -1) < 0)
			msg_fatal("event loop: %m");
	}
}

static const struct stage_ops cleanup_ops = {
	.pre_jail = cleanup_pre_jail,
	.peer_accept = cleanup_peer_accept,
	.run = cleanup_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "cleanup", &cleanup_ops);
}
