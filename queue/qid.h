/*
 * qid.h - queue IDs: unique, time-ordered, fixed-length, printable names.
 *
 * An ID is QUEUE_ID_LEN characters from the 32-symbol alphabet
 * "0123456789ABCDEFGHIJKLMNOPQRSTUV" (ascending in ASCII):
 *
 *   11 chars  microseconds since the epoch, big-endian, 5 bits per char
 *             (55 bits: good until the year 3111)
 *    5 chars  25 bits: the process id (22 bits, Linux's PID_MAX_LIMIT) and
 *             a 3-bit counter of IDs made by this process in that microsecond
 *
 * So the lexicographic order of IDs (strcmp, ls, sort) is their creation
 * order across processes, to the microsecond; within one process every new
 * ID is strictly greater than the last one (past 8 IDs in one microsecond,
 * or when the clock steps back, the time part is bumped past the clock);
 * two processes that create an ID in the same microsecond differ in the pid
 * part. XXX processes in different pid namespaces could share a pid; the
 * writer's O_EXCL create still keeps names unique in incoming/.
 *
 * IDs name files and travel over IPC, so every ID that comes from outside
 * (a message, a directory listing, a command line) is checked with
 * queue_id_ok before it is used in a path.
 */
#ifndef MOAT_QUEUE_QID_H
#define MOAT_QUEUE_QID_H

#include <stddef.h>
#include <sys/time.h>

#include "lib/buf.h"

#define QUEUE_ID_LEN		16
#define QUEUE_ID_TIME_LEN	11

int queue_id_new(struct buf *out);
int queue_id_ok(const char *s);
int queue_id_okn(const char *s, size_t len);
int queue_id_time(const char *id, struct timeval *tv);

#endif
