/*
 * smtp_status.c - one recipient's result: the Postfix log line and the
 * MSG_DELIVER_STATUS to qmgr.
 *
 * Called by smtp.c and smtp_session.c as each result becomes known. The log
 * line has exactly Postfix's shape, which pflogsumm and other tools parse:
 *   QID: to=<rcpt>, relay=host[addr]:port, delay=0.25,
 *        delays=0.05/0.01/0.1/0.09, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 * delays are: before qmgr (arrival to active), in qmgr (active to this
 * stage), connection setup (DNS, connect, greeting, EHLO), transmission.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"

/* smtp_status_delay - seconds as Postfix prints them: "13", "1.2", "0.25", "0". */
void smtp_status_delay(struct buf *out, uint64_t us)
{
	if (us >= 10000000)
		(void)buf_printf(out, "%" PRIu64, us / 1000000);
	else if (us >= 1000000)
		(void)buf_printf(out, "%" PRIu64 ".%" PRIu64, us / 1000000, us / 100000 % 10);
	else if (us >= 100000) {
		uint64_t c = us / 10000;	/* hundredths, two digits */

		if (c % 10)
			(void)buf_printf(out, "0.%02" PRIu64, c);
		else
			(void)buf_printf(out, "0.%" PRIu64, c / 10);
	} else if (us >= 10000)
		(void)buf_printf(out, "0.0%" PRIu64, us / 10000);
	else
		(void)buf_append_str(out, "0");
}

static uint64_t diff(uint64_t later, uint64_t earlier)
{
	return later > earlier ? later - earlier : 0;
}

static const char *status_word(int status)
{
	return status == DELIVER_SENT ? "sent" : status == DELIVER_BOUNCE ? "bounced" : "deferred";
}

static void status_log(struct smtp_job *job, struct smtp_rcpt *r, int status, const char *dsn,
		       const char *relay, const char *reply)
{
	uint64_t now = smtp_now_us(), conn = job->conn_us ? job->conn_us : now;
	struct buf line = BUF_INIT;

	(void)buf_printf(&line, "%s: to=<%s>, relay=%s, delay=", job->queue_id, r->addr, relay);
	smtp_status_delay(&line, diff(now, job->arrival_us));
	(void)buf_append_str(&line, ", delays=");
	smtp_status_delay(&line, diff(job->active_us, job->arrival_us));
	(void)buf_putc(&line, '/');
	smtp_status_delay(&line, diff(job->recv_us, job->active_us));
	(void)buf_putc(&line, '/');
	smtp_status_delay(&line, diff(conn, job->recv_us));
	(void)buf_putc(&line, '/');
	smtp_status_delay(&line, diff(now, conn));
	(void)buf_printf(&line, ", dsn=%s, status=%s (%s)", dsn, status_word(status), reply);
	msg_info("%s", buf_str(&line));
	buf_free(&line);
}

void smtp_status_rcpt(struct smtp_state *s, struct smtp_job *job, struct smtp_rcpt *r,
		      int status, const char *dsn, const char *relay, const char *reply)
{
	struct ipc_deliver_status m = { 0 };
	char rbuf[1025];

	if (r->done)
		return;
	r->done = 1;
	job->ndone++;
	/* The IPC field holds 1024 bytes; a longer server reply is cut. */
	snprintf(rbuf, sizeof(rbuf), "%s", reply);
	status_log(job, r, status, dsn, relay, rbuf);
	m.job_id = job->job_id;
	m.index = r->index;
	m.status = (uint32_t)status;
	m.dsn = dsn;
	m.relay = relay;
	m.reply = rbuf;
	if (s->have_q && ipc_chan_send(&s->qch, MSG_DELIVER_STATUS, &m) < 0)
		msg_warn("qmgr channel: %s", buf_str(&s->qch.why));
}

void smtp_status_rest(struct smtp_state *s, struct smtp_job *job, int status, const char *dsn,
		      const char *relay, const char *reply)
{
	for (uint32_t i = 0; i < job->nrcpt; i++)
		smtp_status_rcpt(s, job, &job->rcpt[i], status, dsn, relay, reply);
}
