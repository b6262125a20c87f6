/*
 * main.c - moatd, the broker: the only privileged process of moat.
 *
 * It reads the configuration, creates and checks the stage users and the
 * queue tree, binds the listeners, opens the log output and its control
 * socket, then forks and execs one confined program per stage and supervises
 * them: restarts with backoff, reload on SIGHUP (new configuration for new
 * processes; old ones finish their work first), clean stop on SIGTERM.
 *
 * SECURITY: runs as root. It never parses mail, SMTP, DNS or any other
 * network input, nor any message content a stage passes around; it reads
 * only main.cf/master.cf (root-owned), typed control messages from its own
 * stages (strictly decoded, per-channel allowlist), and typed requests from
 * root-only moatctl clients. After start-up it keeps only the capabilities
 * sandbox/policy.c lists and runs under its own seccomp allowlist; what a
 * stage can make it do is bounded as docs/sandbox.md says.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/daemon.h"
#include "lib/unixdiag.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "sandbox/sandbox.h"
#include "stagecf/check.h"

#define STOP_GRACE_MS 5000

struct broker broker;

static void usage(void)
{
	msg_fatal("usage: moatd [-c config_dir] [-f] [-v]");
}

/* main_log_first - the log stage starts first so every other stage has it. */
static struct service *main_log_first(struct service *list)
{
	struct service **pp, *s;

	for (pp = &list; (s = *pp) != NULL; pp = &s->next) {
		if (s->def->flags & STAGEDEF_F_LOG_SINK) {
			*pp = s->next;
			s->next = list;
			return s;
		}
	}
	return list;
}

/* main_pidfile - write or remove <queue>/pid/moatd.pid. */
static void main_pidfile(struct broker *b, int remove)
{
	struct buf path = BUF_INIT;

	(void)buf_printf(&path, "%s/pid/moatd.pid", b->queue_dir);
	daemon_pidfile(buf_str(&path), remove);
	buf_free(&path);
}

/* main_lock - one moatd per queue directory. */
static void main_lock(struct broker *b)
{
	struct buf path = BUF_INIT, busy = BUF_INIT;

	(void)buf_printf(&path, "%s/pid/moatd.lock", b->queue_dir);
	(void)buf_printf(&busy, "another moatd is running on queue directory %s", b->queue_dir);
	b->lockfd = daemon_lock(buf_str(&path), buf_str(&busy));
	buf_free(&path);
	buf_free(&busy);
}

