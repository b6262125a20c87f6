/*
 * output.c - where moat's log goes, and the broker's own log sink.
 *
 * The broker opens the log output once (maillog_file, else stderr in
 * foreground mode, else a datagram socket connected to /dev/log) and passes
 * it to the log stage as fd 5. The broker writes its own lines to the same
 * output directly, so a dead log stage never silences the supervisor. In
 * foreground mode a fatal line also goes to stderr when the output is not
 * stderr already, so a failed start shows where it was started.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/iox.h"
#include "lib/logfmt.h"
#include "lib/msg.h"

static int output_is_syslog;
static int output_is_stderr;
static char output_host[256];
static char output_prog[64];

static int output_open_syslog(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	output_is_syslog = 1;
	return fd;
}

static void output_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	struct broker *b = ctx;
	struct buf line = BUF_INIT;

	if (output_is_syslog) {
		logfmt_syslog_line(&line, logfmt_priority(LOG_MAIL >> 3, (int)level), time(NULL),
				   output_prog, getpid(), text, len);
		(void)send(b->logfd, line.data, line.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} else {
		logfmt_file_line(&line, time(NULL), output_host, output_prog, getpid(), text, len);
		(void)iox_write_full(b->logfd, line.data, line.len);
	}
	buf_free(&line);
	/* -f with maillog_file or syslog: why moatd ends must reach the terminal too */
	if (b->foreground && level >= MSG_FATAL && !output_is_stderr)
		msg_stderr_sink(level, text, len, NULL);
}

/* broker_output_open - pick the log output and route our own messages to it. */
void broker_output_open(struct broker *b)
{
	const char *file = conf_str(b->conf, "maillog_file");

	snprintf(output_prog, sizeof(output_prog), "%s/moatd", conf_str(b->conf, "syslog_name"));
	if (gethostname(output_host, sizeof(output_host) - 1) < 0)
		strcpy(output_host, "localhost");
	output_host[strcspn(output_host, ".")] = 0;
	if (*file) {
		b->logfd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (b->logfd < 0)
			msg_fatal("maillog_file = %s: %m", file);
	} else if (b->foreground) {
		output_is_stderr = 1;
		b->logfd = fcntl(2, F_DUPFD_CLOEXEC, 10);
		if (b->logfd < 0)
			msg_fatal("dup stderr: %m");
	} else if ((b->logfd = output_open_syslog()) < 0) {
		msg_warn("cannot reach /dev/log (%m); set maillog_file. Logging to nowhere.");
		b->logfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}
	msg_init(output_prog);
	msg_set_sink(output_sink, b);
}
