/*
 * qenv.c - parse a queue file's envelope: the driver (see qenv.h).
 *
 * Called by qmgr, bounce, queue_recover and the admin tools, on files that
 * a crash may have cut short and that anyone with access to the queue could
 * have altered. It reads the head (version and size records), the envelope
 * [0, data_offset) and the trailer [data_end, EOF) and checks the record
 * grammar:
 *
 *   V C (T | S | A | R | D)* M (B)* [X (A | R | D)*] E <EOF>
 *
 * with exactly one T and one S, at least one recipient, and a size record
 * that matches. This file must never read outside the region it fetched,
 * never trust an offset from the size record before checking it against the
 * file size, and never turn a bad file into anything but an error result.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/iox.h"
#include "lib/strnum.h"
#include "lib/xmem.h"
#include "queue/qenv_priv.h"
#include "queue/qfile.h"

#define QENV_VERSION_LEN	(sizeof(QUEUE_FILE_VERSION) - 1)
#define QENV_HEAD_LEN	(2 + QENV_VERSION_LEN + 2 + QUEUE_SIZE_LEN)
/* A file this small is read with one pread and parsed in memory. */
#define QENV_SMALL	QUEUE_FLUSH_SIZE

/* Where the bytes come from: the whole file in memory, or an fd and pread. */
struct qenv_src {
	const unsigned char *mem;
	int fd;
	uint64_t size;
	struct buf scratch;
};

struct qenv_ctx {
	struct qenv_src src;
	struct queue_env *env;
	uint64_t data_offset, data_end, content_length, rcpt_count;
	size_t head_end;
	int ntime, nsender;
};

/* qenv_fetch - make file bytes [off, off+len) readable at *out. */
static int qenv_fetch(struct qenv_ctx *c, uint64_t off, size_t len, const unsigned char **out)
{
	struct qenv_src *src = &c->src;
	ssize_t n;

	if (off > src->size || len > src->size - off)
		return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "file ends before offset %llu",
				(unsigned long long)off + len);
	if (src->mem) {
		*out = src->mem + off;
		return 0;
	}
	buf_reset(&src->scratch);
	if (buf_reserve(&src->scratch, len) < 0)
		return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "region of %zu bytes is too large", len);
	n = iox_pread_full(src->fd, src->scratch.data, len, (off_t)off);
	if (n < 0)
		return qenv_bad(c->env, QUEUE_ENV_IOERR, "read: %m");
	if ((size_t)n != len)
		return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "file shrank while being read");
	*out = (const unsigned char *)src->scratch.data;
	return 0;
}

/* qenv_size_fields - decode the size record's four fixed-width numbers. */
static int qenv_size_fields(struct qenv_ctx *c, const struct record *rec)
{
	uint64_t v[QUEUE_SIZE_FIELDS];
	const char *d = (const char *)rec->data;
	size_t i, at;

	for (i = 0; i < QUEUE_SIZE_FIELDS; i++) {
		at = i * (QUEUE_SIZE_WIDTH + 1);
		if ((i > 0 && d[at - 1] != ' ')
		    || strnum_u64n(d + at, QUEUE_SIZE_WIDTH, 0, QUEUE_SIZE_FIELD_MAX, &v[i]) < 0)
			return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "bad size record");
	}
	c->data_offset = v[0];
	c->data_end = v[1];
	c->content_length = v[2];
	c->rcpt_count = v[3];
	return 0;
}

/* qenv_head - the version record and the size record. */
static int qenv_head(struct qenv_ctx *c)
{
	size_t n = c->src.size < QENV_HEAD_LEN ? (size_t)c->src.size : QENV_HEAD_LEN;
	const unsigned char *p;
	struct record v, s;
	int r;

	if ((r = qenv_fetch(c, 0, n, &p)) != 0)
		return r;
	r = record_get(p, n, 0, QENV_VERSION_LEN, &v);
	if (r == RECORD_SHORT)
		return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "no version record");
	if (r != RECORD_OK || v.type != REC_TYPE_VERSION || v.len != QENV_VERSION_LEN
	    || memcmp(v.data, QUEUE_FILE_VERSION, QENV_VERSION_LEN) != 0)
		return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "not a queue file of this version");
	r = record_get(p, n, v.end, QUEUE_SIZE_LEN, &s);
	if (r == RECORD_SHORT)
		return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "no size record");
	if (r != RECORD_OK || s.type != REC_TYPE_SIZE || s.len != QUEUE_SIZE_LEN)
		return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "bad size record");
	c->head_end = s.end;
	return qenv_size_fields(c, &s);
}

