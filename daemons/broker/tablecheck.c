/*
 * tablecheck.c - moatd refuses a configuration whose tables cannot be read
 * or parsed, before it forks any stage (start-up) or retires any (reload).
 *
 * The broker must not parse tables, so the check is the lookup program
 * itself, run once with STAGE_START_CHECK: same argv, same fds, same
 * sandbox as the real stage. The broker hands it a log channel of its own
 * (no log stage runs yet at start-up), reads the MSG_LOG_LINEs it sends
 * (strictly decoded, like any stage message), waits for its exit within
 * TABLES_CHECK_MS, and turns its error lines into the reason the
 * configuration is refused. It reads nothing else from it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/fdplace.h"
#include "lib/iox.h"
#include "lib/xmem.h"
#include "sandbox/sandbox.h"
#include "skeleton/stage.h"

#define CHECK_WAIT_MS	120000	/* a check that takes longer is killed */
#define CHECK_ERR_MAX	8192	/* bytes of its error lines kept */

struct check_run {
	pid_t pid;
	struct ipc_chan ctl, log;
	struct ipc_msg m;
	struct buf lines;	/* its error lines, for the refusal */
	int status;
	int exited;
};

/* check_service - the master.cf service that runs the TABLES stage, or NULL. */
static const struct master_service *check_service(const struct master_cf *m)
{
	for (size_t i = 0; i < m->nsvc; i++) {
		const struct stagedef *d = stagedef_lookup(m->svc[i].command);

		if (d && (d->flags & STAGEDEF_F_TABLES))
			return &m->svc[i];
	}
	return NULL;
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
			(void)buf_printf(&r->lines, "%s%.*s", r->lines.len ? "\n" : "",
					 (int)r->m.u.log_line.text_len, r->m.u.log_line.text);
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
	int64_t deadline = event_now_ms() + CHECK_WAIT_MS;

	while (!r->exited) {
		struct pollfd p[2] = { { r->log.fd, POLLIN, 0 }, { r->ctl.fd, POLLIN, 0 } };

		(void)poll(p, 2, 100);
		check_read_log(r);
		check_read_ctl(r);
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->exited = 1;
		else if (event_now_ms() >= deadline && kill(r->pid, SIGKILL) == 0)
			(void)buf_printf(&r->lines, "%sthe table check took more than %d s: killed",
					 r->lines.len ? "\n" : "", CHECK_WAIT_MS / 1000);
	}
	check_read_log(r);	/* what it said just before its exit */
}

/* check_start - fork the check with the tables' fds; -1 and err. */
static int check_start(struct broker *b, const struct conf *c, const struct master_service *sv,
		       const struct stagecf_tables *t, struct check_run *r, struct buf *err)
{
	int ctl[2], logp[2], fds[FDPLACE_MAX], ntab;
	struct ipc_broker_start st = { .stage = sv->command, .service = sv->name,
				       .flags = STAGE_START_CHECK };
	struct buf path = BUF_INIT;
	char **args, **argv;

	if (broker_tables_open(t, fds + STAGE_FD_EXTRA, &ntab, FDPLACE_MAX - STAGE_FD_EXTRA, &args, err)
	    < 0)
		return -1;
	if (broker_socketpair(IPC_CHAN_BROKER, ctl) < 0 || broker_socketpair(IPC_CHAN_LOG, logp) < 0) {
		(void)buf_printf(err, "table check: socketpair: %m");
		broker_tables_close(fds + STAGE_FD_EXTRA, ntab, args);
		return -1;
	}
	fds[0] = fds[1] = fds[2] = b->devnull;
	fds[3] = ctl[0];
	fds[4] = logp[0];
	argv = broker_argv(b, conf_str(c, "daemon_directory"), sv->name, sv->command, sv->overrides,
			   ntab, args, &path);
	if ((r->pid = fork()) == 0)
		broker_exec(buf_str(&path), argv, fds, STAGE_FD_EXTRA + ntab);
	if (r->pid < 0)
		(void)buf_printf(err, "table check: fork: %m");
	close(ctl[0]);
	close(logp[0]);
	broker_tables_close(fds + STAGE_FD_EXTRA, ntab, args);
	broker_free_argv(argv);
	buf_free(&path);
	ipc_chan_init(&r->ctl, ctl[1], IPC_CHAN_BROKER, IPC_SIDE_B, sv->command, r->pid);
	ipc_chan_init(&r->log, logp[1], IPC_CHAN_LOG, IPC_SIDE_B, sv->command, r->pid);
	if (r->pid < 0)
		return -1;
	if (ipc_chan_hello(&r->ctl) < 0 || ipc_chan_send(&r->ctl, MSG_BROKER_START, &st) < 0)
		msg_warn("table check: start message: %s", buf_str(&r->ctl.why));
	(void)iox_set_nonblock(ctl[1], 1);
	(void)iox_set_nonblock(logp[1], 1);
	return 0;
}

/* check_run - one check run of t; 0 if every table opened, else -1 and err. */
static int check_run(struct broker *b, const struct conf *c, const struct master_service *sv,
		     const struct stagecf_tables *t, struct buf *err)
{
	struct check_run r = { .pid = -1 };
	int ok;

	buf_init(&r.lines, 0);
	ipc_msg_init(&r.m);
	if (check_start(b, c, sv, t, &r, err) < 0) {
		ok = 0;
	} else {
		check_wait(&r);
		ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
		if (!ok)
			(void)buf_printf(err, "%s", r.lines.len ? buf_str(&r.lines)
					 : "the table check failed and said nothing");
	}
	if (r.ctl.fd >= 0)
		ipc_chan_close(&r.ctl);
	if (r.log.fd >= 0)
		ipc_chan_close(&r.log);
	ipc_msg_free(&r.m);
	buf_free(&r.lines);
	return ok ? 0 : -1;
}

/*
 * broker_tables_check - the tables c and m name, into out, checked by a
 * run of the lookup program. -1 and err (out empty) if one cannot be opened
 * or parsed, or if tables are named and no master.cf service serves them.
 */
int broker_tables_check(struct broker *b, const struct conf *c, const struct master_cf *m,
			struct stagecf_tables *out, struct buf *err)
{
	const struct master_service *sv = check_service(m);

	if (stagecf_tables_collect(c, m, out, err) < 0)
		return -1;
	if (out->n > 0 && sv == NULL) {
		(void)buf_printf(err, "%s: table %s: master.cf runs no lookup service to serve it",
				 out->v[0].where, out->v[0].spec);
	} else if (out->n == 0 || check_run(b, c, sv, out, err) == 0) {
		return 0;
	}
	stagecf_tables_free(out);
	return -1;
}
