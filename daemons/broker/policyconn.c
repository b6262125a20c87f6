/*
 * policyconn.c - connect the policy stage to a policy service.
 *
 * The policy stage may make no socket of its own (no socket() or connect()
 * in its seccomp list). When it needs a connection to a check_policy_service
 * endpoint it asks here; the broker connects (non-blocking: a slow or dead
 * server never holds the broker; the stage sees the connect finish or fail)
 * and passes the socket over. Only the policy stage may ask, only for an
 * endpoint that some smtpd service's restrictions name in the running
 * configuration, and no faster than its peer request rate limit. The
 * broker never reads or writes what flows on these sockets.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "mail/policy_endpoint.h"
#include "stagecf/check.h"

static void policyconn_fail(struct child *c, uint32_t id, const char *why)
{
	struct ipc_broker_policy_fail f = { .request_id = id, .reason = why };

	if (ipc_chan_send(&c->ch, MSG_BROKER_POLICY_FAIL, &f) < 0)
		broker_child_log(c, MSG_WARN, "policy refusal to pid %ld: %s", (long)c->pid,
				 buf_str(&c->ch.why));
}

void broker_policy_connect(struct broker *b, struct child *c,
			   const struct ipc_broker_policy_connect *r)
{
	struct ipc_broker_policy_socket s = { .request_id = r->request_id };
	struct policy_endpoint e;
	struct buf why = BUF_INIT;

	if (strcmp(c->svc->stage, "policy") != 0)
		policyconn_fail(c, r->request_id, "only the policy stage may ask");
	else if (!ratelimit_take(&c->requests, event_now_ms()))
		policyconn_fail(c, r->request_id, "too many requests");
	else if (!stagecf_policy_named(b->conf, b->master, r->endpoint))
		policyconn_fail(c, r->request_id, "no smtpd restriction names that endpoint");
	else if (policy_endpoint_parse(r->endpoint, &e, &why) < 0)
		policyconn_fail(c, r->request_id, buf_str(&why));
	else if ((s.fd = policy_endpoint_connect(&e)) < 0)
		policyconn_fail(c, r->request_id, strerror(errno));
	else {
		if (ipc_chan_send(&c->ch, MSG_BROKER_POLICY_SOCKET, &s) < 0)
			broker_child_log(c, MSG_WARN, "policy socket to pid %ld: %s", (long)c->pid,
					 buf_str(&c->ch.why));
		close(s.fd);
	}
	buf_free(&why);
}
