/*
 * smtp.c - the smtp stage: the SMTP client that relays queued mail onward.
 *
 * The broker gives each smtp process at most one channel from qmgr
 * (IPC_CHAN_DELIVER, side B). qmgr sends MSG_DELIVER_JOB (with a read-only
 * fd of the queue file) and its MSG_DELIVER_RCPTs; this stage finds the
 * servers (smtp_addr.c, DNS through the dns stage), delivers
 * (smtp_session.c), then tries smtp_fallback_relay in order when no server
 * of the next hop was reached or its name was not found, reports each
 * recipient with MSG_DELIVER_STATUS as soon as its result is known and ends
 * with MSG_DELIVER_DONE. A connection that
 * ended well is kept for smtp_connection_cache_time_limit and reused when the
 * next job goes to the same next hop. One job at a time: qmgr's concurrency
 * is the number of smtp processes. The process exits when qmgr closes the
 * channel, after max_use jobs, after max_idle without a channel, or when the
 * broker asks it to stop (after the current job).
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty,
 * no capabilities; it shares the host network namespace and may create
 * AF_INET/AF_INET6 sockets and connect them, nothing else. It opens no file:
 * the message is read from the fd qmgr passes; tables (smtp_generic_maps,
 * and qmgr's routing tables to check a next hop from them) are asked of
 * the lookup stage, whose answers are parsed as untrusted. It trusts
 * nothing a server sends (mail/smtp_reply.c parses replies with hard caps) and checks that
 * qmgr's messages follow the job protocol; a qmgr that breaks it is reported
 * to the broker and the channel is closed. It never connects to loopback,
 * link-local, multicast, reserved or its own addresses unless the next hop
 * is one the configuration names (smtp_guard.c), Landlock limits its TCP
 * connects to the ports of its configured transports, and it never writes
 * a command whose address holds a control character.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "mail/nexthop.h"

#define SMTP_MAX_RCPT	100000	/* per job; qmgr's recipient limit is far lower */

static struct smtp_state smtp_state;

static int64_t smtp_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* smtp_qmgr_close - the channel is gone: tell the broker we serve nobody. */
static void smtp_qmgr_close(struct smtp_state *s, const char *violation)
{
	if (violation)
		stage_report_violation(s->st, &s->qch, violation);
	ipc_chan_close(&s->qch);
	s->have_q = 0;
	stage_status(s->st, 0, 0);
}

static void smtp_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct smtp_state *s = &smtp_state;

	(void)st;
	if (s->have_q || strcmp(peer_stage, "qmgr") != 0) {
		msg_warn("refusing a second channel from %s[%ld]", peer_stage, (long)peer_pid);
		(void)close(fd);
		return;
	}
	ipc_chan_init(&s->qch, fd, IPC_CHAN_DELIVER, IPC_SIDE_B, peer_stage, peer_pid);
	if (iox_set_nonblock(fd, 0) < 0 || ipc_chan_hello(&s->qch) < 0) {
		msg_warn("channel from qmgr[%ld]: %m", (long)peer_pid);
		ipc_chan_close(&s->qch);
		return;
	}
	s->have_q = 1;
	stage_status(st, 1, 1);
}

/*
 * smtp_release_fd - done with the queue file: close it before DONE, so that
 * by the time qmgr retires the file no process has it open and it can be
 * reused (queue/qspare.h: a file still open anywhere is never reused).
 */
static void smtp_release_fd(struct smtp_job *job)
{
	if (job->fd >= 0)
		(void)close(job->fd);
	job->fd = -1;
}

static void smtp_job_free(struct smtp_job *job)
{
	for (uint32_t i = 0; i < job->ngot; i++) {
		xfree(job->rcpt[i].send_addr);
		xfree(job->rcpt[i].addr);
		xfree(job->rcpt[i].orcpt);
	}
	xfree(job->rcpt);
	xfree(job->transport);
	xfree(job->nexthop);
	xfree(job->sender);
	xfree(job->mail_from);
	buf_free(&job->head);
	xfree(job->envid);
	smtp_release_fd(job);
	memset(job, 0, sizeof(*job));
	job->fd = -1;
}

