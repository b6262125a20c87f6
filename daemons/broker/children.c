/*
 * children.c - supervise the stage processes: their broker channels, their
 * exits, restarts with backoff, and giving up on a crash loop.
 *
 * A stage that sends the broker anything its channel does not allow, or that
 * another stage reports for a protocol violation, is treated as compromised:
 * it is killed (SIGKILL) and a fresh one started. A process that dies before
 * it was ready, or within CHILD_QUICK_MS of its start, counts as a failed
 * start: restarts then wait 0.5 s, 1 s, 2 s, ... up to 60 s, and after
 * CHILD_GIVE_UP failed starts in a row the broker stops restarting that
 * service until the next reload, and says so at error level.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "sandbox/sandbox.h"

#define CHILD_QUICK_MS	2000
#define CHILD_GIVE_UP	8
#define CHILD_MAX_DELAY	60000

struct child *broker_child_by_pid(struct broker *b, pid_t pid)
{
	for (struct child *c = b->children; c; c = c->next)
		if (c->pid == pid)
			return c;
	return NULL;
}

int broker_live_children(const struct broker *b)
{
	int n = 0;

	for (const struct child *c = b->children; c; c = c->next)
		n++;
	return n;
}

/* child_uncount - stop counting c as a worker of its service. */
static void child_uncount(struct child *c)
{
	if (c->retiring)
		return;
	if (c->ready && !c->busy)
		c->svc->nidle--;
	c->svc->nproc--;
	c->retiring = 1;
}

/* child_detach - uncount c and close our end of its channel. */
static void child_detach(struct broker *b, struct child *c)
{
	if (c->ch.fd >= 0) {
		event_del(b->loop, c->ch.fd);
		ipc_chan_close(&c->ch);
	}
	child_uncount(c);
}

/* broker_child_retire - ask c to finish what it is doing and exit (reload). */
void broker_child_retire(struct broker *b, struct child *c)
{
	struct ipc_broker_stop stop = { .graceful = 1 };

	(void)b;
	if (c->retiring)
		return;
	child_uncount(c);
	if (c->ch.fd >= 0 && ipc_chan_send(&c->ch, MSG_BROKER_STOP, &stop) < 0)
		msg_warn("stop to %s pid %ld: %s", c->svc->stage, (long)c->pid, buf_str(&c->ch.why));
}

void broker_child_kill(struct broker *b, struct child *c, int sig, const char *why)
{
	msg_warn("killing %s pid %ld: %s", c->svc->stage, (long)c->pid, why);
	c->killed = 1;
	child_detach(b, c);
	if (kill(c->pid, sig) < 0 && errno != ESRCH)
		msg_warn("kill %ld: %m", (long)c->pid);
}

static void child_status(struct child *c, int busy)
{
	if (c->ready && !c->busy)
		c->svc->nidle--;
	c->busy = busy;
	if (c->ready && !c->busy)
		c->svc->nidle++;
}

static void child_violation_report(struct broker *b, struct child *c,
				   const struct ipc_broker_violation *v)
{
	struct child *peer = broker_child_by_pid(b, (pid_t)v->peer_pid);

	if (peer == NULL || peer == c) {
		msg_warn("%s pid %ld reported a violation by unknown pid %u: %s", c->svc->stage,
			 (long)c->pid, v->peer_pid, v->detail);
		return;
	}
	msg_warn("%s pid %ld reports protocol violation by %s pid %ld: %s", c->svc->stage,
		 (long)c->pid, peer->svc->stage, (long)peer->pid, v->detail);
	broker_child_kill(b, peer, SIGKILL, "protocol violation: treated as compromised");
}

/* child_message - act on one message a stage sent us. */
static void child_message(struct broker *b, struct child *c, struct ipc_msg *m)
{
	switch (m->type) {
	case MSG_BROKER_READY:
		if (c->ready++)
			break;
		if (!c->retiring && !c->busy)
			c->svc->nidle++;
		msg_debug("%s pid %ld ready", c->svc->stage, (long)c->pid);
		break;
	case MSG_BROKER_STATUS:
		/* busy: how many client channels it serves (smtpd: its screen channel) */
		c->npeers = (int)m->u.broker_status.busy;
		if (!c->retiring)
			child_status(c, m->u.broker_status.busy != 0);
		broker_ensure(b);
		break;
	case MSG_BROKER_PEER_REQUEST:
		broker_peer_request(b, c, &m->u.broker_peer_request);
		break;
	case MSG_BROKER_SECCOMP:
		c->seccomp_seen = 1;
		c->seccomp_nr = m->u.broker_seccomp.syscall_nr;
		c->seccomp_arch = m->u.broker_seccomp.arch;
		msg_warn("%s pid %ld: seccomp violation: syscall %s (%u)", c->svc->stage,
			 (long)c->pid, sandbox_syscall_name(c->seccomp_nr, c->seccomp_arch),
			 c->seccomp_nr);
		break;
	case MSG_BROKER_VIOLATION:
		child_violation_report(b, c, &m->u.broker_violation);
		break;
	case MSG_BROKER_TEST_NOTE:
		msg_warn("%s pid %ld: test: %s", c->svc->stage, (long)c->pid, m->u.broker_test_note.text);
		break;
	default:
		msg_panic("channel allowlist let %s through", ipc_type_name(m->type));
	}
}

