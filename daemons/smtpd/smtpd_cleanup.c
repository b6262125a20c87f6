/*
 * smtpd_cleanup.c - smtpd's channel to a cleanup process.
 *
 * The channel is asked from the broker at the first message and kept for
 * the life of this smtpd process, across sessions (asked again if it
 * breaks, e.g. when that cleanup process exits): no broker round trip per
 * connection or per message. The broker gives each client a cleanup process
 * of its own while cleanup's maxproc allows and shares processes beyond
 * that, so an idle smtpd holding a channel never starves a busy one. Per
 * message: OPEN (wait for OPENED: the queue id), RCPT per accepted
 * recipient and DATA chunks without waiting, the access actions' HOLD,
 * REDIRECT and BCC, END (wait for DONE: cleanup has fsynced), or ABORT. A missing or broken cleanup is a 451 4.3.0 for
 * the client, never a crash; the message is then not queued.
 *
 * SECURITY: cleanup is a moat stage, but its replies are still checked by
 * the IPC codec and channel allowlist; a reply that does not fit the
 * protocol state drops the channel.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/msg.h"

static struct ipc_chan cln_chan;
static int cln_have;
static struct ipc_msg cln_msg;
static int cln_msg_open;	/* OPENED seen, END or ABORT not yet sent */

#define CLN_TEMPFAIL "451 4.3.0 Error: queue file write error"

static void cln_drop(const char *why)
{
	if (!cln_have)
		return;
	msg_warn("cleanup channel: %s", why);
	ipc_chan_close(&cln_chan);
	ipc_msg_free(&cln_msg);
	cln_have = 0;
	cln_msg_open = 0;
}

static int cln_connect(struct smtpd_session *s)
{
	struct timeval tv = { s->cf->normal.timeout, 0 };
	pid_t pid = 0;
	int fd;

	if (cln_have)
		return 0;
	fd = stage_request_peer(s->st, "cleanup", &pid);
	if (fd < 0)
		return -1;
	/* Blocking, bounded by smtpd_timeout: a reply costs one recvmsg. */
	if (iox_set_nonblock(fd, 0) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		msg_warn("cleanup channel: %m");
		(void)close(fd);
		return -1;
	}
	ipc_chan_init(&cln_chan, fd, IPC_CHAN_CLEANUP, IPC_SIDE_A, "cleanup", pid);
	ipc_msg_init(&cln_msg);
	cln_have = 1;
	return 0;
}

static int cln_send(enum ipc_type type, const void *m)
{
	if (!cln_have)
		return -1;
	if (ipc_chan_send(&cln_chan, type, m) < 0) {
		cln_drop(buf_str(&cln_chan.why));
		return -1;
	}
	return 0;
}

/* cln_recv - one reply of the expected type within smtpd_timeout (SO_RCVTIMEO). */
static int cln_recv(enum ipc_type want)
{
	int r = ipc_chan_recv(&cln_chan, &cln_msg);

	if (r != IPC_RECV_MSG) {
		cln_drop(r == IPC_RECV_AGAIN ? "timeout waiting for cleanup"
			 : r == IPC_RECV_EOF ? "cleanup closed the channel" : buf_str(&cln_chan.why));
		return -1;
	}
	if (cln_msg.type != want) {
		cln_drop("unexpected reply from cleanup");
		return -1;
	}
	return 0;
}

static void cln_reply(struct buf *reply, uint32_t status, const char *reason)
{
	buf_reset(reply);
	if (status < 400 || status > 599)
		status = 451;
	buf_printf(reply, "%u %s", status, reason[0] ? reason : "4.3.0 Error: queue file write error");
}

static int smtpd_cleanup_try_open(struct smtpd_session *s, const struct ipc_cleanup_open *o)
{
	return cln_connect(s) < 0 || cln_send(MSG_CLEANUP_OPEN, o) < 0
		|| cln_recv(MSG_CLEANUP_OPENED) < 0 ? -1 : 0;
}

