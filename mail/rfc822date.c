/*
 * rfc822date.c - RFC 5322 date-time text (see rfc822date.h).
 *
 * Used by cleanup (Received:, Date:, Message-ID) and bounce (Arrival-Date).
 * Pure formatting of a time value: nothing here reads outside input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/rfc822date.h"

int rfc822date_append(struct buf *out, time_t when)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	char zone[16];
	long off;

	if (localtime_r(&when, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6
	    || tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	off = tm.tm_gmtoff / 60;
	/* Names are spelled out here, not by strftime: the locale must not matter. */
	if (buf_printf(out, "%s, %2d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
		       tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		       tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60) < 0)
		return -1;
	if (strftime(zone, sizeof(zone), "%Z", &tm) > 0 && strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(zone))
		return buf_printf(out, " (%s)", zone);
	return 0;
}

int rfc822date_stamp(struct buf *out, time_t when)
{
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL)
		return -1;
	return buf_printf(out, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
