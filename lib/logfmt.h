/*
 * logfmt.h - the shape of one log line, as Postfix writes it.
 *
 * File and stderr form: "Nov 21 22:01:00 host moat/smtpd[123]: text".
 * Syslog form (for /dev/log): "<pri>Nov 21 22:01:00 moat/smtpd[123]: text".
 * Log analysers (pflogsumm, fail2ban) key on exactly this.
 */
#ifndef MOAT_LIB_LOGFMT_H
#define MOAT_LIB_LOGFMT_H

#include <sys/types.h>
#include <time.h>

#include "lib/buf.h"

void logfmt_file_line(struct buf *out, time_t when, const char *host, const char *prog,
		      pid_t pid, const char *text, size_t len);
void logfmt_syslog_line(struct buf *out, int pri, time_t when, const char *prog,
			pid_t pid, const char *text, size_t len);
int logfmt_priority(int facility, int level);
/* logfmt_printable - up to max bytes of peer input for a log line: CR and
 * LF as \r and \n, other bytes outside printable ASCII as '?'. */
void logfmt_printable(struct buf *out, const char *p, size_t n, size_t max);

#endif
