/*
 * stage_log.c - a stage's msg_* sink: MSG_LOG_LINE over the log channel.
 *
 * The stage sends only its text and severity; the log stage adds program
 * name and pid from what the broker told it about the channel, so a stage
 * cannot write lines under another stage's name. If the log channel is gone
 * (the log stage restarts), lines go to stderr (/dev/null: the broker gives
 * no stage its terminal) until the broker grants a new channel; asking is
 * rate-limited so a dead log stage cannot make every message cost a broker
 * round trip. Asking acts on whatever the broker sends meanwhile (a new
 * peer channel, a stop): so any msg_* call may run the stage's peer_accept,
 * and a stage logs after its own state is consistent, never between
 * deciding to close a channel and closing it.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/msg.h"
#include "skeleton/stage.h"
#include "skeleton/stage_log.h"

static time_t stage_log_retry_at;

#define STAGE_LOG_SEND_TIMEOUT	10	/* seconds a line may wait for a wedged log stage */

/*
 * stage_log_bound - a log send waits at most STAGE_LOG_SEND_TIMEOUT: a log
 * stage that stopped reading must not stop the stage that logs (the line
 * then goes to stderr, and the channel is asked for again later).
 */
static void stage_log_bound(int fd)
{
	static const char why[] = "log channel: cannot bound sends";
	struct timeval tv = { STAGE_LOG_SEND_TIMEOUT, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		msg_stderr_sink(MSG_WARN, why, sizeof(why) - 1, NULL);
}

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
		stage_log_bound(STAGE_FD_LOG);
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
	if (st->log.fd >= 0 && errno == EAGAIN) {
		/* timed out: the log stage is wedged; don't wait on it for every line */
		ipc_chan_close(&st->log);
		st->log.fd = -1;
	}
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
	stage_log_bound(STAGE_FD_LOG);
	ipc_chan_init(&st->log, STAGE_FD_LOG, IPC_CHAN_LOG, IPC_SIDE_A, "log", 0);
	if (ipc_chan_hello(&st->log) < 0)
		st->log.fd = -1;
	msg_set_sink(stage_log_sink, st);
}