/* smtp_job_start - take MSG_DELIVER_JOB; -1 with a reason on a violation. */
static const char *smtp_job_start(struct smtp_job *job, struct ipc_msg *m)
{
	const struct ipc_deliver_job *j = &m->u.deliver_job;

	if (j->nrcpt > SMTP_MAX_RCPT)
		return "job with too many recipients";
	job->job_id = j->job_id;
	snprintf(job->queue_id, sizeof(job->queue_id), "%s", j->queue_id);
	job->fd = ipc_msg_take_fd(m, j->fd);
	job->transport = xstrdup(j->transport);
	job->nexthop = xstrdup(j->nexthop);
	job->sender = xstrdup(j->sender);
	job->envid = xstrdup(j->envid);
	job->arrival_us = j->arrival_us;
	job->active_us = j->active_us;
	job->recv_us = smtp_now_us();
	job->content_offset = j->content_offset;
	job->content_size = j->content_size;
	job->ret = j->ret;
	job->body_type = j->body_type;
	job->nrcpt = j->nrcpt;
	job->rcpt = xcalloc(j->nrcpt ? j->nrcpt : 1, sizeof(*job->rcpt));
	return NULL;
}

static const char *smtp_job_rcpt(struct smtp_job *job, const struct ipc_deliver_rcpt *r)
{
	struct smtp_rcpt *rc;

	if (r->job_id != job->job_id || r->index != job->ngot || job->ngot >= job->nrcpt)
		return "recipient out of order";
	rc = &job->rcpt[job->ngot++];
	rc->addr = xstrdup(r->addr);
	rc->orcpt = xstrdup(r->orcpt);
	rc->notify = r->notify;
	rc->index = r->index;
	return NULL;
}

/* smtp_job_read - one whole job from qmgr; 1 job, 0 channel gone. */
static int smtp_job_read(struct smtp_state *s, struct smtp_job *job)
{
	struct ipc_msg m;
	const char *bad = NULL;
	int r;

	ipc_msg_init(&m);
	while (bad == NULL && (job->fd < 0 || job->ngot < job->nrcpt)) {
		r = ipc_chan_recv(&s->qch, &m);
		if (r != IPC_RECV_MSG) {
			if (r == IPC_RECV_VIOLATION)
				bad = buf_str(&s->qch.why);
			else
				smtp_qmgr_close(s, NULL);
			break;
		}
		if (m.type == MSG_DELIVER_JOB && job->fd < 0)
			bad = smtp_job_start(job, &m);
		else if (m.type == MSG_DELIVER_RCPT && job->fd >= 0)
			bad = smtp_job_rcpt(job, &m.u.deliver_rcpt);
		else
			bad = "unexpected message in the job protocol";
		ipc_msg_reset(&m);
	}
	ipc_msg_free(&m);
	if (bad) {
		struct buf why = BUF_INIT;

		(void)buf_set_str(&why, bad);
		smtp_qmgr_close(s, buf_str(&why));
		buf_free(&why);
	}
	return s->have_q && job->fd >= 0 && job->ngot == job->nrcpt;
}

/* smtp_try_cached - reuse the cached connection if it serves this job. */
static int smtp_try_cached(struct smtp_state *s, struct smtp_job *job, const char *key)
{
	if (s->conn.fd < 0)
		return SMTP_SESS_NEXT;
	if (strcmp(s->conn.key, key) != 0 || (s->conn.inward && smtp_guard_named(s, job,
		&s->text) != SMTP_NAMED_YES)) {
		smtp_session_quit(s);
		return SMTP_SESS_NEXT;
	}
	job->conn_us = smtp_now_us();
	return smtp_session_deliver(s, job, 1);
}

