/*
 * buf.c - growable, capped, binary-safe byte buffer (see buf.h).
 *
 * Every size computation that could overflow is checked here, once, so that
 * callers never do arithmetic on peer-controlled lengths themselves. This
 * file must never write past cap, and never let len exceed max.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xmem.h"

static size_t buf_limit(const struct buf *b)
{
	return b->max ? b->max : BUF_MAX_DEFAULT;
}

/* buf_init - start empty with a hard cap of max bytes (0: default cap). */
void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* buf_free - release memory; the buffer may be reused after buf_init. */
void buf_free(struct buf *b)
{
	xfree(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* buf_reset - forget the contents but keep the allocation. */
void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

/* buf_reserve - make room for more bytes plus the NUL; -1 past the cap. */
int buf_reserve(struct buf *b, size_t more)
{
	size_t need, ncap;

	if (more > buf_limit(b) || b->len > buf_limit(b) - more)
		return -1;
	need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	b->data = xrealloc(b->data, ncap);
	b->cap = ncap;
	return 0;
}

/* buf_append - add n bytes; on -1 (cap) the buffer is unchanged. */
int buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_append(b, &ch, 1);
}

/* buf_set - replace the contents. */
int buf_set(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	return buf_append(b, p, n);
}

int buf_set_str(struct buf *b, const char *s)
{
	return buf_set(b, s, strlen(s));
}

/* buf_vprintf - append formatted text; -1 (buffer unchanged) past the cap. */
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* buf_truncate - shorten to len bytes (no-op if already shorter). */
void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = 0;
	}
}

/* buf_consume - drop n bytes from the front (all of them if n >= len). */
void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = 0;
}

/* buf_steal - hand the allocation to the caller (never NULL); buf is empty. */
char *buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
