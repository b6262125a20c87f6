/*
 * stagemsg.c - what a stage tells the broker on its channel, and every line
 * the broker writes on a stage's behalf.
 *
 * A stage may say: READY, STATUS (busy yes/no: a hint for keeping an idle
 * listener process, never a load figure), PEER_REQUEST (peers.c), SECCOMP
 * (its last words), VIOLATION (a peer broke its channel's protocol) and, in
 * the test build only, TEST_NOTE. Anything else is cut off by the channel
 * allowlist; the stage is then killed as compromised.
 *
 * SECURITY: every stage may be compromised, so nothing here may let one
 * stage make the broker block, write without bound, or hurt another stage
 * beyond what the reporting rules allow:
 *  - at most CHILD_MSGS_PER_WAKEUP messages are read per wakeup, so a
 *    flooding stage shares the event loop with the others;
 *  - lines logged about a stage pass its own rate limit (burst, then one a
 *    second; what is dropped is counted and said later);
 *  - a violation report is believed only about a process the broker joined
 *    to the reporter (grants.c), at most REPORTS_BURST then one per
 *    REPORTS_INTERVAL_MS per reporter; a report naming a running stage the
 *    reporter was never joined to is forged: the reporter is the one killed.
 *    The peer killed on a believed report is restarted at once, and its death
 *    never counts toward its service's crash loop.
 */
#include <signal.h>
#include <stdarg.h>

#include "daemons/broker/broker.h"
#include "lib/ratelog.h"
#include "sandbox/sandbox.h"

#define CHILD_MSGS_PER_WAKEUP	32
#define LINES_BURST		20	/* lines about one process, then one a second */
#define LINES_INTERVAL_MS	1000
#define REPORTS_BURST		5	/* believed reports, then one per 10 s */
#define REPORTS_INTERVAL_MS	10000
#define REQUESTS_BURST		200	/* peer requests, then one per 10 ms */
#define REQUESTS_INTERVAL_MS	10

/* broker_child_limits - the rate limits of a new process. */
void broker_child_limits(struct child *c, int64_t now)
{
	ratelimit_init(&c->lines, LINES_BURST, LINES_INTERVAL_MS, now);
	ratelimit_init(&c->reports, REPORTS_BURST, REPORTS_INTERVAL_MS, now);
	ratelimit_init(&c->requests, REQUESTS_BURST, REQUESTS_INTERVAL_MS, now);
}

/* broker_service_limits - the rate limit of lines about starting a service. */
void broker_service_limits(struct service *s, int64_t now)
{
	ratelimit_init(&s->lines, LINES_BURST, LINES_INTERVAL_MS, now);
}

/* broker_lines_flush - the timer's turn: say what was dropped, when the limit allows. */
void broker_lines_flush(struct broker *b)
{
	int64_t now = event_now_ms();

	for (struct child *c = b->children; c; c = c->next)
		if (c->lines.dropped > 0 && ratelimit_take(&c->lines, now))
			ratelog_dropped(&c->lines, c->svc->stage, (long)c->pid);
}

/* broker_child_log - a line about c, within c's own rate limit. */
void broker_child_log(struct child *c, enum msg_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ratelog_v(&c->lines, event_now_ms(), c->svc->stage, (long)c->pid, level, fmt, ap);
	va_end(ap);
}

/* broker_service_log - a line about starting s, within s's rate limit. */
void broker_service_log(struct service *s, enum msg_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ratelog_v(&s->lines, event_now_ms(), s->name, 0, level, fmt, ap);
	va_end(ap);
}

static void stagemsg_status(struct broker *b, struct child *c, int busy)
{
	if (!c->retiring && c->ready && !c->busy)
		c->svc->nidle--;
	c->busy = busy;
	if (!c->retiring && c->ready && !c->busy)
		c->svc->nidle++;
	broker_ensure(b);
}

static void stagemsg_ready(struct child *c)
{
	if (c->ready++)
		return;
	if (!c->retiring && !c->busy)
		c->svc->nidle++;
	msg_debug("%s pid %ld ready", c->svc->stage, (long)c->pid);
}