/* qenv_check_size - the size record against the file before any offset is used. */
static int qenv_check_size(struct qenv_ctx *c)
{
	uint64_t size = c->src.size;

	/* The writer leaves zeros until commit: a zero offset is a file in progress. */
	if (c->data_offset == 0)
		return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "size record not final");
	if (c->data_offset > size || c->data_end > size)
		return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "file shorter than its size record");
	if (c->data_offset <= c->head_end || c->data_offset > QUEUE_ENV_MAX
	    || c->data_end < c->data_offset || size - c->data_end > QUEUE_ENV_MAX
	    || c->content_length > c->data_end - c->data_offset || c->rcpt_count == 0)
		return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "inconsistent size record");
	return 0;
}

/* qenv_env_rec - one T, S, A, R or D record; in_tail: after the content. */
static int qenv_env_rec(struct qenv_ctx *c, const struct record *rec, uint64_t base, int in_tail)
{
	struct queue_env *env = c->env;

	switch (rec->type) {
	case REC_TYPE_TIME:
		if (in_tail || c->ntime++ > 0)
			break;
		return qenv_rec_time(env, rec);
	case REC_TYPE_SENDER:
		if (in_tail || c->nsender++ > 0)
			break;
		return qenv_rec_sender(env, rec);
	case REC_TYPE_ATTR:
		return qenv_rec_attr(env, rec, (off_t)base);
	case REC_TYPE_RCPT:
	case REC_TYPE_DONE:
		return qenv_rec_rcpt(env, rec, (off_t)base);
	}
	return qenv_bad(env, QUEUE_ENV_CORRUPT, "unexpected record type %d at offset %llu",
			rec->type, (unsigned long long)(base + rec->off));
}

/* qenv_envelope - the records between the size record and 'M'. */
static int qenv_envelope(struct qenv_ctx *c)
{
	size_t len = (size_t)c->data_offset, off = c->head_end;
	const unsigned char *p;
	struct record rec;
	int r;

	if ((r = qenv_fetch(c, 0, len, &p)) != 0)
		return r;
	for (;;) {
		if (record_get(p, len, off, QUEUE_REC_MAX, &rec) != RECORD_OK)
			return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "bad envelope record at offset %zu", off);
		if (rec.type == REC_TYPE_MESSAGE) {
			/* 'M' must end exactly where the size record says content starts. */
			if (rec.len != 0 || rec.end != len)
				return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "misplaced content start");
			return 0;
		}
		if ((r = qenv_env_rec(c, &rec, 0, 0)) != 0)
			return r;
		off = rec.end;
	}
}

/* qenv_walk - every content chunk header, without reading the content. */
static int qenv_walk(struct qenv_ctx *c)
{
	uint64_t pos = c->data_offset, total = 0;
	const unsigned char *h;
	size_t avail, len, hlen;
	int r, type;

	while (pos < c->data_end) {
		avail = c->data_end - pos < RECORD_HEADER_MAX ? (size_t)(c->data_end - pos)
							      : RECORD_HEADER_MAX;
		if ((r = qenv_fetch(c, pos, avail, &h)) != 0)
			return r;
		if (record_header_get(h, avail, QUEUE_CHUNK_MAX, &type, &len, &hlen) != RECORD_OK
		    || type != REC_TYPE_BODY || len > c->data_end - pos - hlen)
			return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "bad content record at offset %llu",
					(unsigned long long)pos);
		pos += hlen + len;
		total += len;
	}
	if (total != c->content_length)
		return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "content length mismatch");
	return 0;
}

/* qenv_tail - [X (A | R | D)*] E, then the end of the file. */
static int qenv_tail(struct qenv_ctx *c)
{
	size_t len = (size_t)(c->src.size - c->data_end), off = 0;
	const unsigned char *p;
	struct record rec;
	int r;

	if ((r = qenv_fetch(c, c->data_end, len, &p)) != 0)
		return r;
	for (;; off = rec.end) {
		r = record_get(p, len, off, QUEUE_REC_MAX, &rec);
		if (r == RECORD_SHORT)
			return qenv_bad(c->env, QUEUE_ENV_INCOMPLETE, "no end record");
		if (r != RECORD_OK)
			break;
		if (rec.type == REC_TYPE_END)
			return rec.len == 0 && rec.end == len ? 0
				: qenv_bad(c->env, QUEUE_ENV_CORRUPT, "bad end record or data after it");
		if (rec.type == REC_TYPE_EXTRACT) {
			if (off != 0 || rec.len != 0)
				break;
			c->env->extract = 1;
			continue;
		}
		if (!c->env->extract)
			break;
		if ((r = qenv_env_rec(c, &rec, c->data_end, 1)) != 0)
			return r;
	}
	return qenv_bad(c->env, QUEUE_ENV_CORRUPT, "bad record after content at offset %llu",
			(unsigned long long)(c->data_end + off));
}