/*
 * smtp_relayhost_soft - as Postfix: a relayhost that does not resolve,
 * refuses us or loops back is a configuration problem, so the mail waits
 * (4.3.5, the diagnostic kept) instead of bouncing.
 */
static int smtp_relayhost_soft(struct smtp_state *s, const char *nexthop, const char *queue_id,
			       int status, char dsn[16])
{
	if (status != DELIVER_BOUNCE || !smtp_guard_is_relayhost(s, nexthop))
		return status;
	msg_warn("%s: relayhost configuration problem", queue_id);
	memcpy(dsn, "4.3.5", 6);
	return DELIVER_DEFER;
}

/* One next hop that left recipients without a status. */
struct smtp_fail {
	int status;		/* DELIVER_DEFER or DELIVER_BOUNCE */
	char dsn[16];
	char relay[320];
	struct buf why;
	int fallback_ok;	/* smtp_fallback_relay may have the rest */
	int site;		/* no server could be reached */
};

/*
 * smtp_fail_lookup - the next hop gave no address. As Postfix, the fallback
 * relays are tried after a lookup failure, even a hard one (domain or host
 * not found), but not when the mail would loop back to us (we are an MX
 * host of the destination), a null MX refuses mail, or the next hop is
 * not in the configuration; a fallback relay's own lookup failure defers.
 */
static void smtp_fail_lookup(struct smtp_state *s, struct smtp_job *job, const char *nexthop,
			     int fallback, int st, struct smtp_fail *f)
{
	f->fallback_ok = strcmp(f->dsn, "5.4.6") != 0 && strcmp(f->dsn, "5.1.10") != 0
		&& strncmp(f->dsn, "4.3.", 4) != 0;
	if (fallback && st == DELIVER_BOUNCE) {
		f->dsn[0] = '4';
		st = DELIVER_DEFER;
	}
	f->status = smtp_relayhost_soft(s, nexthop, job->queue_id, st, f->dsn);
}

/* smtp_try_hop - every address of one next hop in order, until one session
 * delivers; 0 when every recipient has a status, else -1 and f. */
static int smtp_try_hop(struct smtp_state *s, struct smtp_job *job, const char *nexthop,
			int fallback, struct smtp_fail *f)
{
	struct smtp_addr *addrs = xcalloc(SMTP_ADDR_MAX, sizeof(*addrs));
	size_t n = 0;
	int st, sessions = 0;

	s->hop = nexthop;
	memcpy(f->dsn, "4.4.1", 6);
	snprintf(f->relay, sizeof(f->relay), "none");
	buf_reset(&f->why);
	st = smtp_addr_list(s, job, nexthop, addrs, &n, &f->why, f->dsn);
	if (st != DELIVER_SENT) {
		smtp_fail_lookup(s, job, nexthop, fallback, st, f);
		goto out;
	}
	for (size_t i = 0; i < n && job->ndone < (int)job->nrcpt; i++) {
		int r = smtp_session_open(s, job, &addrs[i], &f->why, f->dsn);

		if (r == 0) {
			job->conn_us = smtp_now_us();
			snprintf(s->conn.key, sizeof(s->conn.key), "%s/%s", job->transport, nexthop);
			s->conn.inward = smtp_guard_inward(s, &addrs[i]);
			if (smtp_session_deliver(s, job, 0) == SMTP_SESS_DONE)
				goto out;
			continue;
		}
		if (r == 2) {	/* a 5xx that rejects the whole session */
			f->status = smtp_relayhost_soft(s, nexthop, job->queue_id, DELIVER_BOUNCE, f->dsn);
			snprintf(f->relay, sizeof(f->relay), "%s", s->conn.relay);
			f->fallback_ok = 0;
			goto out;
		}
		if (strncmp(buf_str(&f->why), "connect to ", 11) != 0) {
			snprintf(f->relay, sizeof(f->relay), "%s", s->conn.relay);
			sessions++;
		}
		if (s->session_limit > 0 && sessions >= s->session_limit)
			break;
	}
	f->status = DELIVER_DEFER;
	f->site = f->fallback_ok = 1;
out:
	xfree(addrs);
	return job->ndone < (int)job->nrcpt ? -1 : 0;
}

