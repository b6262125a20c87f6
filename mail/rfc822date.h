/*
 * rfc822date.h - the Date: text of RFC 5322, as Postfix writes it.
 *
 * "Tue,  5 Apr 2022 10:00:00 +0200 (CEST)": day of month space-padded, the
 * numeric offset from the local time zone, and the zone abbreviation as a
 * comment. The stage must call tzset() before it enters its chroot so that
 * local time is still known inside it.
 */
#ifndef MOAT_MAIL_RFC822DATE_H
#define MOAT_MAIL_RFC822DATE_H

#include <time.h>

#include "lib/buf.h"

int rfc822date_append(struct buf *out, time_t when);

/* rfc822date_stamp - "YYYYMMDDhhmmss" in local time (Message-ID left part). */
int rfc822date_stamp(struct buf *out, time_t when);

#endif
