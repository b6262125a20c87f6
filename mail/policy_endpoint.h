/*
 * policy_endpoint.h - the address of a policy service as check_policy_service
 * names it: "inet:host:port" (host a numeric IPv4 or [IPv6] address, or
 * localhost) or "unix:/absolute/path".
 *
 * Read by the start-up check (a bad endpoint stops moatd with file and
 * line) and by the broker, which connects the policy stage to exactly
 * these endpoints and nothing else (policy_endpoint_connect). No name is ever resolved: the broker
 * sends no DNS query, and a policy server named by DNS could be moved by
 * whoever controls that name.
 */
#ifndef MOAT_MAIL_POLICY_ENDPOINT_H
#define MOAT_MAIL_POLICY_ENDPOINT_H

#include <sys/socket.h>
#include <sys/un.h>

#include "lib/buf.h"

struct policy_endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
};

/* policy_endpoint_parse - 0 with *e filled, or -1 and a reason in why. */
int policy_endpoint_parse(const char *text, struct policy_endpoint *e, struct buf *why);
/* policy_endpoint_connect - a non-blocking socket connecting (or connected)
 * to e, close-on-exec: whoever gets it sees the connect finish or fail; -1
 * with errno. Never waits. */
int policy_endpoint_connect(const struct policy_endpoint *e);

#endif