/*
 * smtp_try_addrs - the job's next hop, then while what is left may go
 * there, each of smtp_fallback_relay in order (not the next hop itself).
 */
static void smtp_try_addrs(struct smtp_state *s, struct smtp_job *job)
{
	struct smtp_fail f = { .why = BUF_INIT };
	int failed = smtp_try_hop(s, job, job->nexthop, 0, &f) < 0;

	for (char *const *fb = s->fallback; failed && f.fallback_ok && fb && *fb; fb++)
		if (strcmp(*fb, job->nexthop) != 0)
			failed = smtp_try_hop(s, job, *fb, 1, &f) < 0;
	if (failed) {
		job->site_defer = f.site && f.status == DELIVER_DEFER;
		smtp_status_rest(s, job, f.status, f.dsn, f.relay, buf_str(&f.why));
	}
	buf_free(&f.why);
}

int smtp_has_ctl(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			return 1;
	return 0;
}

/*
 * smtp_job_screen - an address with CR, LF, NUL or another control would
 * end or split the command that carries it: it is never written, whatever
 * the queue file says. A bad recipient bounces; a bad sender defers the
 * whole job (a DSN to it could not be addressed either).
 */
static void smtp_job_screen(struct smtp_state *s, struct smtp_job *job)
{
	if (smtp_has_ctl(job->sender)) {
		msg_warn("%s: control character in the sender address of the queue file",
			 job->queue_id);
		smtp_status_rest(s, job, DELIVER_DEFER, "4.3.0", "none",
				 "invalid sender address in the queue file (control character)");
		return;
	}
	for (uint32_t i = 0; i < job->nrcpt; i++)
		if (smtp_has_ctl(job->rcpt[i].addr) || smtp_has_ctl(job->rcpt[i].orcpt))
			smtp_status_rcpt(s, job, &job->rcpt[i], DELIVER_BOUNCE, "5.1.3", "none",
					 "bad recipient address syntax (control character)");
}

/*
 * smtp_cache_wanted - keep the connection for the next job to this next
 * hop? Always with smtp_connection_cache_on_demand (moat's on-demand cache
 * is the smtp_connection_cache_time_limit wait itself), else only for the
 * next hops (or their host names) in smtp_connection_cache_destinations.
 */
static int smtp_cache_wanted(struct smtp_state *s, struct smtp_job *job)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;
	int host_ok;

	if (s->cache_on_demand)
		return 1;
	host_ok = nexthop_parse(job->nexthop, s->default_port, &nh, &why) == 0;
	buf_free(&why);
	for (char *const *d = s->cache_dests; d && *d; d++)
		if (strcasecmp(*d, job->nexthop) == 0 || (host_ok && strcasecmp(*d, nh.host) == 0))
			return 1;
	return 0;
}