/* broker_child_readable - drain a stage's broker channel. */
void broker_child_readable(int fd, unsigned events, void *ctx)
{
	struct broker *b = &broker;
	struct child *c = ctx;

	(void)fd;
	(void)events;
	while (c->ch.fd >= 0) {
		int r = ipc_chan_recv(&c->ch, &c->m);

		if (r == IPC_RECV_AGAIN)
			return;

		if (r == IPC_RECV_MSG) {
			child_message(b, c, &c->m);
			ipc_msg_free(&c->m);
			continue;
		}
		if (r == IPC_RECV_VIOLATION) {
			msg_warn("protocol violation on broker channel of %s pid %ld: %s",
				 c->svc->stage, (long)c->pid, buf_str(&c->ch.why));
			broker_child_kill(b, c, SIGKILL, "protocol violation: treated as compromised");
		} else {
			child_detach(b, c);	/* EOF or error: it is exiting; reap does the rest */
		}
		return;
	}
}

/* child_log_exit - one line saying how a stage ended, Postfix style. */
static int child_log_exit(struct broker *b, struct child *c, int status)
{
	const char *st = c->svc->stage;

	if (b->stopping && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) {
		msg_debug("process moat-%s pid %ld stopped", st, (long)c->pid);
		return 0;
	}
	if (c->seccomp_seen) {
		msg_warn("process moat-%s pid %ld killed by seccomp: syscall %s (%u)", st, (long)c->pid,
			 sandbox_syscall_name(c->seccomp_nr, c->seccomp_arch), c->seccomp_nr);
		return 1;
	}
	if (WIFSIGNALED(status)) {
		msg_warn("process moat-%s pid %ld killed by signal %d (%s)", st, (long)c->pid,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 1;
	}
	if (WEXITSTATUS(status) != 0) {
		msg_warn("process moat-%s pid %ld exit status %d", st, (long)c->pid, WEXITSTATUS(status));
		return 1;
	}
	msg_debug("process moat-%s pid %ld exited", st, (long)c->pid);
	return 0;
}

/*
 * child_backoff - count quick deaths of a service and decide its next start.
 * A SIGKILL that the broker did not send came from outside (an operator,
 * the OOM killer, a test): a stage cannot kill itself that way, so it is no
 * sign of a crash loop and the replacement starts at once.
 */
static void child_backoff(struct broker *b, struct child *c, int abnormal, int status)
{
	struct service *s = c->svc;
	int64_t now = event_now_ms();

	if (!abnormal || b->stopping || c->generation != b->generation)
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !c->killed && !c->seccomp_seen) {
		s->fails = 0;
		return;
	}
	if (c->ready && now - c->started >= CHILD_QUICK_MS) {
		s->fails = 0;
		return;
	}
	if (++s->fails >= CHILD_GIVE_UP && !s->gave_up) {
		s->gave_up = 1;
		msg_error("service %s (moat-%s): crash loop: %d failed starts in a row; "
			  "not restarting it until moatctl reload", s->name, s->stage, s->fails);
		return;
	}
	int64_t delay = (int64_t)500 << (s->fails > 7 ? 7 : s->fails - 1);

	s->next_spawn = now + (delay > CHILD_MAX_DELAY ? CHILD_MAX_DELAY : delay);
	msg_warn("service %s (moat-%s): quick death %d, next start in %lld ms", s->name, s->stage,
		 s->fails, (long long)(s->next_spawn - now));
}

static void child_free(struct broker *b, struct child *c)
{
	struct child **pp;

	for (pp = &b->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ipc_msg_free(&c->m);
	broker_service_release(c->svc);
	xfree(c);
}

/* broker_reap - collect every exited stage; restart what must run. */
void broker_reap(struct broker *b)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = broker_child_by_pid(b, pid);

		if (c == NULL)
			continue;
		if (c->ch.fd >= 0)	/* read its last words (a seccomp report) first */
			broker_child_readable(c->ch.fd, EVENT_READ, c);
		child_detach(b, c);
		child_backoff(b, c, child_log_exit(b, c, status), status);
		child_free(b, c);
	}
	broker_ensure(b);
}

/*
 * ensure_exclusive_busy - a single-process service waits for its old
 * process. Not a screen: each inet service has its own, and after a reload
 * the old one may finish its clients while the new one accepts.
 */
static int ensure_exclusive_busy(struct broker *b, const struct service *s)
{
	if (s->maxproc != 1 || s->nlisten > 0)
		return 0;
	for (struct child *c = b->children; c; c = c->next)
		if (c->svc != s && strcmp(c->svc->stage, s->stage) == 0 && c->svc->maxproc == 1)
			return 1;
	return 0;
}

/* ensure_starting - processes of s that were started but are not ready yet. */
static int ensure_starting(const struct broker *b, const struct service *s)
{
	int n = 0;

	for (const struct child *c = b->children; c; c = c->next)
		if (c->svc == s && !c->retiring && !c->ready)
			n++;
	return n;
}

/*
 * broker_ensure - every service keeps one process; a listening service also
 * keeps one idle process (up to maxproc), so a burst of connections never
 * waits for an exec.
 */
void broker_ensure(struct broker *b)
{
	int64_t now = event_now_ms();

	if (b->stopping)
		return;
	for (struct service *s = b->services; s; s = s->next) {
		int want = s->nproc == 0
			|| (s->nlisten > 0 && s->nidle == 0 && ensure_starting(b, s) == 0);

		if (s->gave_up || !want || s->nproc >= s->maxproc || now < s->next_spawn)
			continue;
		if (s->nproc == 0 && ensure_exclusive_busy(b, s))
			continue;
		(void)broker_spawn(b, s);
	}
}