int smtpd_cleanup_open(struct smtpd_session *s, struct buf *reply)
{
	struct ipc_cleanup_open o;

	memset(&o, 0, sizeof(o));
	o.flags = s->mp.smtputf8 ? CLEANUP_F_SMTPUTF8 : 0;
	o.client_name = s->name;
	o.client_addr = s->addr;
	o.client_port = s->port;
	o.helo = buf_str(&s->helo);
	/* RFC 3848: ESMTPS over TLS, in the Received header */
	o.protocol = s->esmtp ? (s->ssl ? "ESMTPS" : "ESMTP") : "SMTP";
	o.tls = s->cf->tls_received_header && s->ssl ? buf_str(&s->tls) : "";
	o.sasl_user = "";
	o.sender = buf_str(&s->sender);
	o.envid = "";
	o.body_type = (uint32_t)s->mp.body;
	o.size_hint = s->mp.size;
	/*
	 * A cleanup process may exit (max_use, max_idle) just as the broker hands
	 * us a channel to it; nothing has been promised to the client yet, so a
	 * dead channel here is worth one more try with a fresh one.
	 */
	if (smtpd_cleanup_try_open(s, &o) < 0 && smtpd_cleanup_try_open(s, &o) < 0) {
		buf_set_str(reply, CLN_TEMPFAIL);
		return -1;
	}
	if (cln_msg.u.cleanup_opened.status != 0) {
		cln_reply(reply, cln_msg.u.cleanup_opened.status, cln_msg.u.cleanup_opened.reason);
		ipc_msg_reset(&cln_msg);
		return -1;
	}
	buf_set_str(&s->qid, cln_msg.u.cleanup_opened.queue_id);
	ipc_msg_reset(&cln_msg);
	s->cleanup_open = 1;
	cln_msg_open = 1;
	return 0;
}

int smtpd_cleanup_rcpt(struct smtpd_session *s, const char *addr)
{
	struct ipc_cleanup_rcpt r = { addr, 0, "", 0, 0 };

	(void)s;
	return cln_send(MSG_CLEANUP_RCPT, &r);
}

int smtpd_cleanup_data(struct smtpd_session *s, const char *p, size_t n)
{
	struct ipc_cleanup_data d = { (const unsigned char *)p, (uint32_t)n };

	(void)s;
	return cln_send(MSG_CLEANUP_DATA, &d);
}

/* cln_actions - the access actions' HOLD, REDIRECT and BCC for this message. */
static int cln_actions(const struct smtpd_session *s)
{
	struct ipc_cleanup_action a = { .action = CLEANUP_ACT_HOLD, .addr = "" };

	if (s->hold && cln_send(MSG_CLEANUP_ACTION, &a) < 0)
		return -1;
	a.action = CLEANUP_ACT_REDIRECT;
	a.addr = buf_str(&s->redirect);
	if (s->redirect.len && cln_send(MSG_CLEANUP_ACTION, &a) < 0)
		return -1;
	a.action = CLEANUP_ACT_BCC;
	for (size_t off = 0; off < s->bcc.len; off += strlen(s->bcc.data + off) + 1) {
		a.addr = s->bcc.data + off;
		if (cln_send(MSG_CLEANUP_ACTION, &a) < 0)
			return -1;
	}
	return 0;
}

int smtpd_cleanup_end(struct smtpd_session *s, struct buf *reply)
{
	struct ipc_cleanup_end e = { 0 };
	int ok;

	s->cleanup_open = 0;
	cln_msg_open = 0;
	if (cln_actions(s) < 0 || cln_send(MSG_CLEANUP_END, &e) < 0
	    || cln_recv(MSG_CLEANUP_DONE) < 0) {
		buf_set_str(reply, CLN_TEMPFAIL);
		return -1;
	}
	ok = cln_msg.u.cleanup_done.status == 0;
	if (ok) {
		buf_reset(reply);
		buf_printf(reply, "250 2.0.0 Ok: queued as %s", buf_str(&s->qid));
	} else {
		cln_reply(reply, cln_msg.u.cleanup_done.status, cln_msg.u.cleanup_done.reason);
	}
	ipc_msg_reset(&cln_msg);
	return ok ? 0 : -1;
}

/*
 * smtpd_cleanup_release - a session ended. The channel stays for the next
 * session (see the top), unless a message is still open on it: then it is
 * closed, so that cleanup removes that file and the next session starts clean.
 */
void smtpd_cleanup_release(void)
{
	if (cln_have && cln_msg_open)
		cln_drop("session ended with a message open");
}

void smtpd_cleanup_abort(struct smtpd_session *s)
{
	struct ipc_cleanup_abort a = { 0 };

	if (!s->cleanup_open)
		return;
	s->cleanup_open = 0;
	if (cln_send(MSG_CLEANUP_ABORT, &a) == 0)
		cln_msg_open = 0;
}
