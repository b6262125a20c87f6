/*
 * qenv_rec.c - decode the fields of one envelope record into struct
 * queue_env (see qenv.h and the formats in record.h).
 *
 * Called only by the envelope parser (qenv.c) with a record whose bounds are
 * already checked. The data is untrusted: this file must never assume a NUL
 * terminator, a separator or a digit is where it should be, and must never
 * let a string escape the arena that qenv.c sized for it.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "lib/msg.h"
#include "lib/strnum.h"
#include "lib/xmem.h"
#include "queue/qenv_priv.h"
#include "queue/qfile.h"

#define QENV_SEC_MAX	253402300799ULL	/* 9999-12-31T23:59:59Z */

/* qenv_bad - record why parsing failed; returns result for the caller to pass on. */
int qenv_bad(struct queue_env *env, int result, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&env->why);
	va_start(ap, fmt);
	(void)buf_vprintf(&env->why, fmt, ap);
	va_end(ap);
	return result;
}

/*
 * qenv_str - copy p[0..n) plus a NUL into the arena. qenv.c reserved the
 * arena for the whole envelope up front, so it never moves and earlier
 * strings stay valid; needing more would be a bug in that bound.
 */
static const char *qenv_str(struct queue_env *env, const unsigned char *p, size_t n)
{
	struct buf *s = &env->strings;
	const char *out;

	if (s->cap < s->len + 2 || s->cap - s->len - 2 < n)
		msg_panic("qenv_str: arena too small for %zu bytes", n);
	out = s->data + s->len;
	buf_append(s, p, n);
	buf_putc(s, 0);
	return out;
}

/* qenv_grow - room for element n of an array that starts at 8 and doubles. */
static void *qenv_grow(void *arr, size_t n, size_t size)
{
	if (n == 0)
		return xreallocarray(arr, 8, size);
	if (n >= 8 && (n & (n - 1)) == 0)
		return xreallocarray(arr, n * 2, size);
	return arr;
}

/* qenv_rec_time - 'T': "SECONDS.UUUUUU". */
int qenv_rec_time(struct queue_env *env, const struct record *rec)
{
	const unsigned char *dot = memchr(rec->data, '.', rec->len);
	uint64_t sec, usec;
	size_t slen;

	if (dot == NULL)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "arrival time without '.' at offset %zu", rec->off);
	slen = (size_t)(dot - rec->data);
	if (strnum_u64n((const char *)rec->data, slen, 0, QENV_SEC_MAX, &sec) < 0
	    || rec->len - slen - 1 != 6
	    || strnum_u64n((const char *)dot + 1, 6, 0, 999999, &usec) < 0)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "bad arrival time at offset %zu", rec->off);
	env->arrival.tv_sec = (time_t)sec;
	env->arrival.tv_usec = (suseconds_t)usec;
	return 0;
}

/* qenv_rec_sender - 'S': any bytes but NUL; empty is the null sender. */
int qenv_rec_sender(struct queue_env *env, const struct record *rec)
{
	if (memchr(rec->data, 0, rec->len) != NULL)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "NUL in sender at offset %zu", rec->off);
	env->sender = qenv_str(env, rec->data, rec->len);
	return 0;
}

/* qenv_rec_attr - 'A': "name=value". */
int qenv_rec_attr(struct queue_env *env, const struct record *rec, off_t base)
{
	const unsigned char *eq = memchr(rec->data, '=', rec->len);
	struct queue_attr *a;
	size_t nlen;

	if (eq == NULL)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "attribute without '=' at offset %zu", rec->off);
	nlen = (size_t)(eq - rec->data);
	if (!queue_attr_name_ok((const char *)rec->data, nlen)
	    || memchr(eq + 1, 0, rec->len - nlen - 1) != NULL)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "bad attribute at offset %zu", rec->off);
	env->attrs = qenv_grow(env->attrs, env->nattrs, sizeof(*env->attrs));
	a = &env->attrs[env->nattrs++];
	a->name = qenv_str(env, rec->data, nlen);
	a->value = qenv_str(env, eq + 1, rec->len - nlen - 1);
	a->offset = base + (off_t)rec->off;
	return 0;
}

/* qenv_field - the next NUL-terminated field of [*p, end); NULL if no NUL. */
static const unsigned char *qenv_field(const unsigned char **p, const unsigned char *end,
				       size_t *len)
{
	const unsigned char *start = *p;
	const unsigned char *nul = memchr(start, 0, (size_t)(end - start));

	if (nul == NULL)
		return NULL;
	*len = (size_t)(nul - start);
	*p = nul + 1;
	return start;
}

/* qenv_rec_rcpt - 'R' or 'D': address NUL orig NUL orcpt NUL notify. */
int qenv_rec_rcpt(struct queue_env *env, const struct record *rec, off_t base)
{
	const unsigned char *p = rec->data, *end = rec->data + rec->len;
	const unsigned char *addr, *orig, *orcpt;
	size_t alen, olen, rlen;
	struct queue_rcpt *r;
	uint64_t notify;

	if ((addr = qenv_field(&p, end, &alen)) == NULL
	    || (orig = qenv_field(&p, end, &olen)) == NULL
	    || (orcpt = qenv_field(&p, end, &rlen)) == NULL)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "recipient with missing fields at offset %zu", rec->off);
	if (alen == 0
	    || strnum_u64n((const char *)p, (size_t)(end - p), 0, 15, &notify) < 0
	    || !queue_notify_ok((unsigned)notify))
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "bad recipient at offset %zu", rec->off);
	env->rcpts = qenv_grow(env->rcpts, env->nrcpts, sizeof(*env->rcpts));
	r = &env->rcpts[env->nrcpts++];
	r->addr = qenv_str(env, addr, alen);
	r->orig = qenv_str(env, orig, olen);
	r->orcpt = qenv_str(env, orcpt, rlen);
	r->notify = (unsigned)notify;
	r->offset = base + (off_t)rec->off;
	r->done = rec->type == REC_TYPE_DONE;
	env->ndone += (size_t)r->done;
	return 0;
}
