/*
 * logfmt.c - format log lines (see logfmt.h).
 *
 * Control characters in the text are replaced by '?', so a peer-supplied
 * string logged by a stage can never start a new line or inject escapes
 * into an administrator's terminal. This file must never emit a line break
 * except the terminating one. logfmt_printable shows raw peer input (what a
 * client sent) in a log line the same way.
 */
#include <stdio.h>
#include <time.h>

#include "lib/logfmt.h"
#include "lib/msg.h"

static void logfmt_stamp(struct buf *out, time_t when)
{
	struct tm tm;
	char ts[32];

	localtime_r(&when, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	(void)buf_append_str(out, ts);
}

static void logfmt_text(struct buf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		(void)buf_putc(out, (c < 0x20 || c == 0x7f) ? '?' : c);
	}
}

void logfmt_file_line(struct buf *out, time_t when, const char *host, const char *prog,
		      pid_t pid, const char *text, size_t len)
{
	logfmt_stamp(out, when);
	(void)buf_printf(out, " %s %s[%ld]: ", host, prog, (long)pid);
	logfmt_text(out, text, len);
	(void)buf_putc(out, '\n');
}

void logfmt_syslog_line(struct buf *out, int pri, time_t when, const char *prog,
			pid_t pid, const char *text, size_t len)
{
	(void)buf_printf(out, "<%d>", pri);
	logfmt_stamp(out, when);
	(void)buf_printf(out, " %s[%ld]: ", prog, (long)pid);
	logfmt_text(out, text, len);
}

/* logfmt_priority - syslog PRI from a facility code and a msg.h level. */
int logfmt_priority(int facility, int level)
{
	static const int sev[] = { 7, 6, 4, 3, 2, 2 };	/* debug info warning err crit crit */

	if (level < 0 || level > MSG_PANIC)
		level = MSG_INFO;
	return facility * 8 + sev[level];
}

void logfmt_printable(struct buf *out, const char *p, size_t n, size_t max)
{
	buf_reset(out);
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			buf_append_str(out, "\\r");
		else if (c == '\n')
			buf_append_str(out, "\\n");
		else
			buf_putc(out, c >= 32 && c < 127 ? c : '?');
	}
}
