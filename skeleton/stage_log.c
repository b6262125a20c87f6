/*
 * stage_log.c - a stage's msg_* sink: MSG_LOG_LINE over the log channel.
 *
 * The stage sends only its text and severity; the log stage adds program
 * name and pid from what the broker told it about the channel, so a stage
 * cannot write lines under another stage's name. If the log channel is gone
 * (the log stage restarts), lines go to stderr until the broker grants a new
 * channel; asking is rate-limited so a dead log stage cannot make every
 * message cost a broker round trip.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/msg.h"
#include "skeleton/stage.h"
#include "skeleton/stage_log.h"

static time_t stage_log_retry_at;

/* stage_log_reconnect - ask the broker for a fresh log channel at fd 4. */
static int stage_log_reconnect(struct stage *st)
{
	time_t now = time(NULL);
	int fd;

	if (now < stage_log_retry_at)
		return -1;
	stage_log_retry_at = now + 5;
	msg_set_sink(NULL, NULL);	/* no recursion while we ask */
	fd = stage_request_peer(st, "log", NULL);
	if (fd >= 0 && fd != STAGE_FD_LOG) {
		if (dup2(fd, STAGE_FD_LOG) < 0)
			msg_fatal("dup2 log channel: %m");
		close(fd);
	}
	if (fd >= 0) {
		ipc_chan_init(&st->log, STAGE_FD_LOG, IPC_CHAN_LOG, IPC_SIDE_A, "log", 0);
		(void)ipc_chan_hello(&st->log);
	}
	return fd >= 0 ? 0 : -1;
}

static void stage_log_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	struct stage *st = ctx;
	struct ipc_log_line line = { (uint32_t)level, text, (uint32_t)len };

	if (st->log.fd >= 0 && ipc_chan_send(&st->log, MSG_LOG_LINE, &line) == 0)
		return;
	if (stage_log_reconnect(st) == 0 && ipc_chan_send(&st->log, MSG_LOG_LINE, &line) == 0) {
		msg_set_sink(stage_log_sink, st);
		return;
	}
	msg_stderr_sink(level, text, len, NULL);
	msg_set_sink(stage_log_sink, st);
}

/* stage_log_open - use fd 4 as the log channel from now on. */
void stage_log_open(struct stage *st)
{
	ipc_chan_init(&st->log, STAGE_FD_LOG, IPC_CHAN_LOG, IPC_SIDE_A, "log", 0);
	if (ipc_chan_hello(&st->log) < 0)
		st->log.fd = -1;
	msg_set_sink(stage_log_sink, st);
}