static void main_load(struct broker *b)
{
	struct buf err = BUF_INIT;

	if ((b->conf = conf_load(b->confdir, &err)) == NULL)
		msg_fatal("%s", buf_str(&err));
	b->queue_dir = conf_str(b->conf, "queue_directory");
	b->daemon_dir = conf_str(b->conf, "daemon_directory");
	if (setup_users(b->conf, 1, &b->ids, &err) < 0 || setup_tree(b->queue_dir, &b->ids, 1, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	if ((b->master = master_load(b->confdir, b->conf, &err)) == NULL
	    || stagecf_check(b->conf, b->master, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	buf_free(&err);
}

/*
 * main_open_fds - what every spawn and grant needs, opened once: a spawn can
 * then fail only in socketpair or fork, never for want of /dev/null.
 */
static void main_open_fds(struct broker *b)
{
	if ((b->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		msg_fatal("/dev/null: %m");
	if ((b->diagfd = unixdiag_open()) < 0)
		msg_warn("NETLINK_SOCK_DIAG: %m: granted channels count as open until their process ends");
}

/* main_tables - every table opens and parses, checked confined, before any stage starts. */
static void main_tables(struct broker *b)
{
	struct buf err = BUF_INIT;

	sandbox_broker_dac(0);	/* the tables open as they will after sandbox_broker_enter */
	if (broker_tables_check(b, b->conf, b->master, &b->tables, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	sandbox_broker_dac(1);
	buf_free(&err);
}

static void main_signals(struct broker *b)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		msg_fatal("sigprocmask: %m");
	signal(SIGPIPE, SIG_IGN);
	if ((b->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		msg_fatal("signalfd: %m");
}

static void main_signal_readable(int fd, unsigned events, void *ctx)
{
	struct broker *b = ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			broker_reap(b);
		else if (si.ssi_signo == SIGHUP)
			(void)broker_reload(b, NULL);
		else
			broker_shutdown(b);
	}
}

/* broker_shutdown - SIGTERM every stage; SIGKILL what is left after the grace time. */
void broker_shutdown(struct broker *b)
{
	if (b->stopping)
		return;
	msg_info("terminating on request");
	b->stopping = 1;
	b->stop_deadline = event_now_ms() + STOP_GRACE_MS;
	for (struct child *c = b->children; c; c = c->next)
		if (kill(c->pid, SIGTERM) < 0 && errno != ESRCH)
			msg_warn("kill %ld: %m", (long)c->pid);
}

/* broker_reload - new configuration for new processes; old ones finish
 * first. A configuration moatd would not start with is refused: -1, the
 * running one stays, and why (if not NULL) says what is wrong. */
int broker_reload(struct broker *b, struct buf *why)
{
	struct buf err = BUF_INIT;
	struct conf *c = conf_load(b->confdir, &err);
	struct master_cf *m = c ? master_load(b->confdir, c, &err) : NULL;
	struct service *old = b->services;
	struct stagecf_tables tables = { 0 };

	if (m == NULL || stagecf_check(c, m, &err) < 0
	    || broker_tables_check(b, c, m, &tables, &err) < 0) {
		msg_error("reload: %s; keeping the running configuration", buf_str(&err));
		if (why)
			(void)buf_append_str(why, buf_str(&err));
		master_free(m);
		conf_free(c);
		buf_free(&err);
		return -1;
	}
	if (strcmp(conf_str(c, "queue_directory"), b->queue_dir) != 0)
		msg_warn("reload: queue_directory changed; that takes a stop and start");
	b->generation++;
	stagecf_tables_free(&b->tables);
	b->tables = tables;
	for (struct child *ch = b->children; ch; ch = ch->next)
		broker_child_retire(b, ch);
	conf_free(b->conf);
	master_free(b->master);
	b->conf = c;
	b->master = m;
	b->daemon_dir = conf_str(c, "daemon_directory");
	b->queue_dir = conf_str(c, "queue_directory");
	b->services = main_log_first(broker_services_build(b, m, old));
	broker_services_free(old);
	msg_info("reload -- configuration %s, generation %u", b->confdir, b->generation);
	broker_ensure(b);
	buf_free(&err);
	return 0;
}

static void main_tick(void *ctx)
{
	struct broker *b = ctx;

	if (b->stopping && event_now_ms() >= b->stop_deadline) {
		for (struct child *c = b->children; c; c = c->next)
			(void)kill(c->pid, SIGKILL);
	}
	broker_ensure(b);
	broker_lines_flush(b);
	(void)event_timer_add(b->loop, 500, main_tick, b);
}

static void main_parse(int argc, char **argv, struct broker *b)
{
	int c;

	b->confdir = "/etc/moat";
	while ((c = getopt(argc, argv, "c:fv")) != -1) {
		switch (c) {
		case 'c':
			b->confdir = optarg;
			break;
		case 'f':
			b->foreground = 1;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

int main(int argc, char **argv)
{
	struct broker *b = &broker;

	msg_init("moat/moatd");
	main_parse(argc, argv, b);
	if (geteuid() != 0)
		msg_fatal("moatd must be started as root (it drops privileges per stage)");
	umask(022);
	daemon_raise_nofile(65536);	/* what screen may hold: a stage's limit is at most ours */
	main_load(b);
	main_lock(b);
	broker_output_open(b);
	main_open_fds(b);
	main_tables(b);
	b->services = main_log_first(broker_services_build(b, b->master, NULL));
	if (!b->foreground)
		daemon_detach();
	main_pidfile(b, 0);
	main_signals(b);
	broker_control_open(b);
	b->loop = event_loop_new();
	if (event_add(b->loop, b->sigfd, EVENT_READ, main_signal_readable, b) < 0
	    || event_add(b->loop, b->ctlfd, EVENT_READ, broker_control_readable, b) < 0)
		msg_fatal("event loop: %m");
	sandbox_broker_enter();
	msg_info("daemon started -- version %s, configuration %s", conf_str(b->conf, "mail_version"),
		 b->confdir);
	broker_ensure(b);
	(void)event_timer_add(b->loop, 500, main_tick, b);
	while (!b->stopping || b->children)
		if (event_run_once(b->loop, -1) < 0)
			msg_fatal("event loop: %m");
	main_pidfile(b, 1);
	broker_control_close(b);
	msg_info("stopped");
	return 0;
}
