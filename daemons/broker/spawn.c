/*
 * spawn.c - fork and exec one stage process with its fds at fixed numbers.
 *
 * Child layout (skeleton/stage.h): 0, 1 and 2 /dev/null (a stage never
 * writes on the broker's terminal or log file); 3 its broker channel; 4 its
 * log channel; 5.. the service's listeners (the LISTENS stage, screen) or the log
 * output (the LOG_SINK stage). Nothing else survives the exec: every other
 * fd is closed, and the environment is empty (the test build passes
 * MOAT_TEST_ATTACK through, and nothing else). The child runs in its own
 * session so terminal signals reach only the broker.
 *
 * A start that fails for lack of resources (socketpair, fork: EMFILE,
 * EAGAIN, ENOMEM) never ends the broker: the service is throttled for
 * service_throttle_time, as Postfix's master does, and the line is rate
 * limited. broker_may_spawn says whether a service may start a process now:
 * never past maxproc, during its backoff or throttle, after giving up, or
 * while SPAWN_PENDING_MAX of its processes are still starting.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/buf.h"
#include "lib/fdplace.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"

#define SPAWN_MAX_FDS FDPLACE_MAX
#define SPAWN_PENDING_MAX 8	/* processes of one service started and not yet ready */

/* broker_may_spawn - may svc start another process now? */
int broker_may_spawn(const struct broker *b, const struct service *svc)
{
	return !svc->gave_up && svc->nproc < svc->maxproc && event_now_ms() >= svc->next_spawn
	       && broker_starting(b, svc) < SPAWN_PENDING_MAX;
}

/*
 * broker_argv - argv of a stage program: -c -s -n [-v] [-o name=value]...
 * [-a arg]...; path gets <daemon_directory>/moat-<stage>.
 */
char **broker_argv(const struct broker *b, const char *daemon_dir, const char *service,
		   const char *stage, char **overrides, int nextra, char **args, struct buf *path)
{
	size_t n = 0, cap = 12;
	char **argv;
	char nbuf[16];

	for (char **o = overrides; *o; o++)
		cap += 2;
	for (char **a = args; a && *a; a++)
		cap += 2;
	argv = xcalloc(cap, sizeof(char *));
	(void)buf_printf(path, "%s/moat-%s", daemon_dir, stage);
	snprintf(nbuf, sizeof(nbuf), "%d", nextra);
	argv[n++] = xstrdup(strrchr(buf_str(path), '/') + 1);
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(b->confdir);
	argv[n++] = xstrdup("-s");
	argv[n++] = xstrdup(service);
	argv[n++] = xstrdup("-n");
	argv[n++] = xstrdup(nbuf);
	if (msg_verbose)
		argv[n++] = xstrdup("-v");
	for (char **o = overrides; *o; o++) {
		argv[n++] = xstrdup("-o");
		argv[n++] = xstrdup(*o);
	}
	for (char **a = args; a && *a; a++) {
		argv[n++] = xstrdup("-a");
		argv[n++] = xstrdup(*a);
	}
	return argv;
}

void broker_free_argv(char **argv)
{
	for (char **a = argv; *a; a++)
		xfree(*a);
	xfree(argv);
}

