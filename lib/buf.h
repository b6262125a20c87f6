/*
 * buf.h - the one growable byte buffer used for everything a peer controls.
 *
 * A struct buf holds binary data with an explicit length, a hard cap chosen
 * by its owner, and a gratuitous NUL after the last byte so that text can be
 * handed to C string functions without running off the end. All growth goes
 * through one overflow-checked function; appends that would pass the cap fail
 * with -1 and leave the buffer unchanged, so a peer can never make it grow
 * without bound. Out of memory is fatal (msg_fatal), never a partial result.
 */
#ifndef MOAT_LIB_BUF_H
#define MOAT_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* always NUL-terminated when cap > 0 */
	size_t len;	/* bytes in use, excluding the NUL */
	size_t cap;	/* bytes allocated, including room for the NUL */
	size_t max;	/* hard cap on len; 0 means BUF_MAX_DEFAULT */
};

#define BUF_MAX_DEFAULT ((size_t)1 << 30)
#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_reserve(struct buf *b, size_t more);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_putc(struct buf *b, int c);
int buf_set(struct buf *b, const void *p, size_t n);
int buf_set_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void buf_truncate(struct buf *b, size_t len);
void buf_consume(struct buf *b, size_t n);
char *buf_steal(struct buf *b);

/* buf_str - the contents as a C string ("" for an empty, unallocated buf). */
static inline const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

#endif
