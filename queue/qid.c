/*
 * qid.c - queue ID generation and checking (see qid.h).
 *
 * Called by the queue file writer (a new name per message), by qmgr and the
 * admin tools (checking names from directory listings and IPC). This file
 * must never accept a name that could leave its directory: only the 32
 * alphabet symbols, exactly QUEUE_ID_LEN of them, so "..", "/" and NUL can
 * never appear in a path built from a checked ID.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "queue/qid.h"

static const char qid_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

#define QID_SUFFIX_LEN	(QUEUE_ID_LEN - QUEUE_ID_TIME_LEN)
#define QID_TIME_MAX	(((uint64_t)1 << (5 * QUEUE_ID_TIME_LEN)) - 1)

/* The last time part and counter used by this process: IDs never go backwards. */
static uint64_t qid_last_usec;
static unsigned qid_counter;

/* qid_sym_value - the 5-bit value of an alphabet symbol, or -1. */
static int qid_sym_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

/* qid_encode - put the low 5*n bits of v as n symbols, most significant first. */
static void qid_encode(char *out, size_t n, uint64_t v)
{
	while (n-- > 0) {
		out[n] = qid_alphabet[v & 31];
		v >>= 5;
	}
}

/*
 * qid_next - the time and counter parts of the next ID. Within one
 * microsecond the 3-bit counter tells IDs apart; only past 8 IDs in one
 * microsecond, or when the clock steps back, is the time part bumped past
 * the clock (so a burst can run a little ahead of real time, never behind).
 */
static int qid_next(uint64_t *usec, unsigned *counter)
{
	struct timespec ts;
	uint64_t now;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
		return -1;
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (now > qid_last_usec) {
		qid_counter = 0;
	} else if (++qid_counter > 7) {
		now = qid_last_usec + 1;
		qid_counter = 0;
	} else {
		now = qid_last_usec;
	}
	if (now > QID_TIME_MAX)
		return -1;
	qid_last_usec = now;
	*usec = now;
	*counter = qid_counter;
	return 0;
}

/* queue_id_new - set out to a fresh queue ID; -1 on a clock failure. */
int queue_id_new(struct buf *out)
{
	char id[QUEUE_ID_LEN];
	uint64_t usec, suffix;
	unsigned counter;

	if (qid_next(&usec, &counter) < 0) {
		msg_warn("queue_id_new: system clock out of range");
		return -1;
	}
	/* pid_max is at most 2^22 on Linux; the counter fills the last 3 bits. */
	suffix = ((uint64_t)getpid() & 0x3fffff) << 3 | counter;
	qid_encode(id, QUEUE_ID_TIME_LEN, usec);
	qid_encode(id + QUEUE_ID_TIME_LEN, QID_SUFFIX_LEN, suffix);
	return buf_set(out, id, sizeof(id));
}

/* queue_id_okn - 1 if s[0..len) is exactly a well-formed queue ID. */
int queue_id_okn(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len != QUEUE_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (qid_sym_value((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

/* queue_id_ok - 1 if the C string s is exactly a well-formed queue ID. */
int queue_id_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	/* Bounded scan: never walk far into a long unterminated-looking input. */
	for (n = 0; n <= QUEUE_ID_LEN && s[n]; n++)
		;
	return queue_id_okn(s, n);
}

/* queue_id_time - the creation time encoded in id; -1 if id is malformed. */
int queue_id_time(const char *id, struct timeval *tv)
{
	uint64_t usec = 0;
	size_t i;

	if (!queue_id_ok(id))
		return -1;
	for (i = 0; i < QUEUE_ID_TIME_LEN; i++)
		usec = usec << 5 | (uint64_t)qid_sym_value((unsigned char)id[i]);
	tv->tv_sec = (time_t)(usec / 1000000u);
	tv->tv_usec = (suseconds_t)(usec % 1000000u);
	return 0;
}
