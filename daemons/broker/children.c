/*
 * children.c - supervise the stage processes: their exits, restarts with
 * backoff, giving up on a crash loop, and keeping each service running.
 *
 * A process that dies before it was ready, or within CHILD_QUICK_MS of its
 * start, counts as a failed start of its service: restarts then wait 0.5 s,
 * 1 s, 2 s, ... up to service_throttle_time, and after CHILD_GIVE_UP failed
 * starts in a row the broker stops restarting that service until the next
 * reload, and says so at error level. Only what a service's own processes do
 * counts: a death the broker caused on another stage's report, or a SIGKILL
 * from outside moat, is restarted at once and neither counts nor resets, so
 * no stage can drive another service into "giving up".
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/ratelog.h"
#include "lib/xmem.h"
#include "sandbox/sandbox.h"

#define CHILD_QUICK_MS	2000
#define CHILD_GIVE_UP	8

struct child *broker_child_by_pid(struct broker *b, pid_t pid)
{
	for (struct child *c = b->children; c; c = c->next)
		if (c->pid == pid)
			return c;
	return NULL;
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

/* broker_child_detach - uncount c and close our end of its channel. */
void broker_child_detach(struct broker *b, struct child *c)
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
		broker_child_log(c, MSG_WARN, "stop to %s pid %ld: %s", c->svc->stage, (long)c->pid,
				 buf_str(&c->ch.why));
}

/* broker_child_kill - cut c off and kill it (treated as compromised); once per process. */
void broker_child_kill(struct broker *b, struct child *c, int sig, const char *why)
{
	if (c->ch.fd < 0)
		return;
	msg_warn("killing %s pid %ld: %s", c->svc->stage, (long)c->pid, why);
	if (!c->reported)
		c->killed = 1;
	broker_child_detach(b, c);
	if (kill(c->pid, sig) < 0 && errno != ESRCH)
		msg_warn("kill %ld: %m", (long)c->pid);
}

/* child_log_exit - one line saying how a stage ended, Postfix style. */
static int child_log_exit(struct broker *b, struct child *c, int status)
{
	const char *st = c->svc->stage;

	ratelog_dropped(&c->lines, st, (long)c->pid);
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
 * child_own_failure - did c die of something its own service did? A SIGKILL
 * the broker did not send for c's own behaviour came from outside (an
 * operator, the OOM killer, a test) or from another stage's report: a stage
 * cannot kill itself that way, so it is no sign of a crash loop.
 */
static int child_own_failure(const struct child *c, int status)
{
	if (c->reported)
		return 0;
	return !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !c->killed && !c->seccomp_seen);
}

/* child_backoff - count quick deaths of a service and decide its next start. */
static void child_backoff(struct broker *b, struct child *c, int abnormal, int status)
{
	struct service *s = c->svc;
	int64_t now = event_now_ms(), cap = conf_time(b->conf, "service_throttle_time") * 1000;

	if (!abnormal || b->stopping || c->generation != b->generation || !child_own_failure(c, status))
		return;
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

	s->next_spawn = now + (delay > cap ? cap : delay);
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
	broker_grant_forget(b, c);
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
		broker_child_detach(b, c);
		child_backoff(b, c, child_log_exit(b, c, status), status);
		child_free(b, c);
	}
	broker_ensure(b);
}

/*
 * ensure_exclusive_busy - a single-process service waits for its old
 * process. Not a screen: each inet service has its own, and after a reload
 * the old one may finish its clients while the new one accepts. Not the log
 * stage: the old one serves the old generation until its last channel
 * closes, and the new generation needs its own meanwhile.
 */
static int ensure_exclusive_busy(struct broker *b, const struct service *s)
{
	if (s->maxproc != 1 || s->nlisten > 0 || (s->def->flags & STAGEDEF_F_LOG_SINK))
		return 0;
	for (struct child *c = b->children; c; c = c->next)
		if (c->svc != s && c->svc->def == s->def && c->svc->maxproc == 1)
			return 1;
	return 0;
}

/* broker_starting - processes of s that were started but are not ready yet. */
int broker_starting(const struct broker *b, const struct service *s)
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
	if (b->stopping)
		return;
	for (struct service *s = b->services; s; s = s->next) {
		int want = s->nproc == 0
			|| (s->nlisten > 0 && s->nidle == 0 && broker_starting(b, s) == 0);

		if (!want || !broker_may_spawn(b, s))
			continue;
		if (s->nproc == 0 && ensure_exclusive_busy(b, s))
			continue;
		(void)broker_spawn(b, s);
	}
}