/* broker_exec - in the child: fds in place, then exec; never returns. */
void broker_exec(const char *path, char **argv, const int *fds, int nfds)
{
	char *envp[2] = { NULL, NULL };
	sigset_t none;

#ifdef MOAT_TEST_HOOKS
	static char attack[512];
	const char *a = getenv("MOAT_TEST_ATTACK");

	if (a && strlen(a) < sizeof(attack) - 20) {
		snprintf(attack, sizeof(attack), "MOAT_TEST_ATTACK=%s", a);
		envp[0] = attack;
	}
#endif
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setsid();
	if (fdplace(fds, nfds) < 0)	/* room is made first: works near the fd limit */
		_exit(126);
	execve(path, argv, envp);
	dprintf(2, "moatd: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/*
 * broker_socketpair - a new channel of kind: sv[0] side A (the client, or
 * the stage on its broker channel), sv[1] side B; the kernel refuses fds on
 * an end whose peer may send none, before either end leaves the broker.
 */
int broker_socketpair(enum ipc_chan_kind kind, int sv[2])
{
	static int warned;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((ipc_chan_guard(sv[0], kind, IPC_SIDE_A) < 0 || ipc_chan_guard(sv[1], kind, IPC_SIDE_B) < 0)
	    && !warned++)
		msg_warn("SO_PASSRIGHTS: %m: unwanted fds are refused only after they arrive");
	return 0;
}

/* spawn_log_channel - a channel for the new stage to the log stage, if any. */
static int spawn_log_channel(struct broker *b, struct service *svc, int pair[2], struct child **logc)
{
	*logc = NULL;
	if (broker_socketpair(IPC_CHAN_LOG, pair) < 0)
		return -1;
	if (svc->def->flags & STAGEDEF_F_LOG_SINK)
		return 0;
	for (struct child *c = b->children; c; c = c->next)
		if (!c->retiring && (c->svc->def->flags & STAGEDEF_F_LOG_SINK))
			*logc = c;
	return 0;
}

/* spawn_start - parent side: hello and the typed start message. */
static void spawn_start(struct broker *b, struct child *c)
{
	struct ipc_broker_start st = {
		.stage = c->svc->stage, .service = c->svc->name,
		.instance = (uint32_t)c->svc->nproc, .generation = b->generation,
		.flags = c->svc->started_once ? 0 : STAGE_START_FIRST,
	};

	if (ipc_chan_hello(&c->ch) < 0 || ipc_chan_send(&c->ch, MSG_BROKER_START, &st) < 0)
		broker_child_log(c, MSG_WARN, "start message to %s pid %ld: %s", c->svc->stage,
				 (long)c->pid, buf_str(&c->ch.why));
	c->svc->started_once = 1;
}

/* spawn_failed - a start that could not happen: throttle the service, say so. */
static struct child *spawn_failed(struct broker *b, struct service *svc, const char *what)
{
	int64_t pause = conf_time(b->conf, "service_throttle_time") * 1000;

	svc->next_spawn = event_now_ms() + pause;
	broker_service_log(svc, MSG_WARN, "service %s (moat-%s): %s: %m; throttling it for %lld s",
			   svc->name, svc->stage, what, (long long)(pause / 1000));
	return NULL;
}

/* spawn_child - the broker's record of a new process, counted in its service. */
static struct child *spawn_child(struct broker *b, struct service *svc, pid_t pid, int fd)
{
	struct child *c = xcalloc(1, sizeof(*c));

	c->pid = pid;
	c->svc = svc;
	svc->refs++;
	c->generation = b->generation;
	c->started = event_now_ms();
	broker_child_limits(c, c->started);
	ipc_msg_init(&c->m);
	ipc_chan_init(&c->ch, fd, IPC_CHAN_BROKER, IPC_SIDE_B, svc->stage, pid);
	c->next = b->children;
	b->children = c;
	svc->nproc++;
	return c;
}

/* spawn_log_grant - give the log stage its end of the new stage's log channel. */
static void spawn_log_grant(struct broker *b, struct child *c, struct child *logc, int fd)
{
	struct ipc_broker_peer_accept acc = {
		.peer_stage = c->svc->stage, .peer_pid = (uint32_t)c->pid, .fd = fd,
	};

	if (ipc_chan_send(&logc->ch, MSG_BROKER_PEER_ACCEPT, &acc) < 0)
		broker_child_log(logc, MSG_WARN, "log channel for %s: %s", c->svc->stage,
				 buf_str(&logc->ch.why));
	else
		broker_grant_add(b, c, logc, fd);
}

/* spawn_close_pairs - a start given up after both channels were made. */
static void spawn_close_pairs(int ctl[2], int logp[2])
{
	close(ctl[0]);
	close(ctl[1]);
	close(logp[0]);
	close(logp[1]);
}

/*
 * spawn_tables - a TABLES stage gets the files of every table after its
 * other fds, opened now (a table replaced since the last start is the new
 * file). A file that cannot be opened throttles the service, as a failed
 * fork does: the lookup stage starts again when it can.
 */
static int spawn_tables(struct broker *b, struct service *svc, int *fds, int *nfds, char ***targs,
			int *ntab)
{
	struct buf err = BUF_INIT;

	*ntab = 0;
	if (!(svc->def->flags & STAGEDEF_F_TABLES))
		return 0;
	if (broker_tables_open(&b->tables, fds + *nfds, ntab, SPAWN_MAX_FDS - *nfds, targs, &err) < 0) {
		int64_t pause = conf_time(b->conf, "service_throttle_time") * 1000;

		svc->next_spawn = event_now_ms() + pause;
		broker_service_log(svc, MSG_ERROR, "service %s (moat-%s): %s; throttling it for %lld s",
				   svc->name, svc->stage, buf_str(&err), (long long)(pause / 1000));
		buf_free(&err);
		return -1;
	}
	*nfds += *ntab;
	return 0;
}

struct child *broker_spawn(struct broker *b, struct service *svc)
{
	int ctl[2], logp[2], fds[SPAWN_MAX_FDS], nfds = 0, ntab = 0;	/* [0] the new stage's end */
	char **targs = NULL;
	struct buf path = BUF_INIT;
	struct child *c, *logc;
	char **argv;
	pid_t pid;

	if (broker_socketpair(IPC_CHAN_BROKER, ctl) < 0)
		return spawn_failed(b, svc, "socketpair");
	if (spawn_log_channel(b, svc, logp, &logc) < 0) {
		int saved = errno;

		close(ctl[1]);
		close(ctl[0]);
		errno = saved;
		return spawn_failed(b, svc, "socketpair");
	}
	fds[nfds++] = b->devnull;
	fds[nfds++] = b->devnull;
	fds[nfds++] = b->devnull;
	fds[nfds++] = ctl[0];
	fds[nfds++] = (svc->def->flags & STAGEDEF_F_LOG_SINK) ? b->devnull : logp[0];
	if (svc->def->flags & STAGEDEF_F_LOG_SINK)
		fds[nfds++] = b->logfd;
	for (int i = 0; i < svc->nlisten && nfds < SPAWN_MAX_FDS; i++)
		fds[nfds++] = svc->listen_fds[i];
	if (spawn_tables(b, svc, fds, &nfds, &targs, &ntab) < 0) {
		spawn_close_pairs(ctl, logp);
		return NULL;
	}
	argv = broker_argv(b, b->daemon_dir, svc->name, svc->stage, svc->overrides,
			   nfds - STAGE_FD_EXTRA, targs, &path);
	if ((pid = fork()) == 0)
		broker_exec(buf_str(&path), argv, fds, nfds);
	int saved = errno;

	close(ctl[0]);
	close(logp[0]);
	broker_tables_close(fds + nfds - ntab, ntab, targs);
	broker_free_argv(argv);
	buf_free(&path);
	if (pid < 0) {
		close(ctl[1]);
		close(logp[1]);
		errno = saved;
		return spawn_failed(b, svc, "fork");
	}
	c = spawn_child(b, svc, pid, ctl[1]);
	spawn_start(b, c);
	if (iox_set_nonblock(ctl[1], 1) < 0
	    || event_add(b->loop, ctl[1], EVENT_READ, broker_child_readable, c) < 0) {
		msg_warn("watch channel of %s pid %ld: %m", svc->stage, (long)pid);
		broker_child_kill(b, c, SIGKILL, "its channel cannot be watched");
	}
	if (logc)
		spawn_log_grant(b, c, logc, logp[1]);
	close(logp[1]);
	msg_debug("started %s pid %ld for service %s", svc->stage, (long)pid, svc->name);
	return c;
}
