/*
 * spawn.c - fork and exec one stage process with its fds at fixed numbers.
 *
 * Child layout (skeleton/stage.h): 0,1 /dev/null; 2 stderr in foreground mode
 * else /dev/null; 3 its broker channel; 4 its log channel; 5.. the
 * service's listeners (screen) or the log output (log stage). Nothing else
 * survives the exec: every other fd is closed, and the environment is empty
 * (the test build passes MOAT_TEST_ATTACK through, and nothing else). The
 * child runs in its own session so terminal signals reach only the broker.
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
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"

#define SPAWN_MAX_FDS 64

/* spawn_place_fds - move the sources into 0..n-1 without clobbering any. */
static void spawn_place_fds(const int *src, int n)
{
	int high[SPAWN_MAX_FDS];

	for (int i = 0; i < n; i++)
		if ((high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 100)) < 0)
			_exit(126);
	for (int i = 0; i < n; i++)
		if (dup2(high[i], i) < 0)
			_exit(126);
	iox_close_from(n);
}

static char **spawn_argv(struct broker *b, struct service *svc, int nextra, struct buf *path)
{
	size_t n = 0, cap = 12;
	char **argv;
	char nbuf[16];

	for (char **o = svc->overrides; *o; o++)
		cap += 2;
	argv = xcalloc(cap, sizeof(char *));
	(void)buf_printf(path, "%s/moat-%s", b->daemon_dir, svc->stage);
	snprintf(nbuf, sizeof(nbuf), "%d", nextra);
	argv[n++] = xstrdup(strrchr(buf_str(path), '/') + 1);
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(b->confdir);
	argv[n++] = xstrdup("-s");
	argv[n++] = xstrdup(svc->name);
	argv[n++] = xstrdup("-n");
	argv[n++] = xstrdup(nbuf);
	if (msg_verbose)
		argv[n++] = xstrdup("-v");
	for (char **o = svc->overrides; *o; o++) {
		argv[n++] = xstrdup("-o");
		argv[n++] = xstrdup(*o);
	}
	return argv;
}

static void spawn_free_argv(char **argv)
{
	for (char **a = argv; *a; a++)
		xfree(*a);
	xfree(argv);
}

/* spawn_exec - in the child: fds in place, then exec; never returns. */
static void spawn_exec(struct broker *b, const char *path, char **argv, const int *fds, int nfds)
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
	(void)b;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setsid();
	spawn_place_fds(fds, nfds);
	execve(path, argv, envp);
	dprintf(2, "moatd: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* spawn_log_channel - a channel for the new stage to the log stage, if any. */
static int spawn_log_channel(struct broker *b, struct service *svc, int pair[2], struct child **logc)
{
	*logc = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return -1;
	if (strcmp(svc->stage, "log") == 0)
		return 0;
	for (struct child *c = b->children; c; c = c->next)
		if (!c->retiring && strcmp(c->svc->stage, "log") == 0)
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
		msg_warn("start message to %s pid %ld: %s", c->svc->stage, (long)c->pid,
			 buf_str(&c->ch.why));
	c->svc->started_once = 1;
}

struct child *broker_spawn(struct broker *b, struct service *svc)
{
	int ctl[2], logp[2], devnull, fds[SPAWN_MAX_FDS], nfds = 0;
	struct buf path = BUF_INIT;
	struct child *c, *logc;
	char **argv;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0
	    || spawn_log_channel(b, svc, logp, &logc) < 0)
		msg_fatal("socketpair: %m");
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		msg_fatal("/dev/null: %m");
	fds[nfds++] = devnull;
	fds[nfds++] = devnull;
	fds[nfds++] = b->foreground ? 2 : devnull;
	fds[nfds++] = ctl[1];
	fds[nfds++] = strcmp(svc->stage, "log") == 0 ? devnull : logp[1];
	if (strcmp(svc->stage, "log") == 0)
		fds[nfds++] = b->logfd;
	for (int i = 0; i < svc->nlisten && nfds < SPAWN_MAX_FDS; i++)
		fds[nfds++] = svc->listen_fds[i];
	argv = spawn_argv(b, svc, nfds - STAGE_FD_EXTRA, &path);
	if ((pid = fork()) < 0)
		msg_fatal("fork: %m");
	if (pid == 0)
		spawn_exec(b, buf_str(&path), argv, fds, nfds);
	close(ctl[1]);
	close(logp[1]);
	close(devnull);
	spawn_free_argv(argv);
	buf_free(&path);

	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->svc = svc;
	svc->refs++;
	c->generation = b->generation;
	c->started = event_now_ms();
	ipc_msg_init(&c->m);
	ipc_chan_init(&c->ch, ctl[0], IPC_CHAN_BROKER, IPC_SIDE_B, svc->stage, pid);
	c->next = b->children;
	b->children = c;
	svc->nproc++;
	spawn_start(b, c);
	if (iox_set_nonblock(ctl[0], 1) < 0
	    || event_add(b->loop, ctl[0], EVENT_READ, broker_child_readable, c) < 0)
		msg_fatal("watch stage channel: %m");
	if (logc) {
		struct ipc_broker_peer_accept acc = {
			.peer_stage = svc->stage, .peer_pid = (uint32_t)pid, .fd = logp[0],
		};

		if (ipc_chan_send(&logc->ch, MSG_BROKER_PEER_ACCEPT, &acc) < 0)
			msg_warn("log channel for %s: %s", svc->stage, buf_str(&logc->ch.why));
	}
	close(logp[0]);
	msg_debug("started %s pid %ld for service %s", svc->stage, (long)pid, svc->name);
	return c;
}
