/*
 * smtpd_policy.c - check_policy_service: smtpd's side of the policy stage.
 *
 * Called by the evaluator (smtpd_check.c) for each check_policy_service in
 * a list. smtpd has no network: it sends the request attributes (Postfix's
 * SMTPD_POLICY_README names) to the policy stage over IPC_CHAN_POLICY, on a
 * channel asked from the broker once and kept across sessions, and waits
 * for the answer at most as long as the policy stage may take with every
 * attempt (smtpd_policy_service_timeout x _try_limit, plus the retry
 * delays) and a margin. The answer is an access action, applied by
 * smtpd_check_action; no answer at all, or the policy stage's "failed",
 * applies smtpd_policy_service_default_action instead, with a warning.
 *
 * SECURITY: the client's HELO name, sender and recipient go into the
 * request; a byte that could end a line or the request (control bytes) is
 * sent as '?', so a client can never add an attribute or a request. An
 * answer is matched by id; a late answer to an earlier request is skipped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/mailproto.h"
#include "lib/event.h"
#include "lib/iox.h"
#include "lib/msg.h"

#define POLICY_RETRY_MS		10000	/* after the broker had no policy channel for us */

static struct ipc_chan pol_chan;
static int pol_have;
static uint32_t pol_id;
static int64_t pol_retry_at;

static int policy_connect(struct smtpd_session *s)
{
	pid_t pid = 0;
	int fd;

	if (pol_have)
		return 0;
	if (event_now_ms() < pol_retry_at)
		return -1;
	if ((fd = stage_request_peer(s->st, "policy", &pid)) < 0) {
		pol_retry_at = event_now_ms() + POLICY_RETRY_MS;
		return -1;
	}
	if (iox_set_nonblock(fd, 1) < 0) {
		msg_warn("policy channel: %m");
		if (close(fd) < 0)
			msg_warn("close policy channel: %m");
		return -1;
	}
	ipc_chan_init(&pol_chan, fd, IPC_CHAN_POLICY, IPC_SIDE_A, "policy", pid);
	pol_have = 1;
	return 0;
}

static void policy_drop(struct smtpd_session *s, int r)
{
	if (r == IPC_RECV_VIOLATION)
		stage_report_violation(s->st, &pol_chan, buf_str(&pol_chan.why));
	ipc_chan_close(&pol_chan);
	pol_have = 0;
}

/* policy_attr - "name=value\n", control bytes as '?'. */
static void policy_attr(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s=", name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		(void)buf_putc(b, *p < 32 || *p == 127 ? '?' : *p);
	(void)buf_putc(b, '\n');
}

static void policy_attrs(struct smtpd_check *ck, struct buf *b)
{
	const struct smtpd_session *s = ck->s;
	char num[64];

	policy_attr(b, "request", "smtpd_access_policy");
	policy_attr(b, "protocol_state", s->where ? s->where : "CONNECT");
	policy_attr(b, "protocol_name", s->esmtp ? "ESMTP" : "SMTP");
	policy_attr(b, "helo_name", buf_str(&s->helo));
	policy_attr(b, "queue_id", buf_str(&s->qid));
	policy_attr(b, "sender", buf_str(&s->sender));
	policy_attr(b, "recipient", ck->rcpt ? buf_str(&ck->rcpt->addr) : "");
	snprintf(num, sizeof(num), "%d", s->nrcpt);
	policy_attr(b, "recipient_count", num);
	policy_attr(b, "client_address", s->addr);
	policy_attr(b, "client_name", s->name);
	policy_attr(b, "reverse_client_name", s->reverse_name);
	snprintf(num, sizeof(num), "%u", s->port);
	policy_attr(b, "client_port", num);
	policy_attr(b, "server_address", s->laddr);
	snprintf(num, sizeof(num), "%lx.%lx.%x", (long)getpid(), (long)s->started_ms,
		 s->transaction);
	policy_attr(b, "instance", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)s->mp.size);
	policy_attr(b, "size", num);
	policy_attr(b, "stress", s->lim == &s->cf->stress ? "yes" : "");
	policy_attr(b, "policy_context", s->cf->policy_context);
}

/* policy_ask - the action text into answer; 0, or -1 and why in answer. */
static int policy_ask(struct smtpd_check *ck, const char *endpoint, struct buf *answer)
{
	struct smtpd_session *s = ck->s;
	struct ipc_policy_query q = { .id = ++pol_id, .endpoint = endpoint };
	int64_t deadline = event_now_ms() + s->cf->policy_wait_ms;
	struct buf attrs = BUF_INIT;
	struct ipc_msg m;
	int r, status = -1;

	if (policy_connect(s) < 0) {
		buf_set_str(answer, "no channel to the policy stage");
		return -1;
	}
	policy_attrs(ck, &attrs);
	q.attrs = (const unsigned char *)attrs.data;
	q.attrs_len = attrs.len;
	r = ipc_chan_send(&pol_chan, MSG_POLICY_QUERY, &q);
	buf_free(&attrs);
	if (r < 0) {
		buf_set_str(answer, buf_str(&pol_chan.why));
		policy_drop(s, IPC_RECV_ERROR);
		return -1;
	}
	ipc_msg_init(&m);
	while (status < 0) {
		struct pollfd p = { pol_chan.fd, POLLIN, 0 };
		int64_t left = deadline - event_now_ms();

		if (left <= 0 || ((r = poll(&p, 1, (int)left)) < 0 && errno != EINTR))
			break;
		if (r <= 0 || (r = ipc_chan_recv(&pol_chan, &m)) == IPC_RECV_AGAIN)
			continue;
		if (r != IPC_RECV_MSG) {
			buf_set_str(answer, r == IPC_RECV_EOF ? "policy stage closed the channel"
				    : buf_str(&pol_chan.why));
			policy_drop(s, r);
			status = 1;
		} else if (m.u.policy_answer.id == q.id) {
			buf_set_str(answer, m.u.policy_answer.action);
			status = m.u.policy_answer.status == POLICY_OK ? 0 : 1;
		}
	}
	ipc_msg_free(&m);
	if (status < 0)
		buf_set_str(answer, "no answer from the policy stage in time");
	return status == 0 ? 0 : -1;
}

int smtpd_check_policy(struct smtpd_check *ck, const char *endpoint)
{
	struct buf answer = BUF_INIT, from = BUF_INIT;
	int r;

	buf_init(&answer, 8192);
	buf_printf(&from, "check_policy_service %s", endpoint);
	if (policy_ask(ck, endpoint, &answer) < 0) {
		msg_warn("problem talking to server %s: %s", endpoint,
			 answer.len ? buf_str(&answer) : "no usable answer");
		r = smtpd_check_action(ck, ck->s->cf->policy_default, buf_str(&from));
	} else {
		r = smtpd_check_action(ck, buf_str(&answer), buf_str(&from));
	}
	buf_free(&answer);
	buf_free(&from);
	return r;
}