/*
 * qenv_redirect - a "redirect" attribute (header_checks REDIRECT, written by
 * cleanup after the content) sends every recipient to its address, as
 * Postfix's qmgr does with a redirect record: each keeps its record (done
 * marks stay per recipient) and its original address for the logs.
 */
static void qenv_redirect(struct queue_env *env)
{
	const char *to = NULL;

	for (size_t i = 0; i < env->nattrs; i++)
		if (strcmp(env->attrs[i].name, "redirect") == 0 && *env->attrs[i].value)
			to = env->attrs[i].value;	/* the last one wins */
	for (size_t i = 0; to && i < env->nrcpts; i++) {
		if (*env->rcpts[i].orig == 0)
			env->rcpts[i].orig = env->rcpts[i].addr;
		env->rcpts[i].addr = to;
	}
}

/* qenv_run - the whole parse, in file order. */
static int qenv_run(struct qenv_ctx *c, unsigned flags)
{
	struct queue_env *env = c->env;
	int r;

	env->file_size = (off_t)c->src.size;
	if ((r = qenv_head(c)) != 0 || (r = qenv_check_size(c)) != 0)
		return r;
	env->data_offset = (off_t)c->data_offset;
	env->data_end = (off_t)c->data_end;
	env->content_length = c->content_length;
	/* Strings take at most as many bytes as their records: one arena, never moved. */
	if (buf_reserve(&env->strings, c->data_offset + (c->src.size - c->data_end) + 2) < 0)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "envelope too large");
	if ((r = qenv_envelope(c)) != 0)
		return r;
	if ((flags & QUEUE_ENV_VERIFY) && (r = qenv_walk(c)) != 0)
		return r;
	if ((r = qenv_tail(c)) != 0)
		return r;
	if (c->ntime != 1 || c->nsender != 1)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "no arrival time or no sender");
	if (env->nrcpts != c->rcpt_count)
		return qenv_bad(env, QUEUE_ENV_CORRUPT, "recipient count mismatch");
	qenv_redirect(env);
	return QUEUE_ENV_OK;
}

/* qenv_start - a fresh env and parse context. */
static void qenv_start(struct qenv_ctx *c, struct queue_env *env)
{
	memset(env, 0, sizeof(*env));
	buf_init(&env->strings, 0);
	buf_init(&env->why, 4096);
	memset(c, 0, sizeof(*c));
	c->env = env;
	c->src.fd = -1;
	buf_init(&c->src.scratch, QUEUE_ENV_MAX + RECORD_HEADER_MAX + 1);
}

/*
 * queue_env_parse - parse a whole queue file held in memory. env is
 * overwritten, not freed: call queue_env_free after every call.
 */
int queue_env_parse(const void *p, size_t len, unsigned flags, struct queue_env *env)
{
	struct qenv_ctx c;
	int r;

	qenv_start(&c, env);
	c.src.mem = p;
	c.src.size = len;
	r = qenv_run(&c, flags);
	buf_free(&c.src.scratch);
	return r;
}

/* queue_env_read - parse the queue file open on fd (see queue_env_parse). */
int queue_env_read(int fd, unsigned flags, struct queue_env *env)
{
	struct qenv_ctx c;
	struct stat st;
	ssize_t n;
	int r;

	qenv_start(&c, env);
	if (fstat(fd, &st) < 0) {
		r = qenv_bad(env, QUEUE_ENV_IOERR, "fstat: %m");
	} else if (!S_ISREG(st.st_mode)) {
		r = qenv_bad(env, QUEUE_ENV_CORRUPT, "not a regular file");
	} else if (st.st_size > QENV_SMALL) {
		c.src.fd = fd;
		c.src.size = (uint64_t)st.st_size;
		r = qenv_run(&c, flags);
	} else if (buf_reserve(&c.src.scratch, QENV_SMALL) < 0
		   || (n = iox_pread_full(fd, c.src.scratch.data, QENV_SMALL, 0)) < 0) {
		r = qenv_bad(env, QUEUE_ENV_IOERR, "read: %m");
	} else {
		/* Small file: one read, then everything runs in memory. */
		c.src.mem = (const unsigned char *)c.src.scratch.data;
		c.src.size = (uint64_t)n;
		r = qenv_run(&c, flags);
	}
	buf_free(&c.src.scratch);
	return r;
}

/* queue_env_free - release everything queue_env_read/parse allocated. */
void queue_env_free(struct queue_env *env)
{
	xfree(env->attrs);
	xfree(env->rcpts);
	buf_free(&env->strings);
	buf_free(&env->why);
	memset(env, 0, sizeof(*env));
}
