/*
 * msg.h - the one logging and error vocabulary of moat.
 *
 *   msg_info   something happened (per-message log lines go here)
 *   msg_warn   something a peer or the environment caused; caller returns an error
 *   msg_error  like warn, but the operation failed for the whole process
 *   msg_fatal  the environment is broken: log and exit(1); the broker restarts us
 *   msg_panic  a bug in moat: log and abort(); a peer must never be able to cause it
 *
 * Text goes to a sink: stderr by default ("moat/<name>[pid]: text"), or
 * whatever a stage installs (the log channel). The sink receives the text with
 * the severity word already in front ("warning: ..."), never the program
 * prefix: the log stage adds that itself from what it knows of the channel, so
 * a stage cannot log under another stage's name.
 */
#ifndef MOAT_LIB_MSG_H
#define MOAT_LIB_MSG_H

#include <stdarg.h>
#include <stddef.h>

enum msg_level { MSG_DEBUG, MSG_INFO, MSG_WARN, MSG_ERROR, MSG_FATAL, MSG_PANIC };

typedef void (*msg_sink_fn)(enum msg_level level, const char *text, size_t len, void *ctx);

extern int msg_verbose;

void msg_init(const char *progname);
const char *msg_progname(void);
void msg_set_sink(msg_sink_fn fn, void *ctx);
void msg_stderr_sink(enum msg_level level, const char *text, size_t len, void *ctx);

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_vlog(enum msg_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
