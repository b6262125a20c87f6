/*
 * policy.c - the policy stage: Postfix's policy delegation protocol
 * (SMTPD_POLICY_README) on behalf of every smtpd process.
 *
 * Serves IPC_CHAN_POLICY channels (side B) from smtpd. smtpd sends
 * MSG_POLICY_QUERY{id, endpoint, attributes}; the answer is one
 * MSG_POLICY_ANSWER{id, POLICY_OK and the server's action, or
 * POLICY_FAILED and why}: then smtpd applies its default action. Requests
 * go to the servers in policy_srv.c, one connection per endpoint, reused
 * across requests and processes as smtpd_policy_service_* say.
 *
 * SECURITY: runs as helper_user in an empty root with a network namespace
 * of its own; it makes no socket and opens no file: the broker connects
 * each server and passes the socket (stage_policy_connect), and only for
 * endpoints smtpd's restrictions name. A request's attributes are checked
 * here (name=value lines, no empty line, no control byte) so that one smtpd
 * cannot forge a second request on a shared connection and take another's
 * answer. A server is not trusted: its answer is bounded and must be one
 * action line; a server that hangs, closes or floods gets the request
 * retried and then failed, never a stuck stage.
 */
#include <string.h>

#include "daemons/policy/policy.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage_peer.h"

#define POLICY_CLIENT_MAX	256	/* requests in flight per smtpd */

struct policy_client {
	struct stage_peer *peer;
	int nreq;
};

static struct event_loop *policy_loop;

void policy_done(struct policy_req *r, uint32_t status, const char *action)
{
	struct ipc_policy_answer a = { .id = r->id, .status = status, .action = action };
	struct policy_client *cl = r->cl;

	if (cl != NULL) {
		cl->nreq--;
		if (!cl->peer->ending && ipc_chan_send(&cl->peer->ch, MSG_POLICY_ANSWER, &a) < 0) {
			msg_warn("policy channel to %s[%ld]: %s", cl->peer->ch.peer_stage,
				 (long)cl->peer->ch.peer_pid, buf_str(&cl->peer->ch.why));
			stage_peer_end(cl->peer, 0);
		}
	}
	buf_free(&r->text);
	xfree(r);
}

/* policy_attrs_ok - "name=value\n" lines: names [a-z_], values printable. */
static int policy_attrs_ok(const unsigned char *p, size_t n, struct buf *why)
{
	size_t i = 0;

	while (i < n) {
		size_t name = 0;

		while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || p[i] == '_'))
			i++, name++;
		if (name == 0 || i >= n || p[i++] != '=') {
			buf_append_str(why, "attribute without a name=");
			return -1;
		}
		while (i < n && p[i] != '\n')
			if (p[i++] < 32 || p[i - 1] == 127) {
				buf_append_str(why, "control byte in an attribute value");
				return -1;
			}
		if (i++ >= n) {
			buf_append_str(why, "attribute not ended by a newline");
			return -1;
		}
	}
	if (n == 0)
		buf_append_str(why, "no attributes");
	return n == 0 ? -1 : 0;
}

static int policy_client_msg(struct stage_peer *p, struct ipc_msg *m)
{
	const struct ipc_policy_query *q = &m->u.policy_query;
	struct policy_client *cl = p->app;
	struct policy_req *r;

	buf_reset(&p->ch.why);
	if (policy_attrs_ok(q->attrs, q->attrs_len, &p->ch.why) < 0)
		return IPC_RECV_VIOLATION;
	r = xcalloc(1, sizeof(*r));
	r->id = q->id;
	buf_init(&r->text, q->attrs_len + 2);
	(void)buf_append(&r->text, q->attrs, q->attrs_len);
	(void)buf_putc(&r->text, '\n');
	r->cl = cl;
	if (++cl->nreq > POLICY_CLIENT_MAX || policy_srv_submit(q->endpoint, r) < 0)
		policy_done(r, POLICY_FAILED, "too many requests waiting");
	return 0;
}

static void policy_client_closed(struct stage_peer *p)
{
	policy_srv_forget(p->app);
	xfree(p->app);
}

static const struct stage_peer_ops policy_peer_ops = {
	.kind = IPC_CHAN_POLICY, .message = policy_client_msg, .closed = policy_client_closed,
};

static void policy_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct policy_client *cl = xcalloc(1, sizeof(*cl));
	struct stage_peer *p = stage_peer_accept(st, policy_loop, &policy_peer_ops, peer_stage,
						 peer_pid, fd, cl);

	if (p != NULL)		/* else cl is already freed by policy_client_closed */
		cl->peer = p;
}

static void policy_run(struct stage *st)
{
	const struct conf *c = st->conf;
	struct policy_limits l = {
		.timeout = conf_time(c, "smtpd_policy_service_timeout") * 1000,
		.max_idle = conf_time(c, "smtpd_policy_service_max_idle") * 1000,
		.max_ttl = conf_time(c, "smtpd_policy_service_max_ttl") * 1000,
		.retry_delay = conf_time(c, "smtpd_policy_service_retry_delay") * 1000,
		.try_limit = (int)conf_int(c, "smtpd_policy_service_try_limit"),
		.request_limit = (unsigned)conf_int(c, "smtpd_policy_service_request_limit"),
	};

	policy_loop = event_loop_new();
	policy_srv_init(st, policy_loop, &l);
	if (event_add(policy_loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	while (!st->stopping)
		if (event_run_once(policy_loop, -1) < 0)
			msg_fatal("event loop: %m");
}

static const struct stage_ops policy_ops = {
	.peer_accept = policy_peer_accept,
	.run = policy_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "policy", &policy_ops);
}
