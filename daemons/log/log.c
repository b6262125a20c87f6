/*
 * log.c - the log stage: the one writer of moat's log.
 *
 * Every other stage sends MSG_LOG_LINE over its own channel; this stage adds
 * the program name and pid that the broker gave it with the channel (never
 * what the sender claims), the time stamp and host name, replaces control
 * characters, and writes the line to its output fd (fd 5): the maillog_file,
 * the broker's stderr in foreground mode, or a datagram socket connected to
 * /dev/log, all opened by the broker.
 *
 * Under load it batches: lines for a file go out in one write per pass of
 * the event loop, and after a pass that handled lines it pauses
 * LOG_COALESCE_MS before looking again, so that a busy MTA costs a few
 * wakeups of this stage per batch instead of one per line (and the senders'
 * sendmsg finds nobody to wake). A line waits at most that long.
 *
 * Told to stop (a reload), it goes on serving the channels it has until the
 * last one closes: the old generation's processes keep logging to it while
 * they finish, and no line already sent is lost with its socket.
 *
 * SECURITY: runs as helper_user, chrooted in <queue>/empty, in an empty
 * network namespace, with no capabilities; it opens nothing. It trusts only
 * the broker. A peer that sends anything but MSG_LOG_LINE is cut off and
 * reported to the broker as compromised.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/iox.h"
#include "lib/logfmt.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"
#include "skeleton/stage_peer.h"

#define LOG_OUT_FD STAGE_FD_EXTRA
#define LOG_FLUSH_AT	65536	/* bytes of file output held before a write */
#define LOG_COALESCE_MS	5	/* pause after a pass that handled lines */

struct log_state {
	struct stage *st;
	struct event_loop *loop;
	int is_syslog;
	int facility;
	char host[256];
	const char *syslog_name;
	struct buf line;	/* one syslog datagram */
	struct buf out;		/* file lines not yet written */
	unsigned handled;	/* lines in this pass of the loop */
	unsigned npeers;	/* channels open: a stopped log stage serves them to their end */
};


static struct log_state log_state;

/* log_flush - write the file lines held so far. */
static void log_flush(struct log_state *ls)
{
	if (ls->out.len == 0)
		return;
	(void)iox_write_full(LOG_OUT_FD, ls->out.data, ls->out.len);
	buf_reset(&ls->out);
}

/* log_write - format one line for the output: a datagram now, or file text held for log_flush. */
static void log_write(struct log_state *ls, const char *prog, pid_t pid, int level,
		      const char *text, size_t len)
{
	ls->handled++;
	if (ls->is_syslog) {
		buf_reset(&ls->line);
		logfmt_syslog_line(&ls->line, logfmt_priority(ls->facility, level), time(NULL),
				   prog, pid, text, len);
		(void)send(LOG_OUT_FD, ls->line.data, ls->line.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		return;
	}
	logfmt_file_line(&ls->out, time(NULL), ls->host, prog, pid, text, len);
	if (ls->out.len >= LOG_FLUSH_AT)
		log_flush(ls);
}

/* log_own_sink - this stage's own messages skip the channel. */
static void log_own_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	struct log_state *ls = ctx;
	char prog[96];

	snprintf(prog, sizeof(prog), "%s/log", ls->syslog_name);
	log_write(ls, prog, getpid(), (int)level, text, len);
	log_flush(ls);		/* a fatal error exits right after this */
}

/* log_peer_line - one MSG_LOG_LINE, under the name the broker gave the channel. */
static int log_peer_line(struct stage_peer *p, struct ipc_msg *m)
{
	log_write(&log_state, p->app, p->ch.peer_pid, (int)m->u.log_line.level,
		  m->u.log_line.text, m->u.log_line.text_len);
	return 0;
}

static void log_peer_closed(struct stage_peer *p)
{
	log_state.npeers--;
	xfree(p->app);
}

static const struct stage_peer_ops log_peer_ops = {
	.kind = IPC_CHAN_LOG, .message = log_peer_line, .closed = log_peer_closed,
};

/* log_peer_accept - a new stage's channel; its program name is "<syslog_name>/<stage>". */
static void log_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	struct buf prog = BUF_INIT;

	(void)buf_printf(&prog, "%s/%s", log_state.syslog_name, peer_stage);
	log_state.npeers++;	/* closed() counts it down, also when the accept fails */
	(void)stage_peer_accept(st, log_state.loop, &log_peer_ops, peer_stage, peer_pid, fd,
				xstrdup(buf_str(&prog)));
	buf_free(&prog);
}

static int log_facility(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, name) == 0)
			return tab[i].f >> 3;
	msg_warn("syslog_facility = %s: unknown facility, using mail", name);
	return LOG_MAIL >> 3;
}

/* log_pre_jail - learn what the output is while we can still look around. */
static void log_pre_jail(struct stage *st)
{
	struct stat sb;

	log_state.st = st;
	if (st->nextra < 1 || fstat(LOG_OUT_FD, &sb) < 0)
		msg_fatal("no log output fd from the broker");
	log_state.is_syslog = S_ISSOCK(sb.st_mode);
	log_state.facility = log_facility(conf_str(st->conf, "syslog_facility"));
	log_state.syslog_name = conf_str(st->conf, "syslog_name");
	if (gethostname(log_state.host, sizeof(log_state.host) - 1) < 0)
		strcpy(log_state.host, "localhost");
	log_state.host[strcspn(log_state.host, ".")] = 0;
	buf_init(&log_state.line, 16384);
	buf_init(&log_state.out, LOG_FLUSH_AT + 2 * 16384);
	msg_set_sink(log_own_sink, &log_state);
}

/* log_pause - let lines pile up for LOG_COALESCE_MS before the next pass. */
static void log_pause(void)
{
	struct timespec ts = { 0, LOG_COALESCE_MS * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void log_run(struct stage *st)
{
	log_state.loop = event_loop_new();
	if (iox_set_nonblock(st->broker.fd, 0) < 0
	    || event_add(log_state.loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	while (!st->stopping || log_state.npeers > 0) {
		log_state.handled = 0;
		if (event_run_once(log_state.loop, -1) < 0)
			msg_fatal("event loop: %m");
		log_flush(&log_state);
		if (log_state.handled > 0)
			log_pause();
	}
}

static const struct stage_ops log_ops = {
	.pre_jail = log_pre_jail,
	.peer_accept = log_peer_accept,
	.run = log_run,
	.own_log = 1,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "log", &log_ops);
}