/* stagemsg_violation - c says peer_pid broke a channel: believe it, or not. */
static void stagemsg_violation(struct broker *b, struct child *c, const struct ipc_broker_violation *v)
{
	struct child *peer = broker_child_by_pid(b, (pid_t)v->peer_pid);

	if (peer == NULL || peer == c) {
		broker_child_log(c, MSG_WARN, "%s pid %ld reported a violation by pid %u, "
				 "which is no other running stage: ignored", c->svc->stage,
				 (long)c->pid, v->peer_pid);
		return;
	}
	if (!broker_grant_between(b, c, peer)) {
		msg_warn("%s pid %ld reported %s pid %ld, to which it was never joined: a forged report",
			 c->svc->stage, (long)c->pid, peer->svc->stage, (long)peer->pid);
		broker_child_kill(b, c, SIGKILL, "forged violation report: treated as compromised");
		return;
	}
	if (!ratelimit_take(&c->reports, event_now_ms())) {
		broker_child_log(c, MSG_WARN, "%s pid %ld reports too many violations; ignored this "
				 "one about %s pid %ld", c->svc->stage, (long)c->pid, peer->svc->stage,
				 (long)peer->pid);
		return;
	}
	broker_child_log(c, MSG_WARN, "%s pid %ld reports protocol violation by %s pid %ld: %s",
			 c->svc->stage, (long)c->pid, peer->svc->stage, (long)peer->pid, v->detail);
	if (peer->ch.fd < 0)
		return;		/* already cut off and on its way out */
	peer->reported = 1;
	broker_child_kill(b, peer, SIGKILL, "protocol violation: treated as compromised");
}

/*
 * stagemsg_leave - c is about to exit on its own (max_use, max_idle): no
 * more channels for it, and our STOP tells it that none is on its way (a
 * grant sent before this message reaches it before the STOP).
 */
static void stagemsg_leave(struct broker *b, struct child *c)
{
	struct ipc_broker_stop stop = { .graceful = 1 };

	if (!c->retiring) {
		broker_child_retire(b, c);	/* sends the STOP */
		return;
	}
	if (ipc_chan_send(&c->ch, MSG_BROKER_STOP, &stop) < 0)
		broker_child_log(c, MSG_WARN, "stop to %s pid %ld: %s", c->svc->stage, (long)c->pid,
				 buf_str(&c->ch.why));
}

/* stagemsg_one - act on one message a stage sent us. */
static void stagemsg_one(struct broker *b, struct child *c, struct ipc_msg *m)
{
	switch (m->type) {
	case MSG_BROKER_READY:
		stagemsg_ready(c);
		break;
	case MSG_BROKER_STATUS:
		stagemsg_status(b, c, m->u.broker_status.busy != 0);
		break;
	case MSG_BROKER_LEAVE:
		stagemsg_leave(b, c);
		break;
	case MSG_BROKER_PEER_REQUEST:
		broker_peer_request(b, c, &m->u.broker_peer_request);
		break;
	case MSG_BROKER_SECCOMP:
		c->seccomp_seen = 1;
		c->seccomp_nr = m->u.broker_seccomp.syscall_nr;
		c->seccomp_arch = m->u.broker_seccomp.arch;
		broker_child_log(c, MSG_WARN, "%s pid %ld: seccomp violation: syscall %s (%u)",
				 c->svc->stage, (long)c->pid,
				 sandbox_syscall_name(c->seccomp_nr, c->seccomp_arch), c->seccomp_nr);
		break;
	case MSG_BROKER_VIOLATION:
		stagemsg_violation(b, c, &m->u.broker_violation);
		break;
	case MSG_BROKER_POLICY_CONNECT:
		broker_policy_connect(b, c, &m->u.broker_policy_connect);
		break;
#ifdef MOAT_TEST_HOOKS
	case MSG_BROKER_TEST_NOTE:
		broker_child_log(c, MSG_WARN, "%s pid %ld: test: %s", c->svc->stage, (long)c->pid,
				 m->u.broker_test_note.text);
		break;
#endif
	default:
		msg_panic("channel allowlist let %s through", ipc_type_name(m->type));
	}
}

/* broker_child_readable - a stage's broker channel: a bounded batch of messages. */
void broker_child_readable(int fd, unsigned events, void *ctx)
{
	struct broker *b = &broker;
	struct child *c = ctx;

	(void)fd;
	(void)events;
	for (int n = 0; n < CHILD_MSGS_PER_WAKEUP && c->ch.fd >= 0; n++) {
		int r = ipc_chan_recv(&c->ch, &c->m);

		if (r == IPC_RECV_AGAIN)
			return;
		if (r == IPC_RECV_MSG) {
			stagemsg_one(b, c, &c->m);
			ipc_msg_reset(&c->m);
			continue;
		}
		if (r == IPC_RECV_VIOLATION) {
			broker_child_log(c, MSG_WARN, "protocol violation on broker channel of %s pid %ld: %s",
					 c->svc->stage, (long)c->pid, buf_str(&c->ch.why));
			broker_child_kill(b, c, SIGKILL, "protocol violation: treated as compromised");
		} else {
			broker_child_detach(b, c);	/* EOF or error: it is exiting; reap does the rest */
		}
		return;
	}
}
