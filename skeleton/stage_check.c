/*
 * stage_check.c - one check run of a stage program (stage_launch.h): moatd
 * refuses a configuration whose tables cannot be read or parsed by running
 * the lookup program once with STAGE_START_CHECK, same argv, same fds, same
 * sandbox as the real stage, before it forks any stage (start-up) or
 * retires any (reload).
 *
 * The program gets a broker channel and a log channel of its own (no log
 * stage runs yet at start-up). This file reads the MSG_LOG_LINEs it sends
 * (strictly decoded, like any stage message) and keeps those at error
 * level or worse, reads a seccomp report from its broker channel, waits for
 * its exit within STAGE_CHECK_WAIT_MS and kills it then.
 *
 * SECURITY: runs in moatd (root). The check process is confined and may be
 * fed hostile tables: what it says is bounded (CHECK_ERR_MAX bytes kept),
 * only ever quoted in the refusal, and nothing it sends is acted on.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "lib/event.h"
#include "lib/fdplace.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "sandbox/sandbox.h"
#include "skeleton/stage.h"
#include "skeleton/stage_launch.h"

#define CHECK_ERR_MAX	8192	/* bytes of its error lines kept */

struct check_run {
	pid_t pid;
	struct ipc_chan ctl, log;
	struct ipc_msg m;
	struct buf lines;	/* its error lines, for the refusal */
	int status;
	int exited;
};

/* check_keep_line - one error line for the refusal, without its "error: "
 * or "fatal: " (moatd's own "fatal: " comes first). */
static void check_keep_line(struct check_run *r, const char *text, size_t len)
{
	static const char *const prefixes[] = { "error: ", "fatal: ", "panic: " };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);

		if (len >= plen && memcmp(text, prefixes[i], plen) == 0) {
			text += plen;
			len -= plen;
			break;
		}
	}
	(void)buf_printf(&r->lines, "%s%.*s", r->lines.len ? "\n" : "", (int)len, text);
}

/* check_read_log - the check's log lines: errors (and worse) are kept. */
static void check_read_log(struct check_run *r)
{
	while (r->log.fd >= 0) {
		int n = ipc_chan_recv(&r->log, &r->m);

		if (n != IPC_RECV_MSG) {
			if (n != IPC_RECV_AGAIN)
				ipc_chan_close(&r->log);
			return;
		}
		if (r->m.type == MSG_LOG_LINE && r->m.u.log_line.level >= MSG_ERROR
		    && r->lines.len < CHECK_ERR_MAX)
			check_keep_line(r, r->m.u.log_line.text, r->m.u.log_line.text_len);
	}
}

/* check_read_ctl - READY and a seccomp report are all it may say; nothing is acted on. */
static void check_read_ctl(struct check_run *r)
{
	while (r->ctl.fd >= 0) {
		int n = ipc_chan_recv(&r->ctl, &r->m);

		if (n != IPC_RECV_MSG) {
			if (n != IPC_RECV_AGAIN)
				ipc_chan_close(&r->ctl);
			return;
		}
		if (r->m.type == MSG_BROKER_SECCOMP && r->lines.len < CHECK_ERR_MAX)
			(void)buf_printf(&r->lines, "%skilled by seccomp: syscall %s",
					 r->lines.len ? "\n" : "",
					 sandbox_syscall_name(r->m.u.broker_seccomp.syscall_nr,
							      r->m.u.broker_seccomp.arch));
	}
}

/* check_wait - read its lines until it exits; kill it at the deadline. */
static void check_wait(struct check_run *r)
{
	int64_t deadline = event_now_ms() + STAGE_CHECK_WAIT_MS;

	while (!r->exited) {
		struct pollfd p[2] = { { r->log.fd, POLLIN, 0 }, { r->ctl.fd, POLLIN, 0 } };

		(void)poll(p, 2, 100);
		check_read_log(r);
		check_read_ctl(r);
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->exited = 1;
		else if (event_now_ms() >= deadline && kill(r->pid, SIGKILL) == 0)
			(void)buf_printf(&r->lines, "%sthe check took more than %d s: killed",
					 r->lines.len ? "\n" : "", STAGE_CHECK_WAIT_MS / 1000);
	}
	check_read_log(r);	/* what it said just before its exit */
}

/* check_start - fork the check with its channels and c's fds; -1 and err. */
static int check_start(const struct stage_check *c, struct check_run *r, struct buf *err)
{
	int ctl[2], logp[2], fds[FDPLACE_MAX];
	struct ipc_broker_start st = { .stage = c->stage, .service = c->service,
				       .flags = STAGE_START_CHECK };
	struct buf path = BUF_INIT;
	char **argv;

	if (c->nextra > FDPLACE_MAX - STAGE_FD_EXTRA) {
		(void)buf_printf(err, "%s check: %d fds: too many", c->stage, c->nextra);
		return -1;
	}
	if (ipc_chan_pair(IPC_CHAN_BROKER, ctl) < 0) {
		(void)buf_printf(err, "%s check: socketpair: %m", c->stage);
		return -1;
	}
	if (ipc_chan_pair(IPC_CHAN_LOG, logp) < 0) {
		(void)buf_printf(err, "%s check: socketpair: %m", c->stage);
		close(ctl[0]);
		close(ctl[1]);
		return -1;
	}
	fds[0] = fds[1] = fds[2] = c->devnull;
	fds[STAGE_FD_BROKER] = ctl[0];
	fds[STAGE_FD_LOG] = logp[0];
	for (int i = 0; i < c->nextra; i++)
		fds[STAGE_FD_EXTRA + i] = c->extra[i];
	argv = stage_launch_argv(c->daemon_dir, c->confdir, c->service, c->stage, c->overrides,
				 c->nextra, c->args, &path);
	if ((r->pid = fork()) == 0)
		stage_launch_exec(buf_str(&path), argv, fds, STAGE_FD_EXTRA + c->nextra);
	if (r->pid < 0)
		(void)buf_printf(err, "%s check: fork: %m", c->stage);
	close(ctl[0]);
	close(logp[0]);
	stage_launch_free_argv(argv);
	buf_free(&path);
	ipc_chan_init(&r->ctl, ctl[1], IPC_CHAN_BROKER, IPC_SIDE_B, c->stage, r->pid);
	ipc_chan_init(&r->log, logp[1], IPC_CHAN_LOG, IPC_SIDE_B, c->stage, r->pid);
	if (r->pid < 0)
		return -1;
	if (ipc_chan_hello(&r->ctl) < 0 || ipc_chan_send(&r->ctl, MSG_BROKER_START, &st) < 0)
		msg_warn("%s check: start message: %s", c->stage, buf_str(&r->ctl.why));
	(void)iox_set_nonblock(ctl[1], 1);
	(void)iox_set_nonblock(logp[1], 1);
	return 0;
}

int stage_check_run(const struct stage_check *c, struct buf *err)
{
	struct check_run r = { .pid = -1 };
	int ok;

	buf_init(&r.lines, 0);
	ipc_msg_init(&r.m);
	if (check_start(c, &r, err) < 0) {
		ok = 0;
	} else {
		check_wait(&r);
		ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
		if (!ok)
			(void)buf_printf(err, "%s", r.lines.len ? buf_str(&r.lines)
					 : "the check failed and said nothing");
	}
	if (r.ctl.fd >= 0)
		ipc_chan_close(&r.ctl);
	if (r.log.fd >= 0)
		ipc_chan_close(&r.log);
	ipc_msg_free(&r.m);
	buf_free(&r.lines);
	return ok ? 0 : -1;
}