static void smtp_deliver(struct smtp_state *s, struct smtp_job *job)
{
	struct ipc_deliver_done done = { 0 };
	struct buf key = BUF_INIT;
	struct stat sb;

	(void)buf_printf(&key, "%s/%s", job->transport, job->nexthop);
	/* The content must lie inside the file; the reader checks the rest. */
	if (fstat(job->fd, &sb) < 0 || (uint64_t)sb.st_size < job->content_offset
	    || (uint64_t)sb.st_size - job->content_offset < job->content_size) {
		smtp_status_rest(s, job, DELIVER_DEFER, "4.3.0", "none",
				 "error reading the queue file: content out of range");
	} else {
		job->file_size = (uint64_t)sb.st_size;
		job->smtputf8 = smtp_io_smtputf8(job->fd);
		smtp_job_screen(s, job);
		if (job->ndone < (int)job->nrcpt && smtp_generic_job(s, job) == 0
		    && smtp_try_cached(s, job, buf_str(&key)) != SMTP_SESS_DONE)
			smtp_try_addrs(s, job);
	}
	if (s->conn.fd >= 0 && !smtp_cache_wanted(s, job))
		smtp_session_quit(s);
	if (s->conn.fd >= 0)
		s->conn.idle_since_ms = smtp_mono_ms();
	smtp_release_fd(job);
	done.job_id = job->job_id;
	done.site_status = job->site_defer ? DELIVER_DEFER : 0;
	done.reason = job->site_defer ? "destination unreachable" : "";
	if (s->have_q && ipc_chan_send(&s->qch, MSG_DELIVER_DONE, &done) < 0) {
		msg_warn("qmgr channel: %s", buf_str(&s->qch.why));
		smtp_qmgr_close(s, NULL);
	}
	buf_free(&key);
}

/* smtp_cache_idle - a cached connection became readable: the server
 * closed it or timed us out (421); either way it is of no more use. */
static void smtp_cache_idle(struct smtp_state *s)
{
	smtp_conn_close(&s->conn);
}

static void smtp_params(struct smtp_state *s, struct conf *c)
{
	char *const *proto = conf_list(c, "inet_protocols");

	s->t_connect = conf_time(c, "smtp_connect_timeout");
	s->t_helo = conf_time(c, "smtp_helo_timeout");
	s->t_mail = conf_time(c, "smtp_mail_timeout");
	s->t_rcpt = conf_time(c, "smtp_rcpt_timeout");
	s->t_data_init = conf_time(c, "smtp_data_init_timeout");
	s->t_data_xfer = conf_time(c, "smtp_data_xfer_timeout");
	s->t_data_done = conf_time(c, "smtp_data_done_timeout");
	s->t_quit = conf_time(c, "smtp_quit_timeout");
	s->t_rset = conf_time(c, "smtp_rset_timeout");
	s->cache_time = conf_time(c, "smtp_connection_cache_time_limit");
	s->skip_4xx = conf_bool(c, "smtp_skip_4xx_greeting");
	s->skip_5xx = conf_bool(c, "smtp_skip_5xx_greeting");
	s->never_ehlo = conf_bool(c, "smtp_never_send_ehlo");
	s->always_ehlo = conf_bool(c, "smtp_always_send_ehlo");
	s->randomize = conf_bool(c, "smtp_randomize_addresses");
	s->defer_no_mx_addr = conf_bool(c, "smtp_defer_if_no_mx_address_found");
	s->cache_on_demand = conf_bool(c, "smtp_connection_cache_on_demand");
	s->cache_dests = conf_list(c, "smtp_connection_cache_destinations");
	s->disable_dns = conf_bool(c, "disable_dns_lookups");
	s->addr_limit = (int)conf_int(c, "smtp_mx_address_limit");
	s->session_limit = (int)conf_int(c, "smtp_mx_session_limit");
	s->line_limit = (size_t)conf_int(c, "smtp_line_length_limit");
	s->prefer6 = strcmp(conf_str(c, "smtp_address_preference"), "ipv6") == 0;
	s->helo_name = conf_str(c, "smtp_helo_name");
	if (*s->helo_name == 0 || smtp_has_ctl(s->helo_name) || strchr(s->helo_name, ' '))
		msg_fatal("smtp_helo_name = \"%s\": not a host name", s->helo_name);
	s->myhostname = conf_str(c, "myhostname");
	s->discard_ehlo = conf_list(c, "smtp_discard_ehlo_keywords");
	s->fallback = conf_list(c, "smtp_fallback_relay");
	for (; proto && *proto; proto++) {
		if (strcmp(*proto, "all") == 0)
			s->want4 = s->want6 = 1;
		else if (strcmp(*proto, "ipv4") == 0)
			s->want4 = 1;
		else if (strcmp(*proto, "ipv6") == 0)
			s->want6 = 1;
	}
	if (!s->want4 && !s->want6)
		s->want4 = 1;
	if (nexthop_port(conf_str(c, "smtp_tcp_port"), &s->default_port) < 0) {
		msg_warn("smtp_tcp_port = %s: not a port; using 25", conf_str(c, "smtp_tcp_port"));
		s->default_port = 25;
	}
}

