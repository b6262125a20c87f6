/*
 * msg.c - logging and the error vocabulary (see msg.h).
 *
 * Formatting happens into a bounded local line; a message longer than
 * MSG_LINE_MAX is cut, never overflowed. If a sink itself logs (recursion),
 * the inner message goes straight to stderr. This file must never allocate
 * on the fatal/panic path, so that out-of-memory can still be reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"

#define MSG_LINE_MAX 4096

int msg_verbose;

static const char *msg_name = "moat";
static msg_sink_fn msg_sink = msg_stderr_sink;
static void *msg_sink_ctx;
static int msg_depth;

/* msg_init - set the program name used by the stderr sink ("moat/smtpd"). */
void msg_init(const char *progname)
{
	msg_name = progname;
}

const char *msg_progname(void)
{
	return msg_name;
}

/* msg_set_sink - route messages to fn (NULL: back to stderr). */
void msg_set_sink(msg_sink_fn fn, void *ctx)
{
	msg_sink = fn ? fn : msg_stderr_sink;
	msg_sink_ctx = fn ? ctx : NULL;
}

/* msg_stderr_sink - "moat/<name>[pid]: text\n" on fd 2, one write. */
void msg_stderr_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	char line[MSG_LINE_MAX + 128];
	int n;

	(void)level;
	(void)ctx;
	n = snprintf(line, sizeof(line), "%s[%ld]: %.*s\n", msg_name,
		     (long)getpid(), (int)len, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	(void)!write(2, line, (size_t)n);
}

static const char *msg_prefix(enum msg_level level)
{
	switch (level) {
	case MSG_WARN:
		return "warning: ";
	case MSG_ERROR:
		return "error: ";
	case MSG_FATAL:
		return "fatal: ";
	case MSG_PANIC:
		return "panic: ";
	default:
		return "";
	}
}

/* msg_vlog - format once and hand the line to the sink. */
void msg_vlog(enum msg_level level, const char *fmt, va_list ap)
{
	char line[MSG_LINE_MAX];
	int saved_errno = errno;
	size_t plen;
	int n;

	plen = strlen(msg_prefix(level));
	memcpy(line, msg_prefix(level), plen);
	errno = saved_errno;	/* keep %m meaningful */
	n = vsnprintf(line + plen, sizeof(line) - plen, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line) - plen)
		n = (int)(sizeof(line) - plen - 1);
	if (msg_depth++ > 0)
		msg_stderr_sink(level, line, plen + (size_t)n, NULL);
	else
		msg_sink(level, line, plen + (size_t)n, msg_sink_ctx);
	msg_depth--;
	errno = saved_errno;
}

#define MSG_WRAP(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		msg_vlog(level, fmt, ap); \
		va_end(ap); \
	}

MSG_WRAP(msg_info, MSG_INFO)
MSG_WRAP(msg_warn, MSG_WARN)
MSG_WRAP(msg_error, MSG_ERROR)

void msg_debug(const char *fmt, ...)
{
	va_list ap;

	if (!msg_verbose)
		return;
	va_start(ap, fmt);
	msg_vlog(MSG_DEBUG, fmt, ap);
	va_end(ap);
}

void msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_PANIC, fmt, ap);
	va_end(ap);
	abort();
}
