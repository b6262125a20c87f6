/*
 * policy.h - the policy stage's internal interfaces (daemons/policy only).
 *
 *   policy.c      stage entry, smtpd channels, request checks, answers
 *   policy_srv.c  one connection per policy server: queue, send, read, retry
 */
#ifndef MOAT_DAEMONS_POLICY_H
#define MOAT_DAEMONS_POLICY_H

#include <stdint.h>

#include "ipc/ipc.h"
#include "lib/buf.h"
#include "lib/event.h"
#include "skeleton/stage.h"

#define POLICY_ANSWER_MAX	8192	/* one answer, all lines: longer is garbage */
#define POLICY_SERVERS_MAX	64	/* distinct endpoints */
#define POLICY_QUEUE_MAX	1024	/* requests waiting for one server */

/* smtpd_policy_service_* as main.cf gives them (ms, counts). */
struct policy_limits {
	int64_t timeout, max_idle, max_ttl, retry_delay;
	int try_limit;
	unsigned request_limit;		/* 0: no limit */
};

struct policy_client;

/* One request from an smtpd, waiting for or at its server. */
struct policy_req {
	struct policy_client *cl;	/* NULL once the smtpd went away */
	uint32_t id;
	struct buf text;		/* the request as sent: attributes, then an empty line */
	int tries;
	struct policy_req *next;
};

struct policy_srv;

/* policy_srv.c */
void policy_srv_init(struct stage *st, struct event_loop *loop, const struct policy_limits *l);
/* policy_srv_submit - queue r at endpoint's server; -1 (r not taken) if full. */
int policy_srv_submit(const char *endpoint, struct policy_req *r);
/* policy_srv_forget - cl is gone: its queued requests will not be answered. */
void policy_srv_forget(struct policy_client *cl);

/* policy.c: a request is over (action, or status POLICY_FAILED and why); frees r. */
void policy_done(struct policy_req *r, uint32_t status, const char *action);

#endif