/* smtp_wait - poll the broker, qmgr and a cached connection. */
static void smtp_wait(struct smtp_state *s, int64_t timeout_ms, int *q_ready)
{
	struct pollfd p[3] = {
		{ s->st->broker.fd, POLLIN, 0 },
		{ s->have_q ? s->qch.fd : -1, POLLIN, 0 },
		{ s->conn.fd, POLLIN, 0 },
	};
	int r = poll(p, 3, timeout_ms > 600000 ? 600000 : (int)timeout_ms);

	*q_ready = 0;
	if (r < 0) {
		if (errno != EINTR)
			msg_fatal("poll: %m");
		return;
	}
	if (p[0].revents && stage_broker_dispatch(s->st, 0) < 0)
		exit(0);
	if (s->conn.fd >= 0 && p[2].revents)
		smtp_cache_idle(s);
	*q_ready = s->have_q && p[1].revents != 0;
}

static void smtp_run(struct stage *st)
{
	struct smtp_state *s = &smtp_state;
	int64_t max_idle = conf_time(st->conf, "max_idle") * 1000, idle_since = smtp_mono_ms();
	uint32_t max_use = (uint32_t)conf_int(st->conf, "max_use");
	struct smtp_job job;

	if (st->start_flags & STAGE_START_CHECK)
		exit(0);	/* pre_jail took the settings (moatd's check run: tablecheck.c) */

	memset(&job, 0, sizeof(job));
	job.fd = -1;
	while (!st->stopping) {
		int64_t now = smtp_mono_ms(), timeout = max_idle - (now - idle_since);
		int ready;

		if (s->conn.fd >= 0) {
			int64_t left = s->cache_time * 1000 - (now - s->conn.idle_since_ms);

			if (left <= 0) {
				smtp_session_quit(s);
				continue;
			}
			if (left < timeout)
				timeout = left;
		}
		if (timeout <= 0 && s->conn.fd < 0)
			break;		/* max_idle without a job */
		smtp_wait(s, timeout > 0 ? timeout : 0, &ready);
		if (!ready)
			continue;
		if (!smtp_job_read(s, &job)) {
			smtp_job_free(&job);
			if (!s->have_q)
				break;	/* qmgr closed the channel */
			continue;
		}
		smtp_deliver(s, &job);
		smtp_job_free(&job);
		idle_since = smtp_mono_ms();
		if (++s->uses >= max_use)
			break;
	}
	smtp_session_quit(s);
}

static void smtp_pre_jail(struct stage *st)
{
	struct smtp_state *s = &smtp_state;

	s->st = st;
	s->conn.fd = -1;
	buf_init(&s->conn.rbuf, SMTP_REPLY_MAX_LINE * SMTP_REPLY_MAX_LINES + 65536);
	buf_init(&s->wbuf, 0);
	buf_init(&s->fold, 0);
	buf_init(&s->text, 16384);
	smtp_reply_init(&s->reply);
	smtp_params(s, st->conf);
	smtp_generic_init(s, st->conf);
	smtp_guard_init(s, st->conf);
	smtp_tls_init(s, st->conf);
	st->connect_ports = s->ports;
	st->nconnect_ports = s->nports;
	st->connect_any_port = s->route_tables;
}

static const struct stage_ops smtp_ops = {
	.pre_jail = smtp_pre_jail,
	.peer_accept = smtp_peer_accept,
	.run = smtp_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "smtp", &smtp_ops);
}
