/*
 * spawn.c - fork and exec one stage process with its fds at fixed numbers.
 *
 * Child layout (skeleton/stage.h): 0, 1 and 2 /dev/null; 3 its broker
 * channel; 4 its log channel; 5.. the service's listeners (the LISTENS
 * stage, screen), the log output (the LOG_SINK stage) or the table files
 * (the TABLES stage). skeleton/stage_exec.c writes the argv and execs with
 * nothing else open and an empty environment.
 *
 * A start that fails for lack of resources (socketpair, fork: EMFILE,
 * EAGAIN, ENOMEM) never ends the broker: the service is throttled for
 * service_throttle_time, as Postfix's master does, and the line is rate
 * limited. broker_may_spawn says whether a service may start a process now:
 * never past maxproc, during its backoff or throttle, after giving up, or
 * while SPAWN_PENDING_MAX of its processes are still starting.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/buf.h"
#include "lib/fdplace.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"
#include "skeleton/stage_launch.h"

#define SPAWN_MAX_FDS FDPLACE_MAX
#define SPAWN_PENDING_MAX 8	/* processes of one service started and not yet ready */

/* broker_may_spawn - may svc start another process now? */
int broker_may_spawn(const struct broker *b, const struct service *svc)
{
	return !svc->gave_up && svc->nproc < svc->maxproc && event_now_ms() >= svc->next_spawn
	       && broker_starting(b, svc) < SPAWN_PENDING_MAX;
}

/* spawn_log_channel - a channel for the new stage to the log stage, if any. */
static int spawn_log_channel(struct broker *b, struct service *svc, int pair[2], struct child **logc)
{
	*logc = NULL;
	if (ipc_chan_pair(IPC_CHAN_LOG, pair) < 0)
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
 * file), a KEYS stage the TLS key files. A file that cannot be opened
 * throttles the service, as a failed fork does: the stage starts again
 * when it can.
 */
static int spawn_tables(struct broker *b, struct service *svc, int *fds, int *nfds, char ***targs,
			int *ntab)
{
	struct buf err = BUF_INIT;

	*ntab = 0;
	if (!(svc->def->flags & (STAGEDEF_F_TABLES | STAGEDEF_F_KEYS)))
		return 0;
	if (((svc->def->flags & STAGEDEF_F_TABLES)
	     ? broker_tables_open(&b->tables, fds + *nfds, ntab, SPAWN_MAX_FDS - *nfds, targs, &err)
	     : stagecf_tls_keys_open(b->conf, b->master, fds + *nfds, ntab, SPAWN_MAX_FDS - *nfds, targs, &err)) < 0) {
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

	if (ipc_chan_pair(IPC_CHAN_BROKER, ctl) < 0)
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
	argv = stage_launch_argv(b->daemon_dir, b->confdir, svc->name, svc->stage, svc->overrides,
				 nfds - STAGE_FD_EXTRA, targs, &path);
	if ((pid = fork()) == 0)
		stage_launch_exec(buf_str(&path), argv, fds, nfds);
	int saved = errno;

	close(ctl[0]);
	close(logp[0]);
	broker_tables_close(fds + nfds - ntab, ntab, targs);
	stage_launch_free_argv(argv);
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
